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
    std::vector<std::string> labels;
    std::string seed;
    double heartbeat_seconds = 30;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("host", "run a host that joins a lattice over NATS");
  addLatticeOptions(cmd, args->lattice);
  cmd->add_option("-l,--label", args->labels, "host label key=value (repeatable)")->allow_extra_args(false);
  cmd->add_option("--host-seed", args->seed, "host nkey seed (\"SN…\"; default: a fresh key)");
  cmd->add_option("--heartbeat-interval-seconds", args->heartbeat_seconds,
                  "seconds between host_heartbeat events (default 30)");
  cmd->callback([args, &status] {
    auto fail = [&](const std::string& message) {
      fmt::print(stderr, "error: {}\n", message);
      status = 1;
    };
    host::HostConfig config;
    config.lattice = args->lattice.lattice;
    config.ctl_prefix = args->lattice.ctl_prefix;
    config.nats_url = args->lattice.nats_url;
    config.seed = args->seed;
    if (args->heartbeat_seconds <= 0) return fail("--heartbeat-interval-seconds must be positive");
    config.heartbeat_interval =
        std::chrono::milliseconds(static_cast<int64_t>(args->heartbeat_seconds * 1000));
    for (const auto& l : args->labels) {
      auto kv = host::parseLabel(l);
      if (!kv.ok()) return fail(kv.error().message());
      config.labels[kv->first] = kv->second;
    }
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
