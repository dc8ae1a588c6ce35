// Front end: parse/validate with libwabt, describe, translate with wasm2c's C writer, add glue.
// See translate.h for what the glue is and why it exists.
#include "engine/translate.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <wabt/apply-names.h>
#include <wabt/binary-reader-ir.h>
#include <wabt/binary-reader.h>
#include <wabt/c-writer.h>
#include <wabt/cast.h>
#include <wabt/error-formatter.h>
#include <wabt/generate-names.h>
#include <wabt/ir.h>
#include <wabt/stream.h>
#include <wabt/validator.h>

#include "base/binary.h"
#include "engine/rt/embedded.h"

namespace cumulus::engine {

const char* const kTranslatorVersion = "wabt-1.0.32+cumulus-units-5";

namespace {

constexpr std::string_view kSelfName = "cumulus_self";

wabt::Features engineFeatures(const WasmFeatures& wanted) {
  wabt::Features
      f;  // MVP + mutable globals, sat-conv, sign-ext, SIMD, multi-value, bulk, ref-types
  f.set_multi_memory_enabled(wanted.multi_memory);
  f.set_extended_const_enabled(wanted.extended_const);
  return f;
}

ValType toValType(wabt::Type t) {
  switch (t) {
    case wabt::Type::I32:
      return ValType::kI32;
    case wabt::Type::I64:
      return ValType::kI64;
    case wabt::Type::F32:
      return ValType::kF32;
    case wabt::Type::F64:
      return ValType::kF64;
    case wabt::Type::V128:
      return ValType::kV128;
    case wabt::Type::ExternRef:
      return ValType::kExternRef;
    default:
      return ValType::kFuncRef;
  }
}

FuncType toFuncType(const wabt::FuncSignature& sig) {
  FuncType ft;
  for (auto t : sig.param_types) ft.params.push_back(toValType(t));
  for (auto t : sig.result_types) ft.results.push_back(toValType(t));
  return ft;
}

Limits toLimits(const wabt::Limits& l) {
  Limits out;
  out.min = l.initial;
  if (l.has_max) out.max = l.max;
  return out;
}

// ---- feature scan -------------------------------------------------------------------------

bool isSimdType(wabt::Type t) { return t == wabt::Type::V128; }

// True if `pred` holds for any expression in `exprs`, nested blocks included.
template <typename Pred>
bool anyExpr(const wabt::ExprList& exprs, const Pred& pred) {
  for (const wabt::Expr& e : exprs) {
    if (pred(e)) return true;
    switch (e.type()) {
      case wabt::ExprType::Block:
        if (anyExpr(wabt::cast<wabt::BlockExpr>(&e)->block.exprs, pred)) return true;
        break;
      case wabt::ExprType::Loop:
        if (anyExpr(wabt::cast<wabt::LoopExpr>(&e)->block.exprs, pred)) return true;
        break;
      case wabt::ExprType::If: {
        auto* i = wabt::cast<wabt::IfExpr>(&e);
        if (anyExpr(i->true_.exprs, pred) || anyExpr(i->false_, pred)) return true;
        break;
      }
      case wabt::ExprType::Try: {
        auto* t = wabt::cast<wabt::TryExpr>(&e);
        if (anyExpr(t->block.exprs, pred)) return true;
        for (const wabt::Catch& c : t->catches)
          if (anyExpr(c.exprs, pred)) return true;
        break;
      }
      default:
        break;
    }
  }
  return false;
}

// wabt 1.0.32 reads typed references (`(ref ...)`, 0x6b/0x6c) in places such as a table's
// element type, and its C writer aborts on them (found by fuzzing). The engine supports the
// value types of Wasm 2.0 only (reference types: funcref, externref). Returns where the module
// uses another one ("" if nowhere).
bool supportedValueType(wabt::Type t) {
  switch (t) {
    case wabt::Type::I32:
    case wabt::Type::I64:
    case wabt::Type::F32:
    case wabt::Type::F64:
    case wabt::Type::V128:
    case wabt::Type::FuncRef:
    case wabt::Type::ExternRef:
      return true;
    default:
      return false;
  }
}

std::string unsupportedTypeMessage(wabt::Type t, std::string_view where) {
  return fmt::format("unsupported value type {} in {} (typed references are not supported)",
                     t.GetName(), where);
}

// The first unsupported type an expression names (block types, typed select, ref.null).
std::optional<wabt::Type> unsupportedTypeIn(const wabt::Expr& e) {
  auto first = [](const wabt::TypeVector& v) -> std::optional<wabt::Type> {
    for (wabt::Type t : v)
      if (!supportedValueType(t)) return t;
    return std::nullopt;
  };
  auto block = [&](const wabt::Block& b) {
    auto t = first(b.decl.sig.param_types);
    return t ? t : first(b.decl.sig.result_types);
  };
  switch (e.type()) {
    case wabt::ExprType::Block:
      return block(wabt::cast<wabt::BlockExpr>(&e)->block);
    case wabt::ExprType::Loop:
      return block(wabt::cast<wabt::LoopExpr>(&e)->block);
    case wabt::ExprType::If:
      return block(wabt::cast<wabt::IfExpr>(&e)->true_);
    case wabt::ExprType::Try:
      return block(wabt::cast<wabt::TryExpr>(&e)->block);
    case wabt::ExprType::Select:
      return first(wabt::cast<wabt::SelectExpr>(&e)->result_type);
    case wabt::ExprType::RefNull:
      return first({wabt::cast<wabt::RefNullExpr>(&e)->type});
    default:
      return std::nullopt;
  }
}

// Types outside function bodies (bodies: see scanBodies).
std::string unsupportedTypeUse(const wabt::Module& m) {
  for (const wabt::Table* t : m.tables)
    if (!supportedValueType(t->elem_type))
      return unsupportedTypeMessage(t->elem_type, "a table's element type");
  for (const wabt::Global* g : m.globals)
    if (!supportedValueType(g->type)) return unsupportedTypeMessage(g->type, "a global's type");
  for (const wabt::TypeEntry* te : m.types) {
    const auto* ft = wabt::dyn_cast<wabt::FuncType>(te);
    if (!ft) return "only function types are supported";
    for (const wabt::TypeVector* list : {&ft->sig.param_types, &ft->sig.result_types})
      for (wabt::Type t : *list)
        if (!supportedValueType(t)) return unsupportedTypeMessage(t, "a function type");
  }
  for (const wabt::ElemSegment* e : m.elem_segments)
    if (!supportedValueType(e->elem_type))
      return unsupportedTypeMessage(e->elem_type, "an element segment");
  return {};
}

bool isSimdOpcode(wabt::Opcode op) { return op.GetPrefix() == 0xfd; }

bool isSimdExpr(const wabt::Expr& e) {
  {
    switch (e.type()) {
      case wabt::ExprType::SimdLaneOp:
      case wabt::ExprType::SimdLoadLane:
      case wabt::ExprType::SimdStoreLane:
      case wabt::ExprType::SimdShuffleOp:
      case wabt::ExprType::LoadSplat:
      case wabt::ExprType::LoadZero:
        return true;
      case wabt::ExprType::Const:
        if (isSimdType(wabt::cast<wabt::ConstExpr>(&e)->const_.type())) return true;
        break;
      case wabt::ExprType::Binary:
        if (isSimdOpcode(wabt::cast<wabt::BinaryExpr>(&e)->opcode)) return true;
        break;
      case wabt::ExprType::Compare:
        if (isSimdOpcode(wabt::cast<wabt::CompareExpr>(&e)->opcode)) return true;
        break;
      case wabt::ExprType::Convert:
        if (isSimdOpcode(wabt::cast<wabt::ConvertExpr>(&e)->opcode)) return true;
        break;
      case wabt::ExprType::Unary:
        if (isSimdOpcode(wabt::cast<wabt::UnaryExpr>(&e)->opcode)) return true;
        break;
      case wabt::ExprType::Ternary:
        if (isSimdOpcode(wabt::cast<wabt::TernaryExpr>(&e)->opcode)) return true;
        break;
      case wabt::ExprType::Load:
        if (isSimdOpcode(wabt::cast<wabt::LoadExpr>(&e)->opcode)) return true;
        break;
      case wabt::ExprType::Store:
        if (isSimdOpcode(wabt::cast<wabt::StoreExpr>(&e)->opcode)) return true;
        break;
      case wabt::ExprType::Select: {
        for (auto t : wabt::cast<wabt::SelectExpr>(&e)->result_type)
          if (isSimdType(t)) return true;
        break;
      }
      default:
        break;
    }
  }
  return false;
}

bool exprsUseSimd(const wabt::ExprList& exprs) { return anyExpr(exprs, isSimdExpr); }

bool sigUsesSimd(const wabt::FuncSignature& sig) {
  for (auto t : sig.param_types)
    if (isSimdType(t)) return true;
  for (auto t : sig.result_types)
    if (isSimdType(t)) return true;
  return false;
}

// Types, globals and signatures (bodies and locals: see scanBodies).
bool moduleUsesSimd(const wabt::Module& m) {
  for (const wabt::TypeEntry* te : m.types) {
    if (auto* ft = wabt::dyn_cast<wabt::FuncType>(te); ft && sigUsesSimd(ft->sig)) return true;
  }
  for (const wabt::Global* g : m.globals) {
    if (isSimdType(g->type) || exprsUseSimd(g->init_expr)) return true;
  }
  for (const wabt::Func* f : m.funcs)
    if (sigUsesSimd(f->decl.sig)) return true;
  return false;  // bodies and locals: see scanBodies
}

// Folds an extended-const expression (i32/i64 const, add, sub, mul) into one const in place.
// Returns false when it reads a global (only known at instantiation).
bool foldConstExpr(wabt::ExprList& exprs) {
  if (exprs.size() <= 1) return true;
  std::vector<wabt::Const> stack;
  for (const wabt::Expr& e : exprs) {
    if (e.type() == wabt::ExprType::Const) {
      stack.push_back(wabt::cast<wabt::ConstExpr>(&e)->const_);
    } else if (e.type() == wabt::ExprType::Binary && stack.size() >= 2) {
      wabt::Const b = stack.back();
      stack.pop_back();
      wabt::Const& a = stack.back();
      auto op = wabt::cast<wabt::BinaryExpr>(&e)->opcode;
      if (op == wabt::Opcode::I32Add)
        a.set_u32(a.u32() + b.u32());
      else if (op == wabt::Opcode::I32Sub)
        a.set_u32(a.u32() - b.u32());
      else if (op == wabt::Opcode::I32Mul)
        a.set_u32(a.u32() * b.u32());
      else if (op == wabt::Opcode::I64Add)
        a.set_u64(a.u64() + b.u64());
      else if (op == wabt::Opcode::I64Sub)
        a.set_u64(a.u64() - b.u64());
      else if (op == wabt::Opcode::I64Mul)
        a.set_u64(a.u64() * b.u64());
      else
        return false;
    } else {
      return false;
    }
  }
  if (stack.size() != 1) return false;
  wabt::Location loc = exprs.front().loc;
  exprs.clear();
  exprs.push_back(std::make_unique<wabt::ConstExpr>(stack.back(), loc));
  return true;
}

// Lowers extended-const; returns a reason when some expression cannot be folded.
std::string lowerExtendedConst(wabt::Module& m) {
  auto fold = [](wabt::ExprList& e, const char* what) -> std::string {
    return foldConstExpr(e) ? std::string() : fmt::format("extended-const {} reads a global", what);
  };
  for (wabt::Global* g : m.globals)
    if (auto r = fold(g->init_expr, "global initializer"); !r.empty()) return r;
  for (wabt::DataSegment* d : m.data_segments)
    if (auto r = fold(d->offset, "data segment offset"); !r.empty()) return r;
  for (wabt::ElemSegment* s : m.elem_segments)
    if (auto r = fold(s->offset, "element segment offset"); !r.empty()) return r;
  return {};
}

}  // namespace

// One walk over every function body (large modules have millions of expressions; see
// ParsedModule::parse for why this runs beside validation).
BodyFacts scanBodies(const wabt::Module& m) {
  BodyFacts f;
  f.expr_counts.reserve(m.funcs.size());
  for (const wabt::Func* fn : m.funcs) {
    for (wabt::Type t : fn->local_types) {
      if (!supportedValueType(t) && f.unsupported_type.empty())
        f.unsupported_type = unsupportedTypeMessage(t, "a function's locals");
      if (isSimdType(t)) f.uses_simd = true;
    }
    uint32_t count = 0;
    anyExpr(fn->exprs, [&](const wabt::Expr& e) {
      ++count;
      if (e.type() == wabt::ExprType::MemoryInit || e.type() == wabt::ExprType::DataDrop)
        f.uses_data_index = true;
      if (!f.uses_simd && isSimdExpr(e)) f.uses_simd = true;
      if (f.unsupported_type.empty())
        if (auto t = unsupportedTypeIn(e))
          f.unsupported_type = unsupportedTypeMessage(*t, "a function body");
      return false;
    });
    f.expr_counts.push_back(count);
  }
  return f;
}

namespace {

// Merges runs of active data segments that are in ascending order with gaps of at most
// kMaxGap bytes (the gap is filled with zeros, which memory already holds). Wizer snapshots have
// thousands of tiny segments (StarlingMonkey: 10,000) and wasm2c's per-function cost grows with
// the number of global C names, each segment being one. Only done when no instruction refers to
// data segments by index (memory.init, data.drop), no segment is passive, the memory is the
// module's own (so partial initialization on a trap is unobservable) and no gap is written by
// another segment.
void mergeDataSegments(wabt::Module& m, bool uses_data_index) {
  constexpr uint64_t kMaxGap = 64;
  if (m.data_segments.size() < 64 || m.num_memory_imports > 0) return;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;  // [start, end) per segment, in order
  for (const wabt::DataSegment* d : m.data_segments) {
    if (d->kind != wabt::SegmentKind::Active || d->offset.size() != 1 ||
        d->offset.front().type() != wabt::ExprType::Const || m.GetMemoryIndex(d->memory_var) != 0)
      return;
    const auto& c = wabt::cast<wabt::ConstExpr>(&d->offset.front())->const_;
    if (c.type() != wabt::Type::I32) return;
    ranges.emplace_back(c.u32(), uint64_t(c.u32()) + d->data.size());
  }
  if (uses_data_index) return;
  // Strictly ascending, non-overlapping: then no gap between neighbours is covered by any segment.
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second) return;
  std::vector<wabt::DataSegment*> merged;
  for (size_t i = 0; i < m.data_segments.size(); ++i) {
    wabt::DataSegment* d = m.data_segments[i];
    if (!merged.empty()) {
      wabt::DataSegment* last = merged.back();
      uint64_t last_end = ranges[i - 1].second;
      if (ranges[i].first - last_end <= kMaxGap) {
        last->data.resize(last->data.size() + (ranges[i].first - last_end), 0);
        last->data.insert(last->data.end(), d->data.begin(), d->data.end());
        d->data.clear();
        continue;
      }
    }
    merged.push_back(d);
  }
  // The IR owns segments through module fields; emptied segments stay but are dropped from the
  // list the C writer walks.
  m.data_segments = std::move(merged);
}

// ---- C names, as wasm2c 1.0.32 forms them ------------------------------------------------------

// [A-Za-z0-9_] except 'Z' stay; every other byte becomes 'Z' + two uppercase hex digits.
std::string mangle(std::string_view name) {
  std::string out;
  for (unsigned char c : name) {
    if ((isalnum(c) && c != 'Z') || c == '_') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("Z{:02X}", c);
    }
  }
  return out;
}
std::string importSymbol(const std::string& module, const std::string& field) {
  return "Z_" + mangle(module) + "Z_" + mangle(field);
}
std::string importStruct(const std::string& module) {
  return "Z_" + mangle(module) + "_instance_t";
}
std::string exportSymbol(const std::string& field) {
  return "Z_" + mangle(kSelfName) + "Z_" + mangle(field);
}

