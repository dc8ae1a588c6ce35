// The wasmCloud 1.x control-interface protocol (PROTOCOL.md §1, §2): subject builders and
// parsing, the CtlResponse envelope, the wire types hosts report (Host, HostInventory) and
// CloudEvents for lattice events. Shared by the host, the CLI and (later) the manager, so every
// subject and JSON key is spelled in exactly one place.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace cumulus::lattice {

inline constexpr std::string_view kDefaultCtlPrefix = "wasmbus.ctl";
inline constexpr std::string_view kDefaultLattice = "default";

// `{prefix}.v1.{lattice}`
std::string ctlBase(std::string_view prefix, std::string_view lattice);
// `{prefix}.v1.{lattice}.{noun}.{verb}[.{name}]`
std::string ctlSubject(std::string_view prefix, std::string_view lattice, std::string_view noun,
                       std::string_view verb, std::string_view name = {});
// `wasmbus.evt.{lattice}.{event_type}` (not affected by the ctl prefix).
std::string eventSubject(std::string_view lattice, std::string_view event_type);

struct CtlOperation {
  std::string noun;
  std::string verb;
  std::string name;  // third token (host id, config name, …); may be empty
};
// Strips `{prefix}.`, skips the version and lattice tokens and splits the rest, like the
// wasmCloud host does. nullopt when the subject does not start with the prefix.
std::optional<CtlOperation> parseCtlSubject(std::string_view subject, std::string_view prefix);

// True when `name` is usable as one NATS subject token (lattice names, ids).
bool isSubjectToken(std::string_view name);

// CtlResponse<T>: `response` is omitted when absent (acks).
nlohmann::json ctlOk(nlohmann::json response);
nlohmann::json ctlAck(std::string_view message = {});
nlohmann::json ctlError(std::string_view message);

// A component running on a host (ComponentDescription).
struct ComponentDescription {
  std::string id;
  std::string image_ref;
  std::optional<std::string> name;
  std::map<std::string, std::string> annotations;
  int32_t revision = 0;
  uint32_t max_instances = 0;
};

struct ProviderDescription {
  std::string id;
  std::optional<std::string> image_ref;
  std::optional<std::string> name;
  int32_t revision = 0;
  std::map<std::string, std::string> annotations;
};

// The ping answer (`Host`).
struct HostInfo {
  std::string id;
  std::string friendly_name;
  std::map<std::string, std::string> labels;
  std::string lattice;
  uint64_t uptime_seconds = 0;
  std::string version;
  std::string ctl_host;
  std::string rpc_host;
  std::optional<std::string> js_domain;
};

struct HostInventory {
  std::string host_id;
  std::string friendly_name;
  std::map<std::string, std::string> labels;
  std::string version;
  uint64_t uptime_seconds = 0;
  std::vector<ComponentDescription> components;
  std::vector<ProviderDescription> providers;
};

nlohmann::json toJson(const ComponentDescription& c);
nlohmann::json toJson(const ProviderDescription& p);
nlohmann::json toJson(const HostInfo& h);
nlohmann::json toJson(const HostInventory& inv);

// humantime's format, as wasmCloud prints `uptime_human`: "0s", "2m 21s", "1day 3h 5s".
std::string humanDuration(uint64_t seconds);

// A CloudEvents 1.0 structured event: type `com.wasmcloud.lattice.{event_type}`, a ULID-based
// UUID id, RFC 3339 UTC time, source = the emitting host's public key.
nlohmann::json cloudEvent(std::string_view event_type, std::string_view source,
                          nlohmann::json data);
// A UUID (text form) whose 128 bits are a fresh ULID: 48-bit millisecond time + 80 random bits.
std::string newEventId();
std::string rfc3339Utc(std::chrono::system_clock::time_point t);

}  // namespace cumulus::lattice
