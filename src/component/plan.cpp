// Building the instantiation plan (see runtime.cpp for the design): walks a component's
// definitions once with static values, inlining nested components, binding imports to the linker
// and compiling every core module.
#include <fmt/format.h>

#include "component/decoder.h"
#include "component/names.h"
#include "component/plan_data.h"

namespace cumulus::component {

using namespace plan;

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
    s.spaces = &p_.info.spaces.at(p_.ast.get());
    s.static_id = newStatic(-1);
    body(s, *p_.ast, nullptr);
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
      if (idx < s.spaces->types.size() && item.res)
        bindRes(s.static_id, s.spaces->types[idx].get(), *item.res);
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

  // The resolver checks these signatures where it can read the core types (resolve.cpp
  // checkCoreSignatures); this check uses the engine's own types, so it also covers what the
  // resolver leaves unknown (types it does not model, such as GC ones): the canonical ABI calls
  // these functions with exactly `want`'s values, so any other type would make it read or write
  // values the function does not have.
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
            fail(fmt::format(
                "import `{}` needs function `{}`, which the host's {}@{} does not provide", name,
                en, iface->name, iface->version));
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
      if (!fn)
        fail(fmt::format("unknown import `{}`: the host does not provide this function", name));
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
              fail(fmt::format(
                  "core module {} imports `{}`.`{}`, which its argument does not export", mod,
                  imp.module, imp.name));
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
          if (it == args->end())
            fail(fmt::format("missing instantiation argument `{}`", imp->name.name));
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
        if (d.opts.post_return)
          checkCoreFunc(*d.opts.post_return, {d.sig.results, {}}, "post-return");
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
        d.name =
            f.func.host ? p_.host_funcs[f.func.index].name : fmt::format("lift {}", f.func.index);
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
        fail(
            fmt::format("canonical built-in {:#x} (async, threads or error-context) is not "
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

ComponentPlan::~ComponentPlan() = default;
const ComponentInfo& ComponentPlan::info() const { return data_->info; }
engine::Engine& ComponentPlan::engine() const { return *data_->engine; }

Expected<std::shared_ptr<ComponentPlan>> ComponentPlan::create(engine::Engine& engine,
                                                               std::span<const uint8_t> bytes,
                                                               const Linker& linker) {
  CUMULUS_TRY(auto decoded, decode(bytes));
  auto ast = std::make_unique<const Component>(std::move(decoded));
  CUMULUS_TRY(auto info, resolve(*ast, bytes));
  return create(engine, bytes, linker, std::move(ast), std::move(info));
}

Expected<std::shared_ptr<ComponentPlan>> ComponentPlan::create(
    engine::Engine& engine, std::span<const uint8_t> bytes, const Linker& linker,
    std::unique_ptr<const Component> decoded, ComponentInfo info) {
  auto plan = std::shared_ptr<ComponentPlan>(new ComponentPlan());
  plan->data_ = std::make_unique<PlanData>();
  PlanData& p = *plan->data_;
  p.engine = &engine;
  p.ast = std::move(decoded);
  p.info = std::move(info);
  try {
    Planner(p, linker, bytes).root();
  } catch (const PlanError& e) {
    return makeError(e.code, "{}", e.message);
  }
  makeCoreHostFuncs(p);
  return plan;
}

}  // namespace cumulus::component
