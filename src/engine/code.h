// Compiled code for one module, from either native tier. A `CompiledCode` owns the machine code
// (a libtcc state or a dlopen handle) and exposes the glue entry points. Immutable after creation,
// shared by every instance created from it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

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

// Translation units handed from translating threads to a compiling thread.
class UnitQueue {
 public:
  void push(std::string unit);
  void close();                      // no more units will come
  void abandon();                    // the consumer gave up: drop what is queued or pushed later
  std::optional<std::string> pop();  // blocks; nullopt once closed and drained
 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::string> units_;
  bool closed_ = false;
  bool abandoned_ = false;
};

// Baseline tier: compiles C translation units (see translateToC) in memory with libtcc (no files,
// no processes) as they arrive, and links them once the queue is closed.
Expected<std::shared_ptr<CompiledCode>> compileWithTcc(UnitQueue& units);
Expected<std::shared_ptr<CompiledCode>> compileWithTcc(std::vector<std::string> units);

std::string defaultOptFlags();

// Optimized tier settings and code cache (see native_compiler.cpp for the cache layout).
struct NativeCompilerConfig {
  std::filesystem::path cache_dir;  // where .so files live
  std::string compiler = "gcc";     // gcc or clang
  // Chosen by measurement (docs/benchmarks.md); $CUMULUS_OPT_FLAGS overrides for experiments.
  std::string opt_flags = defaultOptFlags();
};

// The cache key for a module: hash of bytes + translator version + compiler identity + flags.
// `units`: TranslateOptions::units when forced (0: chosen by size, the same for the same bytes).
std::string nativeCacheKey(const NativeCompilerConfig& config, std::span<const uint8_t> wasm,
                           size_t units = 0);

// Loads from the cache if a valid entry exists (corrupt entries are removed).
Expected<std::shared_ptr<CompiledCode>> loadCachedNative(const NativeCompilerConfig& config,
                                                         const std::string& key);
// Compiles C translation units with the system compiler into one shared object in the cache and
// loads it.
Expected<std::shared_ptr<CompiledCode>> compileNative(const NativeCompilerConfig& config,
                                                      const std::string& key,
                                                      const std::vector<std::string>& units,
                                                      const std::atomic<bool>* cancel = nullptr);

// The default cache directory: $CUMULUS_CACHE_DIR, else $XDG_CACHE_HOME/cumulus, else
// ~/.cache/cumulus.
std::filesystem::path defaultCacheDir();

}  // namespace cumulus::engine
