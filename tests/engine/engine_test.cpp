// Engine tests: traps, host functions, limits, interruption, threads, tiers and the code cache.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "engine/instance.h"
#include "engine/rt/runtime.h"
#include "engine/translate.h"
#include "support/wat.h"

namespace cumulus::engine {
namespace {

using test::wat;
using namespace std::chrono_literals;

class EngineTest : public ::testing::TestWithParam<TierPolicy> {
 protected:
  void SetUp() override {
    cache_ =
        std::filesystem::temp_directory_path() / fmt::format("cumulus-test-cache-{}", getpid());
    EngineConfig config;
    config.policy = GetParam();
    config.native.cache_dir = cache_;
    engine_ = std::make_unique<Engine>(config);
  }
  void TearDown() override {
    engine_.reset();
    std::filesystem::remove_all(cache_);
  }
  std::shared_ptr<Instance> instantiate(const std::string& text, std::vector<Extern> imports = {},
                                        InstanceOptions options = {}) {
    auto m = engine_->compile(wat(text));
    EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().message());
    if (!m.ok()) return nullptr;
    auto i = Instance::create(*engine_, *m, std::move(imports), options);
    EXPECT_TRUE(i.ok()) << (i.ok() ? "" : i.error().message());
    return i.ok() ? *i : nullptr;
  }
  std::filesystem::path cache_;
  std::unique_ptr<Engine> engine_;
};

const char* kTraps = R"((module
  (type $ii (func (param i32) (result i32)))
  (table 3 funcref)
  (elem (i32.const 0) $id)
  (memory 1)
  (func $id (param i32) (result i32) local.get 0)
  (func $boom (export "unreachable") unreachable)
  (func (export "oob") (result i32) i32.const 70000 i32.load)
  (func (export "div0") (param i32) (result i32) i32.const 1 local.get 0 i32.div_s)
  (func (export "overflow") (result i32) i32.const 0x80000000 i32.const -1 i32.div_s)
  (func (export "conv") (param f32) (result i32) local.get 0 i32.trunc_f32_s)
  (func (export "indirect") (param i32) (result i64) local.get 0 call_indirect (result i64))
  (func (export "call") (param i32) (result i32) i32.const 7 local.get 0 call_indirect (type $ii))
  (func $rec (export "recurse") (param i32) (result i32) local.get 0 i32.const 1 i32.add call $rec)
  (func (export "ok") (result i32) i32.const 42)
))";

int trapOf(Instance& inst, const char* name, std::vector<Value> args = {}) {
  CallOptions options;  // a regression (e.g. recursion compiled into a loop) fails, not hangs
  options.deadline = std::chrono::steady_clock::now() + 10s;
  auto r = inst.call(name, args, options);
  if (r.ok()) return -1;
  EXPECT_EQ(r.error().code(), ErrorCode::kTrap) << r.error().message();
  return r.error().detail();
}

TEST_P(EngineTest, TrapsAreTypedAndTheInstanceStaysUsable) {
  auto inst = instantiate(kTraps);
  ASSERT_TRUE(inst);
  EXPECT_EQ(trapOf(*inst, "unreachable"), WASM_RT_TRAP_UNREACHABLE);
  EXPECT_EQ(trapOf(*inst, "oob"), WASM_RT_TRAP_OOB);
  EXPECT_EQ(trapOf(*inst, "div0", {Value::i32(0)}), WASM_RT_TRAP_DIV_BY_ZERO);
  EXPECT_EQ(trapOf(*inst, "overflow"), WASM_RT_TRAP_INT_OVERFLOW);
  EXPECT_EQ(trapOf(*inst, "conv", {Value::f32(NAN)}), WASM_RT_TRAP_INVALID_CONVERSION);
  EXPECT_EQ(trapOf(*inst, "indirect", {Value::i32(0)}), CUMULUS_TRAP_INDIRECT_TYPE);
  EXPECT_EQ(trapOf(*inst, "indirect", {Value::i32(1)}), CUMULUS_TRAP_NULL_REF);
  EXPECT_EQ(trapOf(*inst, "indirect", {Value::i32(9)}), WASM_RT_TRAP_CALL_INDIRECT);
  EXPECT_EQ(trapOf(*inst, "recurse", {Value::i32(0)}), WASM_RT_TRAP_EXHAUSTION);
  auto ok = inst->call("ok", {});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)[0].cell.i32, 42u);
  auto call = inst->call("call", {Value::i32(0)});
  ASSERT_TRUE(call.ok());
  EXPECT_EQ((*call)[0].cell.i32, 7u);
}

