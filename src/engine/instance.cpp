// Instances, host objects and calls (see instance.h).
#include "engine/instance.h"

#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "base/log.h"
#include "engine/interp.h"
#include "engine/rt/runtime.h"

namespace cumulus::engine {

namespace {

uint8_t rtType(ValType t) {
  switch (t) {
    case ValType::kI32:
      return WASM_RT_I32;
    case ValType::kI64:
      return WASM_RT_I64;
    case ValType::kF32:
      return WASM_RT_F32;
    case ValType::kF64:
      return WASM_RT_F64;
    case ValType::kFuncRef:
      return WASM_RT_FUNCREF;
    case ValType::kExternRef:
      return WASM_RT_EXTERNREF;
    case ValType::kV128:
      return 6;
  }
  return 0;
}

Error trapError(int code, const char* where, const ModuleInfo& info) {
  rt::ThreadState& ts = rt::thread();
  std::string msg = rt::trapMessage(code);
  if ((code == CUMULUS_TRAP_HOST || code == CUMULUS_TRAP_RESOURCE) && !ts.host_message.empty())
    msg += ": " + ts.host_message;
  std::string fn;
  if (ts.trap_function) {
    // Generated names are "w2c_F<index>"; show the module's debug name when it has one.
    std::string_view f = ts.trap_function;
    if (f.starts_with("w2c_")) f.remove_prefix(4);
    std::string name(f);
    if (f.size() > 1 && f[0] == 'F' &&
        f.find_first_not_of("0123456789", 1) == std::string_view::npos) {
      size_t index = std::stoul(std::string(f.substr(1)));
      if (index < info.func_names.size() && !info.func_names[index].empty())
        name = info.func_names[index];
    }
    fn = fmt::format(" in function {}", name);
  }
  return Error(ErrorCode::kTrap, fmt::format("wasm trap: {}{} ({})", msg, fn, where))
      .withDetail(code);
}

struct HostMemoryBox {
  wasm_rt_memory_t mem{};
  ~HostMemoryBox() { wasm_rt_free_memory(&mem); }
};
struct HostFuncTableBox {
  wasm_rt_funcref_table_t table{};
  ~HostFuncTableBox() { wasm_rt_free_funcref_table(&table); }
};
struct HostExternTableBox {
  wasm_rt_externref_table_t table{};
  ~HostExternTableBox() { wasm_rt_free_externref_table(&table); }
};

struct AllocCtx {
  std::function<void()> fn;
};
void runAlloc(void* p) { static_cast<AllocCtx*>(p)->fn(); }

}  // namespace

uint32_t funcTypeIdOf(const FuncType& type) {
  std::vector<uint8_t> types;
  for (auto t : type.params) types.push_back(rtType(t));
  for (auto t : type.results) types.push_back(rtType(t));
  return rt::funcTypeId(static_cast<uint32_t>(type.params.size()),
                        static_cast<uint32_t>(type.results.size()), types.data());
}

uint32_t Module::exportFuncTypeId(uint32_t index) const {
  std::call_once(export_type_ids_once_, [this] {
    export_type_ids_.resize(info_.exports.size());
    for (size_t i = 0; i < info_.exports.size(); ++i)
      if (info_.exports[i].type.kind == ExternKind::kFunc)
        export_type_ids_[i] = funcTypeIdOf(info_.exports[i].type.func);
  });
  return export_type_ids_[index];
}

Expected<Extern> makeHostMemory(const MemoryType& type) {
  auto box = std::make_shared<HostMemoryBox>();
  AllocCtx ctx{[&] {
    wasm_rt_allocate_memory(&box->mem, static_cast<uint32_t>(type.limits.min),
                            static_cast<uint32_t>(type.limits.max.value_or(65536)));
  }};
  if (int code = rt::guardedCall(runAlloc, &ctx))
    return makeError(ErrorCode::kResourceLimit, "cannot create memory: {}", rt::trapMessage(code));
  Extern e;
  e.kind = ExternKind::kMemory;
  e.object = &box->mem;
  e.type.kind = ExternKind::kMemory;
  e.type.memory = type;
  e.owner = box;
  return e;
}

Expected<Extern> makeHostTable(const TableType& type) {
  Extern e;
  e.kind = ExternKind::kTable;
  e.type.kind = ExternKind::kTable;
  e.type.table = type;
  uint32_t max = static_cast<uint32_t>(type.limits.max.value_or(UINT32_MAX));
  int code;
  if (type.elem == ValType::kExternRef) {
    auto box = std::make_shared<HostExternTableBox>();
    AllocCtx ctx{
        [&] { wasm_rt_allocate_externref_table(&box->table, uint32_t(type.limits.min), max); }};
    code = rt::guardedCall(runAlloc, &ctx);
    e.object = &box->table;
    e.owner = box;
  } else {
    auto box = std::make_shared<HostFuncTableBox>();
    AllocCtx ctx{
        [&] { wasm_rt_allocate_funcref_table(&box->table, uint32_t(type.limits.min), max); }};
    code = rt::guardedCall(runAlloc, &ctx);
    e.object = &box->table;
    e.owner = box;
  }
  if (code)
    return makeError(ErrorCode::kResourceLimit, "cannot create table: {}", rt::trapMessage(code));
  return e;
}

Extern makeHostGlobal(const GlobalType& type, const Cell& value) {
  auto box = std::make_shared<Cell>(value);
  Extern e;
  e.kind = ExternKind::kGlobal;
  e.type.kind = ExternKind::kGlobal;
  e.type.global = type;
  e.object = box.get();
  e.owner = box;
  return e;
}

Extern makeHostFunc(std::shared_ptr<HostFunc> fn) {
  Extern e;
  e.kind = ExternKind::kFunc;
  e.type.kind = ExternKind::kFunc;
  e.func.type = &fn->type;
  e.func.host = std::move(fn);
  return e;
}

Expected<std::vector<Extern>> makeStubImports(const Module& module, uint64_t max_memory_pages,
                                              uint64_t max_table_elements) {
  std::vector<Extern> out;
  for (const auto& imp : module.info().imports) {
    switch (imp.type.kind) {
      case ExternKind::kFunc: {
        auto fn = std::make_shared<HostFunc>();
        fn->type = imp.type.func;
        fn->name = imp.module + "." + imp.name;
        size_t n = fn->type.results.size();
        fn->callback = [n](Caller&, Cell* cells) -> Expected<void> {
          for (size_t i = 0; i < n; ++i) std::memset(&cells[i], 0, sizeof(Cell));
          return {};
        };
        out.push_back(makeHostFunc(fn));
        break;
      }
      case ExternKind::kMemory: {
        if (imp.type.memory.limits.min > max_memory_pages)
          return makeError(ErrorCode::kResourceLimit, "imported memory {}.{} is too large",
                           imp.module, imp.name);
        CUMULUS_TRY(auto mem, makeHostMemory(imp.type.memory));
        out.push_back(std::move(mem));
        break;
      }
      case ExternKind::kTable: {
        if (imp.type.table.limits.min > max_table_elements)
          return makeError(ErrorCode::kResourceLimit, "imported table {}.{} is too large",
                           imp.module, imp.name);
        CUMULUS_TRY(auto table, makeHostTable(imp.type.table));
        out.push_back(std::move(table));
        break;
      }
      case ExternKind::kGlobal:
        out.push_back(makeHostGlobal(imp.type.global, Cell{}));
        break;
      case ExternKind::kTag:
        return makeError(ErrorCode::kUnsupported, "cannot stub tag import {}.{}", imp.module,
                         imp.name);
    }
  }
  return out;
}

wasm_rt_memory_t* Caller::memory() const { return instance_->defaultMemory(); }

Instance::Instance(Engine& engine, std::shared_ptr<Module> module)
    : engine_(engine), module_(std::move(module)) {}

std::shared_ptr<Instance> Instance::make(Engine& engine, std::shared_ptr<Module> module) {
  struct Allocated : Instance {  // make_shared needs a constructor it can reach
    Allocated(Engine& e, std::shared_ptr<Module> m) : Instance(e, std::move(m)) {}
  };
  return std::make_shared<Allocated>(engine, std::move(module));
}

Instance::~Instance() {
  if (data_) {
    if (instantiated_ || code_) code_->entry().free_instance(data_);
    std::free(data_);
  }
}

Tier Instance::tier() const { return code_ ? code_->tier() : Tier::kInterpreter; }

Expected<void> Instance::link(std::vector<Extern> imports) {
  const auto& wanted = module_->info().imports;
  if (imports.size() != wanted.size())
    return makeError(ErrorCode::kLinkError, "module needs {} imports, {} given", wanted.size(),
                     imports.size());
  for (size_t k = 0; k < wanted.size(); ++k) {
    const ImportDesc& want = wanted[k];
    const Extern& have = imports[k];
    auto fail = [&](std::string_view why) {
      return makeError(ErrorCode::kLinkError,
                       "incompatible import type for {}.{}: {} (wanted {}, got {})", want.module,
                       want.name, why, want.type.toString(),
                       have.kind == ExternKind::kFunc && have.func.type
                           ? "func " + have.func.type->toString()
                           : have.type.toString());
    };
    if (have.kind != want.type.kind) return fail("wrong kind");
    if (have.exporter && !module_->interp() &&
        (have.kind != ExternKind::kGlobal || have.type.global.mut))
      return fail("the memories, tables and mutable globals of an interpreter-tier (SIMD) module "
                  "can only be shared with another interpreter-tier module");
    if (have.kind != ExternKind::kFunc && !have.object && !have.exporter)
      return fail("the object has no storage");
    switch (want.type.kind) {
      case ExternKind::kFunc:
        if (!have.func.type || !(*have.func.type == want.type.func))
          return fail("signature differs");
        break;
      case ExternKind::kGlobal:
        if (!(have.type.global == want.type.global)) return fail("global type differs");
        break;
      case ExternKind::kMemory: {
        if (!have.object) break;  // an interpreter-tier memory: wabt::interp checks its limits
        auto* mem = static_cast<wasm_rt_memory_t*>(have.object);
        Limits actual{mem->pages, have.type.memory.limits.max};
        if (!limitsMatch(actual, want.type.memory.limits))
          return fail("memory limits do not match");
        break;
      }
      case ExternKind::kTable: {
        if (!have.object) break;  // an interpreter-tier table: wabt::interp checks it
        auto* t = static_cast<wasm_rt_funcref_table_t*>(have.object);  // same prefix for both kinds
        Limits actual{t->size, have.type.table.limits.max};
        if (have.type.table.elem != want.type.table.elem) return fail("element type differs");
        if (!limitsMatch(actual, want.type.table.limits)) return fail("table limits do not match");
        break;
      }
      case ExternKind::kTag:
        return fail("tags are not supported");
    }
  }
  imports_ = std::move(imports);
  return {};
}

Expected<std::shared_ptr<Instance>> Instance::create(Engine& engine, std::shared_ptr<Module> module,
                                                     std::vector<Extern> imports,
                                                     const InstanceOptions& options) {
  std::shared_ptr<Instance> inst = make(engine, std::move(module));
  inst->options_ = options;
  CUMULUS_TRY_VOID(inst->link(std::move(imports)));
  if (options.store) options.store->keep(inst);
  if (inst->module_->interp()) {
    CUMULUS_TRY(auto ii, InterpInstance::create(*inst));
    inst->interp_ = std::move(ii);
    return inst;
  }
  inst->bindImports(inst->imports_.size());
  for (size_t k = 0; k < inst->imports_.size(); ++k) {
    const Extern& e = inst->imports_[k];
    // A wasm function with native code is called directly; anything else through the host
    // boundary (host functions, functions of interpreter-tier instances).
    bool direct = !e.func.host && e.func.ref.func;
    inst->bindImport(k, LinkedImport{e.object, e.func.ref, direct ? nullptr : &e.func});
  }
  CUMULUS_TRY_VOID(inst->instantiateNative());
  return inst;
}

Expected<std::shared_ptr<Instance>> Instance::createLinked(Engine& engine,
                                                           std::shared_ptr<Module> module,
                                                           std::span<const LinkedImport> imports,
                                                           const InstanceOptions& options) {
  if (module->interp())
    return makeError(ErrorCode::kInvalidArgument,
                     "an interpreter-tier module cannot be instantiated with linked imports");
  const auto& wanted = module->info().imports;
  if (imports.size() != wanted.size())
    return makeError(ErrorCode::kLinkError, "module needs {} imports, {} given", wanted.size(),
                     imports.size());
  std::shared_ptr<Instance> inst = make(engine, std::move(module));
  inst->options_ = options;
  if (options.store) options.store->keep(inst);
  inst->bindImports(imports.size());
  for (size_t k = 0; k < imports.size(); ++k) inst->bindImport(k, imports[k]);
  CUMULUS_TRY_VOID(inst->instantiateNative());
  return inst;
}

void Instance::bindImports(size_t n) {
  if (n == 0) return;
  static_assert(alignof(wasm_rt_funcref_t) <= alignof(void*));
  import_block_ = std::make_unique<uint8_t[]>(n * (2 * sizeof(void*) + sizeof(wasm_rt_funcref_t)));
  slots_ = reinterpret_cast<void**>(import_block_.get());
  import_funcs_ = reinterpret_cast<wasm_rt_funcref_t*>(slots_ + n);
  funcs_ = reinterpret_cast<const Func**>(import_funcs_ + n);
  for (size_t k = 0; k < n; ++k) {
    slots_[k] = nullptr;
    import_funcs_[k] = wasm_rt_funcref_null_value;
    funcs_[k] = nullptr;
  }
}

void Instance::bindImport(size_t k, const LinkedImport& li) {
  if (module_->info().imports[k].type.kind == ExternKind::kFunc) {
    import_funcs_[k] = li.func ? wasm_rt_funcref_null_value : li.ref;
    funcs_[k] = li.func;
    slots_[k] = &import_funcs_[k];
  } else {
    slots_[k] = li.object;
  }
}

Expected<void> Instance::instantiateNative() {
  code_ = module_->code();
  const GlueEntryPoints& entry = code_->entry();
  size_t size = entry.instance_size();
  data_ = std::aligned_alloc(64, (size + 63) / 64 * 64);
  if (!data_) return makeError(ErrorCode::kResourceLimit, "out of memory for instance data");
  std::memset(data_, 0, size);
  env_.self = &env_;
  env_.slots = slots_;
  env_.owner = this;
  struct Ctx {
    const GlueEntryPoints* entry;
    Instance* inst;
  } ctx{&entry, this};
  auto fn = [](void* p) {
    auto* c = static_cast<Ctx*>(p);
    c->inst->instantiated_ = true;
    c->entry->instantiate(c->inst->data_, &c->inst->env_);
  };
  CUMULUS_TRY_VOID(runGuarded(fn, &ctx, "instantiation", {}));
  // Data the translation left to the host (large wizer snapshots); in segment order, as the
  // module's own initialization would have done after element segments.
  if (const auto& data = module_->info().host_data; !data.empty()) {
    wasm_rt_memory_t* mem = entry.memory0(data_);
    for (const auto& seg : data) {
      if (!mem || uint64_t(seg.offset) + seg.bytes.size() > mem->size)
        return Error(ErrorCode::kTrap, "wasm trap: out of bounds memory access (data segment)")
            .withDetail(WASM_RT_TRAP_OOB);
      std::memcpy(mem->data + seg.offset, seg.bytes.data(), seg.bytes.size());
    }
  }
  return {};
}

Expected<void> Instance::runGuarded(void (*fn)(void*), void* ctx, const char* what,
                                    const CallOptions& options) {
  rt::ThreadState& ts = rt::thread();
  uint64_t saved_limit = ts.memory_limit_bytes;
  bool saved_track = ts.track_memory_pages;
  ts.memory_limit_bytes = options_.memory_limit_bytes;
  ts.track_memory_pages = options_.track_memory_pages;
  ts.host_message.clear();
  uint64_t ticket = options.deadline ? engine_.watchdog().arm(*options.deadline) : 0;
  int code = rt::guardedCall(fn, ctx);
  if (ticket) engine_.watchdog().disarm(ticket);
  ts.memory_limit_bytes = saved_limit;
  ts.track_memory_pages = saved_track;
  if (code) return trapError(code, what, module_->info());
  return {};
}

std::optional<uint32_t> Instance::exportIndex(std::string_view name) const {
  const auto& ex = module_->info().exports;
  for (size_t i = 0; i < ex.size(); ++i)
    if (ex[i].name == name) return static_cast<uint32_t>(i);
  return std::nullopt;
}

std::optional<Extern> Instance::getExport(std::string_view name) {
  auto idx = exportIndex(name);
  if (!idx) return std::nullopt;
  return exportAt(*idx);
}

Extern Instance::exportAt(uint32_t index) {
  const uint32_t* idx = &index;
  if (interp_) return *interp_->getExport(*idx);
  const ExportDesc& d = module_->info().exports[*idx];
  Extern e;
  e.kind = d.type.kind;
  void* p = code_->entry().export_ptr(*idx, data_);
  // One reference to this instance: a function holds it in func.owner, anything else in owner
  // (this runs for every import of every instantiation).
  if (d.type.kind == ExternKind::kFunc) {
    e.type.kind = ExternKind::kFunc;
    e.func.type = &d.type.func;
    e.func.owner = shared_from_this();
    e.func.export_index = *idx;
    e.func.ref = wasm_rt_funcref_t{module_->exportFuncTypeId(*idx),
                                   reinterpret_cast<wasm_rt_function_ptr_t>(p), data_};
  } else {
    e.type = d.type;
    e.object = p;
    e.owner = shared_from_this();
  }
  return e;
}

bool Instance::linkedExport(uint32_t index, LinkedImport* out) const {
  if (interp_) return false;
  const ExportDesc& d = module_->info().exports[index];
  void* p = code_->entry().export_ptr(index, data_);
  if (d.type.kind == ExternKind::kFunc)
    out->ref = wasm_rt_funcref_t{module_->exportFuncTypeId(index),
                                 reinterpret_cast<wasm_rt_function_ptr_t>(p), data_};
  else
    out->object = p;
  return true;
}

wasm_rt_memory_t* Instance::defaultMemory() {
  const ModuleInfo& info = module_->info();
  if (auto e = info.default_memory_export) {
    if (interp_) return interp_->memoryView(*e);
    return static_cast<wasm_rt_memory_t*>(code_->entry().export_ptr(*e, data_));
  }
  if (auto k = info.default_memory_import)
    return static_cast<wasm_rt_memory_t*>(interp_ ? imports_[*k].object : slots_[*k]);
  return nullptr;
}

Expected<void> Instance::callRaw(uint32_t index, Cell* cells, const CallOptions& options) {
  const auto& exports = module_->info().exports;
  if (index >= exports.size() || exports[index].type.kind != ExternKind::kFunc)
    return makeError(ErrorCode::kNotFound, "export {} is not a function", index);
  if (interp_) return interp_->call(index, cells, options);
  struct Ctx {
    void (*invoke)(uint32_t, void*, Cell*);
    uint32_t index;
    void* data;
    Cell* cells;
  } ctx{code_->entry().invoke, index, data_, cells};
  auto fn = [](void* p) {
    auto* c = static_cast<Ctx*>(p);
    c->invoke(c->index, c->data, c->cells);
  };
  auto r = runGuarded(fn, &ctx, "export", options);
  if (!r.ok()) {
    Error e = std::move(r).error();
    return Error(e.code(), e.message() + " " + exports[index].name).withDetail(e.detail());
  }
  return {};
}

Expected<std::vector<Value>> Instance::call(std::string_view name, std::span<const Value> args,
                                            const CallOptions& options) {
  auto idx = exportIndex(name);
  if (!idx) return makeError(ErrorCode::kNotFound, "no export named '{}'", name);
  const ExportDesc& d = module_->info().exports[*idx];
  if (d.type.kind != ExternKind::kFunc)
    return makeError(ErrorCode::kInvalidArgument, "export '{}' is not a function", name);
  const FuncType& ft = d.type.func;
  if (args.size() != ft.params.size())
    return makeError(ErrorCode::kInvalidArgument, "'{}' takes {} arguments, {} given", name,
                     ft.params.size(), args.size());
  std::vector<Cell> cells(std::max<size_t>({ft.params.size(), ft.results.size(), 1}));
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].type != ft.params[i])
      return makeError(ErrorCode::kInvalidArgument, "'{}' argument {} must be {}, got {}", name, i,
                       valTypeName(ft.params[i]), valTypeName(args[i].type));
    cells[i] = args[i].cell;
  }
  CUMULUS_TRY_VOID(callRaw(*idx, cells.data(), options));
  std::vector<Value> out(ft.results.size());
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].type = ft.results[i];
    out[i].cell = cells[i];
  }
  return out;
}

