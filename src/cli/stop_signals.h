// Ctrl-C / SIGTERM handling shared by the long-running commands (`serve`, `up`, `host`).
#pragma once

#include <pthread.h>
#include <signal.h>

namespace cumulus::cli {

// Blocks SIGINT/SIGTERM in this thread and in threads started after it, so they are taken with
// sigtimedwait below instead of killing the process. Call before starting any thread.
inline sigset_t blockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

}  // namespace cumulus::cli
