// Instances and the objects they import and export.
//
// An Instance owns one instantiation of a Module: the instance data the translated code works on,
// its import bindings and keep-alive references to everything it imports. One thread at a time.
// Extern values (Func, Memory, Table, Global) borrow storage owned by an instance or a host
// object and keep that owner alive through `owner`.
//
// Error policy: a trap is an Error with code kTrap and detail() = trap code; its message names the
// trap and the function ("unreachable executed in function fac (export run)").
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/error.h"
#include "engine/engine.h"
#include "engine/types.h"

namespace cumulus::engine {

class Instance;

// Given to host functions: access to the calling instance.
class Caller {
 public:
  // `user_data`: the embedder's pointer for a call that does not come from an instance (callFunc);
  // otherwise the calling instance's (InstanceOptions::user_data).
  explicit Caller(Instance* instance, void* user_data = nullptr)
      : instance_(instance), user_data_(user_data) {}
  Instance* instance() const { return instance_; }
  void* userData() const;
  // The caller's default linear memory (export "memory", else its first memory); null if none.
  wasm_rt_memory_t* memory() const;

 private:
  Instance* instance_;
  void* user_data_;
};

// A host function: `cells` holds the parameters on entry and receives the results.
// Return an Error to trap the calling wasm code; exceptions are caught and become traps too.
using HostCallback = std::function<Expected<void>(Caller&, Cell* cells)>;
struct HostFunc {
  FuncType type;
  HostCallback callback;
  std::string name;  // for error messages
};

// `type` points into what keeps the function alive (the HostFunc, or the owner's module info), so
// passing a Func around (every import of every instantiation) copies no signature.
struct Func {
  const FuncType* type = nullptr;
  std::shared_ptr<HostFunc> host;   // set for host functions
  std::shared_ptr<Instance> owner;  // set for wasm functions (exported by `owner`)
  uint32_t export_index = 0;
  wasm_rt_funcref_t ref{};  // native code reference (wasm2c tiers)
};

struct Extern {
  ExternKind kind = ExternKind::kFunc;
  Func func;
  void* object = nullptr;       // wasm_rt_memory_t*, wasm_rt_*_table_t* or global storage
  ExternType type;              // for memory/table/global: the current type; for a function only
                                // `kind` (its type is *func.type)
  std::shared_ptr<void> owner;  // keeps `object` alive (a function: func.host or func.owner does)
  // Set for the memories, tables and globals of interpreter-tier instances (wabt::interp objects
  // have no native storage to point at): another interpreter-tier instance aliases the exporter's
  // object itself. `owner` keeps `exporter` alive.
  Instance* exporter = nullptr;
  uint32_t exporter_index = 0;
};

// Host-created objects (e.g. the spec test's "spectest" module).
Expected<Extern> makeHostMemory(const MemoryType& type);
Expected<Extern> makeHostTable(const TableType& type);
Extern makeHostGlobal(const GlobalType& type, const Cell& value);
Extern makeHostFunc(std::shared_ptr<HostFunc> fn);

// Keeps instances alive together, like a wasm "store": an instance whose functions were written
// into another instance's table (by an element segment or table.set) must outlive that table.
// Instances created with a Store are held by it until the Store is destroyed, including ones whose
// instantiation trapped after writing into an imported table.
class Store {
 public:
  void keep(std::shared_ptr<Instance> instance) {
    std::lock_guard lock(mutex_);
    instances_.push_back(std::move(instance));
  }
  // For an embedder that knows how many instances it will keep (one allocation).
  void reserve(size_t n) {
    std::lock_guard lock(mutex_);
    instances_.reserve(n);
  }

