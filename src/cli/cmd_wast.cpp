// `cumulus wast FILE.wast|FILE.json...`: runs spec scripts and prints passed/total per file and in
// all.
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "base/file.h"
#include "cli/commands.h"
#include "cli/tier_option.h"
#include "engine/wast.h"

namespace cumulus::cli {

namespace {

struct WastArgs {
  std::vector<std::string> files;
  engine::TierPolicy policy = engine::TierPolicy::kBaseline;
  std::string skip_list;
  std::string work_dir;
  bool verbose = false;
  bool multi_memory = false;
  bool extended_const = false;
  size_t units = 0;
};

// Skip-list lines: "file.json:LINE  reason"; '#' starts a comment.
std::set<std::string> loadSkipList(const std::string& path) {
  std::set<std::string> out;
  if (path.empty()) return out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    out.insert(line.substr(0, line.find_first_of(" \t")));
  }
  return out;
}

int run(const WastArgs& args) {
  engine::EngineConfig config;
  config.policy = args.policy;
  config.features.multi_memory = args.multi_memory;
  config.features.extended_const = args.extended_const;
  config.translate.units = args.units;
  engine::Engine eng(config);
  engine::WastOptions options;
  options.verbose = args.verbose;
  options.skip = loadSkipList(args.skip_list);
  uint64_t passed = 0, total = 0, skipped = 0;
  std::filesystem::path work = args.work_dir.empty() ? std::filesystem::temp_directory_path() /
                                                           fmt::format("cumulus-wast-{}", getpid())
                                                     : std::filesystem::path(args.work_dir);
  for (const auto& f : args.files) {
    std::filesystem::path p(f);
    auto r = p.extension() == ".json" ? engine::runWastJson(eng, p, options)
                                      : engine::runWastFile(eng, p, work / p.stem(), options);
    if (!r.ok()) {
      fmt::print(stderr, "{}: error: {}\n", f, r.error().message());
      ++total;
      continue;
    }
    passed += r->passed;
    total += r->total;
    skipped += r->skipped;
    fmt::print("{}: {}/{}{}\n", p.filename().string(), r->passed, r->total,
               r->skipped ? fmt::format(" ({} skipped)", r->skipped) : "");
    size_t shown = 0;
    for (const auto& failure : r->failures) {
      if (!args.verbose && ++shown > 5) {
        fmt::print("  ... {} more failures (use -v)\n", r->failures.size() - 5);
        break;
      }
      fmt::print("  FAIL {}\n", failure);
    }
  }
  if (args.work_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(work, ec);
  }
  fmt::print("total: {}/{} passed{}\n", passed, total,
             skipped ? fmt::format(", {} skipped", skipped) : "");
  return passed + skipped == total ? 0 : 1;
}

}  // namespace

void addWastCommand(CLI::App& app, int& status) {
  auto args = std::make_shared<WastArgs>();
  auto* cmd =
      app.add_subcommand("wast", "run WebAssembly spec scripts (.wast, or wast2json .json)");
  cmd->add_option("files", args->files, "scripts")->required();
  addTierOption(cmd, args->policy);
  cmd->add_option("--skip-list", args->skip_list,
                  "file of 'script.json:line reason' entries to skip");
  cmd->add_option("--work-dir", args->work_dir, "where .wast files are converted (kept)");
  cmd->add_flag("--enable-multi-memory", args->multi_memory,
                "accept multi-memory (off: Wasm 2.0 rules)");
  cmd->add_flag("--enable-extended-const", args->extended_const,
                "accept extended-const (off: Wasm 2.0 rules)");
  cmd->add_option("--units", args->units,
                  "split every module's functions into N C translation units (tests the path "
                  "large modules take; default: chosen by size)");
  cmd->add_flag("-v,--verbose", args->verbose, "print every failure");
  cmd->callback([args, &status] { status = run(*args); });
}

}  // namespace cumulus::cli