const char* cType(ValType t) {
  switch (t) {
    case ValType::kI32:
      return "u32";
    case ValType::kI64:
      return "u64";
    case ValType::kF32:
      return "f32";
    case ValType::kF64:
      return "f64";
    case ValType::kFuncRef:
      return "wasm_rt_funcref_t";
    case ValType::kExternRef:
      return "wasm_rt_externref_t";
    case ValType::kV128:
      return "v128";
  }
  return "?";
}
// The cumulus_cell_t member for a type is named after the type (wasm_rt.h).
const char* cellField(ValType t) { return valTypeName(t); }

char multiChar(ValType t) {
  switch (t) {
    case ValType::kI32:
      return 'i';
    case ValType::kI64:
      return 'j';
    case ValType::kF32:
      return 'f';
    case ValType::kF64:
      return 'd';
    case ValType::kFuncRef:
      return 'r';
    case ValType::kExternRef:
      return 'e';
    case ValType::kV128:
      return 'v';
  }
  return '?';
}
std::string resultCType(const FuncType& ft) {
  if (ft.results.empty()) return "void";
  if (ft.results.size() == 1) return cType(ft.results[0]);
  std::string s = "struct wasm_multi_";
  for (auto t : ft.results) s.push_back(multiChar(t));
  return s;
}

