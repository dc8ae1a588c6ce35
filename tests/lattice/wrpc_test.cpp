// wRPC over NATS against real nats-servers on free loopback ports: message headers and status
// messages in the NATS wrapper, the invocation handshake, chunking beyond max_payload (a second
// server runs with max_payload 1024), "no responders", timeouts, queue-group load balancing,
// failing handlers, async paths, and handlers running off the delivery thread.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "lattice/nats.h"
#include "lattice/nats_server.h"
#include "lattice/wrpc.h"
#include "lattice/wrpc_codec.h"

namespace cumulus::lattice {
namespace {

using namespace std::chrono_literals;
using component::Val;

constexpr int64_t kSmallPayload = 1024;
constexpr std::string_view kStore = "wrpc:keyvalue/store@0.2.0-draft";

class WrpcFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto s = NatsServer::start({});
    ASSERT_TRUE(s.ok()) << s.error().message();
    server_ = std::move(*s).release();
    config_ = std::filesystem::temp_directory_path() /
              ("cumulus-wrpc-test-" + std::to_string(::getpid()) + ".conf");
    std::ofstream(config_) << "max_payload: " << kSmallPayload << "\n";
    NatsServerOptions small;
    small.extra_args = {"-c", config_.string()};
    auto t = NatsServer::start(small);
    ASSERT_TRUE(t.ok()) << t.error().message();
    small_ = std::move(*t).release();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete small_;
    server_ = small_ = nullptr;
    std::filesystem::remove(config_);
  }
  static std::unique_ptr<NatsConnection> connect(NatsServer* server = nullptr) {
    NatsOptions o;
    o.url = (server ? server : server_)->url();
    auto c = NatsConnection::connect(o);
    EXPECT_TRUE(c.ok()) << c.error().message();
    return c.ok() ? std::move(*c) : nullptr;
  }
  static NatsServer* server_;
  static NatsServer* small_;
  static std::filesystem::path config_;
};
NatsServer* WrpcFixture::server_ = nullptr;
NatsServer* WrpcFixture::small_ = nullptr;
std::filesystem::path WrpcFixture::config_;

using K = component::CType::Kind;

std::shared_ptr<component::CType> typeOf(K kind, std::vector<component::CTypePtr> elems) {
  auto t = std::make_shared<component::CType>();
  t->kind = kind;
  t->elems = std::move(elems);
  return t;
}

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7 + i / 251) & 0xff);
  return s;
}

TEST_F(WrpcFixture, NatsHeadersStatusAndMaxPayload) {
  auto conn = connect();
  ASSERT_TRUE(conn);
  EXPECT_EQ(conn->maxPayload(), 1024 * 1024);  // nats-server's default
  auto small = connect(small_);
  ASSERT_TRUE(small);
  EXPECT_EQ(small->maxPayload(), kSmallPayload);

  auto sub = conn->subscribeSync("hdr.test");
  ASSERT_TRUE(sub.ok());
  Headers h = {{"source-id", "counter"}, {"link-name", "default"}, {"multi", "1"}, {"multi", "2"}};
  ASSERT_TRUE(conn->publishMsg("hdr.test", "reply.here", "body", h).ok());
  auto m = (*sub)->next(2s);
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_EQ(m->data, "body");
  EXPECT_EQ(m->reply, "reply.here");
  EXPECT_EQ(m->status, 0);
  std::sort(h.begin(), h.end());
  std::sort(m->headers.begin(), m->headers.end());
  EXPECT_EQ(m->headers, h);
  // Without headers, publishMsg is a plain publish.
  ASSERT_TRUE(conn->publishMsg("hdr.test", "", "plain", {}).ok());
  auto p = (*sub)->next(2s);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->headers.empty());
  EXPECT_TRUE(p->reply.empty());
  auto timeout = (*sub)->next(50ms);
  ASSERT_FALSE(timeout.ok());
  EXPECT_EQ(timeout.error().code(), ErrorCode::kResourceLimit);

  // A request nobody listens to: the server's 503 status, on a sync and on a callback subscription.
  auto inbox = NatsConnection::newInbox();
  ASSERT_TRUE(inbox.ok());
  auto reply_sub = conn->subscribeSync(*inbox);
  ASSERT_TRUE(reply_sub.ok());
  ASSERT_TRUE(conn->publishRequest("nobody.listens.here", *inbox, "x").ok());
  auto status = (*reply_sub)->next(2s);
  ASSERT_TRUE(status.ok()) << status.error().message();
  EXPECT_EQ(status->status, 503);
  std::mutex mu;
  std::condition_variable cv;
  int async_status = -1;
  auto inbox2 = NatsConnection::newInbox();
  auto cb = conn->subscribe(*inbox2, [&](const Message& msg) {
    std::lock_guard lock(mu);
    async_status = msg.status;
    cv.notify_all();
  });
  ASSERT_TRUE(cb.ok());
  ASSERT_TRUE(conn->publishRequest("nobody.listens.here", *inbox2, "x").ok());
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, 2s, [&] { return async_status != -1; }));
  EXPECT_EQ(async_status, 503);
}