TEST_P(EngineTest, TrapMessageNamesTheFunction) {
  if (GetParam() == TierPolicy::kInterpreter) GTEST_SKIP() << "wabt::interp reports no function";
  auto inst = instantiate(kTraps);
  auto r = inst->call("unreachable", {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("unreachable executed"), std::string::npos)
      << r.error().message();
  EXPECT_NE(r.error().message().find("boom"), std::string::npos) << r.error().message();
}

TEST_P(EngineTest, HostFunctionsSeeMemoryAndCanTrap) {
  auto fn = std::make_shared<HostFunc>();
  fn->type = {{ValType::kI32, ValType::kI32}, {ValType::kI32}};
  fn->callback = [](Caller& caller, Cell* c) -> Expected<void> {
    wasm_rt_memory_t* mem = caller.memory();
    if (!mem) return makeError(ErrorCode::kInternal, "no memory");
    uint32_t sum = 0;
    for (uint32_t i = 0; i < c[1].i32; ++i) sum += mem->data[c[0].i32 + i];
    if (sum == 0) throw std::runtime_error("empty");
    if (sum == 1) return makeError(ErrorCode::kInvalidArgument, "sum is one");
    c[0].i32 = sum;
    return {};
  };
  auto inst = instantiate(R"((module
    (import "host" "sum" (func $sum (param i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 16) "\01\02\03\04")
    (func (export "run") (param i32 i32) (result i32) local.get 0 local.get 1 call $sum)))",
                          {makeHostFunc(fn)});
  ASSERT_TRUE(inst);
  auto r = inst->call("run", {Value::i32(16), Value::i32(4)});
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ((*r)[0].cell.i32, 10u);
  auto thrown = inst->call("run", {Value::i32(100), Value::i32(4)});
  ASSERT_FALSE(thrown.ok());
  EXPECT_NE(thrown.error().message().find("empty"), std::string::npos) << thrown.error().message();
  auto failed = inst->call("run", {Value::i32(16), Value::i32(1)});
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message().find("sum is one"), std::string::npos)
      << failed.error().message();
  EXPECT_TRUE(inst->call("run", {Value::i32(17), Value::i32(2)}).ok());
}

TEST_P(EngineTest, MemoryLimitStopsGrowth) {
  InstanceOptions options;
  options.memory_limit_bytes = 4 * 65536;
  auto inst = instantiate(R"((module (memory 2)
    (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)))",
                          {}, options);
  if (GetParam() == TierPolicy::kInterpreter) GTEST_SKIP() << "limits apply to the native tiers";
  ASSERT_TRUE(inst);
  auto r = inst->call("grow", {Value::i32(3)});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].cell.i32, UINT32_MAX);
  r = inst->call("grow", {Value::i32(2)});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].cell.i32, 2u);
  auto m = engine_->compile(wat("(module (memory 8))"));
  ASSERT_TRUE(m.ok());
  auto big = Instance::create(*engine_, *m, {}, options);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().message().find("memory limit"), std::string::npos) << big.error().message();
}

// Linear memories are recycled (their reservations keep the read-write prefix): a new instance
// must still see zeroed memory of exactly its size, with out-of-bounds accesses trapping, whether
// it is smaller or larger than the one before.
TEST_P(EngineTest, RecycledMemoryIsZeroAndBoundedBySize) {
  if (GetParam() == TierPolicy::kInterpreter) GTEST_SKIP() << "the interpreter has its own memory";
  const char* text = R"((module (memory (export "m") %d)
    (func (export "peek") (param i32) (result i32) local.get 0 i32.load)
    (func (export "poke") (param i32 i32) local.get 0 local.get 1 i32.store)))";
  char buf[512];
  InstanceOptions options;
  for (int round = 0; round < 6; ++round) {
    options.track_memory_pages = round % 2 == 1;  // alternate, so reservations change mode
    for (int pages : {3, 1, 2, 4}) {
      std::snprintf(buf, sizeof buf, text, pages);
      auto inst = instantiate(buf, {}, options);
      ASSERT_TRUE(inst);
      for (int page = 0; page < pages; ++page) {
        auto r = inst->call("peek", {Value::i32(uint32_t(page * 65536 + 100))});
        ASSERT_TRUE(r.ok());
        EXPECT_EQ((*r)[0].cell.i32, 0u) << "stale data in page " << page << " of " << pages;
        ASSERT_TRUE(inst->call("poke", {Value::i32(uint32_t(page * 65536 + 100)), Value::i32(0xdeadbeef)}).ok());
      }
      EXPECT_EQ(trapOf(*inst, "peek", {Value::i32(uint32_t(pages * 65536))}), WASM_RT_TRAP_OOB)
          << "access just past " << pages << " pages";
    }
  }
}

