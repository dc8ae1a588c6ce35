// The component runtime (see runtime.h).
//
// Planning walks the component's definitions once with *static* values: every core instance gets
// a slot, every core func/table/memory/global becomes a reference to (slot, export index), a
// lowered function or a canonical built-in, and nested component instantiations are inlined (a
// nested body is walked again with its imports bound to the arguments). The result is a flat
// list of core instantiations with pre-resolved imports; instantiating replays it.
//
// Resources: each inlined component body is a "static instance" with its own handle table at run
// time. A resource type is known by its identity (resourceIdentity of the resolver's CType); each
// static instance maps identities to a host ResourceType or to one of the resources component
// bodies define (created per instance, since resource types are generative).
#include "component/runtime.h"

#include <cstring>

#include <fmt/format.h>

#include "component/abi.h"
#include "component/decoder.h"

namespace cumulus::component {

namespace {

using K = CType::Kind;
using EK = ExternType::Kind;

struct PlanError {
  std::string message;
  ErrorCode code = ErrorCode::kLinkError;  // an invalid core module keeps the engine's code
};
[[noreturn]] void fail(std::string message) { throw PlanError{std::move(message)}; }

struct SemVer {
  uint64_t major = 0, minor = 0, patch = 0;
  std::string pre;
};

std::optional<SemVer> parseSemver(std::string_view v) {
  SemVer s;
  size_t plus = v.find('+');
  v = v.substr(0, plus);
  size_t dash = v.find('-');
  if (dash != std::string_view::npos) {
    s.pre = std::string(v.substr(dash + 1));
    v = v.substr(0, dash);
  }
  uint64_t* parts[] = {&s.major, &s.minor, &s.patch};
  size_t i = 0;
  for (int k = 0; k < 3; ++k) {
    if (i >= v.size() || !std::isdigit(static_cast<unsigned char>(v[i]))) return std::nullopt;
    uint64_t n = 0;
    while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) n = n * 10 + (v[i++] - '0');
    *parts[k] = n;
    if (k < 2) {
      if (i >= v.size() || v[i] != '.') return std::nullopt;
      ++i;
    }
  }
  if (i != v.size()) return std::nullopt;
  return s;
}

std::pair<std::string_view, std::string_view> splitVersion(std::string_view name) {
  size_t at = name.find('@');
  if (at == std::string_view::npos) return {name, {}};
  return {name.substr(0, at), name.substr(at + 1)};
}

}  // namespace

bool semverCompatible(std::string_view wanted, std::string_view provided) {
  if (wanted == provided) return true;
  auto [wn, wv] = splitVersion(wanted);
  auto [pn, pv] = splitVersion(provided);
  if (wn != pn || wv.empty() || pv.empty()) return false;
  auto w = parseSemver(wv);
  auto p = parseSemver(pv);
  if (!w || !p || !w->pre.empty() || !p->pre.empty()) return false;
  if (w->major != p->major) return false;
  if (w->major > 0) return p->minor > w->minor || (p->minor == w->minor && p->patch >= w->patch);
  if (w->minor != p->minor) return false;
  return w->minor > 0 && p->patch >= w->patch;
}

// ---- Linker ----

HostInterface& Linker::interface(std::string_view iface) {
  auto [name, version] = splitVersion(iface);
  for (auto& i : interfaces_)
    if (i->name == name && i->version == version) return *i;
  interfaces_.push_back(std::make_unique<HostInterface>());
  interfaces_.back()->name = std::string(name);
  interfaces_.back()->version = std::string(version);
  return *interfaces_.back();
}

void Linker::func(std::string_view iface, std::string_view name, HostFn fn) {
  interface(iface).funcs[std::string(name)] = std::move(fn);
}

const ResourceType* Linker::resource(std::string_view iface, std::string_view name,
                                     std::function<void(CallContext&, uint32_t)> dtor) {
  auto& slot = interface(iface).resources[std::string(name)];
  if (!slot) slot = std::make_shared<ResourceType>();
  slot->name = fmt::format("{}#{}", iface, name);
  slot->host_dtor = std::move(dtor);
  return slot.get();
}

void Linker::resourceAlias(std::string_view iface, std::string_view name,
                           const ResourceType* type) {
  std::shared_ptr<ResourceType> found;
  for (const auto& i : interfaces_)
    for (const auto& [n, r] : i->resources)
      if (r.get() == type) found = r;
  if (!found)  // a component instance's type: not owned here (see the declaration)
    found = std::shared_ptr<ResourceType>(std::shared_ptr<ResourceType>(),
                                          const_cast<ResourceType*>(type));
  interface(iface).resources[std::string(name)] = std::move(found);
}

const HostInterface* Linker::find(std::string_view import_name) const {
  const HostInterface* best = nullptr;
  for (const auto& i : interfaces_) {
    std::string full = i->version.empty() ? i->name : i->name + "@" + i->version;
    if (full == import_name) return i.get();
    if (semverCompatible(import_name, full)) best = i.get();
  }
  return best;
}

// ---- plan data ----

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
  EK kind = EK::kFunc;
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
  Component ast;
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
};

namespace {

struct CoreInst {
  int32_t slot = -1;
  std::map<std::string, std::pair<CoreRef, engine::ExternKind>, std::less<>> exports;
};

}  // namespace

struct PScope {
  PScope* parent = nullptr;
  const ScopeSpaces* spaces = nullptr;
  uint32_t static_id = 0;
  std::vector<uint32_t> modules;
  std::vector<CoreInst> core_instances;
  std::vector<CoreRef> core_funcs, core_tables, core_memories, core_globals, core_tags;
  std::vector<Item> funcs, values, types, instances, components;
  std::map<std::string, Item, std::less<>> exports;
};

namespace {

const char* kindName(EK k) {
  switch (k) {
    case EK::kCoreModule:
      return "core module";
    case EK::kFunc:
      return "func";
    case EK::kValue:
      return "value";
    case EK::kType:
      return "type";
    case EK::kComponent:
      return "component";
    case EK::kInstance:
      return "instance";
  }
  return "?";
}

class Planner {
 public:
  Planner(PlanData& p, const Linker& linker, std::span<const uint8_t> bytes)
      : p_(p), linker_(linker), bytes_(bytes) {}

  void root() {
    PScope s;
    s.spaces = &p_.info.spaces.at(&p_.ast);
    s.static_id = newStatic(-1);
    body(s, p_.ast, nullptr);
    p_.exports = std::move(s.exports);
  }

