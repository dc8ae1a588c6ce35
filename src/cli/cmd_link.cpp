// `cumulus link put|del|query`: link definitions (PROTOCOL.md §1.4 "Links", §4.1 shape). The
// source is the importer (caller), the target the exporter; any host answers (queue group)
// and the link is stored lattice-wide.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/ctl_client.h"
#include "cli/ctl_ops.h"

namespace cumulus::cli {
namespace {

struct LinkArgs {
  CtlOptions ctl;
  std::string source;
  std::string target;
  std::string wit_namespace;
  std::string wit_package;
  std::vector<std::string> interfaces;
  std::vector<std::string> source_config;
  std::vector<std::string> target_config;
  std::string name = "default";
};

Expected<void> putLink(const LinkArgs& a) {
  if (a.interfaces.empty()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "a link needs at least one --interface (for example --interface store for "
                     "wasi:keyvalue/store)");
  }
  for (const auto& c : a.source_config) CUMULUS_TRY_VOID(checkConfigName(c, true));
  for (const auto& c : a.target_config) CUMULUS_TRY_VOID(checkConfigName(c, true));
  nlohmann::json link = {{"source_id", a.source},
                         {"target", a.target},
                         {"name", a.name},
                         {"wit_namespace", a.wit_namespace},
                         {"wit_package", a.wit_package},
                         {"interfaces", a.interfaces},
                         {"source_config", a.source_config},
                         {"target_config", a.target_config}};
  CUMULUS_TRY(auto client, CtlClient::connect(a.ctl));
  CUMULUS_TRY(auto reply,
              client->request(client->subject("link", "put"), link, client->latticeHint()));
  if (a.ctl.json()) {
    printJson({{"success", true}, {"message", field(reply, "message")}, {"link", link}});
    return {};
  }
  fmt::print("link {} -> {} ({}, name {}) set\n", a.source, a.target, linkInterfaces(link), a.name);
  return {};
}

Expected<void> deleteLink(const LinkArgs& a) {
  nlohmann::json body = {{"source_id", a.source},
                         {"name", a.name},
                         {"wit_namespace", a.wit_namespace},
                         {"wit_package", a.wit_package}};
  CUMULUS_TRY(auto client, CtlClient::connect(a.ctl));
  CUMULUS_TRY(auto reply,
              client->request(client->subject("link", "del"), body, client->latticeHint()));
  std::string message = field(reply, "message");
  if (a.ctl.json()) {
    printJson({{"success", true}, {"message", message}, {"link", body}});
    return {};
  }
  fmt::print("link from {} ({}:{}, name {}) deleted{}\n", a.source, a.wit_namespace, a.wit_package,
             a.name, message.empty() ? "" : fmt::format(": {}", message));
  return {};
}

}  // namespace

void addLinkCommand(CLI::App& app, int& status) {
  auto a = std::make_shared<LinkArgs>();
  auto* link = app.add_subcommand("link", "manage links between components and providers");
  link->require_subcommand(1);

  auto* put = link->add_subcommand("put", "link SOURCE's imports of NAMESPACE:PACKAGE to TARGET");
  put->add_option("source", a->source, "id of the importing component or provider")->required();
  put->add_option("target", a->target, "id of the exporting component or provider")->required();
  put->add_option("namespace", a->wit_namespace, "WIT namespace, e.g. wasi")->required();
  put->add_option("package", a->wit_package, "WIT package, e.g. keyvalue")->required();
  put->add_option("--interface", a->interfaces, "WIT interface, e.g. store (repeatable)")
      ->allow_extra_args(false)
      ->delimiter(',');
  put->add_option("--source-config", a->source_config, "named config for the source (repeatable)")
      ->allow_extra_args(false);
  put->add_option("--target-config", a->target_config, "named config for the target (repeatable)")
      ->allow_extra_args(false);

  auto* del = link->add_subcommand("del", "delete SOURCE's link for NAMESPACE:PACKAGE");
  del->add_option("source", a->source, "id of the importing component or provider")->required();
  del->add_option("namespace", a->wit_namespace, "WIT namespace")->required();
  del->add_option("package", a->wit_package, "WIT package")->required();

  auto* query = link->add_subcommand("query", "list every link of the lattice (= get links)");
  for (auto* cmd : {put, del}) {
    cmd->add_option("-l,--link-name", a->name, "link name (default: default)");
  }
  for (auto* cmd : {put, del, query}) addCtlOptions(cmd, a->ctl);

  put->callback([a, &status] { status = finish(a->ctl, putLink(*a)); });
  del->callback([a, &status] { status = finish(a->ctl, deleteLink(*a)); });
  query->callback([a, &status] { status = finish(a->ctl, showLinks(a->ctl)); });
}

}  // namespace cumulus::cli
