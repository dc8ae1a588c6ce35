// `cumulus start component REF ID` and `cumulus start provider REF ID`: put a workload on a
// host. Without --host-id the host is chosen by an auction (component.auction /
// provider.auction, PROTOCOL.md §1.4): hosts whose labels match every --constraint and that do
// not run ID yet answer, and the first answer wins. A component is then scaled there
// (component.scale with `count` = --max-instances); a provider is started with
// provider.start.{host}. Both wait for the outcome event unless --skip-wait.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/ctl_client.h"
#include "cli/ctl_ops.h"

namespace cumulus::cli {
namespace {

struct StartArgs {
  CtlOptions ctl;
  std::string ref;
  std::string id;
  std::string host_id;
  uint32_t max_instances = 1;
  std::vector<std::string> constraints;  // key=value
  std::vector<std::string> annotations;  // key=value
  std::vector<std::string> config;
  bool skip_wait = false;
  uint64_t wait_timeout_ms = 0;  // set per subcommand
};

// The host to start on: --host-id, or the auction's winner.
Expected<std::string> chooseHost(CtlClient& client, WorkloadKind kind, const StartArgs& a) {
  if (!a.host_id.empty()) return a.host_id;
  CUMULUS_TRY(auto constraints, parseKeyValues(a.constraints, "constraint"));
  return auctionHost(client, kind, a.ref, a.id, constraints);
}

Expected<void> startComponent(const StartArgs& a) {
  ScaleArgs scale;
  scale.component_ref = a.ref;
  scale.component_id = a.id;
  scale.count = a.max_instances;
  scale.config = a.config;
  scale.skip_wait = a.skip_wait;
  scale.wait_timeout_ms = a.wait_timeout_ms;
  CUMULUS_TRY(scale.annotations, parseKeyValues(a.annotations, "annotation"));
  if (a.max_instances == 0) {
    return makeError(ErrorCode::kInvalidArgument,
                     "--max-instances 0 would stop the component: use cumulus stop component");
  }
  CUMULUS_TRY(auto client, CtlClient::connect(a.ctl));
  CUMULUS_TRY(scale.host_id, chooseHost(*client, WorkloadKind::kComponent, a));
  CUMULUS_TRY(auto result, scaleComponent(*client, scale));
  printScaled(a.ctl, result);
  return {};
}

Expected<void> startProvider(const StartArgs& a) {
  CUMULUS_TRY(auto annotations, parseKeyValues(a.annotations, "annotation"));
  CUMULUS_TRY(auto client, CtlClient::connect(a.ctl));
  CUMULUS_TRY(auto host, chooseHost(*client, WorkloadKind::kProvider, a));
  nlohmann::json body = {
      {"provider_id", a.id}, {"provider_ref", a.ref}, {"host_id", host}, {"config", a.config}};
  if (!annotations.empty()) body["annotations"] = annotations;
  std::optional<EventWait> wait;
  if (!a.skip_wait) {
    wait = EventWait{{"provider_started"},
                     {"provider_start_failed"},
                     "provider_id",
                     a.id,
                     host,
                     std::chrono::milliseconds(a.wait_timeout_ms),
                     fmt::format("starting provider {}", a.id)};
  }
  CUMULUS_TRY(auto result, requestAndWait(*client, client->subject("provider", "start", host), body,
                                          client->hostHint(host), wait));
  if (a.ctl.json()) {
    nlohmann::json out = {{"success", true},
                          {"host_id", host},
                          {"provider_id", a.id},
                          {"provider_ref", a.ref},
                          {"message", field(result.ack, "message")}};
    if (result.outcome) out["event"] = result.outcome->event;
    printJson(out);
  } else if (result.outcome) {
    fmt::print("provider {} ({}) started on host {}\n", a.id, a.ref, host);
  } else {
    fmt::print("host {} acknowledged starting provider {} (not waiting for the outcome)\n", host,
               a.id);
  }
  return {};
}

void addCommon(CLI::App* cmd, StartArgs& a, uint64_t wait_default) {
  a.wait_timeout_ms = wait_default;
  cmd->add_option("ref", a.ref,
                  "reference (OCI ref, file path, or wasmcloud+builtin:// for providers)")
      ->required();
  cmd->add_option("id", a.id, "the id to run it under")->required();
  cmd->add_option("--host-id", a.host_id, "start on this host instead of holding an auction");
  cmd->add_option("--constraint", a.constraints,
                  "auction constraint label=value; only hosts with that label answer (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("-a,--annotations", a.annotations, "annotation key=value (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--config", a.config, "named config to deliver (repeatable)")
      ->allow_extra_args(false);
  cmd->add_flag("--skip-wait", a.skip_wait,
                "return after the host's acknowledgement, without waiting for the outcome");
  cmd->add_option("--wait-timeout-ms", a.wait_timeout_ms,
                  fmt::format("how long to wait for the outcome event (default {})", wait_default));
  addCtlOptions(cmd, a.ctl);
}

}  // namespace

void addStartCommand(CLI::App& app, int& status) {
  // Separate argument sets: each subcommand has its own wait default.
  auto c = std::make_shared<StartArgs>();
  auto p = std::make_shared<StartArgs>();
  auto* start = app.add_subcommand("start", "start a component or provider in the lattice");
  start->require_subcommand(1);
  auto* component =
      start->add_subcommand("component", "start a component (auction unless --host-id)");
  addCommon(component, *c, 10000);
  component->add_option("-c,--max-instances", c->max_instances,
                        "max concurrent instances (default 1)");
  auto* provider =
      start->add_subcommand("provider", "start a capability provider (auction unless --host-id)");
  addCommon(provider, *p, 30000);

  component->callback([c, &status] { status = finish(c->ctl, startComponent(*c)); });
  provider->callback([p, &status] { status = finish(p->ctl, startProvider(*p)); });
}

}  // namespace cumulus::cli