 private:
  uint32_t newStatic(int32_t parent) {
    p_.statics.push_back(StaticInstance{parent, {}});
    return static_cast<uint32_t>(p_.statics.size() - 1);
  }

  std::optional<ResRef> findRes(uint32_t static_id, const CType* t) {
    const CType* id = resourceIdentity(t);
    for (int32_t s = static_cast<int32_t>(static_id); s >= 0; s = p_.statics[s].parent) {
      auto it = p_.statics[s].resources.find(id);
      if (it != p_.statics[s].resources.end()) return it->second;
    }
    return std::nullopt;
  }
  void bindRes(uint32_t static_id, const CType* t, ResRef r) {
    p_.statics[static_id].resources.emplace(resourceIdentity(t), r);
  }

  uint32_t compileModule(std::pair<size_t, size_t> range) {
    auto it = module_ids_.find(range.first);
    if (it != module_ids_.end()) return it->second;
    auto m = p_.engine->compile(bytes_.subspan(range.first, range.second));
    if (!m.ok())
      throw PlanError{fmt::format("core module {} (at byte {}): {}", p_.modules.size(), range.first,
                                  m.error().message()),
                      m.error().code()};
    p_.modules.push_back(std::move(*m));
    uint32_t id = static_cast<uint32_t>(p_.modules.size() - 1);
    module_ids_[range.first] = id;
    return id;
  }

  std::vector<CoreRef>& coreSpace(PScope& s, Sort sort) {
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
        fail(fmt::format("a {} is not a core item", sortName(sort)));
    }
  }

  static Sort coreSort(engine::ExternKind k) {
    switch (k) {
      case engine::ExternKind::kFunc:
        return Sort::kCoreFunc;
      case engine::ExternKind::kTable:
        return Sort::kCoreTable;
      case engine::ExternKind::kMemory:
        return Sort::kCoreMemory;
      case engine::ExternKind::kGlobal:
        return Sort::kCoreGlobal;
      case engine::ExternKind::kTag:
        return Sort::kCoreTag;
    }
    return Sort::kCoreFunc;
  }

  std::vector<Item>& space(PScope& s, EK kind) {
    switch (kind) {
      case EK::kFunc:
        return s.funcs;
      case EK::kValue:
        return s.values;
      case EK::kType:
        return s.types;
      case EK::kComponent:
        return s.components;
      case EK::kInstance:
        return s.instances;
      case EK::kCoreModule:
        break;
    }
    fail("core modules have no component index space");
  }

  void pushItem(PScope& s, const Item& item) {
    if (item.kind == EK::kCoreModule) {
      s.modules.push_back(item.module);
      return;
    }
    if (item.kind == EK::kType) {
      size_t idx = s.types.size();
      if (idx < s.spaces->types.size() && item.res) bindRes(s.static_id, s.spaces->types[idx].get(), *item.res);
    }
    space(s, item.kind).push_back(item);
  }

  template <typename T>
  static const T& at(const std::vector<T>& v, uint32_t i, const char* what) {
    if (i >= v.size()) fail(fmt::format("{} index {} out of bounds", what, i));
    return v[i];
  }

  Item itemOf(PScope& s, const SortIdx& si) {
    switch (si.sort) {
      case Sort::kFunc:
        return at(s.funcs, si.index, "func");
      case Sort::kValue:
        return at(s.values, si.index, "value");
      case Sort::kType:
        return at(s.types, si.index, "type");
      case Sort::kComponent:
        return at(s.components, si.index, "component");
      case Sort::kInstance:
        return at(s.instances, si.index, "instance");
      case Sort::kCoreModule: {
        Item it;
        it.kind = EK::kCoreModule;
        it.module = at(s.modules, si.index, "core module");
        return it;
      }
      default:
        fail(fmt::format("a {} cannot be used here", sortName(si.sort)));
    }
  }

  // The core function type of a core func reference.
  engine::FuncType coreFuncType(const CoreRef& r) {
    using VT = engine::ValType;
    switch (r.kind) {
      case CoreRef::Kind::kExport: {
        const engine::ExportDesc& e =
            p_.modules[p_.steps[r.index].module]->info().exports[r.export_index];
        if (e.type.kind != engine::ExternKind::kFunc)
          fail(fmt::format("`{}` is not a function", e.name));
        return e.type.func;
      }
      case CoreRef::Kind::kLowered:
        return {p_.lowers[r.index].sig.params, p_.lowers[r.index].sig.results};
      case CoreRef::Kind::kBuiltin:
        if (p_.builtins[r.index].kind == Canon::Kind::kResourceDrop) return {{VT::kI32}, {}};
        return {{VT::kI32}, {VT::kI32}};
    }
    return {};
  }

  // Validation the resolver cannot do (it does not know core function types): the canonical
  // ABI calls these functions with exactly `want`'s values, so any other type would make it read
  // or write values the function does not have.
  void checkCoreFunc(const CoreRef& r, const engine::FuncType& want, const char* what) {
    engine::FuncType got = coreFuncType(r);
    if (!(got == want))
      throw PlanError{fmt::format("invalid component: {} needs a core function of type {}, "
                                  "but this one is {}",
                                  what, want.toString(), got.toString()),
                      ErrorCode::kInvalidArgument};
  }

  OptsRt opts(PScope& s, const CanonOpts& o) {
    OptsRt r;
    if (o.async) fail("async canonical options are not supported (WASI 0.3 is out of scope)");
    if (o.memory) r.memory = at(s.core_memories, *o.memory, "core memory");
    if (o.realloc) {
      using VT = engine::ValType;
      r.realloc = at(s.core_funcs, *o.realloc, "core func");
      checkCoreFunc(*r.realloc, {{VT::kI32, VT::kI32, VT::kI32, VT::kI32}, {VT::kI32}}, "realloc");
    }
    if (o.post_return) r.post_return = at(s.core_funcs, *o.post_return, "core func");
    if (o.encoding) r.encoding = *o.encoding;
    return r;
  }

  // Whether an imported instance type asks for nothing at run time: its exports are only
  // non-resource types and instances of the same kind (wasmtime: empty instances need no host).
  static bool needsNothing(const CType& instance) {
    for (const auto& [en, e] : instance.exports) {
      if (e.kind == EK::kInstance && e.type && needsNothing(*e.type)) continue;
      if (e.kind == EK::kType && (!e.type || e.type->kind != K::kResource)) continue;
      return false;
    }
    return true;
  }

