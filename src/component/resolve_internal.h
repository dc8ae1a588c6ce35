// Internals the resolver's files share (resolve.cpp: index spaces and validation; subtype.cpp:
// type substitution and subtyping on instantiation; core_interface.cpp: core module interfaces).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "component/types.h"
#include "engine/translate.h"

namespace cumulus::component::resolver {

using K = CType::Kind;
using EK = ExternType::Kind;

struct CoreModuleTypes;  // below

// Validation errors unwind the resolver as this exception; resolve() turns it into an Error.
struct Invalid {
  std::string message;
};
[[noreturn]] inline void invalid(std::string message) { throw Invalid{std::move(message)}; }

// Resource provenance for validation. Resource types are generative: every `(resource ...)`
// definition, `(sub resource)` import or export and every instantiation of a component that
// defines resources makes new ones. Each resource gets a creation serial; a component (type)
// remembers the serials created while it was defined, so instantiating it can tell the resources
// it defines (fresh per instance) from those it imports (replaced by the arguments') or borrows
// from an enclosing scope (unchanged).
//
// A fresh per-instance resource keeps `resource` pointing at the definition it copies, so the
// runtime's resourceIdentity still finds the definition; validation uses validationId, which stops
// at fresh copies.
struct Ctx {
  uint64_t next = 0;
  std::map<const CType*, uint64_t> serial;  // validation identity -> creation serial
  std::set<const CType*> fresh;             // per-instance copies (identities of their own)
  std::map<const CType*, std::pair<uint64_t, uint64_t>> defined;  // component type -> serials
  std::vector<CTypePtr> keep;  // keeps keyed pointers alive, so addresses are never reused
  // Core module types travel through component-level items as engine::ModuleInfo (ExternItem's
  // `module`); their typed interface is kept here, keyed by that pointer (kept alive by the value).
  std::map<const engine::ModuleInfo*, std::shared_ptr<const CoreModuleTypes>> module_types;
  std::vector<std::shared_ptr<const engine::ModuleInfo>> keep_modules;
};

inline const CType* validationId(const Ctx& c, const CType* t) {
  while (t && t->kind == K::kResource && t->resource && !c.fresh.count(t)) t = t->resource.get();
  return t;
}

inline CTypePtr newResource(Ctx& c, std::string name = {}, CTypePtr copy_of = nullptr) {
  auto r = std::make_shared<CType>();
  r->kind = K::kResource;
  r->name = std::move(name);
  r->resource = std::move(copy_of);
  if (r->resource) c.fresh.insert(r.get());
  c.serial[r.get()] = c.next++;
  c.keep.push_back(r);
  return r;
}

inline bool isValueType(const CType& t) {
  return t.kind != K::kFunc && t.kind != K::kComponent && t.kind != K::kInstance &&
         t.kind != K::kResource;
}

// "func", "instance", …: the kind of an extern item, for messages.
const char* externKindName(EK k);

// Resource validation identity -> replacement resource; imported (eq) type -> argument type.
using Subst = std::map<const CType*, CTypePtr>;
CTypePtr substitute(const Ctx& c, const CTypePtr& t, const Subst& sub,
                    std::map<const CType*, CTypePtr>& memo, int depth = 0);
// The instance type a component type `ct` yields when instantiated with `args` (each checked to
// be a subtype of the import it fills; resources the component defines are made fresh).
CTypePtr instantiate(Ctx& c, const CTypePtr& ct, const std::map<std::string, ExternItem>& args);

// Each import or export of an instance type gets its own copies of the resources it declares.
CTypePtr freshInstance(Ctx& c, const CTypePtr& t);
// An export's item as its ascribed type `declared` (checked: `actual` must be a subtype; resources
// created in `bindable` serials are bound to the actual ones).
ExternItem ascribe(Ctx& c, const ExternItem& actual, const ExternItem& declared,
                   std::pair<uint64_t, uint64_t> bindable);

// ---- core types (core_interface.cpp) ----
// A core item's type as the resolver follows it: enough for core instantiation arguments
// (wasm-tools' core "entity" subtyping) and the core signatures of canonical functions. Only the
// value types of Wasm 2.0 are modelled; an item whose type mentions anything else (typed
// references, tags, types the resolver cannot read) is not `known` and matches any item of its
// kind, so a core feature the resolver does not model never makes a valid component invalid (the
// engine validates the module itself when it compiles it).
struct CoreExtern {
  engine::ExternKind kind = engine::ExternKind::kFunc;
  bool known = false;
  engine::FuncType func;                        // func
  engine::ValType val = engine::ValType::kI32;  // global content type; table element type
  bool mut = false;                             // global
  engine::Limits limits;                        // table, memory
  bool shared = false, is64 = false;            // table, memory
  uint32_t page_log2 = 16;                      // memory (custom-page-sizes)
};
CoreExtern knownFunc(engine::FuncType f);
CoreExtern unknownOf(engine::ExternKind kind);

// The types of a core module's imports and exports, in the order of its engine::ModuleInfo.
struct CoreModuleTypes {
  std::vector<CoreExtern> imports, exports;
};

// "(func (param i32) (result i32))", as wasm-tools prints core function types.
std::string coreFuncString(const engine::FuncType& f);
// Core subtyping of an instantiation argument's item `actual` against the import `expected`
// (wasm-tools' messages: "expected global type i32, found i64", "mismatch in table limits", …).
void checkCoreMatch(const CoreExtern& actual, const CoreExtern& expected);

// A core function type written in a component (`core type`); nullopt when it uses value types
// the resolver does not model.
std::optional<engine::FuncType> coreFuncTypeOf(const CoreFuncType& f);
// The type of a core import/export declaration in a module type; `types` are the module type's
// function types so far (nullopt: not modelled).
CoreExtern coreExternOf(const CoreImportDesc& d,
                        const std::vector<std::optional<engine::FuncType>>& types);

struct CoreModule {
  std::shared_ptr<const engine::ModuleInfo> info;
  std::shared_ptr<const CoreModuleTypes> types;
};
// Reads only a core module's interface: the type, import, function, table, memory, tag, global
// and export sections (not code or data).
CoreModule coreModuleInterface(std::span<const uint8_t> b);

}  // namespace cumulus::component::resolver
