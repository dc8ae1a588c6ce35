// Front end of the engine: bytes -> validated wabt IR -> module description -> C source.
//
// libwabt parses and validates (parse.cpp); wasm2c's C writer (libwabt) emits C for the module
// (translate.cpp); the front end adds what wasm2c 1.0.32 lacks or gets wrong for an embedder:
//  - detection of features the C writer cannot handle (SIMD aborts it; see `needsInterpreter`),
//    so such modules never reach it;
//  - lowering of extended-const initializers that fold to constants;
//  - the glue: import thunks bound through per-instance slot tables, a switch-based export invoker
//    with a uniform cell calling convention, instance size/instantiate/free entry points;
//  - typed trap sites (function names, distinct call_indirect traps).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/error.h"
#include "engine/types.h"

namespace wabt {
struct Module;
}

namespace cumulus::engine {

// Post-2.0 proposals the engine accepts (MVP..2.0 features are always on). Both are on by default
// (QuickJS-built components need extended-const); the Wasm 2.0 spec suite runs with them off,
// since 2.0 requires rejecting e.g. a second memory.
struct WasmFeatures {
  bool multi_memory = true;
  bool extended_const = true;
};

// What the embedder knows about a module without compiling it.
struct ModuleInfo {
  std::vector<ImportDesc> imports;
  std::vector<ExportDesc> exports;
  bool uses_simd = false;          // the C writer cannot translate it
  std::string interpreter_reason;  // why the module must run on the interpreter tier
  size_t func_count = 0;
  std::vector<std::string> func_names;  // debug names by function index ("" when unnamed)
  // The memory host functions see (Caller::memory): export "memory", else the first exported
  // memory, else the first imported one.
  std::optional<uint32_t> default_memory_export, default_memory_import;
  // Active data segments the host copies into memory 0 after instantiation instead of compiling
  // them into C (see prepareForTranslation). Empty when the C code loads its own data.
  struct DataInit {
    uint32_t offset;
    std::vector<uint8_t> bytes;
  };
  std::vector<DataInit> host_data;
};

// What one walk over every function body finds.
struct BodyFacts {
  std::string unsupported_type;       // why a body or its locals use a type the engine lacks
  bool uses_simd = false;             // in a body or its locals
  bool uses_data_index = false;       // memory.init or data.drop
  std::vector<uint32_t> expr_counts;  // per function (imports: 0)
};
BodyFacts scanBodies(const wabt::Module& module);

// A parsed, validated module (owns the wabt IR).
class ParsedModule {
 public:
  ~ParsedModule();
  ParsedModule(ParsedModule&&) noexcept;
  const ModuleInfo& info() const { return info_; }
  ModuleInfo& mutableInfo() { return info_; }
  wabt::Module& ir() { return *ir_; }
  const wabt::Module& ir() const { return *ir_; }
  const BodyFacts& bodies() const { return bodies_; }

  // Parses and validates; the error names the first problem found ("malformed"/"invalid").
  static Expected<ParsedModule> parse(std::span<const uint8_t> bytes,
                                      const WasmFeatures& features = {});

 private:
  ParsedModule();
  std::unique_ptr<wabt::Module> ir_;
  ModuleInfo info_;
  BodyFacts bodies_;
};

// IR preparation shared by every native tier and by cache hits (deterministic from the bytes):
// merges small data segments and, for large data, moves active segments into
// ModuleInfo::host_data. Call once, before translateToC or instantiating cached code.
void prepareForTranslation(ParsedModule& module);

struct TranslateOptions {
  // How many units to split the module's functions into: 0 chooses from the module's size (large
  // modules are split: see translate.cpp), 1 never splits. Tests force splitting small modules.
  size_t units = 0;
  size_t threads = 0;  // translating threads; 0: one per core
};

// Translates to self-contained C translation units (runtime header + wasm2c output + glue), to be
// compiled and linked together; the first holds the glue entry points. Fails for modules that
// need the interpreter. Mutates the IR (names); call once per module.
// How many units translateToC will write for the module (1: not split).
size_t translationUnits(const ParsedModule& module, const TranslateOptions& options = {});
// `on_unit`, if set, sees each unit as soon as it is written (from the translating threads, in
// any order), so a compiler can start before the last unit is done.
using UnitSink = std::function<void(const std::string& unit)>;
Expected<std::vector<std::string>> translateToC(ParsedModule& module,
                                                const TranslateOptions& options = {},
                                                const UnitSink& on_unit = {});
// A unit's text prefixed with shims for builtins tcc lacks.
std::string tccSource(const std::string& c_source);

// Version of the translation scheme; part of every code-cache key.
extern const char* const kTranslatorVersion;

// Entry points every translated module defines (see the glue in translate.cpp).
struct GlueEntryPoints {
  size_t (*instance_size)();
  void (*init_module)();
  void (*instantiate)(void* instance, void* env);
  void (*free_instance)(void* instance);
  void (*invoke)(uint32_t export_index, void* instance, Cell* cells);
  void* (*export_ptr)(uint32_t export_index, void* instance);
  wasm_rt_memory_t* (*memory0)(void* instance);  // the module's own memory 0, or null
};

// Looks every entry point up by its glue symbol name (whatever holds the code: a tcc state, a
// dlopen handle). False if one is missing.
bool resolveGlueEntryPoints(const std::function<void*(const char*)>& lookup, GlueEntryPoints& out);

}  // namespace cumulus::engine