TEST_F(WrpcFixture, RoundTripWithHeadersOnTheDocumentedSubject) {
  auto server_conn = connect();
  auto client_conn = connect();
  ASSERT_TRUE(server_conn && client_conn);
  // A spy outside the queue group sees the invocation as it is on the wire.
  auto spy = client_conn->subscribeSync("default.kv.wrpc.>");
  ASSERT_TRUE(spy.ok());
  WrpcServer server(*server_conn);
  std::mutex mu;
  Headers seen;
  auto exp = server.serve("default.kv", kStore, "get",
                          [&](std::string_view params, const Headers& h) -> Expected<std::string> {
                            std::lock_guard lock(mu);
                            seen = h;
                            if (params != std::string_view("\x01"
                                                           "b"
                                                           "\x01"
                                                           "k",
                                                           4))
                              return Error(ErrorCode::kInvalidArgument, "unexpected params");
                            return std::string("\x00\x01\x02hi", 5);
                          });
  ASSERT_TRUE(exp.ok()) << exp.error().message();
  EXPECT_EQ((*exp)->subject(), "default.kv.wrpc.0.0.1.wrpc:keyvalue/store@0.2.0-draft.get");
  ASSERT_TRUE(server_conn->flush(2s).ok());

  WrpcClient client(*client_conn);
  Headers headers = {{"source-id", "counter"}, {"link-name", "default"}};
  auto out = client.invoke("default.kv", kStore, "get",
                           std::string("\x01"
                                       "b"
                                       "\x01"
                                       "k",
                                       4),
                           headers, 5s);
  ASSERT_TRUE(out.ok()) << out.error().message();
  EXPECT_EQ(*out, std::string("\x00\x01\x02hi", 5));
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(seen, headers);
  }
  auto wire = (*spy)->next(2s);
  ASSERT_TRUE(wire.ok());
  EXPECT_EQ(wire->subject, "default.kv.wrpc.0.0.1.wrpc:keyvalue/store@0.2.0-draft.get");
  EXPECT_TRUE(wire->reply.starts_with("_INBOX."));
  EXPECT_EQ(wire->headers, headers);

  // The typed form: values in, values out.
  // get: func(bucket: string, key: string) -> result<option<list<u8>>, string>
  auto str = typeOf(K::kPrim, {});
  str->prim = component::Prim::kString;
  auto u8 = typeOf(K::kPrim, {});
  u8->prim = component::Prim::kU8;
  auto res = typeOf(K::kResult, {typeOf(K::kOption, {typeOf(K::kList, {u8})}), str});
  component::CType func;
  func.kind = K::kFunc;
  func.fields = {{"bucket", str}, {"key", str}};
  func.result = res;
  std::vector<Val> params = {Val::string("b"), Val::string("k")};
  auto values = client.call("default.kv", kStore, "get", func, params, headers, 5s);
  ASSERT_TRUE(values.ok()) << values.error().message();
  ASSERT_EQ(values->size(), 1u);
  EXPECT_EQ((*values)[0], Val::ok(Val::some(Val::bytes("hi"))));
}

