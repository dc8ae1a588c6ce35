// Starting a component: fetch, per-component linker (WASI, wasi:http, host interfaces, routed
// imports), plan, HTTP service; and the routing of imported calls through links (PROTOCOL.md
// §4.3). Part of ComponentManager (components.h).
#include <malloc.h>

#include "base/log.h"
#include "component/decoder.h"
#include "component/names.h"
#include "component/resolve.h"
#include "host/components.h"
#include "host/components_internal.h"
#include "host/fetch.h"
#include "wasi/p2/ctx.h"
#include "wasi/wasmcloud.h"

namespace cumulus::host {

using component::CallContext;
using component::Val;

namespace {

std::string unversioned(std::string_view name) {
  return std::string(component::splitVersion(name).first);
}

void guestLog(const std::string& id, wasi::GuestLogLevel level, std::string_view context,
              std::string_view message) {
  auto lvl = spdlog::level::info;
  switch (level) {
    case wasi::GuestLogLevel::kTrace: lvl = spdlog::level::trace; break;
    case wasi::GuestLogLevel::kDebug: lvl = spdlog::level::debug; break;
    case wasi::GuestLogLevel::kInfo: lvl = spdlog::level::info; break;
    case wasi::GuestLogLevel::kWarn: lvl = spdlog::level::warn; break;
    case wasi::GuestLogLevel::kError: lvl = spdlog::level::err; break;
    case wasi::GuestLogLevel::kCritical: lvl = spdlog::level::critical; break;
  }
  log().log(lvl, "component {}{}{}: {}", id, context.empty() ? "" : " ", context, message);
}

}  // namespace

// Routes one call of an imported function (PROTOCOL.md §4.3).
Expected<Val> ComponentManager::routeCall(Running& r, const std::string& import,
                                          const std::string& function,
                                          const component::CType& type, std::vector<Val>& args) {
  std::string key = unversioned(import);
  std::string link_name = "default";
  {
    std::lock_guard lock(r.override_mu);
    if (auto it = r.link_overrides.find(key); it != r.link_overrides.end()) link_name = it->second;
  }
  std::optional<lattice::Link> link;
  for (auto& l : env_.links.from(r.id)) {
    if (l.name != link_name) continue;
    auto ifaces = l.qualifiedInterfaces();
    if (std::find(ifaces.begin(), ifaces.end(), key) != ifaces.end()) {
      link = std::move(l);
      break;
    }
  }
  if (!link) {
    return makeError(ErrorCode::kLinkError,
                     "link `{}` not found for instance `{}` of component {} (add one with "
                     "`cumulus link put {} TARGET ...`)",
                     link_name, key, r.id, r.id);
  }
  if (isRunning(link->target)) return invoke(link->target, import, function, std::move(args));
  if (!env_.remote) {
    return makeError(ErrorCode::kNotFound,
                     "component {} calls {}.{} on {}, which does not run on this host", r.id,
                     import, function, link->target);
  }
  return env_.remote->invoke(r.id, link_name, link->target, import, function, type, args);
}

Expected<std::shared_ptr<ComponentManager::Running>> ComponentManager::start(
    const ScaleRequest& request) {
  FetchOptions fo;
  fo.allow_file_load = env_.allow_file_load;
  fo.max_bytes = env_.max_component_bytes;
  CUMULUS_TRY(auto bytes, fetchComponent(request.component_ref, fo));
  if (auto missing = env_.config.firstMissing(request.config)) {
    return makeError(ErrorCode::kNotFound, "Config {} does not exist", *missing);
  }
  // Claims are checked only when the component carries a token (as wasmCloud 1.x does).
  std::optional<lattice::ComponentClaims> claims;
  if (auto jwt = lattice::embeddedJwt(bytes)) {
    auto now = std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch()).count();
    CUMULUS_TRY(claims, lattice::verifyComponentClaims(*jwt, bytes, static_cast<uint64_t>(now)));
  }
  CUMULUS_TRY(auto parsed, component::decode(bytes));
  auto decoded = std::make_unique<const component::Component>(std::move(parsed));
  CUMULUS_TRY(auto info, component::resolve(*decoded, bytes));  // moved into the plan below

