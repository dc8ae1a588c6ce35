// wRPC over NATS (PROTOCOL.md §5.1-5.3; wire-compatible with wrpc-transport-nats 0.29): the
// client side that invokes `{prefix}.wrpc.0.0.1.{instance}.{function}` and the server side that
// serves such subjects. This layer moves bytes; wrpc_codec.h turns them into component values.
//
// One invocation, as the NATS messages go:
//   client: SUB Rc; SUB Rc.>; PUB {subject} reply=Rc [headers] <params, truncated to fit>
//   server: SUB Rs.>; PUB Rc reply=Rs <empty>                            (the handshake)
//   client: PUB Rs.params <rest of params, chunks <= max_payload> ...; PUB Rs.params <empty>
//   server: runs the handler; PUB Rc.results <result chunks> ...; PUB Rc.results <empty>
// Async values (streams, futures) travel on `Rs.params.<path>` / `Rc.results.<path>`, each ended
// by an empty message. There is no error channel: a failed handler just ends the result channel,
// which the client's decoder reports as incomplete results (§5.2 item 5).
//
// Design: the client and each server invocation read their channels through one synchronous
// subscription on `R.>` (no libnats thread per call), demultiplexed by subject; messages for a
// channel nobody is reading yet are buffered, up to a byte limit. (wrpc-transport-nats subscribes
// `R.results`/`R.params` and each async path separately; peers cannot tell.) Servers run handlers
// on a small worker pool owned by WrpcServer, never on the libnats delivery thread, so a slow
// handler delays neither other invocations nor other subscriptions.
//
// Ownership: WrpcClient and WrpcServer borrow a NatsConnection, which must outlive them and every
// WrpcCall / WrpcExport they hand out. A WrpcExport's destructor stops delivery and waits until
// its running invocations have returned; WrpcServer's destructor stops and joins the pool (queued,
// unstarted invocations are dropped: their clients time out). Thread-safety: WrpcClient and
// WrpcServer methods may be called from any thread; a WrpcCall or WrpcInvocation is used by one
// thread at a time. Errors: everything returns Expected; timeouts are kResourceLimit, "no
// responders" (target not running) kNotFound, both naming the subject.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "component/types.h"
#include "component/value.h"
#include "lattice/nats.h"

namespace cumulus::lattice {

inline constexpr std::string_view kWrpcProtocol = "wrpc.0.0.1";
// Host imports and the provider SDK client default (§5.2).
inline constexpr std::chrono::milliseconds kWrpcDefaultTimeout{10000};

// `{prefix}.wrpc.0.0.1.{instance}.{function}`; the instance token is left out when empty.
std::string wrpcSubject(std::string_view prefix, std::string_view instance,
                        std::string_view function);

// The bytes `headers` add to a message, as wrpc-transport-nats counts them when it truncates the
// first parameter payload: `NATS/1.0\r\n` + `key: value\r\n` each + `\r\n`; 0 without headers.
size_t wrpcHeaderBytes(const Headers& headers);

class WrpcChannels;  // the demultiplexed `R.>` subscription of one call (wrpc.cpp)

// The client side of one invocation, after its synchronous parameters were delivered.
class WrpcCall {
 public:
  ~WrpcCall();  // ends parameter paths left open (an empty message each), unsubscribes
  WrpcCall(const WrpcCall&) = delete;
  WrpcCall& operator=(const WrpcCall&) = delete;

  const std::string& subject() const { return subject_; }
  // The synchronous result bytes: every message on `Rc.results` up to the empty one, concatenated,
  // within the call's deadline. Once only.
  Expected<std::string> results();
  // The next message on async result path `path` (e.g. "0.0" for `Rc.results.0.0`); nullopt once
  // the path's empty end message arrived. kResourceLimit after `timeout` without one.
  Expected<std::optional<std::string>> nextResult(std::string_view path,
                                                  std::chrono::milliseconds timeout);
  // Async parameters: data for `Rs.params.<path>` (sent in chunks <= max_payload) and its end.
  Expected<void> writeParam(std::string_view path, std::string_view data);
  Expected<void> endParam(std::string_view path);

 private:
  friend class WrpcClient;
  WrpcCall(NatsConnection& nc, std::string subject, std::string params_subject,
           std::unique_ptr<WrpcChannels> channels, std::chrono::steady_clock::time_point deadline,
           std::chrono::milliseconds timeout, size_t max_result_bytes);
  NatsConnection& nc_;
  std::string subject_;
  std::string params_subject_;  // Rs.params
  std::unique_ptr<WrpcChannels> channels_;
  std::chrono::steady_clock::time_point deadline_;
  std::chrono::milliseconds timeout_;
  size_t max_result_bytes_;
  std::set<std::string, std::less<>> open_params_;
};

struct WrpcClientOptions {
  // How long one attempt waits for the server's handshake before invoking again (within the
  // call's timeout); see WrpcClient::start.
  std::chrono::milliseconds handshake_timeout{2000};
  // Bound on the result bytes one call buffers (synchronous results plus async messages not read
  // yet); beyond it the call fails with kResourceLimit.
  size_t max_result_bytes = size_t{64} << 20;
};

class WrpcClient {
 public:
  explicit WrpcClient(NatsConnection& nc, WrpcClientOptions opts = {}) : nc_(nc), opts_(opts) {}

