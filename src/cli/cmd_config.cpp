// `cumulus config put NAME k=v… | get NAME | del NAME`: named configuration (PROTOCOL.md §1.4
// "Named configuration"). Components and providers receive it by name (`--config NAME` on
// scale/start, `--source-config`/`--target-config` on links). Names starting with SECRET are
// refused here, as wash does: `SECRET_*` entries are secret references.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/ctl_client.h"
#include "cli/ctl_ops.h"

namespace cumulus::cli {
namespace {

struct ConfigArgs {
  CtlOptions ctl;
  std::string name;
  std::vector<std::string> values;  // key=value
};

Expected<void> putConfig(const ConfigArgs& a) {
  CUMULUS_TRY_VOID(checkConfigName(a.name, false));
  CUMULUS_TRY(auto values, parseKeyValues(a.values, "config value"));
  nlohmann::json body = values;  // the wire body is the flat string map itself
  CUMULUS_TRY(auto client, CtlClient::connect(a.ctl));
  CUMULUS_TRY(auto reply, client->request(client->subject("config", "put", a.name), body,
                                          client->latticeHint()));
  if (a.ctl.json()) {
    printJson({{"success", true},
               {"message", field(reply, "message")},
               {"name", a.name},
               {"config", body}});
    return {};
  }
  fmt::print("config {} set ({} key{})\n", a.name, values.size(), values.size() == 1 ? "" : "s");
  return {};
}

Expected<void> deleteConfig(const ConfigArgs& a) {
  CUMULUS_TRY_VOID(checkConfigName(a.name, true));
  CUMULUS_TRY(auto client, CtlClient::connect(a.ctl));
  CUMULUS_TRY(auto reply, client->request(client->subject("config", "del", a.name), nullptr,
                                          client->latticeHint()));
  if (a.ctl.json()) {
    printJson({{"success", true}, {"message", field(reply, "message")}, {"name", a.name}});
    return {};
  }
  fmt::print("config {} deleted\n", a.name);
  return {};
}

}  // namespace

void addConfigCommand(CLI::App& app, int& status) {
  auto a = std::make_shared<ConfigArgs>();
  auto* config = app.add_subcommand("config", "manage named configuration");
  config->require_subcommand(1);
  auto* put = config->add_subcommand("put", "create or replace config NAME with key=value pairs");
  put->add_option("name", a->name, "the config's name")->required();
  put->add_option("values", a->values, "key=value (one or more)")->required();
  auto* get = config->add_subcommand("get", "show config NAME (= get config NAME)");
  get->add_option("name", a->name, "the config's name")->required();
  auto* del = config->add_subcommand("del", "delete config NAME");
  del->add_option("name", a->name, "the config's name")->required();
  for (auto* cmd : {put, get, del}) addCtlOptions(cmd, a->ctl);

  put->callback([a, &status] { status = finish(a->ctl, putConfig(*a)); });
  get->callback([a, &status] { status = finish(a->ctl, showConfig(a->ctl, a->name)); });
  del->callback([a, &status] { status = finish(a->ctl, deleteConfig(*a)); });
}

}  // namespace cumulus::cli
