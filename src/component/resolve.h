// The resolver walks a decoded component in definition order, building every index space, checks
// that each index refers to an entity of the right sort and type, and yields the resolved types
// of the component's imports and exports. Errors read like "invalid component: export 'run'
// refers to func 7, but only 3 funcs are defined".
#pragma once

#include <span>

#include "base/error.h"
#include "component/ast.h"
#include "component/types.h"

namespace cumulus::component {

// The final index spaces of one component body (definition order), for the instantiation plan.
struct ScopeSpaces {
  std::vector<CTypePtr> types, funcs, values, instances, components;
  std::vector<std::pair<std::string, ExternItem>> imports;  // in definition order
};

struct ComponentInfo {
  std::vector<std::pair<std::string, ExternItem>> imports, exports;
  std::map<const Component*, ScopeSpaces> spaces;  // root and every nested component body
  size_t core_modules = 0;  // in this component and nested ones
  size_t nested_components = 0;
};

// `bytes` are the component's bytes (core modules are parsed from them for their imports/exports).
// A resource type's identity: exports and imports that rename a resource make a named copy
// whose `resource` points back at the original.
const CType* resourceIdentity(const CType* t);

Expected<ComponentInfo> resolve(const Component& component, std::span<const uint8_t> bytes);

}  // namespace cumulus::component
