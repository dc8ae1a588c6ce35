// `cumulus down`: stops a lattice started with `cumulus up -d` (SIGTERM to the process recorded
// in $CUMULUS_HOME/up.pid, default ~/.cumulus, then waits for it to finish its graceful stop).
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/lattice_common.h"

namespace cumulus::cli {

void addDownCommand(CLI::App& app, int& status) {
  auto timeout_ms = std::make_shared<uint64_t>(30000);
  auto* cmd = app.add_subcommand("down", "stop a lattice started with `cumulus up -d`");
  cmd->add_option("--timeout-ms", *timeout_ms, "how long to wait for it to stop (default 30000)");
  cmd->callback([timeout_ms, &status] {
    std::string pid_file = cumulusHome() + "/up.pid";
    pid_t pid = 0;
    if (std::ifstream in(pid_file); !(in >> pid) || pid <= 0) {
      fmt::print(stderr, "error: no detached lattice found ({} is missing); start one with `cumulus up -d`\n",
                 pid_file);
      status = 1;
      return;
    }
    if (kill(pid, SIGTERM) != 0) {
      fmt::print("the detached lattice (pid {}) was not running; cleaned up\n", pid);
      std::filesystem::remove(pid_file);
      return;
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(*timeout_ms);
    while (kill(pid, 0) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        fmt::print(stderr, "error: pid {} is still stopping after {} ms (log {}/up.log)\n", pid,
                   *timeout_ms, cumulusHome());
        status = 1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::filesystem::remove(pid_file);
    fmt::print("stopped the detached lattice (pid {})\n", pid);
  });
}

}  // namespace cumulus::cli
