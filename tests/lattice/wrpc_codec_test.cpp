// The wRPC value codec: byte-exact vectors from PROTOCOL.md §5.4/§5.6, round trips for every
// type (every strict prefix of an encoding must then be rejected as truncated), malformed input,
// async paths and stream chunks.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "lattice/wrpc_codec.h"

namespace cumulus::lattice::wrpc {
namespace {

using component::Prim;
using K = CType::Kind;

CTypePtr make(K kind) {
  auto t = std::make_shared<CType>();
  t->kind = kind;
  return t;
}
CTypePtr prim(Prim p) {
  auto t = std::make_shared<CType>();
  t->kind = K::kPrim;
  t->prim = p;
  return t;
}
CTypePtr withElems(K kind, std::vector<CTypePtr> elems) {
  auto t = std::make_shared<CType>();
  t->kind = kind;
  t->elems = std::move(elems);
  return t;
}
CTypePtr listOf(CTypePtr e) { return withElems(K::kList, {std::move(e)}); }
CTypePtr tupleOf(std::vector<CTypePtr> e) { return withElems(K::kTuple, std::move(e)); }
CTypePtr optionOf(CTypePtr e) { return withElems(K::kOption, {std::move(e)}); }
CTypePtr resultOf(CTypePtr ok, CTypePtr err) { return withElems(K::kResult, {ok, err}); }
CTypePtr streamOf(CTypePtr e) { return withElems(K::kStream, {std::move(e)}); }
CTypePtr futureOf(CTypePtr e) { return withElems(K::kFuture, {std::move(e)}); }
CTypePtr mapOf(CTypePtr k, CTypePtr v) { return withElems(K::kMap, {k, v}); }
CTypePtr withFields(K kind, std::vector<std::pair<std::string, CTypePtr>> fields) {
  auto t = std::make_shared<CType>();
  t->kind = kind;
  t->fields = std::move(fields);
  return t;
}
CTypePtr labelled(K kind, size_t n) {
  auto t = std::make_shared<CType>();
  t->kind = kind;
  for (size_t i = 0; i < n; ++i) t->labels.push_back("l" + std::to_string(i));
  return t;
}

const CTypePtr kString = prim(Prim::kString);
const CTypePtr kU8 = prim(Prim::kU8);
const CTypePtr kU32 = prim(Prim::kU32);

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s.push_back(static_cast<char>(x));
  return s;
}

std::string encode(const CTypePtr& t, const Val& v) {
  std::string out;
  auto r = encodeValue(*t, v, out);
  EXPECT_TRUE(r.ok()) << r.error().message();
  return out;
}

Expected<Val> decode(const CTypePtr& t, std::string_view in) {
  size_t pos = 0;
  auto v = decodeValue(*t, in, pos);
  if (v.ok() && pos != in.size()) return Error(ErrorCode::kInvalidArgument, "trailing bytes");
  return v;
}

void roundTrip(const CTypePtr& t, const Val& v) {
  SCOPED_TRACE(component::toWit(t) + " = " + v.toString());
  std::string enc = encode(t, v);
  auto back = decode(t, enc);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(*back, v) << back->toString();
  for (size_t n = 0; n < enc.size(); ++n) {
    size_t pos = 0;
    auto cut = decodeValue(*t, std::string_view(enc).substr(0, n), pos);
    ASSERT_FALSE(cut.ok()) << "prefix of " << n << " bytes decoded";
    EXPECT_TRUE(isTruncated(cut.error())) << cut.error().message();
  }
}

// The keyvalue store's error variant (wasi:keyvalue/store@0.2.0-draft `error`).
CTypePtr kvError() {
  return withFields(K::kVariant,
                    {{"no-such-store", nullptr}, {"access-denied", nullptr}, {"other", kString}});
}

TEST(WrpcCodec, WorkedExampleKeyvalueGet) {
  // get(bucket: "b", key: "k") -> result<option<list<u8>>, error>, PROTOCOL.md §5.6.
  auto func = withFields(K::kFunc, {{"bucket", kString}, {"key", kString}});
  std::const_pointer_cast<CType>(func)->result = resultOf(optionOf(listOf(kU8)), kvError());
  std::vector<Val> params = {Val::string("b"), Val::string("k")};
  auto enc = encodeTuple(paramTypes(*func), params);
  ASSERT_TRUE(enc.ok());
  EXPECT_EQ(*enc, bytes({0x01, 0x62, 0x01, 0x6b}));
  auto decoded = decodeTuple(paramTypes(*func), *enc);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, params);

