// The host daemon core (PROTOCOL.md §7): identity, labels and start time; a NATS connection;
// the ctl server; lattice events (host_started, host_heartbeat every interval, host_stopped).
// The host is a supervisor of parts, not a god object: the CtlServer (transport of the control
// interface), LinkStore and ConfigStore (durable lattice state in JetStream KV), the
// ComponentManager (running components, link routing) and HttpIngress (the builtin http-server).
// Host itself decodes ctl requests into calls on those parts (host_ctl.cpp) and publishes events.
//
// Lifecycle: Host::start() connects, subscribes and publishes host_started. The owner then waits
// (waitForStopRequest) until a ctl host.stop or requestStop() arrives and calls shutdown(), which
// stops heartbeats and ctl, publishes host_stopped and flushes. The destructor shuts down too.
//
// Thread-safety: public methods may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>

#include "base/error.h"
#include "engine/engine.h"
#include "host/components.h"
#include "host/ctl_server.h"
#include "host/http_ingress.h"
#include "host/lattice_state.h"
#include "host/wrpc_bridge.h"
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
  bool allow_file_load = false;  // component refs naming local files (wasmCloud --allow-file-load)
  uint64_t max_memory_bytes = 256ull << 20;        // per linear memory of a component instance
  std::chrono::milliseconds max_execution{600000};  // per invocation
  engine::EngineConfig engine;
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

  ComponentManager& components() { return *components_; }
  // A copy of the current labels (built-in, configured and set over ctl).
  std::map<std::string, std::string> labels() const;
  HttpIngress& httpIngress() { return *ingress_; }

 private:
  Host(HostConfig config, lattice::KeyPair key);
  void stopHost(const StopHostRequest& request) override;
  std::optional<nlohmann::json> operation(const lattice::CtlOperation& op,
                                          const std::string& body) override;
  // host_ctl.cpp: one per operation family.
  nlohmann::json scaleComponent(const nlohmann::json& body);
  nlohmann::json updateComponent(const nlohmann::json& body);
  std::optional<nlohmann::json> auction(const nlohmann::json& body, bool provider);
  nlohmann::json startProvider(const nlohmann::json& body);
  nlohmann::json stopProvider(const nlohmann::json& body);
  nlohmann::json putLink(const nlohmann::json& body);
  nlohmann::json deleteLink(const nlohmann::json& body);
  nlohmann::json config(const std::string& verb, const std::string& name, const std::string& body);
  nlohmann::json label(const std::string& verb, const nlohmann::json& body);
  void onLinksChanged(const std::string& source_id);
  void publishEvent(std::string_view type, nlohmann::json data);
  void heartbeatLoop();
  uint64_t uptimeSeconds() const;

  HostConfig config_;
  lattice::KeyPair key_;
  std::string id_;
  std::string friendly_name_;
  std::chrono::steady_clock::time_point started_;
  std::map<std::string, std::string> labels_;  // GUARDED_BY(mu_)
  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<lattice::NatsConnection> conn_;
  std::unique_ptr<LinkStore> links_;
  std::unique_ptr<ConfigStore> config_store_;
  std::unique_ptr<WrpcBridge> wrpc_;
  std::unique_ptr<ComponentManager> components_;
  std::unique_ptr<HttpIngress> ingress_;
  std::shared_mutex parts_mu_;
  bool parts_ready_ = false;  // GUARDED_BY(parts_mu_): link changes apply between start and shutdown
  std::map<std::string, nlohmann::json> registry_credentials_;  // GUARDED_BY(mu_); used by OCI later
  std::unique_ptr<CtlServer> ctl_;
  std::thread heartbeat_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_requested_ = false;  // GUARDED_BY(mu_)
  bool shutting_down_ = false;   // GUARDED_BY(mu_): ends the heartbeat loop
  bool shut_down_ = false;       // GUARDED_BY(mu_)
};

}  // namespace cumulus::host
