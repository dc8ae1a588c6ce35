// `cumulus host --lattice L --nats-url URL [--label k=v] [--host-seed S]`: runs a host that joins
// a lattice over an existing NATS server, until Ctrl-C / SIGTERM or a ctl host.stop.
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/lattice_common.h"
#include "host/identity.h"

namespace cumulus::cli {

void addHostCommand(CLI::App& app, int& status) {
  struct Args {
    LatticeOptions lattice;
    HostOptions host;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("host", "run a host that joins a lattice over NATS");
  addLatticeOptions(cmd, args->lattice);
  addHostOptions(cmd, args->host);
  cmd->callback([args, &status] {
    auto fail = [&](const std::string& message) {
      fmt::print(stderr, "error: {}\n", message);
      status = 1;
    };
    auto cfg = hostConfig(args->lattice, args->host);
    if (!cfg.ok()) return fail(cfg.error().message());
    host::HostConfig config = std::move(*cfg);
    config.nats_url = args->lattice.nats_url;
    sigset_t set = blockStopSignals();
    auto h = host::Host::start(std::move(config));
    if (!h.ok()) return fail(h.error().message());
    fmt::print("host {} ({}) joined lattice '{}' on {}\n", (*h)->id(), (*h)->friendlyName(),
               (*h)->config().lattice, (*h)->config().nats_url);
    std::fflush(stdout);
    waitUntilStopped(**h, set);
    (*h)->shutdown();
  });
}

}  // namespace cumulus::cli
