// The component runtime against jco's runtime fixtures (../shared/fixtures/components/jco/runtime):
// wit-bindgen's runtime test components, built from C and Rust guests. Each imports a `test:*`
// interface the host implements here and exports one the host calls, so every test exercises
// the canonical ABI in both directions: the guest's `test-imports` export calls our host
// functions (host lifts guest values, lowers results) and checks what comes back; the test then
// calls the guest's exports (host lowers, guest lifts) with the values jco's and wasmtime's hosts
// use and checks the results.
//
// The host implementations follow jco's test hosts (packages/jco-transpile/test/fixtures/
// componentize/runtime/<name>.ts of bytecodealliance/jco) and, for fixtures jco has no host
// for, wasmtime's hosts in wit-bindgen's tests/runtime/<name>.rs. Checks inside host functions
// use EXPECT_*, so a wrong value from the guest fails the test even when the guest ignores it;
// guests assert on what the host returns, which traps the call.
#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "base/file.h"
#include "component/runtime.h"
#include "wasi/p2/ctx.h"

namespace cumulus::component {

// gtest prints values through this (found by argument-dependent lookup).
static void PrintTo(const Val& v, std::ostream* os) { *os << v.toString(); }

namespace {

using Args = std::vector<Val>;

const std::filesystem::path kFixtures =
    std::filesystem::path(CUMULUS_SOURCE_DIR) / ".." / "shared" / "fixtures" / "components" / "jco";

Val str(std::string s) { return Val::string(std::move(s)); }
Val strings(std::initializer_list<const char*> items) {
  std::vector<Val> out;
  for (const char* s : items) out.push_back(str(s));
  return Val::list(std::move(out));
}

// Host objects behind a host resource type, by representation (what the guest's handles map to).
template <typename T>
class HostObjects {
 public:
  uint32_t add(T value) {
    uint32_t rep = next_++;
    objects_[rep] = std::move(value);
    return rep;
  }
  T& at(const Val& handle) { return at(handle.rep()); }
  T& at(uint32_t rep) {
    auto it = objects_.find(rep);
    if (it == objects_.end()) throw ValKindError(fmt::format("no host object {}", rep));
    return it->second;
  }
  void drop(uint32_t rep) {
    EXPECT_EQ(objects_.erase(rep), 1u) << "the guest dropped host object " << rep << " twice";
    ++dropped_;
  }
  bool contains(uint32_t rep) const { return objects_.count(rep) != 0; }
  size_t live() const { return objects_.size(); }
  size_t dropped() const { return dropped_; }

 private:
  std::map<uint32_t, T> objects_;
  uint32_t next_ = 1;
  size_t dropped_ = 0;
};

class JcoRuntime : public ::testing::Test {
 protected:
  void SetUp() override {
    cache_ = std::filesystem::temp_directory_path() /
             fmt::format("cumulus-jco-test-{}-{}", getpid(),
                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    engine::EngineConfig config;
    config.policy = engine::TierPolicy::kBaseline;
    config.native.cache_dir = cache_;
    engine_ = std::make_unique<engine::Engine>(config);
    wasi_types_ = wasi::addToLinker(linker_);
  }
  void TearDown() override {
    inst_.reset();
    plan_.reset();
    engine_.reset();
    std::filesystem::remove_all(cache_);
  }

  // A host function of an imported interface (`iface` with version, or the import name for
  // root-level functions).
  void host(std::string_view iface, std::string_view name, std::function<Val(Args&)> fn) {
    linker_.func(iface, name,
                 [fn = std::move(fn)](CallContext&, Args& a) -> Expected<Val> { return fn(a); });
  }

  // Plans and instantiates `file` (relative to the jco fixtures) with the host functions
  // registered so far and WASI capturing stdout/stderr.
  ::testing::AssertionResult load(const std::string& file) {
    inst_.reset();  // before the context it uses
    auto bytes = readFile(kFixtures / file);
    if (!bytes.ok()) return ::testing::AssertionFailure() << bytes.error().message();
    bytes_ = std::move(*bytes);
    auto plan = ComponentPlan::create(*engine_, bytes_, linker_);
    if (!plan.ok()) return ::testing::AssertionFailure() << file << ": " << plan.error().message();
    plan_ = std::move(*plan);
    wasi::WasiConfig wc;
    wc.stdout_sink = [this](std::string_view s) { stdout_ += s; };
    wc.stderr_sink = [this](std::string_view s) { stderr_ += s; };
    wasi_ = std::make_unique<wasi::WasiCtx>(std::move(wc));
    auto inst = plan_->instantiate(wasi_.get());
    if (!inst.ok()) return ::testing::AssertionFailure() << file << ": " << inst.error().message();
    inst_ = std::move(*inst);
    return ::testing::AssertionSuccess();
  }

  Expected<Val> tryCall(std::string_view iface, std::string_view name, Args args = {}) {
    auto f = inst_->exportFunc(iface, name);
    if (!f) return makeError(ErrorCode::kNotFound, "no export {}#{}", iface, name);
    return inst_->call(*f, std::move(args));
  }
  // Calls an export that must succeed (guest stderr, e.g. a failed assert, is shown otherwise).
  Val call(std::string_view iface, std::string_view name, Args args = {}) {
    auto r = tryCall(iface, name, std::move(args));
    EXPECT_TRUE(r.ok()) << iface << (iface.empty() ? "" : "#") << name << ": "
                        << (r.ok() ? "" : r.error().message()) << "\nguest stderr: " << stderr_;
    return r.ok() ? std::move(*r) : Val();
  }

  std::filesystem::path cache_;
  std::unique_ptr<engine::Engine> engine_;
  Linker linker_;
  std::shared_ptr<wasi::Types> wasi_types_;  // the WASI host functions refer to these
  std::vector<uint8_t> bytes_;
  std::shared_ptr<ComponentPlan> plan_;
  std::unique_ptr<wasi::WasiCtx> wasi_;
  std::shared_ptr<ComponentInstance> inst_;
  std::string stdout_, stderr_;
};

// ---- numbers ----

TEST_F(JcoRuntime, Numbers) {
  const std::string kIface = "test:numbers/test";
  uint32_t scalar = 0;
  for (const char* name : {"roundtrip-u8", "roundtrip-s8", "roundtrip-u16", "roundtrip-s16",
                           "roundtrip-u32", "roundtrip-s32", "roundtrip-u64", "roundtrip-s64",
                           "roundtrip-f32", "roundtrip-f64", "roundtrip-char"})
    host(kIface, name, [](Args& a) { return a[0]; });
  host(kIface, "set-scalar", [&scalar](Args& a) {
    scalar = a[0].asU32();
    return Val();
  });
  host(kIface, "get-scalar", [&scalar](Args&) { return Val::u32(scalar); });
  ASSERT_TRUE(load("runtime/numbers.component.wasm"));

  // The guest roundtrips min/max of every width, ±inf and NaN through the host and asserts.
  call("", "test-imports");
  EXPECT_EQ(scalar, 4u);

  auto rt = [&](const char* f, Val v) { return call(kIface, f, {std::move(v)}); };
  EXPECT_EQ(rt("roundtrip-u8", Val::u8(1)), Val::u8(1));
  EXPECT_EQ(rt("roundtrip-u8", Val::u8(0)), Val::u8(0));
  EXPECT_EQ(rt("roundtrip-u8", Val::u8(255)), Val::u8(255));
  EXPECT_EQ(rt("roundtrip-s8", Val::s8(127)), Val::s8(127));
  EXPECT_EQ(rt("roundtrip-s8", Val::s8(-128)), Val::s8(-128));
  EXPECT_EQ(rt("roundtrip-u16", Val::u16(65535)), Val::u16(65535));
  EXPECT_EQ(rt("roundtrip-s16", Val::s16(32767)), Val::s16(32767));
  EXPECT_EQ(rt("roundtrip-s16", Val::s16(-32768)), Val::s16(-32768));
  EXPECT_EQ(rt("roundtrip-u32", Val::u32(~0u)), Val::u32(~0u));
  EXPECT_EQ(rt("roundtrip-s32", Val::s32(INT32_MAX)), Val::s32(INT32_MAX));
  EXPECT_EQ(rt("roundtrip-s32", Val::s32(INT32_MIN)), Val::s32(INT32_MIN));
  EXPECT_EQ(rt("roundtrip-s32", Val::s32(INT32_MIN)).asS64(), INT32_MIN);  // sign-extended
  EXPECT_EQ(rt("roundtrip-u64", Val::u64(1)), Val::u64(1));
  EXPECT_EQ(rt("roundtrip-u64", Val::u64(UINT64_MAX)), Val::u64(UINT64_MAX));
  EXPECT_EQ(rt("roundtrip-s64", Val::s64(INT64_MAX)), Val::s64(INT64_MAX));
  EXPECT_EQ(rt("roundtrip-s64", Val::s64(INT64_MIN)), Val::s64(INT64_MIN));

  const float kInf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(rt("roundtrip-f32", Val::f32(1)), Val::f32(1));
  EXPECT_EQ(rt("roundtrip-f32", Val::f32(kInf)), Val::f32(kInf));
  EXPECT_EQ(rt("roundtrip-f32", Val::f32(-kInf)), Val::f32(-kInf));
  EXPECT_EQ(rt("roundtrip-f32", Val::f32(std::numeric_limits<float>::max())).asF64(),
            std::numeric_limits<float>::max());
  EXPECT_EQ(rt("roundtrip-f32", Val::f32(std::numeric_limits<float>::denorm_min())).asF64(),
            std::numeric_limits<float>::denorm_min());
  EXPECT_TRUE(std::signbit(rt("roundtrip-f32", Val::f32(-0.0f)).asF64()));
  // A NaN with a payload comes back as a NaN (the ABI canonicalises it).
  Val f32nan = rt("roundtrip-f32", Val::f32(std::bit_cast<float>(0x7fa00001u)));
  EXPECT_TRUE(std::isnan(f32nan.asF64())) << f32nan.toString();
  EXPECT_EQ(std::bit_cast<uint32_t>(static_cast<float>(f32nan.asF64())), 0x7fc00000u);
  EXPECT_EQ(rt("roundtrip-f64", Val::f64(1)), Val::f64(1));
  EXPECT_EQ(rt("roundtrip-f64", Val::f64(HUGE_VAL)), Val::f64(HUGE_VAL));
  EXPECT_EQ(rt("roundtrip-f64", Val::f64(-HUGE_VAL)), Val::f64(-HUGE_VAL));
  EXPECT_EQ(rt("roundtrip-f64", Val::f64(std::numeric_limits<double>::lowest())).asF64(),
            std::numeric_limits<double>::lowest());
  Val f64nan = rt("roundtrip-f64", Val::f64(std::bit_cast<double>(0xfff0000000000123ull)));
  EXPECT_EQ(std::bit_cast<uint64_t>(f64nan.asF64()), 0x7ff8000000000000ull);

  EXPECT_EQ(rt("roundtrip-char", Val::character('a')), Val::character('a'));
  EXPECT_EQ(rt("roundtrip-char", Val::character(' ')), Val::character(' '));
  EXPECT_EQ(rt("roundtrip-char", Val::character(U'🚩')), Val::character(U'🚩'));
  EXPECT_EQ(rt("roundtrip-char", Val::character(0x10FFFF)), Val::character(0x10FFFF));
  // A surrogate is not a char: lowering it fails, and the instance stays usable.
  auto bad = tryCall(kIface, "roundtrip-char", {Val::character(0xD800)});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("char"), std::string::npos) << bad.error().message();
  EXPECT_EQ(rt("roundtrip-char", Val::character('z')), Val::character('z'));