// `function_units`: how many function units the module was split into (0: one unit).
std::string glue(const ModuleInfo& info, const wabt::Module& m, size_t function_units) {
  // The optimized tier hides every symbol but these entry points (-fvisibility=hidden).
  std::string g =
      "\n/* ---- Cumulus glue ---- */\n#if defined(__GNUC__) && !defined(__TINYC__)\n"
      "#define CUMULUS_EXPORT __attribute__((visibility(\"default\")))\n#else\n"
      "#define CUMULUS_EXPORT\n#endif\n";
  // One identical struct per import module name: {self, slots}. `self` makes both pointers the
  // generated code may pass (the env, or the address of the instance field holding it — wasm2c
  // 1.0.32 does the latter for imported functions placed in tables) resolve with one load.
  std::set<std::string> modules;
  for (const auto& imp : info.imports) modules.insert(imp.module);
  for (const auto& m : modules)
    g += fmt::format("struct {} {{ void* self; void** slots; }};\n", importStruct(m));
  std::set<std::string> defined;
  for (size_t k = 0; k < info.imports.size(); ++k) {
    const auto& imp = info.imports[k];
    std::string sym = importSymbol(imp.module, imp.name);
    if (!defined.insert(sym).second) continue;  // same name imported twice (same type: validated)
    std::string st = "struct " + importStruct(imp.module);
    std::string env = fmt::format("(*({}**)p)", st);
    switch (imp.type.kind) {
      case ExternKind::kFunc: {
        const FuncType& ft = imp.type.func;
        std::string ret = resultCType(ft);
        std::string params, args, ptypes;
        for (size_t i = 0; i < ft.params.size(); ++i) {
          params += fmt::format(", {} a{}", cType(ft.params[i]), i);
          args += fmt::format(", a{}", i);
          ptypes += fmt::format(", {}", cType(ft.params[i]));
        }
        size_t ncells = std::max<size_t>({ft.params.size(), ft.results.size(), 1});
        g += fmt::format("{} {}({}* p{}) {{\n  {}* e = {};\n", ret, sym, st, params, st, env);
        g += fmt::format("  wasm_rt_funcref_t* f = (wasm_rt_funcref_t*)e->slots[{}];\n", k);
        g += fmt::format("  if (f->func) {}(({} (*)(void*{}))f->func)(f->module_instance{});\n",
                         ret == "void" ? "{ " : "return ", ret, ptypes, args);
        if (ret == "void") g.insert(g.size() - 1, " return; }");
        g += fmt::format("  cumulus_cell_t c[{}];\n", ncells);
        for (size_t i = 0; i < ft.params.size(); ++i)
          g += fmt::format("  c[{}].{} = a{};\n", i, cellField(ft.params[i]), i);
        g += fmt::format("  int t = cumulus_host_call(e, {}, c);\n", k);
        g += "  if (t) cumulus_trap_in((wasm_rt_trap_t)t, 0);\n";
        if (ft.results.size() == 1) {
          g += fmt::format("  return c[0].{};\n", cellField(ft.results[0]));
        } else if (ft.results.size() > 1) {
          g += fmt::format("  {} r;\n", ret);
          for (size_t i = 0; i < ft.results.size(); ++i)
            g += fmt::format("  r.{}{} = c[{}].{};\n", multiChar(ft.results[i]), i, i,
                             cellField(ft.results[i]));
          g += "  return r;\n";
        }
        g += "}\n";
        break;
      }
      case ExternKind::kGlobal:
        g += fmt::format("{}* {}({}* p) {{ return ({}*){}->slots[{}]; }}\n",
                         cType(imp.type.global.type), sym, st, cType(imp.type.global.type), env, k);
        break;
      case ExternKind::kMemory:
        g += fmt::format(
            "wasm_rt_memory_t* {}({}* p) {{ return (wasm_rt_memory_t*){}->slots[{}]; }}\n", sym, st,
            env, k);
        break;
      case ExternKind::kTable: {
        const char* tt = imp.type.table.elem == ValType::kExternRef ? "wasm_rt_externref_table_t"
                                                                    : "wasm_rt_funcref_table_t";
        g += fmt::format("{}* {}({}* p) {{ return ({}*){}->slots[{}]; }}\n", tt, sym, st, tt, env,
                         k);
        break;
      }
      case ExternKind::kTag:
        break;
    }
  }
  std::string self = "Z_" + mangle(kSelfName);
  std::string inst_t = self + "_instance_t";
  g += fmt::format("CUMULUS_EXPORT size_t cumulus_instance_size(void) {{ return sizeof({}); }}\n",
                   inst_t);
  std::string inits;
  for (size_t k = 1; k <= function_units; ++k) {
    g += fmt::format("void Z_cumulus_u{}_init_module(void);\n", k);
    inits += fmt::format(" Z_cumulus_u{}_init_module();", k);
  }
  g += fmt::format("CUMULUS_EXPORT void cumulus_init_module(void) {{ {}_init_module();{} }}\n",
                   self, inits);
  std::string envs = function_units ? ", inst" : "";  // the units' import module sorts first
  for (size_t i = 0; i < modules.size(); ++i) envs += ", env";
  g += fmt::format(
      "CUMULUS_EXPORT void cumulus_instantiate(void* inst, void* env) {{ "
      "{}_instantiate(({}*)inst{}); }}\n",
      self, inst_t, envs);
  g += fmt::format("CUMULUS_EXPORT void cumulus_free(void* inst) {{ {}_free(({}*)inst); }}\n", self,
                   inst_t);
  g += "CUMULUS_EXPORT void cumulus_invoke(uint32_t idx, void* inst, cumulus_cell_t* c) {\n  "
       "switch (idx) {\n";
  for (size_t k = 0; k < info.exports.size(); ++k) {
    const auto& ex = info.exports[k];
    if (ex.type.kind != ExternKind::kFunc) continue;
    const FuncType& ft = ex.type.func;
    std::string args;
    for (size_t i = 0; i < ft.params.size(); ++i)
      args += fmt::format(", c[{}].{}", i, cellField(ft.params[i]));
    std::string call = fmt::format("{}(({}*)inst{})", exportSymbol(ex.name), inst_t, args);
    g += fmt::format("    case {}: {{ ", k);
    if (ft.results.empty()) {
      g += call + ";";
    } else if (ft.results.size() == 1) {
      g += fmt::format("c[0].{} = {};", cellField(ft.results[0]), call);
    } else {
      g += fmt::format("{} r = {};", resultCType(ft), call);
      for (size_t i = 0; i < ft.results.size(); ++i)
        g += fmt::format(" c[{}].{} = r.{}{};", i, cellField(ft.results[i]),
                         multiChar(ft.results[i]), i);
    }
    g += " break; }\n";
  }
  g += "  }\n}\n";
  if (m.num_memory_imports == 0 && !m.memories.empty()) {
    g += fmt::format(
        "CUMULUS_EXPORT wasm_rt_memory_t* cumulus_memory0(void* inst) {{ return "
        "&(({}*)inst)->w2c_M0; }}\n",
        inst_t);
  } else {
    g += "CUMULUS_EXPORT wasm_rt_memory_t* cumulus_memory0(void* inst) { return 0; }\n";
  }
  g += "CUMULUS_EXPORT void* cumulus_export_ptr(uint32_t idx, void* inst) {\n  switch (idx) {\n";
  for (size_t k = 0; k < info.exports.size(); ++k) {
    const auto& ex = info.exports[k];
    if (ex.type.kind == ExternKind::kFunc) {
      g += fmt::format("    case {}: return (void*)&{};\n", k, exportSymbol(ex.name));
    } else if (ex.type.kind != ExternKind::kTag) {
      g += fmt::format("    case {}: return (void*){}(({}*)inst);\n", k, exportSymbol(ex.name),
                       inst_t);
    }
  }
  g += "  }\n  return 0;\n}\n";
  return g;
}

