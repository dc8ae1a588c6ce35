// Auctions, workload lookup, scaling and the link/config queries shared by several
// subcommands; see ctl_ops.h.
#include "cli/ctl_ops.h"

#include <fmt/format.h>

#include "lattice/ctl.h"

namespace cumulus::cli {
namespace {

const char* kindName(WorkloadKind kind) {
  return kind == WorkloadKind::kComponent ? "component" : "provider";
}

}  // namespace

std::string linkInterfaces(const nlohmann::json& link) {
  std::string base = fmt::format("{}:{}", field(link, "wit_namespace"), field(link, "wit_package"));
  auto ifaces = link.value("interfaces", nlohmann::json::array());
  if (ifaces.size() == 1) return fmt::format("{}/{}", base, jsonText(ifaces[0]));
  return fmt::format("{}/{{{}}}", base, joinedText(ifaces));
}

Expected<std::string> auctionHost(CtlClient& client, WorkloadKind kind, const std::string& ref,
                                  const std::string& id,
                                  const std::map<std::string, std::string>& constraints) {
  const char* noun = kindName(kind);
  nlohmann::json body = {{fmt::format("{}_ref", noun), ref},
                         {fmt::format("{}_id", noun), id},
                         {"constraints", constraints}};
  auto subject = client.subject(noun, "auction");
  CUMULUS_TRY(auto replies, client.gather(subject, body, client.options().timeout(), 1));
  for (const auto& r : replies) {
    if (!r.value("success", false)) continue;
    std::string host = field(r.value("response", nlohmann::json::object()), "host_id");
    if (!host.empty()) return host;
  }
  return makeError(ErrorCode::kNotFound,
                   "no host accepted {} {} in the auction on {} within {} ms: hosts answer only "
                   "if their labels match every --constraint and they do not run {} yet (cumulus "
                   "get hosts shows labels; --host-id skips the auction)",
                   noun, id, subject, client.options().timeout_ms, id);
}

Expected<std::vector<Placement>> hostsRunning(CtlClient& client, WorkloadKind kind,
                                              const std::string& id) {
  auto ping = client.subject("host", "ping");
  CUMULUS_TRY(auto replies, client.gather(ping, nullptr, client.options().timeout()));
  std::vector<std::string> hosts;
  for (const auto& r : replies) {
    std::string host = field(r.value("response", nlohmann::json::object()), "id");
    if (r.value("success", false) && !host.empty()) hosts.push_back(host);
  }
  if (hosts.empty()) {
    return makeError(ErrorCode::kNotFound, "no host answered on {} within {} ms: {}", ping,
                     client.options().timeout_ms, client.latticeHint());
  }
  std::vector<Placement> out;
  for (const auto& host : hosts) {
    auto inv = client.request(client.subject("host", "get", host), nullptr, client.hostHint(host));
    if (!inv.ok()) {
      fmt::print(stderr, "warning: skipping host {}: {}\n", host, inv.error().message());
      continue;
    }
    const auto& r = (*inv).value("response", nlohmann::json::object());
    nlohmann::json list = nlohmann::json::array();
    if (kind == WorkloadKind::kProvider) {
      list = r.value("providers", list);
    } else {
      list = r.contains("components") ? r.value("components", list) : r.value("actors", list);
    }
    for (const auto& d : list) {
      if (field(d, "id") == id) out.push_back(Placement{host, d});
    }
  }
  return out;
}

Expected<nlohmann::json> scaleComponent(CtlClient& client, const ScaleArgs& args) {
  if (args.component_id.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "the component id must not be empty");
  }
  nlohmann::json body = {{"component_ref", args.component_ref},
                         {"component_id", args.component_id},
                         {"count", args.count},
                         {"host_id", args.host_id},
                         {"config", args.config},
                         {"allow_update", false}};
  if (!args.annotations.empty()) body["annotations"] = args.annotations;
  std::optional<EventWait> wait;
  if (!args.skip_wait) {
    wait = EventWait{{"component_scaled"},
                     {"component_scale_failed"},
                     "component_id",
                     args.component_id,
                     args.host_id,
                     std::chrono::milliseconds(args.wait_timeout_ms),
                     fmt::format("scaling component {} to {}", args.component_id, args.count)};
  }
  CUMULUS_TRY(auto result,
              requestAndWait(client, client.subject("component", "scale", args.host_id), body,
                             client.hostHint(args.host_id), wait));
  nlohmann::json out = {{"success", true},
                        {"host_id", args.host_id},
                        {"component_id", args.component_id},
                        {"component_ref", args.component_ref},
                        {"max_instances", args.count},
                        {"message", field(result.ack, "message")}};
  if (result.outcome) out["event"] = result.outcome->event;
  return out;
}