  call(kIface, "set-scalar", {Val::u32(2)});
  EXPECT_EQ(call(kIface, "get-scalar"), Val::u32(2));
  call(kIface, "set-scalar", {Val::u32(4)});
  EXPECT_EQ(call(kIface, "get-scalar"), Val::u32(4));
  EXPECT_EQ(scalar, 4u);  // the guest's scalar is its own

  // Wrong arguments are the caller's error, not a trap.
  auto wrong = tryCall(kIface, "roundtrip-u8", {str("x")});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code(), ErrorCode::kInvalidArgument) << wrong.error().message();
  auto count = tryCall(kIface, "roundtrip-u8", {});
  ASSERT_FALSE(count.ok());
  EXPECT_EQ(count.error().code(), ErrorCode::kInvalidArgument) << count.error().message();
}

// ---- lists ----

TEST_F(JcoRuntime, Lists) {
  const std::string kIface = "test:lists/test";
  std::map<std::string, int> calls;
  auto h = [&](const char* name, std::function<Val(Args&)> fn) {
    host(kIface, name, [&calls, name, fn = std::move(fn)](Args& a) {
      ++calls[name];
      return fn(a);
    });
  };
  h("empty-list-param", [](Args& a) {
    EXPECT_EQ(a[0], Val::bytes(""));
    return Val();
  });
  h("empty-string-param", [](Args& a) {
    EXPECT_EQ(a[0], str(""));
    return Val();
  });
  h("empty-list-result", [](Args&) { return Val::bytes(""); });
  h("empty-string-result", [](Args&) { return str(""); });
  h("list-param", [](Args& a) {
    EXPECT_EQ(a[0], Val::bytes(std::string("\x01\x02\x03\x04", 4)));
    return Val();
  });
  h("list-param2", [](Args& a) {
    EXPECT_EQ(a[0], str("foo"));
    return Val();
  });
  h("list-param3", [](Args& a) {
    EXPECT_EQ(a[0], strings({"foo", "bar", "baz"}));
    return Val();
  });
  h("list-param4", [](Args& a) {
    EXPECT_EQ(a[0], Val::list({strings({"foo", "bar"}), strings({"baz"})}));
    return Val();
  });
  h("list-param5", [](Args& a) {
    EXPECT_EQ(a[0], Val::list({Val::tuple({Val::u8(1), Val::u32(2), Val::u8(3)}),
                               Val::tuple({Val::u8(4), Val::u32(5), Val::u8(6)})}));
    return Val();
  });
  h("list-result", [](Args&) { return Val::bytes(std::string("\x01\x02\x03\x04\x05", 5)); });
  h("list-result2", [](Args&) { return str("hello!"); });
  h("list-result3", [](Args&) { return strings({"hello,", "world!"}); });
  h("list-roundtrip", [](Args& a) { return a[0]; });
  h("string-roundtrip", [](Args& a) { return a[0]; });
  // The minmax functions check the extremes of every element type and hand them back.
  auto minmax = [](Val expect_u, Val expect_s) {
    return [expect_u, expect_s](Args& a) {
      EXPECT_EQ(a[0], expect_u);
      EXPECT_EQ(a[1], expect_s);
      return Val::tuple({a[0], a[1]});
    };
  };
  h("list-minmax8", minmax(Val::bytes(std::string("\x00\xff", 2)),
                           Val::list({Val::s8(INT8_MIN), Val::s8(INT8_MAX)})));
  h("list-minmax16", minmax(Val::list({Val::u16(0), Val::u16(UINT16_MAX)}),
                            Val::list({Val::s16(INT16_MIN), Val::s16(INT16_MAX)})));
  h("list-minmax32", minmax(Val::list({Val::u32(0), Val::u32(UINT32_MAX)}),
                            Val::list({Val::s32(INT32_MIN), Val::s32(INT32_MAX)})));
  h("list-minmax64", minmax(Val::list({Val::u64(0), Val::u64(UINT64_MAX)}),
                            Val::list({Val::s64(INT64_MIN), Val::s64(INT64_MAX)})));
  const float kFInf = std::numeric_limits<float>::infinity();
  const double kDInf = std::numeric_limits<double>::infinity();
  h("list-minmax-float", minmax(Val::list({Val::f32(std::numeric_limits<float>::lowest()),
                                           Val::f32(std::numeric_limits<float>::max()),
                                           Val::f32(-kFInf), Val::f32(kFInf)}),
                                Val::list({Val::f64(std::numeric_limits<double>::lowest()),
                                           Val::f64(std::numeric_limits<double>::max()),
                                           Val::f64(-kDInf), Val::f64(kDInf)})));
  ASSERT_TRUE(load("runtime/lists.component.wasm"));

  Val bytes_before = call("", "allocated-bytes");
  call("", "test-imports");
  for (const char* f :
       {"empty-list-param", "empty-string-param", "empty-list-result", "empty-string-result",
        "list-param", "list-param2", "list-param3", "list-param4", "list-result", "list-result2",
        "list-result3", "list-roundtrip", "string-roundtrip", "list-minmax8", "list-minmax16",
        "list-minmax32", "list-minmax64", "list-minmax-float"})
    EXPECT_GE(calls[f], 1) << f << " was not called by test-imports";

  call(kIface, "empty-list-param", {Val::bytes("")});
  call(kIface, "empty-string-param", {str("")});
  call(kIface, "list-param", {Val::bytes(std::string("\x01\x02\x03\x04", 4))});
  std::vector<Val> blahs(1000, str("blah"));
  call(kIface, "list-param-large", {Val::list(blahs)});
  call(kIface, "list-param2", {str("foo")});
  call(kIface, "list-param3", {strings({"foo", "bar", "baz"})});
  call(kIface, "list-param4", {Val::list({strings({"foo", "bar"}), strings({"baz"})})});
  EXPECT_EQ(call(kIface, "empty-list-result"), Val::bytes(""));
  EXPECT_EQ(call(kIface, "empty-string-result"), str(""));
  EXPECT_EQ(call(kIface, "list-result"), Val::bytes(std::string("\x01\x02\x03\x04\x05", 5)));
  EXPECT_EQ(call(kIface, "list-result2"), str("hello!"));
  EXPECT_EQ(call(kIface, "list-result3"), strings({"hello,", "world!"}));
  EXPECT_EQ(call(kIface, "list-roundtrip", {Val::bytes(std::string("\x01\x02\x03\x04", 4))}),
            Val::bytes(std::string("\x01\x02\x03\x04", 4)));
  EXPECT_EQ(call(kIface, "list-roundtrip", {Val::bytes("")}), Val::bytes(""));
  // A large list, with every byte value, through the guest's allocator and back.
  std::string big(3 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + (i >> 12));
  EXPECT_TRUE(call(kIface, "list-roundtrip", {Val::bytes(big)}) == Val::bytes(big));
  EXPECT_EQ(call(kIface, "string-roundtrip", {str("x")}), str("x"));
  EXPECT_EQ(call(kIface, "string-roundtrip", {str("")}), str(""));
  EXPECT_EQ(call(kIface, "string-roundtrip", {str("hello ⚑ world")}), str("hello ⚑ world"));
  const std::string with_nul("🚀 \0 x", 8);
  EXPECT_EQ(call(kIface, "string-roundtrip", {str(with_nul)}), str(with_nul));
  // Invalid UTF-8 from the host is refused before it reaches the guest.
  auto bad = tryCall(kIface, "string-roundtrip", {str("ok \xff\xfe")});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument) << bad.error().message();
  EXPECT_EQ(call("", "allocated-bytes"), bytes_before);  // the glue freed what it allocated
}

