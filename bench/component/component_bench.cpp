// Component runtime micro-benchmarks (printed, not asserted):
//   component_bench http FILE [N] [--tier T]
//       plans a wasi:http component once, then N times: instantiate it from the plan and call
//       wasi:http/incoming-handler.handle with a GET / (the response goes to a sink that counts
//       bytes): median and p99 per request, and the plan time. --reuse: one instance serves every
//       request (cumulus serve --reuse-instances), to show what instantiation costs.
#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "base/file.h"
#include "component/runtime.h"
#include "wasi/http/server.h"

using namespace cumulus;
using Clock = std::chrono::steady_clock;

namespace {

class CountingSink : public wasi::http::ResponseSink {
 public:
  Expected<void> start(uint16_t s, const wasi::http::FieldList&) override {
    status = s;
    return {};
  }
  wasi::StreamResult write(std::string_view chunk) override {
    bytes += chunk.size();
    return {};
  }
  Expected<void> finish(const wasi::http::FieldList*) override {
    finished = true;
    return {};
  }
  uint16_t status = 0;
  size_t bytes = 0;
  bool finished = false;
};

double us(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  engine::EngineConfig config;
  config.policy = engine::TierPolicy::kOptimized;
  bool reuse = false;
  if (auto it = std::find(args.begin(), args.end(), "--reuse"); it != args.end()) {
    reuse = true;
    args.erase(it);
  }
  for (size_t i = 0; i + 1 < args.size(); ++i)
    if (args[i] == "--tier") {
      std::string t = args[i + 1];
      config.policy = t == "baseline" ? engine::TierPolicy::kBaseline
                      : t == "auto"   ? engine::TierPolicy::kAuto
                                      : engine::TierPolicy::kOptimized;
      args.erase(args.begin() + long(i), args.begin() + long(i) + 2);
      break;
    }
  if (args.size() < 2 || args[0] != "http") {
    fmt::print(stderr, "usage: component_bench http FILE [N] [--tier baseline|optimized] [--reuse]\n");
    return 2;
  }
  size_t n = args.size() > 2 ? std::stoul(args[2]) : 2000;
  engine::Engine engine(config);
  auto bytes = readFile(args[1]);
  if (!bytes.ok()) {
    fmt::print(stderr, "{}\n", bytes.error().message());
    return 1;
  }
  component::Linker linker;
  auto types = wasi::http::addWasiHttp(linker);
  auto t0 = Clock::now();
  auto plan = component::ComponentPlan::create(engine, *bytes, linker);
  if (!plan.ok()) {
    fmt::print(stderr, "{}\n", plan.error().message());
    return 1;
  }
  auto t1 = Clock::now();
  wasi::http::ServiceOptions so;
  so.pool_size = reuse ? 1 : 0;  // 0: every request instantiates from the plan
  so.reuse_instances = reuse;
  so.name = args[1];
  auto service = wasi::http::ComponentService::create(*plan, types, so);
  if (!service.ok()) {
    fmt::print(stderr, "{}\n", service.error().message());
    return 1;
  }
  wasi::http::RequestHead head;
  head.method = "GET";
  head.target = "/";
  head.authority = "localhost";
  std::vector<double> times;
  times.reserve(n);
  for (size_t i = 0; i < n + 50; ++i) {  // 50 warm-up iterations
    CountingSink sink;
    auto s = Clock::now();
    auto r = (*service)->handle(head, nullptr, sink);
    auto e = Clock::now();
    if (!r.ok() || sink.status != 200 || !sink.finished) {
      fmt::print(stderr, "request {} failed: {}\n", i, r.ok() ? "bad response" : r.error().message());
      return 1;
    }
    if (i >= 50) times.push_back(us(e - s));
  }
  std::sort(times.begin(), times.end());
  fmt::print("plan_ms={:.1f}\nrequests={}\ninstantiate_and_handle_median_us={:.1f}\n"
             "instantiate_and_handle_p99_us={:.1f}\n",
             std::chrono::duration<double, std::milli>(t1 - t0).count(), n, times[n / 2],
             times[n * 99 / 100]);
  return 0;
}
