// Resolved component-level types: what index spaces hold after decoding, with every type index
// replaced by the type it names. Built by the resolver (resolve.cpp), used by `cumulus inspect`,
// validation, and later the instantiation plan and canonical ABI.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "component/ast.h"
#include "engine/translate.h"

namespace cumulus::component {

struct CType;
using CTypePtr = std::shared_ptr<const CType>;

// An imported or exported item's type.
struct ExternItem {
  ExternType::Kind kind = ExternType::Kind::kFunc;
  CTypePtr type;  // func: function type; instance/component: their types; type: the type itself;
                  // value: the value type; core module: null (see module)
  std::shared_ptr<const engine::ModuleInfo> module;  // core module imports/exports when known
};

// Canonical ABI layout of a type (alignment, size, flat count), computed on first use by abi:: and
// kept with the type: the layout is asked for per value lifted or lowered, so recomputing it
// walked nested types on every call. Copies start empty (a copy is usually edited).
struct LayoutCache {
  mutable std::atomic<uint32_t> align{0};       // 0: not computed
  mutable std::atomic<uint32_t> size_plus1{0};  // size + 1; 0: not computed
  mutable std::atomic<uint32_t> flat_plus1{0};  // flat count + 1 (saturated); 0: not computed
  LayoutCache() = default;
  LayoutCache(const LayoutCache&) {}
  LayoutCache& operator=(const LayoutCache&) {
    align = 0;
    size_plus1 = 0;
    flat_plus1 = 0;
    return *this;
  }
};

struct CType {
  enum class Kind : uint8_t {
    kPrim,
    kRecord,
    kVariant,
    kList,
    kFixedList,
    kTuple,
    kFlags,
    kEnum,
    kOption,
    kResult,
    kOwn,
    kBorrow,
    kStream,
    kFuture,
    kMap,
    kFunc,
    kComponent,
    kInstance,
    kResource,
  };
  Kind kind = Kind::kPrim;
  Prim prim = Prim::kBool;
  std::vector<std::pair<std::string, CTypePtr>> fields;  // record fields, variant cases, params
  std::vector<CTypePtr> elems;      // list/option/tuple/map; result: {ok, err} (null = none)
  std::vector<std::string> labels;  // flags, enum
  CTypePtr result;                  // func
  bool async = false;               // func
  uint32_t length = 0;              // fixed list
  CTypePtr resource;                // own/borrow: the resource type
  std::vector<std::pair<std::string, ExternItem>> imports, exports;  // component / instance
  std::string name;  // resources: the name they were imported/exported under
  LayoutCache layout;
};

// The shared type of a primitive (one object per Prim).
CTypePtr primType(Prim p);

// Renders a value or function type in WIT syntax ("list<u8>", "func(a: u32) -> string"). Named
// types print as their name, except at the top when `expand` is set (a type's definition).
std::string toWit(const CTypePtr& type, bool expand = false);

// The component-level sort of a core extern kind (core func, table, memory, global, tag).
Sort coreSortOf(engine::ExternKind k);

}  // namespace cumulus::component
