// The libnats wrapper; see nats.h.
#include "lattice/nats.h"

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include <nats/nats.h>

namespace cumulus::lattice {
namespace {

Error natsError(natsStatus s, std::string_view what) {
  ErrorCode code = ErrorCode::kIo;
  if (s == NATS_TIMEOUT) code = ErrorCode::kResourceLimit;
  if (s == NATS_NOT_FOUND || s == NATS_NO_RESPONDERS) code = ErrorCode::kNotFound;
  if (s == NATS_INVALID_ARG || s == NATS_INVALID_SUBJECT) code = ErrorCode::kInvalidArgument;
  const char* last = nats_GetLastError(nullptr);
  std::string detail = natsStatus_GetText(s);
  if (last != nullptr && *last != '\0' && detail != last) detail = fmt::format("{} ({})", detail, last);
  return makeError(code, "{}: {}", what, detail);
}

// libnats lifts a status line (`NATS/1.0 503 No Responders`) into these two headers.
constexpr std::string_view kStatusHeader = "Status";
constexpr std::string_view kDescriptionHeader = "Description";

void readHeaders(natsMsg* msg, Message& m) {
  const char** keys = nullptr;
  int nkeys = 0;
  if (natsMsgHeader_Keys(msg, &keys, &nkeys) != NATS_OK) return;  // NATS_NOT_FOUND: none
  for (int i = 0; i < nkeys; ++i) {
    const char** values = nullptr;
    int nvalues = 0;
    if (natsMsgHeader_Values(msg, keys[i], &values, &nvalues) != NATS_OK) continue;
    for (int j = 0; j < nvalues; ++j) m.headers.emplace_back(keys[i], values[j]);
    std::free(static_cast<void*>(values));
  }
  std::free(static_cast<void*>(keys));
  // A status message is an empty message whose Status is a three-digit code (the same test
  // natsMsg_IsNoResponders makes); only then are the two headers the status line's.
  if (!m.data.empty()) return;
  auto it = std::find_if(m.headers.begin(), m.headers.end(),
                         [](const auto& h) { return h.first == kStatusHeader; });
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (it == m.headers.end() || it->second.size() != 3 ||
      !std::all_of(it->second.begin(), it->second.end(), digit))
    return;
  m.status = std::atoi(it->second.c_str());
  for (const auto& [k, v] : m.headers)
    if (k == kDescriptionHeader) m.status_description = v;
  std::erase_if(m.headers, [](const auto& h) {
    return h.first == kStatusHeader || h.first == kDescriptionHeader;
  });
}

Message toMessage(natsMsg* msg) {
  Message m;
  m.subject = natsMsg_GetSubject(msg);
  if (const char* reply = natsMsg_GetReply(msg)) m.reply = reply;
  if (const char* data = natsMsg_GetData(msg)) {
    m.data.assign(data, static_cast<size_t>(natsMsg_GetDataLength(msg)));
  }
  readHeaders(msg, m);
  return m;
}

KvEntry toEntry(kvEntry* e) {
  KvEntry out;
  out.key = kvEntry_Key(e);
  if (const void* v = kvEntry_Value(e)) {
    out.value.assign(static_cast<const char*>(v), static_cast<size_t>(kvEntry_ValueLen(e)));
  }
  out.revision = kvEntry_Revision(e);
  switch (kvEntry_Operation(e)) {
    case kvOp_Delete: out.op = KvEntry::Op::kDelete; break;
    case kvOp_Purge: out.op = KvEntry::Op::kPurge; break;
    default: out.op = KvEntry::Op::kPut; break;
  }
  return out;
}

}  // namespace

// Shared between the Subscription and libnats' delivery thread.
struct Subscription::State {
  MessageHandler handler;
  std::mutex mu;
  std::condition_variable cv;
  bool complete = false;
  std::thread::id delivery_thread;
};

namespace {

void onMessage(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto& state = **static_cast<std::shared_ptr<Subscription::State>*>(closure);
  state.delivery_thread = std::this_thread::get_id();
  Message m = toMessage(msg);
  natsMsg_Destroy(msg);
  state.handler(m);
}

void onComplete(void* closure) {
  auto* holder = static_cast<std::shared_ptr<Subscription::State>*>(closure);
  {
    std::lock_guard lock((*holder)->mu);
    (*holder)->complete = true;
  }
  (*holder)->cv.notify_all();
  delete holder;
}

}  // namespace

Subscription::~Subscription() {
  // Drain rather than unsubscribe: the server stops routing to us (a queue group sends new
  // messages to the other members), and messages already on their way are still handled, so a
  // host leaving a queue group under traffic loses none. Without a connection, just unsubscribe.
  if (natsSubscription_Drain(sub_) != NATS_OK) natsSubscription_Unsubscribe(sub_);
  if (state_->delivery_thread != std::this_thread::get_id()) {
    std::unique_lock lock(state_->mu);
    state_->cv.wait_for(lock, std::chrono::seconds(5), [&] { return state_->complete; });
  }
  natsSubscription_Destroy(sub_);
}

SyncSubscription::~SyncSubscription() {
  natsSubscription_Unsubscribe(sub_);
  natsSubscription_Destroy(sub_);
}

Expected<Message> SyncSubscription::next(std::chrono::milliseconds timeout) {
  natsMsg* msg = nullptr;
  natsStatus s = natsSubscription_NextMsg(&msg, sub_, std::max<int64_t>(timeout.count(), 1));
  if (s == NATS_NO_RESPONDERS) {
    // libnats swallows the 503 status message; give it back as the message it was.
    Message m;
    m.subject = subject_;
    m.status = 503;
    m.status_description = "No Responders";
    return m;
  }
  if (s != NATS_OK) return natsError(s, fmt::format("receiving on {}", subject_));
  Message m = toMessage(msg);
  natsMsg_Destroy(msg);
  return m;
}

KvWatcher::~KvWatcher() {
  kvWatcher_Stop(w_);
  kvWatcher_Destroy(w_);
}

void KvWatcher::stop() { kvWatcher_Stop(w_); }

Expected<std::optional<KvEntry>> KvWatcher::next(std::chrono::milliseconds timeout) {
  kvEntry* e = nullptr;
  natsStatus s = kvWatcher_Next(&e, w_, timeout.count());
  if (s != NATS_OK) return natsError(s, "kv watch");
  if (e == nullptr) return std::optional<KvEntry>{};
  KvEntry entry = toEntry(e);
  kvEntry_Destroy(e);
  return std::optional<KvEntry>(std::move(entry));
}

KvBucket::~KvBucket() { kvStore_Destroy(kv_); }

Expected<std::optional<KvEntry>> KvBucket::get(std::string_view key) {
  kvEntry* e = nullptr;
  std::string k(key);
  natsStatus s = kvStore_Get(&e, kv_, k.c_str());
  if (s == NATS_NOT_FOUND) return std::optional<KvEntry>{};
  if (s != NATS_OK) return natsError(s, fmt::format("kv get {}/{}", name_, key));
  KvEntry entry = toEntry(e);
  kvEntry_Destroy(e);
  return std::optional<KvEntry>(std::move(entry));
}

Expected<uint64_t> KvBucket::put(std::string_view key, std::string_view value) {
  uint64_t rev = 0;
  std::string k(key);
  natsStatus s = kvStore_Put(&rev, kv_, k.c_str(), value.data(), static_cast<int>(value.size()));
  if (s != NATS_OK) return natsError(s, fmt::format("kv put {}/{}", name_, key));
  return rev;
}

Expected<void> KvBucket::del(std::string_view key) {
  std::string k(key);
  natsStatus s = kvStore_Delete(kv_, k.c_str());
  if (s != NATS_OK) return natsError(s, fmt::format("kv delete {}/{}", name_, key));
  return {};
}

Expected<std::vector<std::string>> KvBucket::keys() {
  kvKeysList list{};
  natsStatus s = kvStore_Keys(&list, kv_, nullptr);
  if (s == NATS_NOT_FOUND) return std::vector<std::string>{};
  if (s != NATS_OK) return natsError(s, fmt::format("kv keys {}", name_));
  std::vector<std::string> out;
  for (int i = 0; i < list.Count; ++i) out.emplace_back(list.Keys[i]);
  kvKeysList_Destroy(&list);
  return out;
}

Expected<std::unique_ptr<KvWatcher>> KvBucket::watchAll() {
  kvWatcher* w = nullptr;
  natsStatus s = kvStore_WatchAll(&w, kv_, nullptr);
  if (s != NATS_OK) return natsError(s, fmt::format("kv watch {}", name_));
  return std::unique_ptr<KvWatcher>(new KvWatcher(w));
}

Expected<std::unique_ptr<NatsConnection>> NatsConnection::connect(const NatsOptions& opts) {
  natsOptions* o = nullptr;
  natsStatus s = natsOptions_Create(&o);
  if (s != NATS_OK) return natsError(s, "nats options");
  std::unique_ptr<natsOptions, decltype(&natsOptions_Destroy)> guard(o, natsOptions_Destroy);
  if ((s = natsOptions_SetURL(o, opts.url.c_str())) != NATS_OK ||
      (s = natsOptions_SetName(o, opts.name.c_str())) != NATS_OK ||
      (s = natsOptions_SetTimeout(o, opts.connect_timeout.count())) != NATS_OK ||
      (s = natsOptions_SetAllowReconnect(o, true)) != NATS_OK ||
      (s = natsOptions_SetMaxReconnect(o, opts.max_reconnect)) != NATS_OK ||
      (s = natsOptions_SetReconnectWait(o, opts.reconnect_wait.count())) != NATS_OK ||
      // Request/reply chains (ctl, the wRPC handshake) wait on every message: send each at once
      // instead of letting libnats' flusher batch writes (measured: ~1 ms added per message).
      (s = natsOptions_SetSendAsap(o, true)) != NATS_OK) {
    return natsError(s, fmt::format("nats options for {}", opts.url));
  }
  natsConnection* nc = nullptr;
  s = natsConnection_Connect(&nc, o);
  if (s != NATS_OK) {
    return natsError(s, fmt::format("connecting to NATS at {} (is nats-server running? "
                                    "`cumulus up` starts one)",
                                    opts.url));
  }
  return std::unique_ptr<NatsConnection>(new NatsConnection(nc));
}

NatsConnection::~NatsConnection() {
  if (js_ != nullptr) jsCtx_Destroy(js_);
  natsConnection_FlushTimeout(nc_, 1000);
  natsConnection_Close(nc_);
  natsConnection_Destroy(nc_);
}

Expected<void> NatsConnection::publish(std::string_view subject, std::string_view data) {
  std::string subj(subject);
  natsStatus s = natsConnection_Publish(nc_, subj.c_str(), data.data(), static_cast<int>(data.size()));
  if (s != NATS_OK) return natsError(s, fmt::format("publish {}", subject));
  return {};
}

Expected<void> NatsConnection::publishRequest(std::string_view subject, std::string_view reply,
                                              std::string_view data) {
  std::string subj(subject), rep(reply);
  natsStatus s = natsConnection_PublishRequest(nc_, subj.c_str(), rep.c_str(), data.data(),
                                               static_cast<int>(data.size()));
  if (s != NATS_OK) return natsError(s, fmt::format("publish {}", subject));
  return {};
}

Expected<void> NatsConnection::publishMsg(std::string_view subject, std::string_view reply,
                                          std::string_view data, const Headers& headers) {
  if (headers.empty()) {
    return reply.empty() ? publish(subject, data) : publishRequest(subject, reply, data);
  }
  std::string subj(subject), rep(reply);
  natsMsg* msg = nullptr;
  natsStatus s = natsMsg_Create(&msg, subj.c_str(), rep.empty() ? nullptr : rep.c_str(),
                                data.data(), static_cast<int>(data.size()));
  if (s != NATS_OK) return natsError(s, fmt::format("publish {}", subject));
  std::unique_ptr<natsMsg, decltype(&natsMsg_Destroy)> guard(msg, natsMsg_Destroy);
  for (const auto& [k, v] : headers) {
    s = natsMsgHeader_Add(msg, k.c_str(), v.c_str());
    if (s != NATS_OK) return natsError(s, fmt::format("publish {}: header `{}`", subject, k));
  }
  s = natsConnection_PublishMsg(nc_, msg);
  if (s != NATS_OK) return natsError(s, fmt::format("publish {}", subject));
  return {};
}

Expected<Message> NatsConnection::request(std::string_view subject, std::string_view data,
                                          std::chrono::milliseconds timeout) {
  std::string subj(subject);
  natsMsg* reply = nullptr;
  natsStatus s = natsConnection_Request(&reply, nc_, subj.c_str(), data.data(),
                                        static_cast<int>(data.size()), timeout.count());
  if (s != NATS_OK) return natsError(s, fmt::format("request {}", subject));
  Message m = toMessage(reply);
  natsMsg_Destroy(reply);
  return m;
}

Expected<std::vector<Message>> NatsConnection::scatterGather(std::string_view subject,
                                                             std::string_view data,
                                                             std::chrono::milliseconds window,
                                                             size_t max_replies) {
  natsInbox* inbox = nullptr;
  natsStatus s = natsInbox_Create(&inbox);
  if (s != NATS_OK) return natsError(s, "inbox");
  std::unique_ptr<natsInbox, decltype(&natsInbox_Destroy)> inbox_guard(inbox, natsInbox_Destroy);
  natsSubscription* sub = nullptr;
  s = natsConnection_SubscribeSync(&sub, nc_, inbox);
  if (s != NATS_OK) return natsError(s, "subscribe to inbox");
  std::unique_ptr<natsSubscription, decltype(&natsSubscription_Destroy)> sub_guard(
      sub, natsSubscription_Destroy);
  CUMULUS_TRY_VOID(publishRequest(subject, inbox, data));
  std::vector<Message> replies;
  auto deadline = std::chrono::steady_clock::now() + window;
  while (max_replies == 0 || replies.size() < max_replies) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    natsMsg* msg = nullptr;
    s = natsSubscription_NextMsg(&msg, sub, left.count());
    if (s == NATS_TIMEOUT) break;
    if (s != NATS_OK) return natsError(s, fmt::format("collecting replies to {}", subject));
    Message m = toMessage(msg);
    natsMsg_Destroy(msg);
    if (m.data.empty()) break;
    replies.push_back(std::move(m));
  }
  natsSubscription_Unsubscribe(sub);
  return replies;
}

