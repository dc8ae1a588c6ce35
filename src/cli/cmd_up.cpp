// `cumulus up`: a whole lattice on this machine: starts nats-server with JetStream (unless
// --nats-url points at one) and a host, prints where everything listens, and stops all of it
// cleanly on Ctrl-C (or when the host is stopped over the control interface).
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/lattice_common.h"
#include "host/identity.h"
#include "lattice/nats_server.h"

namespace cumulus::cli {

void addUpCommand(CLI::App& app, int& status) {
  struct Args {
    LatticeOptions lattice;
    std::string nats_url;
    uint16_t nats_port = 4222;
    std::string state_dir;
    HostOptions host;
  };
  auto args = std::make_shared<Args>();
  args->host.allow_file_load = true;
  auto* cmd = app.add_subcommand("up", "start NATS (with JetStream) and a host on this machine");
  addLatticeOptions(cmd, args->lattice, /*with_url=*/false);
  cmd->add_option("--nats-url", args->nats_url, "use this NATS server instead of starting one");
  cmd->add_option("--nats-port", args->nats_port,
                  "port for the started nats-server (0: any free port; default 4222)");
  cmd->add_option(
      "--state-dir", args->state_dir,
      "JetStream store of the started nats-server (default: a temp dir removed on exit)");
  addHostOptions(cmd, args->host);
  cmd->callback([args, &status] {
    auto fail = [&](const std::string& message) {
      fmt::print(stderr, "error: {}\n", message);
      status = 1;
    };
    auto cfg = hostConfig(args->lattice, args->host);
    if (!cfg.ok()) return fail(cfg.error().message());
    host::HostConfig config = std::move(*cfg);
    sigset_t set = blockStopSignals();
    std::unique_ptr<lattice::NatsServer> nats;
    if (args->nats_url.empty()) {
      lattice::NatsServerOptions so;
      so.port = args->nats_port;
      so.state_dir = args->state_dir;
      auto started = lattice::NatsServer::start(so);
      if (!started.ok()) return fail(started.error().message());
      nats = std::move(*started);
      config.nats_url = nats->url();
      fmt::print("nats-server  {} (JetStream store {}, log {})\n", nats->url(), nats->stateDir(),
                 nats->logFile());
    } else {
      config.nats_url = args->nats_url;
      fmt::print("nats         {} (not started by cumulus)\n", args->nats_url);
    }
    auto h = host::Host::start(std::move(config));
    if (!h.ok()) return fail(h.error().message());
    fmt::print("host         {} ({})\nlattice      {} (ctl {}.v1.{}.>, events wasmbus.evt.{}.>)\n",
               (*h)->id(), (*h)->friendlyName(), (*h)->config().lattice, (*h)->config().ctl_prefix,
               (*h)->config().lattice, (*h)->config().lattice);
    fmt::print("Ctrl-C stops everything\n");
    std::fflush(stdout);
    waitUntilStopped(**h, set);
    (*h)->shutdown();
    h->reset();
    if (nats) nats->stop();
    fmt::print("stopped\n");
  });
}

}  // namespace cumulus::cli
