// wRPC over NATS: client calls, served exports and the worker pool; see wrpc.h.
#include "lattice/wrpc.h"

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "base/log.h"
#include "lattice/wrpc_codec.h"

namespace cumulus::lattice {

using Clock = std::chrono::steady_clock;

namespace {

// Error::detail() of WrpcChannels' deadline errors, told apart from its buffer-limit errors
// (both kResourceLimit) so callers can name what they were waiting for.
constexpr int kDeadline = 2;

std::chrono::milliseconds until(Clock::time_point deadline) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
}

// Publishes `data` on `subject` in messages of at most the server's max_payload. Never sends an
// empty message: on these channels that means "end".
Expected<void> writeChunked(NatsConnection& nc, const std::string& subject, std::string_view data) {
  int64_t max_payload = nc.maxPayload();
  if (max_payload <= 0) {
    return makeError(ErrorCode::kIo, "not connected to NATS: cannot publish on {}", subject);
  }
  auto chunk = static_cast<size_t>(max_payload);
  for (size_t off = 0; off < data.size(); off += chunk)
    CUMULUS_TRY_VOID(nc.publish(subject, data.substr(off, chunk)));
  return {};
}

}  // namespace

// The incoming channels of one call, all under `base` (`Rc` for a client, `Rs` for a server
// invocation), read from one synchronous subscription on `base.>`. A channel is named by the
// subject's remainder ("results", "params.0.1") and ends with an empty message. Messages for
// channels other than the one being read are queued, bounded by `max_buffered` bytes.
class WrpcChannels {
 public:
  WrpcChannels(std::unique_ptr<SyncSubscription> sub, const std::string& base, size_t max_buffered)
      : sub_(std::move(sub)), prefix_(base + "."), max_buffered_(max_buffered) {}

  // The next payload on channel `name`; nullopt at (and after) its end.
  Expected<std::optional<std::string>> next(std::string_view name, Clock::time_point deadline) {
    if (ended_.contains(name)) return std::optional<std::string>{};
    if (auto it = queued_.find(name); it != queued_.end() && !it->second.empty()) {
      std::string data = std::move(it->second.front());
      it->second.pop_front();
      buffered_ -= data.size();
      return deliver(name, std::move(data));
    }
    for (;;) {
      auto left = until(deadline);
      if (left.count() <= 0) return deadlineError();
      auto msg = sub_->next(left);
      if (!msg.ok()) {
        if (msg.error().code() == ErrorCode::kResourceLimit) return deadlineError();
        return std::move(msg).error();
      }
      if (msg->status != 0 || !msg->subject.starts_with(prefix_)) continue;
      std::string_view channel = std::string_view(msg->subject).substr(prefix_.size());
      if (channel == name) return deliver(name, std::move(msg->data));
      if (ended_.contains(channel)) continue;  // a peer writing after its end message
      buffered_ += msg->data.size();
      if (buffered_ > max_buffered_) {
        return makeError(ErrorCode::kResourceLimit,
                         "more than {} bytes arrived on channels not being read (last: {})",
                         max_buffered_, msg->subject);
      }
      queued_[std::string(channel)].push_back(std::move(msg->data));
    }
  }

  // Channel `name` to its end, concatenated; at most `max_bytes`.
  Expected<std::string> readAll(std::string_view name, Clock::time_point deadline,
                                size_t max_bytes) {
    std::string out;
    for (;;) {
      CUMULUS_TRY(std::optional<std::string> chunk, next(name, deadline));
      if (!chunk) return out;
      if (out.size() + chunk->size() > max_bytes) {
        return makeError(ErrorCode::kResourceLimit, "more than {} bytes on {}{}", max_bytes,
                         prefix_, name);
      }
      out += *chunk;
    }
  }

 private:
  std::optional<std::string> deliver(std::string_view name, std::string data) {
    if (!data.empty()) return data;
    ended_.emplace(name);
    return std::nullopt;
  }
  static Error deadlineError() {
    return Error(ErrorCode::kResourceLimit, "timed out").withDetail(kDeadline);
  }

  std::unique_ptr<SyncSubscription> sub_;
  std::string prefix_;
  size_t max_buffered_;
  size_t buffered_ = 0;
  std::map<std::string, std::deque<std::string>, std::less<>> queued_;
  std::set<std::string, std::less<>> ended_;
};