// ---- records ----

TEST_F(JcoRuntime, Records) {
  const std::string kIface = "test:records/test";
  host(kIface, "multiple-results", [](Args&) { return Val::tuple({Val::u8(4), Val::u16(5)}); });
  host(kIface, "swap-tuple", [](Args& a) {
    const auto& t = a[0].elems();
    EXPECT_EQ(t[0].kind(), Val::Kind::kU8);
    return Val::tuple({t[1], t[0]});
  });
  host(kIface, "roundtrip-flags1", [](Args& a) { return a[0]; });
  host(kIface, "roundtrip-flags2", [](Args& a) { return a[0]; });
  host(kIface, "roundtrip-flags3", [](Args& a) { return Val::tuple({a[0], a[1], a[2]}); });
  host(kIface, "roundtrip-record1", [](Args& a) { return a[0]; });
  host(kIface, "tuple1", [](Args& a) { return Val::tuple({a[0].elems()[0]}); });
  ASSERT_TRUE(load("runtime/records.component.wasm"));

  call("", "test-imports");
  EXPECT_EQ(call(kIface, "multiple-results"), Val::tuple({Val::u8(100), Val::u16(200)}));
  EXPECT_EQ(call(kIface, "swap-tuple", {Val::tuple({Val::u8(1), Val::u32(2)})}),
            Val::tuple({Val::u32(2), Val::u8(1)}));
  EXPECT_EQ(call(kIface, "swap-tuple", {Val::tuple({Val::u8(255), Val::u32(UINT32_MAX)})}),
            Val::tuple({Val::u32(UINT32_MAX), Val::u8(255)}));
  // f1 = flags {a, b}; f2 = flags {c, d, e}
  for (uint32_t bits : {0b01u, 0u, 0b10u, 0b11u})
    EXPECT_EQ(call(kIface, "roundtrip-flags1", {Val::flags(bits)}), Val::flags(bits));
  for (uint32_t bits : {0b001u, 0u, 0b010u, 0b101u, 0b111u})
    EXPECT_EQ(call(kIface, "roundtrip-flags2", {Val::flags(bits)}), Val::flags(bits));
  // Bits beyond the declared flags are not part of the value.
  EXPECT_EQ(call(kIface, "roundtrip-flags1", {Val::flags(0xff)}), Val::flags(0b11));
  EXPECT_EQ(call(kIface, "roundtrip-flags3",
                 {Val::flags(1u << 7), Val::flags(1u << 15), Val::flags(1u << 31)}),
            Val::tuple({Val::flags(1u << 7), Val::flags(1u << 15), Val::flags(1u << 31)}));
  EXPECT_EQ(call(kIface, "roundtrip-flags3",
                 {Val::flags(0xff), Val::flags(0xffff), Val::flags(0xffffffff)}),
            Val::tuple({Val::flags(0xff), Val::flags(0xffff), Val::flags(0xffffffff)}));
  // r1 = record {a: u8, b: f1}
  EXPECT_EQ(call(kIface, "roundtrip-record1", {Val::record({Val::u8(8), Val::flags(0)})}),
            Val::record({Val::u8(8), Val::flags(0)}));
  EXPECT_EQ(call(kIface, "roundtrip-record1", {Val::record({Val::u8(0), Val::flags(3)})}),
            Val::record({Val::u8(0), Val::flags(3)}));
  EXPECT_EQ(call(kIface, "tuple1", {Val::tuple({Val::u8(1)})}), Val::tuple({Val::u8(1)}));
  // A record with a missing field is refused.
  EXPECT_FALSE(tryCall(kIface, "roundtrip-record1", {Val::record({Val::u8(8)})}).ok());
}

// ---- variants ----

TEST_F(JcoRuntime, Variants) {
  const std::string kIface = "test:variants/test";
  host(kIface, "roundtrip-option", [](Args& a) {
    // option<f32> -> option<u8>
    if (a[0].discriminant() == 0) return Val::none();
    return Val::some(Val::u8(static_cast<uint8_t>(a[0].payload().asF64())));
  });
  host(kIface, "roundtrip-result", [](Args& a) {
    // result<u32, f32> -> result<f64, u8>; jco's host throws the rounded error value
    if (a[0].discriminant() == 0)
      return Val::ok(Val::f64(static_cast<double>(a[0].payload().asU64())));
    return Val::err(Val::u8(static_cast<uint8_t>(std::round(a[0].payload().asF64()))));
  });
  host(kIface, "roundtrip-enum", [](Args& a) { return a[0]; });
  host(kIface, "invert-bool", [](Args& a) { return Val::boolean(!a[0].asBool()); });
  host(kIface, "variant-casts", [](Args& a) { return a[0]; });
  host(kIface, "variant-zeros", [](Args& a) { return a[0]; });
  int typedefs = 0;
  host(kIface, "variant-typedefs", [&typedefs](Args& a) {
    EXPECT_EQ(a[0], Val::none());
    EXPECT_EQ(a[1], Val::boolean(false));
    EXPECT_EQ(a[2], Val::errUnit());
    ++typedefs;
    return Val();
  });
  host(kIface, "variant-enums", [](Args& a) {
    EXPECT_EQ(a[0], Val::boolean(true));
    EXPECT_EQ(a[1], Val::okUnit());
    EXPECT_EQ(a[2], Val::enumCase(0));  // success
    return Val::tuple({Val::boolean(false), Val::errUnit(), Val::enumCase(1)});
  });
  ASSERT_TRUE(load("runtime/variants.component.wasm"));

  call("", "test-imports");
  EXPECT_EQ(typedefs, 1);
  EXPECT_EQ(call(kIface, "roundtrip-option", {Val::some(Val::f32(1))}), Val::some(Val::u8(1)));
  EXPECT_EQ(call(kIface, "roundtrip-option", {Val::none()}), Val::none());
  EXPECT_EQ(call(kIface, "roundtrip-option", {Val::some(Val::f32(2))}), Val::some(Val::u8(2)));
  EXPECT_EQ(call(kIface, "roundtrip-result", {Val::ok(Val::u32(2))}), Val::ok(Val::f64(2)));
  EXPECT_EQ(call(kIface, "roundtrip-result", {Val::ok(Val::u32(4))}), Val::ok(Val::f64(4)));
  EXPECT_EQ(call(kIface, "roundtrip-result", {Val::err(Val::f32(5.3f))}), Val::err(Val::u8(5)));
  EXPECT_EQ(call(kIface, "roundtrip-enum", {Val::enumCase(0)}), Val::enumCase(0));
  EXPECT_EQ(call(kIface, "roundtrip-enum", {Val::enumCase(1)}), Val::enumCase(1));
  EXPECT_EQ(call(kIface, "invert-bool", {Val::boolean(true)}), Val::boolean(false));
  EXPECT_EQ(call(kIface, "invert-bool", {Val::boolean(false)}), Val::boolean(true));

  // casts: c1 {s32, s64}, c2 {s32, f32}, c3 {s32, f64}, c4 {s64, f32}, c5 {s64, f64},
  // c6 {f32, f64}: both cases share flattened slots of the joined type.
  Val as = Val::tuple({Val::variant(0, {Val::s32(1)}), Val::variant(0, {Val::s32(2)}),
                       Val::variant(0, {Val::s32(3)}), Val::variant(0, {Val::s64(4)}),
                       Val::variant(0, {Val::s64(5)}), Val::variant(0, {Val::f32(6)})});
  EXPECT_EQ(call(kIface, "variant-casts", {as}), as);
  Val bs = Val::tuple({Val::variant(1, {Val::s64(1)}), Val::variant(1, {Val::f32(2)}),
                       Val::variant(1, {Val::f64(3)}), Val::variant(1, {Val::f32(4)}),
                       Val::variant(1, {Val::f64(5)}), Val::variant(1, {Val::f64(6)})});
  EXPECT_EQ(call(kIface, "variant-casts", {bs}), bs);
  Val extremes =
      Val::tuple({Val::variant(1, {Val::s64(INT64_MIN)}), Val::variant(0, {Val::s32(-1)}),
                  Val::variant(1, {Val::f64(-0.5)}), Val::variant(1, {Val::f32(-1.5f)}),
                  Val::variant(0, {Val::s64(-2)}), Val::variant(0, {Val::f32(-7.25f)})});
  EXPECT_EQ(call(kIface, "variant-casts", {extremes}), extremes);
  // zeros: z1 {s32, _}, z2 {s64, _}, z3 {f32, _}, z4 {f64, _}
  Val za = Val::tuple({Val::variant(0, {Val::s32(1)}), Val::variant(0, {Val::s64(2)}),
                       Val::variant(0, {Val::f32(3)}), Val::variant(0, {Val::f64(4)})});
  EXPECT_EQ(call(kIface, "variant-zeros", {za}), za);
  Val zb = Val::tuple({Val::variant(1), Val::variant(1), Val::variant(1), Val::variant(1)});
  EXPECT_EQ(call(kIface, "variant-zeros", {zb}), zb);
  call(kIface, "variant-typedefs", {Val::none(), Val::boolean(false), Val::errUnit()});
  // A case index past the last case is refused (before the guest runs).
  EXPECT_FALSE(tryCall(kIface, "roundtrip-enum", {Val::enumCase(2)}).ok());
  EXPECT_EQ(call(kIface, "invert-bool", {Val::boolean(true)}), Val::boolean(false));

  // The C guest leaves variant-enums unimplemented (assert(0)): its trap reaches the host, and
  // the instance stays locked down afterwards.
  auto r = tryCall(kIface, "variant-enums", {Val::boolean(true), Val::okUnit(), Val::enumCase(0)});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kTrap);
  EXPECT_NE(stderr_.find("Assertion failed"), std::string::npos) << stderr_;
  auto after = tryCall(kIface, "invert-bool", {Val::boolean(true)});
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code(), ErrorCode::kTrap);
  EXPECT_NE(after.error().message().find("trapped earlier"), std::string::npos)
      << after.error().message();
}

