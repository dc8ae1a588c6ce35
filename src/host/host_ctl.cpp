// The host's control-interface operations beyond ping/inventory/stop (PROTOCOL.md §1.4): decode
// and validate each request body, call the part that owns the state, publish the event. Replies
// follow wasmCloud 1.9's messages; validation failures say what was wrong.
#include <algorithm>
#include <cctype>

#include "base/log.h"
#include "host/host.h"
#include "lattice/claims.h"

namespace cumulus::host {
namespace {

using nlohmann::json;

// Request-body field readers: absent or null gives the fallback; a wrong type is an error that
// names the field (thrown as std::invalid_argument and turned into success:false by the caller).
std::string str(const json& j, const char* key, std::string fallback = {}) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_string()) throw std::invalid_argument(fmt::format("`{}` must be a string", key));
  return j[key].get<std::string>();
}

std::vector<std::string> strList(const json& j, const char* key) {
  std::vector<std::string> out;
  if (!j.contains(key) || j[key].is_null()) return out;
  if (!j[key].is_array()) throw std::invalid_argument(fmt::format("`{}` must be a list of strings", key));
  for (const auto& e : j[key]) {
    if (!e.is_string()) throw std::invalid_argument(fmt::format("`{}` must be a list of strings", key));
    out.push_back(e.get<std::string>());
  }
  return out;
}

std::map<std::string, std::string> strMap(const json& j, const char* key) {
  std::map<std::string, std::string> out;
  if (!j.contains(key) || j[key].is_null()) return out;
  if (!j[key].is_object()) throw std::invalid_argument(fmt::format("`{}` must be a map of strings", key));
  for (const auto& [k, v] : j[key].items()) {
    if (!v.is_string()) throw std::invalid_argument(fmt::format("`{}` must be a map of strings", key));
    out[k] = v.get<std::string>();
  }
  return out;
}

json parseBody(const std::string& body, std::string_view what) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    throw std::invalid_argument(fmt::format("failed to deserialize {}: expected a JSON object", what));
  }
  return j;
}

uint32_t countField(const json& j) {
  // The wire key is `count`; `max_instances` (from the v1 docs) is accepted as an alias.
  const char* key = j.contains("count") ? "count" : "max_instances";
  if (!j.contains(key) || j[key].is_null()) return 0;
  if (!j[key].is_number_unsigned() || j[key].get<uint64_t>() > UINT32_MAX) {
    throw std::invalid_argument(fmt::format("`{}` must be an integer from 0 to 4294967295", key));
  }
  return j[key].get<uint32_t>();
}

bool constraintsMatch(const json& body, const std::map<std::string, std::string>& labels) {
  for (const auto& [k, v] : strMap(body, "constraints")) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  return true;
}

}  // namespace

std::optional<json> Host::operation(const lattice::CtlOperation& op, const std::string& body) {
  try {
    const bool mine = op.name == id_;
    if (op.noun == "component" && op.verb == "scale" && mine) return scaleComponent(parseBody(body, "scale component command"));
    if (op.noun == "component" && op.verb == "update" && mine) return updateComponent(parseBody(body, "update component command"));
    if (op.noun == "component" && op.verb == "auction") return auction(parseBody(body, "component auction"), false);
    if (op.noun == "provider" && op.verb == "auction") return auction(parseBody(body, "provider auction"), true);
    if (op.noun == "provider" && op.verb == "start" && mine) return startProvider(parseBody(body, "start provider command"));
    if (op.noun == "provider" && op.verb == "stop" && mine) return stopProvider(parseBody(body, "stop provider command"));
    if (op.noun == "link" && op.verb == "put") return putLink(parseBody(body, "link"));
    if (op.noun == "link" && op.verb == "del") return deleteLink(parseBody(body, "delete link command"));
    if (op.noun == "link" && op.verb == "get") {
      json links = json::array();
      for (const auto& l : links_->all()) links.push_back(lattice::toJson(l));
      return lattice::ctlOk(std::move(links));
    }
    if (op.noun == "claims" && op.verb == "get") {
      json entries = json::array();
      for (const auto& stored : links_->claims()) {
        entries.push_back(lattice::ComponentClaims::fromStored(stored).ctlEntry());
      }
      return lattice::ctlOk(std::move(entries));
    }
    if (op.noun == "config" && !op.name.empty()) return config(op.verb, op.name, body);
    if (op.noun == "label" && mine) return label(op.verb, parseBody(body, "label"));
    if (op.noun == "registry" && op.verb == "put") {
      auto j = parseBody(body, "registry credentials");
      std::lock_guard lock(mu_);
      for (const auto& [registry, creds] : j.items()) registry_credentials_[registry] = creds;
      return lattice::ctlAck();
    }
  } catch (const std::invalid_argument& e) {
    return lattice::ctlError(e.what());
  }
  return lattice::ctlError("unsupported subject");
}

