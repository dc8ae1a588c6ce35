// Compiled code for one module, from either native tier. A `CompiledCode` owns the machine code
// (a libtcc state or a dlopen handle) and exposes the glue entry points. Immutable after creation,
// shared by every instance created from it.
#pragma once

#include <atomic>

#include <filesystem>
#include <memory>
#include <string>

#include "base/error.h"
#include "engine/translate.h"

namespace cumulus::engine {

enum class Tier { kBaseline, kOptimized, kInterpreter };
const char* tierName(Tier t);

class CompiledCode {
 public:
  virtual ~CompiledCode() = default;
  Tier tier() const { return tier_; }
  const GlueEntryPoints& entry() const { return entry_; }

 protected:
  CompiledCode(Tier tier) : tier_(tier) {}
  Tier tier_;
  GlueEntryPoints entry_{};
};

// Baseline tier: compiles C text in memory with libtcc (no files, no processes).
Expected<std::shared_ptr<CompiledCode>> compileWithTcc(const std::string& c_source);

std::string defaultOptFlags();

// Optimized tier settings and code cache (see native_compiler.cpp for the cache layout).
struct NativeCompilerConfig {
  std::filesystem::path cache_dir;  // where .so files live
  std::string compiler = "gcc";     // gcc or clang
  // Chosen by measurement (docs/benchmarks.md); $CUMULUS_OPT_FLAGS overrides for experiments.
  std::string opt_flags = defaultOptFlags();
};

// The cache key for a module: hash of bytes + translator version + compiler identity + flags.
std::string nativeCacheKey(const NativeCompilerConfig& config, std::span<const uint8_t> wasm);

// Loads from the cache if a valid entry exists (corrupt entries are removed).
Expected<std::shared_ptr<CompiledCode>> loadCachedNative(const NativeCompilerConfig& config,
                                                         const std::string& key);
// Compiles C text with the system compiler into the cache and loads it.
Expected<std::shared_ptr<CompiledCode>> compileNative(const NativeCompilerConfig& config,
                                                      const std::string& key,
                                                      const std::string& c_source,
                                                      const std::atomic<bool>* cancel = nullptr);

// The default cache directory: $CUMULUS_CACHE_DIR, else $XDG_CACHE_HOME/cumulus, else
// ~/.cache/cumulus.
std::filesystem::path defaultCacheDir();

}  // namespace cumulus::engine