// ---- strings (the guest uses UTF-16) ----

TEST_F(JcoRuntime, StringsUtf16) {
  const std::string kIface = "test:strings/imports";
  int took = 0;
  host(kIface, "take-basic", [&took](Args& a) {
    EXPECT_EQ(a[0], str("latin utf16"));
    ++took;
    return Val();
  });
  host(kIface, "return-unicode", [](Args&) { return str("🚀🚀🚀 𠈄𓀀"); });
  ASSERT_TRUE(load("runtime/strings.component.wasm"));

  call("", "test-imports");
  EXPECT_EQ(took, 1);
  EXPECT_EQ(call("", "return-empty"), str(""));
  EXPECT_EQ(call("", "roundtrip", {str("str")}), str("str"));
  EXPECT_EQ(call("", "roundtrip", {str("🚀🚀🚀 𠈄𓀀")}), str("🚀🚀🚀 𠈄𓀀"));
  EXPECT_EQ(call("", "roundtrip", {str("é ß ÿ")}), str("é ß ÿ"));  // latin-1 range
  std::string longer;
  for (int i = 0; i < 5000; ++i) longer += i % 3 ? "ab" : "€𝄞";
  EXPECT_EQ(call("", "roundtrip", {str(longer)}), str(longer));
}

// ---- smoke ----

TEST_F(JcoRuntime, Smoke) {
  bool hit = false;
  host("test:smoke/imports", "thunk", [&hit](Args&) {
    hit = true;
    return Val();
  });
  ASSERT_TRUE(load("runtime/smoke.component.wasm"));
  call("", "thunk");
  EXPECT_TRUE(hit);
  EXPECT_EQ(stdout_, "howdy\n");  // printf through wasi:cli/stdout
}

TEST_F(JcoRuntime, ReentryFromAHostFunctionIsRefused) {
  std::optional<Expected<Val>> inner;
  linker_.func("test:smoke/imports", "thunk", [&](CallContext& cx, Args&) -> Expected<Val> {
    EXPECT_EQ(&cx.instance(), inst_.get());
    EXPECT_EQ(cx.data(), wasi_.get());
    if (!inner) inner = tryCall("", "thunk");  // components are not reentrant
    return Val();
  });
  ASSERT_TRUE(load("runtime/smoke.component.wasm"));
  call("", "thunk");
  ASSERT_TRUE(inner.has_value());
  ASSERT_FALSE(inner->ok());
  EXPECT_EQ(inner->error().code(), ErrorCode::kTrap);
  call("", "thunk");  // the refused inner call did not disturb the outer one
}

TEST_F(JcoRuntime, HostErrorsTrapTheGuestAndLockItDown) {
  int calls = 0;
  linker_.func("test:smoke/imports", "thunk", [&calls](CallContext&, Args&) -> Expected<Val> {
    ++calls;
    return makeError(ErrorCode::kIo, "the backend is gone");
  });
  ASSERT_TRUE(load("runtime/smoke.component.wasm"));
  auto r = tryCall("", "thunk");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kTrap);
  EXPECT_NE(r.error().message().find("the backend is gone"), std::string::npos)
      << r.error().message();
  EXPECT_NE(r.error().message().find("thunk"), std::string::npos) << r.error().message();
  EXPECT_EQ(stdout_, "");  // printf after the import never ran
  // A trapped instance is never entered again ("lockdown"); a new instance is fine.
  auto again = tryCall("", "thunk");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::kTrap);
  EXPECT_EQ(calls, 1);
  auto fresh = plan_->instantiate(wasi_.get());
  ASSERT_TRUE(fresh.ok()) << fresh.error().message();
  EXPECT_FALSE((*fresh)->call(*(*fresh)->exportFunc("", "thunk"), {}).ok());
  EXPECT_EQ(calls, 2);
}

TEST_F(JcoRuntime, HostResultOfTheWrongTypeTraps) {
  const std::string kIface = "test:numbers/test";
  for (const char* name : {"roundtrip-s8", "roundtrip-u16", "roundtrip-s16", "roundtrip-u32",
                           "roundtrip-s32", "roundtrip-u64", "roundtrip-s64", "roundtrip-f32",
                           "roundtrip-f64", "roundtrip-char", "set-scalar", "get-scalar"})
    host(kIface, name, [](Args& a) { return a.empty() ? Val::u32(0) : a[0]; });
  host(kIface, "roundtrip-u8", [](Args&) { return str("not a u8"); });
  ASSERT_TRUE(load("runtime/numbers.component.wasm"));
  auto r = tryCall("", "test-imports");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kTrap);
  EXPECT_NE(r.error().message().find("roundtrip-u8"), std::string::npos) << r.error().message();
}

// ---- many arguments (16 flat parameters, the most that are passed flat) ----

class JcoManyArguments : public JcoRuntime, public ::testing::WithParamInterface<const char*> {};

TEST_P(JcoManyArguments, SixteenU64s) {
  int calls = 0;
  host("imports", "many-arguments", [&calls](Args& a) {
    EXPECT_EQ(a.size(), 16u);
    for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], Val::u64(i + 1)) << "argument " << i;
    ++calls;
    return Val();
  });
  ASSERT_TRUE(load(GetParam()));
  Args args;
  for (uint64_t i = 1; i <= 16; ++i) args.push_back(Val::u64(i));
  call("", "many-arguments", args);
  EXPECT_EQ(calls, 1);
  // The guest asserts its arguments: a wrong one traps the call before it reaches the host.
  args[15] = Val::u64(17);
  auto r = tryCall("", "many-arguments", args);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kTrap) << r.error().message();
  EXPECT_EQ(calls, 1);
}

INSTANTIATE_TEST_SUITE_P(CAndRust, JcoManyArguments,
                         ::testing::Values("runtime/many-arguments.component.wasm",
                                           "runtime/many_arguments.component.wasm"));

