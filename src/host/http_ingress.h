// The in-host http-server capability: wasmCloud's builtin `wasmcloud+builtin://http-server`
// provider (PROTOCOL.md §6.7), on the serving core of `cumulus serve`. Started with ctl
// provider.start; configured through links whose source is the provider and whose interface is
// wasi:http/incoming-handler, exactly like wasmCloud's http-server provider:
//   routing_mode "address" (default; provider config): each link's source_config `address`
//       ("0.0.0.0:8000" when absent) gets a listener serving that link's target;
//   routing_mode "path": one listener at the provider config's `address` (default
//       "0.0.0.0:8000"); each link's source_config `path` routes to its target (longest prefix on
//       a segment boundary);
//   routing_mode "host": like path, matching the Host header (without port) against `host`.
// Listeners follow the links live: putting, changing or deleting a link starts, re-routes or stops
// them. A request for a target that does not run on this host goes over wRPC to a host that runs
// it (RemoteHttp); when none does, it gets a 503.
//
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/error.h"
#include "host/components.h"
#include "host/lattice_state.h"
#include "lattice/ctl.h"

namespace cumulus::host {

inline constexpr std::string_view kBuiltinHttpServer = "wasmcloud+builtin://http-server";

// Serves a request with a component that does not run on this host (over wRPC); kNotFound when
// no host runs it.
using RemoteHttp = std::function<Expected<void>(const std::string& target, const wasi::http::RequestHead&,
                                                std::shared_ptr<wasi::http::BodyReader>,
                                                wasi::http::ResponseSink&)>;

class HttpIngress {
 public:
  HttpIngress(ComponentManager& components, LinkStore& links, ConfigStore& config,
              RemoteHttp remote = {});
  ~HttpIngress();
  HttpIngress(const HttpIngress&) = delete;
  HttpIngress& operator=(const HttpIngress&) = delete;

  Expected<void> startProvider(const std::string& id, const std::vector<std::string>& config,
                               const std::map<std::string, std::string>& annotations);
  // Stops the provider's listeners; false when it was not running.
  bool stopProvider(const std::string& id);
  bool hasProvider(const std::string& id) const;
  std::vector<lattice::ProviderDescription> describe() const;
  // Links of `source_id` changed: re-derive listeners and routes when it is one of ours.
  void linksChanged(const std::string& source_id);
  // Where a provider listens now ("host:port" per listener), for logs and tests.
  std::vector<std::string> listening(const std::string& id) const;

  struct Router;
  struct Provider;

 private:
  void reconcile(Provider& p);  // with mu_ held
  ComponentManager& components_;
  RemoteHttp remote_;
  LinkStore& links_;
  ConfigStore& config_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Provider>> providers_;  // GUARDED_BY(mu_)
};

}  // namespace cumulus::host