Expected<std::unique_ptr<Subscription>> NatsConnection::subscribe(std::string_view subject,
                                                                  MessageHandler handler,
                                                                  std::string_view queue) {
  auto state = std::make_shared<Subscription::State>();
  state->handler = std::move(handler);
  auto* closure = new std::shared_ptr<Subscription::State>(state);
  std::string subj(subject), q(queue);
  natsSubscription* sub = nullptr;
  natsStatus s =
      q.empty() ? natsConnection_Subscribe(&sub, nc_, subj.c_str(), onMessage, closure)
                : natsConnection_QueueSubscribe(&sub, nc_, subj.c_str(), q.c_str(), onMessage, closure);
  if (s != NATS_OK) {
    delete closure;
    return natsError(s, fmt::format("subscribe {}", subject));
  }
  s = natsSubscription_SetOnCompleteCB(sub, onComplete, closure);
  if (s != NATS_OK) {
    // Without the completion callback the closure cannot be freed safely: keep it (leak) and
    // still return a working subscription.
    state->complete = true;
  }
  return std::unique_ptr<Subscription>(new Subscription(sub, std::move(state)));
}

Expected<std::unique_ptr<SyncSubscription>> NatsConnection::subscribeSync(
    std::string_view subject) {
  std::string subj(subject);
  natsSubscription* sub = nullptr;
  natsStatus s = natsConnection_SubscribeSync(&sub, nc_, subj.c_str());
  if (s != NATS_OK) return natsError(s, fmt::format("subscribe {}", subject));
  return std::unique_ptr<SyncSubscription>(new SyncSubscription(sub, std::move(subj)));
}

