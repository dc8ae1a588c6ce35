// The spec-test runner: executes a script produced by `wast2json` (JSON + .wasm/.wat files) against
// the engine and counts passed commands. Used by `cumulus wast` and by the conformance tests.
// `register` commands are not counted (they assert nothing), matching the suite's command total.
#pragma once

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "base/error.h"
#include "engine/engine.h"

namespace cumulus::engine {

struct WastResult {
  uint64_t passed = 0;
  uint64_t total = 0;
  uint64_t skipped = 0;
  std::vector<std::string> failures;  // "file.json:line: what went wrong"
};

struct WastOptions {
  bool verbose = false;
  // "file.json:line" entries to skip (each has a reason in the checked-in skip list).
  std::set<std::string> skip;
};

// Runs one wast2json script. Errors only for unreadable input; failed commands are in the result.
Expected<WastResult> runWastJson(Engine& engine, const std::filesystem::path& json_path,
                                 const WastOptions& options);

// Converts a .wast with Debian's `wast2json` into `out_dir` and runs it.
Expected<WastResult> runWastFile(Engine& engine, const std::filesystem::path& wast_path,
                                 const std::filesystem::path& out_dir, const WastOptions& options);

}  // namespace cumulus::engine
