// The resolver (see resolve.h): index spaces per scope, built in definition order.
#include "component/resolve.h"

#include <cstring>
#include <set>

#include <fmt/format.h>

#include "base/binary.h"
#include "component/abi.h"
#include "component/names.h"
#include "component/resolve_internal.h"
#include "engine/translate.h"

namespace cumulus::component {

namespace {

using namespace resolver;

struct CoreInstanceInfo {
  std::map<std::string, CoreExtern> exports;
};

struct Scope {
  Scope* parent = nullptr;
  Ctx* ctx = nullptr;
  bool component = false;                  // a component definition (not a component/instance type)
  std::set<const CType*> local_resources;  // resources defined (not imported) in this component
  std::vector<CTypePtr> types, funcs, values, instances, components;
  std::set<const CType*> named;  // types named by this component's imports and exports
  std::vector<std::shared_ptr<const engine::ModuleInfo>> core_modules;
  std::vector<CoreInstanceInfo> core_instances;
  std::vector<std::shared_ptr<CoreType>> core_types;
  // Core index spaces, with the type of each item as far as it is known.
  std::vector<CoreExtern> core_funcs, core_tables, core_memories, core_globals, core_tags;
};

template <typename T>
const T& at(const std::vector<T>& v, uint32_t i, const char* what) {
  if (i >= v.size())
    invalid(fmt::format("{} index {} out of bounds ({} defined)", what, i, v.size()));
  return v[i];
}

void checkCount(size_t n, uint32_t i, const char* what) {
  if (i >= n) invalid(fmt::format("{} index {} out of bounds ({} defined)", what, i, n));
}

CTypePtr valType(Scope& s, const ValType& v) {
  if (v.is_prim) return primType(v.prim);
  const CTypePtr& t = at(s.types, v.index, "type");
  if (!isValueType(*t)) invalid(fmt::format("type {} is not a value type", v.index));
  return t;
}

void checkExternName(const std::string& name, const char* what) {
  std::string_view s = name;
  auto bad = [&](const char* why) { invalid(fmt::format("{} name `{}` {}", what, name, why)); };
  if (s.find(':') != std::string_view::npos) {
    if (!isInterfaceName(s)) bad("is not a valid extern name");
    if (std::string why = nestedNameProblem(s); !why.empty())
      invalid(fmt::format("{} name `{}` is not a valid extern name: {}", what, name, why));
    return;
  }
  auto dotted = [&](std::string_view body) {
    size_t dot = body.find('.');
    if (dot == std::string_view::npos) bad("failed to find `.` character");
    if (!isLabel(body.substr(0, dot)) || !isLabel(body.substr(dot + 1)))
      bad("is not in kebab case");
  };
  if (s.starts_with("[constructor]")) {
    if (!isLabel(s.substr(13))) bad("is not in kebab case");
  } else if (s.starts_with("[method]")) {
    dotted(s.substr(8));
  } else if (s.starts_with("[static]")) {
    dotted(s.substr(8));
  } else if (s.starts_with("[async]") || s.starts_with("[async method]") ||
             s.starts_with("[async static]")) {
    // async annotations: decoded for diagnostics only
  } else if (!isLabel(s)) {
    bad("is not in kebab case");
  }
}

// Name attributes: `implements` (kind 0) only on instance imports/exports with a plain name, and
// its value must be an interface name.
void checkAttributes(const ExternName& n, EK kind) {
  for (const auto& [k, value] : n.attributes) {
    if (k != 0) continue;
    if (kind != EK::kInstance) invalid("only instances can have an `implements` attribute");
    if (n.name.find(':') != std::string::npos)
      invalid(fmt::format("name `{}` is not valid with `implements`", n.name));
    if (!isInterfaceName(value))
      invalid(fmt::format("`implements` value `{}` must be an interface name", value));
    if (std::string why = nestedNameProblem(value); !why.empty())
      invalid(fmt::format("`{}` is not a valid name: {}", value, why));
  }
}

// [constructor]R, [method]R.f and [static]R.f must be functions over the resource named R in the
// same scope (Explainer.md "Import and Export Definitions").
void checkAnnotatedFunc(const std::string& name, const ExternItem& item,
                        const std::map<std::string, CTypePtr>& resources) {
  std::string_view s = name;
  std::string_view resource;
  int form = 0;
  if (s.starts_with("[constructor]")) {
    form = 1, resource = s.substr(13);
  } else if (s.starts_with("[method]")) {
    form = 2, resource = s.substr(8, s.find('.') - 8);
  } else if (s.starts_with("[static]")) {
    form = 3, resource = s.substr(8, s.find('.') - 8);
  } else {
    return;
  }
  if (item.kind != EK::kFunc) invalid(fmt::format("item `{}` is not a func", name));
  auto it = resources.find(std::string(resource));
  if (it == resources.end() && form == 3)
    invalid(fmt::format("static resource name is not known in this context (`{}`)", name));
  if (it == resources.end())
    invalid(fmt::format(
        "resource used in function does not have a name in this context (`{}` names no resource)",
        name));
  const CType& ft = *item.type;
  if (form == 1) {
    const CTypePtr& r = ft.result;
    bool ok = r && r->kind == K::kOwn && r->resource == it->second;
    if (r && r->kind == K::kResult && r->elems[0] && r->elems[0]->kind == K::kOwn &&
        r->elems[0]->resource == it->second)
      ok = true;
    if (!ok) invalid("function should return `(own $T)` or `(result (own $T))`");
  } else if (form == 2) {
    if (ft.fields.empty() || ft.fields[0].first != "self")
      invalid(fmt::format("method `{}` must have a first parameter named `self`", name));
    const CTypePtr& self = ft.fields[0].second;
    if (!self || self->kind != K::kBorrow) invalid("expected borrow, found own");
    if (self->resource != it->second)
      invalid(fmt::format("function does not match expected resource name `{}`", resource));
  }
}

void uniqueLabels(const std::vector<std::string>& labels, const char* what) {
  std::set<std::string> seen;
  for (const auto& l : labels) {
    if (!isLabel(l)) invalid(fmt::format("{} name `{}` is not in kebab case", what, l));
    if (!seen.insert(lowercase(l)).second)
      invalid(fmt::format("{} name `{}` conflicts with a previous name", what, l));
  }
}

CTypePtr defValType(Scope& s, const DefValType& d) {
  auto t = std::make_shared<CType>();
  using DK = DefValType::Kind;
  switch (d.kind) {
    case DK::kPrim:
      return primType(d.prim);
    case DK::kRecord: {
      t->kind = K::kRecord;
      if (d.fields.empty()) invalid("record type must have at least one field");
      std::vector<std::string> names;
      for (const auto& [n, v] : d.fields) {
        t->fields.emplace_back(n, valType(s, v));
        names.push_back(n);
      }
      uniqueLabels(names, "record field");
      break;
    }
    case DK::kVariant: {
      t->kind = K::kVariant;
      if (d.cases.empty()) invalid("variant type must have at least one case");
      std::vector<std::string> names;
      for (const auto& [n, v] : d.cases) {
        t->fields.emplace_back(n, v ? valType(s, *v) : nullptr);
        names.push_back(n);
      }
      uniqueLabels(names, "variant case");
      break;
    }
    case DK::kList:
      t->kind = K::kList;
      t->elems.push_back(valType(s, d.types[0]));
      break;
    case DK::kFixedList:
      t->kind = K::kFixedList;
      if (d.index == 0) invalid("fixed-length list must have a length greater than zero");
      t->elems.push_back(valType(s, d.types[0]));
      t->length = d.index;
      break;
    case DK::kTuple:
      t->kind = K::kTuple;
      if (d.types.empty()) invalid("tuple type must have at least one type");
      for (const auto& v : d.types) t->elems.push_back(valType(s, v));
      break;
    case DK::kFlags:
      t->kind = K::kFlags;
      if (d.labels.empty()) invalid("flags must have at least one entry");
      if (d.labels.size() > 32) invalid("cannot have more than 32 flags");
      t->labels = d.labels;
      uniqueLabels(d.labels, "flag");
      break;
    case DK::kEnum:
      t->kind = K::kEnum;
      if (d.labels.empty()) invalid("enum type must have at least one variant");
      t->labels = d.labels;
      uniqueLabels(d.labels, "enum tag");
      break;
    case DK::kOption:
      t->kind = K::kOption;
      t->elems.push_back(valType(s, d.types[0]));
      break;
    case DK::kResult:
      t->kind = K::kResult;
      t->elems.push_back(d.ok ? valType(s, *d.ok) : nullptr);
      t->elems.push_back(d.err ? valType(s, *d.err) : nullptr);
      break;
    case DK::kOwn:
    case DK::kBorrow: {
      t->kind = d.kind == DK::kOwn ? K::kOwn : K::kBorrow;
      const CTypePtr& r = at(s.types, d.index, "type");
      if (r->kind != K::kResource)
        invalid(fmt::format("type index {} is not a resource type", d.index));
      t->resource = r;
      break;
    }
    case DK::kStream:
    case DK::kFuture:
      t->kind = d.kind == DK::kStream ? K::kStream : K::kFuture;
      t->elems.push_back(d.ok ? valType(s, *d.ok) : nullptr);
      break;
    case DK::kMap:
      t->kind = K::kMap;
      t->elems.push_back(valType(s, d.types[0]));
      t->elems.push_back(valType(s, d.types[1]));
      break;
  }
  return t;
}

bool containsBorrow(const CTypePtr& t) {
  if (!t) return false;
  if (t->kind == K::kBorrow) return true;
  for (const auto& [n, f] : t->fields)
    if (containsBorrow(f)) return true;
  for (const auto& e : t->elems)
    if (containsBorrow(e)) return true;
  return false;
}

CTypePtr funcType(Scope& s, const FuncType& f) {
  auto t = std::make_shared<CType>();
  t->kind = K::kFunc;
  t->async = f.async;
  std::vector<std::string> names;
  for (const auto& [n, v] : f.params) {
    t->fields.emplace_back(n, valType(s, v));
    names.push_back(n);
  }
  uniqueLabels(names, "function parameter");
  if (f.result) {
    t->result = valType(s, *f.result);
    if (containsBorrow(t->result)) invalid("function result cannot contain a `borrow` type");
  }
  return t;
}

// True if values of `t` live partly in linear memory (strings and lists).
bool usesMemory(const CTypePtr& t) {
  if (!t) return false;
  if (t->kind == K::kPrim) return t->prim == Prim::kString;
  if (t->kind == K::kList) return true;
  for (const auto& [n, f] : t->fields)
    if (usesMemory(f)) return true;
  for (const auto& e : t->elems)
    if (usesMemory(e)) return true;
  return false;
}

void checkCanonOptions(const CType& ft, const CanonOpts& opts, bool lift) {
  using abi::kMaxFlatParams, abi::kMaxFlatResults;
  size_t params = 0;
  bool params_memory = false;
  for (const auto& [n, p] : ft.fields) {
    params += abi::flatCount(p.get());
    params_memory |= usesMemory(p);
  }
  size_t results = abi::flatCount(ft.result.get());
  bool results_memory = usesMemory(ft.result);
  bool need_memory =
      params_memory || results_memory || params > kMaxFlatParams || results > kMaxFlatResults;
  bool need_realloc = lift ? (params_memory || params > kMaxFlatParams) : results_memory;
  if (need_memory && !opts.memory) invalid("canonical option `memory` is required");
  if (need_realloc && !opts.realloc) invalid("canonical option `realloc` is required");
  if (!lift && opts.post_return)
    invalid("canonical option `post-return` cannot be specified for lowerings");
}

bool refersToResource(const CTypePtr& t, int depth = 0) {
  if (!t || depth > 100) return false;
  if (t->kind == K::kResource || t->kind == K::kOwn || t->kind == K::kBorrow) return true;
  for (const auto& [n, f] : t->fields)
    if (refersToResource(f, depth + 1)) return true;
  for (const auto& e : t->elems)
    if (refersToResource(e, depth + 1)) return true;
  if (refersToResource(t->result, depth + 1)) return true;
  for (const auto& [n, item] : t->exports)
    if (refersToResource(item.type, depth + 1)) return true;
  for (const auto& [n, item] : t->imports)
    if (refersToResource(item.type, depth + 1)) return true;
  return false;
}

// Canonical ABI byte size (CanonicalABI.md "Element Size"), saturating; validation requires
// every defined value type to be smaller than 2^28 bytes with 64-bit pointers (`elem_size(t,
// i64)`: strings, lists and maps are two i64 words), so a type is valid whatever the memory.
uint64_t byteSize(const CTypePtr& t, int depth = 0) {
  constexpr uint64_t kCap = uint64_t(1) << 40;
  if (!t || depth > 100) return 0;
  auto align = [](uint64_t n, uint64_t a) { return (n + a - 1) / a * a; };
  switch (t->kind) {
    case K::kPrim:
      switch (t->prim) {
        case Prim::kBool:
        case Prim::kS8:
        case Prim::kU8:
          return 1;
        case Prim::kS16:
        case Prim::kU16:
          return 2;
        case Prim::kS64:
        case Prim::kU64:
        case Prim::kF64:
          return 8;
        case Prim::kString:
          return 16;
        default:
          return 4;
      }
    case K::kList:
    case K::kMap:
      return 16;
    case K::kFixedList:
      return std::min(kCap, uint64_t(t->length) * byteSize(t->elems[0], depth + 1));
    case K::kRecord: {
      uint64_t n = 0;
      for (const auto& [name, f] : t->fields) n = std::min(kCap, n + byteSize(f, depth + 1));
      return n;
    }
    case K::kTuple: {
      uint64_t n = 0;
      for (const auto& e : t->elems) n = std::min(kCap, n + byteSize(e, depth + 1));
      return n;
    }
    case K::kVariant: {
      uint64_t n = 0;
      for (const auto& [name, f] : t->fields) n = std::max(n, byteSize(f, depth + 1));
      return align(4 + n, 4);
    }
    case K::kOption:
      return 4 + byteSize(t->elems[0], depth + 1);
    case K::kResult:
      return 4 + std::max(byteSize(t->elems[0], depth + 1), byteSize(t->elems[1], depth + 1));
    case K::kFlags:
      return 4 * ((t->labels.size() + 31) / 32);
    default:
      return 4;
  }
}

// Structural nesting depth of a value type as wasm-tools counts it (a leaf is 1, each enclosing
// record, variant, list, tuple, option, result, map, stream or future adds 1); memoised, since
// types are DAGs whose paths can be exponentially many.
constexpr uint32_t kMaxTypeDepth = 100;  // wasm-tools' MAX_WASM_COMPONENT_TYPE_DEPTH
uint32_t typeDepth(const CTypePtr& t, std::map<const CType*, uint32_t>& memo) {
  if (!t) return 0;
  switch (t->kind) {
    case K::kPrim:
    case K::kFlags:
    case K::kEnum:
    case K::kOwn:
    case K::kBorrow:
    case K::kResource:
      return 1;
    default:
      break;
  }
  if (auto it = memo.find(t.get()); it != memo.end()) return it->second;
  uint32_t d = 0;
  for (const auto& [n, f] : t->fields) d = std::max(d, typeDepth(f, memo));
  for (const auto& e : t->elems) d = std::max(d, typeDepth(e, memo));
  memo[t.get()] = d + 1;
  return d + 1;
}

Scope* outerScope(Scope& s, uint32_t count, bool* crossed_component) {
  Scope* target = &s;
  *crossed_component = false;
  for (uint32_t i = 0; i < count; ++i) {
    if (!target->parent) invalid(fmt::format("invalid outer alias count of {}", count));
    if (target->component) *crossed_component = true;
    target = target->parent;
  }
  return target;
}

// Makes a core module's typed interface known to the resolver (see Ctx::module_types).
std::shared_ptr<const engine::ModuleInfo> registerModule(Ctx& c, const CoreModule& m) {
  c.module_types[m.info.get()] = m.types;
  c.keep_modules.push_back(m.info);
  return m.info;
}

// The typed interface of a core module (null when not known).
const CoreModuleTypes* moduleTypes(const Ctx& c, const engine::ModuleInfo* m) {
  auto it = c.module_types.find(m);
  return it == c.module_types.end() ? nullptr : it->second.get();
}

// Validates a core module type's declarations (unique import and export names, type indices,
// memory limits) and returns its interface.
std::shared_ptr<const engine::ModuleInfo> moduleTypeInfo(Ctx& c, const CoreType& ct) {
  auto info = std::make_shared<engine::ModuleInfo>();
  auto typed = std::make_shared<CoreModuleTypes>();
  std::set<std::pair<std::string, std::string>> import_names;
  std::set<std::string> export_names;
  // Function types by index; outer aliases and non-function types are not followed (unknown).
  std::vector<std::optional<engine::FuncType>> types;
  for (const auto& d : ct.decls) {
    if (d.kind == CoreModuleDecl::Kind::kType)
      types.push_back(d.type && !d.type->is_module ? coreFuncTypeOf(d.type->func) : std::nullopt);
    if (d.kind == CoreModuleDecl::Kind::kAlias) types.push_back(std::nullopt);
    if (d.kind == CoreModuleDecl::Kind::kImport || d.kind == CoreModuleDecl::Kind::kExport) {
      if (d.desc.kind == 0 && d.desc.type_index >= types.size())
        invalid(fmt::format("type index out of bounds: {}", d.desc.type_index));
      if (d.desc.kind == 2 && d.desc.raw.size() >= 5 && !(d.desc.raw[0] & 4)) {
        uint32_t min = 0;
        std::memcpy(&min, d.desc.raw.data() + 1, 4);
        if (min > 65536) invalid("memory size must be at most 65536 pages (4GiB)");
      }
    }
    if (d.kind == CoreModuleDecl::Kind::kImport && !import_names.emplace(d.module, d.name).second)
      invalid(fmt::format("duplicate import name `{}:{}`", d.module, d.name));
    if (d.kind == CoreModuleDecl::Kind::kExport && !export_names.insert(d.name).second)
      invalid(fmt::format("export name `{}` already defined", d.name));
    if (d.kind == CoreModuleDecl::Kind::kImport) {
      engine::ImportDesc imp{d.module, d.name, {}};
      imp.type.kind = static_cast<engine::ExternKind>(d.desc.kind);
      info->imports.push_back(std::move(imp));
      typed->imports.push_back(coreExternOf(d.desc, types));
    } else if (d.kind == CoreModuleDecl::Kind::kExport) {
      engine::ExportDesc ex{d.name, {}};
      ex.type.kind = static_cast<engine::ExternKind>(d.desc.kind);
      info->exports.push_back(std::move(ex));
      typed->exports.push_back(coreExternOf(d.desc, types));
    }
  }
  return registerModule(c, {info, typed});
}

ExternItem externItem(Scope& s, const ExternType& et, const std::string& name);
CTypePtr typeDef(Scope& s, const TypeDef& d);

// Adds an item to the index space of its kind.
void push(Scope& s, const ExternItem& item) {
  switch (item.kind) {
    case EK::kFunc:
      s.funcs.push_back(item.type);
      break;
    case EK::kValue:
      s.values.push_back(item.type);
      break;
    case EK::kType:
      s.types.push_back(item.type);
      break;
    case EK::kComponent:
      s.components.push_back(item.type);
      break;
    case EK::kInstance:
      s.instances.push_back(item.type);
      break;
    case EK::kCoreModule:
      s.core_modules.push_back(item.module);
      break;
  }
}

void alias(Scope& s, const Alias& a);

// ---- external visibility (Explainer.md "External visibility of types") ----
// An imported or exported item may only mention records, variants, enums, flags and resources
// through type indices the component itself imported or exported ("named"); imports may only use
// imported names. Resources too are named by index: `(own $R)` is not named by `(export "r"
// (type $R))`, only by the index that export introduces.

using NameSet = std::set<const CType*>;

bool contentsNamed(const Ctx& c, const CTypePtr& t, const NameSet& named, int depth);

bool refNamed(const Ctx& c, const CTypePtr& t, const NameSet& named, int depth) {
  if (!t || depth > 100) return true;
  switch (t->kind) {
    case K::kRecord:
    case K::kVariant:
    case K::kEnum:
    case K::kFlags:
      return named.count(t.get()) > 0;
    case K::kResource:  // by index, like the other nominal types
      return named.count(t.get()) > 0;
    case K::kOwn:
    case K::kBorrow:
      return refNamed(c, t->resource, named, depth + 1);
    default:
      return contentsNamed(c, t, named, depth);
  }
}

bool contentsNamed(const Ctx& c, const CTypePtr& t, const NameSet& named, int depth) {
  if (!t || depth > 100) return true;
  if (t->kind == K::kOwn || t->kind == K::kBorrow) return refNamed(c, t, named, depth);
  for (const auto& [n, f] : t->fields)
    if (!refNamed(c, f, named, depth + 1)) return false;
  for (const auto& e : t->elems)
    if (!refNamed(c, e, named, depth + 1)) return false;
  return refNamed(c, t->result, named, depth + 1);
}

void registerNamed(const Ctx& c, const ExternItem& item, NameSet& named, int depth = 0) {
  if (!item.type || depth > 100) return;
  if (item.kind == EK::kType) {
    named.insert(item.type.get());
  } else if (item.kind == EK::kInstance) {
    for (const auto& [n, e] : item.type->exports) registerNamed(c, e, named, depth + 1);
  }
}

bool itemVisible(const Ctx& c, const ExternItem& item, const NameSet& named, int depth = 0);

bool instanceVisible(const Ctx& c, const CTypePtr& inst, NameSet named, int depth) {
  if (!inst || depth > 100) return true;
  for (const auto& [n, e] : inst->exports) registerNamed(c, e, named);
  for (const auto& [n, e] : inst->exports)
    if (!itemVisible(c, e, named, depth + 1)) return false;
  return true;
}

bool itemVisible(const Ctx& c, const ExternItem& item, const NameSet& named, int depth) {
  if (!item.type) return true;
  switch (item.kind) {
    case EK::kFunc:
      return contentsNamed(c, item.type, named, depth);
    case EK::kType:
      if (item.type->kind == K::kInstance) return instanceVisible(c, item.type, named, depth);
      if (item.type->kind == K::kComponent || item.type->kind == K::kResource) return true;
      return contentsNamed(c, item.type, named, depth);
    case EK::kInstance:
      return instanceVisible(c, item.type, named, depth);
    default:
      return true;
  }
}

void checkVisible(const Ctx& c, const ExternItem& item, const NameSet& named, const char* what) {
  if (!itemVisible(c, item, named))
    invalid(fmt::format("{} not valid to be used as {}", externKindName(item.kind), what));
}

// Registers `name` in a scope's import or export names, rejecting names that are not strongly
// unique.
void claimName(std::map<std::string, std::string>& names, const std::string& name,
               const char* what) {
  auto [it, inserted] = names.emplace(uniquenessKey(name), name);
  if (!inserted)
    invalid(fmt::format("{} name `{}` conflicts with previous name `{}`", what, name, it->second));
}

CTypePtr declsType(Scope& outer, const std::vector<Decl>& decls, bool component) {
  Scope scope;
  scope.parent = &outer;
  scope.ctx = outer.ctx;
  const uint64_t first_serial = scope.ctx->next;
  auto t = std::make_shared<CType>();
  t->kind = component ? K::kComponent : K::kInstance;
  std::map<std::string, std::string> import_names, export_names;
  // Resource types by import name and by export name: annotated names ([constructor]R, …) refer
  // to a resource named on the same side (wasm-tools keeps one name context per side).
  std::map<std::string, CTypePtr> resources[2];
  NameSet named_imports, named_all;
  for (const Scope* p = &outer; p; p = p->parent)
    named_all.insert(p->named.begin(), p->named.end());
  named_imports = named_all;
  for (const Decl& d : decls) {
    switch (d.kind) {
      case Decl::Kind::kCoreType:
        if (d.core_type && d.core_type->is_module) moduleTypeInfo(*scope.ctx, *d.core_type);
        scope.core_types.push_back(d.core_type);
        break;
      case Decl::Kind::kType: {
        if (d.type->kind == TypeDef::Kind::kResource)
          invalid("resources can only be defined within a concrete component");
        scope.types.push_back(typeDef(scope, *d.type));
        break;
      }
      case Decl::Kind::kAlias:
        if (d.alias.target == Alias::Target::kCoreInstanceExport)
          invalid("core instance export aliases are not allowed in type declarations");
        if (d.alias.target == Alias::Target::kInstanceExport && d.alias.sort != Sort::kInstance &&
            d.alias.sort != Sort::kType)
          invalid("alias declarators may only refer to types or instances");
        if (d.alias.target == Alias::Target::kOuter && d.alias.sort != Sort::kType &&
            d.alias.sort != Sort::kCoreType)
          invalid("outer alias declarators may only refer to types");
        alias(scope, d.alias);
        break;
      case Decl::Kind::kImport:
      case Decl::Kind::kExport: {
        ExternItem item = externItem(scope, d.extern_type, d.name.name);
        // An exported value type gets its export name (WIT prints it by name from then on).
        if (item.kind == EK::kType && item.type && item.type->kind != K::kResource &&
            item.type->kind != K::kPrim && isValueType(*item.type)) {
          auto named = std::make_shared<CType>(*item.type);
          named->name = d.name.name;
          item.type = named;
        }
        bool imp = d.kind == Decl::Kind::kImport;
        checkExternName(d.name.name, imp ? "import" : "export");
        checkAttributes(d.name, item.kind);
        checkAnnotatedFunc(d.name.name, item, resources[imp]);
        if (item.kind == EK::kType && item.type && item.type->kind == K::kResource)
          resources[imp][d.name.name] = item.type;
        claimName(imp ? import_names : export_names, d.name.name, imp ? "import" : "export");
        if (component) {
          checkVisible(*scope.ctx, item, imp ? named_imports : named_all,
                       imp ? "import" : "export");
          if (imp) registerNamed(*scope.ctx, item, named_imports);
          registerNamed(*scope.ctx, item, named_all);
        }
        (imp ? t->imports : t->exports).emplace_back(d.name.name, item);
        push(scope, item);
        break;
      }
    }
  }
  scope.ctx->defined[t.get()] = {first_serial, scope.ctx->next};
  scope.ctx->keep.push_back(t);
  return t;
}

CTypePtr typeDef(Scope& s, const TypeDef& d) {
  switch (d.kind) {
    case TypeDef::Kind::kDefVal: {
      CTypePtr t = defValType(s, d.val);
      std::map<const CType*, uint32_t> memo;
      if (typeDepth(t, memo) > kMaxTypeDepth) invalid("type nesting is too deep");
      return t;
    }
    case TypeDef::Kind::kFunc:
      return funcType(s, d.func);
    case TypeDef::Kind::kComponent:
      return declsType(s, d.decls, true);
    case TypeDef::Kind::kInstance:
      return declsType(s, d.decls, false);
    case TypeDef::Kind::kResource: {
      if (d.resource_rep != 0x7f) invalid("resources can only be represented by `i32`");
      if (d.resource_dtor) {
        const CoreExtern& dtor = at(s.core_funcs, *d.resource_dtor, "core func");
        if (dtor.known && !(dtor.func == engine::FuncType{{engine::ValType::kI32}, {}}))
          invalid(fmt::format("core function {} has wrong signature for a destructor",
                              *d.resource_dtor));
      }
      CTypePtr t = newResource(*s.ctx);
      s.local_resources.insert(t.get());
      return t;
    }
  }
  return nullptr;
}

ExternItem externItem(Scope& s, const ExternType& et, const std::string& name) {
  ExternItem item;
  item.kind = et.kind;
  switch (et.kind) {
    case EK::kCoreModule: {
      const auto& ct = at(s.core_types, et.index, "core type");
      if (!ct->is_module) invalid(fmt::format("core type index {} is not a module type", et.index));
      item.module = moduleTypeInfo(*s.ctx, *ct);
      break;
    }
    case EK::kFunc:
      item.type = at(s.types, et.index, "type");
      if (item.type->kind != K::kFunc)
        invalid(fmt::format("type index {} is not a function type", et.index));
      break;
    case EK::kInstance:
      item.type = at(s.types, et.index, "type");
      if (item.type->kind != K::kInstance)
        invalid(fmt::format("type index {} is not an instance type", et.index));
      item.type = freshInstance(*s.ctx, item.type);
      break;
    case EK::kComponent:
      item.type = at(s.types, et.index, "type");
      if (item.type->kind != K::kComponent)
        invalid(fmt::format("type index {} is not a component type", et.index));
      break;
    case EK::kType:
      if (et.sub_resource) {
        item.type = newResource(*s.ctx, name);
      } else {
        item.type = at(s.types, et.index, "type");
      }
      break;
    case EK::kValue:
      if (et.value_eq) {
        item.type = at(s.values, et.index, "value");
      } else {
        item.type = valType(s, et.value_type);
      }
      break;
  }
  return item;
}

EK kindOfSort(Sort sort) {
  switch (sort) {
    case Sort::kFunc:
      return EK::kFunc;
    case Sort::kValue:
      return EK::kValue;
    case Sort::kType:
      return EK::kType;
    case Sort::kComponent:
      return EK::kComponent;
    case Sort::kInstance:
      return EK::kInstance;
    case Sort::kCoreModule:
      return EK::kCoreModule;
    default:
      invalid(fmt::format("a {} cannot be imported or exported by a component", sortName(sort)));
  }
}

// The core index space of a core sort.
std::vector<CoreExtern>& coreSpace(Scope& s, Sort sort) {
  switch (sort) {
    case Sort::kCoreFunc:
      return s.core_funcs;
    case Sort::kCoreTable:
      return s.core_tables;
    case Sort::kCoreMemory:
      return s.core_memories;
    case Sort::kCoreGlobal:
      return s.core_globals;
    case Sort::kCoreTag:
      return s.core_tags;
    default:
      invalid(fmt::format("cannot alias a core instance export of sort {}", sortName(sort)));
  }
}

void alias(Scope& s, const Alias& a) {
  switch (a.target) {
    case Alias::Target::kInstanceExport: {
      const CTypePtr& inst = at(s.instances, a.instance, "instance");
      const ExternItem* found = nullptr;
      for (const auto& [n, item] : inst->exports)
        if (n == a.name) found = &item;
      if (!found) invalid(fmt::format("instance {} has no export named `{}`", a.instance, a.name));
      if (kindOfSort(a.sort) != found->kind)
        invalid(fmt::format("export `{}` for instance {} is not a {}", a.name, a.instance,
                            sortName(a.sort)));
      push(s, *found);
      break;
    }
    case Alias::Target::kCoreInstanceExport: {
      const auto& inst = at(s.core_instances, a.instance, "core instance");
      auto it = inst.exports.find(a.name);
      if (it == inst.exports.end())
        invalid(fmt::format("core instance {} has no export named `{}`", a.instance, a.name));
      if (coreSortOf(it->second.kind) != a.sort)
        invalid(fmt::format("export `{}` for core instance {} is not a {}", a.name, a.instance,
                            sortName(a.sort)));
      coreSpace(s, a.sort).push_back(it->second);
      break;
    }
    case Alias::Target::kOuter: {
      bool crossed = false;
      Scope* target = outerScope(s, a.outer_count, &crossed);
      switch (a.sort) {
        case Sort::kType: {
          const CTypePtr& t = at(target->types, a.outer_index, "type");
          if (crossed && refersToResource(t))
            invalid("type transitively refers to resources not defined in the current component");
          s.types.push_back(t);
          break;
        }
        case Sort::kCoreType:
          s.core_types.push_back(at(target->core_types, a.outer_index, "core type"));
          break;
        case Sort::kComponent:
          s.components.push_back(at(target->components, a.outer_index, "component"));
          break;
        case Sort::kCoreModule:
          s.core_modules.push_back(at(target->core_modules, a.outer_index, "core module"));
          break;
        default:
          invalid(fmt::format("outer aliases of {} are not allowed", sortName(a.sort)));
      }
      break;
    }
  }
}

ExternItem itemOf(Scope& s, const SortIdx& si) {
  ExternItem item;
  item.kind = kindOfSort(si.sort);
  switch (si.sort) {
    case Sort::kFunc:
      item.type = at(s.funcs, si.index, "func");
      break;
    case Sort::kValue:
      item.type = at(s.values, si.index, "value");
      break;
    case Sort::kType:
      item.type = at(s.types, si.index, "type");
      break;
    case Sort::kComponent:
      item.type = at(s.components, si.index, "component");
      break;
    case Sort::kInstance:
      item.type = at(s.instances, si.index, "instance");
      break;
    case Sort::kCoreModule:
      item.module = at(s.core_modules, si.index, "core module");
      break;
    default:
      break;
  }
  return item;
}

// The core item an inline core instance exports.
const CoreExtern& coreItem(Scope& s, const SortIdx& si) {
  switch (si.sort) {
    case Sort::kCoreFunc:
      return at(s.core_funcs, si.index, "core func");
    case Sort::kCoreTable:
      return at(s.core_tables, si.index, "core table");
    case Sort::kCoreMemory:
      return at(s.core_memories, si.index, "core memory");
    case Sort::kCoreGlobal:
      return at(s.core_globals, si.index, "core global");
    case Sort::kCoreTag:
      return at(s.core_tags, si.index, "core tag");
    default:
      invalid(fmt::format("a core instance cannot export a {}", sortName(si.sort)));
  }
}

// Instantiates a core module: every import must be filled by an export of the argument instance
// named by its module name, of a matching type (wasm-tools' messages). `typed` is null when the
// module's types are not known (then only names and kinds are checked).
CoreInstanceInfo instantiateCore(const engine::ModuleInfo& mod, const CoreModuleTypes* typed,
                                 const std::map<std::string, const CoreInstanceInfo*>& args) {
  for (size_t i = 0; i < mod.imports.size(); ++i) {
    const engine::ImportDesc& imp = mod.imports[i];
    auto arg = args.find(imp.module);
    if (arg == args.end())
      invalid(fmt::format("missing module instantiation argument named `{}`", imp.module));
    auto ex = arg->second->exports.find(imp.name);
    if (ex == arg->second->exports.end())
      invalid(fmt::format("module instantiation argument `{}` does not export an item named `{}`",
                          imp.module, imp.name));
    CoreExtern expected = typed ? typed->imports[i] : unknownOf(imp.type.kind);
    try {
      checkCoreMatch(ex->second, expected);
    } catch (const Invalid& e) {
      invalid(fmt::format("type mismatch for export `{}` of module instantiation argument `{}`: {}",
                          imp.name, imp.module, e.message));
    }
  }
  CoreInstanceInfo info;
  for (size_t i = 0; i < mod.exports.size(); ++i)
    info.exports[mod.exports[i].name] =
        typed ? typed->exports[i] : unknownOf(mod.exports[i].type.kind);
  return info;
}

std::string debugTypes(const std::vector<engine::ValType>& v) {  // wasm-tools' `[I32, I64]`
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    std::string n = engine::valTypeName(v[i]);
    n[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(n[0])));
    s += (i ? ", " : "") + n;
  }
  return s + "]";
}