TEST_F(WrpcFixture, PayloadsBeyondMaxPayloadAreChunkedBothWays) {
  auto server_conn = connect(small_);
  auto client_conn = connect(small_);
  ASSERT_TRUE(server_conn && client_conn);
  auto spy = client_conn->subscribeSync("_INBOX.>");
  ASSERT_TRUE(spy.ok());
  WrpcServer server(*server_conn);
  std::atomic<size_t> got{0};
  auto exp =
      server.serve("big.echo", "", "reverse",
                   [&](std::string_view params, const Headers&) -> Expected<std::string> {
                     got = params.size();
                     if (params != pattern(10000))
                       return Error(ErrorCode::kInvalidArgument, "params corrupted");
                     return std::string(params.rbegin(), params.rend()) + std::string(5000, 'r');
                   });
  ASSERT_TRUE(exp.ok());
  EXPECT_EQ((*exp)->subject(), "big.echo.wrpc.0.0.1.reverse");  // no instance token
  ASSERT_TRUE(server_conn->flush(2s).ok());
  WrpcClient client(*client_conn);
  // Headers take room from the first message: without counting them the publish would fail.
  Headers headers = {{"source-id", std::string(200, 's')}};
  std::string params = pattern(10000);
  auto out = client.invoke("big.echo", "", "reverse", params, headers, 5s);
  ASSERT_TRUE(out.ok()) << out.error().message();
  EXPECT_EQ(got.load(), 10000u);
  EXPECT_EQ(*out, std::string(params.rbegin(), params.rend()) + std::string(5000, 'r'));
  // Every message on the inboxes stayed within max_payload, and both directions took several.
  size_t params_msgs = 0, result_msgs = 0;
  for (;;) {
    auto m = (*spy)->next(200ms);
    if (!m.ok()) break;
    EXPECT_LE(static_cast<int64_t>(m->data.size()), kSmallPayload);
    if (m->subject.ends_with(".params") && !m->data.empty()) ++params_msgs;
    if (m->subject.ends_with(".results") && !m->data.empty()) ++result_msgs;
  }
  EXPECT_GE(params_msgs, 9u);   // 10000 bytes minus the first message, in <= 1024-byte chunks
  EXPECT_GE(result_msgs, 15u);  // 15000 bytes
}

TEST_F(WrpcFixture, NoServerFailsFastWithNotConnected) {
  auto conn = connect();
  ASSERT_TRUE(conn);
  WrpcClient client(*conn);
  auto t0 = std::chrono::steady_clock::now();
  auto out = client.invoke("default.nobody", kStore, "get", "\x01x\x01y", {}, 5s);
  auto elapsed = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(
      out.error().message().find("not connected: no responders for "
                                 "default.nobody.wrpc.0.0.1.wrpc:keyvalue/store@0.2.0-draft.get"),
      std::string::npos)
      << out.error().message();
  EXPECT_LT(elapsed, 2s);
}

TEST_F(WrpcFixture, HandlerThatNeverAnswersTimesOut) {
  auto server_conn = connect();
  auto client_conn = connect();
  ASSERT_TRUE(server_conn && client_conn);
  WrpcServer server(*server_conn);
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  auto exp = server.serve("default.slow", "", "hang",
                          [&](std::string_view, const Headers&) -> Expected<std::string> {
                            std::unique_lock lock(mu);
                            cv.wait_for(lock, 10s, [&] { return release; });
                            return std::string("late");
                          });
  ASSERT_TRUE(exp.ok());
  ASSERT_TRUE(server_conn->flush(2s).ok());
  WrpcClient client(*client_conn);
  auto t0 = std::chrono::steady_clock::now();
  auto out = client.invoke("default.slow", "", "hang", "p", {}, 300ms);
  auto elapsed = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code(), ErrorCode::kResourceLimit);
  EXPECT_NE(out.error().message().find("default.slow.wrpc.0.0.1.hang"), std::string::npos)
      << out.error().message();
  EXPECT_GE(elapsed, 250ms);
  EXPECT_LT(elapsed, 3s);
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
}

TEST_F(WrpcFixture, QueueGroupLoadBalancesAcrossServers) {
  auto conn_a = connect();
  auto conn_b = connect();
  auto client_conn = connect();
  ASSERT_TRUE(conn_a && conn_b && client_conn);
  WrpcServer a(*conn_a), b(*conn_b);
  std::atomic<int> count_a{0}, count_b{0};
  auto ea = a.serve("default.lb", "custom:foo/bar@0.1.0", "f",
                    [&](std::string_view p, const Headers&) -> Expected<std::string> {
                      ++count_a;
                      return std::string("a") + std::string(p);
                    });
  auto eb = b.serve("default.lb", "custom:foo/bar@0.1.0", "f",
                    [&](std::string_view p, const Headers&) -> Expected<std::string> {
                      ++count_b;
                      return std::string("b") + std::string(p);
                    });
  ASSERT_TRUE(ea.ok() && eb.ok());
  ASSERT_TRUE(conn_a->flush(2s).ok() && conn_b->flush(2s).ok());
  WrpcClient client(*client_conn);
  for (int i = 0; i < 40; ++i) {
    auto out = client.invoke("default.lb", "custom:foo/bar@0.1.0", "f", "x", {}, 5s);
    ASSERT_TRUE(out.ok()) << out.error().message();
    EXPECT_TRUE(*out == "ax" || *out == "bx");
  }
  EXPECT_EQ(count_a + count_b, 40);  // each call reached exactly one server
  EXPECT_GT(count_a.load(), 0);
  EXPECT_GT(count_b.load(), 0);
}