// Recycling clears dirty pages in place when few are resident, drops the pages outside the runs
// it learned, and drops everything when many are resident (runtime.cpp zeroPages): each must
// leave every byte zero.
TEST_P(EngineTest, RecycledMemoryIsZeroAfterSmallAndLargeWrites) {
  if (GetParam() == TierPolicy::kInterpreter) GTEST_SKIP() << "the interpreter has its own memory";
  const char* text = R"((module (memory (export "m") 40)
    (func (export "fill") (param i32) i32.const 0 i32.const 0xab local.get 0 memory.fill)
    (func (export "sum") (param i32) (result i32) (local i32 i32)
      (block $done (loop $l
        (br_if $done (i32.ge_u (local.get 1) (local.get 0)))
        (local.set 2 (i32.or (local.get 2) (i32.load (local.get 1))))
        (local.set 1 (i32.add (local.get 1) (i32.const 4)))
        (br $l)))
      local.get 2)))";
  const uint32_t all = 40 * 65536;
  // Untracked and tracked reservations (runtime.cpp, Pooled), switching between the two.
  InstanceOptions options;
  for (int round = 0; round < 12; ++round)
  for (uint32_t written : {200u * 1024, all, 12345u, all / 2, 4096u}) {
    options.track_memory_pages = round >= 4 && round % 4 != 0;
    auto inst = instantiate(text, {}, options);
    ASSERT_TRUE(inst);
    auto r = inst->call("sum", {Value::i32(all)});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)[0].cell.i32, 0u) << "stale data after a previous instance wrote bytes";
    ASSERT_TRUE(inst->call("fill", {Value::i32(written)}).ok());
  }
}

// Tracked memories (runtime.cpp, Pooled): after the first recycle only the pages an instance
// touched stay read-write; touching any other page, from wasm or from the host, must work and
// must be seen when the memory is recycled again. Growth too.
TEST_P(EngineTest, TrackedMemoryRecyclesEveryPageItTouched) {
  if (GetParam() == TierPolicy::kInterpreter) GTEST_SKIP() << "the interpreter has its own memory";
  const char* text = R"((module (memory (export "m") 8)
    (func (export "peek") (param i32) (result i32) local.get 0 i32.load)
    (func (export "poke") (param i32 i32) local.get 0 local.get 1 i32.store)
    (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)))";
  InstanceOptions options;
  options.track_memory_pages = true;
  // Reading every page would make them all resident (and the memory untracked): only the
  // addresses some instance wrote are read back, each from a page no instance had touched.
  std::vector<uint32_t> written;
  auto fresh = [&] {
    auto inst = instantiate(text, {}, options);
    EXPECT_TRUE(inst);
    for (uint32_t addr : written) {
      auto r = inst->call("peek", {Value::i32(addr)});
      EXPECT_TRUE(r.ok());
      EXPECT_EQ(r.ok() ? (*r)[0].cell.i32 : 1u, 0u) << "stale data at " << addr;
    }
    return inst;
  };
  auto poke = [&](Instance& inst, uint32_t addr) {
    ASSERT_TRUE(inst.call("poke", {Value::i32(addr), Value::i32(0x5a5a5a5a)}).ok());
    written.push_back(addr);
  };
  for (uint32_t round = 0; round < 8; ++round) {
    auto a = fresh();
    poke(*a, 100);                              // the same page every round
    poke(*a, 5 * 65536 + 8 + round * 4096);     // a page no instance touched yet
    a.reset();
    auto b = fresh();
    poke(*b, 7 * 65536 + round * 4096);         // another one
    b.reset();
    // The host writes into an untouched page (user-space memcpy, as the canonical ABI does).
    auto c = fresh();
    wasm_rt_memory_t* mem = c->defaultMemory();
    ASSERT_TRUE(mem);
    uint32_t addr = 3 * 65536 + 12 + round * 4096;
    std::memset(mem->data + addr, 0x77, 4);
    written.push_back(addr);
    auto r = c->call("peek", {Value::i32(addr)});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)[0].cell.i32, 0x77777777u);
    c.reset();
    if (round % 4 == 3) {  // growth: the new pages were never tracked
      auto d = fresh();
      auto g = d->call("grow", {Value::i32(1)});
      ASSERT_TRUE(g.ok());
      EXPECT_EQ((*g)[0].cell.i32, 8u);
      auto before = d->call("peek", {Value::i32(8 * 65536 + 4)});  // the last grown instance's
      ASSERT_TRUE(before.ok());
      EXPECT_EQ((*before)[0].cell.i32, 0u) << "stale data in a grown page";
      ASSERT_TRUE(d->call("poke", {Value::i32(8 * 65536 + 4), Value::i32(1)}).ok());
      EXPECT_EQ(trapOf(*d, "peek", {Value::i32(9 * 65536)}), WASM_RT_TRAP_OOB);
      d.reset();
    }
  }
  auto last = fresh();
  EXPECT_EQ(trapOf(*last, "peek", {Value::i32(8 * 65536)}), WASM_RT_TRAP_OOB);
}

