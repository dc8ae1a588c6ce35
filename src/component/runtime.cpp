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

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "component/abi.h"
#include "component/names.h"
#include "component/plan_data.h"

namespace cumulus::component {

using namespace plan;

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
    if (entries_.empty()) {
      entries_.reserve(16);  // one allocation for a request's first handles
      free_.reserve(16);
      entries_.emplace_back();
    }
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

// A vector borrowed from a per-thread free list for one call's flat values or arguments, so the
// dozens of host calls of a request allocate nothing for them. Calls nest (a host function may
// call into another instance): each borrows its own vector.
template <typename T>
class Scratch {
 public:
  Scratch() {
    auto& free = freeList();
    if (!free.empty()) {
      v_ = std::move(free.back());
      free.pop_back();
    }
  }
  ~Scratch() {
    v_.clear();
    if (v_.capacity() <= kKeepCapacity) freeList().push_back(std::move(v_));
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  std::vector<T>& operator*() { return v_; }
  std::vector<T>* operator->() { return &v_; }

 private:
  static constexpr size_t kKeepCapacity = 64;
  static std::vector<std::vector<T>>& freeList() {
    thread_local std::vector<std::vector<T>> free;
    return free;
  }
  std::vector<T> v_;
};

// A lift's or lower's options resolved against one component instance, on first use.
struct CachedOpts {
  bool resolved = false;
  bool has_realloc = false, has_post_return = false;
  wasm_rt_memory_t* memory = nullptr;
  abi::CoreFunc realloc, post_return, func;
};

}  // namespace

struct ComponentInstance::State {
  std::vector<std::shared_ptr<engine::Instance>> cores;
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
  Runtime(ComponentInstance& inst, const PlanData& p) : inst_(inst), p_(p), st_(inst.state()) {}

  // The three forms of a core reference: an Extern (Instance::create), a LinkedImport
  // (Instance::createLinked; false for an object of an interpreter-tier instance, which has no
  // native form) and a CoreFunc (what the runtime calls).
  engine::Extern resolve(const CoreRef& r) {
    if (r.kind == CoreRef::Kind::kExport) return core(r).exportAt(r.export_index);
    return planFunc(r);
  }
  bool resolveLinked(const CoreRef& r, engine::LinkedImport* out) {
    if (r.kind == CoreRef::Kind::kExport) return core(r).linkedExport(r.export_index, out);
    out->func = &planFunc(r).func;
    return true;
  }
  abi::CoreFunc coreFunc(const CoreRef& r) {
    if (r.kind == CoreRef::Kind::kExport) return abi::CoreFunc{&core(r), r.export_index, nullptr};
    return abi::CoreFunc{nullptr, 0, &planFunc(r).func};
  }

  // Core instance r.index (a kExport reference), which must exist by now.
  engine::Instance& core(const CoreRef& r) {
    if (!st_.cores[r.index]) throw abi::AbiTrap("core instance used before it was created");
    return *st_.cores[r.index];
  }
  // The plan's host function for a kLowered or kBuiltin reference.
  const engine::Extern& planFunc(const CoreRef& r) {
    return r.kind == CoreRef::Kind::kLowered ? p_.lowered[r.index] : p_.builtin_funcs[r.index];
  }

  const ResourceType* resourceType(uint32_t static_id, const CType& resource) {
    const CType* id = resourceIdentity(&resource);
    for (int32_t s = static_cast<int32_t>(static_id); s >= 0; s = p_.statics[s].parent) {
      auto it = p_.statics[s].resources.find(id);
      if (it != p_.statics[s].resources.end())
        return it->second.host ? it->second.host : st_.locals[it->second.local].get();
    }
    throw abi::AbiTrap(
        fmt::format("resource type {} is unknown to this component instance", resource.name));
  }

