// The ctl protocol module (subjects, envelopes, shapes, events) without NATS, and the NATS
// wrapper + host against a real nats-server on a free loopback port.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "host/ctl_server.h"
#include "host/host.h"
#include "host/identity.h"
#include "lattice/ctl.h"
#include "lattice/nats.h"
#include "lattice/nats_server.h"

namespace cumulus {
namespace {

using nlohmann::json;

TEST(Ctl, Subjects) {
  EXPECT_EQ(lattice::ctlSubject("wasmbus.ctl", "default", "host", "ping"), "wasmbus.ctl.v1.default.host.ping");
  EXPECT_EQ(lattice::ctlSubject("wasmbus.ctl", "l", "host", "get", "NABC"), "wasmbus.ctl.v1.l.host.get.NABC");
  EXPECT_EQ(lattice::eventSubject("l", "host_started"), "wasmbus.evt.l.host_started");
  auto op = lattice::parseCtlSubject("wasmbus.ctl.v1.l.host.stop.NABC", "wasmbus.ctl");
  ASSERT_TRUE(op);
  EXPECT_EQ(op->noun, "host");
  EXPECT_EQ(op->verb, "stop");
  EXPECT_EQ(op->name, "NABC");
  EXPECT_FALSE(lattice::parseCtlSubject("other.v1.l.host.ping", "wasmbus.ctl"));
  EXPECT_FALSE(lattice::isSubjectToken("a.b"));
  EXPECT_TRUE(lattice::isSubjectToken("default"));
}

TEST(Ctl, HumanDuration) {
  EXPECT_EQ(lattice::humanDuration(0), "0s");
  EXPECT_EQ(lattice::humanDuration(141), "2m 21s");
  EXPECT_EQ(lattice::humanDuration(86400 + 3600 + 5), "1day 1h 5s");
  EXPECT_EQ(lattice::humanDuration(2 * 86400), "2days");
}

TEST(Ctl, EnvelopesAndEvents) {
  EXPECT_EQ(lattice::ctlAck("ok").dump(), R"({"message":"ok","success":true})");
  EXPECT_FALSE(lattice::ctlError("x").contains("response"));
  auto ev = lattice::cloudEvent("host_stopped", "NABC", {{"labels", json::object()}});
  EXPECT_EQ(ev["specversion"], "1.0");
  EXPECT_EQ(ev["type"], "com.wasmcloud.lattice.host_stopped");
  EXPECT_EQ(ev["source"], "NABC");
  EXPECT_EQ(ev["datacontenttype"], "application/json");
  EXPECT_EQ(ev["id"].get<std::string>().size(), 36u);
  EXPECT_EQ(ev["time"].get<std::string>().back(), 'Z');
}

TEST(Host, LabelsAndSeeds) {
  EXPECT_TRUE(host::parseLabel("a=b").ok());
  EXPECT_FALSE(host::parseLabel("noequals").ok());
  EXPECT_FALSE(host::parseLabel("hostcore.os=x").ok());
  EXPECT_FALSE(host::hostKey("SAAPN4W3EG6KCJGUQTKTJ5GSB5NHK5CHAJL4DBGFUM3HHROI4XUEP4OBK4").ok());
  auto generated = host::hostKey("");
  ASSERT_TRUE(generated.ok());
  EXPECT_EQ(generated->publicKey()[0], 'N');
}

class FakeHandler : public host::CtlHandler {
 public:
  lattice::HostInfo hostInfo() override {
    lattice::HostInfo info;
    info.id = "NH";
    info.lattice = "l";
    return info;
  }
  lattice::HostInventory inventory() override {
    lattice::HostInventory inv;
    inv.host_id = "NH";
    return inv;
  }
  void stopHost(const host::StopHostRequest&) override { stopped = true; }
  bool stopped = false;
};

class NatsFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto s = lattice::NatsServer::start({});
    ASSERT_TRUE(s.ok()) << s.error().message();
    server_ = std::move(*s).release();
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  std::unique_ptr<lattice::NatsConnection> connect() {
    lattice::NatsOptions o;
    o.url = server_->url();
    auto c = lattice::NatsConnection::connect(o);
    EXPECT_TRUE(c.ok()) << c.error().message();
    return c.ok() ? std::move(*c) : nullptr;
  }
  static lattice::NatsServer* server_;
};
lattice::NatsServer* NatsFixture::server_ = nullptr;

TEST_F(NatsFixture, RequestReplyAndQueueGroups) {
  auto conn = connect();
  ASSERT_TRUE(conn);
  std::atomic<int> a{0}, b{0};
  auto s1 = conn->subscribe("work", [&](const lattice::Message& m) {
    ++a;
    (void)conn->publish(m.reply, "one:" + m.data);
  }, "workers");
  auto s2 = conn->subscribe("work", [&](const lattice::Message& m) {
    ++b;
    (void)conn->publish(m.reply, "two:" + m.data);
  }, "workers");
  ASSERT_TRUE(s1.ok() && s2.ok());
  for (int i = 0; i < 10; ++i) {
    auto r = conn->request("work", "x", std::chrono::seconds(2));
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_TRUE(r->data == "one:x" || r->data == "two:x");
  }
  EXPECT_EQ(a + b, 10);  // each request went to exactly one member of the group
  auto none = conn->request("nobody.listens", "", std::chrono::milliseconds(300));
  EXPECT_FALSE(none.ok());
}

TEST_F(NatsFixture, KeyValue) {
  auto conn = connect();
  ASSERT_TRUE(conn);
  auto kv = conn->keyValue("LATTICEDATA_test", /*create=*/true);
  ASSERT_TRUE(kv.ok()) << kv.error().message();
  auto missing = (*kv)->get("COMPONENT_x");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  ASSERT_TRUE((*kv)->put("COMPONENT_x", R"({"url":"a","links":[]})").ok());
  auto got = (*kv)->get("COMPONENT_x");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->value, R"({"url":"a","links":[]})");
  auto watcher = (*kv)->watchAll();
  ASSERT_TRUE(watcher.ok());
  auto first = (*watcher)->next(std::chrono::seconds(2));  // the initial value
  ASSERT_TRUE(first.ok() && first->has_value());
  EXPECT_EQ((*first)->key, "COMPONENT_x");
  auto marker = (*watcher)->next(std::chrono::seconds(2));  // end of initial values
  ASSERT_TRUE(marker.ok());
  EXPECT_FALSE(marker->has_value());
  ASSERT_TRUE((*kv)->del("COMPONENT_x").ok());
  auto change = (*watcher)->next(std::chrono::seconds(2));
  ASSERT_TRUE(change.ok() && change->has_value());
  EXPECT_EQ((*change)->op, lattice::KvEntry::Op::kDelete);
}