  auto r = std::make_shared<Running>();
  r->id = request.component_id;
  r->image_ref = request.component_ref;
  r->annotations = request.annotations;
  r->config = request.config;
  r->claims = claims;
  r->max_memory = request.max_memory_bytes.value_or(env_.max_memory_bytes);
  r->max_execution = request.max_execution
                         ? std::chrono::duration_cast<std::chrono::milliseconds>(*request.max_execution)
                         : env_.max_execution;
  r->max_instances = request.count;
  r->permits.setMax(request.count);
  r->linker = std::make_unique<component::Linker>();
  r->http_types = wasi::http::addWasiHttp(*r->linker);

  // Closures below hold a raw Running*: they live in r->linker, which r owns.
  Running* self = r.get();
  auto hooks = std::make_shared<wasi::WasmcloudHooks>();
  hooks->config = [this, self] { return env_.config.merged(self->config); };
  hooks->log = [self](wasi::GuestLogLevel level, std::string_view context, std::string_view message) {
    guestLog(self->id, level, context, message);
  };
  hooks->set_link_name = [this, self](const std::string& name,
                                      const std::vector<std::string>& interfaces) -> Expected<void> {
    auto links = env_.links.from(self->id);
    if (name != "default") {
      for (const auto& iface : interfaces) {
        bool found = std::any_of(links.begin(), links.end(), [&](const lattice::Link& l) {
          auto q = l.qualifiedInterfaces();
          return l.name == name && std::find(q.begin(), q.end(), iface) != q.end();
        });
        if (!found) {
          return makeError(ErrorCode::kNotFound, "no link named `{}` for interface `{}`", name, iface);
        }
      }
    }
    std::lock_guard lock(self->override_mu);
    for (const auto& iface : interfaces) {
      if (name == "default") {
        self->link_overrides.erase(iface);
      } else {
        self->link_overrides[iface] = name;
      }
    }
    return {};
  };
  wasi::addWasmcloudInterfaces(*r->linker, hooks);

  // Every other imported interface is routed through links, function by function.
  for (const auto& [name, item] : info.imports) {
    if (r->linker->find(name)) continue;
    if (item.kind != component::ExternType::Kind::kInstance) {
      return makeError(ErrorCode::kLinkError,
                       "import `{}` is not an interface; only interface imports can be linked", name);
    }
    for (const auto& [fname, f] : item.type->exports) {
      if (f.kind == component::ExternType::Kind::kFunc) {
        component::CTypePtr type = f.type;
        r->linker->func(name, fname, [this, self, import = name, fname = fname, type](
                                         CallContext&, std::vector<Val>& args) -> Expected<Val> {
          return routeCall(*self, import, fname, *type, args);
        });
      } else if (f.kind == component::ExternType::Kind::kType && f.type &&
                 f.type->kind == component::CType::Kind::kResource) {
        // Resources of linked interfaces cannot cross components (wasmCloud ignores them too);
        // the type exists so the component links, and handles of it never come from a target.
        r->linker->resource(name, fname);
      }
    }
  }
  CUMULUS_TRY(r->plan, component::ComponentPlan::create(env_.engine, bytes, *r->linker,
                                                        std::move(decoded), std::move(info)));
  bool http = false;
  for (const auto& [name, item] : r->plan->info().exports) {
    if (unversioned(name) == "wasi:http/incoming-handler") http = true;
  }
  if (http) {
    wasi::http::ServiceOptions so;
    so.pool_size = 2;
    so.deadline = r->max_execution;
    so.wasi = latticeWasiConfig();
    so.instantiate.memory_limit_bytes = r->max_memory;
    so.name = r->id;
    CUMULUS_TRY(r->http, wasi::http::ComponentService::create(r->plan, r->http_types, so));
  }
  // Compiling leaves freed heap that glibc keeps; hand it back (a large JS component: ~600 MB).
  malloc_trim(0);
  if (r->claims) {
    if (auto put = env_.links.putClaims(r->claims->subject, r->claims->stored()); !put.ok()) {
      log().warn("component {}: storing its claims: {}", r->id, put.error().message());
    }
  }
  auto spec = env_.links.ensureSpec(r->id, r->image_ref);
  if (!spec.ok()) log().warn("component {}: writing its spec: {}", r->id, spec.error().message());
  return r;
}

}  // namespace cumulus::host
