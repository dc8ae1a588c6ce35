// The host daemon core (PROTOCOL.md §7): identity, labels and start time; a NATS connection;
// the ctl server; lattice events (host_started, host_heartbeat every interval, host_stopped).
// The host is a supervisor of parts (CtlServer today; component and provider managers, the link
// table and config store plug in beside it), not a god object.
//
// Lifecycle: Host::start() connects, subscribes and publishes host_started. The owner then waits
// (waitForStopRequest) until a ctl host.stop or requestStop() arrives and calls shutdown(), which
// stops heartbeats and ctl, publishes host_stopped and flushes. The destructor shuts down too.
//
// Thread-safety: public methods may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/error.h"
#include "host/ctl_server.h"
#include "lattice/ctl.h"
#include "lattice/nats.h"
#include "lattice/nkeys.h"

namespace cumulus::host {

struct HostConfig {
  std::string lattice = std::string(lattice::kDefaultLattice);
  std::string ctl_prefix = std::string(lattice::kDefaultCtlPrefix);
  std::string nats_url = "nats://127.0.0.1:4222";
  std::map<std::string, std::string> labels;  // user labels (built-ins are added)
  std::string seed;                           // host seed "SN…"; empty: generate a key
  std::chrono::milliseconds heartbeat_interval{30000};
  std::string version;  // empty: this build's Cumulus version
};

class Host final : private CtlHandler {
 public:
  static Expected<std::unique_ptr<Host>> start(HostConfig config);
  ~Host() override;
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  const std::string& id() const { return id_; }
  const std::string& friendlyName() const { return friendly_name_; }
  const HostConfig& config() const { return config_; }

  // True when a stop was requested before `timeout` elapsed.
  bool waitForStopRequest(std::chrono::milliseconds timeout);
  void requestStop();
  // Stops heartbeats and ctl, publishes host_stopped, flushes and disconnects. Idempotent.
  void shutdown();

  lattice::HostInfo hostInfo() override;
  lattice::HostInventory inventory() override;

 private:
  Host(HostConfig config, lattice::KeyPair key);
  void stopHost(const StopHostRequest& request) override;
  void publishEvent(std::string_view type, nlohmann::json data);
  void heartbeatLoop();
  uint64_t uptimeSeconds() const;

  HostConfig config_;
  lattice::KeyPair key_;
  std::string id_;
  std::string friendly_name_;
  std::chrono::steady_clock::time_point started_;
  std::map<std::string, std::string> labels_;  // GUARDED_BY(mu_)
  std::unique_ptr<lattice::NatsConnection> conn_;
  std::unique_ptr<CtlServer> ctl_;
  std::thread heartbeat_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_requested_ = false;  // GUARDED_BY(mu_)
  bool shutting_down_ = false;   // GUARDED_BY(mu_): ends the heartbeat loop
  bool shut_down_ = false;       // GUARDED_BY(mu_)
};

}  // namespace cumulus::host
