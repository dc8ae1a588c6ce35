// Cumulus's runtime for wasm2c-translated code (see runtime.h for the design).
#include "engine/rt/runtime.h"

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

extern "C" int cumulus_guarded_call(void (*fn)(void*), void* ctx);

namespace cumulus::engine::rt {

const int kInterruptSignal = SIGRTMIN + 1;

namespace {

constexpr uint64_t kPageSize = 65536;
// Any i32 address plus any u32 offset stays inside 8 GiB, so guard pages bound every access.
constexpr uint64_t kReservationBytes = 8ull << 30;
constexpr size_t kAltStackBytes = 64 * 1024;
constexpr size_t kMaxPooled = 64;
constexpr size_t kMaxReservations = 1 << 16;

thread_local ThreadState* t_state = nullptr;

// Live reservations, readable lock-free from the fault handler. Writers hold g_mem_mutex.
std::atomic<uintptr_t> g_reservations[kMaxReservations];
std::atomic<size_t> g_reservation_high{0};
std::mutex g_mem_mutex;
// Reservations ready for reuse: `accessible` leading bytes are zero, and read-write unless
// `tracked` (see below); the rest is PROT_NONE. GUARDED_BY(g_mem_mutex).
//
// Tracked reservations. Recycling a memory must zero every page the last instance wrote, and
// asking the kernel which pages those are (mincore) costs ~1 us plus ~8 ns per page: 3 us for
// the Rust hello world's 272 pages, a third of instantiating and running it. A tracked
// reservation knows instead: within its accessible prefix exactly the pages listed in `resident`
// are read-write (zeroed in place after each use, so they stay resident), and every other page
// is PROT_NONE. The first touch of such a page faults; onFault makes the page read-write and
// flags the reservation, and the request goes on. When the memory is freed without any such
// fault (and without growing) only the listed pages can have been written: they are cleared in
// place and no system call runs. Otherwise mincore runs as before, and the new resident set is
// recorded (pages enabled by faults are in it; the rest is protected again).
//
// Only for instances whose host accesses their memory from user space (the component runtime:
// the canonical ABI copies with memcpy), since a system call handed a pointer into a PROT_NONE
// page would fail with EFAULT instead of faulting (ThreadState::track_memory_pages).
struct Pooled {
  uint8_t* base = nullptr;
  uint64_t accessible = 0;
  bool tracked = false;
  std::vector<uint32_t> resident;  // tracked: the read-write pages (OS page indices), ascending
};
std::vector<Pooled> g_pool;
uint64_t g_live = 0;           // GUARDED_BY(g_mem_mutex)

// Per live reservation, at the index registerReservation gave it.
struct LiveSlot {
  // Read by onFault (lock-free): PROT_NONE pages below this offset are tracked pages.
  std::atomic<uint64_t> tracked_below{0};
  std::atomic<bool> faulted{false};  // onFault enabled a tracked page since the handout
  // Owner-only (set at handout, read at free).
  Pooled pooled;         // the state it was handed out in (`accessible`: the size then)
  bool track = false;    // the instance allows tracking (ThreadState::track_memory_pages)
};
LiveSlot g_live_slots[kMaxReservations];
uint64_t g_os_page = 4096;  // set by initialize()
// Above this many read-write runs a reservation is not tracked (each run is a kernel VMA).
constexpr size_t kMaxTrackedRuns = 32;

struct sigaction g_prev_segv, g_prev_bus;
std::once_flag g_init_once;

// Returns the slot index, or -1 when the registry is full (the reservation then traps as
// out of bounds on any fault, as before; it is never tracked).
int registerReservation(uint8_t* base) {
  size_t high = g_reservation_high.load();
  for (size_t i = 0; i < high; ++i) {
    if (g_reservations[i].load(std::memory_order_relaxed) == 0) {
      g_reservations[i].store(reinterpret_cast<uintptr_t>(base));
      return static_cast<int>(i);
    }
  }
  if (high < kMaxReservations) {
    g_reservations[high].store(reinterpret_cast<uintptr_t>(base));
    g_reservation_high.store(high + 1);
    return static_cast<int>(high);
  }
  return -1;
}

int unregisterReservation(uint8_t* base) {
  size_t high = g_reservation_high.load();
  for (size_t i = 0; i < high; ++i) {
    if (g_reservations[i].load(std::memory_order_relaxed) == reinterpret_cast<uintptr_t>(base)) {
      g_reservations[i].store(0);
      return static_cast<int>(i);
    }
  }
  return -1;
}

// The slot of the reservation holding `addr`, or -1.
int reservationSlot(uintptr_t addr) {
  size_t high = g_reservation_high.load(std::memory_order_acquire);
  for (size_t i = 0; i < high; ++i) {
    uintptr_t b = g_reservations[i].load(std::memory_order_relaxed);
    if (b != 0 && addr >= b && addr - b < kReservationBytes) return static_cast<int>(i);
  }
  return -1;
}

void chain(const struct sigaction& prev, int sig, siginfo_t* info, void* uctx) {
  if (prev.sa_flags & SA_SIGINFO) {
    if (prev.sa_sigaction) {
      prev.sa_sigaction(sig, info, uctx);
      return;
    }
  } else if (prev.sa_handler != SIG_DFL && prev.sa_handler != SIG_IGN) {
    prev.sa_handler(sig);
    return;
  }
  // Default action: restore it and return; the faulting instruction re-executes and kills us.
  signal(sig, SIG_DFL);
}

void onFault(int sig, siginfo_t* info, void* uctx) {
  auto addr = reinterpret_cast<uintptr_t>(info->si_addr);
  int slot = reservationSlot(addr);
  // A tracked page (in wasm or in the host's copying code alike): enable it and retry.
  if (slot >= 0) {
    LiveSlot& ls = g_live_slots[slot];
    uintptr_t base = g_reservations[slot].load(std::memory_order_relaxed);
    if (addr - base < ls.tracked_below.load(std::memory_order_acquire)) {
      void* page = reinterpret_cast<void*>(addr & ~(uintptr_t(g_os_page) - 1));
      ls.faulted.store(true, std::memory_order_relaxed);
      if (mprotect(page, g_os_page, PROT_READ | PROT_WRITE) == 0) return;
    }
  }
  ThreadState* ts = t_state;
  if (ts && ts->mode == int(Mode::kWasm) && ts->trap_target) {
    int code = 0;
    // Stack exhaustion: the fault lies in (or just below) this thread's stack guard.
    if (ts->stack_lo && addr < ts->stack_lo + 4096 && addr + (64u << 20) >= ts->stack_lo) {
      code = WASM_RT_TRAP_EXHAUSTION;
    } else if (slot >= 0) {
      code = WASM_RT_TRAP_OOB;
    }
    if (code) {
      ts->trap_code = code;
      ts->trap_function = nullptr;
      siglongjmp(*ts->trap_target, code);
    }
  }
  chain(sig == SIGBUS ? g_prev_bus : g_prev_segv, sig, info, uctx);
}

void onInterrupt(int, siginfo_t*, void*) {
  ThreadState* ts = t_state;
  if (!ts || !ts->interrupt_requested.load(std::memory_order_relaxed)) return;
  if (ts->mode == int(Mode::kWasm) && ts->trap_target) {
    ts->interrupt_requested.store(false, std::memory_order_relaxed);
    ts->trap_code = CUMULUS_TRAP_INTERRUPTED;
    ts->trap_function = nullptr;
    siglongjmp(*ts->trap_target, CUMULUS_TRAP_INTERRUPTED);
  }
  // Host or runtime mode: raised at the next return into wasm (see cumulus_host_call).
}

// Raises a pending interrupt on return from Runtime mode into wasm.
void checkPendingInterrupt(ThreadState& ts) {
  if (ts.interrupt_requested.exchange(false)) raiseTrap(CUMULUS_TRAP_INTERRUPTED);
}

// A reservation whose first `bytes` are zero and accessible (read-write, or tracked when
// `track` allows it) and whose rest is PROT_NONE. Recycled reservations keep their prefix from
// the last use (zeroed), so re-instantiating the same module costs no protection change at all:
// only the difference in size is re-protected. Syscalls run outside the lock.
uint8_t* takeReservation(uint64_t bytes, bool track) {
  Pooled got;
  {
    std::lock_guard lock(g_mem_mutex);
    if (!g_pool.empty()) {
      // Prefer the most recent reservation last used at this size (most likely by the same
      // module): no protection change, and the pages it keeps resident are the ones it will use.
      size_t pick = g_pool.size() - 1;
      for (size_t i = g_pool.size(); i-- > 0;) {
        if (g_pool[i].accessible == bytes) {
          pick = i;
          break;
        }
      }
      got = std::move(g_pool[pick]);
      g_pool.erase(g_pool.begin() + static_cast<std::ptrdiff_t>(pick));
    }
  }
  if (got.base) {
    bool ok = true;
    if (got.accessible > bytes) ok = mprotect(got.base + bytes, got.accessible - bytes, PROT_NONE) == 0;
    if (got.tracked && (got.accessible != bytes || !track)) {
      // Leave tracking: the whole prefix read-write.
      ok = ok && mprotect(got.base, bytes, PROT_READ | PROT_WRITE) == 0;
      got.tracked = false;
      got.resident.clear();
    } else if (!got.tracked && got.accessible < bytes) {
      ok = mprotect(got.base + got.accessible, bytes - got.accessible, PROT_READ | PROT_WRITE) == 0;
    }
    if (!ok) {
      munmap(got.base, kReservationBytes);
      got = Pooled{};
    }
  }
  if (!got.base) {
    void* p = mmap(nullptr, kReservationBytes, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return nullptr;
    got.base = static_cast<uint8_t*>(p);
    if (bytes && mprotect(got.base, bytes, PROT_READ | PROT_WRITE) != 0) {
      munmap(p, kReservationBytes);
      return nullptr;
    }
  }
  got.accessible = bytes;
  uint8_t* base = got.base;
  std::lock_guard lock(g_mem_mutex);
  ++g_live;
  int slot = registerReservation(base);
  if (slot < 0 && got.tracked) {  // untracked without a slot: the whole prefix read-write
    if (bytes && mprotect(base, bytes, PROT_READ | PROT_WRITE) != 0) {
      unregisterReservation(base);
      --g_live;
      munmap(base, kReservationBytes);
      return nullptr;
    }
  }
  if (slot >= 0) {
    LiveSlot& ls = g_live_slots[slot];
    ls.faulted.store(false);
    ls.tracked_below.store(got.tracked ? bytes : 0, std::memory_order_release);
    ls.pooled = std::move(got);
    ls.track = track;
  }
  return base;
}

// Clears resident page `i` of `base` in place unless it is already zero (a page only read maps
// the shared zero page: writing it would fault in a copy).
void clearPage(uint8_t* base, uint64_t i) {
  auto* page = reinterpret_cast<uint64_t*>(base + i * g_os_page);
  const size_t words = g_os_page / sizeof(uint64_t);
  size_t w = 0;
  while (w < words && page[w] == 0) ++w;
  if (w < words) std::memset(page + w, 0, (words - w) * sizeof(uint64_t));
}

// Zeroes the `bytes` prefix of a reservation being recycled without knowing which pages were
// written; fills `resident` with the pages that stay resident (read-write, zero). Returns false
// when the reservation must be dropped.
//
// Dropping the pages (madvise DONTNEED) costs a TLB shootdown that interrupts every other core
// running this process (19% of a loaded HTTP server's samples, one per request) and a page fault
// per page the next instance touches. A request usually touches a few dozen pages of its memory,
// so: ask the kernel which pages are resident (mincore: no TLB flush), and clear the resident
// ones that are not already zero, in place. They stay resident for the next instance. Above
// kKeepResidentBytes of resident pages the whole range is dropped instead, which bounds what a
// pooled reservation keeps and what reading its pages back costs.
//
// Tried and measured worse: remembering the resident runs and dropping only the gaps between
// them (madvise over pages that are not present): on this kernel (6.18) madvise flushes the TLB
// of every core even when it zapped nothing, so a loaded server was back to one shootdown per
// request (12.7% of samples).
enum class Zeroed { kFailed, kDropped, kInPlace };
Zeroed zeroPages(uint8_t* base, uint64_t bytes, std::vector<uint32_t>& resident) {
  constexpr uint64_t kKeepResidentBytes = 256 << 10;
  const uint64_t pages = bytes / g_os_page;
  thread_local std::vector<unsigned char> vec;
  vec.resize(pages);
  resident.clear();
  auto drop = [&] {
    resident.clear();
    return madvise(base, bytes, MADV_DONTNEED) == 0 ? Zeroed::kDropped : Zeroed::kFailed;
  };
  if (mincore(base, bytes, vec.data()) != 0) return drop();
  for (uint64_t i = 0; i < pages; ++i)
    if (vec[i] & 1) resident.push_back(static_cast<uint32_t>(i));
  if (resident.size() * g_os_page > kKeepResidentBytes) return drop();
  for (uint32_t i : resident) clearPage(base, i);
  return Zeroed::kInPlace;
}

// Protects every page of the `bytes` prefix not in `resident` (ascending); false when there are
// too many runs or a call fails (the caller makes the prefix read-write again).
bool protectOutside(uint8_t* base, uint64_t bytes, const std::vector<uint32_t>& resident) {
  const uint64_t pages = bytes / g_os_page;
  size_t runs = 0;
  uint64_t next = 0;  // first page not yet handled
  bool ok = true;
  auto protect = [&](uint64_t from, uint64_t to) {
    if (from < to && ok && ++runs <= kMaxTrackedRuns)
      ok = mprotect(base + from * g_os_page, (to - from) * g_os_page, PROT_NONE) == 0;
  };
  for (uint32_t i : resident) {
    protect(next, i);
    next = uint64_t(i) + 1;
  }
  protect(next, pages);
  return ok && runs <= kMaxTrackedRuns;
}

// `accessible` is the memory's size when it was freed.
void returnReservation(uint8_t* base, uint64_t accessible) {
  bool pool;
  Pooled entry;
  bool faulted = true;
  bool track = false;
  {
    std::lock_guard lock(g_mem_mutex);
    int slot = unregisterReservation(base);
    if (slot >= 0) {
      LiveSlot& ls = g_live_slots[slot];
      faulted = ls.faulted.load();
      ls.tracked_below.store(0);
      entry = std::move(ls.pooled);
      track = ls.track;
    }
    --g_live;
    pool = g_pool.size() < kMaxPooled;
  }
  if (!pool) {
    munmap(base, kReservationBytes);
    return;
  }
  // Every page must read zero next time (a fresh instance must never see old data).
  const bool handed_tracked = entry.tracked;
  if (handed_tracked && !faulted && entry.accessible == accessible) {
    // Nothing outside the resident pages can have been touched (see Pooled).
    for (uint32_t i : entry.resident) clearPage(base, i);
  } else {
    Zeroed z = accessible ? zeroPages(base, accessible, entry.resident) : Zeroed::kDropped;
    if (z == Zeroed::kFailed) {
      munmap(base, kReservationBytes);
      return;
    }
    // Track from now on if allowed and worth it (after a drop every page would fault).
    const bool try_tracking = track && z == Zeroed::kInPlace;
    entry.tracked = try_tracking && protectOutside(base, accessible, entry.resident);
    if (!entry.tracked) {
      entry.resident.clear();
      // Untracked pool entries are read-write throughout.
      if ((handed_tracked || try_tracking) && accessible &&
          mprotect(base, accessible, PROT_READ | PROT_WRITE) != 0) {
        munmap(base, kReservationBytes);
        return;
      }
    }
  }
  entry.base = base;
  entry.accessible = accessible;
  std::lock_guard lock(g_mem_mutex);
  if (g_pool.size() < kMaxPooled) {
    g_pool.push_back(std::move(entry));
  } else {
    munmap(base, kReservationBytes);
  }
}

struct FuncTypeRegistry {
  std::mutex mutex;
  std::map<std::vector<uint8_t>, uint32_t> ids;  // GUARDED_BY(mutex)
};
FuncTypeRegistry& funcTypes() {
  static FuncTypeRegistry registry;  // process-wide by necessity: ids compare across modules
  return registry;
}

std::atomic<uint32_t> g_next_tag{1};

}  // namespace

ThreadState::~ThreadState() {
  if (alt_stack) {
    stack_t ss{};
    ss.ss_flags = SS_DISABLE;
    sigaltstack(&ss, nullptr);
    free(alt_stack);
  }
  t_state = nullptr;
}

ThreadState& thread() {
  if (t_state) return *t_state;
  static thread_local ThreadState state;
  t_state = &state;
  initialize();
  stack_t ss{};
  ss.ss_sp = state.alt_stack = malloc(kAltStackBytes);
  ss.ss_size = kAltStackBytes;
  sigaltstack(&ss, nullptr);
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    void* addr;
    size_t size;
    pthread_attr_getstack(&attr, &addr, &size);
    state.stack_lo = reinterpret_cast<uintptr_t>(addr);
    state.stack_hi = state.stack_lo + size;
    pthread_attr_destroy(&attr);
  }
  return state;
}

void initialize() {
  std::call_once(g_init_once, [] {
    g_os_page = uint64_t(sysconf(_SC_PAGESIZE));
    struct sigaction sa {};
    sa.sa_sigaction = onFault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &g_prev_segv);
    sigaction(SIGBUS, &sa, &g_prev_bus);
    struct sigaction si {};
    si.sa_sigaction = onInterrupt;
    si.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigemptyset(&si.sa_mask);
    sigaction(kInterruptSignal, &si, nullptr);
  });
}

