// Engine and Module: tier selection and the background optimizing compiler (see engine.h).
#include "engine/engine.h"

#include <sys/resource.h>

#include <chrono>
#include <thread>

#include "base/file.h"
#include "base/log.h"
#include "engine/interp.h"
#include "engine/rt/runtime.h"

namespace cumulus::engine {

Module::Module(ModuleInfo info) : info_(std::move(info)) {}
Module::~Module() = default;

Tier Module::tier() const {
  auto c = code_.load();
  return c ? c->tier() : Tier::kInterpreter;
}

Engine::Engine(EngineConfig config) : config_(std::move(config)) { rt::initialize(); }

Engine::~Engine() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    queue_.clear();
  }
  cancel_background_ = true;  // a running optimizing compile is killed, not waited for
  cv_.notify_all();
  if (background_.joinable()) background_.join();
}

Expected<std::shared_ptr<Module>> Engine::compile(std::span<const uint8_t> bytes) {
  auto t_start = std::chrono::steady_clock::now();
  auto since = [&t_start] {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_start)
        .count();
  };
  CUMULUS_TRY(auto parsed, ParsedModule::parse(bytes, config_.features));
  log().debug("compile: parsed + validated in {:.0f} ms", since());
  auto module =
      std::make_shared<Module>(parsed.info());
  auto use_interpreter = [&](std::string why) -> Expected<std::shared_ptr<Module>> {
    CUMULUS_TRY(auto im, InterpModule::create(bytes));
    module->interp_ = std::move(im);
    module->tier_note_ = why;
    if (config_.policy != TierPolicy::kInterpreter)
      log().warn("module runs on the interpreter tier (slow): {}", why);
    return module;
  };
  if (config_.policy == TierPolicy::kInterpreter)
    return use_interpreter("interpreter tier requested");
  if (!parsed.info().interpreter_reason.empty())
    return use_interpreter(parsed.info().interpreter_reason);

  prepareForTranslation(parsed);
  module->info_.host_data = std::move(parsed.mutableInfo().host_data);  // not needed by translation
  std::string key;
  const bool want_native =
      config_.policy == TierPolicy::kAuto || config_.policy == TierPolicy::kOptimized;
  if (want_native) {
    key = nativeCacheKey(config_.native, bytes, config_.translate.units);
    auto cached = loadCachedNative(config_.native, key);
    if (cached.ok()) {
      module->code_.store(*cached);
      return module;
    }
  }
  // The baseline tier compiles each unit while the others are still being translated.
  UnitQueue tcc_units;
  std::optional<Expected<std::shared_ptr<CompiledCode>>> baseline;
  std::thread tcc_thread;
  auto joinTcc = [&] {
    tcc_units.close();
    if (tcc_thread.joinable()) tcc_thread.join();
  };
  struct JoinOnExit {
    decltype(joinTcc)& join;
    ~JoinOnExit() { join(); }
  } join_on_exit{joinTcc};
  // One unit: nothing to overlap, compile after translating (no thread).
  if (config_.policy != TierPolicy::kOptimized && translationUnits(parsed, config_.translate) > 1)
    tcc_thread = std::thread([&] { baseline = compileWithTcc(tcc_units); });
  const bool feed_tcc = tcc_thread.joinable();
  TranslateOptions translate = config_.translate;
  // tcc compiles on one core at a time (it is not reentrant) and is the slower stage: translating
  // on every other core keeps it fed without taking its core (StarlingMonkey: 4.2 s to first call
  // against 4.7 s with a translating thread on every core).
  if (feed_tcc && translate.threads == 0)
    translate.threads = std::max(1u, std::thread::hardware_concurrency()) - 1;
  if (translate.threads == 0) translate.threads = 1;
  CUMULUS_TRY(auto translated, translateToC(parsed, translate, [&](const std::string& unit) {
                if (feed_tcc) tcc_units.push(tccSource(unit));
              }));
  tcc_units.close();
  std::vector<std::string> c_source = std::move(translated);
  size_t c_bytes = 0;
  for (const auto& unit : c_source) c_bytes += unit.size();
  log().debug("compile: translated to {} KiB of C in {} unit(s) at {:.0f} ms", c_bytes / 1024,
              c_source.size(), since());
  if (const char* dump = std::getenv("CUMULUS_DUMP_C")) {  // debugging aid: keep the translation
    std::string stem = nativeCacheKey(config_.native, bytes, config_.translate.units).substr(0, 16);
    for (size_t i = 0; i < c_source.size(); ++i) {
      auto path =
          std::filesystem::path(dump) / (i == 0 ? stem + ".c" : fmt::format("{}.{}.c", stem, i));
      (void)writeFileAtomic(path, std::span(reinterpret_cast<const uint8_t*>(c_source[i].data()),
                                            c_source[i].size()));
    }
  }
  if (config_.policy == TierPolicy::kOptimized) {
    auto native = compileNative(config_.native, key, c_source);
    if (native.ok()) {
      module->code_.store(*native);
      return module;
    }
    log().warn("optimized tier failed ({}); falling back to the baseline tier",
               native.error().message());
    module->tier_note_ = native.error().message();
  }
  joinTcc();
  if (!baseline) {  // not compiled while translating
    std::vector<std::string> units;
    for (const auto& unit : c_source) units.push_back(tccSource(unit));
    baseline = compileWithTcc(std::move(units));
  }
  if (!baseline->ok()) {
    module->tier_note_ = baseline->error().message();
    log().warn("baseline tier cannot compile the module ({}); trying the optimized tier",
               baseline->error().message());
    if (key.empty()) key = nativeCacheKey(config_.native, bytes, config_.translate.units);
    auto native = compileNative(config_.native, key, c_source);
    if (native.ok()) {
      module->code_.store(*native);
      return module;
    }
    return use_interpreter(fmt::format("neither native tier compiles the module: {}; {}",
                                       baseline->error().message(), native.error().message()));
  }
  module->code_.store(**baseline);
  log().debug("compile: baseline tier ready at {:.0f} ms", since());
  // The optimized tier compiles the same translation in the background.
  if (config_.policy == TierPolicy::kAuto) enqueue(module, key, std::move(c_source));
  return module;
}

void Engine::enqueue(std::weak_ptr<Module> module, std::string key,
                     std::vector<std::string> c_source) {
  std::lock_guard lock(mutex_);
  if (stopping_) return;
  queue_.push_back(Job{std::move(module), std::move(key), std::move(c_source)});
  if (!background_.joinable()) background_ = std::thread([this] { backgroundLoop(); });
  cv_.notify_all();
}

void Engine::backgroundLoop() {
  // Optimizing is throughput work; keep it out of the way of request threads.
  setpriority(PRIO_PROCESS, 0, 10);
  std::unique_lock lock(mutex_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    Job job = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    if (auto m = job.module.lock()) {
      auto native = compileNative(config_.native, job.key, job.c_source, &cancel_background_);
      if (native.ok()) {
        m->code_.store(*native);
        log().debug("optimized tier ready for module {}", job.key.substr(0, 12));
      } else if (!cancel_background_) {  // killed at shutdown: nothing to report
        log().warn("optimized tier failed, staying on baseline: {}", native.error().message());
      }
    }
    lock.lock();
    busy_ = false;
    cv_.notify_all();
  }
}

void Engine::waitForBackgroundIdle() {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [&] { return stopping_ || (queue_.empty() && !busy_); });
}

}  // namespace cumulus::engine
