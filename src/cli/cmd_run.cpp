// `cumulus run FILE.wasm [--dir HOST[::GUEST]] [--env K=V] [-- args]`: runs a wasi:cli/run
// component (WASI 0.2) and exits with its status: 0 for ok, 1 for err, the code given to
// wasi:cli/exit, or 1 after printing the reason if it traps.
#include <fmt/format.h>

#include "base/file.h"
#include "cli/commands.h"
#include "cli/tier_option.h"
#include "cli/wasi_options.h"
#include "component/decoder.h"
#include "component/runtime.h"
#include "wasi/p2/ctx.h"

namespace cumulus::cli {

void addRunCommand(CLI::App& app, int& status) {
  struct Args {
    std::string file;
    std::vector<std::string> argv;
    WasiOptions wasi;
    std::vector<std::string> allow_sockets;
    bool inherit_env = false;
    engine::TierPolicy policy = engine::TierPolicy::kAuto;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("run", "run a WASI 0.2 command component (wasi:cli/run)");
  cmd->add_option("file", args->file, "the component (.wasm)")->required();
  cmd->add_option("args", args->argv, "arguments for the program (after --)");
  cmd->add_flag("--inherit-env", args->inherit_env, "pass the host's environment through");
  addWasiOptions(cmd, args->wasi);
  cmd->add_option("--allow-socket", args->allow_sockets,
                  "allow wasi:sockets to HOST:PORT (either may be *; repeatable)")
      ->allow_extra_args(false);
  addTierOption(cmd, args->policy);
  cmd->callback([args, &status] {
    auto fail = [&](const std::string& message) {
      fmt::print(stderr, "error: {}\n", message);
      status = 1;
    };
    auto bytes = readFile(args->file);
    if (!bytes.ok()) return fail(bytes.error().message());
    if (component::sniff(*bytes) == component::BinaryKind::kCoreModule)
      return fail(
          fmt::format("{} is a core module, not a component; run it with "
                      "`cumulus run-core` (WASI preview 1) or make it a component "
                      "with a preview1 adapter",
                      args->file));
    engine::EngineConfig config;
    config.policy = args->policy;
    engine::Engine eng(config);
    component::Linker linker;
    wasi::addToLinker(linker);
    auto plan = component::ComponentPlan::create(eng, *bytes, linker);
    if (!plan.ok()) return fail(fmt::format("{}: {}", args->file, plan.error().message()));

    wasi::WasiConfig wc;
    wc.args.push_back(args->file);
    wc.args.insert(wc.args.end(), args->argv.begin(), args->argv.end());
    if (args->inherit_env)
      for (char** e = environ; *e; ++e) {
        std::string kv(*e);
        size_t eq = kv.find('=');
        if (eq != std::string::npos) wc.env.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
      }
    if (auto r = applyWasiOptions(args->wasi, wc); !r.ok()) return fail(r.error().message());
    wc.allowed_sockets = args->allow_sockets;
    wc.allow_ip_name_lookup = !args->allow_sockets.empty();
    wc.inherit_stdin = true;
    wasi::WasiCtx wasi(std::move(wc));

    auto inst = (*plan)->instantiate(&wasi);
    if (!inst.ok()) return fail(fmt::format("{}: {}", args->file, inst.error().message()));
    auto run = (*inst)->exportFunc("wasi:cli/run@0.2.0", "run");
    if (!run)
      return fail(
          fmt::format("{} does not export wasi:cli/run (is it a library or an HTTP "
                      "component? try `cumulus inspect`)",
                      args->file));
    auto r = (*inst)->call(*run, {});
    std::fflush(stdout);
    if (wasi.exitCode()) {
      status = *wasi.exitCode();
    } else if (!r.ok()) {
      fail(r.error().message());
    } else {
      status = r->discriminant() == 0 ? 0 : 1;
    }
  });
}

}  // namespace cumulus::cli