  // Binds an import of the root component to the linker.
  Item hostImport(PScope& s, const std::string& name, const ExternItem& type) {
    Item item;
    item.kind = type.kind;
    item.type = type.type;
    if (type.kind == EK::kInstance) {
      const HostInterface* iface = linker_.find(name);
      if (iface && iface->funcs.count(name))  // a root-level function: Linker::func(name, name)
        fail(fmt::format("import `{}` is an instance, but the host defines a function by that name",
                         name));
      if (!iface && needsNothing(*type.type)) {  // nothing to supply: any host satisfies it
        item.instance = std::make_shared<InstanceVal>();
        return item;
      }
      if (!iface)
        fail(fmt::format("unknown import `{}`: the host does not provide this interface", name));
      item.instance = std::make_shared<InstanceVal>();
      for (const auto& [en, e] : type.type->exports) {
        Item x;
        x.kind = e.kind;
        x.type = e.type;
        if (e.kind == EK::kFunc) {
          auto f = iface->funcs.find(en);
          if (f == iface->funcs.end())
            fail(fmt::format("import `{}` needs function `{}`, which the host's {}@{} does not provide",
                             name, en, iface->name, iface->version));
          p_.host_funcs.push_back(HostFuncDef{&f->second, fmt::format("{}#{}", name, en)});
          x.func = FuncVal{true, static_cast<uint32_t>(p_.host_funcs.size() - 1), e.type};
        } else if (e.kind == EK::kType && e.type && e.type->kind == K::kResource &&
                   findRes(s.static_id, e.type.get())) {
          x.res = findRes(s.static_id, e.type.get());  // `use`d from an earlier import
          // `(eq ...)` to it: a resource the host defines under this name must be that one.
          auto r = iface->resources.find(en);
          if (r != iface->resources.end() && x.res->host != r->second.get())
            fail(
                fmt::format("import `{}`: mismatched resource types: `{}` must be the same type "
                            "as the resource it is declared equal to, but the host's differs",
                            name, en));
        } else if (e.kind == EK::kType && e.type && e.type->kind == K::kResource) {
          auto r = iface->resources.find(en);
          if (r == iface->resources.end())
            fail(fmt::format("import `{}` needs resource `{}`, which the host does not provide",
                             name, en));
          x.res = ResRef{r->second.get(), -1};
          bindRes(s.static_id, e.type.get(), *x.res);
        } else if (e.kind != EK::kType) {
          fail(fmt::format("import `{}`: {} exports of imported instances are not supported", name,
                           kindName(e.kind)));
        }
        item.instance->items[en] = x;
      }
      return item;
    }
    if (type.kind == EK::kFunc) {
      const HostInterface* iface = linker_.find(name);
      const HostFn* fn = nullptr;
      if (iface) {
        auto f = iface->funcs.find(name);
        if (f != iface->funcs.end()) fn = &f->second;
      }
      if (!fn) fail(fmt::format("unknown import `{}`: the host does not provide this function", name));
      p_.host_funcs.push_back(HostFuncDef{fn, name});
      item.func = FuncVal{true, static_cast<uint32_t>(p_.host_funcs.size() - 1), type.type};
      return item;
    }
    if (type.kind == EK::kType && type.type && type.type->kind != K::kResource) return item;
    if (type.kind == EK::kType && type.type) {
      // A root-level resource type: another import's (a world's `use iface.{r}` imports it as
      // `type (eq …)`), or one the host defines as Linker::resource(name, name), like root-level
      // functions are Linker::func(name, name).
      if (auto r = findRes(s.static_id, type.type.get())) {
        item.res = r;
        return item;
      }
      if (const HostInterface* iface = linker_.find(name)) {
        auto r = iface->resources.find(name);
        if (r != iface->resources.end()) {
          item.res = ResRef{r->second.get(), -1};
          return item;
        }
      }
      fail(fmt::format("unknown import `{}`: the host does not provide this resource type", name));
    }
    fail(fmt::format("unknown import `{}`: the host does not provide {} imports", name,
                     kindName(type.kind)));
  }

  // Binds a nested component's import to its instantiation argument and returns the item as the
  // importer sees it: its funcs typed by the import's declared types (whose resources are the
  // importer's, bound here), its instances showing only the declared exports.
  Item bindArg(PScope& s, const ExternItem& type, const Item& arg) {
    Item out = arg;
    if (type.kind == EK::kType && type.type && type.type->kind == K::kResource && arg.res)
      bindRes(s.static_id, type.type.get(), *arg.res);
    if (type.kind == EK::kFunc && type.type) {
      out.type = type.type;
      out.type_static = s.static_id;
    }
    if (type.kind == EK::kInstance && type.type && arg.instance) {
      out.instance = std::make_shared<InstanceVal>();
      for (const auto& [en, e] : type.type->exports) {
        auto it = arg.instance->items.find(en);
        if (it == arg.instance->items.end())
          fail(fmt::format("instantiation argument is missing export `{}`", en));
        out.instance->items[en] = bindArg(s, e, it->second);
      }
    }
    return out;
  }

