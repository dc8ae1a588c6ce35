// WebAssembly types and values as the engine's embedding API sees them.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "engine/rt/wasm_rt.h"

namespace cumulus::engine {

enum class ValType : uint8_t { kI32, kI64, kF32, kF64, kV128, kFuncRef, kExternRef };
enum class ExternKind : uint8_t { kFunc, kTable, kMemory, kGlobal, kTag };

const char* valTypeName(ValType t);
const char* externKindName(ExternKind k);

struct FuncType {
  std::vector<ValType> params, results;
  bool operator==(const FuncType&) const = default;
  std::string toString() const;  // "(i32, i64) -> (f32)"
};

struct Limits {
  uint64_t min = 0;
  std::optional<uint64_t> max;
  bool operator==(const Limits&) const = default;
};
// Import matching of table and memory limits: `actual`'s range lies within `wanted`'s.
bool limitsMatch(const Limits& actual, const Limits& wanted);
struct GlobalType {
  ValType type = ValType::kI32;
  bool mut = false;
  bool operator==(const GlobalType&) const = default;
};
struct TableType {
  ValType elem = ValType::kFuncRef;
  Limits limits;
};
struct MemoryType {
  Limits limits;  // in 64 KiB pages
};

// The type of one import or export.
struct ExternType {
  ExternKind kind = ExternKind::kFunc;
  FuncType func;
  GlobalType global;
  TableType table;
  MemoryType memory;
  std::string toString() const;
};

struct ImportDesc {
  std::string module, name;
  ExternType type;
};
struct ExportDesc {
  std::string name;
  ExternType type;
};

// One wasm value in the generated glue's layout (24 bytes: a funcref is three words).
using Cell = cumulus_cell_t;

// A typed value for API users and tests.
struct Value {
  ValType type = ValType::kI32;
  Cell cell{};

  static Value i32(uint32_t v) {
    Value x;
    x.type = ValType::kI32;
    x.cell.i32 = v;
    return x;
  }
  static Value i64(uint64_t v) {
    Value x;
    x.type = ValType::kI64;
    x.cell.i64 = v;
    return x;
  }
  static Value f32(float v) {
    Value x;
    x.type = ValType::kF32;
    x.cell.f32 = v;
    return x;
  }
  static Value f64(double v) {
    Value x;
    x.type = ValType::kF64;
    x.cell.f64 = v;
    return x;
  }
  static Value f32Bits(uint32_t b) {
    Value x;
    x.type = ValType::kF32;
    std::memcpy(&x.cell.f32, &b, 4);
    return x;
  }
  static Value f64Bits(uint64_t b) {
    Value x;
    x.type = ValType::kF64;
    std::memcpy(&x.cell.f64, &b, 8);
    return x;
  }
  static Value externref(void* p) {
    Value x;
    x.type = ValType::kExternRef;
    x.cell.externref = p;
    return x;
  }
  static Value nullFuncref() {
    Value x;
    x.type = ValType::kFuncRef;
    x.cell.funcref = wasm_rt_funcref_null_value;
    return x;
  }
  static Value v128(const uint8_t bytes[16]) {
    Value x;
    x.type = ValType::kV128;
    std::memcpy(x.cell.v128, bytes, 16);
    return x;
  }
  std::string toString() const;
};

}  // namespace cumulus::engine