std::string wrpcSubject(std::string_view prefix, std::string_view instance,
                        std::string_view function) {
  std::string s;
  s.reserve(prefix.size() + kWrpcProtocol.size() + instance.size() + function.size() + 3);
  if (!prefix.empty()) s.append(prefix).append(".");
  s.append(kWrpcProtocol).append(".");
  if (!instance.empty()) s.append(instance).append(".");
  s.append(function);
  return s;
}

size_t wrpcHeaderBytes(const Headers& headers) {
  if (headers.empty()) return 0;
  size_t n = std::string_view("NATS/1.0\r\n").size() + std::string_view("\r\n").size();
  for (const auto& [k, v] : headers) n += k.size() + 2 + v.size() + 2;
  return n;
}

// --- client ----------------------------------------------------------------------------------

WrpcCall::WrpcCall(NatsConnection& nc, std::string subject, std::string params_subject,
                   std::unique_ptr<WrpcChannels> channels, Clock::time_point deadline,
                   std::chrono::milliseconds timeout, size_t max_result_bytes)
    : nc_(nc),
      subject_(std::move(subject)),
      params_subject_(std::move(params_subject)),
      channels_(std::move(channels)),
      deadline_(deadline),
      timeout_(timeout),
      max_result_bytes_(max_result_bytes) {}

WrpcCall::~WrpcCall() {
  // Like a dropped writer in wrpc-transport-nats: the peer sees the end, not silence.
  for (const auto& path : open_params_) (void)nc_.publish(params_subject_ + "." + path, "");
}

Expected<std::string> WrpcCall::results() {
  auto out = channels_->readAll("results", deadline_, max_result_bytes_);
  if (!out.ok() && out.error().detail() == kDeadline) {
    return makeError(ErrorCode::kResourceLimit,
                     "timed out after {} ms waiting for the results of {} (the handler is slow "
                     "or hung)",
                     timeout_.count(), subject_);
  }
  if (!out.ok()) {
    Error e = std::move(out).error();
    return e.withContext(fmt::format("results of {}", subject_));
  }
  return out;
}

Expected<std::optional<std::string>> WrpcCall::nextResult(std::string_view path,
                                                          std::chrono::milliseconds timeout) {
  auto out = channels_->next(fmt::format("results.{}", path), Clock::now() + timeout);
  if (!out.ok() && out.error().detail() == kDeadline) {
    return makeError(ErrorCode::kResourceLimit,
                     "timed out after {} ms waiting on result path {} of {}", timeout.count(), path,
                     subject_);
  }
  return out;
}

Expected<void> WrpcCall::writeParam(std::string_view path, std::string_view data) {
  std::string subject = params_subject_ + "." + std::string(path);
  open_params_.emplace(path);
  return writeChunked(nc_, subject, data);
}

Expected<void> WrpcCall::endParam(std::string_view path) {
  if (auto it = open_params_.find(path); it != open_params_.end()) open_params_.erase(it);
  return nc_.publish(params_subject_ + "." + std::string(path), "");
}