// The core signatures around a canonical lift (`lifted` is the core function, index `index`) or
// lower (`lifted` null): `realloc` is (ptr, ptr, ptr, ptr) -> ptr, `post-return` takes the lifted
// function's results and returns nothing, and the lifted function has the flattened type of the
// component function (CanonicalABI.md "Flattening"). Returns the core function type a lowering
// defines. Options the resolver does not follow (async, gc) leave the types unknown.
CoreExtern checkCoreSignatures(Scope& s, const CType& ft, const CanonOpts& o,
                               const CoreExtern* lifted, uint32_t index) {
  using VT = engine::ValType;
  bool mem64 = false;
  if (o.memory) mem64 = s.core_memories[*o.memory].known && s.core_memories[*o.memory].is64;
  const VT ptr = mem64 ? VT::kI64 : VT::kI32;
  if (o.realloc) {
    if (!o.memory) invalid("canonical option `realloc` requires `memory` to also be specified");
    const CoreExtern& r = s.core_funcs[*o.realloc];
    if (r.known && !(r.func == engine::FuncType{{ptr, ptr, ptr, ptr}, {ptr}}))
      invalid("canonical option `realloc` uses a core function with an incorrect signature");
  }
  if (lifted && o.post_return) {
    const CoreExtern& p = s.core_funcs[*o.post_return];
    if (p.known && lifted->known &&
        (p.func.params != lifted->func.results || !p.func.results.empty()))
      invalid("canonical option `post-return` uses a core function with an incorrect signature");
  }
  // Memory64 pointers and async/gc signatures differ from abi::flatSignature's; not followed.
  if (o.async || o.gc || mem64) return unknownOf(engine::ExternKind::kFunc);
  abi::FlatSig sig = abi::flatSignature(ft, /*lower=*/lifted == nullptr);
  engine::FuncType want{std::move(sig.params), std::move(sig.results)};
  if (lifted && lifted->known) {
    if (want.params != lifted->func.params)
      invalid(fmt::format(
          "lowered parameter types `{}` do not match parameter types `{}` of core function {}",
          debugTypes(want.params), debugTypes(lifted->func.params), index));
    if (want.results != lifted->func.results)
      invalid(fmt::format(
          "lowered result types `{}` do not match result types `{}` of core function {}",
          debugTypes(want.results), debugTypes(lifted->func.results), index));
  }
  return knownFunc(std::move(want));
}