void printScaled(const CtlOptions& options, const nlohmann::json& result) {
  if (options.json()) {
    printJson(result);
    return;
  }
  std::string host = field(result, "host_id");
  std::string id = field(result, "component_id");
  std::string message = field(result, "message");
  if (!message.empty()) fmt::print("host {}: {}\n", host, message);
  if (!result.contains("event")) {
    fmt::print("host {} acknowledged scaling component {} to {} (not waiting for the outcome)\n",
               host, id, field(result, "max_instances"));
    return;
  }
  const auto& data = result["event"].value("data", nlohmann::json::object());
  std::string max = field(data, "max_instances");
  if (max == "0") {
    fmt::print("component {} stopped on host {}\n", id, host);
    return;
  }
  if (max == std::to_string(kUnboundedInstances)) max += " (unbounded)";
  fmt::print("component {} ({}) scaled on host {}: max instances {}\n", id,
             field(data, "image_ref"), host, max);
}

Expected<void> showLinks(const CtlOptions& options) {
  CUMULUS_TRY(auto client, CtlClient::connect(options));
  CUMULUS_TRY(auto reply,
              client->request(client->subject("link", "get"), nullptr, client->latticeHint()));
  auto links = reply.value("response", nlohmann::json::array());
  if (!links.is_array()) {
    return makeError(ErrorCode::kInvalidArgument, "link.get replied with a non-list response: {}",
                     links.dump());
  }
  if (options.json()) {
    printJson({{"success", true}, {"links", links}});
    return {};
  }
  if (links.empty()) {
    fmt::print("no links in lattice '{}' (cumulus link put adds one)\n", options.lattice.lattice);
    return {};
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& l : links) {
    rows.push_back({field(l, "source_id"), field(l, "target"), field(l, "name"), linkInterfaces(l),
                    joinedText(l.value("source_config", nlohmann::json::array())),
                    joinedText(l.value("target_config", nlohmann::json::array()))});
  }
  printTable({"SOURCE", "TARGET", "NAME", "INTERFACES", "SOURCE CONFIG", "TARGET CONFIG"}, rows);
  return {};
}

Expected<void> checkConfigName(const std::string& name, bool allow_secret) {
  if (!lattice::isSubjectToken(name)) {
    return makeError(ErrorCode::kInvalidArgument,
                     "config name '{}' must be one NATS subject token (no '.', '*', '>' or spaces)",
                     name);
  }
  if (!allow_secret && name.rfind("SECRET", 0) == 0) {
    return makeError(ErrorCode::kInvalidArgument,
                     "config name '{}' starts with SECRET, which is reserved for secret "
                     "references: choose another name",
                     name);
  }
  return {};
}

Expected<void> showConfig(const CtlOptions& options, const std::string& name) {
  CUMULUS_TRY_VOID(checkConfigName(name, true));
  CUMULUS_TRY(auto client, CtlClient::connect(options));
  CUMULUS_TRY(auto reply, client->request(client->subject("config", "get", name), nullptr,
                                          client->latticeHint()));
  bool found = reply.contains("response") && reply["response"].is_object();
  if (options.json()) {
    nlohmann::json out = {{"success", true},
                          {"name", name},
                          {"config", found ? reply["response"] : nlohmann::json()}};
    if (!found) out["message"] = field(reply, "message");
    printJson(out);
    return {};
  }
  if (!found) {
    fmt::print("config {} not found in lattice '{}' (cumulus config put {} KEY=VALUE creates it)\n",
               name, options.lattice.lattice, name);
    return {};
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& [k, v] : reply["response"].items()) rows.push_back({k, jsonText(v)});
  printTable({"KEY", "VALUE"}, rows);
  return {};
}

}  // namespace cumulus::cli