Expected<void> callImport(const Func& f, Instance* caller, Cell* cells, std::string_view module,
                          std::string_view name) {
  rt::ThreadState& ts = rt::thread();
  sig_atomic_t saved = ts.mode;
  ts.mode = int(rt::Mode::kHost);
  Expected<void> r;
  try {
    if (f.host) {
      Caller c(caller);
      r = f.host->callback(c, cells);
    } else {
      r = callFunc(f, cells);  // e.g. a function of an instance on another tier
    }
  } catch (const std::exception& ex) {
    r = makeError(ErrorCode::kInternal, "host function {}.{} threw: {}", module, name, ex.what());
  } catch (...) {
    r = makeError(ErrorCode::kInternal, "host function {}.{} threw an unknown exception", module,
                  name);
  }
  ts.mode = saved;
  return r;
}

int Instance::dispatchHostCall(uint32_t k, Cell* cells) {
  const ImportDesc& desc = module_->info().imports[k];
  if (!funcs_[k]) {
    rt::thread().host_message = fmt::format("import {}.{} has no host function", desc.module, desc.name);
    return CUMULUS_TRAP_HOST;
  }
  auto r = callImport(*funcs_[k], this, cells, desc.module, desc.name);
  rt::ThreadState& ts = rt::thread();
  if (!r.ok()) {
    ts.host_message = r.error().message();
    return r.error().code() == ErrorCode::kTrap && r.error().detail() ? r.error().detail() : CUMULUS_TRAP_HOST;
  }
  if (ts.interrupt_requested.exchange(false)) return CUMULUS_TRAP_INTERRUPTED;
  return 0;
}

void* Caller::userData() const {
  if (user_data_) return user_data_;
  return instance_ ? instance_->userData() : nullptr;
}

Expected<void> callFunc(const Func& f, Cell* cells, const CallOptions& options, void* user_data) {
  if (f.host) {
    Caller caller(nullptr, user_data);
    return f.host->callback(caller, cells);
  }
  if (!f.owner) return makeError(ErrorCode::kInvalidArgument, "null function");
  return f.owner->callRaw(f.export_index, cells, options);
}

}  // namespace cumulus::engine

extern "C" int cumulus_host_call(void* env, uint32_t index, cumulus_cell_t* cells) {
  struct Env {
    void* self;
    void** slots;
    cumulus::engine::Instance* owner;
  };
  return static_cast<Env*>(env)->owner->dispatchHostCall(index, cells);
}
