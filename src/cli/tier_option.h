// The shared --tier option of commands that run wasm.
#pragma once

#include <map>
#include <string>

#include <CLI/CLI.hpp>

#include "engine/engine.h"

namespace cumulus::cli {

inline void addTierOption(CLI::App* cmd, engine::TierPolicy& policy) {
  static const std::map<std::string, engine::TierPolicy> kTiers = {
      {"auto", engine::TierPolicy::kAuto},
      {"baseline", engine::TierPolicy::kBaseline},
      {"optimized", engine::TierPolicy::kOptimized},
      {"interpreter", engine::TierPolicy::kInterpreter}};
  cmd->add_option("--tier", policy, "compile tier: auto, baseline, optimized, interpreter")
      ->transform(CLI::CheckedTransformer(kTiers, CLI::ignore_case));
}

}  // namespace cumulus::cli
