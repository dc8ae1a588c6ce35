// Names and printing for engine types (see types.h).
#include "engine/types.h"

#include <fmt/format.h>

namespace cumulus::engine {

const char* valTypeName(ValType t) {
  switch (t) {
    case ValType::kI32:
      return "i32";
    case ValType::kI64:
      return "i64";
    case ValType::kF32:
      return "f32";
    case ValType::kF64:
      return "f64";
    case ValType::kV128:
      return "v128";
    case ValType::kFuncRef:
      return "funcref";
    case ValType::kExternRef:
      return "externref";
  }
  return "?";
}

const char* externKindName(ExternKind k) {
  switch (k) {
    case ExternKind::kFunc:
      return "func";
    case ExternKind::kTable:
      return "table";
    case ExternKind::kMemory:
      return "memory";
    case ExternKind::kGlobal:
      return "global";
    case ExternKind::kTag:
      return "tag";
  }
  return "?";
}

static std::string typeList(const std::vector<ValType>& v) {
  std::string s = "(";
  for (size_t i = 0; i < v.size(); ++i) s += fmt::format("{}{}", i ? ", " : "", valTypeName(v[i]));
  return s + ")";
}

std::string FuncType::toString() const { return typeList(params) + " -> " + typeList(results); }

bool limitsMatch(const Limits& actual, const Limits& wanted) {
  return actual.min >= wanted.min && (!wanted.max || (actual.max && *actual.max <= *wanted.max));
}

static std::string limitsString(const Limits& l) {
  return l.max ? fmt::format("{}..{}", l.min, *l.max) : fmt::format("{}..", l.min);
}

std::string ExternType::toString() const {
  switch (kind) {
    case ExternKind::kFunc:
      return "func " + func.toString();
    case ExternKind::kGlobal:
      return fmt::format("global {}{}", global.mut ? "mut " : "", valTypeName(global.type));
    case ExternKind::kTable:
      return fmt::format("table {} {}", valTypeName(table.elem), limitsString(table.limits));
    case ExternKind::kMemory:
      return fmt::format("memory {}", limitsString(memory.limits));
    case ExternKind::kTag:
      return "tag";
  }
  return "?";
}

std::string Value::toString() const {
  switch (type) {
    case ValType::kI32:
      return fmt::format("i32:{}", cell.i32);
    case ValType::kI64:
      return fmt::format("i64:{}", cell.i64);
    case ValType::kF32:
      return fmt::format("f32:{}", cell.f32);
    case ValType::kF64:
      return fmt::format("f64:{}", cell.f64);
    case ValType::kV128: {
      std::string s = "v128:";
      for (int i = 0; i < 16; ++i) s += fmt::format("{:02x}", cell.v128[i]);
      return s;
    }
    case ValType::kFuncRef:
      return cell.funcref.func ? "funcref" : "funcref:null";
    case ValType::kExternRef:
      return cell.externref ? fmt::format("externref:{}", cell.externref) : "externref:null";
  }
  return "?";
}

}  // namespace cumulus::engine