int64_t NatsConnection::maxPayload() const { return natsConnection_GetMaxPayload(nc_); }

Expected<std::string> NatsConnection::newInbox() {
  natsInbox* inbox = nullptr;
  natsStatus s = natsInbox_Create(&inbox);
  if (s != NATS_OK) return natsError(s, "inbox");
  std::string out(inbox);
  natsInbox_Destroy(inbox);
  return out;
}

Expected<void> NatsConnection::flush(std::chrono::milliseconds timeout) {
  natsStatus s = natsConnection_FlushTimeout(nc_, timeout.count());
  if (s != NATS_OK) return natsError(s, "flush");
  return {};
}

std::string NatsConnection::connectedUrl() const {
  char buf[512] = {0};
  if (natsConnection_GetConnectedUrl(nc_, buf, sizeof buf) != NATS_OK) return {};
  return buf;
}

Expected<jsCtx*> NatsConnection::jetStream() {
  std::lock_guard lock(js_mu_);
  if (js_ != nullptr) return js_;
  natsStatus s = natsConnection_JetStream(&js_, nc_, nullptr);
  if (s != NATS_OK) return natsError(s, "JetStream context");
  return js_;
}

Expected<std::unique_ptr<KvBucket>> NatsConnection::keyValue(std::string_view name, bool create) {
  CUMULUS_TRY(jsCtx * js, jetStream());
  std::string bucket(name);
  kvStore* kv = nullptr;
  natsStatus s = js_KeyValue(&kv, js, bucket.c_str());
  if (s == NATS_NOT_FOUND && create) {
    kvConfig cfg;
    kvConfig_Init(&cfg);
    cfg.Bucket = bucket.c_str();
    cfg.Replicas = 1;
    cfg.StorageType = js_FileStorage;
    s = js_CreateKeyValue(&kv, js, &cfg);
  }
  if (s != NATS_OK) {
    return natsError(s, fmt::format("opening KV bucket {} (is JetStream enabled? nats-server -js)",
                                    name));
  }
  return std::unique_ptr<KvBucket>(new KvBucket(kv, bucket));
}

}  // namespace cumulus::lattice
