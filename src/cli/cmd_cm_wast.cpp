// `cumulus component-wast FILE.wast... --compiled DIR`: runs component-model scripts against the
// component runtime (see component/wast.h) and prints passed/total per file and in all.
#include <fstream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/tier_option.h"
#include "component/wast.h"

namespace cumulus::cli {

namespace {

struct CmWastArgs {
  std::vector<std::string> files;
  std::string compiled;
  std::string skip_list;
  engine::TierPolicy policy = engine::TierPolicy::kBaseline;
  bool verbose = false;
};

// Skip-list lines: "script[:LINE]  reason"; '#' starts a comment.
Expected<std::map<std::string, std::string>> loadSkipList(const std::string& path) {
  std::map<std::string, std::string> out;
  if (path.empty()) return out;
  std::ifstream in(path);
  if (!in) return makeError(ErrorCode::kNotFound, "cannot read skip list {}", path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t sp = line.find_first_of(" \t");
    std::string key = line.substr(0, sp);
    std::string reason;
    if (sp != std::string::npos) {
      size_t r = line.find_first_not_of(" \t", sp);
      if (r != std::string::npos) reason = line.substr(r);
    }
    out[key] = reason.empty() ? "in the skip list" : reason;
  }
  return out;
}

int run(const CmWastArgs& args) {
  auto manifest = component::WastManifest::load(args.compiled);
  if (!manifest.ok()) {
    fmt::print(stderr, "error: {}\n", manifest.error().message());
    return 2;
  }
  component::ComponentWastOptions options;
  auto skip = loadSkipList(args.skip_list);
  if (!skip.ok()) {
    fmt::print(stderr, "error: {}\n", skip.error().message());
    return 2;
  }
  options.skip = std::move(*skip);
  engine::EngineConfig config;
  config.policy = args.policy;
  engine::Engine eng(config);
  uint64_t passed = 0, total = 0, skipped = 0;
  bool errors = false;
  for (const auto& f : args.files) {
    auto r = component::runComponentWast(eng, *manifest, f, options);
    std::string name = manifest->scriptName(f);
    if (!r.ok()) {
      fmt::print(stderr, "{}: error: {}\n", f, r.error().message());
      errors = true;
      continue;
    }
    passed += r->passed;
    total += r->total;
    skipped += r->skipped;
    fmt::print("{}: {}/{}{}\n", name, r->passed, r->total,
               r->skipped ? fmt::format(" ({} skipped)", r->skipped) : "");
    size_t shown = 0;
    for (const auto& failure : r->failures) {
      if (!args.verbose && ++shown > 5) {
        fmt::print("  ... {} more failures (use -v)\n", r->failures.size() - 5);
        break;
      }
      fmt::print("  FAIL {}\n", failure);
    }
    if (args.verbose) {
      for (const auto& s : r->skips) fmt::print("  SKIP {}\n", s);
      for (const auto& n : r->notes) fmt::print("  NOTE trap message: {}\n", n);
    }
  }
  fmt::print("total: {}/{} passed{}\n", passed, total,
             skipped ? fmt::format(", {} skipped", skipped) : "");
  return !errors && passed + skipped == total ? 0 : 1;
}

}  // namespace

void addComponentWastCommand(CLI::App& app, int& status) {
  auto args = std::make_shared<CmWastArgs>();
  auto* cmd = app.add_subcommand("component-wast",
                                 "run component-model .wast scripts (component forms precompiled)");
  cmd->add_option("files", args->files, "scripts")->required();
  cmd->add_option("--compiled", args->compiled,
                  "directory of the compiled component forms (with manifest.json)")
      ->required();
  cmd->add_option("--skip-list", args->skip_list, "file of 'script[:line] reason' entries to skip");
  addTierOption(cmd, args->policy);
  cmd->add_flag("-v,--verbose", args->verbose, "print every failure, skip and trap message");
  cmd->callback([args, &status] { status = run(*args); });
}

}  // namespace cumulus::cli