// A queue-group member that takes invocations and never answers (a host killed before NATS
// noticed): calls routed to it are invoked again after the handshake timeout, reach the live
// server, and run exactly once.
TEST_F(WrpcFixture, InvocationsLostToADeadMemberAreRetried) {
  auto dead_conn = connect();
  auto live_conn = connect();
  auto client_conn = connect();
  ASSERT_TRUE(dead_conn && live_conn && client_conn);
  std::atomic<int> swallowed{0}, served{0};
  auto hole = dead_conn->subscribe(wrpcSubject("default.retry", "", "f"),
                                   [&](const Message&) { ++swallowed; }, "default.retry");
  ASSERT_TRUE(hole.ok());
  WrpcServer live(*live_conn);
  auto ex = live.serve("default.retry", "", "f", [&](std::string_view p, const Headers&) -> Expected<std::string> {
    ++served;
    return std::string(p);
  });
  ASSERT_TRUE(ex.ok());
  ASSERT_TRUE(dead_conn->flush(2s).ok() && live_conn->flush(2s).ok());
  WrpcClientOptions opts;
  opts.handshake_timeout = 100ms;
  WrpcClient client(*client_conn, opts);
  for (int i = 0; i < 20; ++i) {
    auto out = client.invoke("default.retry", "", "f", "x", {}, 5s);
    ASSERT_TRUE(out.ok()) << out.error().message();
    EXPECT_EQ(*out, "x");
  }
  EXPECT_EQ(served.load(), 20);      // every call ran once, on the live server
  EXPECT_GT(swallowed.load(), 0);    // and some first went to the dead member
}

