// wasi:config, wasi:logging and wasmcloud:bus for components; see wasmcloud.h.
#include "wasi/wasmcloud.h"

#include "wasi/p2/ctx.h"

namespace cumulus::wasi {
namespace {

using component::CallContext;
using component::Val;
using Args = std::vector<Val>;

// wasmcloud:bus/lattice.call-target-interface: "ns:pkg/iface".
struct CallTarget : Object {
  std::string interface;
};

void addConfig(component::Linker& l, const std::shared_ptr<WasmcloudHooks>& hooks) {
  // store@0.2.0-draft (wasmCloud 1.x), store@0.2.0-rc.1 (newer wasmCloud components) and
  // runtime@0.2.0-draft share the shape: get(key) -> result<option<string>, error>,
  // get-all() -> result<list<tuple<string, string>>, error>.
  for (std::string_view iface : {"wasi:config/store@0.2.0-draft", "wasi:config/store@0.2.0-rc.1",
                                 "wasi:config/runtime@0.2.0-draft"}) {
    l.func(iface, "get", [hooks](CallContext&, Args& a) -> Expected<Val> {
      auto config = hooks->config ? hooks->config() : std::map<std::string, std::string>{};
      auto it = config.find(a.at(0).asString());
      if (it == config.end()) return Val::ok(Val::none());
      return Val::ok(Val::some(Val::string(it->second)));
    });
    l.func(iface, "get-all", [hooks](CallContext&, Args&) -> Expected<Val> {
      std::vector<Val> pairs;
      if (hooks->config) {
        for (auto& [k, v] : hooks->config()) pairs.push_back(Val::tuple({Val::string(k), Val::string(v)}));
      }
      return Val::ok(Val::list(std::move(pairs)));
    });
  }
}

void addLogging(component::Linker& l, const std::shared_ptr<WasmcloudHooks>& hooks) {
  for (std::string_view iface : {"wasi:logging/logging", "wasi:logging/logging@0.1.0-draft"}) {
    l.func(iface, "log", [hooks](CallContext&, Args& a) -> Expected<Val> {
      uint32_t level = a.at(0).discriminant();
      if (level > static_cast<uint32_t>(GuestLogLevel::kCritical)) {
        return makeError(ErrorCode::kInvalidArgument, "wasi:logging: bad level {}", level);
      }
      if (hooks->log) hooks->log(static_cast<GuestLogLevel>(level), a.at(1).asString(), a.at(2).asString());
      return Val();
    });
  }
}

void addBus(component::Linker& l, const std::shared_ptr<WasmcloudHooks>& hooks) {
  for (std::string_view version : {"1.0.0", "2.0.0"}) {
    std::string iface = fmt::format("wasmcloud:bus/lattice@{}", version);
    const component::ResourceType* type = l.resource(iface, "call-target-interface", dropObject);
    l.func(iface, "[constructor]call-target-interface",
           [type](CallContext& cx, Args& a) -> Expected<Val> {
             auto t = std::make_unique<CallTarget>();
             t->interface = fmt::format("{}:{}/{}", a.at(0).asString(), a.at(1).asString(),
                                        a.at(2).asString());
             return own(cx, type, std::move(t));
           });
    bool has_result = version != "1.0.0";
    l.func(iface, "set-link-name", [hooks, has_result](CallContext& cx, Args& a) -> Expected<Val> {
      std::vector<std::string> interfaces;
      for (const Val& v : a.at(1).elems()) {
        interfaces.push_back(ctx(cx).table().get<CallTarget>(v).interface);
        ctx(cx).table().remove(v.rep());  // the list passed ownership to the host
      }
      Expected<void> r = hooks->set_link_name ? hooks->set_link_name(a.at(0).asString(), interfaces)
                                              : Expected<void>();
      if (!has_result) return Val();
      if (!r.ok()) return Val::err(Val::string(r.error().message()));
      return Val::okUnit();
    });
  }
}

}  // namespace

void addWasmcloudInterfaces(component::Linker& linker, std::shared_ptr<WasmcloudHooks> hooks) {
  addConfig(linker, hooks);
  addLogging(linker, hooks);
  addBus(linker, hooks);
}

}  // namespace cumulus::wasi