// Replaces a whole (possibly multi-line) #define in `text`.
void replaceMacro(std::string& text, std::string_view head, std::string_view replacement) {
  size_t pos = text.find(head);
  if (pos == std::string::npos) return;
  size_t end = pos;
  for (;;) {
    size_t nl = text.find('\n', end);
    if (nl == std::string::npos) {
      end = text.size();
      break;
    }
    if (nl > 0 && text[nl - 1] == '\\') {
      end = nl + 1;
      continue;
    }
    end = nl;
    break;
  }
  text.replace(pos, end - pos, replacement);
}

void removeLine(std::string& text, std::string_view line) {
  size_t pos = text.find(line);
  if (pos == std::string::npos) return;
  size_t nl = text.find('\n', pos);
  text.erase(pos, (nl == std::string::npos ? text.size() : nl + 1) - pos);
}

constexpr std::string_view kTccPrelude =
    R"(/* tcc shims: builtins the generated code uses and tcc lacks */
uint32_t cumulus_clz32(uint32_t); uint32_t cumulus_clz64(uint64_t);
uint32_t cumulus_ctz32(uint32_t); uint32_t cumulus_ctz64(uint64_t);
uint32_t cumulus_popcount32(uint32_t); uint32_t cumulus_popcount64(uint64_t);
#define __builtin_clz(x) cumulus_clz32(x)
#define __builtin_clzll(x) cumulus_clz64(x)
#define __builtin_ctz(x) cumulus_ctz32(x)
#define __builtin_ctzll(x) cumulus_ctz64(x)
#define __builtin_popcount(x) cumulus_popcount32(x)
#define __builtin_popcountll(x) cumulus_popcount64(x)
/* tcc negates floats by subtraction, which loses a NaN's sign: flip the sign bit instead. */
static inline float cumulus_fneg32(float x) { union { float f; uint32_t u; } v; v.f = x; v.u ^= 0x80000000u; return v.f; }
static inline double cumulus_fneg64(double x) { union { double f; uint64_t u; } v; v.f = x; v.u ^= 0x8000000000000000ull; return v.f; }
)";

constexpr std::string_view kTrapMacros =
    R"(#define TRAP(x) (cumulus_trap_in(WASM_RT_TRAP_##x, __func__), 0)
static inline void cumulus_check_indirect(const wasm_rt_funcref_table_t* t, u32 x, u32 type) {
  if (UNLIKELY(x >= t->size)) cumulus_trap_in(WASM_RT_TRAP_CALL_INDIRECT, 0);
  if (UNLIKELY(!t->data[x].func)) cumulus_trap_in(CUMULUS_TRAP_NULL_REF, 0);
  if (UNLIKELY(t->data[x].func_type != type)) cumulus_trap_in(CUMULUS_TRAP_INDIRECT_TYPE, 0);
}
#define CALL_INDIRECT(table, t, ft, x, ...) \
  (cumulus_check_indirect(&(table), (x), func_types[ft]), ((t)(table).data[x].func)(__VA_ARGS__)))";

// Custom sections must be well framed (a valid LEB128 size within the module, a UTF-8 name that
// fits) even though their contents are ignored. wabt checks this only together with the *contents*
// of known custom sections (a name section with a wrong count would reject the whole module, which
// the spec forbids and which real modules, e.g. jco's preview1 adapter, trip over), so the framing
// is checked here and content errors are left to wabt's lenient mode.
std::string checkCustomSectionFraming(std::span<const uint8_t> b) {
  size_t pos = 8;
  while (pos < b.size()) {
    uint8_t id = b[pos++];
    uint64_t size;
    if (const char* e = readUleb128(b, pos, 32, size)) return e;
    if (size > b.size() - pos) return "length out of bounds";
    size_t end = pos + size;
    if (id == 0) {
      uint64_t len;
      size_t p = pos;
      if (const char* e = readUleb128(b, p, 32, len)) return e;
      if (p > end || len > end - p) return "unexpected end";
      if (!isValidUtf8(std::string_view(reinterpret_cast<const char*>(b.data() + p), len)))
        return "malformed UTF-8 encoding";
    }
    pos = end;
  }
  return {};
}

}  // namespace

ParsedModule::ParsedModule() : ir_(std::make_unique<wabt::Module>()) {}
ParsedModule::~ParsedModule() = default;
ParsedModule::ParsedModule(ParsedModule&&) noexcept = default;