 private:
  std::mutex mutex_;
  std::vector<std::shared_ptr<Instance>> instances_;  // GUARDED_BY(mutex_)
};

struct InstanceOptions {
  uint64_t memory_limit_bytes = 4ull << 30;  // per linear memory
  Store* store = nullptr;                    // optional: see Store
  // The embedder's pointer for this instance, given back by userData(): host functions shared
  // by many instances find their caller's state through it (Caller::instance()->userData()).
  void* user_data = nullptr;
  // The embedder's promise that the host reads and writes this instance's memories only from
  // user space (never hands a pointer into them to a system call). Recycled memories may then
  // track the pages the instance touches by page protection instead of asking the kernel when
  // they are freed (engine.md, "memory recycling"). The component runtime sets it: the canonical
  // ABI copies values with memcpy.
  bool track_memory_pages = false;
};

// An import in the form the translated code uses, for Instance::createLinked: nothing in it is
// reference-counted or type-checked.
struct LinkedImport {
  void* object = nullptr;      // memory, table or global: the exporter's object
  wasm_rt_funcref_t ref{};     // a function of a native-tier instance: called directly
  const Func* func = nullptr;  // a function called through the host boundary (host functions)
};

struct CallOptions {
  std::optional<std::chrono::steady_clock::time_point> deadline;
};

class Instance : public std::enable_shared_from_this<Instance> {
 public:
  // `imports` are matched to module.info().imports by position. Errors: kLinkError when an import
  // has the wrong kind or type; kTrap when initialization or the start function traps.
  static Expected<std::shared_ptr<Instance>> create(Engine& engine, std::shared_ptr<Module> module,
                                                    std::vector<Extern> imports,
                                                    const InstanceOptions& options = {});
  // Like create, for an embedder that resolves imports itself and guarantees that (1) every
  // import outlives the instance, and (2) the imports have the types the module declares (checked
  // beforehand: the component runtime type-checks a component's core instantiations when it
  // validates the component, and its component instance owns its core instances and its plan the
  // host functions). Per-instantiation cost is then allocation and initializers only: no import
  // is copied, reference-counted or compared. Native tiers only (kInvalidArgument for a module on
  // the interpreter tier).
  static Expected<std::shared_ptr<Instance>> createLinked(Engine& engine,
                                                          std::shared_ptr<Module> module,
                                                          std::span<const LinkedImport> imports,
                                                          const InstanceOptions& options = {});
  ~Instance();
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  const Module& module() const { return *module_; }
  void* userData() const { return options_.user_data; }
  Tier tier() const;
  std::optional<Extern> getExport(std::string_view name);
  // Export `index` of module().info().exports (bounds-checked by the caller).
  Extern exportAt(uint32_t index);
  // Export `index` as an import for createLinked (valid while this instance lives); false for an
  // instance on the interpreter tier, whose objects have no native form.
  bool linkedExport(uint32_t index, LinkedImport* out) const;
  std::optional<uint32_t> exportIndex(std::string_view name) const;

  // Calls export `name` with typed values (types are checked).
  Expected<std::vector<Value>> call(std::string_view name, std::span<const Value> args,
                                    const CallOptions& options = {});
  Expected<std::vector<Value>> call(std::string_view name, std::initializer_list<Value> args,
                                    const CallOptions& options = {}) {
    return call(name, std::span<const Value>(args.begin(), args.size()), options);
  }
  // Calls function export `index`; `cells` holds params in, results out (size >= max of both).
  Expected<void> callRaw(uint32_t index, Cell* cells, const CallOptions& options = {});

  wasm_rt_memory_t* defaultMemory();

  // Internal: host import dispatch (called from the generated glue via cumulus_host_call).
  int dispatchHostCall(uint32_t import_index, Cell* cells);

 private:
  Instance(Engine& engine, std::shared_ptr<Module> module);
  // The object and its shared_ptr control block in one allocation.
  static std::shared_ptr<Instance> make(Engine& engine, std::shared_ptr<Module> module);
  Expected<void> link(std::vector<Extern> imports);
  // Runs the translated code's instantiation once slots_, import_funcs_ and funcs_ are bound.
  Expected<void> instantiateNative();
  Expected<void> runGuarded(void (*fn)(void*), void* ctx, const char* what,
                            const CallOptions& options);

  struct ImportEnv {
    void* self;
    void** slots;
    Instance* owner;
  };

  Engine& engine_;
  std::shared_ptr<Module> module_;
  std::shared_ptr<CompiledCode> code_;
  InstanceOptions options_;
  void* data_ = nullptr;  // the generated instance struct
  bool instantiated_ = false;
  ImportEnv env_{};
  // Per import, in one allocation (bindImports): the slot the translated code reads, the
  // funcref of an imported wasm function, and the function host calls dispatch to (or null).
  std::unique_ptr<uint8_t[]> import_block_;
  void** slots_ = nullptr;
  wasm_rt_funcref_t* import_funcs_ = nullptr;
  const Func** funcs_ = nullptr;
  void bindImports(size_t n);                          // allocates them, unbound
  void bindImport(size_t k, const LinkedImport& li);  // binds import k
  std::vector<Extern> imports_;     // create(): keep-alive (empty for createLinked)
  std::unique_ptr<class InterpInstance> interp_;
  friend class InterpInstance;
};

// Imports that satisfy any module without doing anything: functions return zeros, memories,
// tables and globals are fresh host objects. For benchmarks, fuzzing and tools. Fails for
// memories larger than `max_memory_pages` or tables larger than `max_table_elements`.
Expected<std::vector<Extern>> makeStubImports(const Module& module,
                                              uint64_t max_memory_pages = 65536,
                                              uint64_t max_table_elements = UINT32_MAX);

// The wasm→host boundary for an imported function called by `caller`: the thread is in Host mode
// meanwhile (interrupts wait until it returns) and exceptions become errors, so the trap can be
// raised by the C caller after these C++ frames are gone. `module`.`name` is for messages
// ("env.log"), formatted only when one is needed: this is every host call's path.
Expected<void> callImport(const Func& f, Instance* caller, Cell* cells, std::string_view module,
                          std::string_view name);

// Calls any Func (host or wasm) from the host.
// Calls `f` directly (not from wasm). A host function sees `user_data` as its caller's user data.
Expected<void> callFunc(const Func& f, Cell* cells, const CallOptions& options = {},
                        void* user_data = nullptr);

uint32_t funcTypeIdOf(const FuncType& type);

}  // namespace cumulus::engine
