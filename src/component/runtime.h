// Running components: the linker (host interfaces as C++ functions, matched by semver), the
// instantiation plan built once per component (pre-resolved imports, nested components inlined,
// core modules compiled), and component instances (core instances, handle tables, lifted exports).
//
//   Linker linker;  wasi::addToLinker(linker, ...);
//   auto plan = ComponentPlan::create(engine, bytes, linker);        // once
//   auto inst = (*plan)->instantiate(&my_state);                     // per request: cheap
//   auto run = inst->exportFunc("wasi:cli/run@0.2.0", "run");
//   auto result = inst->call(*run, {});
//
// Semver: an import `ns:pkg/iface@X.Y.Z` is satisfied by the linker's definition of the same
// interface at a version on the same compatibility track (same major; for 0.x the same minor)
// and not older; so a host defining wasi:io 0.2.12 serves components built for 0.2.0–0.2.12.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/error.h"
#include "component/names.h"
#include "component/resolve.h"
#include "component/value.h"
#include "engine/engine.h"
#include "engine/instance.h"

namespace cumulus::component {

class ComponentInstance;
class CallContext;

// A resource type at run time. Host resources are defined once in a Linker and shared by every
// instance; resources a component defines are created per instance (they are generative).
struct ResourceType {
  std::string name;
  // Host resources: called when the guest drops an owning handle.
  std::function<void(CallContext&, uint32_t rep)> host_dtor;
  // Guest resources: the defining instance and the index of its local resource.
  ComponentInstance* owner = nullptr;
  uint32_t local_index = 0;
  bool isHost() const { return owner == nullptr; }
};

// Given to host functions: the calling component instance and the embedder's per-instance data.
class CallContext {
 public:
  CallContext(ComponentInstance& instance, void* data) : instance_(instance), data_(data) {}
  ComponentInstance& instance() const { return instance_; }
  void* data() const { return data_; }
  template <typename T>
  T& as() const {
    return *static_cast<T*>(data_);
  }

 private:
  ComponentInstance& instance_;
  void* data_;
};

// A host function: arguments by value (they may be moved from), the result (Val() for none).
// Return an Error to trap the caller.
using HostFn = std::function<Expected<Val>(CallContext&, std::vector<Val>& args)>;

struct HostInterface {
  std::string name;  // without version: "wasi:io/streams"
  std::string version;
  std::map<std::string, HostFn, std::less<>> funcs;
  // Shared: one host type may be defined under several names (Linker::resourceAlias).
  std::map<std::string, std::shared_ptr<ResourceType>, std::less<>> resources;
};

class Linker {
 public:
  // `iface` is "ns:pkg/name@version" (or a plain name for root-level function imports, with
  // func `name` then being the import name itself).
  void func(std::string_view iface, std::string_view name, HostFn fn);
  const ResourceType* resource(std::string_view iface, std::string_view name,
                               std::function<void(CallContext&, uint32_t)> dtor = {});
  // Defines `name` in `iface` as another name of `type`: imports of both names then have the
  // same type (an import may require that with `(eq ...)`). `type` is a resource this linker
  // defined, or one a component instance exports (ComponentInstance::exportResource), which must
  // then outlive the plans using this linker.
  void resourceAlias(std::string_view iface, std::string_view name, const ResourceType* type);
  // The interface serving import `import_name`, or null.
  const HostInterface* find(std::string_view import_name) const;
  // Keeps state the host functions refer to alive as long as the linker.
  void keepAlive(std::shared_ptr<void> state) { kept_.push_back(std::move(state)); }

 private:
  std::vector<std::shared_ptr<void>> kept_;
  HostInterface& interface(std::string_view iface);
  std::vector<std::unique_ptr<HostInterface>> interfaces_;
};

struct PlanData;

struct InstantiateOptions {
  uint64_t memory_limit_bytes = 4ull << 30;  // per linear memory
};

class ComponentPlan : public std::enable_shared_from_this<ComponentPlan> {
 public:
  // Decodes, validates, compiles every core module and binds imports to `linker` (which must
  // outlive the plan). Errors name the offending import or definition.
  static Expected<std::shared_ptr<ComponentPlan>> create(engine::Engine& engine,
                                                         std::span<const uint8_t> bytes,
                                                         const Linker& linker);
  // The same for a component the caller decoded and resolved from `bytes` already (the host
  // does, to bind its imports to links first): not decoded and resolved twice. `info` refers to
  // `decoded` by address, which the unique_ptr keeps stable.
  static Expected<std::shared_ptr<ComponentPlan>> create(engine::Engine& engine,
                                                         std::span<const uint8_t> bytes,
                                                         const Linker& linker,
                                                         std::unique_ptr<const Component> decoded,
                                                         ComponentInfo info);
  ~ComponentPlan();

  Expected<std::shared_ptr<ComponentInstance>> instantiate(
      void* data = nullptr, const InstantiateOptions& options = InstantiateOptions()) const;

  const ComponentInfo& info() const;
  engine::Engine& engine() const;
  const PlanData& data() const { return *data_; }

 private:
  ComponentPlan() = default;
  std::unique_ptr<PlanData> data_;
};

// An exported function of an instance.
struct FuncHandle {
  bool host = false;   // a re-exported host function
  uint32_t index = 0;  // the lifted (or host) function's index in the plan
  CTypePtr type;
};

class ComponentInstance {
 public:
  ~ComponentInstance();
  ComponentInstance(const ComponentInstance&) = delete;
  ComponentInstance& operator=(const ComponentInstance&) = delete;

  // An exported function: `iface` is an exported instance name (semver-compatible match) and
  // `name` a function in it, or `iface` empty and `name` a root-level function export.
  std::optional<FuncHandle> exportFunc(std::string_view iface, std::string_view name) const;
  // An exported resource type (same lookup as exportFunc), or null. Owned by this instance (or by
  // the linker, for a re-exported host resource).
  const ResourceType* exportResource(std::string_view iface, std::string_view name) const;
  Expected<Val> call(const FuncHandle& f, std::vector<Val> args,
                     const engine::CallOptions& options = {});

  void* data() const { return data_; }
  const ComponentPlan& plan() const { return *plan_; }

  // Internal (runtime.cpp).
  struct State;
  State& state() { return *state_; }

 private:
  friend class ComponentPlan;
  ComponentInstance() = default;
  std::shared_ptr<const ComponentPlan> plan_;
  void* data_ = nullptr;
  std::unique_ptr<State> state_;
};

}  // namespace cumulus::component