  std::string wire = bytes({0x00, 0x01, 0x02, 0x68, 0x69});
  auto results = decodeTuple(resultTypes(*func), wire);
  ASSERT_TRUE(results.ok()) << results.error().message();
  ASSERT_EQ(results->size(), 1u);
  EXPECT_EQ((*results)[0], Val::ok(Val::some(Val::bytes("hi"))));
  std::vector<Val> again = {Val::ok(Val::some(Val::bytes("hi")))};
  EXPECT_EQ(*encodeTuple(resultTypes(*func), again), wire);
  // A list<u8> given as a list of u8 values encodes the same.
  std::vector<Val> as_list = {Val::ok(Val::some(Val::list({Val::u8('h'), Val::u8('i')})))};
  EXPECT_EQ(*encodeTuple(resultTypes(*func), as_list), wire);
  // err(other("x")): discriminant 1, case 2, string.
  std::vector<Val> err = {Val::err(Val::variant(2, {Val::string("x")}))};
  EXPECT_EQ(*encodeTuple(resultTypes(*func), err), bytes({0x01, 0x02, 0x01, 'x'}));
}

TEST(WrpcCodec, Leb128Vectors) {
  EXPECT_EQ(encode(prim(Prim::kS32), Val::s32(-1)), bytes({0x7f}));
  EXPECT_EQ(encode(prim(Prim::kS32), Val::s32(-64)), bytes({0x40}));
  EXPECT_EQ(encode(prim(Prim::kS32), Val::s32(-65)), bytes({0xbf, 0x7f}));
  EXPECT_EQ(encode(prim(Prim::kS32), Val::s32(63)), bytes({0x3f}));
  EXPECT_EQ(encode(prim(Prim::kS32), Val::s32(64)), bytes({0xc0, 0x00}));
  EXPECT_EQ(encode(prim(Prim::kS16), Val::s16(-32768)), bytes({0x80, 0x80, 0x7e}));
  EXPECT_EQ(encode(prim(Prim::kS16), Val::s16(32767)), bytes({0xff, 0xff, 0x01}));
  EXPECT_EQ(encode(prim(Prim::kS64), Val::s64(std::numeric_limits<int64_t>::min())),
            bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f}));
  EXPECT_EQ(encode(kU32, Val::u32(624485)), bytes({0xe5, 0x8e, 0x26}));
  EXPECT_EQ(encode(prim(Prim::kU64), Val::u64(UINT64_MAX)),
            bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
  EXPECT_EQ(encode(prim(Prim::kU16), Val::u16(0)), bytes({0x00}));
  EXPECT_EQ(encode(prim(Prim::kS8), Val::s8(-2)), bytes({0xfe}));  // raw, not LEB128
  EXPECT_EQ(encode(kU8, Val::u8(200)), bytes({0xc8}));
  // Padded (non-minimal) encodings within the width are accepted, as Rust's decoders do.
  EXPECT_EQ(*decode(kU32, bytes({0x81, 0x80, 0x00})), Val::u32(1));
  EXPECT_EQ(*decode(prim(Prim::kS32), bytes({0xff, 0x7f})), Val::s32(-1));
}

TEST(WrpcCodec, ScalarVectors) {
  EXPECT_EQ(encode(prim(Prim::kBool), Val::boolean(true)), bytes({0x01}));
  EXPECT_EQ(encode(prim(Prim::kF32), Val::f32(1.5f)), bytes({0x00, 0x00, 0xc0, 0x3f}));
  EXPECT_EQ(encode(prim(Prim::kF64), Val::f64(-2.0)), bytes({0, 0, 0, 0, 0, 0, 0x00, 0xc0}));
  auto ch = prim(Prim::kChar);
  EXPECT_EQ(encode(ch, Val::character('a')), "a");
  EXPECT_EQ(encode(ch, Val::character(0xe9)), bytes({0xc3, 0xa9}));
  EXPECT_EQ(encode(ch, Val::character(0x20ac)), bytes({0xe2, 0x82, 0xac}));
  EXPECT_EQ(encode(ch, Val::character(0x1f600)), bytes({0xf0, 0x9f, 0x98, 0x80}));
  std::string out;
  EXPECT_FALSE(encodeValue(*ch, Val::character(0xd800), out).ok());  // a surrogate
  EXPECT_EQ(encode(kString, Val::string("hé")), bytes({0x03, 'h', 0xc3, 0xa9}));
}

