// `cumulus compile FILE.wasm...`: fills the optimized tier's code cache ahead of time
// (like `wasmtime compile`), so hosts start instances on optimized code at once.
#include <chrono>

#include <fmt/format.h>

#include "base/file.h"
#include "cli/commands.h"
#include "engine/engine.h"

namespace cumulus::cli {

void addCompileCommand(CLI::App& app, int& status) {
  auto files = std::make_shared<std::vector<std::string>>();
  auto cache = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("compile", "compile modules into the optimized-tier code cache");
  cmd->add_option("files", *files, "core wasm modules")->required();
  cmd->add_option("--cache-dir", *cache,
                  "code cache directory (default: $CUMULUS_CACHE_DIR or ~/.cache/cumulus)");
  cmd->callback([files, cache, &status] {
    engine::EngineConfig config;
    config.policy = engine::TierPolicy::kOptimized;
    if (!cache->empty()) config.native.cache_dir = *cache;
    engine::Engine eng(config);
    for (const auto& f : *files) {
      auto start = std::chrono::steady_clock::now();
      auto bytes = readFile(f);
      if (!bytes.ok()) {
        fmt::print(stderr, "error: {}\n", bytes.error().message());
        status = 1;
        continue;
      }
      auto m = eng.compile(*bytes);
      if (!m.ok()) {
        fmt::print(stderr, "error: {}: {}\n", f, m.error().message());
        status = 1;
        continue;
      }
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      fmt::print("{}: {} tier, {:.2f} s, cache {}\n", f, engine::tierName((*m)->tier()), s,
                 config.native.cache_dir.string());
      if ((*m)->tier() != engine::Tier::kOptimized) status = 1;
    }
  });
}

}  // namespace cumulus::cli
