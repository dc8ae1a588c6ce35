// `cumulus stop component ID | provider ID | host HOST_ID`. A component is stopped by scaling
// it to `count` 0 (waiting for component_scaled with max_instances 0); a provider with
// provider.stop.{host} (waiting for provider_stopped); a host with host.stop.{host} (an
// acknowledgement only: the host then shuts down). Without --host-id, components and
// providers are stopped on every host whose inventory lists them (found by ping + inventory).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/ctl_client.h"
#include "cli/ctl_ops.h"

namespace cumulus::cli {
namespace {

struct StopArgs {
  CtlOptions ctl;
  std::string id;
  std::string host_id;
  bool skip_wait = false;
  uint64_t wait_timeout_ms = 10000;
  uint64_t host_timeout_ms = 0;
  bool host_timeout_set = false;  // --host-timeout given
};

// --host-id, or every host running `id`; an error when none does.
Expected<std::vector<Placement>> targets(CtlClient& client, WorkloadKind kind, const StopArgs& a) {
  if (!a.host_id.empty()) return std::vector<Placement>{Placement{a.host_id, nullptr}};
  CUMULUS_TRY(auto found, hostsRunning(client, kind, a.id));
  if (found.empty()) {
    const char* noun = kind == WorkloadKind::kComponent ? "component" : "provider";
    return makeError(ErrorCode::kNotFound,
                     "no host in lattice '{}' runs {} {} (cumulus get inventory HOST_ID shows "
                     "what a host runs)",
                     a.ctl.lattice.lattice, noun, a.id);
  }
  return found;
}

Expected<void> stopComponent(const StopArgs& a) {
  CUMULUS_TRY(auto client, CtlClient::connect(a.ctl));
  CUMULUS_TRY(auto hosts, targets(*client, WorkloadKind::kComponent, a));
  nlohmann::json results = nlohmann::json::array();
  for (const auto& p : hosts) {
    ScaleArgs scale;
    scale.host_id = p.host_id;
    scale.component_ref = field(p.description, "image_ref");
    scale.component_id = a.id;
    scale.count = 0;
    scale.skip_wait = a.skip_wait;
    scale.wait_timeout_ms = a.wait_timeout_ms;
    CUMULUS_TRY(auto result, scaleComponent(*client, scale));
    if (!a.ctl.json()) printScaled(a.ctl, result);
    results.push_back(std::move(result));
  }
  if (a.ctl.json()) printJson({{"success", true}, {"stopped", results}});
  return {};
}

Expected<void> stopProvider(const StopArgs& a) {
  CUMULUS_TRY(auto client, CtlClient::connect(a.ctl));
  CUMULUS_TRY(auto hosts, targets(*client, WorkloadKind::kProvider, a));
  nlohmann::json results = nlohmann::json::array();
  for (const auto& p : hosts) {
    nlohmann::json body = {{"host_id", p.host_id}, {"provider_id", a.id}};
    std::optional<EventWait> wait;
    if (!a.skip_wait) {
      wait = EventWait{{"provider_stopped"},
                       {},
                       "provider_id",
                       a.id,
                       p.host_id,
                       std::chrono::milliseconds(a.wait_timeout_ms),
                       fmt::format("stopping provider {}", a.id)};
    }
    CUMULUS_TRY(auto result, requestAndWait(*client, client->subject("provider", "stop", p.host_id),
                                            body, client->hostHint(p.host_id), wait));
    nlohmann::json out = {{"success", true},
                          {"host_id", p.host_id},
                          {"provider_id", a.id},
                          {"message", field(result.ack, "message")}};
    if (result.outcome) out["event"] = result.outcome->event;
    results.push_back(std::move(out));
    if (a.ctl.json()) continue;
    if (result.outcome) {
      fmt::print("provider {} stopped on host {}\n", a.id, p.host_id);
    } else {
      fmt::print("host {} acknowledged stopping provider {} (not waiting for the outcome)\n",
                 p.host_id, a.id);
    }
  }
  if (a.ctl.json()) printJson({{"success", true}, {"stopped", results}});
  return {};
}

Expected<void> stopHost(const StopArgs& a) {
  nlohmann::json body = {{"host_id", a.id}};
  if (a.host_timeout_set) body["timeout"] = a.host_timeout_ms;
  CUMULUS_TRY(auto client, CtlClient::connect(a.ctl));
  CUMULUS_TRY(auto reply,
              client->request(client->subject("host", "stop", a.id), body, client->hostHint(a.id)));
  std::string message = field(reply, "message");
  if (a.ctl.json()) {
    printJson({{"success", true}, {"host_id", a.id}, {"message", message}});
    return {};
  }
  fmt::print("host {} is stopping{}\n", a.id, message.empty() ? "" : fmt::format(" ({})", message));
  return {};
}

void addWaitOptions(CLI::App* cmd, StopArgs& a, const char* event) {
  cmd->add_option("--host-id", a.host_id, "only this host (default: every host running it)");
  cmd->add_flag("--skip-wait", a.skip_wait,
                "return after the host's acknowledgement, without waiting for the outcome");
  cmd->add_option("--wait-timeout-ms", a.wait_timeout_ms,
                  fmt::format("how long to wait for the {} event (default 10000)", event));
}

}  // namespace

void addStopCommand(CLI::App& app, int& status) {
  auto a = std::make_shared<StopArgs>();
  auto* stop = app.add_subcommand("stop", "stop a component, provider or host");
  stop->require_subcommand(1);
  auto* component = stop->add_subcommand("component", "stop a component (scale it to 0)");
  component->add_option("id", a->id, "the component's id")->required();
  addWaitOptions(component, *a, "component_scaled");
  auto* provider = stop->add_subcommand("provider", "stop a capability provider");
  provider->add_option("id", a->id, "the provider's id")->required();
  addWaitOptions(provider, *a, "provider_stopped");
  auto* host = stop->add_subcommand("host", "ask a host to shut down");
  host->add_option("host_id", a->id, "the host's id (N…; cumulus get hosts)")->required();
  auto* host_timeout = host->add_option("--host-timeout", a->host_timeout_ms,
                                        "graceful-shutdown deadline for the host, in ms");
  for (auto* cmd : {component, provider, host}) addCtlOptions(cmd, a->ctl);

  component->callback([a, &status] { status = finish(a->ctl, stopComponent(*a)); });
  provider->callback([a, &status] { status = finish(a->ctl, stopProvider(*a)); });
  host->callback([a, host_timeout, &status] {
    a->host_timeout_set = host_timeout->count() > 0;
    status = finish(a->ctl, stopHost(*a));
  });
}

}  // namespace cumulus::cli
