// Runs nats-server as a child process: `nats-server -js -a 127.0.0.1 -p PORT -sd STATE_DIR` on a
// free loopback port (or a given one), waits until it accepts NATS connections (polling with a
// deadline) and stops it with SIGTERM (SIGKILL after a grace period). Used by `cumulus up` and
// by integration tests.
//
// Ownership: NatsServer owns the child; its destructor stops it. The child also gets SIGTERM if
// this process dies (PR_SET_PDEATHSIG), so no orphan keeps the port.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"

namespace cumulus::lattice {

struct NatsServerOptions {
  std::string binary = "nats-server";  // looked up in PATH
  std::string host = "127.0.0.1";
  uint16_t port = 0;                   // 0: pick a free port
  std::string state_dir;               // JetStream store; empty: a fresh temp dir (removed on stop)
  std::string log_file;                // empty: STATE_DIR/nats-server.log
  std::chrono::milliseconds ready_timeout{10000};
  // Appended to the command line, e.g. {"-c", "test.conf"} for settings that have no flag
  // (max_payload); flags given above take precedence over the config file.
  std::vector<std::string> extra_args;
};

class NatsServer {
 public:
  static Expected<std::unique_ptr<NatsServer>> start(const NatsServerOptions& opts);
  ~NatsServer();
  NatsServer(const NatsServer&) = delete;
  NatsServer& operator=(const NatsServer&) = delete;

  uint16_t port() const { return port_; }
  std::string url() const;
  const std::string& stateDir() const { return state_dir_; }
  const std::string& logFile() const { return log_file_; }
  pid_t pid() const { return pid_; }
  // SIGTERM, wait up to `grace`, then SIGKILL. Idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));

 private:
  NatsServer() = default;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::string host_;
  std::string state_dir_;
  std::string log_file_;
  bool remove_state_dir_ = false;
};

// A TCP port on `host` that was free a moment ago (bind to port 0, read it back, close).
Expected<uint16_t> findFreePort(const std::string& host = "127.0.0.1");

}  // namespace cumulus::lattice
