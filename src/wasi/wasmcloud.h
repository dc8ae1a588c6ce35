// The interfaces a wasmCloud 1.x host implements itself for components (PROTOCOL.md §7.9, §7.10,
// §4.3): wasi:config/{store,runtime}@0.2.0-draft and store@0.2.0-rc.1 (named config), wasi:logging/logging
// (unversioned and @0.1.0-draft) and wasmcloud:bus/lattice@{1.0.0,2.0.0} (choosing a link name).
// The host supplies what they read and do through WasmcloudHooks, so this layer knows nothing of
// links or the lattice. Host functions run with a WasiCtx as instance data.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "component/runtime.h"

namespace cumulus::wasi {

enum class GuestLogLevel { kTrace, kDebug, kInfo, kWarn, kError, kCritical };

struct WasmcloudHooks {
  // The component's current merged config (read per call: updates apply live).
  std::function<std::map<std::string, std::string>()> config;
  std::function<void(GuestLogLevel, std::string_view context, std::string_view message)> log;
  // set-link-name(name, ["ns:pkg/iface", …]); an Error becomes the 2.0.x `err` string (1.0.0
  // has no result and ignores it).
  std::function<Expected<void>(const std::string& name, const std::vector<std::string>& interfaces)>
      set_link_name;
};

void addWasmcloudInterfaces(component::Linker& linker, std::shared_ptr<WasmcloudHooks> hooks);

}  // namespace cumulus::wasi