Expected<ParsedModule> ParsedModule::parse(std::span<const uint8_t> bytes,
                                           const WasmFeatures& features) {
  ParsedModule pm;
  wabt::Errors errors;
  if (bytes.size() >= 8) {
    if (std::string e = checkCustomSectionFraming(bytes); !e.empty())
      return makeError(ErrorCode::kInvalidArgument, "malformed module: custom section: {}", e);
  }
  wabt::ReadBinaryOptions options(engineFeatures(features), nullptr, /*read_debug_names=*/true,
                                  /*stop_on_first_error=*/true,
                                  /*fail_on_custom_section_error=*/false);
  if (wabt::Failed(wabt::ReadBinaryIr("module.wasm", bytes.data(), bytes.size(), options, &errors,
                                      pm.ir_.get()))) {
    return makeError(ErrorCode::kInvalidArgument, "malformed module: {}",
                     errors.empty() ? "unreadable" : errors.front().message);
  }
  const wabt::Module& m = *pm.ir_;
  // The body walk needs no validated IR (it indexes nothing), so a large module's runs on another
  // core while wabt validates (StarlingMonkey: ~0.2 s each).
  constexpr size_t kScanBesideFrom =
      512;  // functions; below this a thread costs more than it saves
  std::jthread scanner;
  if (m.funcs.size() >= kScanBesideFrom)
    scanner = std::jthread([&pm] { pm.bodies_ = scanBodies(*pm.ir_); });
  wabt::ValidateOptions vopts(engineFeatures(features));
  bool valid = wabt::Succeeded(wabt::ValidateModule(pm.ir_.get(), &errors, vopts));
  if (scanner.joinable())
    scanner.join();
  else if (valid)
    pm.bodies_ = scanBodies(m);
  if (!valid) {
    return makeError(ErrorCode::kInvalidArgument, "invalid module: {}",
                     errors.empty() ? "validation failed" : errors.front().message);
  }
  // wabt 1.0.32's validator accepts an empty constant expression (it only checks the types of
  // what is there); the spec requires exactly one value.
  for (const wabt::DataSegment* d : m.data_segments)
    if (d->kind == wabt::SegmentKind::Active && d->offset.empty())
      return makeError(ErrorCode::kInvalidArgument,
                       "invalid module: type mismatch: empty data segment offset");
  for (const wabt::ElemSegment* e : m.elem_segments)
    if (e->kind == wabt::SegmentKind::Active && e->offset.empty())
      return makeError(ErrorCode::kInvalidArgument,
                       "invalid module: type mismatch: empty element segment offset");
  for (size_t i = m.num_global_imports; i < m.globals.size(); ++i)
    if (m.globals[i]->init_expr.empty())
      return makeError(ErrorCode::kInvalidArgument,
                       "invalid module: type mismatch: empty global initializer");
  if (std::string why = unsupportedTypeUse(m); !why.empty())
    return makeError(ErrorCode::kInvalidArgument, "invalid module: {}", why);
  if (!pm.bodies_.unsupported_type.empty())
    return makeError(ErrorCode::kInvalidArgument, "invalid module: {}",
                     pm.bodies_.unsupported_type);
  ModuleInfo& info = pm.info_;
  for (const wabt::Import* imp : m.imports) {
    ImportDesc d{imp->module_name, imp->field_name, {}};
    switch (imp->kind()) {
      case wabt::ExternalKind::Func:
        d.type.kind = ExternKind::kFunc;
        d.type.func = toFuncType(wabt::cast<wabt::FuncImport>(imp)->func.decl.sig);
        break;
      case wabt::ExternalKind::Global: {
        auto& g = wabt::cast<wabt::GlobalImport>(imp)->global;
        d.type.kind = ExternKind::kGlobal;
        d.type.global = {toValType(g.type), g.mutable_};
        break;
      }
      case wabt::ExternalKind::Memory:
        d.type.kind = ExternKind::kMemory;
        d.type.memory.limits = toLimits(wabt::cast<wabt::MemoryImport>(imp)->memory.page_limits);
        break;
      case wabt::ExternalKind::Table: {
        auto& t = wabt::cast<wabt::TableImport>(imp)->table;
        d.type.kind = ExternKind::kTable;
        d.type.table = {toValType(t.elem_type), toLimits(t.elem_limits)};
        break;
      }
      case wabt::ExternalKind::Tag:
        d.type.kind = ExternKind::kTag;
        break;
    }
    info.imports.push_back(std::move(d));
  }
  for (const wabt::Export* ex : m.exports) {
    ExportDesc d{ex->name, {}};
    switch (ex->kind) {
      case wabt::ExternalKind::Func:
        d.type.kind = ExternKind::kFunc;
        d.type.func = toFuncType(m.GetFunc(ex->var)->decl.sig);
        break;
      case wabt::ExternalKind::Global: {
        const wabt::Global* g = m.GetGlobal(ex->var);
        d.type.kind = ExternKind::kGlobal;
        d.type.global = {toValType(g->type), g->mutable_};
        break;
      }
      case wabt::ExternalKind::Memory:
        d.type.kind = ExternKind::kMemory;
        d.type.memory.limits = toLimits(m.GetMemory(ex->var)->page_limits);
        break;
      case wabt::ExternalKind::Table: {
        const wabt::Table* t = m.GetTable(ex->var);
        d.type.kind = ExternKind::kTable;
        d.type.table = {toValType(t->elem_type), toLimits(t->elem_limits)};
        break;
      }
      case wabt::ExternalKind::Tag:
        d.type.kind = ExternKind::kTag;
        break;
    }
    info.exports.push_back(std::move(d));
  }
  for (uint32_t i = 0; i < info.exports.size(); ++i) {
    if (info.exports[i].type.kind != ExternKind::kMemory) continue;
    if (!info.default_memory_export || info.exports[i].name == "memory")
      info.default_memory_export = i;
    if (info.exports[i].name == "memory") break;
  }
  for (uint32_t k = 0; k < info.imports.size() && !info.default_memory_import; ++k)
    if (info.imports[k].type.kind == ExternKind::kMemory) info.default_memory_import = k;
  info.func_count = m.funcs.size();
  info.func_names.reserve(m.funcs.size());
  for (const wabt::Func* f : m.funcs)
    info.func_names.push_back(f->name.empty() ? f->name : f->name.substr(1));
  info.uses_simd = pm.bodies_.uses_simd || moduleUsesSimd(m);
  if (info.uses_simd) {
    info.interpreter_reason = "the module uses SIMD, which wasm2c 1.0.32 cannot translate";
  } else if (auto reason = lowerExtendedConst(*pm.ir_); !reason.empty()) {
    info.interpreter_reason = reason;
  } else {
    // Imports of one name with two different types would collide in C.
    std::map<std::string, const ImportDesc*> seen;
    for (const auto& imp : info.imports) {
      auto [it, inserted] = seen.emplace(imp.module + '\0' + imp.name, &imp);
      if (!inserted && it->second->type.toString() != imp.type.toString()) {
        info.interpreter_reason =
            fmt::format("import {}.{} appears with two types", imp.module, imp.name);
      }
      if (imp.type.kind == ExternKind::kTag) info.interpreter_reason = "the module imports a tag";
    }
    for (const auto& ex : info.exports)
      if (ex.type.kind == ExternKind::kTag) info.interpreter_reason = "the module exports a tag";
  }
  return pm;
}

