// The host's copy of durable lattice state in JetStream KV (PROTOCOL.md §3):
//   LinkStore   — LATTICEDATA_{lattice}: `COMPONENT_{id}` specs holding each source's links, and
//                 `CLAIMS_{subject}` claims;
//   ConfigStore — CONFIGDATA_{lattice}: named configs (string → string maps).
// Each opens (or creates) its bucket, loads every entry without side effects, then watches the
// bucket on its own thread so changes made by any host apply here live (a changed link table is
// reported through `on_links_changed`). Writes go to KV first; the writer updates the cache at
// once (so a reply never races its own watch event) and its watch event is then skipped by
// revision, so each change is applied and reported once.
//
// Concurrency: link.put/del are read-modify-write on one key. wasmCloud serves them through a
// queue group (one host per request) and so does Cumulus; two requests for the same source
// handled by two hosts at the same instant could still interleave (as in wasmCloud 1.x).
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "lattice/link.h"
#include "lattice/nats.h"

namespace cumulus::host {

// A bucket mirrored into memory: `apply` sees every entry (initial load: `initial` true).
class KvMirror {
 public:
  using Apply = std::function<void(const lattice::KvEntry&, bool initial)>;
  static Expected<std::unique_ptr<KvMirror>> open(lattice::NatsConnection& conn,
                                                   std::string bucket, Apply apply);
  ~KvMirror();
  lattice::KvBucket& bucket() { return *bucket_; }

 private:
  KvMirror() = default;
  void watchLoop();
  std::unique_ptr<lattice::KvBucket> bucket_;
  std::unique_ptr<lattice::KvWatcher> watcher_;
  Apply apply_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class LinkStore {
 public:
  using OnLinksChanged = std::function<void(const std::string& source_id)>;
  static Expected<std::unique_ptr<LinkStore>> open(lattice::NatsConnection& conn,
                                                   const std::string& lattice,
                                                   OnLinksChanged on_links_changed);
  std::vector<lattice::Link> all() const;
  std::vector<lattice::Link> from(const std::string& source_id) const;
  // link.put (PROTOCOL.md §4.2 rules 2–5; config existence is checked by the caller).
  Expected<void> put(lattice::Link link);
  // link.del: the removed link, if there was one.
  Expected<std::optional<lattice::Link>> del(const std::string& source_id, const std::string& ns,
                                             const std::string& pkg, const std::string& name);
  // On component/provider start: writes COMPONENT_{id} with `url` when absent, keeping links.
  Expected<void> ensureSpec(const std::string& id, const std::string& url);
  std::vector<nlohmann::json> claims() const;
  Expected<void> putClaims(const std::string& subject, const nlohmann::json& claims);

 private:
  void apply(const lattice::KvEntry& e, bool initial);
  Expected<lattice::ComponentSpec> load(const std::string& id);
  Expected<void> store(const std::string& id, const lattice::ComponentSpec& spec);
  OnLinksChanged on_links_changed_;
  mutable std::mutex mu_;
  std::map<std::string, lattice::ComponentSpec> specs_;  // GUARDED_BY(mu_)
  std::map<std::string, uint64_t> revisions_;            // GUARDED_BY(mu_): of specs_ entries
  std::map<std::string, nlohmann::json> claims_;         // GUARDED_BY(mu_)
  std::mutex write_mu_;  // serializes this host's read-modify-write cycles
  std::unique_ptr<KvMirror> mirror_;  // last: its thread stops before the maps go
};

using ConfigMap = std::map<std::string, std::string>;

class ConfigStore {
 public:
  static Expected<std::unique_ptr<ConfigStore>> open(lattice::NatsConnection& conn,
                                                     const std::string& lattice);
  // Validates the body (a flat JSON object of strings) and stores it.
  Expected<void> put(const std::string& name, const nlohmann::json& body);
  std::optional<ConfigMap> get(const std::string& name) const;
  // Secret references (SECRET_*) are stored as JSON objects with non-string fields; returned raw.
  std::optional<nlohmann::json> getRaw(const std::string& name) const;
  Expected<void> del(const std::string& name);
  bool exists(const std::string& name) const;
  // Configs applied in list order, later names overriding earlier keys; missing names are empty.
  // `ask_kv`: a name our watch has not delivered yet is read from KV (see firstMissing) — for
  // link configs, which another host may have written a moment before the link.
  ConfigMap merged(const std::vector<std::string>& names, bool ask_kv = false) const;
  // The first name in `names` that does not exist, if any.
  std::optional<std::string> firstMissing(const std::vector<std::string>& names) const;

 private:
  void apply(const lattice::KvEntry& e, bool initial);
  mutable std::mutex mu_;
  std::map<std::string, nlohmann::json> configs_;  // GUARDED_BY(mu_)
  std::unique_ptr<KvMirror> mirror_;
};

}  // namespace cumulus::host