int guardedCall(void (*fn)(void*), void* ctx) {
  thread();
  return cumulus_guarded_call(fn, ctx);
}

void requestInterrupt(ThreadState& state, pthread_t thread) {
  state.interrupt_requested.store(true);
  pthread_kill(thread, kInterruptSignal);
}

void raiseTrap(int code) {
  ThreadState& ts = thread();
  ts.trap_code = code;
  ts.trap_function = nullptr;
  ts.mode = int(Mode::kWasm);
  siglongjmp(*ts.trap_target, code);
}

const char* trapMessage(int code) {
  switch (code) {
    case WASM_RT_TRAP_NONE:
      return "no trap";
    case WASM_RT_TRAP_OOB:
      return "out of bounds memory access";
    case WASM_RT_TRAP_INT_OVERFLOW:
      return "integer overflow";
    case WASM_RT_TRAP_DIV_BY_ZERO:
      return "integer divide by zero";
    case WASM_RT_TRAP_INVALID_CONVERSION:
      return "invalid conversion to integer";
    case WASM_RT_TRAP_UNREACHABLE:
      return "unreachable executed";
    case WASM_RT_TRAP_CALL_INDIRECT:
      return "indirect call failed";
    case WASM_RT_TRAP_UNCAUGHT_EXCEPTION:
      return "uncaught exception";
    case WASM_RT_TRAP_EXHAUSTION:
      return "call stack exhausted";
    case CUMULUS_TRAP_INTERRUPTED:
      return "interrupted: deadline exceeded";
    case CUMULUS_TRAP_HOST:
      return "host function failed";
    case CUMULUS_TRAP_RESOURCE:
      return "resource limit exceeded";
    case CUMULUS_TRAP_NULL_REF:
      return "uninitialized element";
    case CUMULUS_TRAP_INDIRECT_TYPE:
      return "indirect call type mismatch";
    default:
      return "trap";
  }
}