// tcc inlines nothing: wasm2c's load/store helpers would cost two calls per memory access
// (the helper, then memcpy). After the helpers are defined, these macros replace them at every
// use with a direct access (x86-64 allows unaligned loads; tcc does no type-based aliasing).
constexpr std::string_view kTccMemoryMacros = R"(
#define i32_load(m, a) (*(u32*)((m)->data + (a)))
#define i64_load(m, a) (*(u64*)((m)->data + (a)))
#define f32_load(m, a) (*(f32*)((m)->data + (a)))
#define f64_load(m, a) (*(f64*)((m)->data + (a)))
#define i32_load8_s(m, a) ((u32)(s32)*(s8*)((m)->data + (a)))
#define i64_load8_s(m, a) ((u64)(s64)*(s8*)((m)->data + (a)))
#define i32_load8_u(m, a) ((u32)*(u8*)((m)->data + (a)))
#define i64_load8_u(m, a) ((u64)*(u8*)((m)->data + (a)))
#define i32_load16_s(m, a) ((u32)(s32)*(s16*)((m)->data + (a)))
#define i64_load16_s(m, a) ((u64)(s64)*(s16*)((m)->data + (a)))
#define i32_load16_u(m, a) ((u32)*(u16*)((m)->data + (a)))
#define i64_load16_u(m, a) ((u64)*(u16*)((m)->data + (a)))
#define i64_load32_s(m, a) ((u64)(s64)*(s32*)((m)->data + (a)))
#define i64_load32_u(m, a) ((u64)*(u32*)((m)->data + (a)))
#define i32_store(m, a, v) (*(u32*)((m)->data + (a)) = (u32)(v))
#define i64_store(m, a, v) (*(u64*)((m)->data + (a)) = (u64)(v))
#define f32_store(m, a, v) (*(f32*)((m)->data + (a)) = (v))
#define f64_store(m, a, v) (*(f64*)((m)->data + (a)) = (v))
#define i32_store8(m, a, v) (*(u8*)((m)->data + (a)) = (u8)(v))
#define i32_store16(m, a, v) (*(u16*)((m)->data + (a)) = (u16)(v))
#define i64_store8(m, a, v) (*(u8*)((m)->data + (a)) = (u8)(v))
#define i64_store16(m, a, v) (*(u16*)((m)->data + (a)) = (u16)(v))
#define i64_store32(m, a, v) (*(u32*)((m)->data + (a)) = (u32)(v))
)";

void prepareForTranslation(ParsedModule& pm) {
  wabt::Module& m = pm.ir();
  mergeDataSegments(m, pm.bodies().uses_data_index);
  // Large data (wizer snapshots: megabytes) costs ~6 bytes of C per byte to translate and to
  // compile; the host copies it instead. Same conditions as merging, plus no start function (it
  // could read the data) and a module-defined memory 0.
  constexpr size_t kHostDataThreshold = 64 * 1024;
  size_t total = 0;
  for (const wabt::DataSegment* d : m.data_segments) total += d->data.size();
  if (total < kHostDataThreshold || !m.starts.empty() || m.num_memory_imports > 0 ||
      m.memories.empty())
    return;
  if (pm.bodies().uses_data_index) return;
  std::vector<ModuleInfo::DataInit> out;
  for (const wabt::DataSegment* d : m.data_segments) {
    if (d->kind != wabt::SegmentKind::Active || d->offset.size() != 1 ||
        d->offset.front().type() != wabt::ExprType::Const || m.GetMemoryIndex(d->memory_var) != 0)
      return;
    const auto& c = wabt::cast<wabt::ConstExpr>(&d->offset.front())->const_;
    if (c.type() != wabt::Type::I32) return;
    out.push_back({c.u32(), d->data});
  }
  pm.mutableInfo().host_data = std::move(out);
  m.data_segments.clear();
}

bool resolveGlueEntryPoints(const std::function<void*(const char*)>& lookup, GlueEntryPoints& e) {
  e.instance_size = reinterpret_cast<size_t (*)()>(lookup("cumulus_instance_size"));
  e.init_module = reinterpret_cast<void (*)()>(lookup("cumulus_init_module"));
  e.instantiate = reinterpret_cast<void (*)(void*, void*)>(lookup("cumulus_instantiate"));
  e.free_instance = reinterpret_cast<void (*)(void*)>(lookup("cumulus_free"));
  e.invoke = reinterpret_cast<void (*)(uint32_t, void*, Cell*)>(lookup("cumulus_invoke"));
  e.export_ptr = reinterpret_cast<void* (*)(uint32_t, void*)>(lookup("cumulus_export_ptr"));
  e.memory0 = reinterpret_cast<wasm_rt_memory_t* (*)(void*)>(lookup("cumulus_memory0"));
  return e.instance_size && e.init_module && e.instantiate && e.free_instance && e.invoke &&
         e.export_ptr && e.memory0;
}

std::string tccSource(const std::string& c_source) {
  std::string out = "#include <stdint.h>\n" + std::string(kTccPrelude);
  out.reserve(out.size() + c_source.size());
  // f32.neg / f64.neg are emitted as `w2c_fN = -(w2c_fN);` / `w2c_dN = -(w2c_dN);`.
  size_t i = 0;
  for (size_t pos; (pos = c_source.find("= -(w2c_", i)) != std::string::npos;) {
    char kind = c_source[pos + 8];
    out.append(c_source, i, pos - i);
    if (kind == 'f')
      out += "= cumulus_fneg32(w2c_";
    else if (kind == 'd')
      out += "= cumulus_fneg64(w2c_";
    else
      out += "= -(w2c_";
    i = pos + 8;
  }
  out.append(c_source, i, std::string::npos);
  constexpr std::string_view kLastHelper = "DEFINE_STORE(i64_store32, u32, u64)\n";
  if (size_t pos = out.find(kLastHelper); pos != std::string::npos)
    out.insert(pos + kLastHelper.size(), kTccMemoryMacros);
  return out;
}

