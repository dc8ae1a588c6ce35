// Control-interface operations that several subcommands share, built on ctl_client.h:
// auctions (`start` without --host-id), finding the hosts that run a workload (`stop`,
// `update` without --host-id), scaling with the wait for its event (`scale`, `start
// component`, `stop component`) and the link / named-config queries (`get links` = `link
// query`, `get config` = `config get`). Each prints its outcome as a table or line, or as one
// JSON document with -o json.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/ctl_client.h"

namespace cumulus::cli {

enum class WorkloadKind { kComponent, kProvider };

// Runs a component or provider auction (PROTOCOL.md §1.4: hosts whose labels match every
// constraint and that do not run `id` yet answer) and returns the first acking host's id.
// Error: no host answered within the client's timeout, with advice.
Expected<std::string> auctionHost(CtlClient& client, WorkloadKind kind, const std::string& ref,
                                  const std::string& id,
                                  const std::map<std::string, std::string>& constraints);

// A host that runs a workload, with the workload's inventory entry
// (ComponentDescription / ProviderDescription).
struct Placement {
  std::string host_id;
  nlohmann::json description;
};

// Pings the lattice (collecting answers for the client's timeout), asks every host for its
// inventory and returns the hosts whose inventory lists `id`. Hosts that do not answer the
// inventory request are skipped with a warning on stderr.
Expected<std::vector<Placement>> hostsRunning(CtlClient& client, WorkloadKind kind,
                                              const std::string& id);

inline constexpr uint32_t kUnboundedInstances = 4294967295u;  // wash's "unbounded" u32::MAX

struct ScaleArgs {
  std::string host_id;
  std::string component_ref;
  std::string component_id;
  uint32_t count = kUnboundedInstances;  // sent as `count`; 0 stops the component
  std::map<std::string, std::string> annotations;
  std::vector<std::string> config;
  bool skip_wait = false;
  uint64_t wait_timeout_ms = 10000;
};

// Sends ctl component.scale.{host} and, unless skip_wait, waits for that host's
// component_scaled (success) or component_scale_failed (error with the event's `error`) for the
// component. Returns `{success, host_id, component_id, component_ref, max_instances, message
// (the ack's), event (the outcome CloudEvent, absent with skip_wait)}`, printed as is with
// -o json or as a line of text by printScaled.
Expected<nlohmann::json> scaleComponent(CtlClient& client, const ScaleArgs& args);
// A scaleComponent result: the JSON document with -o json, else a line of text ("component
// hello (ref) scaled to max 4 instances on host N…").
void printScaled(const CtlOptions& options, const nlohmann::json& result);

// A Link's interfaces as "wasi:keyvalue/store" or "wasi:keyvalue/{store,atomics}".
std::string linkInterfaces(const nlohmann::json& link);
// Prints every link of the lattice (ctl link.get).
Expected<void> showLinks(const CtlOptions& options);
// Prints named configuration `name` (ctl config.get.{name}); a missing config is reported but
// is not an error, as in the protocol.
Expected<void> showConfig(const CtlOptions& options, const std::string& name);

// Checks a config name (one subject token; `SECRET_…` names are secret references and are
// rejected here unless `allow_secret`), naming the fix in the error.
Expected<void> checkConfigName(const std::string& name, bool allow_secret);

}  // namespace cumulus::cli