const char* kLoops = R"((module
  (func (export "spin") (loop $l (br $l)))
  (func (export "count") (param i32) (result i32) (local i32)
    (loop $l
      (local.set 1 (i32.add (local.get 1) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get 1) (local.get 0))))
    local.get 1)))";

TEST_P(EngineTest, DeadlineStopsARunawayLoopWhileOthersRun) {
  auto spinner = instantiate(kLoops);
  auto counter = instantiate(kLoops);
  ASSERT_TRUE(spinner && counter);
  std::atomic<bool> done{false};
  std::atomic<int> counted{0};
  std::thread other([&] {
    while (!done) {
      auto r = counter->call("count", {Value::i32(100000)});
      if (r.ok() && (*r)[0].cell.i32 == 100000) ++counted;
    }
  });
  CallOptions options;
  auto start = std::chrono::steady_clock::now();
  options.deadline = start + 200ms;
  auto r = spinner->call("spin", {}, options);
  auto late = std::chrono::steady_clock::now() - *options.deadline;
  done = true;
  other.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().detail(), CUMULUS_TRAP_INTERRUPTED) << r.error().message();
  EXPECT_LT(late, 100ms);
  EXPECT_GT(counted.load(), 0);
  // A later call without a deadline is not hit by a stale interrupt.
  if (GetParam() != TierPolicy::kInterpreter) {
    auto ok = spinner->call("count", {Value::i32(10)});
    ASSERT_TRUE(ok.ok()) << ok.error().message();
  }
  // The same thread is interrupted again (the interrupt signal is unblocked after each one; an
  // interrupted interpreter instance cannot be used again).
  for (int i = 0; GetParam() != TierPolicy::kInterpreter && i < 3; ++i) {
    options.deadline = std::chrono::steady_clock::now() + 20ms;
    auto again = spinner->call("spin", {}, options);
    late = std::chrono::steady_clock::now() - *options.deadline;
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().detail(), CUMULUS_TRAP_INTERRUPTED) << again.error().message();
    EXPECT_LT(late, 100ms) << "interrupt " << i + 2 << " on one thread";
  }
}

