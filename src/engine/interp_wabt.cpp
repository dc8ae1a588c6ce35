// wabt::interp behind interp_bridge.h (built as C++17, see there). Design notes are in interp.h.
#include "engine/interp_bridge.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>

#include <wabt/binary-reader.h>
#include <wabt/cast.h>
#include <wabt/interp/binary-reader-interp.h>
#include <wabt/interp/interp.h>

#include "engine/rt/runtime.h"

namespace cumulus::engine::interp_bridge {

namespace wi = wabt::interp;

namespace {
wabt::Features allFeatures() {
  wabt::Features f;
  f.enable_multi_memory();
  f.enable_extended_const();
  return f;
}
}  // namespace

// A wabt Store with its lock. Stores are single-threaded, so every module gets its own (SIMD
// modules run concurrently); an instance that aliases another instance's memory, table or mutable
// global must live in that instance's Store, since wabt objects cannot be shared across Stores.
struct StoreBox {
  StoreBox() : store(allFeatures()) {}
  wi::Store store;
  // One call at a time per Store. Recursive: a host function called from wasm may call another
  // instance of the same Store (an import bound to its export).
  std::recursive_mutex mutex;
  // Host externref values live in the Store as Foreign objects (one per distinct pointer).
  std::map<void*, wi::Foreign::Ptr> foreign;
};

class Module {
 public:
  Module() : home(std::make_shared<StoreBox>()) {}
  ~Module() {
    for (auto& [box, ptr] : elsewhere) {  // other Stores may be in use by other instances
      std::lock_guard<std::recursive_mutex> lock(box->mutex);
      ptr.reset();
    }
  }
  std::shared_ptr<StoreBox> home;
  wi::Module::Ptr module;  // in `home`
  // The module made again in other Stores it was instantiated into (see StoreBox). The Ptr is
  // destroyed before the Store it points into (pair members are destroyed in reverse order).
  std::map<std::shared_ptr<StoreBox>, wi::Module::Ptr> elsewhere;
  std::mutex elsewhere_mutex;

