// Durable lattice state mirrored from JetStream KV; see lattice_state.h.
#include "host/lattice_state.h"

#include "base/log.h"
#include "lattice/ctl.h"

namespace cumulus::host {
namespace {

constexpr std::string_view kComponentPrefix = "COMPONENT_";
constexpr std::string_view kClaimsPrefix = "CLAIMS_";
constexpr auto kInitialLoadTimeout = std::chrono::seconds(10);

bool startsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

}  // namespace

Expected<std::unique_ptr<KvMirror>> KvMirror::open(lattice::NatsConnection& conn,
                                                   std::string bucket, Apply apply) {
  std::unique_ptr<KvMirror> m(new KvMirror());
  m->apply_ = std::move(apply);
  CUMULUS_TRY(m->bucket_, conn.keyValue(bucket, /*create=*/true));
  CUMULUS_TRY(m->watcher_, m->bucket_->watchAll());
  // The watcher first replays current values, then sends an end-of-initial-values marker.
  auto deadline = std::chrono::steady_clock::now() + kInitialLoadTimeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return makeError(ErrorCode::kResourceLimit, "loading KV bucket {} timed out", bucket);
    }
    CUMULUS_TRY(auto entry, m->watcher_->next(left));
    if (!entry) break;
    m->apply_(*entry, /*initial=*/true);
  }
  m->thread_ = std::thread([p = m.get()] { p->watchLoop(); });
  return m;
}

KvMirror::~KvMirror() {
  stop_ = true;
  if (watcher_) watcher_->stop();
  if (thread_.joinable()) thread_.join();
}

