// Child process runner (see subprocess.h). posix_spawn keeps it safe in a multithreaded process.
#include "base/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace cumulus {

Expected<SubprocessResult> runSubprocess(const std::vector<std::string>& argv,
                                         std::chrono::milliseconds timeout,
                                         const std::atomic<bool>* cancel) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0)
    return makeError(ErrorCode::kIo, "pipe: {}", strerror(errno));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
  // The child gets stdin/stdout/stderr only. Descriptors opened without O_CLOEXEC (libnats'
  // sockets, for one) must not outlive the host in a compiler it started: a host killed while
  // gcc ran kept its NATS connection open through gcc, so NATS went on routing queue-group
  // messages to the dead host.
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(pipefd[1]);
  if (rc != 0) {
    ::close(pipefd[0]);
    return makeError(ErrorCode::kIo, "cannot start {}: {}", argv[0], strerror(rc));
  }
  SubprocessResult result;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || (cancel && cancel->load())) {
      result.timed_out = left.count() <= 0;
      result.cancelled = !result.timed_out;
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd p{pipefd[0], POLLIN, 0};
    int slice = static_cast<int>(cancel ? std::min<int64_t>(left.count(), 100) : left.count());
    int n = ::poll(&p, 1, slice);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    ssize_t r = ::read(pipefd[0], buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    if (result.output.size() < (1u << 20)) result.output.append(buf, static_cast<size_t>(r));
  }
  ::close(pipefd[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.term_signal = WTERMSIG(status);
  return result;
}

}  // namespace cumulus