TEST(WrpcCodec, FlagsUseCeilBytes) {
  EXPECT_EQ(encode(labelled(K::kFlags, 3), Val::flags(0b101)), bytes({0x05}));
  EXPECT_EQ(encode(labelled(K::kFlags, 8), Val::flags(0x80)), bytes({0x80}));
  EXPECT_EQ(encode(labelled(K::kFlags, 9), Val::flags(0x101)), bytes({0x01, 0x01}));
  EXPECT_EQ(encode(labelled(K::kFlags, 24), Val::flags(0x800001)), bytes({0x01, 0x00, 0x80}));
  EXPECT_EQ(encode(labelled(K::kFlags, 32), Val::flags(0xffffffff)),
            bytes({0xff, 0xff, 0xff, 0xff}));
  std::string out;
  EXPECT_FALSE(encodeValue(*labelled(K::kFlags, 3), Val::flags(0x8), out).ok());
  EXPECT_FALSE(decode(labelled(K::kFlags, 3), bytes({0x08})).ok());  // an undeclared bit
}

TEST(WrpcCodec, FlagsAcceptBindgenFullWidthInTuples) {
  // Rust bindgen writes 17-24 flags as a u32: 4 bytes where the spec says 3.
  std::vector<CTypePtr> types = {labelled(K::kFlags, 20), kString};
  std::string canonical = bytes({0x03, 0x00, 0x08, 0x01, 'x'});
  std::string bindgen = bytes({0x03, 0x00, 0x08, 0x00, 0x01, 'x'});
  std::vector<Val> want = {Val::flags(0x080003), Val::string("x")};
  EXPECT_EQ(*encodeTuple(types, want), canonical);
  auto a = decodeTuple(types, canonical);
  auto b = decodeTuple(types, bindgen);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, want);
  EXPECT_EQ(*b, want);
}

TEST(WrpcCodec, RoundTripsEveryType) {
  for (auto p : {Prim::kBool, Prim::kU8, Prim::kS8})
    roundTrip(prim(p), p == Prim::kBool ? Val::boolean(false)
                       : p == Prim::kU8 ? Val::u8(255)
                                        : Val::s8(-128));
  roundTrip(prim(Prim::kS16), Val::s16(-300));
  roundTrip(prim(Prim::kU16), Val::u16(65535));
  roundTrip(prim(Prim::kS32), Val::s32(std::numeric_limits<int32_t>::min()));
  roundTrip(prim(Prim::kS32), Val::s32(std::numeric_limits<int32_t>::max()));
  roundTrip(kU32, Val::u32(UINT32_MAX));
  roundTrip(prim(Prim::kS64), Val::s64(std::numeric_limits<int64_t>::max()));
  roundTrip(prim(Prim::kS64), Val::s64(-1234567890123));
  roundTrip(prim(Prim::kU64), Val::u64(1ull << 63));
  roundTrip(prim(Prim::kF32), Val::f32(-0.25f));
  roundTrip(prim(Prim::kF32), Val::f32(std::nanf("")));
  roundTrip(prim(Prim::kF64), Val::f64(6.02214076e23));
  roundTrip(prim(Prim::kChar), Val::character(0x10ffff));
  roundTrip(kString, Val::string(""));
  roundTrip(kString, Val::string(std::string(300, 'z')));  // a two-byte length
  roundTrip(listOf(kU8), Val::bytes(std::string("\0\1\2\xff", 4)));
  roundTrip(listOf(kU8), Val::bytes(""));
  roundTrip(listOf(kString), Val::list({Val::string("a"), Val::string(""), Val::string("ccc")}));
  roundTrip(listOf(prim(Prim::kS8)), Val::list({Val::s8(-1), Val::s8(1)}));
  roundTrip(tupleOf({kU32, kString, prim(Prim::kBool)}),
            Val::tuple({Val::u32(7), Val::string("t"), Val::boolean(true)}));
  auto nested = withFields(K::kRecord, {{"id", prim(Prim::kU64)},
                                        {"tags", listOf(optionOf(tupleOf({kU32, kString})))},
                                        {"payload", resultOf(listOf(kU8), nullptr)},
                                        {"meta", mapOf(kString, listOf(listOf(kU8)))}});
  roundTrip(
      nested,
      Val::record({Val::u64(99),
                   Val::list({Val::none(), Val::some(Val::tuple({Val::u32(1), Val::string("x")}))}),
                   Val::ok(Val::bytes("body")),
                   Val::list({Val::tuple(
                       {Val::string("k"), Val::list({Val::bytes("v1"), Val::bytes("")})})})}));
  roundTrip(nested, Val::record({Val::u64(0), Val::list({}), Val::errUnit(), Val::list({})}));
  auto var = withFields(K::kVariant, {{"a", nullptr}, {"b", kU32}, {"c", listOf(kString)}});
  roundTrip(var, Val::variant(0));
  roundTrip(var, Val::variant(1, {Val::u32(300)}));
  roundTrip(var, Val::variant(2, {Val::list({Val::string("q")})}));
  auto big_enum = labelled(K::kEnum, 200);  // discriminant 150 takes two LEB128 bytes
  roundTrip(big_enum, Val::enumCase(150));
  EXPECT_EQ(encode(big_enum, Val::enumCase(150)), bytes({0x96, 0x01}));
  roundTrip(optionOf(optionOf(kU32)), Val::some(Val::none()));
  roundTrip(resultOf(nullptr, nullptr), Val::okUnit());
  roundTrip(resultOf(nullptr, kString), Val::err(Val::string("bad")));
  roundTrip(labelled(K::kFlags, 17), Val::flags(0x10001));
  auto own = make(K::kOwn);
  roundTrip(own, Val::bytes(std::string(16, '\x42')));  // e.g. a UUIDv7 handle
  auto fixed = withElems(K::kFixedList, {kU32});
  std::const_pointer_cast<CType>(fixed)->length = 3;
  roundTrip(fixed, Val::list({Val::u32(1), Val::u32(2), Val::u32(3)}));
  EXPECT_EQ(encode(fixed, Val::list({Val::u32(1), Val::u32(2), Val::u32(3)})), bytes({1, 2, 3}));
}

