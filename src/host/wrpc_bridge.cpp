// Components on the wRPC data plane; see wrpc_bridge.h.
#include "host/wrpc_bridge.h"

#include "base/log.h"
#include "component/names.h"
#include "host/wrpc_http.h"
#include "lattice/wrpc_codec.h"

namespace cumulus::host {

using component::Val;

std::string wrpcFunctionName(std::string_view function) {
  for (std::string_view prefix : {"[method]", "[static]", "[constructor]"}) {
    if (function.substr(0, prefix.size()) == prefix) return std::string(function.substr(prefix.size()));
  }
  return std::string(function);
}

namespace {

lattice::WrpcServerOptions serverOptions() {
  lattice::WrpcServerOptions o;
  // A served invocation holds its worker while the component runs, including while it waits on
  // its own linked calls, which may be served by this same pool (a chain of components on one
  // host called over wRPC). Enough workers that such chains do not starve each other; idle
  // threads cost little.
  o.workers = 64;
  return o;
}

}  // namespace

WrpcBridge::WrpcBridge(lattice::NatsConnection& nc, std::string lattice)
    : nc_(nc), lattice_(std::move(lattice)), client_(nc), server_(nc, serverOptions()) {}

WrpcBridge::~WrpcBridge() { stopServing(); }

Expected<Val> WrpcBridge::invoke(const std::string& source_id, const std::string& link_name,
                                 const std::string& target_id, const std::string& instance,
                                 const std::string& function, const component::CType& func_type,
                                 std::vector<Val>& args) {
  lattice::Headers headers = {{"source-id", source_id}, {"link-name", link_name}};
  auto results = client_.call(fmt::format("{}.{}", lattice_, target_id), instance,
                              wrpcFunctionName(function), func_type, args, headers,
                              lattice::kWrpcDefaultTimeout);
  if (!results.ok()) {
    return Error(results.error().code(),
                 fmt::format("calling {}.{} on {} over wRPC: {}", instance, function, target_id,
                             results.error().message()));
  }
  if (results->empty()) return Val();
  return std::move(results->front());
}

void WrpcBridge::componentStarted(const std::string& id, const component::ComponentInfo& info) {
  std::vector<std::unique_ptr<lattice::WrpcExport>> served;
  std::string prefix = fmt::format("{}.{}", lattice_, id);
  auto serve = [&](const std::string& instance, const std::string& function,
                   const component::CTypePtr& type) {
    auto handler = [this, id, instance, function, type](std::string_view params,
                                                        const lattice::Headers&) -> Expected<std::string> {
      CUMULUS_TRY(auto args, lattice::wrpc::decodeTuple(lattice::wrpc::paramTypes(*type), params));
      CUMULUS_TRY(Val result, components_->invoke(id, instance, function, std::move(args)));
      auto result_types = lattice::wrpc::resultTypes(*type);
      std::vector<Val> results;
      if (!result_types.empty()) results.push_back(std::move(result));
      return lattice::wrpc::encodeTuple(result_types, results);
    };
    auto ex = server_.serve(prefix, instance, wrpcFunctionName(function), std::move(handler));
    if (!ex.ok()) {
      log().warn("component {}: serving {}.{} over wRPC: {}", id, instance, function, ex.error().message());
      return;
    }
    served.push_back(std::move(*ex));
  };
  for (const auto& [name, item] : info.exports) {
    if (item.kind == component::ExternType::Kind::kFunc) {
      serve("", name, item.type);
      continue;
    }
    if (item.kind != component::ExternType::Kind::kInstance) continue;
    if (component::splitVersion(name).first == "wasi:http/incoming-handler") {
      auto ex = server_.serveStreaming(prefix, kWrpcHttpHandler, "handle", wrpcHttpHandler(*components_, id));
      if (ex.ok()) {
        served.push_back(std::move(*ex));
      } else {
        log().warn("component {}: serving {} over wRPC: {}", id, kWrpcHttpHandler, ex.error().message());
      }
      continue;
    }
    for (const auto& [fname, f] : item.type->exports) {
      if (f.kind == component::ExternType::Kind::kFunc) serve(name, fname, f.type);
    }
  }
  std::vector<std::unique_ptr<lattice::WrpcExport>> old;
  {
    std::lock_guard lock(mu_);
    old = std::move(exports_[id]);
    exports_[id] = std::move(served);
  }
  old.clear();  // outside the lock: waits for their running invocations
}

void WrpcBridge::componentStopped(const std::string& id) {
  std::vector<std::unique_ptr<lattice::WrpcExport>> old;
  {
    std::lock_guard lock(mu_);
    auto it = exports_.find(id);
    if (it == exports_.end()) return;
    old = std::move(it->second);
    exports_.erase(it);
  }
}

void WrpcBridge::stopServing() {
  std::map<std::string, std::vector<std::unique_ptr<lattice::WrpcExport>>> old;
  {
    std::lock_guard lock(mu_);
    old = std::move(exports_);
    exports_.clear();
  }
}

}  // namespace cumulus::host
