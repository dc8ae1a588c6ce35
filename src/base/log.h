// The process logger. One spdlog logger writing to stderr; the level comes from the CUMULUS_LOG
// environment variable (trace, debug, info, warn, error, off; default info).
#pragma once

#include <spdlog/spdlog.h>

namespace cumulus {

spdlog::logger& log();
// Sets the level by name; unknown names leave it unchanged.
void setLogLevel(std::string_view level);

}  // namespace cumulus