  void body(PScope& s, const Component& c, const std::map<std::string, Item, std::less<>>* args) {
    size_t import_count = 0;
    for (const Definition& def : c.definitions) {
      if (auto* m = std::get_if<std::pair<size_t, size_t>>(&def)) {
        s.modules.push_back(compileModule(*m));
      } else if (auto* ci = std::get_if<CoreInstance>(&def)) {
        CoreInst inst;
        if (ci->instantiate) {
          uint32_t mod = at(s.modules, ci->module, "core module");
          const engine::ModuleInfo& info = p_.modules[mod]->info();
          CoreStep step;
          step.module = mod;
          step.static_instance = s.static_id;
          for (const auto& imp : info.imports) {
            const CoreInst* arg = nullptr;
            for (const auto& [n, idx] : ci->args)
              if (n == imp.module) arg = &at(s.core_instances, idx, "core instance");
            if (!arg) fail(fmt::format("missing module instantiation argument `{}`", imp.module));
            auto e = arg->exports.find(imp.name);
            if (e == arg->exports.end())
              fail(fmt::format("core module {} imports `{}`.`{}`, which its argument does not export",
                               mod, imp.module, imp.name));
            if (e->second.second != imp.type.kind)
              fail(fmt::format("core module {} import `{}`.`{}` has the wrong kind", mod,
                               imp.module, imp.name));
            step.imports.push_back(e->second.first);
          }
          p_.steps.push_back(std::move(step));
          inst.slot = static_cast<int32_t>(p_.steps.size() - 1);
          for (size_t i = 0; i < info.exports.size(); ++i)
            inst.exports[info.exports[i].name] = {
                CoreRef{CoreRef::Kind::kExport, static_cast<uint32_t>(inst.slot),
                        static_cast<uint32_t>(i)},
                info.exports[i].type.kind};
        } else {
          for (const auto& [n, si] : ci->exports) {
            const CoreRef& r = at(coreSpace(s, si.sort), si.index, sortName(si.sort));
            engine::ExternKind k = si.sort == Sort::kCoreFunc     ? engine::ExternKind::kFunc
                                   : si.sort == Sort::kCoreTable  ? engine::ExternKind::kTable
                                   : si.sort == Sort::kCoreMemory ? engine::ExternKind::kMemory
                                   : si.sort == Sort::kCoreGlobal ? engine::ExternKind::kGlobal
                                                                  : engine::ExternKind::kTag;
            inst.exports[n] = {r, k};
          }
        }
        s.core_instances.push_back(std::move(inst));
      } else if (std::get_if<std::shared_ptr<CoreType>>(&def)) {
        // core types only matter to validation
      } else if (auto* nested = std::get_if<std::shared_ptr<Component>>(&def)) {
        Item it;
        it.kind = EK::kComponent;
        it.component = nested->get();
        it.closure = &s;
        s.components.push_back(it);
      } else if (auto* inst = std::get_if<Instance>(&def)) {
        Item it;
        it.kind = EK::kInstance;
        it.instance = std::make_shared<InstanceVal>();
        if (inst->instantiate) {
          const Item& cv = at(s.components, inst->component, "component");
          std::map<std::string, Item, std::less<>> nargs;
          for (const auto& [n, si] : inst->args) nargs[n] = itemOf(s, si);
          // Nested scopes live as long as the plan is being built (closures may refer to them).
          scopes_.push_back(std::make_unique<PScope>());
          PScope& ns = *scopes_.back();
          ns.parent = cv.closure;
          ns.spaces = &p_.info.spaces.at(cv.component);
          ns.static_id = newStatic(static_cast<int32_t>(cv.closure->static_id));
          body(ns, *cv.component, &nargs);
          for (const auto& [k, v] : p_.statics[ns.static_id].resources)
            p_.statics[s.static_id].resources.emplace(k, v);
          it.instance->items = ns.exports;
        } else {
          for (const auto& [n, si] : inst->exports) it.instance->items[n.name] = itemOf(s, si);
        }
        s.instances.push_back(it);
      } else if (auto* a = std::get_if<Alias>(&def)) {
        alias(s, *a);
      } else if (auto* td = std::get_if<std::shared_ptr<TypeDef>>(&def)) {
        Item it;
        it.kind = EK::kType;
        size_t idx = s.types.size();
        it.type = at(s.spaces->types, static_cast<uint32_t>(idx), "type");
        if ((*td)->kind == TypeDef::Kind::kResource) {
          LocalResourceDef lr;
          lr.static_instance = s.static_id;
          if ((*td)->resource_dtor) {
            lr.dtor = at(s.core_funcs, *(*td)->resource_dtor, "core func");
            checkCoreFunc(*lr.dtor, {{engine::ValType::kI32}, {}}, "resource destructor");
          }
          p_.local_resources.push_back(lr);
          it.res = ResRef{nullptr, static_cast<int32_t>(p_.local_resources.size() - 1)};
        }
        pushItem(s, it);
      } else if (auto* cn = std::get_if<Canon>(&def)) {
        canon(s, *cn);
      } else if (std::get_if<StartDef>(&def)) {
        fail("component start functions are not supported");
      } else if (auto* imp = std::get_if<Import>(&def)) {
        const ExternItem& type =
            at(s.spaces->imports, static_cast<uint32_t>(import_count++), "import").second;
        Item item;
        if (!args) {
          item = hostImport(s, imp->name.name, type);
        } else {
          auto it = args->find(imp->name.name);
          if (it == args->end()) fail(fmt::format("missing instantiation argument `{}`", imp->name.name));
          item = bindArg(s, type, it->second);
        }
        if (type.kind == EK::kType && type.type && type.type->kind == K::kResource && item.res)
          bindRes(s.static_id, type.type.get(), *item.res);
        pushItem(s, item);
      } else if (auto* ex = std::get_if<Export>(&def)) {
        Item item = itemOf(s, ex->target);
        s.exports[ex->name.name] = item;
        pushItem(s, item);
      }
    }
  }

  void alias(PScope& s, const Alias& a) {
    switch (a.target) {
      case Alias::Target::kInstanceExport: {
        const Item& inst = at(s.instances, a.instance, "instance");
        if (!inst.instance) fail(fmt::format("instance {} has no exports", a.instance));
        auto it = inst.instance->items.find(a.name);
        if (it == inst.instance->items.end())
          fail(fmt::format("instance {} has no export named `{}`", a.instance, a.name));
        pushItem(s, it->second);
        break;
      }
      case Alias::Target::kCoreInstanceExport: {
        const CoreInst& ci = at(s.core_instances, a.instance, "core instance");
        auto it = ci.exports.find(a.name);
        if (it == ci.exports.end())
          fail(fmt::format("core instance {} has no export named `{}`", a.instance, a.name));
        coreSpace(s, a.sort).push_back(it->second.first);
        break;
      }
      case Alias::Target::kOuter: {
        PScope* t = &s;
        for (uint32_t i = 0; i < a.outer_count; ++i) {
          if (!t->parent) fail("outer alias count exceeds nesting depth");
          t = t->parent;
        }
        switch (a.sort) {
          case Sort::kType:
            pushItem(s, at(t->types, a.outer_index, "type"));
            break;
          case Sort::kComponent:
            s.components.push_back(at(t->components, a.outer_index, "component"));
            break;
          case Sort::kCoreModule:
            s.modules.push_back(at(t->modules, a.outer_index, "core module"));
            break;
          case Sort::kCoreType:
            break;
          default:
            fail(fmt::format("outer aliases of {} are not supported", sortName(a.sort)));
        }
        break;
      }
    }
  }