  wi::Module::Ptr& in(const std::shared_ptr<StoreBox>& box) {
    if (box == home) return module;
    std::lock_guard<std::mutex> lock(elsewhere_mutex);
    auto it = elsewhere.find(box);
    if (it == elsewhere.end())
      it = elsewhere.emplace(box, wi::Module::New(box->store, module->desc())).first;
    return it->second;
  }
};

thread_local StoreBox* t_store = nullptr;  // the Store that converts values right now

// Makes `box` the converting Store for a scope; calls nest (host functions call other instances).
struct CurrentStore {
  explicit CurrentStore(StoreBox* box) : previous(t_store) { t_store = box; }
  ~CurrentStore() { t_store = previous; }
  StoreBox* previous;
};

class Instance {
 public:
  std::shared_ptr<Module> module;
  std::shared_ptr<StoreBox> box;  // where `instance` lives
  wi::Instance::Ptr instance;
  bool poisoned = false;
};

namespace {

void toCell(const wi::Value& v, wabt::Type t, cumulus_cell_t& c) {
  switch (t) {
    case wabt::Type::I32:
      c.i32 = v.Get<uint32_t>();
      break;
    case wabt::Type::I64:
      c.i64 = v.Get<uint64_t>();
      break;
    case wabt::Type::F32:
      c.f32 = v.Get<float>();
      break;
    case wabt::Type::F64:
      c.f64 = v.Get<double>();
      break;
    case wabt::Type::V128: {
      v128 x = v.Get<v128>();
      std::memcpy(c.v128, &x, 16);
      break;
    }
    case wabt::Type::ExternRef: {
      wi::Ref r = v.Get<wi::Ref>();
      c.externref = nullptr;
      if (r != wi::Ref::Null && t_store && t_store->store.Is<wi::Foreign>(r))
        c.externref = t_store->store.UnsafeGet<wi::Foreign>(r)->ptr();
      break;
    }
    default: {  // funcref: the host only needs null / non-null (marker: func == 1)
      wi::Ref r = v.Get<wi::Ref>();
      c.funcref = wasm_rt_funcref_null_value;
      if (r != wi::Ref::Null) {
        c.funcref.func = reinterpret_cast<wasm_rt_function_ptr_t>(1);
        c.funcref.module_instance = reinterpret_cast<void*>(r.index + 1);
      }
      break;
    }
  }
}

wi::Value fromCell(const cumulus_cell_t& c, wabt::Type t) {
  switch (t) {
    case wabt::Type::I32:
      return wi::Value::Make(c.i32);
    case wabt::Type::I64:
      return wi::Value::Make(c.i64);
    case wabt::Type::F32:
      return wi::Value::Make(c.f32);
    case wabt::Type::F64:
      return wi::Value::Make(c.f64);
    case wabt::Type::V128: {
      v128 x;
      std::memcpy(&x, c.v128, 16);
      return wi::Value::Make(x);
    }
    case wabt::Type::ExternRef: {
      if (!c.externref || !t_store) return wi::Value::Make(wi::Ref::Null);
      auto it = t_store->foreign.find(c.externref);
      if (it == t_store->foreign.end())
        it = t_store->foreign.emplace(c.externref, wi::Foreign::New(t_store->store, c.externref))
                 .first;
      return wi::Value::Make(it->second.ref());
    }
    default:
      if (c.funcref.func == reinterpret_cast<wasm_rt_function_ptr_t>(1))
        return wi::Value::Make(wi::Ref(reinterpret_cast<size_t>(c.funcref.module_instance) - 1));
      return wi::Value::Make(wi::Ref::Null);
  }
}

wi::ValueTypes toTypes(const std::vector<uint8_t>& codes) {
  wi::ValueTypes out;
  for (uint8_t c : codes) out.push_back(wabt::Type(static_cast<int32_t>(c) - 0x80));
  return out;
}

}  // namespace

int trapCodeForMessage(const std::string& msg) {
  struct Entry {
    const char* text;
    int code;
  };
  static const Entry kMap[] = {
      {"out of bounds", WASM_RT_TRAP_OOB},
      {"unreachable", WASM_RT_TRAP_UNREACHABLE},
      {"divide by zero", WASM_RT_TRAP_DIV_BY_ZERO},
      {"integer overflow", WASM_RT_TRAP_INT_OVERFLOW},
      {"invalid conversion", WASM_RT_TRAP_INVALID_CONVERSION},
      {"call stack exhausted", WASM_RT_TRAP_EXHAUSTION},
      {"signature mismatch", CUMULUS_TRAP_INDIRECT_TYPE},
      {"uninitialized", CUMULUS_TRAP_NULL_REF},
      {"undefined", WASM_RT_TRAP_CALL_INDIRECT},
  };
  for (const auto& m : kMap)
    if (msg.find(m.text) != std::string::npos) return m.code;
  return CUMULUS_TRAP_HOST;
}

std::shared_ptr<Module> loadModule(const uint8_t* data, size_t size, std::string* error) {
  auto m = std::make_shared<Module>();
  wabt::Errors errors;
  wi::ModuleDesc desc;
  wabt::ReadBinaryOptions options(allFeatures(), nullptr, false, true, true);
  if (wabt::Failed(wi::ReadBinaryInterp("module.wasm", data, size, options, &errors, &desc))) {
    *error = errors.empty() ? "unknown error" : errors.front().message;
    return nullptr;
  }
  m->module = wi::Module::New(m->home->store, std::move(desc));
  return m;
}

std::unique_ptr<Instance, void (*)(Instance*)> instantiate(const std::shared_ptr<Module>& module,
                                                           const std::vector<ImportSpec>& specs,
                                                           Outcome* outcome) {
  auto deleter = [](Instance* i) {
    std::shared_ptr<StoreBox> box = i->box;  // outlives the instance's references into it
    std::lock_guard<std::recursive_mutex> lock(box->mutex);
    delete i;
  };
  std::unique_ptr<Instance, void (*)(Instance*)> inst(new Instance(), deleter);
  inst->module = module;
  inst->box = module->home;
  for (const ImportSpec& spec : specs) {
    if (spec.kind != ImportSpec::kAlias) continue;
    if (inst->box != module->home && inst->box != spec.source->box) {
      outcome->link_error = true;
      outcome->message = "imports alias objects of two unrelated interpreter-tier instances";
      return inst;
    }
    inst->box = spec.source->box;
  }
  StoreBox& box = *inst->box;
  std::lock_guard<std::recursive_mutex> lock(box.mutex);
  CurrentStore current(&box);
  wi::Store& store = box.store;
  wi::Module::Ptr& wmodule = module->in(inst->box);
  wi::RefVec imports;
  const auto& import_types = wmodule->import_types();
  for (size_t k = 0; k < specs.size() && k < import_types.size(); ++k) {
    const ImportSpec& spec = specs[k];
    if (spec.kind == ImportSpec::kFunc) {
      wi::FuncType type(toTypes(spec.params), toTypes(spec.results));
      auto fn = spec.call;
      auto cb = [fn, type, b = &box](wi::Thread&, const wi::Values& params, wi::Values& results,
                                     wi::Trap::Ptr* out_trap) -> wabt::Result {
        std::vector<cumulus_cell_t> cells(
            std::max<size_t>({params.size(), results.size(), size_t{1}}));
        for (size_t i = 0; i < params.size(); ++i) toCell(params[i], type.params[i], cells[i]);
        std::string err = fn(cells.data());
        if (!err.empty()) {
          *out_trap = wi::Trap::New(b->store, err);
          return wabt::Result::Error;
        }
        for (size_t i = 0; i < results.size(); ++i)
          results[i] = fromCell(cells[i], type.results[i]);
        return wabt::Result::Ok;
      };
      imports.push_back(wi::HostFunc::New(store, type, cb).ref());
    } else if (spec.kind == ImportSpec::kAlias) {
      imports.push_back(spec.source->instance->exports()[spec.source_export]);
    } else {
      wabt::Type t(static_cast<int32_t>(spec.global_type) - 0x80);
      wi::GlobalType gt(t, wi::Mutability::Const);
      imports.push_back(wi::Global::New(store, gt, fromCell(spec.global_value, t)).ref());
    }
  }
  wi::Trap::Ptr trap;
  struct Ctx {
    Instance* inst;
    wi::Ref module;
    wi::RefVec* imports;
    wi::Trap::Ptr* trap;
  } ctx{inst.get(), wmodule.ref(), &imports, &trap};
  int code = rt::guardedCall(
      [](void* p) {
        auto* c = static_cast<Ctx*>(p);
        c->inst->instance =
            wi::Instance::Instantiate(c->inst->box->store, c->module, *c->imports, c->trap);
      },
      &ctx);
  if (code) {
    inst->poisoned = true;
    outcome->trap_code = code;
    outcome->message = rt::trapMessage(code);
    return inst;
  }
  if (!inst->instance) {
    outcome->message = trap ? trap->message() : "instantiation failed";
    bool oob = outcome->message.find("out of bounds") != std::string::npos;
    outcome->link_error = !oob && (outcome->message.find("import") != std::string::npos ||
                                   outcome->message.find("mismatch") != std::string::npos);
    outcome->trap_code = outcome->link_error ? 0 : trapCodeForMessage(outcome->message);
  }
  return inst;
}

Outcome call(Instance& inst, uint32_t index, cumulus_cell_t* cells) {
  Outcome out;
  std::lock_guard<std::recursive_mutex> lock(inst.box->mutex);
  if (inst.poisoned || !inst.instance) {
    out.trap_code = CUMULUS_TRAP_HOST;
    out.message = "instance was interrupted earlier and cannot be used";
    return out;
  }
  CurrentStore current(inst.box.get());
  wi::Store& store = inst.box->store;
  auto func = store.UnsafeGet<wi::Func>(inst.instance->exports()[index]);
  const wi::FuncType& type = func->type();
  wi::Values params(type.params.size()), results;
  for (size_t i = 0; i < params.size(); ++i) params[i] = fromCell(cells[i], type.params[i]);
  wi::Trap::Ptr trap;
  struct Ctx {
    wi::Func* func;
    wi::Store* store;
    wi::Values* params;
    wi::Values* results;
    wi::Trap::Ptr* trap;
  } ctx{func.get(), &store, &params, &results, &trap};
  int code = rt::guardedCall(
      [](void* p) {
        auto* c = static_cast<Ctx*>(p);
        (void)c->func->Call(*c->store, *c->params, *c->results, c->trap);
      },
      &ctx);
  if (code) {
    inst.poisoned = true;
    out.trap_code = code;
    out.message = rt::trapMessage(code);
    return out;
  }
  if (trap) {
    out.message = trap->message();
    out.trap_code = trapCodeForMessage(out.message);
    return out;
  }
  for (size_t i = 0; i < results.size(); ++i) toCell(results[i], type.results[i], cells[i]);
  return out;
}

bool memoryBytes(Instance& inst, uint32_t index, uint8_t** data, uint64_t* size) {
  // No lock: called from host functions while the module's call holds it.
  if (!inst.instance) return false;
  auto mem = inst.box->store.UnsafeGet<wi::Memory>(inst.instance->exports()[index]);
  *data = mem->UnsafeData();
  *size = mem->ByteSize();
  return true;
}

bool readGlobal(Instance& inst, uint32_t index, cumulus_cell_t* out) {
  std::lock_guard<std::recursive_mutex> lock(inst.box->mutex);
  if (!inst.instance) return false;
  CurrentStore current(inst.box.get());
  auto g = inst.box->store.UnsafeGet<wi::Global>(inst.instance->exports()[index]);
  toCell(g->Get(), g->type().type, *out);
  return true;
}

}  // namespace cumulus::engine::interp_bridge