TEST_F(NatsFixture, HostAnswersPingInventoryAndStop) {
  host::HostConfig config;
  config.lattice = "gtest";
  config.nats_url = server_->url();
  config.labels["zone"] = "a";
  config.heartbeat_interval = std::chrono::milliseconds(200);
  auto conn = connect();
  ASSERT_TRUE(conn);
  std::mutex mu;
  std::condition_variable cv;
  std::vector<json> events;
  auto evsub = conn->subscribe("wasmbus.evt.gtest.>", [&](const lattice::Message& m) {
    std::lock_guard lock(mu);
    events.push_back(json::parse(m.data));
    cv.notify_all();
  });
  ASSERT_TRUE(evsub.ok());
  ASSERT_TRUE(conn->flush(std::chrono::seconds(2)).ok());
  auto h = host::Host::start(config);
  ASSERT_TRUE(h.ok()) << h.error().message();
  const std::string id = (*h)->id();

  auto replies = conn->scatterGather("wasmbus.ctl.v1.gtest.host.ping", "", std::chrono::milliseconds(500));
  ASSERT_TRUE(replies.ok());
  ASSERT_EQ(replies->size(), 1u);
  auto ping = json::parse((*replies)[0].data);
  EXPECT_EQ(ping["success"], true);
  EXPECT_EQ(ping["response"]["id"], id);
  EXPECT_EQ(ping["response"]["labels"]["zone"], "a");

  auto inv = conn->request("wasmbus.ctl.v1.gtest.host.get." + id, "", std::chrono::seconds(2));
  ASSERT_TRUE(inv.ok());
  auto invj = json::parse(inv->data);
  EXPECT_EQ(invj["response"]["host_id"], id);
  EXPECT_TRUE(invj["response"]["components"].is_array());

  auto bad = conn->request("wasmbus.ctl.v1.gtest.host.stop." + id, "{not json", std::chrono::seconds(2));
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(json::parse(bad->data)["success"], false);
  auto unknown = conn->request("wasmbus.ctl.v1.gtest.host.frobnicate." + id, "", std::chrono::seconds(2));
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(json::parse(unknown->data)["message"], "unsupported subject");

  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] {
      for (const auto& e : events) if (e["type"] == "com.wasmcloud.lattice.host_heartbeat") return true;
      return false;
    }));
  }
  auto stop = conn->request("wasmbus.ctl.v1.gtest.host.stop." + id, "", std::chrono::seconds(2));
  ASSERT_TRUE(stop.ok());
  EXPECT_EQ(json::parse(stop->data)["success"], true);
  EXPECT_TRUE((*h)->waitForStopRequest(std::chrono::seconds(5)));
  (*h)->shutdown();
  std::unique_lock lock(mu);
  EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] {
    return !events.empty() && events.back()["type"] == "com.wasmcloud.lattice.host_stopped";
  }));
  EXPECT_EQ(events.front()["type"], "com.wasmcloud.lattice.host_started");
}

TEST_F(NatsFixture, CtlServerDispatch) {
  FakeHandler handler;
  auto conn = connect();
  ASSERT_TRUE(conn);
  host::CtlServer server(*conn, "wasmbus.ctl", "l", "NH", handler);
  bool stop = false;
  auto reply = [&](const std::string& subject, const std::string& body) {
    auto r = server.dispatch(subject, body, &stop);
    EXPECT_TRUE(r.has_value()) << subject;
    return r.value_or(nlohmann::json::object());
  };
  EXPECT_EQ(reply("wasmbus.ctl.v1.l.host.ping", "")["response"]["id"], "NH");
  EXPECT_EQ(reply("wasmbus.ctl.v1.l.host.stop.NH", "[1]")["success"], false);
  EXPECT_FALSE(stop);
  EXPECT_EQ(reply("wasmbus.ctl.v1.l.host.stop.NH", R"({"host_id":"NX"})")["success"], false);
  EXPECT_EQ(reply("wasmbus.ctl.v1.l.host.stop.NH", R"({"timeout":100})")["success"], true);
  EXPECT_TRUE(stop);
  // Operations the handler does not implement are refused, not dropped.
  EXPECT_EQ(reply("wasmbus.ctl.v1.l.link.get", "")["success"], false);
}

}  // namespace
}  // namespace cumulus