Expected<std::unique_ptr<WrpcCall>> WrpcClient::start(
    std::string_view prefix, std::string_view instance, std::string_view function,
    std::string_view params, const Headers& headers, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::string subject = wrpcSubject(prefix, instance, function);
  int64_t max_payload = nc_.maxPayload();
  if (max_payload <= 0) {
    return makeError(ErrorCode::kIo, "not connected to NATS: cannot invoke {}", subject);
  }
  // A server answers the handshake as soon as it takes the invocation. None within the handshake
  // timeout means the message went to a server that is gone (killed before NATS noticed) or
  // swamped: invoke again, until the call's deadline. Safe: a server runs the function only
  // after the client sent the parameters' end, which only the accepted attempt gets.
  std::string rc;
  std::unique_ptr<SyncSubscription> incoming;
  size_t first = 0;
  Expected<Message> hs = Error(ErrorCode::kInternal, "no attempt");
  for (int attempt = 0;; ++attempt) {
    CUMULUS_TRY(rc, NatsConnection::newInbox());
    // Both subscriptions precede the publish on this connection, so the server has them before
    // anyone can answer.
    CUMULUS_TRY(auto handshake, nc_.subscribeSync(rc));
    CUMULUS_TRY(incoming, nc_.subscribeSync(rc + ".>"));
    // What fits in the first message next to the reply subject and headers, counted as
    // wrpc-transport-nats counts it; the rest follows on Rs.params after the handshake.
    const auto limit = static_cast<size_t>(max_payload);
    const size_t overhead = rc.size() + wrpcHeaderBytes(headers);
    const size_t room = limit > overhead ? limit - overhead : 0;
    first = std::min(params.size(), room);
    CUMULUS_TRY_VOID(nc_.publishMsg(subject, rc, params.substr(0, first), headers));
    auto wait = std::min(until(deadline), opts_.handshake_timeout);
    hs = handshake->next(std::max(wait, std::chrono::milliseconds(1)));
    if (hs.ok()) break;
    if (hs.error().code() != ErrorCode::kResourceLimit) return std::move(hs).error();
    if (until(deadline).count() <= 0) {
      return makeError(ErrorCode::kResourceLimit,
                       "timed out after {} ms waiting for {} to accept the invocation ({} attempts)",
                       timeout.count(), subject, attempt + 1);
    }
    log().debug("wrpc: no handshake from {} within {} ms; invoking again", subject,
                opts_.handshake_timeout.count());
  }
  if (hs->status == 503) {
    return makeError(ErrorCode::kNotFound,
                     "not connected: no responders for {} (the target is not running or does not "
                     "serve this function)",
                     subject);
  }
  if (hs->status == 408) {
    return makeError(ErrorCode::kResourceLimit, "timed out: the server answered 408 for {}",
                     subject);
  }
  if (hs->status != 0 && (hs->status < 200 || hs->status >= 300)) {
    return makeError(ErrorCode::kIo, "{} answered with NATS status {} ({})", subject, hs->status,
                     hs->status_description);
  }
  if (hs->reply.empty()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "the server of {} answered the handshake without a reply subject", subject);
  }
  std::string params_subject = hs->reply + ".params";
  if (auto w = writeChunked(nc_, params_subject, params.substr(first)); !w.ok()) {
    Error e = std::move(w).error();
    return e.withContext(fmt::format("sending the parameters of {}", subject));
  }
  if (auto w = nc_.publish(params_subject, ""); !w.ok()) {
    Error e = std::move(w).error();
    return e.withContext("failed to shutdown synchronous parameter channel");
  }
  auto channels = std::make_unique<WrpcChannels>(std::move(incoming), rc, opts_.max_result_bytes);
  return std::unique_ptr<WrpcCall>(new WrpcCall(nc_, std::move(subject), std::move(params_subject),
                                                std::move(channels), deadline, timeout,
                                                opts_.max_result_bytes));
}

Expected<std::string> WrpcClient::invoke(std::string_view prefix, std::string_view instance,
                                         std::string_view function, std::string_view params,
                                         const Headers& headers,
                                         std::chrono::milliseconds timeout) {
  CUMULUS_TRY(auto call, start(prefix, instance, function, params, headers, timeout));
  return call->results();
}

Expected<std::vector<component::Val>> WrpcClient::call(
    std::string_view prefix, std::string_view instance, std::string_view function,
    const component::CType& func, std::span<const component::Val> params, const Headers& headers,
    std::chrono::milliseconds timeout) {
  auto encoded = wrpc::encodeTuple(wrpc::paramTypes(func), params);
  if (!encoded.ok()) {
    Error e = std::move(encoded).error();
    return e.withContext(fmt::format("parameters of {}", function));
  }
  CUMULUS_TRY(std::string results, invoke(prefix, instance, function, *encoded, headers, timeout));
  auto values = wrpc::decodeTuple(wrpc::resultTypes(func), results);
  if (!values.ok()) {
    Error e = std::move(values).error();
    return e.withContext(fmt::format("results of {}", wrpcSubject(prefix, instance, function)));
  }
  return values;
}

// --- server ----------------------------------------------------------------------------------

Expected<std::optional<std::string>> WrpcInvocation::nextParam(std::string_view path,
                                                               std::chrono::milliseconds timeout) {
  auto out = channels_.next(fmt::format("params.{}", path), Clock::now() + timeout);
  if (!out.ok() && out.error().detail() == kDeadline) {
    return makeError(ErrorCode::kResourceLimit,
                     "timed out after {} ms waiting on parameter path {} of {}", timeout.count(),
                     path, subject_);
  }
  return out;
}