namespace {

// ---- translation units ------------------------------------------------------------------------
//
// wasm2c 1.0.32 writes one C file per module and, for every function it writes, copies its set of
// all global C names (one per function, global, segment, import): quadratic in the module's size,
// and single-threaded. For StarlingMonkey (12,696 functions) that copy alone was a third of the
// time from bytes to first call. A large module is therefore translated as several units, each by
// its own C-writer run on its own thread, over a *view* of the module (a wabt::Module whose
// vectors point into the real one):
//  - the skeleton (unit 0) has no functions of its own: everything module-level (globals, memories,
//    tables, active segments, exports, start, and the Cumulus glue);
//  - each function unit defines a contiguous range of the module's functions.
// Every other function a view refers to (calls, ref.func, passive segments, global initializers)
// is imported from the module named "" (C symbol `Z_Z_F<N>`), which post-processing renames to
// the defining unit's `w2c_F<N>` (made non-static there). Every view imports at least one such
// function, and wasm2c sorts the instance's per-module pointers by module name, so the pointer for
// "" is the instance's first field: all units share one instance layout, the field holds the
// instance itself (the glue passes it to instantiate), and wasm2c's `offsetof(..., Z__instance)`
// for imported functions placed in tables is 0. Only the skeleton keeps active segment contents;
// units keep passive segments whole (their dropped-flags are part of the layout) and empty
// copies of the rest (`memory.init` of an active segment sees it as dropped, which it is).
constexpr std::string_view kUnitImportModule = "";

struct UnitRange {
  size_t begin = 0, end = 0;  // defined functions [begin, end) as indices into Module::funcs
};

// Contiguous ranges of defined functions with about equal amounts of code. `wanted` 0 chooses from
// the module's size; 1 (or a module that cannot be split) gives no ranges: one unit.
std::vector<UnitRange> planUnits(const wabt::Module& m, size_t wanted,
                                 const std::vector<uint32_t>& expr_counts) {
  const size_t first = m.num_func_imports, defined = m.funcs.size() - first;
  // A module wasm2c cannot split this way: tags (exceptions) are per-unit statics in its output;
  // an import from the module named "" would share the units' import module.
  bool splittable = defined >= 2 && m.tags.empty();
  for (const wabt::Import* imp : m.imports)
    if (imp->module_name == kUnitImportModule) splittable = false;
  // wabt's ApplyNames stops at a segment whose table or memory does not exist (a declared
  // segment in a module without a table, say), leaving later references (start, ...) as indices,
  // which mean other functions in a view.
  for (const wabt::ElemSegment* seg : m.elem_segments)
    if (m.GetTableIndex(seg->table_var) >= m.tables.size()) splittable = false;
  for (const wabt::DataSegment* seg : m.data_segments)
    if (m.GetMemoryIndex(seg->memory_var) >= m.memories.size()) splittable = false;
  constexpr size_t kSplitFrom = 1500;  // functions; below this one unit translates fast enough
  constexpr size_t kFuncsPerUnit = 800;
  if (wanted == 0)
    wanted = defined < kSplitFrom ? 1 : std::clamp<size_t>(defined / kFuncsPerUnit, 2, 64);
  wanted = std::min(wanted, defined);
  if (!splittable || wanted <= 1) return {};
  std::vector<size_t> weight(defined);
  size_t total = 0;
  for (size_t i = 0; i < defined; ++i) {
    weight[i] = 16 + expr_counts[first + i];  // 16: the per-function overhead
    total += weight[i];
  }
  std::vector<UnitRange> out;
  size_t begin = 0, acc = 0;
  for (size_t i = 0; i < defined; ++i) {
    acc += weight[i];
    size_t units_after = wanted - out.size() - 1, funcs_after = defined - (i + 1);
    bool cut =
        units_after > 0 && (acc * wanted >= total * (out.size() + 1) || funcs_after == units_after);
    if (cut || funcs_after == 0) {
      out.push_back({first + begin, first + i + 1});
      begin = i + 1;
    }
  }
  return out;
}

// A wabt::Module that borrows the real module's entities (its `fields` list stays empty, so
// destroying it frees only what the view itself made).
struct UnitView {
  wabt::Module mod;
  std::vector<std::unique_ptr<wabt::FuncImport>> imported;
  std::vector<std::unique_ptr<wabt::DataSegment>> data_copies;
  std::vector<std::unique_ptr<wabt::ElemSegment>> elem_copies;
};

wabt::ExprList zeroOffset() {
  wabt::ExprList l;
  l.push_back(std::make_unique<wabt::ConstExpr>(wabt::Const::I32(0)));
  return l;
}

// The view for the skeleton (`range` empty) or for one function unit.
std::unique_ptr<UnitView> makeView(const wabt::Module& m, UnitRange range) {
  auto v = std::make_unique<UnitView>();
  wabt::Module& u = v->mod;
  const bool skeleton = range.begin == range.end;
  const size_t nfi = m.num_func_imports;
  u.types = m.types;
  u.type_bindings = m.type_bindings;
  u.globals = m.globals;
  u.global_bindings = m.global_bindings;
  u.num_global_imports = m.num_global_imports;
  u.memories = m.memories;
  u.memory_bindings = m.memory_bindings;
  u.num_memory_imports = m.num_memory_imports;
  u.tables = m.tables;
  u.table_bindings = m.table_bindings;
  u.num_table_imports = m.num_table_imports;
  u.imports = m.imports;
  u.data_segment_bindings = m.data_segment_bindings;
  u.elem_segment_bindings = m.elem_segment_bindings;

  std::vector<bool> wanted(m.funcs.size(), false), exported(m.funcs.size(), false);
  auto want = [&](const wabt::Var& var) {
    wabt::Index i = m.GetFuncIndex(var);
    if (i < m.funcs.size() && i >= nfi && (i < range.begin || i >= range.end)) wanted[i] = true;
  };
  auto wantRefs = [&](const wabt::ExprList& exprs) {
    anyExpr(exprs, [&](const wabt::Expr& e) {
      if (e.type() == wabt::ExprType::Call)
        want(wabt::cast<wabt::CallExpr>(&e)->var);
      else if (e.type() == wabt::ExprType::RefFunc)
        want(wabt::cast<wabt::RefFuncExpr>(&e)->var);
      return false;
    });
  };
  for (const wabt::Global* g : m.globals) wantRefs(g->init_expr);
  for (wabt::ElemSegment* seg : m.elem_segments) {
    if (seg->kind == wabt::SegmentKind::Passive ||
        (skeleton && seg->kind == wabt::SegmentKind::Active)) {
      for (const wabt::ExprList& e : seg->elem_exprs) wantRefs(e);
      u.elem_segments.push_back(seg);
      continue;
    }
    auto copy = std::make_unique<wabt::ElemSegment>(seg->name);
    copy->kind = seg->kind;
    copy->table_var = seg->table_var;
    copy->elem_type = seg->elem_type;
    if (seg->kind == wabt::SegmentKind::Active) copy->offset = zeroOffset();
    u.elem_segments.push_back(copy.get());
    v->elem_copies.push_back(std::move(copy));
  }
  for (wabt::DataSegment* seg : m.data_segments) {
    if (skeleton || seg->kind == wabt::SegmentKind::Passive) {
      u.data_segments.push_back(seg);
      continue;
    }
    auto copy = std::make_unique<wabt::DataSegment>(seg->name);
    copy->kind = seg->kind;
    copy->memory_var = seg->memory_var;
    copy->offset = zeroOffset();
    u.data_segments.push_back(copy.get());
    v->data_copies.push_back(std::move(copy));
  }
  if (skeleton) {
    for (const wabt::Export* e : m.exports) {
      if (e->kind != wabt::ExternalKind::Func) continue;
      want(e->var);
      if (wabt::Index i = m.GetFuncIndex(e->var); i < exported.size()) exported[i] = true;
    }
    for (const wabt::Var* s : m.starts) want(*s);
    u.exports = m.exports;
    u.export_bindings = m.export_bindings;
    u.starts = m.starts;
  } else {
    for (size_t i = range.begin; i < range.end; ++i) wantRefs(m.funcs[i]->exprs);
  }
  // At least one import from the unit module, so that every unit's instance starts with its
  // pointer.
  if (std::find(wanted.begin(), wanted.end(), true) == wanted.end())
    wanted[range.begin == nfi ? range.end : nfi] = true;  // a function of another unit

  for (size_t i = 0; i < nfi; ++i) u.funcs.push_back(m.funcs[i]);
  for (size_t i = nfi; i < m.funcs.size(); ++i) {
    if (!wanted[i]) continue;
    const wabt::Func* f = m.funcs[i];
    auto imp = std::make_unique<wabt::FuncImport>(f->name);
    imp->module_name = kUnitImportModule;
    imp->field_name = f->name.substr(1);  // "$F123" -> "F123": C symbol Z_Z_F123
    imp->func.decl = f->decl;
    if (exported[i]) {  // export wrappers name their parameters
      imp->func.bindings = f->bindings;
      imp->func.local_types = f->local_types;
    }
    u.funcs.push_back(&imp->func);
    u.imports.push_back(imp.get());
    v->imported.push_back(std::move(imp));
  }
  u.num_func_imports = static_cast<wabt::Index>(u.funcs.size());
  for (size_t i = range.begin; i < range.end; ++i) u.funcs.push_back(m.funcs[i]);
  for (size_t i = 0; i < u.funcs.size(); ++i)
    u.func_bindings.emplace(u.funcs[i]->name, wabt::Binding(static_cast<wabt::Index>(i)));
  return v;
}

// Runs wasm2c's C writer and turns its header + source into one self-contained C unit.
Expected<std::string> writeUnit(const wabt::Module& m, std::string_view module_name, bool split) {
  wabt::MemoryStream c_stream, h_stream;
  wabt::WriteCOptions options;
  options.module_name = module_name;
  if (wabt::Failed(wabt::WriteC(&c_stream, &h_stream, "cumulus_module.h", &m, options)))
    return makeError(ErrorCode::kInternal, "wasm2c failed to write C");
  const auto& cb = c_stream.output_buffer().data;
  const auto& hb = h_stream.output_buffer().data;
  std::string header(hb.begin(), hb.end());
  std::string body(cb.begin(), cb.end());
  removeLine(header, "#include \"wasm-rt.h\"");
  removeLine(body, "#include \"cumulus_module.h\"");
  // wasm2c 1.0.32 emits segment loads with an empty offset (`LOAD_DATA(mem, , NULL, 0);`,
  // `funcref_table_init(t, NULL, 0, , 0, 0, ...)`) for empty passive/declared segments, which are
  // never loaded at instantiation: such lines are dropped.
  for (size_t pos = 0; (pos = body.find(", , ", pos)) != std::string::npos;) {
    size_t start = body.rfind('\n', pos) + 1;
    size_t end = body.find('\n', pos);
    std::string_view line(body.data() + start, end - start);
    if (line.starts_with("  LOAD_DATA(") || line.starts_with("  funcref_table_init(") ||
        line.starts_with("  externref_table_init(")) {
      body.erase(start, end - start + 1);
      pos = start;
    } else {
      pos = end;
    }
  }
  replaceMacro(body, "#define CALL_INDIRECT(", "");
  replaceMacro(body, "#define TRAP(x)", kTrapMacros);
  std::string out;
  out.reserve(header.size() + body.size() + 131072);
  out += "#define NDEBUG 1\n";
  out += rt::kWasmRtHeader;
  if (!split) {
    out += header;
    out += body;
    return out;
  }
  // Functions of other units: `Z_Z_F<N>` -> `w2c_F<N>`; this unit's functions lose `static`.
  std::string text = header + body;
  constexpr std::string_view kImported = "Z_Z_F", kStatic = "\nstatic ";
  size_t i = 0, a = text.find(kImported), b = text.find(kStatic);
  while (a != std::string::npos || b != std::string::npos) {
    if (a < b) {
      out.append(text, i, a - i);
      out += "w2c_F";
      i = a + kImported.size();
      a = text.find(kImported, i);
      continue;
    }
    // `static <type> w2c_F<N>(`: a declaration or definition of one of this unit's functions.
    size_t paren = text.find('(', b + 1), nl = text.find('\n', b + 1);
    size_t name = paren == std::string::npos ? paren : text.rfind(" w2c_F", paren);
    bool own = paren < nl && name != std::string::npos && name > b && paren > name + 6 &&
               std::all_of(text.begin() + long(name + 6), text.begin() + long(paren),
                           [](char c) { return c >= '0' && c <= '9'; });
    out.append(text, i, b + 1 - i);
    i = own ? b + kStatic.size() : b + 1;
    b = text.find(kStatic, b + 1);
    if (a != std::string::npos && a < i) a = text.find(kImported, i);
  }
  out.append(text, i, std::string::npos);
  return out;
}

}  // namespace

