// The Cumulus glue (import thunks, export invoker, entry points) and the tcc shims; see c_glue.h
// and docs/engine.md.
#include "engine/c_glue.h"

#include <set>

#include <fmt/format.h>
#include <wabt/ir.h>

namespace cumulus::engine {

namespace {

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

}  // namespace

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

namespace {

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

}  // namespace

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

}  // namespace cumulus::engine