TEST_F(WrpcFixture, HandlerErrorEndsResultsInsteadOfHanging) {
  auto server_conn = connect();
  auto client_conn = connect();
  ASSERT_TRUE(server_conn && client_conn);
  WrpcServer server(*server_conn);
  auto exp = server.serve("default.fail", "", "boom",
                          [](std::string_view, const Headers&) -> Expected<std::string> {
                            return Error(ErrorCode::kTrap, "guest trapped");
                          });
  auto thrower = server.serve("default.fail", "", "throw",
                              [](std::string_view, const Headers&) -> Expected<std::string> {
                                throw std::runtime_error("handler bug");
                              });
  ASSERT_TRUE(exp.ok() && thrower.ok());
  ASSERT_TRUE(server_conn->flush(2s).ok());
  WrpcClient client(*client_conn);
  auto t0 = std::chrono::steady_clock::now();
  auto raw = client.invoke("default.fail", "", "boom", "", {}, 5s);
  ASSERT_TRUE(raw.ok()) << raw.error().message();
  EXPECT_TRUE(raw->empty());  // the channel ended without a value
  auto thrown = client.invoke("default.fail", "", "throw", "", {}, 5s);
  ASSERT_TRUE(thrown.ok()) << thrown.error().message();
  EXPECT_TRUE(thrown->empty());
  // Typed: the decoder reports incomplete results.
  auto u32 = typeOf(K::kPrim, {});
  u32->prim = component::Prim::kU32;
  component::CType func;
  func.kind = K::kFunc;
  func.result = u32;
  auto typed = client.call("default.fail", "", "boom", func, {}, {}, 5s);
  ASSERT_FALSE(typed.ok());
  EXPECT_NE(typed.error().message().find("incomplete"), std::string::npos)
      << typed.error().message();
  EXPECT_NE(typed.error().message().find("default.fail.wrpc.0.0.1.boom"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

TEST_F(WrpcFixture, SlowHandlerDoesNotBlockOtherInvocations) {
  auto server_conn = connect();
  auto client_conn = connect();
  ASSERT_TRUE(server_conn && client_conn);
  WrpcServer server(*server_conn);
  // Same export, so the same libnats delivery thread: only a worker pool keeps them apart.
  auto exp = server.serve("default.mixed", "", "f",
                          [](std::string_view p, const Headers&) -> Expected<std::string> {
                            if (p == "slow") std::this_thread::sleep_for(800ms);
                            return std::string(p);
                          });
  ASSERT_TRUE(exp.ok());
  ASSERT_TRUE(server_conn->flush(2s).ok());
  WrpcClient client(*client_conn);
  std::thread slow([&] {
    auto out = client.invoke("default.mixed", "", "f", "slow", {}, 5s);
    EXPECT_TRUE(out.ok() && *out == "slow");
  });
  std::this_thread::sleep_for(100ms);
  auto t0 = std::chrono::steady_clock::now();
  auto fast = client.invoke("default.mixed", "", "f", "fast", {}, 5s);
  auto elapsed = std::chrono::steady_clock::now() - t0;
  slow.join();
  ASSERT_TRUE(fast.ok()) << fast.error().message();
  EXPECT_EQ(*fast, "fast");
  EXPECT_LT(elapsed, 500ms);
}

TEST_F(WrpcFixture, AsyncParameterAndResultPaths) {
  auto server_conn = connect(small_);
  auto client_conn = connect(small_);
  ASSERT_TRUE(server_conn && client_conn);
  WrpcServer server(*server_conn);
  // Upper-cases a stream<u8> parameter at path 0 into a stream<u8> result at path 0, reading and
  // writing chunks (count + bytes, an empty chunk at the end) as they come.
  auto exp = server.serveStreaming(
      "default.up", "", "upper", [](WrpcInvocation& inv) -> Expected<std::string> {
        if (inv.params() != std::string(1, '\0'))
          return Error(ErrorCode::kInvalidArgument, "want pending");
        std::string buf;
        for (;;) {
          CUMULUS_TRY(auto msg, inv.nextParam("0", 5s));
          if (!msg) break;
          buf += *msg;
        }
        std::string upper;
        size_t used = 0;
        std::string_view rest = buf;
        auto u8 = typeOf(K::kPrim, {});
        u8->prim = component::Prim::kU8;
        for (;;) {
          CUMULUS_TRY(auto chunk, wrpc::decodeStreamChunk(*u8, rest, used));
          if (!chunk) return Error(ErrorCode::kInvalidArgument, "stream cut short");
          rest.remove_prefix(used);
          if (chunk->asBytes().empty()) break;
          for (char c : chunk->asBytes()) upper += static_cast<char>(std::toupper(c));
        }
        CUMULUS_TRY_VOID(inv.writeResult("0", wrpc::encodeByteChunk(upper) + wrpc::streamEnd()));
        CUMULUS_TRY_VOID(inv.endResult("0"));
        return std::string(1, '\0');  // result: the stream, pending
      });
  ASSERT_TRUE(exp.ok());
  ASSERT_TRUE(server_conn->flush(2s).ok());
  WrpcClient client(*client_conn);
  auto call = client.start("default.up", "", "upper", std::string(1, '\0'), {}, 5s);
  ASSERT_TRUE(call.ok()) << call.error().message();
  std::string body(3000, 'a');  // beyond max_payload: several messages on the path
  ASSERT_TRUE((*call)->writeParam("0", wrpc::encodeByteChunk(body.substr(0, 1000))).ok());
  ASSERT_TRUE(
      (*call)->writeParam("0", wrpc::encodeByteChunk(body.substr(1000)) + wrpc::streamEnd()).ok());
  ASSERT_TRUE((*call)->endParam("0").ok());
  auto results = (*call)->results();
  ASSERT_TRUE(results.ok()) << results.error().message();
  EXPECT_EQ(*results, std::string(1, '\0'));
  std::string streamed;
  for (;;) {
    auto msg = (*call)->nextResult("0", 5s);
    ASSERT_TRUE(msg.ok()) << msg.error().message();
    if (!*msg) break;
    streamed += **msg;
  }
  EXPECT_EQ(streamed, wrpc::encodeByteChunk(std::string(3000, 'A')) + wrpc::streamEnd());
  auto after = (*call)->nextResult("0", 50ms);  // an ended path stays ended
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->has_value());
}

TEST_F(WrpcFixture, DestroyingAnExportWaitsForRunningInvocations) {
  auto server_conn = connect();
  auto client_conn = connect();
  ASSERT_TRUE(server_conn && client_conn);
  WrpcServer server(*server_conn);
  std::atomic<bool> running{false}, finished{false};
  auto exp = server.serve("default.drain", "", "f",
                          [&](std::string_view, const Headers&) -> Expected<std::string> {
                            running = true;
                            std::this_thread::sleep_for(300ms);
                            finished = true;
                            return std::string("done");
                          });
  ASSERT_TRUE(exp.ok());
  ASSERT_TRUE(server_conn->flush(2s).ok());
  WrpcClient client(*client_conn);
  std::thread caller([&] { (void)client.invoke("default.drain", "", "f", "", {}, 5s); });
  while (!running) std::this_thread::sleep_for(5ms);
  exp->reset();
  EXPECT_TRUE(finished.load());
  caller.join();
  auto gone = client.invoke("default.drain", "", "f", "", {}, 2s);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace cumulus::lattice
