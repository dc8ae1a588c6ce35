// Components running on a host (PROTOCOL.md §1.4 "Components", §7.3–7.5): scaling from a
// reference, updates, per-component concurrency (`max_instances` = concurrent invocations, a
// semaphore), a fresh instance per invocation from the component's plan, and the routing of its
// imports through links (§4.3): to a component on this host in-process, or to a RemoteInvoker
// (wRPC) otherwise.
//
// Each component gets its own Linker: WASI 0.2 + wasi:http (stderr inherited, nothing else
// granted, as in wasmCloud), wasi:config/wasi:logging/wasmcloud:bus served from the host, and
// one routed host function per function of every other imported interface. A scale request is
// acknowledged by the caller at once; the work (fetch, compile, instantiate) runs on a
// background thread and ends with an event. Operations on one component id are serialized.
//
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "component/runtime.h"
#include "engine/engine.h"
#include "host/lattice_state.h"
#include "lattice/ctl.h"
#include "wasi/http/server.h"

namespace cumulus::host {

// The WASI context of a lattice component (PROTOCOL.md §7.3): argv ["main.wasm"], stderr
// inherited, stdout discarded, no environment, preopens or sockets.
wasi::WasiConfig latticeWasiConfig();

struct ScaleRequest {
  std::string component_ref;
  std::string component_id;
  uint32_t count = 0;  // max concurrent instances; 0 stops the component
  std::map<std::string, std::string> annotations;
  std::vector<std::string> config;
  std::optional<uint64_t> max_memory_bytes;             // component_limits.max_memory_limit
  std::optional<std::chrono::seconds> max_execution;    // component_limits.max_execution_time
  bool allow_update = false;
};

struct UpdateRequest {
  std::string component_id;
  std::string new_component_ref;
  std::optional<std::map<std::string, std::string>> annotations;
};

// Calls a function of a component that does not run on this host (wRPC over NATS). `instance`
// is the versioned interface name ("wasmcloud:example/receiver@0.0.1"; empty for root functions).
class RemoteInvoker {
 public:
  virtual ~RemoteInvoker() = default;
  virtual Expected<component::Val> invoke(const std::string& source_id, const std::string& link_name,
                                          const std::string& target_id, const std::string& instance,
                                          const std::string& function, const component::CType& func_type,
                                          std::vector<component::Val>& args) = 0;
};

struct ComponentEnv {
  engine::Engine& engine;
  LinkStore& links;
  ConfigStore& config;
  std::string host_id;
  bool allow_file_load = false;
  uint64_t max_component_bytes = 50ull << 20;
  uint64_t max_memory_bytes = 256ull << 20;              // per linear memory
  std::chrono::milliseconds max_execution{600000};       // per invocation
  std::chrono::milliseconds link_call_timeout{10000};   // waiting for a permit of a linked target
  // Publishes a lattice event (type, data).
  std::function<void(std::string_view, nlohmann::json)> publish;
  RemoteInvoker* remote = nullptr;  // null: links to other hosts fail with a clear error
  // A component started serving (or was replaced), and stopped; called on the scaling thread.
  std::function<void(const std::string& id, const component::ComponentInfo& info)> on_started;
  std::function<void(const std::string& id)> on_stopped;
};

class ComponentManager {
 public:
  explicit ComponentManager(ComponentEnv env);
  ~ComponentManager();  // waits for background work to end
  ComponentManager(const ComponentManager&) = delete;
  ComponentManager& operator=(const ComponentManager&) = delete;

  // Validates and schedules; returns the ack message (empty, or a warning).
  Expected<std::string> scale(ScaleRequest request);
  Expected<std::string> update(UpdateRequest request);
  bool isRunning(const std::string& id) const;
  std::vector<lattice::ComponentDescription> describe() const;

  // Invokes an export of a component running here: a fresh instance, a permit of its semaphore
  // (waiting up to link_call_timeout), its execution deadline.
  Expected<component::Val> invoke(const std::string& id, const std::string& instance,
                                  const std::string& function, std::vector<component::Val> args);
  // The function type of an export, if the component runs here and exports it.
  std::optional<component::CTypePtr> exportType(const std::string& id, const std::string& instance,
                                                const std::string& function) const;
  // Serves an HTTP request with the component's wasi:http/incoming-handler export (a permit per
  // request). NotFound when it does not run here; Unsupported when it is not an HTTP handler.
  Expected<void> handleHttp(const std::string& id, const wasi::http::RequestHead& head,
                            std::shared_ptr<wasi::http::BodyReader> body,
                            wasi::http::ResponseSink& sink);

  // Stops every component (host shutdown), publishing no events.
  void stopAll();

  struct Running;

 private:
  void runScale(ScaleRequest request);
  void runUpdate(UpdateRequest request, std::string old_ref);
  Expected<std::shared_ptr<Running>> start(const ScaleRequest& request);
  std::shared_ptr<Running> find(const std::string& id) const;
  Expected<component::Val> routeCall(Running& r, const std::string& import,
                                     const std::string& function, const component::CType& type,
                                     std::vector<component::Val>& args);
  std::shared_ptr<std::mutex> idLock(const std::string& id);
  void background(std::function<void()> work);
  void publishScaled(const Running& r, uint32_t max_instances);
  void publishScaleFailed(const ScaleRequest& request, const std::string& error);

  ComponentEnv env_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Running>> running_;        // GUARDED_BY(mu_)
  std::map<std::string, std::shared_ptr<std::mutex>> id_locks_;    // GUARDED_BY(mu_)
  size_t background_jobs_ = 0;                                     // GUARDED_BY(mu_)
  bool stopping_ = false;                                          // GUARDED_BY(mu_)
  std::condition_variable idle_cv_;
};

}  // namespace cumulus::host