// ---- options ----

TEST_F(JcoRuntime, Options) {
  const std::string kIface = "test:options/test";
  host(kIface, "option-none-param", [](Args& a) {
    EXPECT_EQ(a[0], Val::none());
    return Val();
  });
  host(kIface, "option-some-param", [](Args& a) {
    EXPECT_EQ(a[0], Val::some(str("foo")));
    return Val();
  });
  host(kIface, "option-none-result", [](Args&) { return Val::none(); });
  host(kIface, "option-some-result", [](Args&) { return Val::some(str("foo")); });
  host(kIface, "option-roundtrip", [](Args& a) { return a[0]; });
  host(kIface, "double-option-roundtrip", [](Args& a) { return a[0]; });
  ASSERT_TRUE(load("runtime/options.component.wasm"));

  call("", "test-imports");
  EXPECT_EQ(call(kIface, "option-none-result"), Val::none());
  EXPECT_EQ(call(kIface, "option-some-result"), Val::some(str("foo")));
  call(kIface, "option-none-param", {Val::none()});
  call(kIface, "option-some-param", {Val::some(str("foo"))});
  EXPECT_EQ(call(kIface, "option-roundtrip", {Val::some(str("foo"))}), Val::some(str("foo")));
  EXPECT_EQ(call(kIface, "option-roundtrip", {Val::none()}), Val::none());
  EXPECT_EQ(call(kIface, "double-option-roundtrip", {Val::some(Val::some(Val::u32(42)))}),
            Val::some(Val::some(Val::u32(42))));
  EXPECT_EQ(call(kIface, "double-option-roundtrip", {Val::some(Val::none())}),
            Val::some(Val::none()));
  EXPECT_EQ(call(kIface, "double-option-roundtrip", {Val::none()}), Val::none());
  // The Rust guest asserts its parameter: some where none is expected traps.
  auto r = tryCall(kIface, "option-none-param", {Val::some(str("x"))});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kTrap);
}

// ---- results ----

TEST_F(JcoRuntime, Results) {
  const std::string kIface = "test:results/test";
  auto isZero = [](const Val& v) { return v.asF64() == 0.0; };
  host(kIface, "string-error",
       [=](Args& a) { return isZero(a[0]) ? Val::err(str("zero")) : Val::ok(a[0]); });
  host(kIface, "enum-error",
       [=](Args& a) { return isZero(a[0]) ? Val::err(Val::enumCase(0)) : Val::ok(a[0]); });
  auto e2 = [](uint32_t line, uint32_t column) {
    return Val::record({Val::u32(line), Val::u32(column)});
  };
  host(kIface, "record-error", [=](Args& a) {
    double f = a[0].asF64();
    if (f == 0) return Val::err(e2(420, 0));
    if (f == 1) return Val::err(e2(77, 2));
    return Val::ok(a[0]);
  });
  host(kIface, "variant-error", [=](Args& a) {
    double f = a[0].asF64();
    if (f == 0) return Val::err(Val::variant(1, {e2(420, 0)}));
    if (f == 1) return Val::err(Val::variant(0, {Val::enumCase(1)}));
    if (f == 2) return Val::err(Val::variant(0, {Val::enumCase(2)}));
    return Val::ok(a[0]);
  });
  host(kIface, "empty-error", [](Args& a) {
    uint32_t v = a[0].asU32();
    if (v == 0) return Val::errUnit();
    return Val::ok(Val::u32(v == 1 ? 42 : v));
  });
  host(kIface, "double-error", [](Args& a) {
    uint32_t v = a[0].asU32();
    if (v == 0) return Val::ok(Val::okUnit());
    if (v == 1) return Val::ok(Val::err(str("one")));
    return Val::err(str("two"));
  });
  ASSERT_TRUE(load("runtime/results.component.wasm"));

  // Every export forwards to the import, so each call crosses the boundary twice.
  EXPECT_EQ(call(kIface, "string-error", {Val::f32(0)}), Val::err(str("zero")));
  EXPECT_EQ(call(kIface, "string-error", {Val::f32(1)}), Val::ok(Val::f32(1)));
  EXPECT_EQ(call(kIface, "enum-error", {Val::f32(0)}), Val::err(Val::enumCase(0)));
  EXPECT_EQ(call(kIface, "enum-error", {Val::f32(-3.5f)}), Val::ok(Val::f32(-3.5f)));
  EXPECT_EQ(call(kIface, "record-error", {Val::f32(0)}), Val::err(e2(420, 0)));
  EXPECT_EQ(call(kIface, "record-error", {Val::f32(1)}), Val::err(e2(77, 2)));
  EXPECT_EQ(call(kIface, "record-error", {Val::f32(2)}), Val::ok(Val::f32(2)));
  EXPECT_EQ(call(kIface, "variant-error", {Val::f32(0)}), Val::err(Val::variant(1, {e2(420, 0)})));
  EXPECT_EQ(call(kIface, "variant-error", {Val::f32(1)}),
            Val::err(Val::variant(0, {Val::enumCase(1)})));
  EXPECT_EQ(call(kIface, "variant-error", {Val::f32(2)}),
            Val::err(Val::variant(0, {Val::enumCase(2)})));
  EXPECT_EQ(call(kIface, "variant-error", {Val::f32(3)}), Val::ok(Val::f32(3)));
  EXPECT_EQ(call(kIface, "empty-error", {Val::u32(0)}), Val::errUnit());
  EXPECT_EQ(call(kIface, "empty-error", {Val::u32(1)}), Val::ok(Val::u32(42)));
  EXPECT_EQ(call(kIface, "empty-error", {Val::u32(2)}), Val::ok(Val::u32(2)));
  EXPECT_EQ(call(kIface, "double-error", {Val::u32(0)}), Val::ok(Val::okUnit()));
  EXPECT_EQ(call(kIface, "double-error", {Val::u32(1)}), Val::ok(Val::err(str("one"))));
  EXPECT_EQ(call(kIface, "double-error", {Val::u32(2)}), Val::err(str("two")));
}

// ---- ownership: lists and records of strings, and an owned host resource inside a record ----

class JcoOwnership : public JcoRuntime, public ::testing::WithParamInterface<const char*> {};

TEST_P(JcoOwnership, ParamsAndResults) {
  bool called_foo = false, called_bar = false, called_baz = false;
  std::optional<Val> resource_list;
  int resource_drops = 0;
  const Val kNested = Val::list({strings({"foo", "bar"})});
  host("lists", "foo", [&](Args& a) {
    called_foo = true;
    EXPECT_EQ(a[0], kNested);
    return a[0];
  });
  const Val kThing = Val::record({str("thing 1"), strings({"some value", "another value"})});
  host("thing-in", "bar", [&](Args& a) {
    called_bar = true;
    EXPECT_EQ(a[0], kThing);
    return Val();
  });
  host("thing-in-and-out", "baz", [&](Args& a) {
    called_baz = true;
    EXPECT_EQ(a[0], kThing);
    return a[0];
  });
  const std::string kIface = "test:ownership/both-list-and-resource";
  const ResourceType* the_resource =
      linker_.resource(kIface, "the-resource", [&](CallContext&, uint32_t) { ++resource_drops; });
  host(kIface, "[constructor]the-resource", [&](Args& a) {
    EXPECT_FALSE(resource_list.has_value()) << "constructed twice";
    resource_list = a[0];
    return Val::own(the_resource, 100);
  });
  host(kIface, "list-and-resource", [&](Args& a) {
    // record thing {a: list<string>, b: the-resource}: the guest gives the handle back owned.
    const auto& f = a[0].elems();
    EXPECT_EQ(f[1], Val::own(the_resource, 100));
    EXPECT_TRUE(resource_list.has_value());
    if (resource_list) {
      EXPECT_EQ(f[0], *resource_list);
    }
    return Val();
  });
  ASSERT_TRUE(load(GetParam()));

  call("", "foo");
  EXPECT_TRUE(called_foo);
  EXPECT_TRUE(called_bar);
  EXPECT_TRUE(called_baz);
  ASSERT_TRUE(resource_list.has_value());
  EXPECT_EQ(*resource_list, strings({"foo", "bar", "baz"}));
  EXPECT_EQ(resource_drops, 0);  // ownership moved to the host, the guest did not drop it
}

INSTANTIATE_TEST_SUITE_P(
    Rust, JcoOwnership,
    ::testing::Values("runtime/owning.component.wasm", "runtime/borrowing.component.wasm",
                      "runtime/borrowing-duplicate-if-necessary.component.wasm"));

// ---- resources: host resource y imported, guest resources x, z, kebab-case exported ----

