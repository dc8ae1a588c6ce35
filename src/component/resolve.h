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

struct ComponentInfo {
  std::vector<std::pair<std::string, ExternItem>> imports, exports;
  size_t core_modules = 0;  // in this component and nested ones
  size_t nested_components = 0;
};

// `bytes` are the component's bytes (core modules are parsed from them for their imports/exports).
Expected<ComponentInfo> resolve(const Component& component, std::span<const uint8_t> bytes);

}  // namespace cumulus::component
