// A minimal wasi_snapshot_preview1 host for core wasm32-wasi command modules: stdio, args,
// environment, clocks, random and proc_exit. No filesystem or sockets (those are WASI 0.2's job in
// the component layer); unsupported functions return ENOSYS to the guest instead of failing to
// link.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/instance.h"

namespace cumulus::wasi {

class Preview1 {
 public:
  explicit Preview1(std::vector<std::string> args, std::vector<std::string> env = {});
  // Builds the import list for `module` (every import must be from wasi_snapshot_preview1).
  Expected<std::vector<engine::Extern>> resolve(const engine::Module& module);
  // Set once the guest called proc_exit.
  std::optional<int> exitCode() const { return exit_code_; }

 private:
  Expected<void> call(const std::string& name, engine::Caller& caller, engine::Cell* cells);
  std::vector<std::string> args_, env_;
  std::optional<int> exit_code_;
};

}  // namespace cumulus::wasi
