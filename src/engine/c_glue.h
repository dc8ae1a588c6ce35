// The Cumulus glue appended to wasm2c's output, C names as wasm2c 1.0.32 forms them, and the
// shims that let tcc compile that output. Internal to the engine (translate.cpp, the tiers).
#pragma once

#include <string>
#include <string_view>

#include "engine/translate.h"

namespace cumulus::engine {

// wasm2c's module name for the translated module (the skeleton's, when split into units).
inline constexpr std::string_view kSelfName = "cumulus_self";

// Import thunks over per-instance slot tables, the export invoker and the entry points of
// GlueEntryPoints. `function_units`: how many function units the module was split into (0: one
// unit; their init functions are called and the instance is passed as the units' import module).
std::string glue(const ModuleInfo& info, const wabt::Module& m, size_t function_units);

}  // namespace cumulus::engine
