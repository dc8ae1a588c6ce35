// The host daemon core; see host.h.
#include "host/host.h"

#include "base/log.h"
#include "host/identity.h"
#include "host/wrpc_http.h"

namespace cumulus::host {

Host::Host(HostConfig config, lattice::KeyPair key)
    : config_(std::move(config)),
      key_(std::move(key)),
      id_(key_.publicKey()),
      friendly_name_(makeFriendlyName()),
      started_(std::chrono::steady_clock::now()) {
  labels_ = builtinLabels();
  for (const auto& [k, v] : config_.labels) labels_[k] = v;
}

Expected<std::unique_ptr<Host>> Host::start(HostConfig config) {
  if (!lattice::isSubjectToken(config.lattice)) {
    return makeError(ErrorCode::kInvalidArgument,
                     "lattice name '{}' must be one NATS subject token (no '.', '*', '>' or spaces)",
                     config.lattice);
  }
  if (config.version.empty()) config.version = CUMULUS_VERSION;
  CUMULUS_TRY(auto key, hostKey(config.seed));
  std::unique_ptr<Host> host(new Host(std::move(config), std::move(key)));
  lattice::NatsOptions opts;
  opts.url = host->config_.nats_url;
  CUMULUS_TRY(host->conn_, lattice::NatsConnection::connect(opts));
  Host* h = host.get();
  // PROTOCOL.md §7.2: the KV buckets are loaded and watched before host_started.
  CUMULUS_TRY(host->links_, LinkStore::open(*host->conn_, host->config_.lattice,
                                            [h](const std::string& id) { h->onLinksChanged(id); }));
  CUMULUS_TRY(host->config_store_, ConfigStore::open(*host->conn_, host->config_.lattice));
  host->engine_ = std::make_unique<engine::Engine>(host->config_.engine);
  ComponentEnv env{*host->engine_, *host->links_, *host->config_store_, host->id_};
  env.allow_file_load = host->config_.allow_file_load;
  env.max_memory_bytes = host->config_.max_memory_bytes;
  env.max_execution = host->config_.max_execution;
  env.publish = [h](std::string_view type, nlohmann::json data) {
    h->publishEvent(type, std::move(data));
  };
  host->wrpc_ = std::make_unique<WrpcBridge>(*host->conn_, host->config_.lattice);
  env.remote = host->wrpc_.get();
  env.on_started = [h](const std::string& id, const component::ComponentInfo& info) {
    h->wrpc_->componentStarted(id, info);
  };
  env.on_stopped = [h](const std::string& id) { h->wrpc_->componentStopped(id); };
  host->components_ = std::make_unique<ComponentManager>(std::move(env));
  host->wrpc_->attach(*host->components_);
  auto remote_http = [h](const std::string& target, const wasi::http::RequestHead& head,
                         std::shared_ptr<wasi::http::BodyReader> body,
                         wasi::http::ResponseSink& sink) {
    return forwardHttp(h->wrpc_->client(), h->config_.lattice + "." + target, head, std::move(body), sink);
  };
  host->ingress_ = std::make_unique<HttpIngress>(*host->components_, *host->links_,
                                                 *host->config_store_, remote_http);
  {
    std::unique_lock parts(host->parts_mu_);
    host->parts_ready_ = true;
  }
  host->ctl_ = std::make_unique<CtlServer>(*host->conn_, host->config_.ctl_prefix,
                                           host->config_.lattice, host->id_,
                                           static_cast<CtlHandler&>(*host));
  CUMULUS_TRY_VOID(host->ctl_->start());
  host->heartbeat_ = std::thread([h = host.get()] { h->heartbeatLoop(); });
  host->publishEvent("host_started", {{"friendly_name", host->friendly_name_},
                                      {"labels", host->labels()},
                                      {"uptime_seconds", 0},
                                      {"version", host->config_.version}});
  (void)host->conn_->flush(std::chrono::seconds(2));
  log().info("host {} ({}) joined lattice '{}' at {}", host->id_, host->friendly_name_,
             host->config_.lattice, host->conn_->connectedUrl());
  return host;
}

Host::~Host() { shutdown(); }

uint64_t Host::uptimeSeconds() const {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_)
          .count());
}

std::map<std::string, std::string> Host::labels() const {
  std::lock_guard lock(mu_);
  return labels_;
}

lattice::HostInfo Host::hostInfo() {
  lattice::HostInfo info;
  info.id = id_;
  info.friendly_name = friendly_name_;
  info.labels = labels();
  info.lattice = config_.lattice;
  info.uptime_seconds = uptimeSeconds();
  info.version = config_.version;
  info.ctl_host = config_.nats_url;
  info.rpc_host = config_.nats_url;
  return info;
}

lattice::HostInventory Host::inventory() {
  lattice::HostInventory inv;
  inv.host_id = id_;
  inv.friendly_name = friendly_name_;
  inv.labels = labels();
  inv.version = config_.version;
  inv.uptime_seconds = uptimeSeconds();
  if (components_) inv.components = components_->describe();
  if (ingress_) inv.providers = ingress_->describe();
  return inv;
}

void Host::stopHost(const StopHostRequest& request) {
  log().info("host {}: stop requested over the control interface", id_);
  requestStop();
}

void Host::requestStop() {
  {
    std::lock_guard lock(mu_);
    stop_requested_ = true;
  }
  cv_.notify_all();
}

bool Host::waitForStopRequest(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return stop_requested_; });
}

void Host::publishEvent(std::string_view type, nlohmann::json data) {
  auto event = lattice::cloudEvent(type, id_, std::move(data));
  auto sent = conn_->publish(lattice::eventSubject(config_.lattice, type), event.dump());
  if (!sent.ok()) log().warn("publishing {}: {}", type, sent.error().message());
}

void Host::heartbeatLoop() {
  std::unique_lock lock(mu_);
  while (true) {
    // The first heartbeat goes out one interval after start (PROTOCOL.md §2).
    if (cv_.wait_for(lock, config_.heartbeat_interval, [&] { return shutting_down_; })) return;
    lock.unlock();
    publishEvent("host_heartbeat", lattice::toJson(inventory()));
    lock.lock();
  }
}

void Host::shutdown() {
  {
    std::lock_guard lock(mu_);
    if (shut_down_) return;
    shut_down_ = true;
    shutting_down_ = true;
    stop_requested_ = true;
  }
  cv_.notify_all();
  if (heartbeat_.joinable()) heartbeat_.join();
  if (ctl_) ctl_->stop();
  {
    std::unique_lock parts(parts_mu_);  // waits for link-change callbacks in flight
    parts_ready_ = false;
  }
  // Listeners first (they call components), then components (their routes read the stores).
  ingress_.reset();
  if (wrpc_) wrpc_->stopServing();
  if (components_) components_->stopAll();
  components_.reset();
  wrpc_.reset();
  links_.reset();
  config_store_.reset();
  if (conn_) {
    publishEvent("host_stopped", {{"labels", labels()}});
    (void)conn_->flush(std::chrono::seconds(2));
    log().info("host {} stopped", id_);
  }
  ctl_.reset();
  conn_.reset();
  engine_.reset();
}

void Host::onLinksChanged(const std::string& source_id) {
  std::shared_lock parts(parts_mu_);
  if (!parts_ready_) return;
  // Components need nothing: their imports look links up per call.
  ingress_->linksChanged(source_id);
}

}  // namespace cumulus::host
