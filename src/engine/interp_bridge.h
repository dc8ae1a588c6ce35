// A narrow, C++17-clean interface to wabt::interp. wabt 1.0.32's interp headers do not compile as
// C++20 (GCC 12 rejects `RefPtr<T>::~RefPtr<T>()`), so interp_wabt.cpp is built as C++17 and this
// header is all the rest of the engine sees of it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/rt/wasm_rt.h"

namespace cumulus::engine::interp_bridge {

// Value types as wasm binary codes: 0x7f i32, 0x7e i64, 0x7d f32, 0x7c f64, 0x7b v128,
// 0x70 funcref, 0x6f externref.
class Instance;

struct ImportSpec {
  enum Kind { kFunc, kGlobal, kAlias } kind = kFunc;
  std::vector<uint8_t> params, results;  // kFunc
  // Called with params in `cells`, results out; returns an error message or "" on success.
  std::function<std::string(cumulus_cell_t* cells)> call;
  uint8_t global_type = 0x7f;  // kGlobal (immutable: copied)
  cumulus_cell_t global_value{};
  // kAlias: export `source_export` (a memory, table or global) of another interpreter instance,
  // shared as the same object. The importing instance then lives in the source's wabt Store.
  Instance* source = nullptr;
  uint32_t source_export = 0;
};

struct Outcome {
  int trap_code = 0;  // 0: success
  bool link_error = false;
  std::string message;
};

class Module;

// Returns null and sets `error` when the bytes do not load.
std::shared_ptr<Module> loadModule(const uint8_t* data, size_t size, std::string* error);
// Instantiates within the module's store. Runs under rt::guardedCall.
std::unique_ptr<Instance, void (*)(Instance*)> instantiate(const std::shared_ptr<Module>& module,
                                                           const std::vector<ImportSpec>& imports,
                                                           Outcome* outcome);
// Calls export `index` (a function). Runs under rt::guardedCall.
Outcome call(Instance& instance, uint32_t index, cumulus_cell_t* cells);
// Reads global export `index` into `out`.
bool readGlobal(Instance& instance, uint32_t index, cumulus_cell_t* out);
// The bytes of memory export `index` (valid until the memory grows).
bool memoryBytes(Instance& instance, uint32_t index, uint8_t** data, uint64_t* size);
// Trap code for an interpreter trap message.
int trapCodeForMessage(const std::string& message);

}  // namespace cumulus::engine::interp_bridge
