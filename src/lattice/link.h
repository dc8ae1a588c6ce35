// Link definitions and component specifications as wasmCloud 1.x stores and sends them
// (PROTOCOL.md §4.1, §3.1): the ctl `Link` JSON and the `COMPONENT_{id}` value of
// LATTICEDATA_{lattice} (`{"url": ..., "links": [Link, ...]}`), plus the link.put uniqueness rule
// (§4.2) as a pure function so the host, tests and tools share one definition.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace cumulus::lattice {

struct Link {
  std::string source_id;  // the importer (caller)
  std::string target;     // the exporter (callee)
  std::string name = "default";
  std::string wit_namespace;
  std::string wit_package;
  std::vector<std::string> interfaces;
  std::vector<std::string> source_config;
  std::vector<std::string> target_config;

  // "ns:pkg/iface" for each interface (no version).
  std::vector<std::string> qualifiedInterfaces() const;
};

nlohmann::json toJson(const Link& link);
// Validates types and required fields (source_id, target, wit_namespace, wit_package: non-empty
// strings; lists of strings); `name` defaults to "default".
Expected<Link> linkFromJson(const nlohmann::json& j);

struct ComponentSpec {
  std::string url;
  std::vector<Link> links;  // links whose source is this id
};

nlohmann::json toJson(const ComponentSpec& spec);
Expected<ComponentSpec> componentSpecFromJson(const nlohmann::json& j);

// link.put into `spec` (the source's spec): rejects a link with the same (namespace, package,
// name) and an overlapping interface set but a different target; replaces one with the same
// (target, namespace, package, name); appends otherwise.
Expected<void> putLink(ComponentSpec& spec, Link link);
// link.del: removes the first link with this (namespace, package, name); returns it, if any.
std::optional<Link> deleteLink(ComponentSpec& spec, std::string_view wit_namespace,
                               std::string_view wit_package, std::string_view name);

}  // namespace cumulus::lattice
