// Deadline watchdog (see watchdog.h).
#include "engine/watchdog.h"

#include "engine/rt/runtime.h"

namespace cumulus::engine {

namespace {
constexpr auto kResendInterval = std::chrono::milliseconds(5);
}

Watchdog::Watchdog() = default;

Watchdog::~Watchdog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

uint64_t Watchdog::arm(Clock::time_point deadline) {
  rt::ThreadState& state = rt::thread();
  std::lock_guard lock(mutex_);
  if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
  uint64_t ticket = next_++;
  entries_.emplace(ticket, Entry{&state, pthread_self(), deadline});
  // Wake the watchdog only if it would otherwise sleep past this deadline: most calls finish
  // long before their deadline, and a wake-up per call costs two context switches.
  if (deadline < wake_at_) cv_.notify_all();
  return ticket;
}

void Watchdog::disarm(uint64_t ticket) {
  std::lock_guard lock(mutex_);
  entries_.erase(ticket);
  // A late signal may still be in flight; clear the request so the next call is not hit by it.
  // (The handler ignores signals when no request is pending.)
  rt::thread().interrupt_requested.store(false);
}

void Watchdog::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    auto now = Clock::now();
    auto next_wake = Clock::time_point::max();
    for (auto& [ticket, e] : entries_) {
      if (e.deadline <= now) {
        rt::requestInterrupt(*e.state, e.thread);
        e.deadline = now + kResendInterval;
      }
      next_wake = std::min(next_wake, e.deadline);
    }
    wake_at_ = next_wake;
    if (next_wake == Clock::time_point::max()) {
      cv_.wait(lock);
    } else {
      cv_.wait_until(lock, next_wake);
    }
    wake_at_ = Clock::time_point::min();  // awake: arm() need not notify
  }
}

}  // namespace cumulus::engine