MemoryStats memoryStats() {
  std::lock_guard lock(g_mem_mutex);
  return {g_live, g_pool.size()};
}

}  // namespace cumulus::engine::rt

using namespace cumulus::engine::rt;

extern "C" {

sigjmp_buf* cumulus_rt_enter(sigjmp_buf* target, int* saved_mode) {
  ThreadState& ts = thread();
  sigjmp_buf* previous = ts.trap_target;
  *saved_mode = ts.mode;
  ts.trap_target = target;
  ts.trap_code = 0;
  ts.trap_function = nullptr;  // may point into code that has been freed since
  ts.mode = int(Mode::kWasm);
  return previous;
}

int cumulus_rt_leave(sigjmp_buf* previous, int saved_mode, int trapped) {
  ThreadState& ts = thread();
  ts.trap_target = previous;
  ts.mode = saved_mode;
  ts.unwind_target = nullptr;
  if (trapped == CUMULUS_TRAP_INTERRUPTED) {
    // Left onInterrupt by siglongjmp, which kept the signal blocked (guard.c saves no mask).
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, kInterruptSignal);
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  }
  return trapped;
}

void wasm_rt_init(void) { initialize(); }
bool wasm_rt_is_initialized(void) { return true; }
void wasm_rt_free(void) {}

void wasm_rt_trap(wasm_rt_trap_t code) {
  ThreadState& ts = *t_state;  // only reachable from inside a guarded call
  ts.trap_code = code;
  ts.trap_function = nullptr;
  siglongjmp(*ts.trap_target, code);
}