TEST_P(EngineTest, TrapsOnManyThreadsDoNotInterfere) {
  if (GetParam() == TierPolicy::kInterpreter)
    GTEST_SKIP() << "interpreter calls are serialized per module";
  const int kThreads = 4, kCalls = 5000;
  auto m = engine_->compile(wat(R"((module
    (func (export "f") (param i32) (result i32)
      local.get 0 i32.const 3 i32.rem_u i32.eqz if unreachable end
      local.get 0 i32.const 2 i32.mul)))"));
  ASSERT_TRUE(m.ok());
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto inst = Instance::create(*engine_, *m, {});
      if (!inst.ok()) return (void)++wrong;
      for (int i = 0; i < kCalls; ++i) {
        uint32_t x = uint32_t(i * kThreads + t);
        auto r = (*inst)->call("f", {Value::i32(x)});
        bool should_trap = x % 3 == 0;
        if (should_trap != !r.ok() || (r.ok() && (*r)[0].cell.i32 != x * 2)) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST_P(EngineTest, StackOverflowOnAWorkerThreadIsATrap) {
  auto inst = instantiate(kTraps);
  int code = 0;
  std::thread worker([&] { code = trapOf(*inst, "recurse", {Value::i32(0)}); });
  worker.join();
  EXPECT_EQ(code, WASM_RT_TRAP_EXHAUSTION);
}

TEST_P(EngineTest, MalformedAndInvalidModulesAreRejectedClearly) {
  std::vector<uint8_t> junk = {0, 'a', 's', 'm', 1, 0, 0, 0, 0xff};
  auto m = engine_->compile(junk);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(m.error().message().find("malformed"), std::string::npos) << m.error().message();
  std::vector<uint8_t> component = {0, 'a', 's', 'm', 0x0d, 0, 1, 0};
  m = engine_->compile(component);
  ASSERT_FALSE(m.ok());
  auto bad_type = wat("(module (func (result i32) i64.const 1))");
  (void)bad_type;
}

// Past ~1,500 functions the native tiers translate a module as several C units (translate.cpp);
// calls, call_indirect, ref.func, exports, the start function, globals, passive segments and trap
// names must all work across unit boundaries.
TEST_P(EngineTest, ALargeModuleSplitIntoUnitsBehavesAsOne) {
  if (GetParam() == TierPolicy::kInterpreter) GTEST_SKIP() << "no C translation on this tier";
  constexpr int kFuncs = 2000;
  std::string text = "(module (type $ii (func (param i32) (result i32)))";
  text += fmt::format(" (memory (export \"memory\") 1) (table {} funcref)", kFuncs + 8);
  text += " (global $calls (mut i32) (i32.const 0))";
  text += " (global $last funcref (ref.func $f1999))";
  text += " (data $msg \"cumulus\")";
  text += " (elem $later func $f0 $f1000)";
  text += " (elem (i32.const 0) func";
  for (int i = 0; i < kFuncs; ++i) text += fmt::format(" $f{}", i);
  text += ")";
  // f_i(x) = f_{i-1}(x) + 1 for odd i (a direct call one function back, often into another
  // unit), f_i(x) = call_indirect f_{i-1}(x) + 1 for even i; f_0(x) = x.
  text +=
      " (func $f0 (type $ii) (global.set $calls (i32.add (global.get $calls) (i32.const 1)))"
      " local.get 0)";
  for (int i = 1; i < kFuncs; ++i) {
    if (i % 2)
      text += fmt::format(
          " (func $f{} (type $ii) (i32.add (call $f{} (local.get 0)) (i32.const 1)))", i, i - 1);
    else
      text += fmt::format(
          " (func $f{} (type $ii) (i32.add (call_indirect (type $ii) (local.get 0) (i32.const {}))"
          " (i32.const 1)))",
          i, i - 1);
  }
  text += " (func (export \"top\") (param i32) (result i32) (call $f1999 (local.get 0)))";
  text +=
      " (func (export \"via_global\") (param i32) (result i32)"
      " (table.set 0 (i32.const 2000) (global.get $last))"
      " (call_indirect (type $ii) (local.get 0) (i32.const 2000)))";
  text +=
      " (func (export \"init\") (memory.init $msg (i32.const 16) (i32.const 0) (i32.const 7))"
      " (table.init $later (i32.const 2005) (i32.const 0) (i32.const 2)))";
  text += " (func (export \"word\") (result i32) (i32.load (i32.const 16)))";
  text +=
      " (func (export \"later\") (param i32) (result i32)"
      " (call_indirect (type $ii) (local.get 0) (i32.const 2006)))";
  text += " (func $deep_trap (export \"trap\") unreachable)";
  text += " (func $start (global.set $calls (i32.const 100)))";
  text += " (start $start)";
  text += " (func (export \"calls\") (result i32) global.get $calls))";
  {  // the module is past the size where translation splits it
    auto parsed = ParsedModule::parse(wat(text));
    ASSERT_TRUE(parsed.ok()) << parsed.error().message();
    prepareForTranslation(*parsed);
    auto units = translateToC(*parsed);
    ASSERT_TRUE(units.ok()) << units.error().message();
    EXPECT_GE(units->size(), 3u);  // the skeleton and at least two function units
  }
  auto inst = instantiate(text);
  ASSERT_TRUE(inst);
  // The tier asked for compiled it: a failure of one native tier must not pass via the other.
  EXPECT_EQ(inst->module().tier(),
            GetParam() == TierPolicy::kOptimized ? Tier::kOptimized : Tier::kBaseline);
  EXPECT_EQ(inst->module().tierNote(), "");
  auto calls = inst->call("calls", {});
  ASSERT_TRUE(calls.ok()) << calls.error().message();
  EXPECT_EQ((*calls)[0].cell.i32, 100u);  // the start function ran
  auto top = inst->call("top", {Value::i32(7)});
  ASSERT_TRUE(top.ok()) << top.error().message();
  EXPECT_EQ((*top)[0].cell.i32, 7u + kFuncs - 1);
  auto init = inst->call("init", {});
  ASSERT_TRUE(init.ok()) << init.error().message();
  auto word = inst->call("word", {});  // "cumu" as a little-endian i32
  ASSERT_TRUE(word.ok()) << word.error().message();
  EXPECT_EQ((*word)[0].cell.i32, 0x756d7563u);
  auto later = inst->call("later", {Value::i32(3)});  // table[2006] = f1000 after table.init
  ASSERT_TRUE(later.ok()) << later.error().message();
  EXPECT_EQ((*later)[0].cell.i32, 3u + 1000);
  auto g = inst->call("via_global", {Value::i32(1)});  // table[2000] := f1999 from a global
  ASSERT_TRUE(g.ok()) << g.error().message();
  EXPECT_EQ((*g)[0].cell.i32, 1u + kFuncs - 1);
  auto trap = inst->call("trap", {});
  ASSERT_FALSE(trap.ok());
  if (GetParam() != TierPolicy::kInterpreter)
    EXPECT_NE(trap.error().message().find("deep_trap"), std::string::npos)
        << trap.error().message();
}

// Forced splits of small modules whose names or segments once broke the views: a start function
// after a declared segment in a module without a table (wabt's ApplyNames stops there, leaving
// the start as an index), and a global exported as "F1" (GenerateNames named it like function 1).
TEST_P(EngineTest, SplitUnitsKeepNamesStartAndExports) {
  if (GetParam() == TierPolicy::kInterpreter) GTEST_SKIP() << "no C translation on this tier";
  EngineConfig config;
  config.policy = GetParam();
  config.native.cache_dir = cache_;
  config.translate.units = 2;
  Engine engine(config);
  auto run = [&](const std::string& text, const char* export_name) -> uint32_t {
    auto m = engine.compile(wat(text));
    EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().message());
    if (!m.ok()) return 0;
    EXPECT_EQ((*m)->tierNote(), "");
    EXPECT_NE((*m)->tier(), Tier::kInterpreter);
    auto i = Instance::create(engine, *m, {});
    EXPECT_TRUE(i.ok()) << (i.ok() ? "" : i.error().message());
    if (!i.ok()) return 0;
    auto r = (*i)->call(export_name, {});
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message());
    return r.ok() ? (*r)[0].cell.i32 : 0;
  };
  EXPECT_EQ(run(R"((module
    (global $g (mut i32) (i32.const 0))
    (func $x (global.set $g (i32.const 7)))
    (func $s (global.set $g (i32.const 42)))
    (func $r (export "run") (global.set $g (i32.const 99)))
    (func $c (drop (ref.func $x)))
    (elem declare func $x)
    (start $s)
    (func (export "g") (result i32) (global.get $g))))",
                "g"),
            42u);
  EXPECT_EQ(run(R"((module
    (global $g (export "F1") i32 (i32.const 5))
    (func $a (result i32) (call $b))
    (func $b (result i32) (global.get $g))
    (func (export "a") (result i32) (call $a))))",
                "a"),
            5u);
}

