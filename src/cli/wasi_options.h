// Options the commands that run components share (`run`, `serve`): environment variables and
// granted directories, turned into a WASI context configuration.
#pragma once

#include <string>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "base/error.h"
#include "wasi/p2/ctx.h"

namespace cumulus::cli {

struct WasiOptions {
  std::vector<std::string> env;   // K=V
  std::vector<std::string> dirs;  // HOST[::GUEST]
};

inline void addWasiOptions(CLI::App* cmd, WasiOptions& o) {
  cmd->add_option("--env", o.env, "environment variable K=V (repeatable)")->allow_extra_args(false);
  cmd->add_option("--dir", o.dirs,
                  "grant a host directory: HOST[::GUEST] (GUEST defaults to HOST; repeatable)")
      ->allow_extra_args(false);
}

// Adds the options' environment and preopens to `config`.
inline Expected<void> applyWasiOptions(const WasiOptions& o, wasi::WasiConfig& config) {
  for (const auto& kv : o.env) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos)
      return makeError(ErrorCode::kInvalidArgument, "--env {}: expected K=V", kv);
    config.env.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  for (const auto& d : o.dirs) {
    size_t sep = d.find("::");
    wasi::Preopen p;
    p.host_path = d.substr(0, sep);
    p.guest_path = sep == std::string::npos ? d : d.substr(sep + 2);
    config.preopens.push_back(p);
  }
  return {};
}

}  // namespace cumulus::cli
