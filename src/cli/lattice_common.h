// Helpers shared by the lattice subcommands (`up`, `host`, `get`): connection options and
// waiting for Ctrl-C / SIGTERM or a host's stop request.
#pragma once

#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/stop_signals.h"
#include "host/host.h"
#include "host/identity.h"

namespace cumulus::cli {

struct LatticeOptions {
  std::string nats_url = "nats://127.0.0.1:4222";
  std::string lattice = "default";
  std::string ctl_prefix = "wasmbus.ctl";
};

inline void addLatticeOptions(CLI::App* cmd, LatticeOptions& o, bool with_url = true) {
  if (with_url)
    cmd->add_option("--nats-url", o.nats_url, "NATS server URL (default nats://127.0.0.1:4222)");
  cmd->add_option("-x,--lattice", o.lattice, "lattice name (default: default)");
  cmd->add_option("--ctl-topic-prefix", o.ctl_prefix, "ctl subject prefix (default: wasmbus.ctl)");
}

// A host's own options (`up` and `host`).
struct HostOptions {
  std::vector<std::string> labels;  // key=value
  std::string seed;
  double heartbeat_seconds = 30;
  bool allow_file_load = false;  // `cumulus up` turns it on, like `wash up`
  uint64_t max_memory_bytes = 256ull << 20;
  uint64_t max_execution_ms = 600000;
};

inline void addHostOptions(CLI::App* cmd, HostOptions& o) {
  cmd->add_option("-l,--label", o.labels, "host label key=value (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--host-seed", o.seed, "host nkey seed (\"SN…\"; default: a fresh key)");
  cmd->add_option("--heartbeat-interval-seconds", o.heartbeat_seconds,
                  "seconds between host_heartbeat events (default 30)");
  cmd->add_option("--allow-file-load", o.allow_file_load,
                  "allow component references naming local files (true/false)");
  cmd->add_option("--max-linear-memory-bytes", o.max_memory_bytes,
                  "memory limit per linear memory of a component instance (default 256 MiB)");
  cmd->add_option("--max-execution-time-ms", o.max_execution_ms,
                  "time limit per component invocation (default 600000)");
}

// The host configuration the options describe (nats_url is the caller's to set).
inline Expected<host::HostConfig> hostConfig(const LatticeOptions& lattice, const HostOptions& o) {
  host::HostConfig config;
  config.lattice = lattice.lattice;
  config.ctl_prefix = lattice.ctl_prefix;
  config.seed = o.seed;
  config.allow_file_load = o.allow_file_load;
  config.max_memory_bytes = o.max_memory_bytes;
  config.max_execution = std::chrono::milliseconds(o.max_execution_ms);
  if (o.heartbeat_seconds <= 0)
    return makeError(ErrorCode::kInvalidArgument, "--heartbeat-interval-seconds must be positive");
  config.heartbeat_interval =
      std::chrono::milliseconds(static_cast<int64_t>(o.heartbeat_seconds * 1000));
  for (const auto& l : o.labels) {
    CUMULUS_TRY(auto kv, host::parseLabel(l));
    config.labels[kv.first] = kv.second;
  }
  return config;
}

// Where a detached `cumulus up` keeps its pid and log: $CUMULUS_HOME, else ~/.cumulus.
inline std::string cumulusHome() {
  if (const char* h = std::getenv("CUMULUS_HOME"); h && *h) return h;
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/tmp") + "/.cumulus";
}

// Returns when `host` was asked to stop (ctl host.stop) or a stop signal arrived.
inline void waitUntilStopped(host::Host& h, const sigset_t& set) {
  while (!h.waitForStopRequest(std::chrono::milliseconds(0))) {
    timespec ts{0, 200'000'000};
    if (sigtimedwait(&set, nullptr, &ts) > 0) h.requestStop();
  }
}

}  // namespace cumulus::cli
