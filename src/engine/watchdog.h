// Deadlines for wasm calls. A call registers (thread, deadline); when the deadline passes the
// watchdog thread interrupts it with a signal (see rt/runtime.h), repeating every few milliseconds
// until the call ends, so a call that was in host code when the first signal came still stops
// promptly after it returns to wasm.
#pragma once

#include <pthread.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

namespace cumulus::engine {

namespace rt {
struct ThreadState;
}

class Watchdog {
 public:
  using Clock = std::chrono::steady_clock;
  Watchdog();
  ~Watchdog();

  // Registers the calling thread's current call; returns a ticket for `disarm`.
  uint64_t arm(Clock::time_point deadline);
  void disarm(uint64_t ticket);

 private:
  void loop();
  struct Entry {
    rt::ThreadState* state;
    pthread_t thread;
    Clock::time_point deadline;
  };
  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<uint64_t, Entry> entries_;  // GUARDED_BY(mutex_)
  uint64_t next_ = 1;                  // GUARDED_BY(mutex_)
  bool stopping_ = false;              // GUARDED_BY(mutex_)
  // When the loop sleeps: the time it sleeps until (min while it runs or before it started).
  Clock::time_point wake_at_ = Clock::time_point::min();  // GUARDED_BY(mutex_)
  std::thread thread_;                 // started on first arm()
};

}  // namespace cumulus::engine