json Host::scaleComponent(const json& body) {
  ScaleRequest r;
  r.component_id = str(body, "component_id");
  r.component_ref = str(body, "component_ref");
  r.count = countField(body);
  r.annotations = strMap(body, "annotations");
  r.config = strList(body, "config");
  r.allow_update = body.value("allow_update", false);
  if (auto h = str(body, "host_id"); !h.empty() && h != id_) {
    return lattice::ctlError(fmt::format("host id mismatch: request for {} sent to {}", h, id_));
  }
  for (const auto& [k, v] : strMap(body, "component_limits")) {
    try {
      if (k == "max_memory_limit") r.max_memory_bytes = std::stoull(v);
      if (k == "max_execution_time") r.max_execution = std::chrono::seconds(std::stoull(v));
    } catch (const std::exception&) {
      return lattice::ctlError(fmt::format("component_limits.{} must be a number, got '{}'", k, v));
    }
  }
  auto ack = components_->scale(std::move(r));
  if (!ack.ok()) return lattice::ctlError(ack.error().message());
  return lattice::ctlAck(*ack);
}

json Host::updateComponent(const json& body) {
  UpdateRequest r;
  r.component_id = str(body, "component_id");
  r.new_component_ref = str(body, "new_component_ref");
  if (body.contains("annotations") && !body["annotations"].is_null()) r.annotations = strMap(body, "annotations");
  if (r.component_id.empty() || r.new_component_ref.empty()) {
    return lattice::ctlError("component_id and new_component_ref are required");
  }
  auto ack = components_->update(std::move(r));
  if (!ack.ok()) return lattice::ctlError(ack.error().message());
  return lattice::ctlAck(*ack);
}

std::optional<json> Host::auction(const json& body, bool provider) {
  if (!constraintsMatch(body, labels())) return std::nullopt;  // no reply: this host declines
  if (provider) {
    std::string pid = str(body, "provider_id");
    std::string ref = str(body, "provider_ref");
    // Only builtin providers run in Cumulus hosts today.
    if (ref != kBuiltinHttpServer || ingress_->hasProvider(pid)) return std::nullopt;
    return lattice::ctlOk({{"host_id", id_}, {"provider_ref", ref}, {"provider_id", pid},
                           {"constraints", strMap(body, "constraints")}});
  }
  std::string cid = str(body, "component_id");
  if (components_->isRunning(cid)) return std::nullopt;
  return lattice::ctlOk({{"component_ref", str(body, "component_ref")}, {"component_id", cid},
                         {"host_id", id_}, {"constraints", strMap(body, "constraints")}});
}

json Host::startProvider(const json& body) {
  std::string pid = str(body, "provider_id");
  std::string ref = str(body, "provider_ref");
  auto annotations = strMap(body, "annotations");
  auto config = strList(body, "config");
  if (pid.empty()) return lattice::ctlError("provider_id is required");
  if (!lattice::isSubjectToken(pid)) {
    return lattice::ctlError(fmt::format("provider id '{}' must be one NATS subject token", pid));
  }
  if (ref != kBuiltinHttpServer) {
    return lattice::ctlError(fmt::format(
        "provider reference '{}' is not supported: Cumulus hosts run the builtin {} (external "
        "provider processes are not supported yet)",
        ref, kBuiltinHttpServer));
  }
  if (auto missing = config_store_->firstMissing(config)) {
    return lattice::ctlError(fmt::format("Config {} does not exist", *missing));
  }
  if (auto r = ingress_->startProvider(pid, config, annotations); !r.ok()) {
    return lattice::ctlError(r.error().message());
  }
  if (auto r = links_->ensureSpec(pid, ref); !r.ok()) {
    log().warn("provider {}: writing its spec: {}", pid, r.error().message());
  }
  publishEvent("provider_started", {{"host_id", id_}, {"image_ref", ref}, {"provider_id", pid},
                                    {"annotations", annotations}});
  return lattice::ctlAck("successfully started provider");
}

