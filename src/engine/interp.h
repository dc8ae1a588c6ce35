// Interpreter tier: wabt::interp (libwabt's interpreter) runs modules the C path cannot translate
// (SIMD: wasm2c 1.0.32 aborts on it). Slow (~166x native), so it is a last resort and always
// logged. Interrupts: the interpreter runs in bounded slices and checks the thread's interrupt flag
// between slices. Imports may be host functions or functions of other instances; memories, tables
// and mutable globals are shared only with other interpreter-tier instances, which then live in one
// wabt Store (immutable globals are copied; a native-tier object cannot be aliased by
// wabt::interp's own object model).
#pragma once

#include <memory>
#include <optional>
#include <span>

#include "base/error.h"
#include "engine/types.h"

namespace cumulus::engine {

class Instance;
struct Extern;
struct CallOptions;

class InterpModule {
 public:
  static Expected<std::unique_ptr<InterpModule>> create(std::span<const uint8_t> bytes);
  ~InterpModule();
  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

class InterpInstance {
 public:
  static Expected<std::unique_ptr<InterpInstance>> create(Instance& owner);
  ~InterpInstance();
  std::optional<Extern> getExport(uint32_t index);
  Expected<void> call(uint32_t index, Cell* cells, const CallOptions& options);
  // A view of memory export `index` for host functions (valid until the memory grows).
  wasm_rt_memory_t* memoryView(uint32_t index);
  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace cumulus::engine
