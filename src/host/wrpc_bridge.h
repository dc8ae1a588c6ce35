// Components on the lattice's data plane (PROTOCOL.md §5, §7.4): every function a running
// component exports is served over wRPC at `{lattice}.{component id}.wrpc.0.0.1.{instance}.
// {function}` in queue group `{lattice}.{component id}` (so hosts running the same id share its
// invocations), and imports linked to a target that does not run on this host are invoked there
// over wRPC (RemoteInvoker), with wasmCloud's `source-id` / `link-name` headers and its fixed
// 10 s timeout. Values are converted by the wRPC codec from the functions' component types.
//
// wasi:http/incoming-handler exports are served as wrpc:http/incoming-handler@0.1.0 (wrpc_http.h),
// like wasmCloud does for its http-server provider; exported resources cannot cross hosts (wasmCloud ignores them too): calls carrying
// handles fail with a clear error.
//
// Lifecycle: create, attach() the ComponentManager, then the manager reports started/stopped
// components. stopServing() (host shutdown) ends every export before the manager goes.
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "component/resolve.h"
#include "host/components.h"
#include "lattice/nats.h"
#include "lattice/wrpc.h"

namespace cumulus::host {

// "[method]bucket.get" -> "bucket.get", "[static]r.f" -> "r.f", "[constructor]r" -> "r".
std::string wrpcFunctionName(std::string_view function);

class WrpcBridge final : public RemoteInvoker {
 public:
  WrpcBridge(lattice::NatsConnection& nc, std::string lattice);
  ~WrpcBridge() override;
  void attach(ComponentManager& components) { components_ = &components; }
  lattice::WrpcClient& client() { return client_; }
  const std::string& lattice() const { return lattice_; }

  Expected<component::Val> invoke(const std::string& source_id, const std::string& link_name,
                                  const std::string& target_id, const std::string& instance,
                                  const std::string& function, const component::CType& func_type,
                                  std::vector<component::Val>& args) override;

  // Serves the exports of component `id` (replacing what was served for it before).
  void componentStarted(const std::string& id, const component::ComponentInfo& info);
  void componentStopped(const std::string& id);
  void stopServing();

 private:
  lattice::NatsConnection& nc_;
  std::string lattice_;
  lattice::WrpcClient client_;
  lattice::WrpcServer server_;
  ComponentManager* components_ = nullptr;
  std::mutex mu_;
  std::map<std::string, std::vector<std::unique_ptr<lattice::WrpcExport>>> exports_;  // GUARDED_BY(mu_)
};

}  // namespace cumulus::host
