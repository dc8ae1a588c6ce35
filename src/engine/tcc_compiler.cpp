// Baseline tier: libtcc compiles the translated C in memory. tcc is not reentrant in the Debian
// version (0.9.27 git 2020), so compilations are serialized by one mutex; tcc is fast enough that
// this does not matter (a 10 MB module compiles in seconds).
#include <libtcc.h>

#include <bit>
#include <chrono>
#include <cmath>
#include <csetjmp>
#include <cstdarg>
#include <mutex>
#include <optional>

#include "base/log.h"
#include "engine/code.h"
#include "engine/rt/runtime.h"

extern "C" {
uint32_t cumulus_clz32(uint32_t x) { return std::countl_zero(x); }
uint32_t cumulus_clz64(uint64_t x) { return std::countl_zero(x); }
uint32_t cumulus_ctz32(uint32_t x) { return std::countr_zero(x); }
uint32_t cumulus_ctz64(uint64_t x) { return std::countr_zero(x); }
uint32_t cumulus_popcount32(uint32_t x) { return std::popcount(x); }
uint32_t cumulus_popcount64(uint64_t x) { return std::popcount(x); }
}

namespace cumulus::engine {

namespace {

std::mutex g_tcc_mutex;  // libtcc keeps global state

class TccCode final : public CompiledCode {
 public:
  TccCode() : CompiledCode(Tier::kBaseline), state_(tcc_new()) {}
  ~TccCode() override {
    if (state_) tcc_delete(state_);
  }
  TCCState* state() { return state_; }
  GlueEntryPoints& entryMut() { return entry_; }

 private:
  TCCState* state_;
};

void onTccError(void* opaque, const char* msg) {
  auto* out = static_cast<std::string*>(opaque);
  if (out->size() < 4096) {
    *out += msg;
    *out += '\n';
  }
}

struct Symbol {
  const char* name;
  const void* addr;
};

#define CUMULUS_SYM(x) \
  { #x, reinterpret_cast < const void*>(&x) }
const Symbol kRuntimeSymbols[] = {
    CUMULUS_SYM(wasm_rt_init),
    CUMULUS_SYM(wasm_rt_is_initialized),
    CUMULUS_SYM(wasm_rt_free),
    CUMULUS_SYM(wasm_rt_trap),
    CUMULUS_SYM(wasm_rt_strerror),
    CUMULUS_SYM(wasm_rt_register_func_type),
    CUMULUS_SYM(wasm_rt_register_tag),
    CUMULUS_SYM(wasm_rt_load_exception),
    CUMULUS_SYM(wasm_rt_throw),
    CUMULUS_SYM(wasm_rt_get_unwind_target),
    CUMULUS_SYM(wasm_rt_set_unwind_target),
    CUMULUS_SYM(wasm_rt_exception_tag),
    CUMULUS_SYM(wasm_rt_exception_size),
    CUMULUS_SYM(wasm_rt_exception),
    CUMULUS_SYM(wasm_rt_allocate_memory),
    CUMULUS_SYM(wasm_rt_grow_memory),
    CUMULUS_SYM(wasm_rt_free_memory),
    CUMULUS_SYM(wasm_rt_allocate_funcref_table),
    CUMULUS_SYM(wasm_rt_free_funcref_table),
    CUMULUS_SYM(wasm_rt_allocate_externref_table),
    CUMULUS_SYM(wasm_rt_free_externref_table),
    CUMULUS_SYM(wasm_rt_grow_funcref_table),
    CUMULUS_SYM(wasm_rt_grow_externref_table),
    CUMULUS_SYM(cumulus_trap_in),
    CUMULUS_SYM(cumulus_host_call),
    CUMULUS_SYM(cumulus_clz32),
    CUMULUS_SYM(cumulus_clz64),
    CUMULUS_SYM(cumulus_ctz32),
    CUMULUS_SYM(cumulus_ctz64),
    CUMULUS_SYM(cumulus_popcount32),
    CUMULUS_SYM(cumulus_popcount64),
};
#undef CUMULUS_SYM

}  // namespace

void UnitQueue::push(std::string unit) {
  {
    std::lock_guard lock(mutex_);
    if (abandoned_) return;
    units_.push_back(std::move(unit));
  }
  cv_.notify_one();
}

void UnitQueue::abandon() {
  std::lock_guard lock(mutex_);
  abandoned_ = true;
  units_.clear();
}

void UnitQueue::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  cv_.notify_all();
}

std::optional<std::string> UnitQueue::pop() {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [this] { return closed_ || !units_.empty(); });
  if (units_.empty()) return std::nullopt;
  std::string unit = std::move(units_.front());
  units_.pop_front();
  return unit;
}

Expected<std::shared_ptr<CompiledCode>> compileWithTcc(std::vector<std::string> units) {
  UnitQueue queue;
  for (auto& u : units) queue.push(std::move(u));  // units can be 100+ MB of C: moved, not copied
  queue.close();
  return compileWithTcc(queue);
}

Expected<std::shared_ptr<CompiledCode>> compileWithTcc(UnitQueue& units) {
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  // The first unit is awaited before taking the process-wide tcc lock, so other compiles are not
  // held up while this module's translation starts.
  std::optional<std::string> unit = units.pop();
  if (!unit) return makeError(ErrorCode::kInternal, "baseline tier: no C to compile");
  auto code = std::make_shared<TccCode>();
  std::string errors;
  std::lock_guard lock(g_tcc_mutex);
  TCCState* s = code->state();
  if (!s) return makeError(ErrorCode::kInternal, "libtcc: cannot create a compiler state");
  tcc_set_error_func(s, &errors, onTccError);
  tcc_set_options(s, "-w");
  tcc_set_output_type(s, TCC_OUTPUT_MEMORY);
  for (const Symbol& sym : kRuntimeSymbols) tcc_add_symbol(s, sym.name, sym.addr);
  Clock::duration busy{}, waiting = Clock::now() - t0;
  while (unit) {
    auto t1 = Clock::now();
    if (tcc_compile_string(s, unit->c_str()) != 0) {  // each call compiles one translation unit
      units.abandon();
      return makeError(ErrorCode::kInternal, "baseline tier (tcc) cannot compile the module: {}",
                       errors);
    }
    auto t2 = Clock::now();
    busy += t2 - t1;
    unit = units.pop();
    waiting += Clock::now() - t2;
  }
  auto ms = [](Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };
  log().debug("tcc: compiled for {:.0f} ms, waited for units {:.0f} ms", ms(busy), ms(waiting));
  if (tcc_relocate(s, TCC_RELOCATE_AUTO) < 0)
    return makeError(ErrorCode::kInternal, "baseline tier (tcc) cannot link the module: {}",
                     errors);
  GlueEntryPoints& e = code->entryMut();
  if (!resolveGlueEntryPoints([s](const char* name) { return tcc_get_symbol(s, name); }, e))
    return makeError(ErrorCode::kInternal, "baseline tier: glue entry points missing");
  e.init_module();
  return std::shared_ptr<CompiledCode>(std::move(code));
}

}  // namespace cumulus::engine
