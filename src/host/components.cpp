// Components on a host; see components.h.
#include "host/components.h"
#include "host/components_internal.h"

#include "base/log.h"
#include "component/names.h"
#include "wasi/p2/ctx.h"

namespace cumulus::host {

using component::CallContext;
using component::Val;

// The WASI context of a lattice component: argv ["main.wasm"], stderr inherited, nothing else.
wasi::WasiConfig latticeWasiConfig() {
  wasi::WasiConfig c;
  c.args = {"main.wasm"};
  c.stdout_sink = [](std::string_view) {};
  return c;
}


ComponentManager::ComponentManager(ComponentEnv env) : env_(std::move(env)) {}

ComponentManager::~ComponentManager() { stopAll(); }

void ComponentManager::stopAll() {
  std::unique_lock lock(mu_);
  stopping_ = true;
  idle_cv_.wait(lock, [&] { return background_jobs_ == 0; });
  auto running = std::move(running_);
  running_.clear();
  lock.unlock();
  running.clear();
}

void ComponentManager::background(std::function<void()> work) {
  {
    std::lock_guard lock(mu_);
    ++background_jobs_;
  }
  std::thread([this, work = std::move(work)] {
    work();
    std::lock_guard lock(mu_);
    if (--background_jobs_ == 0) idle_cv_.notify_all();
  }).detach();
}

std::shared_ptr<std::mutex> ComponentManager::idLock(const std::string& id) {
  std::lock_guard lock(mu_);
  auto& m = id_locks_[id];
  if (!m) m = std::make_shared<std::mutex>();
  return m;
}

std::shared_ptr<ComponentManager::Running> ComponentManager::find(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = running_.find(id);
  return it == running_.end() ? nullptr : it->second;
}

bool ComponentManager::isRunning(const std::string& id) const { return find(id) != nullptr; }

std::vector<lattice::ComponentDescription> ComponentManager::describe() const {
  std::lock_guard lock(mu_);
  std::vector<lattice::ComponentDescription> out;
  for (const auto& [id, r] : running_) {
    lattice::ComponentDescription d;
    d.id = id;
    d.image_ref = r->image_ref;
    d.annotations = r->annotations;
    d.max_instances = r->max_instances;
    if (r->claims) {
      d.name = r->claims->name;
      d.revision = r->claims->revision;
    }
    out.push_back(std::move(d));
  }
  return out;
}

Expected<std::string> ComponentManager::scale(ScaleRequest request) {
  if (request.component_id.empty()) {
    return makeError(ErrorCode::kInvalidArgument, "component_id is required");
  }
  if (!lattice::isSubjectToken(request.component_id)) {
    return makeError(ErrorCode::kInvalidArgument,
                     "component id '{}' must be one NATS subject token (no '.', '*', '>' or spaces)",
                     request.component_id);
  }
  std::string message;
  if (auto r = find(request.component_id);
      r && request.count > 0 && !request.component_ref.empty() &&
      r->image_ref != request.component_ref && !request.allow_update) {
    message = fmt::format(
        "component {} is already running with a different image reference `{}`; the scale "
        "applies to that image (set allow_update to replace it)",
        request.component_id, r->image_ref);
  }
  {
    std::lock_guard lock(mu_);
    if (stopping_) return makeError(ErrorCode::kUnsupported, "the host is stopping");
  }
  background([this, request = std::move(request)]() mutable { runScale(std::move(request)); });
  return message;
}

void ComponentManager::publishScaled(const Running& r, uint32_t max_instances) {
  nlohmann::json annotations;
  {
    std::lock_guard lock(mu_);
    annotations = r.annotations;
  }
  nlohmann::json data = {{"annotations", annotations},
                         {"host_id", env_.host_id},
                         {"image_ref", r.image_ref},
                         {"max_instances", max_instances},
                         {"component_id", r.id}};
  if (r.claims) {
    data["public_key"] = r.claims->subject;
    data["claims"] = r.claims->event();
  }
  env_.publish("component_scaled", std::move(data));
}

void ComponentManager::publishScaleFailed(const ScaleRequest& request, const std::string& error) {
  log().warn("component {} ({}): scale failed: {}", request.component_id, request.component_ref,
             error);
  env_.publish("component_scale_failed", {{"annotations", request.annotations},
                                          {"component_id", request.component_id},
                                          {"host_id", env_.host_id},
                                          {"image_ref", request.component_ref},
                                          {"max_instances", request.count},
                                          {"error", error}});
}

void ComponentManager::runScale(ScaleRequest request) {
  auto lock_for_id = idLock(request.component_id);
  std::lock_guard id_lock(*lock_for_id);
  auto current = find(request.component_id);
  if (request.count == 0) {
    if (current) {
      {
        std::lock_guard lock(mu_);
        running_.erase(request.component_id);
      }
      if (env_.on_stopped) env_.on_stopped(request.component_id);
      log().info("component {} stopped", request.component_id);
      publishScaled(*current, 0);
    } else {
      Running gone;
      gone.id = request.component_id;
      gone.image_ref = request.component_ref;
      gone.annotations = request.annotations;
      publishScaled(gone, 0);
    }
    return;
  }
  if (current && (request.component_ref.empty() || current->image_ref == request.component_ref ||
                  !request.allow_update) &&
      current->config == request.config) {
    // Same component, same config: only the concurrency limit (and annotations) change.
    current->max_instances = request.count;
    current->permits.setMax(request.count);
    if (!request.annotations.empty()) {
      std::lock_guard lock(mu_);
      current->annotations = request.annotations;
    }
    publishScaled(*current, request.count);
    return;
  }
  if (current && request.component_ref.empty()) request.component_ref = current->image_ref;
  auto started = start(request);
  if (!started.ok()) {
    publishScaleFailed(request, started.error().message());
    return;
  }
  {
    std::lock_guard lock(mu_);
    running_[request.component_id] = *started;
  }
  if (env_.on_started) env_.on_started(request.component_id, (*started)->plan->info());
  if (current && current->image_ref != (*started)->image_ref) publishScaled(*current, 0);
  log().info("component {} ({}) running, max {} concurrent instances", request.component_id,
             request.component_ref, request.count);
  publishScaled(**started, request.count);
}

Expected<std::string> ComponentManager::update(UpdateRequest request) {
  auto current = find(request.component_id);
  if (!current) {
    return makeError(ErrorCode::kNotFound, "component {} not found", request.component_id);
  }
  if (current->image_ref == request.new_component_ref) {
    return fmt::format("component {} already updated to {}", request.component_id,
                       request.new_component_ref);
  }
  std::string message = fmt::format("component {} updating from {} to {}", request.component_id,
                                    current->image_ref, request.new_component_ref);
  background([this, request = std::move(request), old = current->image_ref]() mutable {
    runUpdate(std::move(request), std::move(old));
  });
  return message;
}

void ComponentManager::runUpdate(UpdateRequest update, std::string old_ref) {
  auto current = find(update.component_id);
  if (!current || current->image_ref != old_ref) return;  // stopped or changed meanwhile
  ScaleRequest request;
  request.component_id = update.component_id;
  request.component_ref = update.new_component_ref;
  request.count = current->max_instances;
  request.config = current->config;
  {
    std::lock_guard lock(mu_);
    request.annotations = update.annotations.value_or(current->annotations);
  }
  request.allow_update = true;
  runScale(std::move(request));
}

std::optional<component::CTypePtr> ComponentManager::exportType(const std::string& id,
                                                                const std::string& instance,
                                                                const std::string& function) const {
  auto r = find(id);
  if (!r) return std::nullopt;
  for (const auto& [name, item] : r->plan->info().exports) {
    if (instance.empty()) {
      if (name == function && item.kind == component::ExternType::Kind::kFunc) return item.type;
      continue;
    }
    if (item.kind != component::ExternType::Kind::kInstance ||
        !(name == instance || component::semverCompatible(instance, name))) {
      continue;
    }
    for (const auto& [fname, f] : item.type->exports) {
      if (fname == function && f.kind == component::ExternType::Kind::kFunc) return f.type;
    }
  }
  return std::nullopt;
}

Expected<Val> ComponentManager::invoke(const std::string& id, const std::string& instance,
                                       const std::string& function, std::vector<Val> args) {
  auto r = find(id);
  if (!r) return makeError(ErrorCode::kNotFound, "component {} is not running on this host", id);
  if (!r->permits.acquire(std::chrono::steady_clock::now() + env_.link_call_timeout)) {
    return makeError(ErrorCode::kResourceLimit,
                     "component {}: all {} instances stayed busy for {} ms", id,
                     r->max_instances.load(), env_.link_call_timeout.count());
  }
  PermitGuard permit{r->permits};
  wasi::WasiCtx ctx(latticeWasiConfig());
  component::InstantiateOptions io;
  io.memory_limit_bytes = r->max_memory;
  CUMULUS_TRY(auto inst, r->plan->instantiate(&ctx, io));
  auto f = inst->exportFunc(instance, function);
  if (!f) {
    return makeError(ErrorCode::kNotFound, "component {} does not export {}{}{}", id, instance,
                     instance.empty() ? "" : ".", function);
  }
  engine::CallOptions co;
  co.deadline = std::chrono::steady_clock::now() + r->max_execution;
  auto result = inst->call(*f, std::move(args), co);
  if (!result.ok()) {
    return Error(result.error().code(), fmt::format("component {} {}.{}: {}", id, instance,
                                                    function, result.error().message()));
  }
  return result;
}

Expected<void> ComponentManager::handleHttp(const std::string& id,
                                            const wasi::http::RequestHead& head,
                                            std::shared_ptr<wasi::http::BodyReader> body,
                                            wasi::http::ResponseSink& sink) {
  auto r = find(id);
  if (!r) return makeError(ErrorCode::kNotFound, "component {} is not running on this host", id);
  if (!r->http) {
    return makeError(ErrorCode::kUnsupported,
                     "component {} does not export wasi:http/incoming-handler", id);
  }
  if (!r->permits.acquire(std::chrono::steady_clock::now() + env_.link_call_timeout)) {
    return makeError(ErrorCode::kResourceLimit, "component {}: all {} instances are busy", id,
                     r->max_instances.load());
  }
  PermitGuard permit{r->permits};
  return r->http->handle(head, std::move(body), sink);
}

}  // namespace cumulus::host