void cumulus_trap_in(wasm_rt_trap_t code, const char* function) {
  ThreadState& ts = *t_state;
  ts.trap_code = code;
  ts.trap_function = function;
  siglongjmp(*ts.trap_target, code);
}

const char* wasm_rt_strerror(wasm_rt_trap_t trap) { return trapMessage(trap); }

uint32_t wasm_rt_register_func_type(uint32_t params, uint32_t results, ...) {
  std::vector<uint8_t> types;
  va_list ap;
  va_start(ap, results);
  for (uint32_t i = 0; i < params + results; ++i)
    types.push_back(static_cast<uint8_t>(va_arg(ap, int)));
  va_end(ap);
  return funcTypeId(params, results, types.data());
}

}  // extern "C"

namespace cumulus::engine::rt {
uint32_t funcTypeId(uint32_t params, uint32_t results, const uint8_t* types) {
  std::vector<uint8_t> key;
  key.push_back(static_cast<uint8_t>(params));
  key.push_back(static_cast<uint8_t>(results));
  key.insert(key.end(), types, types + params + results);
  auto& reg = funcTypes();
  std::lock_guard lock(reg.mutex);
  auto [it, inserted] = reg.ids.emplace(std::move(key), static_cast<uint32_t>(reg.ids.size() + 1));
  return it->second;
}
}  // namespace cumulus::engine::rt