struct Resolver {
  std::span<const uint8_t> bytes;
  ComponentInfo* top = nullptr;
  Ctx ctx;

  CTypePtr component(const Component& c, Scope* parent, ComponentInfo* out) {
    Scope s;
    s.parent = parent;
    s.ctx = parent ? parent->ctx : &ctx;
    s.component = true;
    const uint64_t first_serial = s.ctx->next;
    auto t = std::make_shared<CType>();
    t->kind = K::kComponent;
    std::map<std::string, std::string> import_names, export_names;
    std::map<std::string, CTypePtr> imported_resources, exported_resources;  // see declsType
    NameSet named_imports;  // s.named holds every named type, imported or exported
    const bool root = parent == nullptr;
    for (const Definition& def : c.definitions) {
      if (auto* m = std::get_if<std::pair<size_t, size_t>>(&def)) {
        s.core_modules.push_back(
            registerModule(*s.ctx, coreModuleInterface(bytes.subspan(m->first, m->second))));
        if (top) ++top->core_modules;
      } else if (auto* ci = std::get_if<CoreInstance>(&def)) {
        CoreInstanceInfo info;
        if (ci->instantiate) {
          const auto& mod = at(s.core_modules, ci->module, "core module");
          std::map<std::string, const CoreInstanceInfo*> args;
          for (const auto& [n, idx] : ci->args)
            if (!args.emplace(n, &at(s.core_instances, idx, "core instance")).second)
              invalid(fmt::format("duplicate module instantiation argument named `{}`", n));
          if (mod) info = instantiateCore(*mod, moduleTypes(*s.ctx, mod.get()), args);
        } else {
          for (const auto& [n, si] : ci->exports)
            if (!info.exports.emplace(n, coreItem(s, si)).second)
              invalid(fmt::format("export name `{}` already defined", n));
        }
        s.core_instances.push_back(std::move(info));
      } else if (auto* ct = std::get_if<std::shared_ptr<CoreType>>(&def)) {
        if (*ct && (*ct)->is_module) moduleTypeInfo(*s.ctx, **ct);
        s.core_types.push_back(*ct);
      } else if (auto* nested = std::get_if<std::shared_ptr<Component>>(&def)) {
        if (top) ++top->nested_components;
        s.components.push_back(component(**nested, &s, nullptr));
      } else if (auto* inst = std::get_if<Instance>(&def)) {
        auto it = std::make_shared<CType>();
        it->kind = K::kInstance;
        if (inst->instantiate) {
          const CTypePtr& ct = at(s.components, inst->component, "component");
          std::map<std::string, ExternItem> args;
          for (const auto& [n, si] : inst->args) {
            if (args.count(n))
              invalid(
                  fmt::format("instantiation argument `{}` conflicts with previous argument", n));
            args[n] = si.sort >= Sort::kFunc || si.sort == Sort::kCoreModule ? itemOf(s, si)
                                                                             : ExternItem{};
          }
          it = std::const_pointer_cast<CType>(instantiate(*s.ctx, ct, args));
        } else {
          std::map<std::string, std::string> names;
          for (const auto& [n, si] : inst->exports) {
            checkExternName(n.name, "export");
            claimName(names, n.name, "export");
            ExternItem item = itemOf(s, si);
            checkAttributes(n, item.kind);
            // A bag of exports introduces no type indices, so no resource has a name in it and
            // annotated function names cannot be satisfied (as in wasm-tools).
            checkAnnotatedFunc(n.name, item, {});
            it->exports.emplace_back(n.name, std::move(item));
          }
        }
        s.instances.push_back(it);
      } else if (auto* a = std::get_if<Alias>(&def)) {
        alias(s, *a);
      } else if (auto* td = std::get_if<std::shared_ptr<TypeDef>>(&def)) {
        s.types.push_back(typeDef(s, **td));
        if (isValueType(*s.types.back()) && byteSize(s.types.back()) >= (uint64_t(1) << 28))
          invalid("type exceeds maximum byte size");
      } else if (auto* cn = std::get_if<Canon>(&def)) {
        switch (cn->kind) {
          case Canon::Kind::kLift: {
            const CoreExtern& core = at(s.core_funcs, cn->func, "core func");
            const CTypePtr& ft = at(s.types, cn->type, "type");
            if (ft->kind != K::kFunc)
              invalid(fmt::format("type index {} is not a function type", cn->type));
            if (cn->opts.memory)
              checkCount(s.core_memories.size(), *cn->opts.memory, "core memory");
            if (cn->opts.realloc) checkCount(s.core_funcs.size(), *cn->opts.realloc, "core func");
            if (cn->opts.post_return)
              checkCount(s.core_funcs.size(), *cn->opts.post_return, "core func");
            if (!cn->opts.async) checkCanonOptions(*ft, cn->opts, /*lift=*/true);
            checkCoreSignatures(s, *ft, cn->opts, &core, cn->func);
            s.funcs.push_back(ft);
            break;
          }
          case Canon::Kind::kLower: {
            const CTypePtr& ft = at(s.funcs, cn->func, "func");
            if (!cn->opts.async) checkCanonOptions(*ft, cn->opts, /*lift=*/false);
            if (cn->opts.memory)
              checkCount(s.core_memories.size(), *cn->opts.memory, "core memory");
            if (cn->opts.realloc) checkCount(s.core_funcs.size(), *cn->opts.realloc, "core func");
            s.core_funcs.push_back(checkCoreSignatures(s, *ft, cn->opts, nullptr, 0));
            break;
          }
          case Canon::Kind::kResourceNew:
          case Canon::Kind::kResourceDrop:
          case Canon::Kind::kResourceRep: {
            const CTypePtr& r = at(s.types, cn->type, "type");
            if (r->kind != K::kResource)
              invalid(fmt::format("type index {} is not a resource type", cn->type));
            // Without type substitution on instantiation the resolver cannot always tell which
            // resource an instantiated component exports; resources that arrived through this
            // component's own imports are certainly not local.
            if (cn->kind != Canon::Kind::kResourceDrop &&
                !s.local_resources.count(validationId(*s.ctx, r.get())))
              invalid(fmt::format("type index {} is not a local resource", cn->type));
            using VT = engine::ValType;
            // Resources are represented by i32 (checked where they are defined).
            s.core_funcs.push_back(knownFunc(cn->kind == Canon::Kind::kResourceDrop
                                                 ? engine::FuncType{{VT::kI32}, {}}
                                                 : engine::FuncType{{VT::kI32}, {VT::kI32}}));
            break;
          }
          case Canon::Kind::kOther:  // async, threads, error-context built-ins: not followed
            s.core_funcs.push_back(unknownOf(engine::ExternKind::kFunc));
            break;
        }
      } else if (std::get_if<StartDef>(&def)) {
        invalid("component start functions (value definitions) are not supported");
      } else if (auto* imp = std::get_if<Import>(&def)) {
        ExternItem item = externItem(s, imp->type, imp->name.name);
        checkExternName(imp->name.name, "import");
        checkAttributes(imp->name, item.kind);
        checkAnnotatedFunc(imp->name.name, item, imported_resources);
        if (root && item.kind == EK::kComponent)
          invalid("root-level component imports are not supported");
        if (item.kind == EK::kType && item.type) {
          if (item.type->kind !=
              K::kResource) {  // (eq i): the import introduces a new, named index
            auto copy = std::make_shared<CType>(*item.type);
            copy->name = imp->name.name;
            item.type = copy;
          }
        }
        checkVisible(*s.ctx, item, named_imports, "import");
        registerNamed(*s.ctx, item, named_imports);
        registerNamed(*s.ctx, item, s.named);
        if (item.kind == EK::kType && item.type && item.type->kind == K::kResource)
          imported_resources[imp->name.name] = item.type;
        claimName(import_names, imp->name.name, "import");
        t->imports.emplace_back(imp->name.name, item);
        push(s, item);
      } else if (auto* ex = std::get_if<Export>(&def)) {
        ExternItem item = itemOf(s, ex->target);
        if (ex->type) {
          const uint64_t before = s.ctx->next;  // externItem may copy the type's resources
          ExternItem declared = externItem(s, *ex->type, ex->name.name);
          if (declared.kind != item.kind)
            invalid(fmt::format("export `{}` has a type of the wrong kind", ex->name.name));
          auto range =
              declared.type ? s.ctx->defined.find(declared.type.get()) : s.ctx->defined.end();
          std::pair<uint64_t, uint64_t> bindable{
              range == s.ctx->defined.end() ? before : range->second.first, s.ctx->next};
          if (declared.kind == EK::kType && ex->type->sub_resource) {
            if (!item.type || item.type->kind != K::kResource)
              invalid("ascribed type of export is not compatible: expected resource");
            // The ascription hides the definition: the export is a new abstract resource.
            item.type = newResource(*s.ctx, ex->name.name, item.type);
          } else if (declared.kind != EK::kType) {
            item = ascribe(*s.ctx, item, declared, bindable);
          }
        }
        checkExternName(ex->name.name, "export");
        checkAttributes(ex->name, item.kind);
        checkAnnotatedFunc(ex->name.name, item, exported_resources);
        if (root && item.kind == EK::kComponent)
          invalid("exporting a component from the root component is not supported");
        if (item.kind == EK::kType && item.type) {
          // The export introduces a new type index naming the type; uses must go through it.
          auto copy = std::make_shared<CType>(*item.type);
          copy->name = ex->name.name;
          if (copy->kind == K::kResource) copy->resource = item.type;
          item.type = copy;
        }
        checkVisible(*s.ctx, item, s.named, "export");
        registerNamed(*s.ctx, item, s.named);
        if (item.kind == EK::kType && item.type && item.type->kind == K::kResource)
          exported_resources[ex->name.name] = item.type;
        claimName(export_names, ex->name.name, "export");
        t->exports.emplace_back(ex->name.name, item);
        push(s, item);
      }
    }
    s.ctx->defined[t.get()] = {first_serial, s.ctx->next};
    s.ctx->keep.push_back(t);
    if (top)
      top->spaces[&c] =
          ScopeSpaces{s.types, s.funcs, s.values, s.instances, s.components, t->imports};
    if (out) {
      out->imports = t->imports;
      out->exports = t->exports;
    }
    return t;
  }
};

}  // namespace

const CType* resourceIdentity(const CType* t) {
  while (t && t->kind == K::kResource && t->resource) t = t->resource.get();
  return t;
}

Expected<ComponentInfo> resolve(const Component& component, std::span<const uint8_t> bytes) {
  ComponentInfo info;
  Resolver r{bytes, &info, {}};
  try {
    r.component(component, nullptr, &info);
  } catch (const Invalid& e) {
    return makeError(ErrorCode::kInvalidArgument, "invalid component: {}", e.message);
  }
  return info;
}

}  // namespace cumulus::component