json Host::stopProvider(const json& body) {
  std::string pid = str(body, "provider_id", str(body, "provider_ref"));
  std::map<std::string, std::string> annotations;
  for (const auto& p : ingress_->describe()) {
    if (p.id == pid) annotations = p.annotations;
  }
  if (!ingress_->stopProvider(pid)) return lattice::ctlError("provider with that ID is not running");
  publishEvent("provider_stopped", {{"host_id", id_}, {"provider_id", pid},
                                    {"annotations", annotations}, {"reason", "stop"},
                                    {"instance_id", pid}, {"public_key", pid},
                                    {"link_name", "default"}});
  return lattice::ctlAck("successfully stopped provider");
}

json Host::putLink(const json& body) {
  auto link = lattice::linkFromJson(body);
  if (!link.ok()) return lattice::ctlError(link.error().message());
  json event = lattice::toJson(*link);
  auto fail = [&](const std::string& error) {
    event["error"] = error;
    publishEvent("linkdef_set_failed", event);
    return lattice::ctlError(error);
  };
  for (const auto* names : {&link->source_config, &link->target_config}) {
    if (auto missing = config_store_->firstMissing(*names)) {
      return fail(fmt::format("Config {} does not exist", *missing));
    }
  }
  if (auto r = links_->put(*link); !r.ok()) return fail(r.error().message());
  publishEvent("linkdef_set", event);
  return lattice::ctlAck("successfully set link");
}

json Host::deleteLink(const json& body) {
  std::string source = str(body, "source_id");
  std::string name = str(body, "name", "default");
  if (name.empty()) name = "default";
  std::string ns = str(body, "wit_namespace");
  std::string pkg = str(body, "wit_package");
  if (source.empty() || ns.empty() || pkg.empty()) {
    return lattice::ctlError("source_id, wit_namespace and wit_package are required");
  }
  auto removed = links_->del(source, ns, pkg, name);
  if (!removed.ok()) return lattice::ctlError(removed.error().message());
  json event = {{"source_id", source}, {"name", name}, {"wit_namespace", ns}, {"wit_package", pkg}};
  if (*removed) {
    event["target"] = (*removed)->target;
    event["interfaces"] = (*removed)->interfaces;
  }
  publishEvent("linkdef_deleted", event);
  return lattice::ctlAck(*removed ? "successfully deleted link"
                                  : "successfully deleted link (spec doesn't exist)");
}

json Host::config(const std::string& verb, const std::string& name, const std::string& body) {
  if (verb == "get") {
    auto raw = config_store_->getRaw(name);
    if (!raw) return lattice::ctlAck("Configuration not found");
    return lattice::ctlOk(*raw);
  }
  if (verb == "put") {
    auto j = json::parse(body, nullptr, false);
    if (j.is_discarded()) return lattice::ctlError("config data should be a map of string -> string");
    if (auto r = config_store_->put(name, j); !r.ok()) return lattice::ctlError(r.error().message());
    publishEvent("config_set", {{"config_name", name}});
    return lattice::ctlAck();
  }
  if (verb == "del") {
    if (auto r = config_store_->del(name); !r.ok()) return lattice::ctlError(r.error().message());
    publishEvent("config_deleted", {{"config_name", name}});
    return lattice::ctlAck();
  }
  return lattice::ctlError("unsupported subject");
}

json Host::label(const std::string& verb, const json& body) {
  std::string key = str(body, "key");
  if (key.empty()) return lattice::ctlError("label key is required");
  std::string lower = key;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower.rfind("hostcore.", 0) == 0) {
    return lattice::ctlError("hostcore.* labels cannot be set dynamically");
  }
  std::map<std::string, std::string> labels;
  if (verb == "put") {
    std::string value = str(body, "value");
    std::lock_guard lock(mu_);
    labels_[key] = value;
    labels = labels_;
  } else if (verb == "del") {
    std::lock_guard lock(mu_);
    if (!labels_.erase(key)) return lattice::ctlAck("successfully deleted label (no such label)");
    labels = labels_;
  } else {
    return lattice::ctlError("unsupported subject");
  }
  publishEvent("labels_changed", {{"host_id", id_}, {"labels", labels}});
  return lattice::ctlAck(verb == "put" ? "successfully put label" : "successfully deleted label");
}

}  // namespace cumulus::host