TEST_P(EngineTest, ManySegmentsAreMergedWithoutChangingMemory) {
  std::string text = "(module (memory (export \"memory\") 1)";
  for (int i = 0; i < 200; ++i)
    text += fmt::format(" (data (i32.const {}) \"\\{:02x}\\{:02x}\")", 100 + i * 5, i, i + 1);
  text +=
      " (func (export \"sum\") (result i32) (local i32 i32)"
      " (loop $l (local.set 1 (i32.add (local.get 1) (i32.load8_u offset=100 (local.get 0))))"
      " (local.set 0 (i32.add (local.get 0) (i32.const 1))) (br_if $l (i32.lt_u (local.get 0) "
      "(i32.const 1000))))"
      " local.get 1))";
  auto inst = instantiate(text);
  ASSERT_TRUE(inst);
  uint32_t want = 0;
  for (int i = 0; i < 200; ++i) want += uint32_t(i) + uint32_t(i + 1);
  auto r = inst->call("sum", {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].cell.i32, want);
}

TEST_P(EngineTest, LargeDataIsLoadedByTheHostIdentically) {
  // 100 segments of 1 KiB (> 64 KiB in all): the native tiers copy them from the host.
  std::string text = "(module (memory (export \"memory\") 4)";
  uint32_t want = 0;
  for (int i = 0; i < 100; ++i) {
    std::string bytes;
    for (int j = 0; j < 1024; ++j) {
      uint8_t b = uint8_t((i * 31 + j * 7) & 0xff);
      bytes += fmt::format("\\{:02x}", b);
      want += b;
    }
    text += fmt::format(" (data (i32.const {}) \"{}\")", 1000 + i * 1040, bytes);
  }
  text +=
      " (func (export \"sum\") (result i32) (local i32 i32)"
      " (loop $l (local.set 1 (i32.add (local.get 1) (i32.load8_u (local.get 0))))"
      " (local.set 0 (i32.add (local.get 0) (i32.const 1))) (br_if $l (i32.lt_u (local.get 0) "
      "(i32.const 200000))))"
      " local.get 1))";
  auto inst = instantiate(text);
  ASSERT_TRUE(inst);
  if (GetParam() != TierPolicy::kInterpreter) {
    EXPECT_FALSE(inst->module().info().host_data.empty());
  }
  auto r = inst->call("sum", {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].cell.i32, want);
  // Out-of-bounds data still fails instantiation with a trap.
  auto oob = engine_->compile(
      wat("(module (memory 1) (data (i32.const 65000) \"" + std::string(70000, 'x') + "\"))"));
  ASSERT_TRUE(oob.ok());
  auto bad = Instance::create(*engine_, *oob, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kTrap);
}

INSTANTIATE_TEST_SUITE_P(
    Tiers, EngineTest,
    ::testing::Values(TierPolicy::kBaseline, TierPolicy::kOptimized, TierPolicy::kInterpreter),
    [](const auto& info) {
      return std::string(tierName(info.param == TierPolicy::kBaseline    ? Tier::kBaseline
                                  : info.param == TierPolicy::kOptimized ? Tier::kOptimized
                                                                         : Tier::kInterpreter));
    });