Expected<void> WrpcInvocation::writeResult(std::string_view path, std::string_view data) {
  open_results_.emplace(path);
  return writeChunked(nc_, results_subject_ + "." + std::string(path), data);
}

Expected<void> WrpcInvocation::endResult(std::string_view path) {
  if (auto it = open_results_.find(path); it != open_results_.end()) open_results_.erase(it);
  return nc_.publish(results_subject_ + "." + std::string(path), "");
}

Expected<void> WrpcInvocation::writeResults(std::string_view data) {
  if (results_sent_) return makeError(ErrorCode::kInvalidArgument, "results of {} already sent", subject_);
  results_sent_ = true;
  CUMULUS_TRY_VOID(writeChunked(nc_, results_subject_, data));
  return nc_.publish(results_subject_, "");
}

struct WrpcExport::State {
  std::string subject;
  WrpcStreamingHandler handler;
  std::mutex mu;
  std::condition_variable cv;
  size_t running = 0;   // GUARDED_BY(mu)
  bool closed = false;  // GUARDED_BY(mu); no new invocation starts once set
};

WrpcExport::~WrpcExport() {
  sub_.reset();  // no more deliveries (waits for a callback in progress)
  std::unique_lock lock(state_->mu);
  state_->closed = true;
  state_->cv.wait(lock, [this] { return state_->running == 0; });
}

const std::string& WrpcExport::subject() const { return state_->subject; }

// A fixed set of threads draining a bounded queue. Shared with the exports' delivery callbacks,
// which may outlive the server: a stopped pool just refuses work.
struct WrpcServer::Pool {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::function<void()>> queue;  // GUARDED_BY(mu)
  bool stopping = false;                    // GUARDED_BY(mu)
  size_t max_queued = 0;
  std::vector<std::thread> threads;

  bool post(std::function<void()> task) {
    {
      std::lock_guard lock(mu);
      if (stopping || queue.size() >= max_queued) return false;
      queue.push_back(std::move(task));
    }
    cv.notify_one();
    return true;
  }
  void work() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [this] { return stopping || !queue.empty(); });
        if (stopping) return;
        task = std::move(queue.front());
        queue.pop_front();
      }
      task();
    }
  }
};

WrpcServer::WrpcServer(NatsConnection& nc, WrpcServerOptions opts)
    : nc_(nc), opts_(opts), pool_(std::make_shared<Pool>()) {
  pool_->max_queued = std::max<size_t>(opts_.max_queued, 1);
  for (size_t i = 0; i < std::max<size_t>(opts_.workers, 1); ++i)
    pool_->threads.emplace_back([pool = pool_.get()] { pool->work(); });
}

WrpcServer::~WrpcServer() {
  {
    std::lock_guard lock(pool_->mu);
    pool_->stopping = true;
    pool_->queue.clear();
  }
  pool_->cv.notify_all();
  for (auto& t : pool_->threads) t.join();
}

Expected<std::unique_ptr<WrpcExport>> WrpcServer::serve(std::string_view prefix,
                                                        std::string_view instance,
                                                        std::string_view function,
                                                        WrpcHandler handler) {
  return serveStreaming(prefix, instance, function,
                        [handler = std::move(handler)](WrpcInvocation& inv) {
                          return handler(inv.params(), inv.headers());
                        });
}