  void canon(PScope& s, const Canon& cn) {
    switch (cn.kind) {
      case Canon::Kind::kLift: {
        LiftDef d;
        d.func = at(s.core_funcs, cn.func, "core func");
        d.type = at(s.spaces->types, cn.type, "type");
        d.opts = opts(s, cn.opts);
        d.static_instance = s.static_id;
        d.sig = abi::flatSignature(*d.type, /*lower=*/false);
        d.params = abi::paramsTuple(*d.type);
        checkCoreFunc(d.func, {d.sig.params, d.sig.results}, "canon lift");
        if (d.opts.post_return) checkCoreFunc(*d.opts.post_return, {d.sig.results, {}}, "post-return");
        p_.lifts.push_back(std::move(d));
        Item it;
        it.kind = EK::kFunc;
        it.type = p_.lifts.back().type;
        it.func = FuncVal{false, static_cast<uint32_t>(p_.lifts.size() - 1), it.type};
        it.type_static = s.static_id;
        s.funcs.push_back(it);
        break;
      }
      case Canon::Kind::kLower: {
        const Item& f = at(s.funcs, cn.func, "func");
        LowerDef d;
        d.callee = f.func;
        // The lowering side's view of the type (an import's declared type, not the callee's).
        d.type = f.type ? f.type : f.func.type;
        d.type_static = f.type_static;
        d.opts = opts(s, cn.opts);
        d.static_instance = s.static_id;
        d.sig = abi::flatSignature(*d.type, /*lower=*/true);
        d.params = abi::paramsTuple(*d.type);
        d.name = f.func.host ? p_.host_funcs[f.func.index].name : fmt::format("lift {}", f.func.index);
        p_.lowers.push_back(std::move(d));
        s.core_funcs.push_back(
            CoreRef{CoreRef::Kind::kLowered, static_cast<uint32_t>(p_.lowers.size() - 1), 0});
        break;
      }
      case Canon::Kind::kResourceNew:
      case Canon::Kind::kResourceDrop:
      case Canon::Kind::kResourceRep: {
        const CTypePtr& t = at(s.spaces->types, cn.type, "type");
        // The type's own binding first: an alias of a resource from one of two instances of the
        // same component has the identity of both.
        const Item& ti = at(s.types, cn.type, "type");
        auto r = ti.res ? ti.res : findRes(s.static_id, t.get());
        if (!r) fail(fmt::format("resource type {} is not bound to a definition", cn.type));
        if (cn.kind != Canon::Kind::kResourceDrop && r->local < 0)
          fail(fmt::format("resource.new/rep of a resource this component does not define"));
        p_.builtins.push_back(BuiltinDef{cn.kind, *r, s.static_id});
        s.core_funcs.push_back(
            CoreRef{CoreRef::Kind::kBuiltin, static_cast<uint32_t>(p_.builtins.size() - 1), 0});
        break;
      }
      case Canon::Kind::kOther:
        fail(fmt::format("canonical built-in {:#x} (async, threads or error-context) is not "
                         "supported",
                         cn.opcode));
    }
  }

  PlanData& p_;
  const Linker& linker_;
  std::span<const uint8_t> bytes_;
  std::map<size_t, uint32_t> module_ids_;
  std::vector<std::unique_ptr<PScope>> scopes_;
};

}  // namespace

// ---- run time ----

namespace {

struct HandleEntry {
  const ResourceType* type = nullptr;  // null: free slot
  uint32_t rep = 0;
  bool own = false;
  uint32_t lend_count = 0;
  uint32_t* borrow_scope = nullptr;  // borrows: the call's count of outstanding borrows
};

// A component instance's table of handles (index 0 is never valid).
class HandleTable {
 public:
  uint32_t add(HandleEntry e) {
    if (!free_.empty()) {
      uint32_t h = free_.back();
      free_.pop_back();
      entries_[h] = e;
      return h;
    }
    if (entries_.empty()) entries_.emplace_back();
    entries_.push_back(e);
    return static_cast<uint32_t>(entries_.size() - 1);
  }
  HandleEntry& get(uint32_t h) {
    if (h == 0 || h >= entries_.size() || !entries_[h].type)
      throw abi::AbiTrap(fmt::format("unknown handle index {}", h));
    return entries_[h];
  }
  HandleEntry remove(uint32_t h) {
    HandleEntry e = get(h);
    entries_[h] = HandleEntry{};
    free_.push_back(h);
    return e;
  }

 private:
  std::vector<HandleEntry> entries_;
  std::vector<uint32_t> free_;
};

struct CachedOpts {
  bool resolved = false;
  wasm_rt_memory_t* memory = nullptr;
  engine::Func realloc, post_return, func;
  bool has_realloc = false, has_post_return = false;
};

}  // namespace

struct ComponentInstance::State {
  std::vector<std::shared_ptr<engine::Instance>> cores;
  std::vector<engine::Extern> lowered, builtins;
  std::vector<std::unique_ptr<ResourceType>> locals;
  std::vector<HandleTable> tables;  // per static instance
  std::vector<uint8_t> entered;     // per static instance: on the call stack
  // Per static instance: it may not leave (CanonicalABI.md's `may_leave` is false) while the
  // canonical ABI calls its realloc to lower values into it and while its post-return runs;
  // calling an import or resource.new/drop then traps.
  std::vector<uint8_t> no_leave;
  std::vector<CachedOpts> lift_cache, lower_cache;
  engine::Store store;
  // Set by the first trap inside the instance: it may not run again ("lockdown", Explainer.md's
  // component invariants), since its state may be half-updated.
  std::optional<std::string> trapped;
};

namespace {

class Runtime {
 public:
  Runtime(ComponentInstance& inst, const PlanData& p)
      : inst_(inst), p_(p), st_(inst.state()) {}

  engine::Extern resolve(const CoreRef& r) {
    switch (r.kind) {
      case CoreRef::Kind::kExport:
        if (!st_.cores[r.index]) throw abi::AbiTrap("core instance used before it was created");
        return st_.cores[r.index]->exportAt(r.export_index);
      case CoreRef::Kind::kLowered:
        return st_.lowered[r.index];
      case CoreRef::Kind::kBuiltin:
        return st_.builtins[r.index];
    }
    return {};
  }

  const ResourceType* resourceType(uint32_t static_id, const CType& resource) {
    const CType* id = resourceIdentity(&resource);
    for (int32_t s = static_cast<int32_t>(static_id); s >= 0; s = p_.statics[s].parent) {
      auto it = p_.statics[s].resources.find(id);
      if (it != p_.statics[s].resources.end())
        return it->second.host ? it->second.host : st_.locals[it->second.local].get();
    }
    throw abi::AbiTrap(fmt::format("resource type {} is unknown to this component instance",
                                   resource.name));
  }