// ---- tiers and the code cache ----

class CacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / fmt::format("cumulus-cache-test-{}", getpid());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  EngineConfig config(TierPolicy p) {
    EngineConfig c;
    c.policy = p;
    c.native.cache_dir = dir_;
    return c;
  }
  std::filesystem::path dir_;
};

const char* kAdd =
    "(module (func (export \"add\") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))";

TEST_F(CacheTest, OptimizedCodeIsCachedAndCorruptEntriesAreRebuilt) {
  auto bytes = wat(kAdd);
  {
    Engine engine(config(TierPolicy::kOptimized));
    auto m = engine.compile(bytes);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ((*m)->tier(), Tier::kOptimized);
  }
  std::filesystem::path so;
  for (auto& e : std::filesystem::directory_iterator(dir_))
    if (e.path().extension() == ".so") so = e.path();
  ASSERT_FALSE(so.empty());
  {
    // A cache hit under the auto policy runs optimized code at once.
    Engine engine(config(TierPolicy::kAuto));
    auto m = engine.compile(bytes);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ((*m)->tier(), Tier::kOptimized);
  }
  {
    std::ofstream(so, std::ios::binary | std::ios::trunc) << "garbage";
    Engine engine(config(TierPolicy::kOptimized));
    auto m = engine.compile(bytes);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ((*m)->tier(), Tier::kOptimized);
    auto inst = Instance::create(engine, *m, {});
    ASSERT_TRUE(inst.ok());
    auto r = (*inst)->call("add", {Value::i32(2), Value::i32(3)});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)[0].cell.i32, 5u);
  }
}

TEST_F(CacheTest, ConcurrentEnginesShareOneCacheDirectory) {
  auto bytes = wat(kAdd);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&] {
      Engine engine(config(TierPolicy::kOptimized));
      auto m = engine.compile(bytes);
      if (m.ok() && (*m)->tier() == Tier::kOptimized) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 3);
}

TEST_F(CacheTest, AutoPolicyUpgradesToOptimizedInTheBackground) {
  Engine engine(config(TierPolicy::kAuto));
  auto m = engine.compile(wat(kAdd));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)->tier(), Tier::kBaseline);
  auto before = Instance::create(engine, *m, {});
  engine.waitForBackgroundIdle();
  EXPECT_EQ((*m)->tier(), Tier::kOptimized);
  auto after = Instance::create(engine, *m, {});
  ASSERT_TRUE(before.ok() && after.ok());
  EXPECT_EQ((*before)->tier(), Tier::kBaseline);
  EXPECT_EQ((*after)->tier(), Tier::kOptimized);
  EXPECT_TRUE((*before)->call("add", {Value::i32(1), Value::i32(1)}).ok());
}

TEST_F(CacheTest, SimdModulesFallBackToTheInterpreterWithAReason) {
  Engine engine(config(TierPolicy::kBaseline));
  auto m = engine.compile(wat(R"((module (func (export "f") (result i32)
      v128.const i32x4 1 2 3 4 i32x4.extract_lane 2)))"));
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_EQ((*m)->tier(), Tier::kInterpreter);
  EXPECT_NE((*m)->tierNote().find("SIMD"), std::string::npos);
  auto inst = Instance::create(engine, *m, {});
  ASSERT_TRUE(inst.ok());
  auto r = (*inst)->call("f", {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].cell.i32, 3u);
}