TEST(WrpcCodec, StreamsAndFutures) {
  auto bytes_stream = streamOf(kU8);
  EXPECT_EQ(encode(bytes_stream, asyncPending()), bytes({0x00}));
  EXPECT_EQ(encode(bytes_stream, Val()), bytes({0x00}));  // unit: pending too
  EXPECT_TRUE(isAsyncPending(*decode(bytes_stream, bytes({0x00}))));
  roundTrip(bytes_stream, asyncReady(Val::bytes("abc")));
  EXPECT_EQ(encode(bytes_stream, asyncReady(Val::bytes("abc"))), bytes({0x03, 'a', 'b', 'c'}));
  roundTrip(streamOf(kString), asyncReady(Val::list({Val::string("x")})));
  std::string out;
  EXPECT_FALSE(encodeValue(*bytes_stream, asyncReady(Val::bytes("")), out).ok());
  auto fut = futureOf(optionOf(kString));
  EXPECT_EQ(encode(fut, asyncPending()), bytes({0x00}));
  roundTrip(fut, asyncReady(Val::some(Val::string("t"))));
  EXPECT_EQ(encode(fut, asyncReady(Val::none())), bytes({0x01, 0x00}));
  roundTrip(futureOf(nullptr), asyncReadyUnit());
  EXPECT_FALSE(decode(fut, bytes({0x02})).ok());

  // Chunks on a stream's path: count + elements, an empty chunk ends it.
  EXPECT_EQ(encodeByteChunk("hello"), bytes({0x05, 'h', 'e', 'l', 'l', 'o'}));
  EXPECT_EQ(streamEnd(), bytes({0x00}));
  std::string path_bytes = encodeByteChunk("hel") + encodeByteChunk("lo") + streamEnd();
  size_t used = 0;
  auto partial = decodeStreamChunk(*kU8, std::string_view(path_bytes).substr(0, 3), used);
  ASSERT_TRUE(partial.ok());
  EXPECT_FALSE(partial->has_value());  // wait for more bytes
  std::string got;
  std::string_view rest = path_bytes;
  for (;;) {
    auto chunk = decodeStreamChunk(*kU8, rest, used);
    ASSERT_TRUE(chunk.ok() && chunk->has_value());
    rest.remove_prefix(used);
    if ((*chunk)->asBytes().empty()) break;
    got += (*chunk)->asBytes();
  }
  EXPECT_EQ(got, "hello");
  EXPECT_TRUE(rest.empty());
  std::string strings;
  ASSERT_TRUE(
      encodeStreamChunk(*kString, Val::list({Val::string("a"), Val::string("bc")}), strings).ok());
  EXPECT_EQ(strings, bytes({0x02, 0x01, 'a', 0x02, 'b', 'c'}));
  auto s = decodeStreamChunk(*kString, strings, used);
  ASSERT_TRUE(s.ok() && s->has_value());
  EXPECT_EQ(**s, Val::list({Val::string("a"), Val::string("bc")}));
  EXPECT_FALSE(decodeStreamChunk(*kString, bytes({0x01, 0x01, 0xff}), used).ok());  // bad UTF-8
}

