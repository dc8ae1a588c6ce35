// The canonical ABI (CanonicalABI.md of WebAssembly/component-model): sizes, alignments and
// flattening of component types, and lifting/lowering values between a core instance's flat
// values or linear memory and `Val`. Implemented once; the runtime uses it for host calls, guest
// exports and component-to-component calls, later the wRPC bridge.
//
// Misuse by the guest (out-of-bounds or unaligned pointers, invalid discriminants, chars or
// strings, bad handles) throws AbiTrap; callers turn it into a kTrap error.
#pragma once

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "component/ast.h"
#include "component/types.h"
#include "component/value.h"
#include "engine/instance.h"

namespace cumulus::component::abi {

inline constexpr size_t kMaxFlatParams = 16;
inline constexpr size_t kMaxFlatResults = 1;

struct AbiTrap : std::runtime_error {
  using std::runtime_error::runtime_error;
};

uint32_t alignment(const CType& t);
uint32_t size(const CType& t);
// The core types a value of type `t` flattens to (appended to `out`).
void flatten(const CTypePtr& t, std::vector<engine::ValType>& out);
// How many core values that is (flatten's length, computed without allocating; null: 0).
size_t flatCount(const CType* t);

// Converts between handles in a component instance's tables and `Val` handles.
class HandleOps {
 public:
  virtual ~HandleOps() = default;
  virtual Val liftOwn(const CType& resource, uint32_t handle) = 0;
  virtual Val liftBorrow(const CType& resource, uint32_t handle) = 0;
  virtual uint32_t lowerOwn(const CType& resource, const Val& v) = 0;
  virtual uint32_t lowerBorrow(const CType& resource, const Val& v) = 0;
};

// A core function the runtime calls (a lifted function, realloc, post-return, a destructor): an
// export of a core instance, or `func` (a host function). Borrowed, not reference-counted: the
// component instance owns its core instances and its plan the host functions.
struct CoreFunc {
  engine::Instance* instance = nullptr;
  uint32_t export_index = 0;
  const engine::Func* func = nullptr;
  // `user_data` is what a host function sees as its caller's (see engine::callFunc).
  Expected<void> call(engine::Cell* cells, const engine::CallOptions& options = {},
                      void* user_data = nullptr) const {
    if (func) return engine::callFunc(*func, cells, options, user_data);
    return instance->callRaw(export_index, cells, options);
  }
};

// The canonical options of one lift or lower, bound to a live instance.
struct Context {
  wasm_rt_memory_t* memory = nullptr;
  const CoreFunc* realloc = nullptr;
  CanonOpts::Encoding encoding = CanonOpts::Encoding::kUtf8;
  HandleOps* handles = nullptr;
};

// Flat values of one call: `cells` is consumed left to right by lifting, appended by lowering.
Val liftFlat(Context& cx, const CTypePtr& t, std::span<const engine::Cell> cells, size_t& pos);
void lowerFlat(Context& cx, const CTypePtr& t, const Val& v, std::vector<engine::Cell>& out);
Val load(Context& cx, const CTypePtr& t, uint32_t ptr);
void store(Context& cx, const CTypePtr& t, const Val& v, uint32_t ptr);

// Calls the instance's realloc(0, 0, align, size) and checks the result.
uint32_t allocate(Context& cx, uint32_t align, uint32_t size);

// A function's flattened signature and whether params/results spill to memory.
struct FlatSig {
  std::vector<engine::ValType> params, results;
  bool params_in_memory = false, results_in_memory = false;
};
// `lower` is true for canon lower (the caller passes a result pointer), false for canon lift
// (the callee returns one).
FlatSig flatSignature(const CType& func, bool lower);

// The tuple type of a function's parameters (for loading spilled params).
CTypePtr paramsTuple(const CType& func);

}  // namespace cumulus::component::abi