  CachedOpts& cache(CachedOpts& c, const OptsRt& o, const CoreRef* func) {
    if (c.resolved) return c;
    if (o.memory) c.memory = static_cast<wasm_rt_memory_t*>(resolve(*o.memory).object);
    if (o.realloc) {
      c.realloc = resolve(*o.realloc).func;
      c.has_realloc = true;
    }
    if (o.post_return) {
      c.post_return = resolve(*o.post_return).func;
      c.has_post_return = true;
    }
    if (func) c.func = resolve(*func).func;
    c.resolved = true;
    return c;
  }

  class Handles : public abi::HandleOps {
   public:
    // `static_id`: the instance whose table holds the handles; `type_static`: the one whose
    // bindings resolve the types' resources (see Item::type_static).
    Handles(Runtime& rt, uint32_t static_id, uint32_t type_static, uint32_t* borrows)
        : rt_(rt), static_id_(static_id), type_static_(type_static), borrows_(borrows) {}
    ~Handles() override {
      for (uint32_t h : lent_) {
        try {
          auto& e = rt_.st_.tables[static_id_].get(h);
          if (e.lend_count) --e.lend_count;
        } catch (const abi::AbiTrap&) {
        }
      }
    }
    Val liftOwn(const CType& resource, uint32_t h) override {
      const ResourceType* t = rt_.resourceType(type_static_, resource);
      HandleEntry& e = table().get(h);
      if (e.type != t) throw abi::AbiTrap(fmt::format("handle {} is not a {}", h, t->name));
      if (!e.own) throw abi::AbiTrap(fmt::format("handle {} is a borrow, not an owned handle", h));
      if (e.lend_count) throw abi::AbiTrap(fmt::format("handle {} is still lent out", h));
      HandleEntry x = table().remove(h);
      return Val::own(t, x.rep);
    }
    Val liftBorrow(const CType& resource, uint32_t h) override {
      const ResourceType* t = rt_.resourceType(type_static_, resource);
      HandleEntry& e = table().get(h);
      if (e.type != t) throw abi::AbiTrap(fmt::format("handle {} is not a {}", h, t->name));
      if (e.own) {
        ++e.lend_count;
        lent_.push_back(h);
      }
      return Val::borrow(t, e.rep);
    }
    uint32_t lowerOwn(const CType& resource, const Val& v) override {
      const ResourceType* t = rt_.resourceType(type_static_, resource);
      if (v.resourceType() != t)  // lowered handles come from the host: its error
        throw ValKindError(fmt::format("expected a {} handle, got {}", t->name,
                                       v.resourceType() ? v.resourceType()->name : "null"));
      if (v.kind() != Val::Kind::kOwn) throw ValKindError("expected an owned handle");
      return table().add(HandleEntry{t, v.rep(), true, 0, nullptr});
    }
    uint32_t lowerBorrow(const CType& resource, const Val& v) override {
      const ResourceType* t = rt_.resourceType(type_static_, resource);
      if (v.resourceType() != t)  // lowered handles come from the host: its error
        throw ValKindError(fmt::format("expected a {} handle, got {}", t->name,
                                       v.resourceType() ? v.resourceType()->name : "null"));
      // A borrow of a resource this instance defines is passed as its representation.
      if (t->owner == &rt_.inst_ &&
          rt_.p_.local_resources[t->local_index].static_instance == static_id_)
        return v.rep();
      if (!borrows_) throw abi::AbiTrap("borrow handles cannot be returned");
      ++*borrows_;
      return table().add(HandleEntry{t, v.rep(), false, 0, borrows_});
    }

   private:
    HandleTable& table() { return rt_.st_.tables[static_id_]; }
    Runtime& rt_;
    uint32_t static_id_;
    uint32_t type_static_;
    uint32_t* borrows_;
    std::vector<uint32_t> lent_;
  };

  Expected<Val> callFunc(const FuncVal& f, std::vector<Val>& args,
                         const engine::CallOptions& options) {
    if (f.host) {
      const HostFuncDef& h = p_.host_funcs[f.index];
      CallContext cx(inst_, inst_.data());
      try {
        auto r = (*h.fn)(cx, args);
        if (!r.ok()) {
          Error e = std::move(r).error();
          if (e.code() == ErrorCode::kTrap) return e;
          return Error(ErrorCode::kTrap, fmt::format("{}: {}", h.name, e.message()));
        }
        return std::move(*r);
      } catch (const ValKindError& e) {
        return makeError(ErrorCode::kTrap, "{}: the component's type for this import does not "
                                           "match the host's: {}", h.name, e.what());
      } catch (const abi::AbiTrap& e) {
        return makeError(ErrorCode::kTrap, "{}: {}", h.name, e.what());
      }
    }
    return callLifted(f.index, args, options);
  }

  // Clears `may_leave` of a static instance for a scope (see State::no_leave).
  struct NoLeave {
    explicit NoLeave(uint8_t& flag) : flag_(flag), old_(flag) { flag_ = 1; }
    ~NoLeave() { flag_ = old_; }
    NoLeave(const NoLeave&) = delete;
    NoLeave& operator=(const NoLeave&) = delete;

   private:
    uint8_t& flag_;
    uint8_t old_;
  };

  Expected<void> checkMayLeave(uint32_t static_id, std::string_view what) {
    if (!st_.no_leave[static_id]) return {};
    return makeError(ErrorCode::kTrap,
                     "cannot leave component instance: {} called during post-return or realloc",
                     what);
  }