extern "C" {

uint32_t wasm_rt_register_tag(uint32_t) { return g_next_tag.fetch_add(1); }

void wasm_rt_load_exception(uint32_t tag, uint32_t size, const void* values) {
  ThreadState& ts = thread();
  if (size > sizeof ts.exception_data) raiseTrap(CUMULUS_TRAP_RESOURCE);
  ts.exception_tag = tag;
  ts.exception_size = size;
  if (size) memcpy(ts.exception_data, values, size);
}

void wasm_rt_throw(void) {
  ThreadState& ts = thread();
  if (!ts.unwind_target) raiseTrap(WASM_RT_TRAP_UNCAUGHT_EXCEPTION);
  siglongjmp(*ts.unwind_target, 1);
}

sigjmp_buf* wasm_rt_get_unwind_target(void) { return thread().unwind_target; }
void wasm_rt_set_unwind_target(sigjmp_buf* target) { thread().unwind_target = target; }
uint32_t wasm_rt_exception_tag(void) { return thread().exception_tag; }
uint32_t wasm_rt_exception_size(void) { return thread().exception_size; }
void* wasm_rt_exception(void) { return thread().exception_data; }

void wasm_rt_allocate_memory(wasm_rt_memory_t* mem, uint32_t initial_pages, uint32_t max_pages) {
  ThreadState& ts = thread();
  uint64_t bytes = uint64_t(initial_pages) * kPageSize;
  if (bytes > ts.memory_limit_bytes) {
    ts.host_message = "initial memory exceeds the memory limit";
    raiseTrap(CUMULUS_TRAP_RESOURCE);
  }
  sig_atomic_t saved = ts.mode;
  ts.mode = int(Mode::kRuntime);
  uint8_t* base = takeReservation(bytes, ts.track_memory_pages);
  ts.mode = saved;
  if (!base) {
    ts.host_message = "cannot reserve linear memory";
    raiseTrap(CUMULUS_TRAP_RESOURCE);
  }
  mem->data = base;
  mem->pages = initial_pages;
  mem->max_pages = max_pages;
  mem->size = static_cast<uint32_t>(bytes);  // 65536 pages wraps to 0, as in wasm2c
  if (saved == int(Mode::kWasm)) checkPendingInterrupt(ts);
}

uint32_t wasm_rt_grow_memory(wasm_rt_memory_t* mem, uint32_t delta) {
  ThreadState& ts = thread();
  uint64_t old_pages = mem->pages;
  uint64_t new_pages = old_pages + delta;
  if (delta == 0) return static_cast<uint32_t>(old_pages);
  if (new_pages > mem->max_pages || new_pages > 65536 ||
      new_pages * kPageSize > ts.memory_limit_bytes) {
    return UINT32_MAX;
  }
  sig_atomic_t saved = ts.mode;
  ts.mode = int(Mode::kRuntime);
  int rc = mprotect(mem->data + old_pages * kPageSize, delta * kPageSize, PROT_READ | PROT_WRITE);
  ts.mode = saved;
  if (rc != 0) return UINT32_MAX;
  mem->pages = static_cast<uint32_t>(new_pages);
  mem->size = static_cast<uint32_t>(new_pages * kPageSize);
  if (saved == int(Mode::kWasm)) checkPendingInterrupt(ts);
  return static_cast<uint32_t>(old_pages);
}

void wasm_rt_free_memory(wasm_rt_memory_t* mem) {
  if (!mem->data) return;
  returnReservation(mem->data, uint64_t(mem->pages) * kPageSize);
  mem->data = nullptr;
}

}  // extern "C"

