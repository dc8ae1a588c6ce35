// Engine micro-benchmarks (printed, not asserted):
//   engine_bench startup FILE [--tier T]        bytes -> compiled -> instantiated -> first call
//   engine_bench instantiate FILE EXPORT [N] [--tier T]
//                                               instantiate + call EXPORT + drop, N times:
//                                               median and p99 per iteration
// Imports are satisfied with stubs (functions return zeros; memories/tables/globals are host
// objects), which is enough to instantiate and call exports that do not reach the host.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "base/file.h"
#include "engine/instance.h"

using namespace cumulus;
using namespace cumulus::engine;
using Clock = std::chrono::steady_clock;

static double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

static std::vector<Value> zeroArgs(const FuncType& ft) {
  std::vector<Value> args;
  for (auto t : ft.params) {
    Value v;
    v.type = t;
    args.push_back(v);
  }
  return args;
}

static TierPolicy parseTier(const std::string& s) {
  if (s == "optimized") return TierPolicy::kOptimized;
  if (s == "interpreter") return TierPolicy::kInterpreter;
  if (s == "auto") return TierPolicy::kAuto;
  return TierPolicy::kBaseline;
}

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string tier = "baseline";
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--tier") {
      tier = args[i + 1];
      args.erase(args.begin() + long(i), args.begin() + long(i) + 2);
      break;
    }
  }
  if (args.size() < 2) {
    fmt::print(stderr, "usage: engine_bench startup|instantiate FILE [EXPORT] [N] [--tier T]\n");
    return 2;
  }
  EngineConfig config;
  config.policy = parseTier(tier);
  Engine engine(config);
  auto t0 = Clock::now();
  auto bytes = readFile(args[1]);
  if (!bytes.ok()) return fmt::print(stderr, "{}\n", bytes.error().message()), 1;
  auto module = engine.compile(*bytes);
  if (!module.ok()) return fmt::print(stderr, "{}\n", module.error().message()), 1;
  auto t1 = Clock::now();
  auto imports = makeStubImports(**module);
  if (!imports.ok()) return fmt::print(stderr, "{}\n", imports.error().message()), 1;

  if (args[0] == "startup") {
    auto inst = Instance::create(engine, *module, *imports);
    if (!inst.ok()) return fmt::print(stderr, "{}\n", inst.error().message()), 1;
    auto t2 = Clock::now();
    // First call: cabi_realloc(0, 0, 8, 64) when present (every component core module has it).
    std::string name = args.size() > 2 ? args[2] : "cabi_realloc";
    std::vector<Value> call_args = {Value::i32(0), Value::i32(0), Value::i32(8), Value::i32(64)};
    auto idx = (*inst)->exportIndex(name);
    if (!idx) return fmt::print(stderr, "no export {}\n", name), 1;
    if (name != "cabi_realloc") call_args = zeroArgs((*module)->info().exports[*idx].type.func);
    auto r = (*inst)->call(name, call_args);
    auto t3 = Clock::now();
    fmt::print(
        "file={} size_mb={:.1f} tier={} compile_ms={:.0f} instantiate_ms={:.1f} "
        "first_call_ms={:.2f} total_ms={:.0f} call={}\n",
        args[1], double(bytes->size()) / 1e6, tierName((*module)->tier()), ms(t1 - t0), ms(t2 - t1),
        ms(t3 - t2), ms(t3 - t0), r.ok() ? "ok" : r.error().message());
    return r.ok() ? 0 : 1;
  }
  if (args[0] == "instantiate" && args.size() >= 3) {
    int n = args.size() > 3 ? std::stoi(args[3]) : 10000;
    auto idx = (*module)->info().exports.size();
    (void)idx;
    std::vector<double> us;
    us.reserve(size_t(n));
    const FuncType* ft = nullptr;
    for (const auto& ex : (*module)->info().exports)
      if (ex.name == args[2]) ft = &ex.type.func;
    if (!ft) return fmt::print(stderr, "no export {}\n", args[2]), 1;
    auto call_args = zeroArgs(*ft);
    if (args[2] == "cabi_realloc")  // a real allocation: realloc(NULL, 0, align 8, 64 bytes)
      call_args = {Value::i32(0), Value::i32(0), Value::i32(8), Value::i32(64)};
    for (int i = 0; i < n + n / 10; ++i) {
      auto s = Clock::now();
      auto inst = Instance::create(engine, *module, *imports);
      if (!inst.ok()) return fmt::print(stderr, "{}\n", inst.error().message()), 1;
      auto r = (*inst)->call(args[2], call_args);
      if (!r.ok()) return fmt::print(stderr, "{}\n", r.error().message()), 1;
      inst->reset();
      auto e = Clock::now();
      if (i >= n / 10)
        us.push_back(std::chrono::duration<double, std::micro>(e - s).count());  // skip warm-up
    }
    std::sort(us.begin(), us.end());
    fmt::print("file={} tier={} iterations={} median_us={:.2f} p99_us={:.2f}\n", args[1],
               tierName((*module)->tier()), n, us[us.size() / 2], us[us.size() * 99 / 100]);
    return 0;
  }
  fmt::print(stderr, "unknown mode {}\n", args[0]);
  return 2;
}