Expected<std::unique_ptr<WrpcExport>> WrpcServer::serveStreaming(std::string_view prefix,
                                                                 std::string_view instance,
                                                                 std::string_view function,
                                                                 WrpcStreamingHandler handler) {
  auto state = std::make_shared<WrpcExport::State>();
  state->subject = wrpcSubject(prefix, instance, function);
  state->handler = std::move(handler);
  NatsConnection* nc = &nc_;
  auto on_message = [nc, opts = opts_, pool = pool_, state](const Message& m) {
    if (m.reply.empty()) {
      log().warn("wrpc: an invocation of {} has no reply subject; ignored", state->subject);
      return;
    }
    // Counted from delivery on, so destroying the export waits for queued invocations too (a
    // draining subscription still delivers what was on its way). The token gives the count back
    // when the task ends or is discarded unrun (a stopping pool drops its queue).
    {
      std::lock_guard lock(state->mu);
      if (state->closed) return;
      ++state->running;
    }
    struct Token {
      std::shared_ptr<WrpcExport::State> st;
      ~Token() {
        {
          std::lock_guard lock(st->mu);
          --st->running;
        }
        st->cv.notify_all();
      }
    };
    std::shared_ptr<Token> token(new Token{state});  // no temporary: its destructor would count
    // The handshake goes out here, on the delivery thread, not from the pool: its latency must
    // not depend on how busy the workers are, because clients re-send invocations whose
    // handshake is late (WrpcClient::start).
    auto accepted = accept(*nc, opts, m);
    if (!accepted.ok()) {
      log().warn("wrpc: {}: {}", state->subject, accepted.error().message());
      (void)nc->publish(m.reply + ".results", "");
      return;
    }
    std::shared_ptr<WrpcChannels> channels = std::move(*accepted);
    bool queued = pool->post([nc, opts, token, m, channels]() mutable {
      runInvocation(*nc, opts, *token->st, std::move(m), *channels);
    });
    if (!queued) {
      log().warn("wrpc: dropping an invocation of {}: {} invocations already wait for a worker",
                 state->subject, opts.max_queued);
      (void)nc->publish(m.reply + ".results", "");  // the client fails now, not at its timeout
    }
  };
  CUMULUS_TRY(auto sub, nc_.subscribe(state->subject, std::move(on_message), prefix));
  return std::unique_ptr<WrpcExport>(new WrpcExport(std::move(sub), std::move(state)));
}

Expected<std::unique_ptr<WrpcChannels>> WrpcServer::accept(NatsConnection& nc,
                                                           const WrpcServerOptions& opts,
                                                           const Message& msg) {
  CUMULUS_TRY(std::string rs, NatsConnection::newInbox());
  CUMULUS_TRY(auto sub, nc.subscribeSync(rs + ".>"));
  auto channels = std::make_unique<WrpcChannels>(std::move(sub), rs, opts.max_params_bytes);
  CUMULUS_TRY_VOID(nc.publishRequest(msg.reply, rs, ""));
  return channels;
}

void WrpcServer::runInvocation(NatsConnection& nc, const WrpcServerOptions& opts,
                               WrpcExport::State& ex, Message msg, WrpcChannels& channels) {
  // `running` was counted and the handshake sent when the message was delivered.
  const std::string results = msg.reply + ".results";
  // No error channel in this protocol version: end the results, so the client fails fast with
  // "incomplete results" instead of waiting for its timeout.
  auto fail = [&nc, &ex, &results](const Error& e) {
    log().warn("wrpc: {}: {}", ex.subject, e.message());
    (void)nc.publish(results, "");
  };
  if (msg.data.size() > opts.max_params_bytes) {
    return fail(
        makeError(ErrorCode::kResourceLimit, "parameters exceed {} bytes", opts.max_params_bytes));
  }
  auto rest = channels.readAll("params", Clock::now() + opts.params_timeout,
                               opts.max_params_bytes - msg.data.size());
  if (!rest.ok()) {
    if (rest.error().detail() == kDeadline) {
      return fail(makeError(ErrorCode::kResourceLimit,
                            "the client did not finish sending parameters within {} ms",
                            opts.params_timeout.count()));
    }
    return fail(rest.error());
  }

  WrpcInvocation inv(nc, channels);
  inv.subject_ = std::move(msg.subject);
  inv.results_subject_ = results;
  inv.params_ = std::move(msg.data);
  inv.params_ += *rest;
  inv.headers_ = std::move(msg.headers);
  Expected<std::string> out = Error(ErrorCode::kInternal, "no result");
  try {
    out = ex.handler(inv);
  } catch (const std::exception& e) {
    // A throwing handler must not take the worker thread (and the process) down.
    out = makeError(ErrorCode::kInternal, "handler threw: {}", e.what());
  }
  for (const auto& path : inv.open_results_) (void)nc.publish(results + "." + path, "");
  if (inv.results_sent_) {
    if (!out.ok()) log().warn("wrpc: {}: {}", ex.subject, out.error().message());
    return;
  }
  if (!out.ok()) return fail(out.error());
  if (auto w = writeChunked(nc, results, *out); !w.ok()) return fail(w.error());
  if (auto w = nc.publish(results, ""); !w.ok()) {
    log().warn("wrpc: {}: ending the results: {}", ex.subject, w.error().message());
  }
}

}  // namespace cumulus::lattice