TEST_F(JcoRuntime, Resources) {
  HostObjects<int32_t> ys;
  const ResourceType* y =
      linker_.resource("imports", "y", [&ys](CallContext&, uint32_t rep) { ys.drop(rep); });
  host("imports", "[constructor]y",
       [&](Args& a) { return Val::own(y, ys.add(static_cast<int32_t>(a[0].asS64()))); });
  host("imports", "[method]y.get-a", [&](Args& a) {
    EXPECT_EQ(a[0].kind(), Val::Kind::kBorrow);
    return Val::s32(ys.at(a[0]));
  });
  host("imports", "[method]y.set-a", [&](Args& a) {
    ys.at(a[0]) = static_cast<int32_t>(a[1].asS64());
    return Val();
  });
  host("imports", "[static]y.add", [&](Args& a) {
    EXPECT_EQ(a[0].kind(), Val::Kind::kOwn);
    // Takes ownership of the argument: the host drops it (jco/wasmtime keep the entry, the
    // guest must not use its handle again either way).
    int32_t sum = ys.at(a[0]) + static_cast<int32_t>(a[1].asS64());
    return Val::own(y, ys.add(sum));
  });
  ASSERT_TRUE(load("runtime/resources.component.wasm"));

  const char* kIface = "exports";
  EXPECT_EQ(call(kIface, "test-imports"), Val::okUnit());
  // The guest makes y(10) [rep 1], add -> y(30) [2], y(1) [3], y(2) [4], add -> [5], add -> [6].
  // Each add takes its argument's handle out of the guest's table and the result takes the
  // freed slot (the spec's tables reuse the last freed index), so the C guest's drops of its
  // moved-from handles drop the three results; the host owns the three it was given.
  EXPECT_EQ(ys.dropped(), 3u);
  EXPECT_EQ(ys.live(), 3u);
  EXPECT_TRUE(ys.contains(1) && ys.contains(3) && ys.contains(4));

  Val x = call(kIface, "[constructor]x", {Val::s32(5)});
  ASSERT_EQ(x.kind(), Val::Kind::kOwn);
  const ResourceType* x_type = x.resourceType();
  ASSERT_NE(x_type, nullptr);
  EXPECT_FALSE(x_type->isHost());
  Val x_borrow = Val::borrow(x_type, x.rep());
  EXPECT_EQ(call(kIface, "[method]x.get-a", {x_borrow}), Val::s32(5));
  call(kIface, "[method]x.set-a", {x_borrow, Val::s32(10)});
  EXPECT_EQ(call(kIface, "[method]x.get-a", {x_borrow}), Val::s32(10));

  Val z1 = call(kIface, "[constructor]z", {Val::s32(10)});
  Val z2 = call(kIface, "[constructor]z", {Val::s32(20)});
  ASSERT_EQ(z1.kind(), Val::Kind::kOwn);
  EXPECT_NE(z1.resourceType(), x_type);
  EXPECT_NE(z1.rep(), z2.rep());
  auto borrowOf = [](const Val& v) { return Val::borrow(v.resourceType(), v.rep()); };
  EXPECT_EQ(call(kIface, "[method]z.get-a", {borrowOf(z1)}), Val::s32(10));
  EXPECT_EQ(call(kIface, "[method]z.get-a", {borrowOf(z2)}), Val::s32(20));

  // x.add takes x owned and gives it back (the C guest returns the same object).
  Val x_add = call(kIface, "[static]x.add", {x, Val::s32(5)});
  ASSERT_EQ(x_add.kind(), Val::Kind::kOwn);
  EXPECT_EQ(x_add.rep(), x.rep());
  EXPECT_EQ(call(kIface, "[method]x.get-a", {borrowOf(x_add)}), Val::s32(15));
  Val z_add = call(kIface, "add", {borrowOf(z1), borrowOf(z2)});
  EXPECT_EQ(call(kIface, "[method]z.get-a", {borrowOf(z_add)}), Val::s32(30));
  EXPECT_EQ(call(kIface, "[static]z.num-dropped"), Val::u32(1));  // the C guest counts from 1
  // wasmtime's host then drops z1 and z2 (ResourceAny::resource_drop) and expects num-dropped
  // to grow by 2; ComponentInstance has no way for the host to drop a guest resource it owns
  // yet, so that part is not tested (the guest's destructors never run for them).

  // consume drops x inside the guest (its destructor frees it).
  call(kIface, "consume", {x_add});

  // A handle of the wrong resource type, or a borrow where ownership is passed, is refused.
  auto wrong_type = tryCall(kIface, "[method]x.get-a", {borrowOf(z1)});
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_EQ(wrong_type.error().code(), ErrorCode::kInvalidArgument) << wrong_type.error().message();
  Val x2 = call(kIface, "[constructor]x", {Val::s32(1)});
  auto borrowed = tryCall(kIface, "consume", {borrowOf(x2)});
  ASSERT_FALSE(borrowed.ok());
  EXPECT_EQ(borrowed.error().code(), ErrorCode::kInvalidArgument) << borrowed.error().message();
  call(kIface, "consume", {x2});
  // Resource types a component defines are per instance: another instance's z is not a z here.
  auto other = plan_->instantiate(wasi_.get());
  ASSERT_TRUE(other.ok()) << other.error().message();
  auto other_get = (*other)->exportFunc(kIface, "[method]z.get-a");
  ASSERT_TRUE(other_get.has_value());
  EXPECT_FALSE((*other)->call(*other_get, {borrowOf(z1)}).ok());
  EXPECT_EQ(call(kIface, "[method]z.get-a", {borrowOf(z1)}), Val::s32(10));

  Val k = call(kIface, "[constructor]kebab-case", {Val::u32(7)});
  EXPECT_EQ(call(kIface, "[method]kebab-case.get-a", {borrowOf(k)}), Val::u32(7));
  EXPECT_EQ(call(kIface, "[static]kebab-case.take-owned", {k}), Val::u32(7));
}

// ---- resource import and export: a guest resource wrapping a host resource ----

class JcoResourceImportAndExport : public JcoRuntime,
                                   public ::testing::WithParamInterface<const char*> {};

TEST_P(JcoResourceImportAndExport, WrapsHostThings) {
  const std::string kIface = "test:resource-import-and-export/test";
  HostObjects<uint32_t> things;
  const ResourceType* thing = linker_.resource(
      kIface, "thing", [&things](CallContext&, uint32_t rep) { things.drop(rep); });
  host(kIface, "[constructor]thing",
       [&](Args& a) { return Val::own(thing, things.add(a[0].asU32() + 1)); });
  auto foo = [&](const Val& self) { return things.at(self) + 2; };
  host(kIface, "[method]thing.foo", [&, foo](Args& a) { return Val::u32(foo(a[0])); });
  host(kIface, "[method]thing.bar", [&](Args& a) {
    things.at(a[0]) = a[1].asU32() + 3;
    return Val();
  });
  host(kIface, "[static]thing.baz", [&, foo](Args& a) {
    uint32_t sum = foo(a[0]) + foo(a[1]) + 4;
    things.drop(a[0].rep());  // both are owned: the host now owns and drops them
    things.drop(a[1].rep());
    return Val::own(thing, things.add(sum + 1));
  });
  // The world's `use test.{thing}` makes the root-level `thing` the imported interface's type.
  int toplevel = 0;
  host("toplevel-import", "toplevel-import", [&](Args& a) {
    ++toplevel;
    EXPECT_EQ(a[0].resourceType(), thing);
    return a[0];
  });
  ASSERT_TRUE(load(GetParam()));

  Val thing1 = call(kIface, "[constructor]thing", {Val::u32(42)});
  ASSERT_EQ(thing1.kind(), Val::Kind::kOwn);
  EXPECT_FALSE(thing1.resourceType()->isHost());
  EXPECT_EQ(things.live(), 1u);
  auto borrowOf = [](const Val& v) { return Val::borrow(v.resourceType(), v.rep()); };
  // 42 + 1 (guest constructor) + 1 (host constructor) + 2 (host foo) + 2 (guest foo)
  EXPECT_EQ(call(kIface, "[method]thing.foo", {borrowOf(thing1)}), Val::u32(48));
  call(kIface, "[method]thing.bar", {borrowOf(thing1), Val::u32(33)});
  EXPECT_EQ(call(kIface, "[method]thing.foo", {borrowOf(thing1)}), Val::u32(43));
  Val thing2 = call(kIface, "[constructor]thing", {Val::u32(81)});
  Val thing3 = call(kIface, "[static]thing.baz", {thing1, thing2});
  EXPECT_EQ(call(kIface, "[method]thing.foo", {borrowOf(thing3)}),
            Val::u32(33 + 3 + 3 + 81 + 1 + 1 + 2 + 2 + 4 + 1 + 2 + 4 + 1 + 1 + 2 + 2));

  // toplevel-export passes a host `thing` through the guest to toplevel-import and back.
  uint32_t rep = things.add(5);
  Val back = call("", "toplevel-export", {Val::own(thing, rep)});
  EXPECT_EQ(toplevel, 1);
  EXPECT_EQ(back, Val::own(thing, rep));
}

