// `cumulus run-core FILE.wasm [args]`: runs a wasm32-wasi (preview 1) core command module.
// Used by benchmarks to run C programs on each tier; components use `cumulus run`.
#include <chrono>

#include <fmt/format.h>

#include "base/file.h"
#include "cli/commands.h"
#include "cli/tier_option.h"
#include "engine/instance.h"
#include "wasi/preview1.h"

namespace cumulus::cli {

void addRunCoreCommand(CLI::App& app, int& status) {
  struct Args {
    std::string file;
    std::vector<std::string> argv;
    std::vector<std::string> env;
    engine::TierPolicy policy = engine::TierPolicy::kAuto;
    bool time = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("run-core", "run a wasm32-wasi (preview 1) core module");
  cmd->add_option("file", args->file)->required();
  cmd->add_option("args", args->argv, "arguments for the program");
  cmd->add_option("--env", args->env, "environment variable for the program (K=V, repeatable)")
      ->allow_extra_args(false);
  addTierOption(cmd, args->policy);
  cmd->add_flag("--time", args->time, "print elapsed_ms=<ms> of _start on stderr");
  cmd->callback([args, &status] {
    engine::EngineConfig config;
    config.policy = args->policy;
    engine::Engine eng(config);
    auto bytes = readFile(args->file);
    if (!bytes.ok()) {
      fmt::print(stderr, "error: {}\n", bytes.error().message());
      status = 1;
      return;
    }
    auto module = eng.compile(*bytes);
    if (!module.ok()) {
      fmt::print(stderr, "error: {}: {}\n", args->file, module.error().message());
      status = 1;
      return;
    }
    std::vector<std::string> argv = {args->file};
    argv.insert(argv.end(), args->argv.begin(), args->argv.end());
    wasi::Preview1 wasi(argv, args->env);
    auto imports = wasi.resolve(**module);
    if (!imports.ok()) {
      fmt::print(stderr, "error: {}\n", imports.error().message());
      status = 1;
      return;
    }
    auto inst = engine::Instance::create(eng, *module, std::move(*imports));
    if (!inst.ok()) {
      fmt::print(stderr, "error: {}\n", inst.error().message());
      status = 1;
      return;
    }
    auto start = std::chrono::steady_clock::now();
    auto r = (*inst)->call("_start", {});
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::fflush(stdout);
    if (args->time)
      fmt::print(stderr, "tier={}\nelapsed_ms={:.3f}\n", engine::tierName((*inst)->tier()), ms);
    if (wasi.exitCode()) {
      status = *wasi.exitCode();
    } else if (!r.ok()) {
      fmt::print(stderr, "error: {}\n", r.error().message());
      status = 1;
    }
  });
}

}  // namespace cumulus::cli