TEST(WrpcCodec, RejectsMalformedInput) {
  auto expectBad = [](const CTypePtr& t, const std::string& in, bool truncated) {
    auto v = decode(t, in);
    ASSERT_FALSE(v.ok()) << component::toWit(t) << " accepted " << v->toString();
    EXPECT_EQ(isTruncated(v.error()), truncated) << v.error().message();
    EXPECT_NE(v.error().message().find("wrpc decode"), std::string::npos) << v.error().message();
  };
  expectBad(prim(Prim::kBool), bytes({0x02}), false);
  expectBad(kString, bytes({0x05, 'a', 'b'}), true);
  expectBad(kString, bytes({0x02, 0xc3, 0x28}), false);            // invalid UTF-8
  expectBad(prim(Prim::kChar), bytes({0xed, 0xa0, 0x80}), false);  // a surrogate
  expectBad(prim(Prim::kChar), bytes({0x80}), false);
  expectBad(kU32, bytes({0xff, 0xff, 0xff, 0xff, 0x1f}), false);        // > 2^32-1
  expectBad(kU32, bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0x01}), false);  // too long
  expectBad(prim(Prim::kU16), bytes({0xff, 0xff, 0x04}), false);
  expectBad(prim(Prim::kS32), bytes({0xff, 0xff, 0xff, 0xff, 0x4f}), false);
  expectBad(prim(Prim::kS64), bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}),
            false);
  expectBad(kU32, bytes({0x80}), true);
  expectBad(optionOf(kU32), bytes({0x02, 0x01}), false);
  expectBad(labelled(K::kEnum, 3), bytes({0x03}), false);
  expectBad(withFields(K::kVariant, {{"a", nullptr}}), bytes({0x80, 0x80, 0x80, 0x80, 0x10}),
            false);
  // A huge count with a few bytes behind it: rejected without allocating for it.
  expectBad(listOf(kString), bytes({0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x00}), true);
  expectBad(listOf(listOf(kU8)), bytes({0xff, 0xff, 0xff, 0xff, 0x0f}), true);
  expectBad(listOf(kU8), bytes({0xff, 0xff, 0xff, 0xff, 0x0f, 0x01}), true);
  expectBad(prim(Prim::kF64), bytes({0, 0, 0}), true);

  std::vector<CTypePtr> two = {kString, kU32};
  auto trailing = decodeTuple(two, bytes({0x00, 0x01, 0x02}));
  ASSERT_FALSE(trailing.ok());
  EXPECT_NE(trailing.error().message().find("trailing"), std::string::npos);
  // An empty result channel: the server's handler failed.
  std::vector<CTypePtr> one = {kU32};
  auto incomplete = decodeTuple(one, "");
  ASSERT_FALSE(incomplete.ok());
  EXPECT_NE(incomplete.error().message().find("incomplete"), std::string::npos);
  EXPECT_TRUE(decodeTuple({}, "")->empty());  // no results: empty is right

  // Values that do not have the type's shape.
  std::string out;
  EXPECT_EQ(encodeValue(*kU32, Val::string("x"), out).error().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(encodeValue(*optionOf(kU32), Val::variant(2), out).ok());
  EXPECT_FALSE(encodeValue(*optionOf(kU32), Val::variant(1), out).ok());  // no payload
  EXPECT_FALSE(encodeValue(*tupleOf({kU32, kU32}), Val::tuple({Val::u32(1)}), out).ok());
  EXPECT_EQ(encodeValue(*make(K::kOwn), Val::own(nullptr, 3), out).error().code(),
            ErrorCode::kUnsupported);
  std::vector<Val> one_val = {Val::u32(1)};
  EXPECT_FALSE(encodeTuple(two, one_val).ok());
}

