// `cumulus get hosts [-o json]` (ctl host.ping, scatter-gather: every host answers) and
// `cumulus get inventory HOST_ID [-o json]` (ctl host.get.{HOST_ID}).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/lattice_common.h"
#include "lattice/ctl.h"
#include "lattice/nats.h"

namespace cumulus::cli {
namespace {

std::string labelsText(const nlohmann::json& labels) {
  std::string out;
  if (!labels.is_object()) return out;
  for (const auto& [k, v] : labels.items()) {
    if (!out.empty()) out += ",";
    out += fmt::format("{}={}", k, v.is_string() ? v.get<std::string>() : v.dump());
  }
  return out;
}

std::string str(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return "";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

}  // namespace

void addGetCommand(CLI::App& app, int& status) {
  struct Args {
    LatticeOptions lattice;
    std::string output = "text";
    uint64_t timeout_ms = 2000;
    std::string host_id;
  };
  auto args = std::make_shared<Args>();
  auto* get = app.add_subcommand("get", "query the lattice (hosts, inventory)");
  get->require_subcommand(1);
  auto* hosts = get->add_subcommand("hosts", "list the hosts of the lattice (every host answers a ping)");
  auto* inv = get->add_subcommand("inventory", "show what one host runs");
  inv->add_option("host_id", args->host_id, "the host's id (N…)")->required();
  for (auto* cmd : {hosts, inv}) {
    addLatticeOptions(cmd, args->lattice);
    cmd->add_option("-o,--output", args->output, "text or json")->check(CLI::IsMember({"text", "json"}));
    cmd->add_option("-t,--timeout-ms", args->timeout_ms,
                    "how long to wait for replies (default 2000)");
  }
  auto connect = [args, &status]() -> std::unique_ptr<lattice::NatsConnection> {
    lattice::NatsOptions opts;
    opts.url = args->lattice.nats_url;
    opts.name = "cumulus-cli";
    opts.max_reconnect = 0;
    auto conn = lattice::NatsConnection::connect(opts);
    if (!conn.ok()) {
      fmt::print(stderr, "error: {}\n", conn.error().message());
      status = 1;
      return nullptr;
    }
    return std::move(*conn);
  };
  hosts->callback([args, connect, &status] {
    auto conn = connect();
    if (!conn) return;
    auto subject = lattice::ctlSubject(args->lattice.ctl_prefix, args->lattice.lattice, "host", "ping");
    auto replies = conn->scatterGather(subject, "", std::chrono::milliseconds(args->timeout_ms));
    if (!replies.ok()) {
      fmt::print(stderr, "error: {}\n", replies.error().message());
      status = 1;
      return;
    }
    nlohmann::json list = nlohmann::json::array();
    for (const auto& r : *replies) {
      auto j = nlohmann::json::parse(r.data, nullptr, false);
      if (j.is_object() && j.value("success", false) && j.contains("response")) {
        list.push_back(j["response"]);
      }
    }
    if (args->output == "json") {
      fmt::print("{}\n", nlohmann::json{{"success", true}, {"hosts", list}}.dump());
      return;
    }
    if (list.empty()) {
      fmt::print("no hosts answered in lattice '{}' within {} ms\n", args->lattice.lattice,
                 args->timeout_ms);
      return;
    }
    fmt::print("{:<56}  {:<24}  {:<12}  {}\n", "HOST ID", "FRIENDLY NAME", "UPTIME", "LABELS");
    for (const auto& h : list) {
      fmt::print("{:<56}  {:<24}  {:<12}  {}\n", str(h, "id"), str(h, "friendly_name"),
                 str(h, "uptime_human"), labelsText(h.value("labels", nlohmann::json::object())));
    }
  });
  inv->callback([args, connect, &status] {
    auto conn = connect();
    if (!conn) return;
    auto subject = lattice::ctlSubject(args->lattice.ctl_prefix, args->lattice.lattice, "host",
                                       "get", args->host_id);
    auto reply = conn->request(subject, "", std::chrono::milliseconds(args->timeout_ms));
    if (!reply.ok()) {
      fmt::print(stderr, "error: host {} did not answer: {} (list hosts with `cumulus get hosts`)\n",
                 args->host_id, reply.error().message());
      status = 1;
      return;
    }
    auto j = nlohmann::json::parse(reply->data, nullptr, false);
    if (!j.is_object() || !j.value("success", false)) {
      fmt::print(stderr, "error: {}\n", j.is_object() ? str(j, "message") : reply->data);
      status = 1;
      return;
    }
    const auto& r = j["response"];
    if (args->output == "json") {
      fmt::print("{}\n", r.dump());
      return;
    }
    fmt::print("host     {} ({})\nversion  {}\nuptime   {}\nlabels   {}\n", str(r, "host_id"),
               str(r, "friendly_name"), str(r, "version"), str(r, "uptime_human"),
               labelsText(r.value("labels", nlohmann::json::object())));
    auto components = r.value("components", nlohmann::json::array());
    auto providers = r.value("providers", nlohmann::json::array());
    fmt::print("components ({})\n", components.size());
    for (const auto& c : components) {
      fmt::print("  {:<32} {:<48} max {}\n", str(c, "id"), str(c, "image_ref"), str(c, "max_instances"));
    }
    fmt::print("providers ({})\n", providers.size());
    for (const auto& p : providers) fmt::print("  {:<32} {}\n", str(p, "id"), str(p, "image_ref"));
  });
}

}  // namespace cumulus::cli
