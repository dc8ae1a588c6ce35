// Internals the resolver's files share (resolve.cpp: index spaces and validation; subtype.cpp:
// type substitution and subtyping on instantiation; core_interface.cpp: core module interfaces).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
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

// Reads only a core module's import and export sections.
std::shared_ptr<const engine::ModuleInfo> coreModuleInterface(std::span<const uint8_t> b);

}  // namespace cumulus::component::resolver
