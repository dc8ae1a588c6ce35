// A small RAII wrapper over the NATS C client (libnats 3.4): connections with reconnect,
// publish (optionally with message headers), request with timeout, scatter-gather requests,
// subscriptions (plain and queue groups, callback or synchronous) and JetStream key-value
// buckets. Errors come back as Expected; nothing throws.
//
// Ownership: a NatsConnection owns its libnats connection; Subscription, SyncSubscription,
// KvBucket and KvWatcher borrow it and must be destroyed before it. Thread-safety: every method of
// NatsConnection may be called from any thread (libnats is thread-safe). Subscription handlers
// run on the subscription's own libnats delivery thread, one message at a time per subscription.
// A SyncSubscription has no thread: its owner pulls messages with next(), from one thread at a
// time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

typedef struct __natsConnection natsConnection;
typedef struct __natsSubscription natsSubscription;
typedef struct __jsCtx jsCtx;
typedef struct __kvStore kvStore;
typedef struct __kvWatcher kvWatcher;

namespace cumulus::lattice {

struct NatsOptions {
  std::string url = "nats://127.0.0.1:4222";
  std::string name = "wasmbus";  // the client name wasmCloud hosts use
  std::chrono::milliseconds connect_timeout{2000};
  int max_reconnect = -1;  // -1: reconnect forever
  std::chrono::milliseconds reconnect_wait{250};
};

// NATS message headers in wire order; a key may repeat. Keys are case-sensitive (libnats 3.x).
using Headers = std::vector<std::pair<std::string, std::string>>;

struct Message {
  std::string subject;
  std::string reply;  // empty when the sender expects no reply
  std::string data;
  Headers headers;
  // A server status message (`NATS/1.0 503` no responders, 408 request timeout, …) has an empty
  // payload and its code here, with the optional description; 0 for ordinary messages. libnats
  // lifts the status line into `Status`/`Description` headers; those are removed from `headers`
  // for status messages.
  int status = 0;
  std::string status_description;
};

using MessageHandler = std::function<void(const Message&)>;

// An active subscription; unsubscribes on destruction and waits (bounded) until its handler has
// returned for the last time, unless destroyed from inside its own handler.
class Subscription {
 public:
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;
  struct State;

 private:
  friend class NatsConnection;
  Subscription(natsSubscription* sub, std::shared_ptr<State> state)
      : sub_(sub), state_(std::move(state)) {}
  natsSubscription* sub_;
  std::shared_ptr<State> state_;
};

// A subscription read by its owner (no delivery thread): cheap enough to open per RPC. Messages
// queue inside libnats (its default pending limits: 65536 messages / 64 MiB) until next().
class SyncSubscription {
 public:
  ~SyncSubscription();
  SyncSubscription(const SyncSubscription&) = delete;
  SyncSubscription& operator=(const SyncSubscription&) = delete;
  const std::string& subject() const { return subject_; }
  // The next message. A timeout is an error with code kResourceLimit; a "no responders" reply to
  // a request published with this subject as reply-to comes back as a Message with status 503
  // (libnats reports it as a status; it is turned back into the message it was). Dropped
  // messages (slow consumer) are an error.
  Expected<Message> next(std::chrono::milliseconds timeout);

 private:
  friend class NatsConnection;
  SyncSubscription(natsSubscription* sub, std::string subject)
      : sub_(sub), subject_(std::move(subject)) {}
  natsSubscription* sub_;
  std::string subject_;
};

struct KvEntry {
  enum class Op { kPut, kDelete, kPurge };
  std::string key;
  std::string value;
  uint64_t revision = 0;
  Op op = Op::kPut;
};

class KvWatcher {
 public:
  ~KvWatcher();
  KvWatcher(const KvWatcher&) = delete;
  KvWatcher& operator=(const KvWatcher&) = delete;
  // The next change. nullopt marks the end of the initial values; a timeout is an error with
  // code kResourceLimit.
  Expected<std::optional<KvEntry>> next(std::chrono::milliseconds timeout);
  void stop();

 private:
  friend class KvBucket;
  explicit KvWatcher(kvWatcher* w) : w_(w) {}
  kvWatcher* w_;
};

class KvBucket {
 public:
  ~KvBucket();
  KvBucket(const KvBucket&) = delete;
  KvBucket& operator=(const KvBucket&) = delete;
  const std::string& name() const { return name_; }
  // nullopt when the key does not exist (or was deleted).
  Expected<std::optional<KvEntry>> get(std::string_view key);
  // Returns the new revision.
  Expected<uint64_t> put(std::string_view key, std::string_view value);
  Expected<void> del(std::string_view key);
  Expected<std::vector<std::string>> keys();
  Expected<std::unique_ptr<KvWatcher>> watchAll();

 private:
  friend class NatsConnection;
  KvBucket(kvStore* kv, std::string name) : kv_(kv), name_(std::move(name)) {}
  kvStore* kv_;
  std::string name_;
};

class NatsConnection {
 public:
  // Connects (fails after opts.connect_timeout if no server answers); later disconnects
  // reconnect automatically as configured.
  static Expected<std::unique_ptr<NatsConnection>> connect(const NatsOptions& opts);
  ~NatsConnection();
  NatsConnection(const NatsConnection&) = delete;
  NatsConnection& operator=(const NatsConnection&) = delete;

  Expected<void> publish(std::string_view subject, std::string_view data);
  Expected<void> publishRequest(std::string_view subject, std::string_view reply,
                                std::string_view data);
  // Publishes with optional reply-to (empty: none) and message headers (empty: a plain PUB).
  // The server rejects headers + data larger than maxPayload().
  Expected<void> publishMsg(std::string_view subject, std::string_view reply,
                            std::string_view data, const Headers& headers);
  // One reply, or an error (kResourceLimit on timeout, kNotFound when nobody listens).
  Expected<Message> request(std::string_view subject, std::string_view data,
                            std::chrono::milliseconds timeout);
  // Publishes with a fresh inbox and collects every reply until `window` elapses, an
  // empty-payload reply arrives, or `max_replies` (0: unlimited) were collected.
  Expected<std::vector<Message>> scatterGather(std::string_view subject, std::string_view data,
                                               std::chrono::milliseconds window,
                                               size_t max_replies = 0);
  // `queue` non-empty: join that queue group (one member receives each message).
  Expected<std::unique_ptr<Subscription>> subscribe(std::string_view subject,
                                                    MessageHandler handler,
                                                    std::string_view queue = {});
  Expected<std::unique_ptr<SyncSubscription>> subscribeSync(std::string_view subject);
  Expected<void> flush(std::chrono::milliseconds timeout);
  std::string connectedUrl() const;
  // The largest message (headers + payload) the connected server accepts, from its INFO
  // (nats-server's default is 1 MiB). 0 when not connected.
  int64_t maxPayload() const;
  // A fresh unique inbox subject (`_INBOX.<nuid>`), for reply subjects.
  static Expected<std::string> newInbox();

  // JetStream KV: opens bucket `name`, creating it (1 replica, file storage) when `create`.
  Expected<std::unique_ptr<KvBucket>> keyValue(std::string_view name, bool create);

 private:
  explicit NatsConnection(natsConnection* nc) : nc_(nc) {}
  Expected<jsCtx*> jetStream();
  natsConnection* nc_;
  std::mutex js_mu_;
  jsCtx* js_ = nullptr;  // GUARDED_BY(js_mu_), created on first use
};

}  // namespace cumulus::lattice
