// Runs a child process (argv, no shell) with captured stdout+stderr and a deadline.
// Used for the optimized compile tier (system C compiler) and for isolating crash-prone work.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "base/error.h"

namespace cumulus {

struct SubprocessResult {
  int exit_code = -1;   // valid when !signaled
  int term_signal = 0;  // non-zero when the child died from a signal
  bool timed_out = false;
  bool cancelled = false;
  std::string output;  // stdout and stderr interleaved (truncated at 1 MiB)
};

// `cancel`, when given and set while the child runs, kills it (checked every 100 ms).
Expected<SubprocessResult> runSubprocess(const std::vector<std::string>& argv,
                                         std::chrono::milliseconds timeout,
                                         const std::atomic<bool>* cancel = nullptr);

}  // namespace cumulus
