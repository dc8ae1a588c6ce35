// Names in the component model: the grammar of import/export names (Explainer.md "Import and
// Export Definitions": labels, interface names, semver), strong uniqueness, and semver
// compatibility for matching imports to what a host or component provides.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace cumulus::component {

std::string lowercase(std::string_view s);
bool isLabel(std::string_view s);          // label: kebab-case words or acronyms
bool isWords(std::string_view s);          // lowercase words joined by '-'
bool isSemver(std::string_view v);         // MAJOR.MINOR.PATCH[-pre][+build]
bool isInterfaceName(std::string_view s);  // ns:pkg/iface(/label)*(@semver)?
// Nested namespaces (`a:b:c/d`) and nested projections (`a:b/c/d`) are future syntax (🪺) that
// wasm-tools accepts only behind a feature flag, off by default. For an interface name, why it
// uses them (wasm-tools' words: "expected `/` after package name", "trailing characters found:
// `/d`"); empty when it does not.
std::string nestedNameProblem(std::string_view interface_name);
// The key under which names must be unique ("[method]a.a" and "a" collide).
std::string uniquenessKey(std::string_view name);

struct SemVer {
  uint64_t major = 0, minor = 0, patch = 0;
  std::string pre;
};
// Parses MAJOR.MINOR.PATCH[-pre][+build] (build metadata is dropped).
std::optional<SemVer> parseSemver(std::string_view v);
// "ns:pkg/iface@1.2.3" -> ("ns:pkg/iface", "1.2.3"); no '@': (name, "").
std::pair<std::string_view, std::string_view> splitVersion(std::string_view name);
// Whether an item at `provided` satisfies a request for `wanted` (both "name@semver" or
// unversioned): same name, same compatibility track (same major; for 0.x the same minor), and
// not older.
bool semverCompatible(std::string_view wanted, std::string_view provided);

}  // namespace cumulus::component