// A cheap in-process fuzz: mutated valid encodings and random bytes against nested types must
// decode or fail cleanly (run under ASan/UBSan in the sanitizer build), and whatever decodes must
// re-encode to something that decodes to the same value.
TEST(WrpcCodec, MutatedInputNeverCrashes) {
  auto rec = withFields(K::kRecord, {{"a", listOf(optionOf(kString))},
                                     {"b", resultOf(listOf(kU8), labelled(K::kEnum, 3))},
                                     {"c", labelled(K::kFlags, 12)},
                                     {"d", prim(Prim::kS64)},
                                     {"e", prim(Prim::kChar)},
                                     {"f", mapOf(kU32, futureOf(kString))},
                                     {"g", streamOf(tupleOf({prim(Prim::kF32), kU8}))}});
  Val seed = Val::record({Val::list({Val::some(Val::string("abc")), Val::none()}),
                          Val::ok(Val::bytes("xyz")), Val::flags(0x801), Val::s64(-77),
                          Val::character(0x263a),
                          Val::list({Val::tuple({Val::u32(5), asyncReady(Val::string("v"))})}),
                          asyncReady(Val::list({Val::tuple({Val::f32(1.0f), Val::u8(2)})}))});
  std::string valid = encode(rec, seed);
  std::mt19937 rng(12345);
  int decoded = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string in = valid;
    if (i % 10 == 0) {
      in.resize(rng() % 64);
      for (char& c : in) c = static_cast<char>(rng());
    } else {
      for (int m = 0, n = 1 + rng() % 3; m < n && !in.empty(); ++m) {
        size_t at = rng() % in.size();
        switch (rng() % 3) {
          case 0:
            in[at] = static_cast<char>(rng());
            break;
          case 1:
            in.erase(at, 1);
            break;
          default:
            in.insert(at, 1, static_cast<char>(rng()));
            break;
        }
      }
    }
    size_t pos = 0;
    auto v = decodeValue(*rec, in, pos);
    if (!v.ok()) continue;
    ++decoded;
    std::string again = encode(rec, *v);
    auto back = decode(rec, again);
    ASSERT_TRUE(back.ok()) << back.error().message();
    EXPECT_EQ(*back, *v);
  }
  EXPECT_GT(decoded, 0);
}

TEST(WrpcCodec, AsyncPaths) {
  // wrpc:http/types request / response (the relevant shape) and handle()'s signature.
  auto fields = listOf(tupleOf({kString, listOf(listOf(kU8))}));
  auto request = withFields(K::kRecord, {{"body", streamOf(kU8)},
                                         {"trailers", futureOf(optionOf(fields))},
                                         {"path-with-query", optionOf(kString)},
                                         {"headers", fields}});
  auto response = withFields(K::kRecord, {{"body", streamOf(kU8)},
                                          {"trailers", futureOf(optionOf(fields))},
                                          {"status", prim(Prim::kU16)},
                                          {"headers", fields}});
  auto error_code =
      withFields(K::kVariant, {{"dns-timeout", nullptr}, {"internal-error", optionOf(kString)}});
  std::vector<CTypePtr> params = {request};
  std::vector<CTypePtr> results = {resultOf(response, error_code)};
  std::vector<AsyncPath> want = {{0u, 0u}, {0u, 1u}};
  EXPECT_EQ(asyncTuplePaths(params), want);
  EXPECT_EQ(asyncTuplePaths(results), want);
  EXPECT_EQ(subscribeSubject("_INBOX.x.params", want[1]), "_INBOX.x.params.0.1");

  // Lists and streams of async values add a wildcard; option is transparent.
  std::vector<CTypePtr> t2 = {kString, listOf(streamOf(kU8)), optionOf(futureOf(kU32)),
                              streamOf(futureOf(kString))};
  std::vector<AsyncPath> want2 = {{1u, std::nullopt}, {2u}, {3u}, {3u, std::nullopt}};
  EXPECT_EQ(asyncTuplePaths(t2), want2);
  EXPECT_EQ(subscribeSubject("R.results", want2[0]), "R.results.1.*");
  std::vector<uint32_t> idx = {1, 4};
  EXPECT_EQ(indexSubject("R.results", idx), "R.results.1.4");
  EXPECT_TRUE(asyncTuplePaths(std::vector<CTypePtr>{kString, listOf(kU8)}).empty());
  // A future of a record holding a stream: the record is index 0 below the future.
  auto fut = futureOf(withFields(K::kRecord, {{"a", kU32}, {"s", streamOf(kU8)}}));
  AsyncPaths p = asyncPaths(*fut);
  EXPECT_TRUE(p.self);
  EXPECT_EQ(p.nested, (std::vector<AsyncPath>{{0u, 1u}}));
}

}  // namespace
}  // namespace cumulus::lattice::wrpc