  CachedOpts& cache(CachedOpts& c, const OptsRt& o, const CoreRef* func) {
    if (c.resolved) return c;
    // A memory of an interpreter-tier instance has no native form: it stays null.
    if (engine::LinkedImport li; o.memory && resolveLinked(*o.memory, &li))
      c.memory = static_cast<wasm_rt_memory_t*>(li.object);
    if (o.realloc) {
      c.realloc = coreFunc(*o.realloc);
      c.has_realloc = true;
    }
    if (o.post_return) {
      c.post_return = coreFunc(*o.post_return);
      c.has_post_return = true;
    }
    if (func) c.func = coreFunc(*func);
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
      auto release = [&](uint32_t h) {
        try {
          auto& e = rt_.st_.tables[static_id_].get(h);
          if (e.lend_count) --e.lend_count;
        } catch (const abi::AbiTrap&) {
        }
      };
      for (size_t i = 0; i < std::min(lent_count_, kLentInline); ++i) release(lent_[i]);
      for (uint32_t h : lent_more_) release(h);
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
        if (lent_count_ < kLentInline)
          lent_[lent_count_] = h;
        else
          lent_more_.push_back(h);
        ++lent_count_;
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
    // Handles lent for this call (a call lends a few: no allocation for those).
    static constexpr size_t kLentInline = 8;
    uint32_t lent_[kLentInline];
    size_t lent_count_ = 0;
    std::vector<uint32_t> lent_more_;
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
        return makeError(ErrorCode::kTrap,
                         "{}: the component's type for this import does not "
                         "match the host's: {}",
                         h.name, e.what());
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
    Scratch<engine::Cell> scratch;
    std::vector<engine::Cell>& cells = *scratch;
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
      auto r = c.func.call(cells.data(), options, &inst_);
      if (!r.ok()) return lockdown(std::move(r).error());
      if (d.type->result) {
        if (d.sig.results_in_memory) {
          result = abi::load(cx, d.type->result, cells[0].i32);
        } else {
          size_t pos = 0;
          result =
              abi::liftFlat(cx, d.type->result, std::span(cells.data(), d.sig.results.size()), pos);
        }
      }
    } catch (const abi::AbiTrap& e) {
      return lockdown(makeError(ErrorCode::kTrap, "canonical ABI: {}", e.what()));
    } catch (const ValKindError& e) {
      return makeError(ErrorCode::kInvalidArgument, "argument does not match the function type: {}",
                       e.what());
    }
    if (c.has_post_return) {
      cells.resize(std::max<size_t>(d.sig.results.size(), 1));  // post-return takes the results
      NoLeave no_leave(st_.no_leave[d.static_instance]);
      auto r = c.post_return.call(cells.data(), options, &inst_);
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
      Scratch<Val> scratch;
      std::vector<Val>& args = *scratch;
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
          Scratch<engine::Cell> scratch_out;
          std::vector<engine::Cell>& out = *scratch_out;
          abi::lowerFlat(cx, d.type->result, *r, out);
          if (!out.empty()) cells[0] = out[0];
        }
      }
    } catch (const abi::AbiTrap& e) {
      return makeError(ErrorCode::kTrap, "{}: canonical ABI: {}", d.name, e.what());
    } catch (const ValKindError& e) {
      return makeError(ErrorCode::kTrap,
                       "{}: the host returned a value that does not match the "
                       "component's type: {}",
                       d.name, e.what());
    }
    return {};
  }

  Expected<void> callBuiltin(uint32_t id, engine::Cell* cells) {
    const BuiltinDef& b = p_.builtins[id];
    HandleTable& table = st_.tables[b.static_instance];
    const ResourceType* t = b.resource.host ? b.resource.host : st_.locals[b.resource.local].get();
    if (b.kind == Canon::Kind::kResourceNew || b.kind == Canon::Kind::kResourceDrop) {
      auto ok =
          checkMayLeave(b.static_instance,
                        b.kind == Canon::Kind::kResourceNew ? "resource.new" : "resource.drop");
      if (!ok.ok()) return ok;
    }
    try {
      switch (b.kind) {
        case Canon::Kind::kResourceNew:
          cells[0].i32 = table.add(HandleEntry{t, cells[0].i32, true, 0, nullptr});
          return {};
        case Canon::Kind::kResourceRep: {
          HandleEntry& e = table.get(cells[0].i32);
          if (e.type != t)
            throw abi::AbiTrap(fmt::format("handle {} is not a {}", cells[0].i32, t->name));
          cells[0].i32 = e.rep;
          return {};
        }
        case Canon::Kind::kResourceDrop: {
          HandleEntry& e = table.get(cells[0].i32);
          if (e.type != t)
            throw abi::AbiTrap(fmt::format("handle {} is not a {}", cells[0].i32, t->name));
          if (e.own && e.lend_count)
            throw abi::AbiTrap(
                fmt::format("cannot drop handle {}: it is still lent out", cells[0].i32));
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
    engine::Cell cell{};
    cell.i32 = rep;
    return owner.coreFunc(*lr.dtor).call(&cell, {}, t->owner);
  }

 private:
  friend class Handles;
  ComponentInstance& inst_;
  const PlanData& p_;
  ComponentInstance::State& st_;
};

}  // namespace

void makeCoreHostFuncs(PlanData& p) {
  // The calling core instance belongs to the component instance its user data names (direct
  // calls pass it to engine::callFunc).
  auto owner = [](engine::Caller& caller) -> Expected<ComponentInstance*> {
    auto* self = static_cast<ComponentInstance*>(caller.userData());
    if (!self) return makeError(ErrorCode::kTrap, "a component function was called outside its instance");
    return self;
  };
  p.lowered.clear();
  p.lowered.reserve(p.lowers.size());
  for (size_t i = 0; i < p.lowers.size(); ++i) {
    auto f = std::make_shared<engine::HostFunc>();
    f->type.params = p.lowers[i].sig.params;
    f->type.results = p.lowers[i].sig.results;
    f->name = p.lowers[i].name;
    f->callback = [owner, i](engine::Caller& caller, engine::Cell* cells) -> Expected<void> {
      CUMULUS_TRY(ComponentInstance * self, owner(caller));
      return Runtime(*self, self->plan().data()).callLowered(static_cast<uint32_t>(i), cells);
    };
    p.lowered.push_back(engine::makeHostFunc(std::move(f)));
  }
  p.builtin_funcs.clear();
  for (size_t i = 0; i < p.builtins.size(); ++i) {
    auto f = std::make_shared<engine::HostFunc>();
    f->type.params = {engine::ValType::kI32};
    if (p.builtins[i].kind != Canon::Kind::kResourceDrop) f->type.results = {engine::ValType::kI32};
    f->name = "resource builtin";
    f->callback = [owner, i](engine::Caller& caller, engine::Cell* cells) -> Expected<void> {
      CUMULUS_TRY(ComponentInstance * self, owner(caller));
      return Runtime(*self, self->plan().data()).callBuiltin(static_cast<uint32_t>(i), cells);
    };
    p.builtin_funcs.push_back(engine::makeHostFunc(std::move(f)));
  }
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
    t->name = "resource " + std::to_string(i);
    t->owner = self;
    t->local_index = static_cast<uint32_t>(i);
    st.locals.push_back(std::move(t));
  }
  st.tables.resize(p.statics.size());
  st.entered.assign(p.statics.size(), 0);
  st.no_leave.assign(p.statics.size(), 0);
  st.lift_cache.resize(p.lifts.size());
  st.lower_cache.resize(p.lowers.size());
  Runtime rt(*inst, p);
  engine::InstanceOptions io;
  io.memory_limit_bytes = options.memory_limit_bytes;
  io.store = &st.store;
  io.user_data = self;
  io.track_memory_pages = true;  // the canonical ABI touches memories with memcpy only
  st.cores.resize(p.steps.size());
  st.store.reserve(p.steps.size());
  // Reused: createLinked copies it out before any guest code runs (which could instantiate).
  thread_local std::vector<engine::LinkedImport> linked;
  for (size_t i = 0; i < p.steps.size(); ++i) {
    const CoreStep& step = p.steps[i];
    const auto& module = p.modules[step.module];
    // Linked imports (nothing copied or reference-counted: the component instance owns its core
    // instances, the plan its host functions, and validation type-checked every argument) unless
    // an interpreter-tier module is involved.
    bool use_linked = !module->interp();
    if (use_linked) {
      linked.assign(step.imports.size(), engine::LinkedImport{});
      for (size_t k = 0; k < step.imports.size() && use_linked; ++k)
        use_linked = rt.resolveLinked(step.imports[k], &linked[k]);
    }
    std::vector<engine::Extern> imports;
    if (!use_linked) {
      imports.reserve(step.imports.size());
      for (const CoreRef& r : step.imports) imports.push_back(rt.resolve(r));
    }
    // A start function calling back into a function lifted by the same body re-enters it.
    st.entered[step.static_instance] = 1;
    auto ci = use_linked ? engine::Instance::createLinked(*p.engine, module, linked, io)
                         : engine::Instance::create(*p.engine, module, std::move(imports), io);
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
