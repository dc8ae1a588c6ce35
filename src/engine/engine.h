// The embedding API of the core WebAssembly engine.
//
//   Engine    process-level settings, the optimized-tier background compiler, the deadline
//   watchdog.
//             Thread-safe. Outlives every Module compiled with it.
//   Module    a validated, compiled module; immutable and shareable across threads. Its code may be
//             upgraded from the baseline tier to the optimized tier in the background; instances
//             created after the upgrade use the new code.
//   Instance  (instance.h) one instantiation; used by one thread at a time.
//
// Tiers: baseline (libtcc, in memory, milliseconds), optimized (system C compiler, cached on disk,
// background), interpreter (wabt::interp, for what the C path cannot translate, e.g. SIMD).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <thread>

#include "base/error.h"
#include "engine/code.h"
#include "engine/translate.h"
#include "engine/watchdog.h"

namespace cumulus::engine {

class InterpModule;

enum class TierPolicy {
  kAuto,         // baseline now, optimized in the background (cache hit: optimized at once)
  kBaseline,     // baseline only
  kOptimized,    // optimized before returning (compiles synchronously on a cache miss)
  kInterpreter,  // interpreter only
};

struct EngineConfig {
  TierPolicy policy = TierPolicy::kAuto;
  NativeCompilerConfig native{defaultCacheDir()};
  WasmFeatures features;
  TranslateOptions translate;
};

class Module;

class Engine {
 public:
  explicit Engine(EngineConfig config = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Parses, validates and compiles. Errors: kInvalidArgument for malformed/invalid bytes,
  // kUnsupported for features no tier handles.
  Expected<std::shared_ptr<Module>> compile(std::span<const uint8_t> bytes);

  const EngineConfig& config() const { return config_; }
  Watchdog& watchdog() { return watchdog_; }
  // Blocks until the background compiler has nothing queued (tests, `cumulus compile`).
  void waitForBackgroundIdle();

 private:
  friend class Module;
  void backgroundLoop();
  void enqueue(std::weak_ptr<Module> module, std::string key, std::vector<std::string> c_source);

  EngineConfig config_;
  Watchdog watchdog_;
  struct Job {
    std::weak_ptr<Module> module;
    std::string key;
    std::vector<std::string> c_source;  // translation units
  };
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Job> queue_;  // GUARDED_BY(mutex_)
  bool busy_ = false;      // GUARDED_BY(mutex_)
  bool stopping_ = false;  // GUARDED_BY(mutex_)
  std::atomic<bool> cancel_background_{false};
  std::thread background_;
};

class Module {
 public:
  const ModuleInfo& info() const { return info_; }
  // The best code available now (null for interpreter-tier modules).
  std::shared_ptr<CompiledCode> code() const { return code_.load(); }
  Tier tier() const;
  InterpModule* interp() const { return interp_.get(); }
  // Why the fastest tier is not in use, if it is not (for logs and `cumulus inspect`).
  const std::string& tierNote() const { return tier_note_; }
  // The runtime type id of function export `index` (computed once per module: instantiating a
  // component looks up every export it wires, on every request).
  uint32_t exportFuncTypeId(uint32_t index) const;

  explicit Module(ModuleInfo info);
  ~Module();

 private:
  friend class Engine;
  ModuleInfo info_;
  mutable std::once_flag export_type_ids_once_;
  mutable std::vector<uint32_t> export_type_ids_;  // written once under export_type_ids_once_
  std::atomic<std::shared_ptr<CompiledCode>> code_;
  std::unique_ptr<InterpModule> interp_;
  std::string tier_note_;
};

}  // namespace cumulus::engine