INSTANTIATE_TEST_SUITE_P(CAndRust, JcoResourceImportAndExport,
                         ::testing::Values("runtime/resource-import-and-export.component.wasm",
                                           "runtime/resource_import_and_export.component.wasm"));

// ---- resource borrow simple: a root-level resource and function ----

class JcoResourceBorrowSimple : public JcoRuntime,
                                public ::testing::WithParamInterface<const char*> {};

TEST_P(JcoResourceBorrowSimple, RootLevelResource) {
  int constructed = 0, tested = 0, dropped = 0;
  const ResourceType* r = linker_.resource("r", "r", [&](CallContext&, uint32_t rep) {
    EXPECT_EQ(rep, 7u);
    ++dropped;
  });
  host("[constructor]r", "[constructor]r", [&](Args&) {
    ++constructed;
    return Val::own(r, 7);
  });
  host("test", "test", [&](Args& a) {
    EXPECT_EQ(a[0], Val::borrow(r, 7));
    ++tested;
    return Val();
  });
  ASSERT_TRUE(load(GetParam()));
  call("", "test-imports");
  EXPECT_EQ(constructed, 1);
  EXPECT_EQ(tested, 1);
  EXPECT_EQ(dropped, 1);
}

INSTANTIATE_TEST_SUITE_P(CAndRust, JcoResourceBorrowSimple,
                         ::testing::Values("runtime/resource-borrow-simple.component.wasm",
                                           "runtime/resource_borrow_simple.component.wasm"));

// ---- resource alias: one resource under two names in two exported interfaces ----

TEST_F(JcoRuntime, ResourceAlias) {
  ASSERT_TRUE(load("runtime/resource_alias.component.wasm"));
  const char* kE1 = "test:resource-alias/e1";
  const char* kE2 = "test:resource-alias/e2";
  Val x1 = call(kE1, "[constructor]x", {Val::u32(42)});
  ASSERT_EQ(x1.kind(), Val::Kind::kOwn);
  uint32_t rep1 = x1.rep();
  // e1.a(foo {x}) -> list<x>: the guest hands the same resource back.
  EXPECT_EQ(call(kE1, "a", {Val::record({x1})}), Val::list({Val::own(x1.resourceType(), rep1)}));

  Val x7 = call(kE1, "[constructor]x", {Val::u32(7)});
  Val x8 = call(kE1, "[constructor]x", {Val::u32(8)});
  Val y = call(kE1, "[constructor]x", {Val::u32(8)});
  Val got = call(kE2, "a",
                 {Val::record({x7}), Val::record({x8}), Val::borrow(y.resourceType(), y.rep())});
  EXPECT_EQ(got, Val::list({x7, x8}));
}

// ---- resource borrow export / import / in record ----

TEST_F(JcoRuntime, ResourceBorrowExport) {
  ASSERT_TRUE(load("runtime/resource_borrow_export.component.wasm"));
  const char* kIface = "test:resource-borrow-export/test";
  Val thing = call(kIface, "[constructor]thing", {Val::u32(42)});
  ASSERT_EQ(thing.kind(), Val::Kind::kOwn);
  Val borrow = Val::borrow(thing.resourceType(), thing.rep());
  EXPECT_EQ(call(kIface, "foo", {borrow}), Val::u32(42 + 1 + 2));
  EXPECT_EQ(call(kIface, "foo", {borrow}), Val::u32(42 + 1 + 2));  // still the host's
  // A value that is not a handle is refused.
  EXPECT_FALSE(tryCall(kIface, "foo", {Val::u32(1)}).ok());
}

TEST_F(JcoRuntime, ResourceBorrowImport) {
  const std::string kIface = "test:resource-borrow-import/test";
  HostObjects<uint32_t> things;
  const ResourceType* thing = linker_.resource(
      kIface, "thing", [&things](CallContext&, uint32_t rep) { things.drop(rep); });
  host(kIface, "[constructor]thing",
       [&](Args& a) { return Val::own(thing, things.add(a[0].asU32() + 2)); });
  host(kIface, "foo", [&](Args& a) {
    EXPECT_EQ(a[0].kind(), Val::Kind::kBorrow);
    return Val::u32(things.at(a[0]) + 3);
  });
  ASSERT_TRUE(load("runtime/resource_borrow_import.component.wasm"));
  EXPECT_EQ(call("", "test", {Val::u32(42)}), Val::u32(42 + 1 + 2 + 3 + 4));
  EXPECT_EQ(things.dropped(), 1u);  // the guest's Thing was dropped at the end of `test`
  EXPECT_EQ(things.live(), 0u);
  EXPECT_EQ(call("", "test", {Val::u32(0)}), Val::u32(10));
  EXPECT_EQ(things.dropped(), 2u);
}

TEST_F(JcoRuntime, ResourceBorrowInRecord) {
  const std::string kIface = "test:resource-borrow-in-record/test";
  HostObjects<std::string> things;
  const ResourceType* thing = linker_.resource(
      kIface, "thing", [&things](CallContext&, uint32_t rep) { things.drop(rep); });
  auto make = [&](const std::string& s) { return Val::own(thing, things.add(s + " HostThing")); };
  host(kIface, "[constructor]thing", [&, make](Args& a) { return make(a[0].asString()); });
  host(kIface, "[method]thing.get",
       [&](Args& a) { return str(things.at(a[0]) + " HostThing.get"); });
  host(kIface, "test", [&, make](Args& a) {
    // list<foo>, foo = record {thing: borrow<thing>}
    std::vector<Val> out;
    for (const Val& foo : a[0].elems()) {
      const Val& b = foo.elems()[0];
      EXPECT_EQ(b.kind(), Val::Kind::kBorrow);
      out.push_back(make(things.at(b) + " test"));
    }
    return Val::list(std::move(out));
  });
  ASSERT_TRUE(load("runtime/resource_borrow_in_record.component.wasm"));

  Val t1 = call(kIface, "[constructor]thing", {str("Bonjour")});
  Val t2 = call(kIface, "[constructor]thing", {str("mon cher")});
  auto borrowOf = [](const Val& v) { return Val::borrow(v.resourceType(), v.rep()); };
  Val res =
      call(kIface, "test", {Val::list({Val::record({borrowOf(t1)}), Val::record({borrowOf(t2)})})});
  ASSERT_EQ(res.kind(), Val::Kind::kList);
  std::vector<Val> got;
  for (const Val& t : res.elems()) got.push_back(call(kIface, "[method]thing.get", {borrowOf(t)}));
  EXPECT_EQ(got, (std::vector<Val>{
                     str("Bonjour Thing HostThing test HostThing HostThing.get Thing.get"),
                     str("mon cher Thing HostThing test HostThing HostThing.get Thing.get")}));
}

// ---- resource floats: host and guest resources named alike in three interfaces ----

TEST_F(JcoRuntime, ResourceFloats) {
  HostObjects<double> floats;  // one table, as in wasmtime's host
  auto drop = [&floats](CallContext&, uint32_t rep) { floats.drop(rep); };
  const ResourceType* imported = linker_.resource("imports", "float", drop);
  host("imports", "[constructor]float",
       [&](Args& a) { return Val::own(imported, floats.add(a[0].asF64() + 2)); });
  host("imports", "[method]float.get", [&](Args& a) { return Val::f64(floats.at(a[0]) + 4); });
  host("imports", "[static]float.add", [&](Args& a) {
    double v = floats.at(a[0]) + a[1].asF64() + 6;
    floats.drop(a[0].rep());
    return Val::own(imported, floats.add(v + 2));
  });
  const std::string kTest = "test:resource-floats/test";
  const ResourceType* test_float = linker_.resource(kTest, "float", drop);
  host(kTest, "[constructor]float",
       [&](Args& a) { return Val::own(test_float, floats.add(a[0].asF64() + 1)); });
  host(kTest, "[method]float.get", [&](Args& a) { return Val::f64(floats.at(a[0]) + 3); });
  ASSERT_TRUE(load("runtime/resource_floats.component.wasm"));

  Val f3 = call("exports", "[constructor]float", {Val::f64(22)});
  ASSERT_EQ(f3.kind(), Val::Kind::kOwn);
  auto borrowOf = [](const Val& v) { return Val::borrow(v.resourceType(), v.rep()); };
  EXPECT_EQ(call("exports", "[method]float.get", {borrowOf(f3)}), Val::f64(22. + 1 + 2 + 4 + 3));
  Val res = call("exports", "[static]float.add", {f3, Val::f64(7)});
  EXPECT_EQ(call("exports", "[method]float.get", {borrowOf(res)}), Val::f64(59));

  // add(borrow<float>, borrow<float>) -> float, with the root-level float being the test
  // interface's host resource.
  uint32_t a = floats.add(42 + 1), b = floats.add(55 + 1);
  Val sum = call("", "add", {Val::borrow(test_float, a), Val::borrow(test_float, b)});
  ASSERT_EQ(sum.kind(), Val::Kind::kOwn);
  EXPECT_EQ(sum.resourceType(), test_float);
  EXPECT_EQ(floats.at(sum), (42. + 1 + 3) + (55. + 1 + 3) + 5 + 1);
  EXPECT_TRUE(floats.contains(a));  // borrows stay the host's
  EXPECT_TRUE(floats.contains(b));
}