  Expected<Val> callLifted(uint32_t id, std::vector<Val>& args,
                           const engine::CallOptions& options) {
    const LiftDef& d = p_.lifts[id];
    if (args.size() != d.type->fields.size())
      return makeError(ErrorCode::kInvalidArgument, "function takes {} arguments, {} given",
                       d.type->fields.size(), args.size());
    if (st_.entered[d.static_instance])
      return makeError(ErrorCode::kTrap,
                       "cannot enter component instance: it is already on the call stack");
    if (st_.trapped)
      return makeError(ErrorCode::kTrap, "cannot enter component instance: it trapped earlier ({})",
                       *st_.trapped);
    // Once the guest has run, a failure leaves it in an unknown state: lock the instance down.
    bool ran = false;
    auto lockdown = [&](Error e) {
      if (ran && !st_.trapped) st_.trapped = e.message();
      return e;
    };
    st_.entered[d.static_instance] = 1;
    struct Leave {
      uint8_t& flag;
      ~Leave() { flag = 0; }
    } leave{st_.entered[d.static_instance]};
    CachedOpts& c = cache(st_.lift_cache[id], d.opts, &d.func);
    uint32_t borrows = 0;
    Val result;
    std::vector<engine::Cell> cells;
    try {
      Handles handles(*this, d.static_instance, d.static_instance, &borrows);
      abi::Context cx{c.memory, c.has_realloc ? &c.realloc : nullptr, d.opts.encoding, &handles};
      {
        NoLeave no_leave(st_.no_leave[d.static_instance]);  // lower_flat_values
        if (d.sig.params_in_memory) {
          uint32_t ptr = abi::allocate(cx, abi::alignment(*d.params), abi::size(*d.params));
          abi::store(cx, d.params, Val::tuple(std::move(args)), ptr);
          engine::Cell cell{};
          cell.i32 = ptr;
          cells.push_back(cell);
        } else {
          for (size_t i = 0; i < args.size(); ++i)
            abi::lowerFlat(cx, d.type->fields[i].second, args[i], cells);
        }
      }
      cells.resize(std::max<size_t>({cells.size(), d.sig.results.size(), 1}));
      ran = true;
      auto r = engine::callFunc(c.func, cells.data(), options);
      if (!r.ok()) return lockdown(std::move(r).error());
      if (d.type->result) {
        if (d.sig.results_in_memory) {
          result = abi::load(cx, d.type->result, cells[0].i32);
        } else {
          size_t pos = 0;
          result = abi::liftFlat(cx, d.type->result, std::span(cells.data(), d.sig.results.size()), pos);
        }
      }
    } catch (const abi::AbiTrap& e) {
      return lockdown(makeError(ErrorCode::kTrap, "canonical ABI: {}", e.what()));
    } catch (const ValKindError& e) {
      return makeError(ErrorCode::kInvalidArgument, "argument does not match the function type: {}",
                       e.what());
    }
    if (c.has_post_return) {
      std::vector<engine::Cell> pr(cells.begin(), cells.begin() + d.sig.results.size());
      pr.resize(std::max<size_t>(pr.size(), 1));
      NoLeave no_leave(st_.no_leave[d.static_instance]);
      auto r = engine::callFunc(c.post_return, pr.data(), options);
      if (!r.ok()) return lockdown(std::move(r).error());
    }
    if (borrows != 0)
      return lockdown(
          makeError(ErrorCode::kTrap, "borrow handles still remain at the end of the call"));
    return result;
  }

  Expected<void> callLowered(uint32_t id, engine::Cell* cells) {
    const LowerDef& d = p_.lowers[id];
    if (auto ok = checkMayLeave(d.static_instance, d.name); !ok.ok()) return ok;
    CachedOpts& c = cache(st_.lower_cache[id], d.opts, nullptr);
    try {
      Handles handles(*this, d.static_instance, d.type_static, nullptr);
      abi::Context cx{c.memory, c.has_realloc ? &c.realloc : nullptr, d.opts.encoding, &handles};
      std::vector<Val> args;
      if (d.sig.params_in_memory) {
        Val t = abi::load(cx, d.params, cells[0].i32);
        args = std::move(t.elems());
      } else {
        size_t pos = 0;
        std::span<const engine::Cell> in(cells, d.sig.params.size());
        args.reserve(d.type->fields.size());
        for (const auto& [n, t] : d.type->fields) args.push_back(abi::liftFlat(cx, t, in, pos));
      }
      auto r = callFunc(d.callee, args, {});
      if (!r.ok()) return std::move(r).error();
      NoLeave no_leave(st_.no_leave[d.static_instance]);  // lower_flat_values
      if (d.type->result) {
        if (d.sig.results_in_memory) {
          abi::store(cx, d.type->result, *r, cells[d.sig.params.size() - 1].i32);
        } else {
          std::vector<engine::Cell> out;
          abi::lowerFlat(cx, d.type->result, *r, out);
          if (!out.empty()) cells[0] = out[0];
        }
      }
    } catch (const abi::AbiTrap& e) {
      return makeError(ErrorCode::kTrap, "{}: canonical ABI: {}", d.name, e.what());
    } catch (const ValKindError& e) {
      return makeError(ErrorCode::kTrap, "{}: the host returned a value that does not match the "
                                         "component's type: {}", d.name, e.what());
    }
    return {};
  }

  Expected<void> callBuiltin(uint32_t id, engine::Cell* cells) {
    const BuiltinDef& b = p_.builtins[id];
    HandleTable& table = st_.tables[b.static_instance];
    const ResourceType* t =
        b.resource.host ? b.resource.host : st_.locals[b.resource.local].get();
    if (b.kind == Canon::Kind::kResourceNew || b.kind == Canon::Kind::kResourceDrop) {
      auto ok = checkMayLeave(b.static_instance, b.kind == Canon::Kind::kResourceNew
                                                     ? "resource.new"
                                                     : "resource.drop");
      if (!ok.ok()) return ok;
    }
    try {
      switch (b.kind) {
        case Canon::Kind::kResourceNew:
          cells[0].i32 = table.add(HandleEntry{t, cells[0].i32, true, 0, nullptr});
          return {};
        case Canon::Kind::kResourceRep: {
          HandleEntry& e = table.get(cells[0].i32);
          if (e.type != t) throw abi::AbiTrap(fmt::format("handle {} is not a {}", cells[0].i32, t->name));
          cells[0].i32 = e.rep;
          return {};
        }
        case Canon::Kind::kResourceDrop: {
          HandleEntry& e = table.get(cells[0].i32);
          if (e.type != t) throw abi::AbiTrap(fmt::format("handle {} is not a {}", cells[0].i32, t->name));
          if (e.own && e.lend_count)
            throw abi::AbiTrap(fmt::format("cannot drop handle {}: it is still lent out", cells[0].i32));
          HandleEntry x = table.remove(cells[0].i32);
          if (!x.own) {
            if (x.borrow_scope && *x.borrow_scope) --*x.borrow_scope;
            return {};
          }
          return destroy(t, x.rep);
        }
        default:
          break;
      }
    } catch (const abi::AbiTrap& e) {
      return makeError(ErrorCode::kTrap, "{}", e.what());
    }
    return {};
  }

  Expected<void> destroy(const ResourceType* t, uint32_t rep) {
    if (t->isHost()) {
      if (t->host_dtor) {
        CallContext cx(inst_, inst_.data());
        t->host_dtor(cx, rep);
      }
      return {};
    }
    const LocalResourceDef& lr = p_.local_resources[t->local_index];
    if (!lr.dtor) return {};
    Runtime owner(*t->owner, t->owner->plan().data());
    engine::Extern f = owner.resolve(*lr.dtor);
    engine::Cell cell{};
    cell.i32 = rep;
    return engine::callFunc(f.func, &cell);
  }

