// Host side of Cumulus's wasm2c runtime (the C interface is wasm_rt.h).
//
// Design. Translated modules call into this runtime for traps, memories, tables and function-type
// ids. All trap state lives in a per-thread `ThreadState`, never in process globals, so any number
// of threads run wasm at once. A call into wasm goes through `guardedCall` (guard.c), which sets a
// sigsetjmp target; a trap (explicit, or a fault on a guard page, or an interrupt signal) jumps
// back to it. The jump only ever crosses C frames: wasm code, the generated glue and guard.c.
//
// Modes. Each thread is in one of three modes: Host (ordinary C++), Wasm (translated code) or
// Runtime (inside a wasm_rt_* function that must not be abandoned halfway, e.g. a realloc). The
// fault and interrupt handlers act only in Wasm mode; an interrupt arriving in another mode is
// remembered and raised at the next Wasm boundary (host call return, runtime function return).
//
// Signals. SIGSEGV/SIGBUS: if the faulting address lies in a linear-memory reservation owned by
// this runtime, or in the current thread's stack guard, and the thread is in Wasm mode, it becomes
// an OOB or exhaustion trap; otherwise the previous handler (or the default action) runs.
// kInterruptSignal: sent by the deadline watchdog to a thread whose call passed its deadline.
#pragma once

#include <atomic>
#include <csignal>
#include <cstdint>
#include <string>

#include "engine/rt/wasm_rt.h"

namespace cumulus::engine::rt {

enum class Mode : int { kHost = 0, kWasm = 1, kRuntime = 2 };

struct ThreadState {
  sigjmp_buf* trap_target = nullptr;  // innermost guardedCall
  volatile sig_atomic_t mode = 0;     // Mode
  int trap_code = 0;
  const char* trap_function = nullptr;  // generated C function name, when known
  std::string host_message;             // for CUMULUS_TRAP_HOST / RESOURCE
  std::atomic<bool> interrupt_requested{false};
  uintptr_t stack_lo = 0, stack_hi = 0;  // native stack bounds of this thread
  void* alt_stack = nullptr;
  uint64_t memory_limit_bytes = UINT64_MAX;  // per-memory limit of the running store
  // Memories allocated now may track their pages by protection (see runtime.cpp, "tracked
  // reservations"): set for instances whose host touches memory only from user space.
  bool track_memory_pages = false;
  // wasm exception-handling state
  sigjmp_buf* unwind_target = nullptr;
  uint32_t exception_tag = 0, exception_size = 0;
  alignas(16) uint8_t exception_data[256];
  ~ThreadState();
};

// The calling thread's state, created on first use (installs its alternate signal stack).
ThreadState& thread();
// Installs the signal handlers once per process. Idempotent and thread-safe.
void initialize();

// Runs fn(ctx) as wasm: returns 0, or the trap code (wasm_rt_trap_t) after unwinding.
int guardedCall(void (*fn)(void*), void* ctx);

// Asks the thread `state` belongs to to stop its current wasm call (async-signal-safe to call).
void requestInterrupt(ThreadState& state, pthread_t thread);

// Human-readable description of a trap code.
const char* trapMessage(int code);

// Raises a trap from host code that is in Runtime mode on a wasm call path.
[[noreturn]] void raiseTrap(int code);

// Statistics for tests and benchmarks.
struct MemoryStats {
  uint64_t live_reservations;
  uint64_t pooled_reservations;
};
MemoryStats memoryStats();

extern const int kInterruptSignal;

}  // namespace cumulus::engine::rt

namespace cumulus::engine::rt {
// The process-wide id of a function signature (same ids as wasm_rt_register_func_type).
// `types` holds wasm_rt_type_t values: params then results.
uint32_t funcTypeId(uint32_t params, uint32_t results, const uint8_t* types);
}  // namespace cumulus::engine::rt
