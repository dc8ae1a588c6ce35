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
#include "component/decoder.h"
#include "component/resolve.h"
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
    linker_.func(iface, name, [fn = std::move(fn)](CallContext&, Args& a) -> Expected<Val> {
      return fn(a);
    });
  }

  // Plans and instantiates `file` (relative to the jco fixtures) with the host functions
  // registered so far and WASI capturing stdout/stderr.
  ::testing::AssertionResult load(const std::string& file) {
    auto bytes = readFile(kFixtures / file);
    if (!bytes.ok()) return ::testing::AssertionFailure() << bytes.error().message();
    bytes_ = std::move(*bytes);
    stubMissingFilesystem();
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

  const ResourceType* resourceOf(const Val& handle) { return handle.resourceType(); }

  std::filesystem::path cache_;
  std::unique_ptr<engine::Engine> engine_;
  Linker linker_;
  std::shared_ptr<wasi::Types> wasi_types_;
  std::vector<uint8_t> bytes_;
  std::shared_ptr<ComponentPlan> plan_;
  std::unique_ptr<wasi::WasiCtx> wasi_;
  std::shared_ptr<ComponentInstance> inst_;
  std::string stdout_, stderr_;

 private:
  // Almost every fixture imports wasi:filesystem (wasi-libc's preview 1 adapter does), which is
  // still being written: functions the WASI host does not define yet are stubbed here so the
  // canonical ABI can be tested meanwhile. get-directories says there are no preopens; the
  // others trap if a guest calls them (none of these tests does). Once the real implementation
  // lands, it is used instead.
  void stubMissingFilesystem() {
    auto c = decode(bytes_);
    if (!c.ok()) return;
    auto info = resolve(*c, bytes_);
    if (!info.ok()) return;
    for (const auto& [name, item] : info->imports) {
      if (!name.starts_with("wasi:filesystem/") || item.kind != ExternType::Kind::kInstance)
        continue;
      std::string iface = wasi::iface(name.substr(0, name.find('@')));
      const HostInterface* have = linker_.find(name);
      for (const auto& [en, e] : item.type->exports) {
        if (e.kind == ExternType::Kind::kType && e.type && e.type->kind == CType::Kind::kResource) {
          if ((!have || !have->resources.count(en)) && (en == "descriptor" ||
                                                       en == "directory-entry-stream"))
            linker_.resource(iface, en, wasi::dropObject);
          continue;
        }
        if (e.kind != ExternType::Kind::kFunc || (have && have->funcs.count(en))) continue;
        if (en == "get-directories") {
          host(iface, en, [](Args&) { return Val::list({}); });
        } else {
          linker_.func(iface, en, [en = en](CallContext&, Args&) -> Expected<Val> {
            return makeError(ErrorCode::kTrap, "test stub: {} is not implemented", en);
          });
        }
      }
    }
  }
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
  h("list-param-large", [](Args& a) {
    EXPECT_EQ(a[0].elems().size(), 1000u);
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
  h("list-minmax-float",
    minmax(Val::list({Val::f32(std::numeric_limits<float>::lowest()),
                      Val::f32(std::numeric_limits<float>::max()), Val::f32(-kFInf),
                      Val::f32(kFInf)}),
           Val::list({Val::f64(std::numeric_limits<double>::lowest()),
                      Val::f64(std::numeric_limits<double>::max()), Val::f64(-kDInf),
                      Val::f64(kDInf)})));
  ASSERT_TRUE(load("runtime/lists.component.wasm"));

  Val bytes_before = call("", "allocated-bytes");
  call("", "test-imports");
  for (const char* f : {"empty-list-param", "empty-string-param", "empty-list-result",
                        "empty-string-result", "list-param", "list-param2", "list-param3",
                        "list-param4", "list-result", "list-result2", "list-result3",
                        "list-roundtrip", "string-roundtrip", "list-minmax8", "list-minmax16",
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
  EXPECT_EQ(call(kIface, "string-roundtrip", {str("🚀 \0 x")}), str("🚀 \0 x"));
  // Invalid UTF-8 from the host is refused before it reaches the guest.
  auto bad = tryCall(kIface, "string-roundtrip", {str("\xff\xfe")});
  EXPECT_FALSE(bad.ok());
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
    if (a[0].discriminant() == 0) return Val::ok(Val::f64(static_cast<double>(a[0].payload().asU64())));
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
  // A case index past the last case is refused.
  EXPECT_FALSE(tryCall(kIface, "roundtrip-enum", {Val::enumCase(2)}).ok());
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
  host(kIface, "string-error", [=](Args& a) {
    return isZero(a[0]) ? Val::err(str("zero")) : Val::ok(a[0]);
  });
  host(kIface, "enum-error", [=](Args& a) {
    return isZero(a[0]) ? Val::err(Val::enumCase(0)) : Val::ok(a[0]);
  });
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

}  // namespace
}  // namespace cumulus::component