void KvMirror::watchLoop() {
  while (!stop_) {
    auto entry = watcher_->next(std::chrono::milliseconds(250));
    if (!entry.ok()) {
      if (entry.error().code() != ErrorCode::kResourceLimit && !stop_) {
        log().debug("kv watch {}: {}", bucket_->name(), entry.error().message());
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      continue;
    }
    if (*entry) apply_(**entry, /*initial=*/false);
  }
}

Expected<std::unique_ptr<LinkStore>> LinkStore::open(lattice::NatsConnection& conn,
                                                     const std::string& lattice,
                                                     OnLinksChanged on_links_changed) {
  std::unique_ptr<LinkStore> s(new LinkStore());
  s->on_links_changed_ = std::move(on_links_changed);
  CUMULUS_TRY(s->mirror_,
              KvMirror::open(conn, "LATTICEDATA_" + lattice,
                             [p = s.get()](const lattice::KvEntry& e, bool initial) {
                               p->apply(e, initial);
                             }));
  return s;
}

void LinkStore::apply(const lattice::KvEntry& e, bool initial) {
  bool deleted = e.op != lattice::KvEntry::Op::kPut;
  if (startsWith(e.key, kComponentPrefix)) {
    std::string id = e.key.substr(kComponentPrefix.size());
    if (deleted) {
      // wasmCloud only logs this; the running component keeps its routing until told otherwise.
      log().debug("LATTICEDATA: spec of {} deleted", id);
      return;
    }
    auto json = nlohmann::json::parse(e.value, nullptr, false);
    auto spec = lattice::componentSpecFromJson(json);
    if (!spec.ok()) {
      log().warn("LATTICEDATA: ignoring malformed {}: {}", e.key, spec.error().message());
      return;
    }
    {
      std::lock_guard lock(mu_);
      // This host's own write was applied (and reported) when it was made.
      if (e.revision <= revisions_[id]) return;
      revisions_[id] = e.revision;
      specs_[id] = std::move(*spec);
    }
    if (!initial && on_links_changed_) on_links_changed_(id);
  } else if (startsWith(e.key, kClaimsPrefix)) {
    std::string subject = e.key.substr(kClaimsPrefix.size());
    std::lock_guard lock(mu_);
    if (deleted) {
      claims_.erase(subject);
      return;
    }
    auto json = nlohmann::json::parse(e.value, nullptr, false);
    if (!json.is_object()) return;
    claims_[subject] = std::move(json);
  }
}

std::vector<lattice::Link> LinkStore::all() const {
  std::lock_guard lock(mu_);
  std::vector<lattice::Link> out;
  for (const auto& [id, spec] : specs_) out.insert(out.end(), spec.links.begin(), spec.links.end());
  return out;
}

std::vector<lattice::Link> LinkStore::from(const std::string& source_id) const {
  std::lock_guard lock(mu_);
  auto it = specs_.find(source_id);
  return it == specs_.end() ? std::vector<lattice::Link>{} : it->second.links;
}

Expected<lattice::ComponentSpec> LinkStore::load(const std::string& id) {
  CUMULUS_TRY(auto entry, mirror_->bucket().get(std::string(kComponentPrefix) + id));
  if (!entry) return lattice::ComponentSpec{};
  auto json = nlohmann::json::parse(entry->value, nullptr, false);
  return lattice::componentSpecFromJson(json);
}

Expected<void> LinkStore::store(const std::string& id, const lattice::ComponentSpec& spec) {
  CUMULUS_TRY(uint64_t revision, mirror_->bucket().put(std::string(kComponentPrefix) + id,
                                                       lattice::toJson(spec).dump()));
  {
    std::lock_guard lock(mu_);
    specs_[id] = spec;
    revisions_[id] = std::max(revisions_[id], revision);
  }
  if (on_links_changed_) on_links_changed_(id);
  return {};
}

Expected<void> LinkStore::put(lattice::Link link) {
  std::lock_guard write(write_mu_);
  std::string id = link.source_id;
  CUMULUS_TRY(auto spec, load(id));
  CUMULUS_TRY_VOID(lattice::putLink(spec, std::move(link)));
  return store(id, spec);
}

Expected<std::optional<lattice::Link>> LinkStore::del(const std::string& source_id,
                                                      const std::string& ns,
                                                      const std::string& pkg,
                                                      const std::string& name) {
  std::lock_guard write(write_mu_);
  CUMULUS_TRY(auto spec, load(source_id));
  auto removed = lattice::deleteLink(spec, ns, pkg, name);
  if (removed) CUMULUS_TRY_VOID(store(source_id, spec));
  return removed;
}

Expected<void> LinkStore::ensureSpec(const std::string& id, const std::string& url) {
  std::lock_guard write(write_mu_);
  CUMULUS_TRY(auto entry, mirror_->bucket().get(std::string(kComponentPrefix) + id));
  lattice::ComponentSpec spec;
  if (entry) {
    auto parsed = lattice::componentSpecFromJson(nlohmann::json::parse(entry->value, nullptr, false));
    if (parsed.ok()) spec = std::move(*parsed);
    if (spec.url == url) return {};
  }
  spec.url = url;
  return store(id, spec);
}

std::vector<nlohmann::json> LinkStore::claims() const {
  std::lock_guard lock(mu_);
  std::vector<nlohmann::json> out;
  for (const auto& [subject, c] : claims_) out.push_back(c);
  return out;
}

Expected<void> LinkStore::putClaims(const std::string& subject, const nlohmann::json& claims) {
  CUMULUS_TRY_VOID(mirror_->bucket().put(std::string(kClaimsPrefix) + subject, claims.dump()));
  std::lock_guard lock(mu_);
  claims_[subject] = claims;
  return {};
}

Expected<std::unique_ptr<ConfigStore>> ConfigStore::open(lattice::NatsConnection& conn,
                                                         const std::string& lattice) {
  std::unique_ptr<ConfigStore> s(new ConfigStore());
  CUMULUS_TRY(s->mirror_, KvMirror::open(conn, "CONFIGDATA_" + lattice,
                                         [p = s.get()](const lattice::KvEntry& e, bool initial) {
                                           p->apply(e, initial);
                                         }));
  return s;
}

void ConfigStore::apply(const lattice::KvEntry& e, bool /*initial*/) {
  std::lock_guard lock(mu_);
  if (e.op != lattice::KvEntry::Op::kPut) {
    configs_.erase(e.key);
    return;
  }
  auto json = nlohmann::json::parse(e.value, nullptr, false);
  if (!json.is_object()) {
    log().warn("CONFIGDATA: ignoring {}: not a JSON object", e.key);
    return;
  }
  configs_[e.key] = std::move(json);
}

Expected<void> ConfigStore::put(const std::string& name, const nlohmann::json& body) {
  if (!lattice::isSubjectToken(name)) {
    return makeError(ErrorCode::kInvalidArgument,
                     "config name '{}' must be one NATS subject token (no '.', '*', '>' or spaces)",
                     name);
  }
  bool secret = name.rfind("SECRET_", 0) == 0;
  bool flat = body.is_object();
  if (flat && !secret) {
    for (const auto& [k, v] : body.items()) flat = flat && v.is_string();
  }
  if (!flat) return makeError(ErrorCode::kInvalidArgument, "config data should be a map of string -> string");
  CUMULUS_TRY_VOID(mirror_->bucket().put(name, body.dump()));
  std::lock_guard lock(mu_);
  configs_[name] = body;
  return {};
}

std::optional<nlohmann::json> ConfigStore::getRaw(const std::string& name) const {
  {
    std::lock_guard lock(mu_);
    auto it = configs_.find(name);
    if (it != configs_.end()) return it->second;
  }
  // Not seen by our watch (yet): KV is the truth (see firstMissing).
  auto entry = mirror_->bucket().get(name);
  if (!entry.ok() || !*entry) return std::nullopt;
  auto json = nlohmann::json::parse((*entry)->value, nullptr, false);
  if (!json.is_object()) return std::nullopt;
  return json;
}

std::optional<ConfigMap> ConfigStore::get(const std::string& name) const {
  auto raw = getRaw(name);
  if (!raw) return std::nullopt;
  ConfigMap out;
  for (const auto& [k, v] : raw->items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

Expected<void> ConfigStore::del(const std::string& name) {
  CUMULUS_TRY_VOID(mirror_->bucket().del(name));
  std::lock_guard lock(mu_);
  configs_.erase(name);
  return {};
}

bool ConfigStore::exists(const std::string& name) const {
  std::lock_guard lock(mu_);
  return configs_.count(name) != 0;
}

ConfigMap ConfigStore::merged(const std::vector<std::string>& names, bool ask_kv) const {
  ConfigMap out;
  for (const auto& n : names) {
    std::optional<nlohmann::json> config;
    if (ask_kv) {
      config = getRaw(n);
    } else {
      std::lock_guard lock(mu_);
      auto it = configs_.find(n);
      if (it != configs_.end()) config = it->second;
    }
    if (!config) continue;
    for (const auto& [k, v] : config->items()) {
      if (v.is_string()) out[k] = v.get<std::string>();
    }
  }
  return out;
}

std::optional<std::string> ConfigStore::firstMissing(const std::vector<std::string>& names) const {
  // getRaw asks KV when our watch has not delivered a name yet: another host may have written it
  // a moment ago (ctl config.put and link.put can be answered by different hosts of the queue
  // group).
  for (const auto& n : names) {
    if (!getRaw(n)) return n;
  }
  return std::nullopt;
}

}  // namespace cumulus::host
