// Runs a child process (argv, no shell) with captured stdout+stderr and a deadline.
// Used for the optimized compile tier (system C compiler) and for isolating crash-prone work.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/error.h"

namespace cumulus {

struct SubprocessResult {
  int exit_code = -1;   // valid when !signaled
  int term_signal = 0;  // non-zero when the child died from a signal
  bool timed_out = false;
  std::string output;  // stdout and stderr interleaved (truncated at 1 MiB)
};

Expected<SubprocessResult> runSubprocess(const std::vector<std::string>& argv,
                                         std::chrono::milliseconds timeout);

}  // namespace cumulus
