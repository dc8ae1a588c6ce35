// Front end: parse and validate with libwabt, describe the module (ModuleInfo), find what the C
// writer cannot take (SIMD, typed references, non-constant extended-const), and prepare the IR
// for translation (merged data segments, host-loaded data). See translate.h.
#include <algorithm>
#include <map>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <wabt/binary-reader-ir.h>
#include <wabt/binary-reader.h>
#include <wabt/cast.h>
#include <wabt/error-formatter.h>
#include <wabt/ir.h>
#include <wabt/validator.h>

#include "base/binary.h"
#include "engine/ir_walk.h"
#include "engine/translate.h"

namespace cumulus::engine {

namespace {

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

}  // namespace cumulus::engine