  // Publishes the invocation, waits for the server's handshake (invoking again when none comes
  // within the handshake timeout: the message may have gone to a server that just died) and
  // sends the remaining parameter bytes and the end of the parameter channel. `prefix` is `{lattice}.{target id}`; `instance`
  // e.g. "wrpc:keyvalue/store@0.2.0-draft" (empty for root functions). `timeout` bounds the
  // handshake and the synchronous results.
  Expected<std::unique_ptr<WrpcCall>> start(
      std::string_view prefix, std::string_view instance, std::string_view function,
      std::string_view params, const Headers& headers = {},
      std::chrono::milliseconds timeout = kWrpcDefaultTimeout);
  // start() + results(): the synchronous result bytes. Empty bytes for a function with results
  // mean the server's handler failed (decodeTuple says "incomplete").
  Expected<std::string> invoke(std::string_view prefix, std::string_view instance,
                               std::string_view function, std::string_view params,
                               const Headers& headers = {},
                               std::chrono::milliseconds timeout = kWrpcDefaultTimeout);
  // invoke() with values: encodes `params` by the parameter types of `func` (a CType kFunc) and
  // decodes the results by its result types. Functions with streams or futures need start().
  Expected<std::vector<component::Val>> call(
      std::string_view prefix, std::string_view instance, std::string_view function,
      const component::CType& func, std::span<const component::Val> params,
      const Headers& headers = {}, std::chrono::milliseconds timeout = kWrpcDefaultTimeout);

 private:
  NatsConnection& nc_;
  WrpcClientOptions opts_;
};

// The server side of one invocation, as streaming handlers see it.
class WrpcInvocation {
 public:
  const std::string& subject() const { return subject_; }
  const Headers& headers() const { return headers_; }
  const std::string& params() const { return params_; }  // the synchronous parameter bytes
  // The next message on async parameter path `path` (`Rs.params.<path>`); nullopt at its end.
  Expected<std::optional<std::string>> nextParam(std::string_view path,
                                                 std::chrono::milliseconds timeout);
  // Async results on `Rc.results.<path>` and their end. Paths the handler leaves open are ended
  // for it when it returns.
  Expected<void> writeResult(std::string_view path, std::string_view data);
  Expected<void> endResult(std::string_view path);
  // Sends the synchronous results now (and ends their channel), before the handler returns: a
  // streaming handler whose result head is known early (an HTTP response's status and headers)
  // lets the client act on it while the async paths still flow. The handler's own return value
  // is then ignored. Once only.
  Expected<void> writeResults(std::string_view data);

 private:
  friend class WrpcServer;
  WrpcInvocation(NatsConnection& nc, WrpcChannels& channels) : nc_(nc), channels_(channels) {}
  NatsConnection& nc_;
  WrpcChannels& channels_;
  std::string subject_, results_subject_, params_;
  Headers headers_;
  std::set<std::string, std::less<>> open_results_;
  bool results_sent_ = false;
};

// Returns the encoded result tuple; an error ends the result channel without a value (and is
// logged), which the client sees as incomplete results.
using WrpcHandler =
    std::function<Expected<std::string>(std::string_view params, const Headers& headers)>;
using WrpcStreamingHandler = std::function<Expected<std::string>(WrpcInvocation& invocation)>;

struct WrpcServerOptions {
  size_t workers = 8;        // handler threads shared by all exports of the server
  size_t max_queued = 1024;  // invocations waiting for a worker; beyond it new ones are dropped
  // How long an invocation may take to deliver its parameters after the handshake.
  std::chrono::milliseconds params_timeout = kWrpcDefaultTimeout;
  size_t max_params_bytes = size_t{64} << 20;  // per invocation, sync + buffered async
};

// One served function; destroying it unsubscribes and waits for its running invocations (so it
// must not be destroyed from inside its own handler, which would wait for itself).
class WrpcExport {
 public:
  ~WrpcExport();
  WrpcExport(const WrpcExport&) = delete;
  WrpcExport& operator=(const WrpcExport&) = delete;
  const std::string& subject() const;
  struct State;

 private:
  friend class WrpcServer;
  WrpcExport(std::unique_ptr<Subscription> sub, std::shared_ptr<State> state)
      : sub_(std::move(sub)), state_(std::move(state)) {}
  std::unique_ptr<Subscription> sub_;
  std::shared_ptr<State> state_;
};

class WrpcServer {
 public:
  explicit WrpcServer(NatsConnection& nc, WrpcServerOptions opts = {});
  ~WrpcServer();
  WrpcServer(const WrpcServer&) = delete;
  WrpcServer& operator=(const WrpcServer&) = delete;

  // Serves `{prefix}.wrpc.0.0.1.{instance}.{function}` in queue group `prefix`, so servers of the
  // same target id share the invocations.
  Expected<std::unique_ptr<WrpcExport>> serve(std::string_view prefix, std::string_view instance,
                                              std::string_view function, WrpcHandler handler);
  Expected<std::unique_ptr<WrpcExport>> serveStreaming(std::string_view prefix,
                                                       std::string_view instance,
                                                       std::string_view function,
                                                       WrpcStreamingHandler handler);
  struct Pool;

 private:
  // On the delivery thread: the server's channels for an invocation and the handshake.
  static Expected<std::unique_ptr<WrpcChannels>> accept(NatsConnection& nc,
                                                        const WrpcServerOptions& opts,
                                                        const Message& msg);
  // One accepted invocation, on a pool thread: parameters, handler, results.
  static void runInvocation(NatsConnection& nc, const WrpcServerOptions& opts,
                            WrpcExport::State& ex, Message msg, WrpcChannels& channels);
  NatsConnection& nc_;
  WrpcServerOptions opts_;
  std::shared_ptr<Pool> pool_;
};

}  // namespace cumulus::lattice