TEST_F(CacheTest, SimdModulesShareMutableGlobalsAndMemories) {
  Engine engine(config(TierPolicy::kBaseline));
  auto owner = engine.compile(wat(R"((module
      (global (export "g") (mut v128) (v128.const i32x4 0 0 0 0))
      (memory (export "mem") 1)
      (func (export "lane") (result i32) global.get 0 i32x4.extract_lane 1)
      (func (export "peek") (result i32) i32.const 8 i32.load)))"));
  auto user = engine.compile(wat(R"((module
      (import "m" "g" (global $g (mut v128)))
      (import "m" "mem" (memory 1))
      (func (export "poke") (param i32)
        local.get 0 i32x4.splat global.set $g
        i32.const 8 local.get 0 i32.store)))"));
  ASSERT_TRUE(owner.ok() && user.ok());
  ASSERT_EQ((*user)->tier(), Tier::kInterpreter);
  auto a = Instance::create(engine, *owner, {});
  ASSERT_TRUE(a.ok()) << a.error().message();
  auto b = Instance::create(engine, *user, {*(*a)->getExport("g"), *(*a)->getExport("mem")});
  ASSERT_TRUE(b.ok()) << b.error().message();
  ASSERT_TRUE((*b)->call("poke", {Value::i32(77)}).ok());
  EXPECT_EQ((*(*a)->call("lane", {}))[0].cell.i32, 77u);  // one global, not a copy
  EXPECT_EQ((*(*a)->call("peek", {}))[0].cell.i32, 77u);  // one memory
  // Objects of two unrelated interpreter Stores cannot be combined in one instance.
  auto other_module = engine.compile(wat(R"((module (memory (export "mem") 1)
      (func (export "f") (result v128) v128.const i64x2 0 0)))"));
  ASSERT_TRUE(other_module.ok());
  auto other = Instance::create(engine, *other_module, {});
  ASSERT_TRUE(other.ok());
  auto mixed = Instance::create(engine, *user, {*(*a)->getExport("g"), *(*other)->getExport("mem")});
  ASSERT_FALSE(mixed.ok());
  EXPECT_EQ(mixed.error().code(), ErrorCode::kLinkError);
  // A compiled (wasm2c) module cannot alias an interpreter global: refused, not copied.
  auto compiled = engine.compile(wat(R"((module (import "m" "g" (global (mut i32)))))"));
  auto scalar = engine.compile(wat(R"((module (global (export "g") (mut i32) (i32.const 1))
      (func (export "f") (result v128) v128.const i64x2 0 0)))"));
  ASSERT_TRUE(compiled.ok() && scalar.ok());
  auto s = Instance::create(engine, *scalar, {});
  ASSERT_TRUE(s.ok());
  auto refused = Instance::create(engine, *compiled, {*(*s)->getExport("g")});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("interpreter-tier"), std::string::npos);
}

TEST_F(CacheTest, ExtendedConstIsLoweredOrRoutedToTheInterpreter) {
  Engine engine(config(TierPolicy::kBaseline));
  auto folded = engine.compile(
      wat(R"((module (global (export "g") i32 (i32.add (i32.const 40) (i32.const 2)))))"));
  ASSERT_TRUE(folded.ok()) << folded.error().message();
  EXPECT_EQ((*folded)->tier(), Tier::kBaseline);
  auto inst = Instance::create(engine, *folded, {});
  ASSERT_TRUE(inst.ok());
  auto g = (*inst)->getExport("g");
  ASSERT_TRUE(g);
  EXPECT_EQ(static_cast<Cell*>(g->object)->i32, 42u);
  auto dynamic = engine.compile(wat(R"((module (import "env" "base" (global $b i32))
      (global (export "g") i32 (i32.add (global.get $b) (i32.const 2)))))"));
  ASSERT_TRUE(dynamic.ok()) << dynamic.error().message();
  EXPECT_EQ((*dynamic)->tier(), Tier::kInterpreter);
  Cell base{};
  base.i32 = 40;
  auto di = Instance::create(engine, *dynamic, {makeHostGlobal({ValType::kI32, false}, base)});
  ASSERT_TRUE(di.ok()) << di.error().message();
  auto dg = (*di)->getExport("g");
  EXPECT_EQ(static_cast<Cell*>(dg->object)->i32, 42u);
}

TEST_F(CacheTest, MemoryReservationsArePooledAcrossManyInstances) {
  Engine engine(config(TierPolicy::kBaseline));
  auto m = engine.compile(
      wat("(module (memory 1) (func (export \"f\") (result i32) i32.const 0 i32.load))"));
  ASSERT_TRUE(m.ok());
  for (int i = 0; i < 20000; ++i) {
    auto inst = Instance::create(engine, *m, {});
    ASSERT_TRUE(inst.ok()) << i;
  }
  auto stats = rt::memoryStats();
  EXPECT_LE(stats.live_reservations, 1u);
  EXPECT_GE(stats.pooled_reservations, 1u);
}

}  // namespace
}  // namespace cumulus::engine

// ---- fuzz regressions: every input in fuzz/regressions/ must be handled without crashing ----
#include "base/file.h"
#include "fuzz/fuzz_one.h"

namespace cumulus::engine {
namespace {
TEST(FuzzRegressions, ReplayAll) {
  EngineConfig config;
  config.policy = TierPolicy::kBaseline;
  Engine engine(config);
  config.translate.units = 2;  // as the fuzz target does for odd-sized inputs
  Engine split_engine(config);
  std::filesystem::path dir = std::filesystem::path(CUMULUS_SOURCE_DIR) / "fuzz" / "regressions";
  int n = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().filename() == ".gitkeep") continue;
    auto bytes = readFile(e.path());
    ASSERT_TRUE(bytes.ok());
    fuzz::fuzzOne(engine, *bytes);
    fuzz::fuzzOne(split_engine, *bytes);
    ++n;
  }
  SUCCEED() << n << " inputs replayed";
}
}  // namespace
}  // namespace cumulus::engine
