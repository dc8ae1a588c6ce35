// nats-server child process management; see nats_server.h.
#include "lattice/nats_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

namespace cumulus::lattice {
namespace {

// Tries one TCP connect and reads the server's INFO line: the NATS server is ready when it
// greets a client.
bool serverGreets(const std::string& host, uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    pollfd p{fd, POLLIN, 0};
    char buf[5] = {0};
    if (::poll(&p, 1, 1000) == 1 && ::recv(fd, buf, 4, 0) == 4) ok = std::memcmp(buf, "INFO", 4) == 0;
  }
  ::close(fd);
  return ok;
}

// Waits for `pid` to exit for up to `timeout` (pidfd + poll: no busy loop). True when reaped.
bool waitExit(pid_t pid, std::chrono::milliseconds timeout) {
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(timeout.count()));
    ::close(pidfd);
  }
  int status = 0;
  return ::waitpid(pid, &status, pidfd >= 0 ? WNOHANG : 0) == pid;
}

}  // namespace

Expected<uint16_t> findFreePort(const std::string& host) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return makeError(ErrorCode::kIo, "socket: {}", std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int e = errno;
    ::close(fd);
    return makeError(ErrorCode::kIo, "finding a free port on {}: {}", host, std::strerror(e));
  }
  ::close(fd);
  return static_cast<uint16_t>(ntohs(addr.sin_port));
}

Expected<std::unique_ptr<NatsServer>> NatsServer::start(const NatsServerOptions& opts) {
  std::unique_ptr<NatsServer> server(new NatsServer());
  server->host_ = opts.host;
  server->port_ = opts.port;
  if (server->port_ == 0) {
    CUMULUS_TRY(server->port_, findFreePort(opts.host));
  }
  server->state_dir_ = opts.state_dir;
  if (server->state_dir_.empty()) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cumulus-nats-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      return makeError(ErrorCode::kIo, "creating a temp dir for nats-server: {}", std::strerror(errno));
    }
    server->state_dir_ = tmpl;
    server->remove_state_dir_ = true;
  } else {
    std::error_code ec;
    std::filesystem::create_directories(server->state_dir_, ec);
    if (ec) return makeError(ErrorCode::kIo, "creating {}: {}", server->state_dir_, ec.message());
  }
  server->log_file_ = opts.log_file.empty() ? server->state_dir_ + "/nats-server.log" : opts.log_file;

  std::vector<std::string> argv = {opts.binary, "-js",  "-a", opts.host,
                                   "-p",        std::to_string(server->port_),
                                   "-sd",       server->state_dir_};
  argv.insert(argv.end(), opts.extra_args.begin(), opts.extra_args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  int log_fd = ::open(server->log_file_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return makeError(ErrorCode::kIo, "opening {}: {}", server->log_file_, std::strerror(errno));
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    return makeError(ErrorCode::kIo, "fork: {}", std::strerror(errno));
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::close_range(3, ~0U, 0);  // nothing else of the parent's (see base/subprocess.cpp)
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execvp(cargv[0], cargv.data());
    ::_exit(127);
  }
  ::close(log_fd);
  server->pid_ = pid;

  // Poll until the server greets a client, it exits, or the deadline passes. Each failed
  // attempt (connection refused) is immediate, so back off briefly between attempts.
  auto deadline = std::chrono::steady_clock::now() + opts.ready_timeout;
  auto backoff = std::chrono::milliseconds(5);
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  while (!serverGreets(opts.host, server->port_)) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      if (pidfd >= 0) ::close(pidfd);
      server->pid_ = -1;
      return makeError(ErrorCode::kIo,
                       "nats-server exited during startup (status {}); see {} (is nats-server "
                       "installed? scripts/deps.sh installs it)",
                       status, server->log_file_);
    }
    if (std::chrono::steady_clock::now() > deadline) {
      if (pidfd >= 0) ::close(pidfd);
      return makeError(ErrorCode::kResourceLimit, "nats-server on port {} not ready after {} ms; see {}",
                       server->port_, opts.ready_timeout.count(), server->log_file_);
    }
    // Wait for the child's exit or the next attempt, whichever comes first.
    if (pidfd >= 0) {
      pollfd p{pidfd, POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(backoff.count()));
    } else {
      std::this_thread::sleep_for(backoff);
    }
    backoff = std::min(backoff * 2, std::chrono::milliseconds(100));
  }
  if (pidfd >= 0) ::close(pidfd);
  return server;
}

std::string NatsServer::url() const { return fmt::format("nats://{}:{}", host_, port_); }

void NatsServer::stop(std::chrono::milliseconds grace) {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    if (!waitExit(pid_, grace)) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    pid_ = -1;
  }
  if (remove_state_dir_) {
    std::error_code ec;
    std::filesystem::remove_all(state_dir_, ec);
    remove_state_dir_ = false;
  }
}

NatsServer::~NatsServer() { stop(); }

}  // namespace cumulus::lattice
