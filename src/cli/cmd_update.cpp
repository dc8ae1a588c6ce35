// `cumulus update component ID NEW_REF [--host-id H]`: ctl component.update.{host}
// (PROTOCOL.md §1.4) swaps a running component's image. Without --host-id the host is found by
// ping + inventory and must be unique. The host acknowledges ("component X updating from A to
// B") and swaps in the background.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/ctl_client.h"
#include "cli/ctl_ops.h"

namespace cumulus::cli {
namespace {

struct UpdateArgs {
  CtlOptions ctl;
  std::string id;
  std::string new_ref;
  std::string host_id;
  std::vector<std::string> annotations;  // key=value
};

Expected<std::string> hostFor(CtlClient& client, const UpdateArgs& a) {
  if (!a.host_id.empty()) return a.host_id;
  CUMULUS_TRY(auto found, hostsRunning(client, WorkloadKind::kComponent, a.id));
  if (found.size() == 1) return found.front().host_id;
  if (found.empty()) {
    return makeError(ErrorCode::kNotFound,
                     "no host in lattice '{}' runs component {} (cumulus start component REF {} "
                     "starts it)",
                     a.ctl.lattice.lattice, a.id, a.id);
  }
  std::string hosts;
  for (const auto& p : found) hosts += fmt::format("{}{}", hosts.empty() ? "" : ", ", p.host_id);
  return makeError(ErrorCode::kInvalidArgument,
                   "component {} runs on {} hosts ({}): pick one with --host-id", a.id,
                   found.size(), hosts);
}

Expected<void> updateComponent(const UpdateArgs& a) {
  CUMULUS_TRY(auto annotations, parseKeyValues(a.annotations, "annotation"));
  CUMULUS_TRY(auto client, CtlClient::connect(a.ctl));
  CUMULUS_TRY(auto host, hostFor(*client, a));
  nlohmann::json body = {
      {"component_id", a.id}, {"new_component_ref", a.new_ref}, {"host_id", host}};
  if (!annotations.empty()) body["annotations"] = annotations;
  CUMULUS_TRY(auto reply, client->request(client->subject("component", "update", host), body,
                                          client->hostHint(host)));
  std::string message = field(reply, "message");
  if (a.ctl.json()) {
    printJson({{"success", true},
               {"host_id", host},
               {"component_id", a.id},
               {"new_component_ref", a.new_ref},
               {"message", message}});
    return {};
  }
  fmt::print(
      "host {}: {}\n", host,
      message.empty() ? fmt::format("updating component {} to {}", a.id, a.new_ref) : message);
  return {};
}

}  // namespace

void addUpdateCommand(CLI::App& app, int& status) {
  auto a = std::make_shared<UpdateArgs>();
  auto* update = app.add_subcommand("update", "update a running workload");
  update->require_subcommand(1);
  auto* component = update->add_subcommand("component", "run a new image for a running component");
  component->add_option("id", a->id, "the component's id")->required();
  component->add_option("new_ref", a->new_ref, "the new component reference")->required();
  component->add_option("--host-id", a->host_id,
                        "the host to update on (default: the one host running it)");
  component->add_option("-a,--annotations", a->annotations, "annotation key=value (repeatable)")
      ->allow_extra_args(false);
  addCtlOptions(component, a->ctl);
  component->callback([a, &status] { status = finish(a->ctl, updateComponent(*a)); });
}

}  // namespace cumulus::cli