 private:
  friend class Handles;
  ComponentInstance& inst_;
  const PlanData& p_;
  ComponentInstance::State& st_;
};

}  // namespace

// ---- ComponentPlan ----

ComponentPlan::~ComponentPlan() = default;
const ComponentInfo& ComponentPlan::info() const { return data_->info; }
engine::Engine& ComponentPlan::engine() const { return *data_->engine; }

Expected<std::shared_ptr<ComponentPlan>> ComponentPlan::create(engine::Engine& engine,
                                                               std::span<const uint8_t> bytes,
                                                               const Linker& linker) {
  auto plan = std::shared_ptr<ComponentPlan>(new ComponentPlan());
  plan->data_ = std::make_unique<PlanData>();
  PlanData& p = *plan->data_;
  p.engine = &engine;
  CUMULUS_TRY(p.ast, decode(bytes));
  CUMULUS_TRY(p.info, resolve(p.ast, bytes));
  try {
    Planner(p, linker, bytes).root();
  } catch (const PlanError& e) {
    return makeError(e.code, "{}", e.message);
  }
  return plan;
}

Expected<std::shared_ptr<ComponentInstance>> ComponentPlan::instantiate(
    void* data, const InstantiateOptions& options) const {
  const PlanData& p = *data_;
  auto inst = std::shared_ptr<ComponentInstance>(new ComponentInstance());
  inst->plan_ = shared_from_this();
  inst->data_ = data;
  inst->state_ = std::make_unique<ComponentInstance::State>();
  ComponentInstance::State& st = *inst->state_;
  ComponentInstance* self = inst.get();
  st.locals.reserve(p.local_resources.size());
  for (size_t i = 0; i < p.local_resources.size(); ++i) {
    auto t = std::make_unique<ResourceType>();
    t->name = fmt::format("resource {}", i);
    t->owner = self;
    t->local_index = static_cast<uint32_t>(i);
    st.locals.push_back(std::move(t));
  }
  st.tables.resize(p.statics.size());
  st.entered.assign(p.statics.size(), 0);
  st.no_leave.assign(p.statics.size(), 0);
  st.lift_cache.resize(p.lifts.size());
  st.lower_cache.resize(p.lowers.size());
  st.lowered.reserve(p.lowers.size());
  for (size_t i = 0; i < p.lowers.size(); ++i) {
    auto f = std::make_shared<engine::HostFunc>();
    f->type.params = p.lowers[i].sig.params;
    f->type.results = p.lowers[i].sig.results;
    f->name = p.lowers[i].name;
    f->callback = [self, i](engine::Caller&, engine::Cell* cells) -> Expected<void> {
      return Runtime(*self, self->plan().data()).callLowered(static_cast<uint32_t>(i), cells);
    };
    st.lowered.push_back(engine::makeHostFunc(std::move(f)));
  }
  for (size_t i = 0; i < p.builtins.size(); ++i) {
    auto f = std::make_shared<engine::HostFunc>();
    f->type.params = {engine::ValType::kI32};
    if (p.builtins[i].kind != Canon::Kind::kResourceDrop) f->type.results = {engine::ValType::kI32};
    f->name = "resource builtin";
    f->callback = [self, i](engine::Caller&, engine::Cell* cells) -> Expected<void> {
      return Runtime(*self, self->plan().data()).callBuiltin(static_cast<uint32_t>(i), cells);
    };
    st.builtins.push_back(engine::makeHostFunc(std::move(f)));
  }
  Runtime rt(*inst, p);
  engine::InstanceOptions io;
  io.memory_limit_bytes = options.memory_limit_bytes;
  io.store = &st.store;
  st.cores.resize(p.steps.size());
  for (size_t i = 0; i < p.steps.size(); ++i) {
    const CoreStep& step = p.steps[i];
    std::vector<engine::Extern> imports;
    imports.reserve(step.imports.size());
    for (const CoreRef& r : step.imports) imports.push_back(rt.resolve(r));
    // A start function calling back into a function lifted by the same body re-enters it.
    st.entered[step.static_instance] = 1;
    auto ci = engine::Instance::create(*p.engine, p.modules[step.module], std::move(imports), io);
    st.entered[step.static_instance] = 0;
    if (!ci.ok())
      return std::move(ci).error().withContext(
          fmt::format("instantiating core instance {} (module {})", i, step.module));
    st.cores[i] = std::move(*ci);
  }
  return inst;
}

// ---- ComponentInstance ----

ComponentInstance::~ComponentInstance() = default;

namespace {

// A root-level export (`iface` empty) or an item of an exported instance (semver-compatible).
const Item* findExport(const PlanData& p, std::string_view iface, std::string_view name) {
  const Item* item = nullptr;
  if (iface.empty()) {
    auto it = p.exports.find(name);
    if (it != p.exports.end()) item = &it->second;
  } else {
    // The exact name if exported, else the newest semver-compatible version.
    std::optional<SemVer> best;
    for (const auto& [n, x] : p.exports) {
      if (x.kind != EK::kInstance || !x.instance || !semverCompatible(iface, n)) continue;
      auto it = x.instance->items.find(name);
      if (it == x.instance->items.end()) continue;
      if (n == iface) {
        item = &it->second;
        break;
      }
      auto v = parseSemver(splitVersion(n).second);
      if (!item || (v && best &&
                    std::tie(v->major, v->minor, v->patch) >
                        std::tie(best->major, best->minor, best->patch))) {
        item = &it->second;
        best = v;
      }
    }
  }
  return item;
}

}  // namespace

std::optional<FuncHandle> ComponentInstance::exportFunc(std::string_view iface,
                                                        std::string_view name) const {
  const Item* item = findExport(plan_->data(), iface, name);
  if (!item || item->kind != EK::kFunc) return std::nullopt;
  return FuncHandle{item->func.host, item->func.index, item->func.type};
}

const ResourceType* ComponentInstance::exportResource(std::string_view iface,
                                                      std::string_view name) const {
  const Item* item = findExport(plan_->data(), iface, name);
  if (!item || item->kind != EK::kType || !item->res) return nullptr;
  if (item->res->host) return item->res->host;
  return state_->locals[static_cast<size_t>(item->res->local)].get();
}

Expected<Val> ComponentInstance::call(const FuncHandle& f, std::vector<Val> args,
                                      const engine::CallOptions& options) {
  Runtime rt(*this, plan_->data());
  return rt.callFunc(FuncVal{f.host, f.index, f.type}, args, options);
}

}  // namespace cumulus::component