namespace {

template <typename Table, typename Elem>
void allocateTable(Table* table, uint32_t elements, uint32_t max_elements, Elem init) {
  ThreadState& ts = thread();
  sig_atomic_t saved = ts.mode;
  ts.mode = int(Mode::kRuntime);
  table->data = elements ? static_cast<Elem*>(calloc(elements, sizeof(Elem))) : nullptr;
  ts.mode = saved;
  if (elements && !table->data) {
    ts.host_message = "cannot allocate table";
    raiseTrap(CUMULUS_TRAP_RESOURCE);
  }
  for (uint32_t i = 0; i < elements; ++i) table->data[i] = init;
  table->size = elements;
  table->max_size = max_elements;
}

template <typename Table, typename Elem>
uint32_t growTable(Table* table, uint32_t delta, Elem init) {
  uint32_t old = table->size;
  uint64_t wanted = uint64_t(old) + delta;
  if (wanted > table->max_size || wanted > (1u << 24)) return UINT32_MAX;  // 16M elements cap
  if (delta == 0) return old;
  ThreadState& ts = thread();
  sig_atomic_t saved = ts.mode;
  ts.mode = int(Mode::kRuntime);
  void* p = realloc(table->data, wanted * sizeof(Elem));
  ts.mode = saved;
  if (!p) return UINT32_MAX;
  table->data = static_cast<Elem*>(p);
  for (uint64_t i = old; i < wanted; ++i) table->data[i] = init;
  table->size = static_cast<uint32_t>(wanted);
  if (saved == int(Mode::kWasm)) checkPendingInterrupt(ts);
  return old;
}

}  // namespace

extern "C" {

void wasm_rt_allocate_funcref_table(wasm_rt_funcref_table_t* t, uint32_t n, uint32_t max) {
  allocateTable(t, n, max, wasm_rt_funcref_null_value);
}
void wasm_rt_free_funcref_table(wasm_rt_funcref_table_t* t) {
  free(t->data);
  t->data = nullptr;
}
void wasm_rt_allocate_externref_table(wasm_rt_externref_table_t* t, uint32_t n, uint32_t max) {
  allocateTable(t, n, max, wasm_rt_externref_null_value);
}
void wasm_rt_free_externref_table(wasm_rt_externref_table_t* t) {
  free(t->data);
  t->data = nullptr;
}
uint32_t wasm_rt_grow_funcref_table(wasm_rt_funcref_table_t* t, uint32_t d, wasm_rt_funcref_t v) {
  return growTable(t, d, v);
}
uint32_t wasm_rt_grow_externref_table(wasm_rt_externref_table_t* t, uint32_t d,
                                      wasm_rt_externref_t v) {
  return growTable(t, d, v);
}

}  // extern "C"
