// Helpers shared by the lattice subcommands (`up`, `host`, `get`): connection options and
// waiting for Ctrl-C / SIGTERM or a host's stop request.
#pragma once

#include <signal.h>

#include <chrono>
#include <string>

#include <CLI/CLI.hpp>

#include "host/host.h"

namespace cumulus::cli {

struct LatticeOptions {
  std::string nats_url = "nats://127.0.0.1:4222";
  std::string lattice = "default";
  std::string ctl_prefix = "wasmbus.ctl";
};

inline void addLatticeOptions(CLI::App* cmd, LatticeOptions& o, bool with_url = true) {
  if (with_url) cmd->add_option("--nats-url", o.nats_url, "NATS server URL (default nats://127.0.0.1:4222)");
  cmd->add_option("-x,--lattice", o.lattice, "lattice name (default: default)");
  cmd->add_option("--ctl-topic-prefix", o.ctl_prefix, "ctl subject prefix (default: wasmbus.ctl)");
}

// Blocks SIGINT/SIGTERM in this thread and in threads started after it, so they are taken with
// sigtimedwait below instead of killing the process. Call before starting any thread.
inline sigset_t blockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// Returns when `host` was asked to stop (ctl host.stop) or a stop signal arrived.
inline void waitUntilStopped(host::Host& h, const sigset_t& set) {
  while (!h.waitForStopRequest(std::chrono::milliseconds(0))) {
    timespec ts{0, 200'000'000};
    if (sigtimedwait(&set, nullptr, &ts) > 0) h.requestStop();
  }
}

}  // namespace cumulus::cli
