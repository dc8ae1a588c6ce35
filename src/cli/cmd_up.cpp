// `cumulus up`: a whole lattice on this machine: starts nats-server with JetStream (unless
// --nats-url points at one) and a host, prints where everything listens, and stops all of it
// cleanly on Ctrl-C (or when the host is stopped over the control interface). With -d it
// detaches: the lattice keeps running in the background (pid and log in $CUMULUS_HOME, default
// ~/.cumulus) until `cumulus down`.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/lattice_common.h"
#include "host/identity.h"
#include "lattice/nats_server.h"

namespace cumulus::cli {
namespace {

constexpr std::string_view kReadyLine = "Ctrl-C stops everything";

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Forks the lattice into the background. Returns in the parent (true: it started) after the
// child printed its ready line; the child returns false... and carries on as `up` itself.
// Called before any thread exists, so fork() is safe.
Expected<bool> detach() {
  std::string home = cumulusHome();
  std::filesystem::create_directories(home);
  std::string pid_file = home + "/up.pid", log_file = home + "/up.log";
  if (std::ifstream in(pid_file); in) {
    pid_t old = 0;
    if (in >> old && old > 0 && kill(old, 0) == 0) {
      return makeError(ErrorCode::kInvalidArgument,
                       "a detached lattice is already running (pid {}); `cumulus down` stops it", old);
    }
  }
  pid_t pid = fork();
  if (pid < 0) return makeError(ErrorCode::kIo, "fork: {}", std::strerror(errno));
  if (pid == 0) {
    setsid();
    int fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    if (null >= 0) dup2(null, STDIN_FILENO);
    return false;
  }
  std::ofstream(pid_file) << pid << "\n";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    int st = 0;
    if (waitpid(pid, &st, WNOHANG) == pid) {
      std::filesystem::remove(pid_file);
      return makeError(ErrorCode::kInternal, "the detached lattice exited during start:\n{}",
                       slurp(log_file));
    }
    std::string log = slurp(log_file);
    if (log.find(kReadyLine) != std::string::npos) {
      for (std::istringstream lines(log); std::getline(lines, log);) {
        if (log.find(kReadyLine) == std::string::npos) fmt::print("{}\n", log);
      }
      fmt::print("detached (pid {}, log {}); `cumulus down` stops it\n", pid, log_file);
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid, SIGTERM);
  return makeError(ErrorCode::kResourceLimit, "the detached lattice did not start within 60 s (log {})",
                   log_file);
}

}  // namespace

void addUpCommand(CLI::App& app, int& status) {
  struct Args {
    LatticeOptions lattice;
    std::string nats_url;
    uint16_t nats_port = 4222;
    std::string state_dir;
    HostOptions host;
    bool detached = false;
  };
  auto args = std::make_shared<Args>();
  args->host.allow_file_load = true;
  auto* cmd = app.add_subcommand("up", "start NATS (with JetStream) and a host on this machine");
  addLatticeOptions(cmd, args->lattice, /*with_url=*/false);
  cmd->add_option("--nats-url", args->nats_url, "use this NATS server instead of starting one");
  cmd->add_option("--nats-port", args->nats_port,
                  "port for the started nats-server (0: any free port; default 4222)");
  cmd->add_option(
      "--state-dir", args->state_dir,
      "JetStream store of the started nats-server (default: a temp dir removed on exit)");
  addHostOptions(cmd, args->host);
  cmd->add_flag("-d,--detached", args->detached,
                "run in the background (pid and log in $CUMULUS_HOME, default ~/.cumulus); "
                "`cumulus down` stops it");
  cmd->callback([args, &status] {
    auto fail = [&](const std::string& message) {
      fmt::print(stderr, "error: {}\n", message);
      status = 1;
    };
    if (args->detached) {
      auto parent = detach();
      if (!parent.ok()) return fail(parent.error().message());
      if (*parent) return;
    }
    auto cfg = hostConfig(args->lattice, args->host);
    if (!cfg.ok()) return fail(cfg.error().message());
    host::HostConfig config = std::move(*cfg);
    sigset_t set = blockStopSignals();
    std::unique_ptr<lattice::NatsServer> nats;
    if (args->nats_url.empty()) {
      lattice::NatsServerOptions so;
      so.port = args->nats_port;
      so.state_dir = args->state_dir;
      auto started = lattice::NatsServer::start(so);
      if (!started.ok()) return fail(started.error().message());
      nats = std::move(*started);
      config.nats_url = nats->url();
      fmt::print("nats-server  {} (JetStream store {}, log {})\n", nats->url(), nats->stateDir(),
                 nats->logFile());
    } else {
      config.nats_url = args->nats_url;
      fmt::print("nats         {} (not started by cumulus)\n", args->nats_url);
    }
    auto h = host::Host::start(std::move(config));
    if (!h.ok()) return fail(h.error().message());
    fmt::print("host         {} ({})\nlattice      {} (ctl {}.v1.{}.>, events wasmbus.evt.{}.>)\n",
               (*h)->id(), (*h)->friendlyName(), (*h)->config().lattice, (*h)->config().ctl_prefix,
               (*h)->config().lattice, (*h)->config().lattice);
    fmt::print("{}\n", kReadyLine);
    std::fflush(stdout);
    waitUntilStopped(**h, set);
    (*h)->shutdown();
    h->reset();
    if (nats) nats->stop();
    if (args->detached) std::filesystem::remove(cumulusHome() + "/up.pid");
    fmt::print("stopped\n");
  });
}

}  // namespace cumulus::cli