// ---- versions: two versions of one interface imported and exported side by side ----

TEST_F(JcoRuntime, Versions) {
  host("test:dep/test@0.1.0", "x", [](Args&) { return Val::f32(1); });
  host("test:dep/test@0.1.0", "y",
       [](Args& a) { return Val::f32(1 + static_cast<float>(a[0].asF64())); });
  host("test:dep/test@0.2.0", "x", [](Args&) { return Val::f32(2); });
  host("test:dep/test@0.2.0", "z", [](Args& a) {
    return Val::f32(2 + static_cast<float>(a[0].asF64()) + static_cast<float>(a[1].asF64()));
  });
  ASSERT_TRUE(load("runtime/versions.component.wasm"));
  EXPECT_EQ(call("test:dep/test@0.1.0", "x"), Val::f32(1));
  EXPECT_EQ(call("test:dep/test@0.1.0", "y", {Val::f32(1)}), Val::f32(2));
  EXPECT_EQ(call("test:dep/test@0.2.0", "x"), Val::f32(2));
  EXPECT_EQ(call("test:dep/test@0.2.0", "z", {Val::f32(1), Val::f32(1)}), Val::f32(4));
  EXPECT_FALSE(inst_->exportFunc("test:dep/test@0.2.0", "y").has_value());
  EXPECT_FALSE(inst_->exportFunc("test:dep/test@0.1.0", "z").has_value());
  // A compatible later patch release names the same export.
  EXPECT_EQ(call("test:dep/test@0.2.0", "x"), Val::f32(2));
  call("", "test-imports");
}

TEST_F(JcoRuntime, VersionsNeedBothImportVersions) {
  host("test:dep/test@0.2.0", "x", [](Args&) { return Val::f32(2); });
  host("test:dep/test@0.2.0", "z", [](Args&) { return Val::f32(0); });
  auto bytes = readFile(kFixtures / "runtime/versions.component.wasm");
  ASSERT_TRUE(bytes.ok());
  auto plan = ComponentPlan::create(*engine_, *bytes, linker_);
  ASSERT_FALSE(plan.ok());  // 0.2.0 does not serve an import of 0.1.0
  EXPECT_EQ(plan.error().code(), ErrorCode::kLinkError);
  EXPECT_NE(plan.error().message().find("test:dep/test@0.1.0"), std::string::npos)
      << plan.error().message();
}

TEST_F(JcoRuntime, OtherDependencies) {
  ASSERT_TRUE(load("runtime/other-dependencies.component.wasm"));
  const auto& exports = plan_->info().exports;
  ASSERT_EQ(exports.size(), 1u);
  EXPECT_EQ(exports[0].first, "other:test/test");
}

// ---- small components ----

TEST_F(JcoRuntime, Adder) {
  for (const char* file : {"runtime/adder.component.wasm", "misc/adder.wasm"}) {
    SCOPED_TRACE(file);
    ASSERT_TRUE(load(file));
    EXPECT_EQ(call("docs:adder/add@0.1.0", "add", {Val::u32(1), Val::u32(2)}), Val::u32(3));
    EXPECT_EQ(call("docs:adder/add@0.1.0", "add", {Val::u32(40000), Val::u32(2)}), Val::u32(40002));
    EXPECT_EQ(call("docs:adder/add@0.1.0", "add", {Val::u32(UINT32_MAX), Val::u32(1)}),
              Val::u32(0));  // wraps
    // Asking for a later version than the component exports finds nothing.
    EXPECT_FALSE(inst_->exportFunc("docs:adder/add@0.1.5", "add").has_value());
    EXPECT_FALSE(inst_->exportFunc("docs:adder/add@0.2.0", "add").has_value());
  }
}

TEST_F(JcoRuntime, AsmjsBigint) {
  ASSERT_TRUE(load("runtime/asmjs_bigint.component.wasm"));
  EXPECT_EQ(call("", "add", {Val::s64(1), Val::s64(2)}), Val::s64(3));
  EXPECT_EQ(call("", "add", {Val::s64(int64_t{1} << 33), Val::s64(-(int64_t{1} << 42))}),
            Val::s64(-4389456576512));
  EXPECT_EQ(call("", "add", {Val::s64(INT64_MAX), Val::s64(1)}), Val::s64(INT64_MIN));  // wraps
}

TEST_F(JcoRuntime, AsyncCallIsSynchronousHere) {
  // jco runs call-async through JSPI; for a synchronous host both are plain calls.
  host("something:test/test-interface", "call-async", [](Args&) { return str("called async"); });
  host("something:test/test-interface", "call-sync", [](Args&) { return str("called sync"); });
  ASSERT_TRUE(load("runtime/async_call.component.wasm"));
  EXPECT_EQ(call("", "run-sync"), str("called sync"));
  EXPECT_EQ(call("", "run-async"), str("called async"));
}

TEST_F(JcoRuntime, SimpleNested) {
  // A component whose body instantiates nested components: the export forwards to the import.
  const std::string kMessage = "Hello from Async Function! ✓";
  int calls = 0;
  host("calvinrp:test-async-funcs/hello@0.1.0", "hello-world", [&](Args&) {
    ++calls;
    return str(kMessage);
  });
  ASSERT_TRUE(load("runtime/simple-nested.component.wasm"));
  EXPECT_EQ(call("calvinrp:test-async-funcs/hello@0.1.0", "hello-world"), str(kMessage));
  EXPECT_EQ(calls, 1);
}

TEST_F(JcoRuntime, ExampleGuestExport) {
  ASSERT_TRUE(load("runtime/example_guest_export.wasm"));
  const char* kIface = "example:component/backend@0.1.0";
  Val scalar = call(kIface, "[constructor]scalars");
  ASSERT_EQ(scalar.kind(), Val::Kind::kOwn);
  EXPECT_EQ(call(kIface, "[static]scalars.get-a"), Val::u32(5));
  Val borrow = Val::borrow(scalar.resourceType(), scalar.rep());
  EXPECT_EQ(call(kIface, "[method]scalars.get-b", {borrow}), Val::u32(2));
  EXPECT_EQ(call(kIface, "scalar-arg", {borrow}), Val::u32(7));
}

TEST_F(JcoRuntime, ExampleGuestImport) {
  const std::string kIface = "example2:component/backend@0.1.0";
  uint32_t instances = 0;  // jco's host: each Scalars gets the next instance number
  std::map<uint32_t, uint32_t> instance_of;
  std::vector<uint32_t> received;
  int dropped = 0;
  const ResourceType* scalars =
      linker_.resource(kIface, "scalars", [&](CallContext&, uint32_t) { ++dropped; });
  auto make = [&]() {
    uint32_t rep = instances + 100;
    instance_of[rep] = instances++;
    return rep;
  };
  host(kIface, "[method]scalars.get-b",
       [&](Args& a) { return Val::u32(instance_of.at(a[0].rep())); });
  host(kIface, "fetch", [&](Args& a) {
    EXPECT_EQ(a[0].kind(), Val::Kind::kBorrow);
    received.push_back(a[0].rep());
    return Val::own(scalars, make());
  });
  ASSERT_TRUE(load("runtime/example_guest_import.wasm"));
  const char* kFront = "example2:component/front@0.1.0";
  uint32_t x = make(), y = make();
  EXPECT_EQ(call(kFront, "handle", {Val::own(scalars, x)}), Val::u32(2));
  EXPECT_EQ(call(kFront, "handle", {Val::own(scalars, y)}), Val::u32(4));
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0], x);
  EXPECT_EQ(received[1], y);
  // The guest dropped what it owned: x, y and the two it fetched.
  EXPECT_EQ(dropped, 4);
  // As in jco, the host may hand the same host object in again.
  EXPECT_EQ(call(kFront, "handle", {Val::own(scalars, received[0])}), Val::u32(4));
  EXPECT_EQ(call(kFront, "handle", {Val::own(scalars, received[1])}), Val::u32(6));
}

}  // namespace
}  // namespace cumulus::component
