// The instantiation plan's data (see runtime.cpp for the design): what plan.cpp builds from a
// component once and runtime.cpp replays per instance. Internal to the component runtime.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "component/abi.h"
#include "component/runtime.h"

namespace cumulus::component {

namespace plan {

using K = CType::Kind;
using EK = ExternType::Kind;

struct PlanError {
  std::string message;
  ErrorCode code = ErrorCode::kLinkError;  // an invalid core module keeps the engine's code
};
[[noreturn]] inline void fail(std::string message) { throw PlanError{std::move(message)}; }

}  // namespace plan

struct CoreRef {
  enum class Kind : uint8_t { kExport, kLowered, kBuiltin };
  Kind kind = Kind::kExport;
  uint32_t index = 0;         // core instance slot, lowered or builtin index
  uint32_t export_index = 0;  // kExport
};

struct ResRef {
  const ResourceType* host = nullptr;
  int32_t local = -1;
};

struct StaticInstance {
  int32_t parent = -1;  // lexical parent
  std::unordered_map<const CType*, ResRef> resources;
};

struct OptsRt {
  std::optional<CoreRef> memory, realloc, post_return;
  CanonOpts::Encoding encoding = CanonOpts::Encoding::kUtf8;
};

struct FuncVal {
  bool host = false;
  uint32_t index = 0;  // host func or lift index
  CTypePtr type;
};

struct LiftDef {
  CoreRef func;
  CTypePtr type;
  OptsRt opts;
  uint32_t static_instance = 0;
  abi::FlatSig sig;
  CTypePtr params;  // tuple of the params (for spilling)
};

struct LowerDef {
  FuncVal callee;
  CTypePtr type;
  OptsRt opts;
  uint32_t static_instance = 0;
  uint32_t type_static = 0;  // resolves `type`'s resources (see Item::type_static)
  abi::FlatSig sig;
  CTypePtr params;
  std::string name;
};

struct BuiltinDef {
  Canon::Kind kind = Canon::Kind::kResourceNew;
  ResRef resource;
  uint32_t static_instance = 0;
};

struct HostFuncDef {
  const HostFn* fn = nullptr;
  std::string name;
};

struct LocalResourceDef {
  uint32_t static_instance = 0;
  std::optional<CoreRef> dtor;
};

struct CoreStep {
  uint32_t module = 0;
  std::vector<CoreRef> imports;
  uint32_t static_instance = 0;  // the body creating it (entered while its start function runs)
};

struct InstanceVal;
struct PScope;

struct Item {
  ExternType::Kind kind = ExternType::Kind::kFunc;
  FuncVal func;
  std::shared_ptr<InstanceVal> instance;
  CTypePtr type;
  std::optional<ResRef> res;  // resource types
  const Component* component = nullptr;
  PScope* closure = nullptr;
  uint32_t module = 0;
  // Funcs: the static instance whose resource bindings give `type`'s resources their meaning
  // (the lifting body, or the importing body for an import bound to an argument). One body
  // instantiated twice has one set of types but two sets of resources.
  uint32_t type_static = 0;
};

struct InstanceVal {
  std::map<std::string, Item, std::less<>> items;
};

struct PlanData {
  engine::Engine* engine = nullptr;
  std::unique_ptr<const Component> ast;  // its address keys info.spaces
  ComponentInfo info;
  std::vector<std::shared_ptr<engine::Module>> modules;
  std::vector<CoreStep> steps;
  std::vector<LiftDef> lifts;
  std::vector<LowerDef> lowers;
  std::vector<BuiltinDef> builtins;
  std::vector<HostFuncDef> host_funcs;
  std::vector<LocalResourceDef> local_resources;
  std::vector<StaticInstance> statics;
  std::map<std::string, Item, std::less<>> exports;
  // The core host functions of canon lower and the resource built-ins, made once per plan and
  // shared by its instances (they find their ComponentInstance through the calling core
  // instance's user data). Built by ComponentPlan::create (runtime.cpp: makeCoreHostFuncs).
  std::vector<engine::Extern> lowered, builtin_funcs;
};

// Fills PlanData::lowered and builtin_funcs.
void makeCoreHostFuncs(PlanData& p);

}  // namespace cumulus::component
