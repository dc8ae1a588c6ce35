// `cumulus get hosts|inventory HOST_ID|links|config NAME|claims`: read-only lattice queries
// (PROTOCOL.md §1.4). `hosts` is a scatter-gather ping (every host answers within -t ms);
// `inventory` asks one host (host.get.{HOST_ID}); links, config and claims are lattice-wide
// and answered by any one host (queue groups).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/ctl_client.h"
#include "cli/ctl_ops.h"

namespace cumulus::cli {
namespace {

Expected<void> getHosts(const CtlOptions& options) {
  CUMULUS_TRY(auto client, CtlClient::connect(options));
  CUMULUS_TRY(auto replies,
              client->gather(client->subject("host", "ping"), nullptr, options.timeout()));
  nlohmann::json list = nlohmann::json::array();
  for (const auto& r : replies) {
    if (r.value("success", false) && r.contains("response")) list.push_back(r["response"]);
  }
  if (options.json()) {
    printJson({{"success", true}, {"hosts", list}});
    return {};
  }
  if (list.empty()) {
    fmt::print("no hosts answered in lattice '{}' within {} ms (cumulus up starts one)\n",
               options.lattice.lattice, options.timeout_ms);
    return {};
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& h : list) {
    rows.push_back({field(h, "id"), field(h, "friendly_name"), field(h, "uptime_human"),
                    joinedText(h.value("labels", nlohmann::json::object()))});
  }
  printTable({"HOST ID", "FRIENDLY NAME", "UPTIME", "LABELS"}, rows);
  return {};
}

Expected<void> getInventory(const CtlOptions& options, const std::string& host_id) {
  CUMULUS_TRY(auto client, CtlClient::connect(options));
  CUMULUS_TRY(auto reply, client->request(client->subject("host", "get", host_id), nullptr,
                                          client->hostHint(host_id)));
  auto r = reply.value("response", nlohmann::json::object());
  if (options.json()) {
    printJson(r);
    return {};
  }
  fmt::print("host     {} ({})\nversion  {}\nuptime   {}\nlabels   {}\n\n", field(r, "host_id"),
             field(r, "friendly_name"), field(r, "version"), field(r, "uptime_human"),
             joinedText(r.value("labels", nlohmann::json::object())));
  auto components = r.value("components", r.value("actors", nlohmann::json::array()));
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : components) {
    rows.push_back(
        {field(c, "id"), field(c, "image_ref"), field(c, "max_instances"), field(c, "name")});
  }
  printTable({"COMPONENT ID", "IMAGE REF", "MAX INSTANCES", "NAME"}, rows);
  fmt::print("\n");
  rows.clear();
  for (const auto& p : r.value("providers", nlohmann::json::array())) {
    rows.push_back({field(p, "id"), field(p, "image_ref"), field(p, "name")});
  }
  printTable({"PROVIDER ID", "IMAGE REF", "NAME"}, rows);
  return {};
}

Expected<void> getClaims(const CtlOptions& options) {
  CUMULUS_TRY(auto client, CtlClient::connect(options));
  CUMULUS_TRY(auto reply,
              client->request(client->subject("claims", "get"), nullptr, client->latticeHint()));
  auto claims = reply.value("response", nlohmann::json::array());
  if (options.json()) {
    printJson({{"success", true}, {"claims", claims}});
    return {};
  }
  if (!claims.is_array() || claims.empty()) {
    fmt::print("no claims in lattice '{}' (only signed components and providers have claims)\n",
               options.lattice.lattice);
    return {};
  }
  // Hosts send both the long and the short (legacy) key; either may be missing.
  auto either = [](const nlohmann::json& c, const char* a, const char* b) {
    std::string v = field(c, a);
    return v.empty() ? field(c, b) : v;
  };
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : claims) {
    rows.push_back({field(c, "name"), either(c, "subject", "sub"), either(c, "issuer", "iss"),
                    field(c, "version"), either(c, "revision", "rev"), field(c, "tags")});
  }
  printTable({"NAME", "SUBJECT", "ISSUER", "VERSION", "REVISION", "TAGS"}, rows);
  return {};
}

}  // namespace

void addGetCommand(CLI::App& app, int& status) {
  struct Args {
    CtlOptions ctl;
    std::string host_id;
    std::string config_name;
  };
  auto args = std::make_shared<Args>();
  auto* get =
      app.add_subcommand("get", "query the lattice (hosts, inventory, links, config, claims)");
  get->require_subcommand(1);
  auto* hosts =
      get->add_subcommand("hosts", "list the hosts of the lattice (every host answers a ping)");
  auto* inv = get->add_subcommand("inventory", "show what one host runs");
  inv->add_option("host_id", args->host_id, "the host's id (N…; cumulus get hosts)")->required();
  auto* links = get->add_subcommand("links", "list every link of the lattice");
  auto* config = get->add_subcommand("config", "show one named configuration");
  config->add_option("name", args->config_name, "the config's name")->required();
  auto* claims =
      get->add_subcommand("claims", "list the claims of signed components and providers");
  for (auto* cmd : {hosts, inv, links, config, claims}) addCtlOptions(cmd, args->ctl);

  hosts->callback([args, &status] { status = finish(args->ctl, getHosts(args->ctl)); });
  inv->callback(
      [args, &status] { status = finish(args->ctl, getInventory(args->ctl, args->host_id)); });
  links->callback([args, &status] { status = finish(args->ctl, showLinks(args->ctl)); });
  config->callback(
      [args, &status] { status = finish(args->ctl, showConfig(args->ctl, args->config_name)); });
  claims->callback([args, &status] { status = finish(args->ctl, getClaims(args->ctl)); });
}

}  // namespace cumulus::cli
