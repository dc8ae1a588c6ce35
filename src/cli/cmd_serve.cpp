// `cumulus serve FILE.wasm [--listen ADDR:PORT]`: serves a wasi:http/incoming-handler component
// over HTTP/1.1 (like `wasmtime serve`): a fresh instance per request from a pre-built plan, a
// pool of pre-instantiated instances, worker threads sized to the cores. Ctrl-C stops it
// gracefully.
#include <malloc.h>

#include <csignal>

#include <fmt/format.h>

#include "base/file.h"
#include "cli/commands.h"
#include "cli/stop_signals.h"
#include "cli/tier_option.h"
#include "cli/wasi_options.h"
#include "component/runtime.h"
#include "wasi/http/server.h"

namespace cumulus::cli {

void addServeCommand(CLI::App& app, int& status) {
  struct Args {
    std::string file;
    std::string listen = "127.0.0.1:8080";
    WasiOptions wasi;
    unsigned threads = 0;
    size_t pool = 4;
    bool reuse = false;
    uint64_t deadline_ms = 30000;
    engine::TierPolicy policy = engine::TierPolicy::kAuto;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("serve", "serve a wasi:http component over HTTP/1.1");
  cmd->add_option("file", args->file, "the component (.wasm)")->required();
  cmd->add_option("--listen", args->listen, "address:port to listen on (port 0: any free port)");
  addWasiOptions(cmd, args->wasi);
  cmd->add_option("--threads", args->threads, "worker threads (default: one per core)");
  cmd->add_option("--pool", args->pool, "pre-instantiated instances kept ready (default 4)");
  cmd->add_flag("--reuse-instances", args->reuse,
                "reuse an instance for later requests after it served one successfully");
  cmd->add_option("--deadline-ms", args->deadline_ms, "per-request time limit (default 30000)");
  addTierOption(cmd, args->policy);
  cmd->callback([args, &status] {
    auto fail = [&](const std::string& message) {
      fmt::print(stderr, "error: {}\n", message);
      status = 1;
    };
    size_t colon = args->listen.rfind(':');
    if (colon == std::string::npos) return fail("--listen wants ADDRESS:PORT");
    wasi::http::ServerConfig sc;
    sc.host = args->listen.substr(0, colon);
    sc.port = static_cast<uint16_t>(std::stoul(args->listen.substr(colon + 1)));
    sc.threads = args->threads;
    auto bytes = readFile(args->file);
    if (!bytes.ok()) return fail(bytes.error().message());
    engine::EngineConfig config;
    config.policy = args->policy;
    engine::Engine eng(config);
    component::Linker linker;
    auto types = wasi::http::addWasiHttp(linker);
    auto plan = component::ComponentPlan::create(eng, *bytes, linker);
    if (!plan.ok()) return fail(fmt::format("{}: {}", args->file, plan.error().message()));
    wasi::http::ServiceOptions so;
    so.pool_size = args->pool;
    so.reuse_instances = args->reuse;
    so.deadline = std::chrono::milliseconds(args->deadline_ms);
    so.name = args->file;
    if (auto r = applyWasiOptions(args->wasi, so.wasi); !r.ok()) return fail(r.error().message());
    // Translating and compiling a large module (StarlingMonkey: 14 MB) leaves hundreds of MB of
    // freed heap that glibc keeps; hand it back before serving (measured: 691 -> ~60 MB RSS).
    malloc_trim(0);
    auto service = wasi::http::ComponentService::create(*plan, types, so);
    if (!service.ok()) return fail(service.error().message());
    // Ctrl-C / SIGTERM: block them in every thread (the server's threads inherit the mask) and
    // wait for them here, then stop the server gracefully.
    sigset_t set = blockStopSignals();
    auto server = wasi::http::HttpServer::start(sc, *service);
    if (!server.ok()) return fail(server.error().message());
    fmt::print("serving {} on http://{}:{}/\n", args->file, sc.host, (*server)->port());
    std::fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    fmt::print(stderr, "stopping (signal {})\n", sig);
    (*server)->stop();
  });
}

}  // namespace cumulus::cli
