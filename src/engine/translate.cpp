// Translation to C: wasm2c's C writer (libwabt) over the prepared IR, post-processing of its
// output, and the split of large modules into units translated on parallel threads (below).
// Parsing is in parse.cpp, the glue in c_glue.cpp. See translate.h.
#include "engine/translate.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <thread>

#include <fmt/format.h>
#include <wabt/apply-names.h>
#include <wabt/c-writer.h>
#include <wabt/cast.h>
#include <wabt/generate-names.h>
#include <wabt/ir.h>
#include <wabt/stream.h>

#include "engine/c_glue.h"
#include "engine/ir_walk.h"
#include "engine/rt/embedded.h"

namespace cumulus::engine {

const char* const kTranslatorVersion = "wabt-1.0.32+cumulus-units-5";

namespace {

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

constexpr std::string_view kTrapMacros =
    R"(#define TRAP(x) (cumulus_trap_in(WASM_RT_TRAP_##x, __func__), 0)
static inline void cumulus_check_indirect(const wasm_rt_funcref_table_t* t, u32 x, u32 type) {
  if (UNLIKELY(x >= t->size)) cumulus_trap_in(WASM_RT_TRAP_CALL_INDIRECT, 0);
  if (UNLIKELY(!t->data[x].func)) cumulus_trap_in(CUMULUS_TRAP_NULL_REF, 0);
  if (UNLIKELY(t->data[x].func_type != type)) cumulus_trap_in(CUMULUS_TRAP_INDIRECT_TYPE, 0);
}
#define CALL_INDIRECT(table, t, ft, x, ...) \
  (cumulus_check_indirect(&(table), (x), func_types[ft]), ((t)(table).data[x].func)(__VA_ARGS__)))";

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