// Resolved component-level types: what index spaces hold after decoding, with every type index
// replaced by the type it names. Built by the resolver (resolve.cpp), used by `cumulus inspect`,
// validation, and later the instantiation plan and canonical ABI.
#pragma once

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
};

// Renders a value or function type in WIT syntax ("list<u8>", "func(a: u32) -> string"). Named
// types print as their name, except at the top when `expand` is set (a type's definition).
std::string toWit(const CTypePtr& type, bool expand = false);

// The component-level sort of a core extern kind (core func, table, memory, global, tag).
Sort coreSortOf(engine::ExternKind k);

}  // namespace cumulus::component
