// Process logger setup (see log.h).
#include "base/log.h"

#include <cstdlib>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace cumulus {

spdlog::logger& log() {
  // A function-local static: created on first use, thread-safe, and the only process-wide logger.
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = spdlog::stderr_color_mt("cumulus");
    l->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    const char* env = std::getenv("CUMULUS_LOG");
    l->set_level(env ? spdlog::level::from_str(env) : spdlog::level::info);
    return l;
  }();
  return *logger;
}

void setLogLevel(std::string_view level) {
  log().set_level(spdlog::level::from_str(std::string(level)));
}

}  // namespace cumulus