size_t translationUnits(const ParsedModule& pm, const TranslateOptions& opts) {
  auto ranges = planUnits(pm.ir(), opts.units, pm.bodies().expr_counts);
  return ranges.empty() ? 1 : ranges.size() + 1;
}

Expected<std::vector<std::string>> translateToC(ParsedModule& pm, const TranslateOptions& opts,
                                                const UnitSink& on_unit) {
  if (!pm.info().interpreter_reason.empty())
    return makeError(ErrorCode::kUnsupported, "cannot translate to C: {}",
                     pm.info().interpreter_reason);
  wabt::Module& m = pm.ir();
  // Debug names are dropped before translation: wasm2c copies the set of all global C names once
  // per function, and long mangled names (C++/Rust symbols) made that copy dominate translation
  // (StarlingMonkey: 8.8 s of 12 s). Generated names are short ("F123"); traps map them back to
  // the debug names kept in ModuleInfo::func_names. Units rely on these names (see makeView).
  m.func_bindings.clear();
  for (size_t i = 0; i < m.funcs.size(); ++i) {
    // "F": wasm2c names f32 stack variables w2c_f0, w2c_f1, ... (units must not collide with them)
    m.funcs[i]->name = fmt::format("$F{}", i);  // GenerateNames would prefer export names
    m.funcs[i]->bindings.clear();
    m.func_bindings.emplace(m.funcs[i]->name, wabt::Binding(static_cast<wabt::Index>(i)));
  }
  // Globals and tables get fixed names too: GenerateNames would name them after their exports,
  // and a global exported as "F1" would share function 1's name (wasm2c keys imports by name).
  m.global_bindings.clear();
  for (size_t i = 0; i < m.globals.size(); ++i) {
    m.globals[i]->name = fmt::format("$g{}", i);
    m.global_bindings.emplace(m.globals[i]->name, wabt::Binding(static_cast<wabt::Index>(i)));
  }
  for (wabt::DataSegment* d : m.data_segments) d->name.clear();
  for (wabt::ElemSegment* e : m.elem_segments) e->name.clear();
  m.table_bindings.clear();
  for (size_t i = 0; i < m.tables.size(); ++i) {
    m.tables[i]->name = fmt::format("$T{}", i);
    m.table_bindings.emplace(m.tables[i]->name, wabt::Binding(static_cast<wabt::Index>(i)));
  }
  m.memory_bindings.clear();
  for (size_t i = 0; i < m.memories.size(); ++i) {  // fixed names: the glue refers to w2c_M<i>
    m.memories[i]->name = fmt::format("$M{}", i);
    m.memory_bindings.emplace(m.memories[i]->name, wabt::Binding(static_cast<wabt::Index>(i)));
  }
  for (wabt::TypeEntry* t : m.types) t->name.clear();
  m.data_segment_bindings.clear();
  m.elem_segment_bindings.clear();
  m.type_bindings.clear();
  // As in wasm2c itself, a name that cannot be applied is left as an index: not an error for one
  // unit, but a view would read such an index as another function (planUnits checks the known
  // cause; this catches any other).
  (void)wabt::GenerateNames(&m);
  const bool named = wabt::Succeeded(wabt::ApplyNames(&m));

  std::vector<UnitRange> ranges;
  if (named) ranges = planUnits(m, opts.units, pm.bodies().expr_counts);
  const bool split = !ranges.empty();
  ranges.insert(ranges.begin(), UnitRange{});  // the skeleton, or the whole module
  const std::string glue_text = glue(pm.info(), m, ranges.size() - 1);
  std::vector<Expected<std::string>> results(ranges.size(),
                                             makeError(ErrorCode::kInternal, "not translated"));
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t k; (k = next.fetch_add(1)) < ranges.size();) {
      Expected<std::string> unit = makeError(ErrorCode::kInternal, "not translated");
      if (!split) {
        unit = writeUnit(m, kSelfName, false);
      } else {
        auto view = makeView(m, ranges[k]);
        unit = writeUnit(view->mod, k == 0 ? std::string(kSelfName) : fmt::format("cumulus_u{}", k),
                         true);
      }
      if (unit.ok()) {
        if (k == 0) *unit += glue_text;
        // Export names land in comments verbatim; a NUL byte would end tcc's in-memory source.
        std::replace(unit->begin(), unit->end(), '\0', '?');
        if (on_unit) on_unit(*unit);
      }
      results[k] = std::move(unit);
    }
  };
  size_t threads = std::clamp<size_t>(
      opts.threads ? opts.threads : std::thread::hardware_concurrency(), 1, ranges.size());
  {
    std::vector<std::jthread> pool;  // joined when the block ends, whatever happens
    for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
  }
  std::vector<std::string> units;
  for (auto& r : results) {
    if (!r.ok()) return std::move(r).error();
    units.push_back(std::move(*r));
  }
  return units;
}

}  // namespace cumulus::engine
