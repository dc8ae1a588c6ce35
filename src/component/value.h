// Component-level values: what the canonical ABI lifts out of a component and lowers into one, and
// what host functions (WASI, wRPC, links) receive and return. One dynamic representation serves
// every WIT type; `list<u8>` is kept as bytes (not one Val per byte) because bodies and stream
// chunks are the hot path.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cumulus::component {

struct ResourceType;

// Thrown by accessors when a value is not of the kind a host function expects (the component
// declared an import with a different type than the host implements). The host boundary turns it
// into a trap naming the function.
struct ValKindError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Val {
 public:
  enum class Kind : uint8_t {
    kUnit,  // "no value": the result of a function without one
    kBool,
    kS8,
    kU8,
    kS16,
    kU16,
    kS32,
    kU32,
    kS64,
    kU64,
    kF32,
    kF64,
    kChar,
    kString,
    kBytes,  // list<u8>
    kList,
    kRecord,
    kTuple,
    kVariant,  // also enum (no payload), option (0 none, 1 some), result (0 ok, 1 err)
    kFlags,
    kOwn,
    kBorrow,
  };

  Val() = default;
  static Val boolean(bool b) { return scalar(Kind::kBool, b ? 1 : 0); }
  static Val s8(int8_t v) { return scalar(Kind::kS8, static_cast<uint64_t>(int64_t{v})); }
  static Val u8(uint8_t v) { return scalar(Kind::kU8, v); }
  static Val s16(int16_t v) { return scalar(Kind::kS16, static_cast<uint64_t>(int64_t{v})); }
  static Val u16(uint16_t v) { return scalar(Kind::kU16, v); }
  static Val s32(int32_t v) { return scalar(Kind::kS32, static_cast<uint64_t>(int64_t{v})); }
  static Val u32(uint32_t v) { return scalar(Kind::kU32, v); }
  static Val s64(int64_t v) { return scalar(Kind::kS64, static_cast<uint64_t>(v)); }
  static Val u64(uint64_t v) { return scalar(Kind::kU64, v); }
  static Val f32(float v) {
    Val x(Kind::kF32);
    x.f64_ = v;
    return x;
  }
  static Val f64(double v) {
    Val x(Kind::kF64);
    x.f64_ = v;
    return x;
  }
  static Val character(uint32_t c) { return scalar(Kind::kChar, c); }
  static Val string(std::string s) {
    Val x(Kind::kString);
    x.str_ = std::move(s);
    return x;
  }
  // The form a string had in the guest it was lifted from. The canonical ABI's transcoding into
  // another guest depends on it (its realloc sizes and calls follow the source encoding and code
  // unit count); host strings are UTF-8. It does not take part in equality.
  enum class StringForm : uint8_t {
    kUtf8,
    kUtf16,
    kLatin1,       // latin1+utf16, untagged
    kLatin1Utf16,  // latin1+utf16, tagged UTF-16
  };
  static Val string(std::string s, StringForm form) {
    Val x = string(std::move(s));
    x.bits_ = static_cast<uint64_t>(form);
    return x;
  }
  StringForm stringForm() const { return static_cast<StringForm>(expect(Kind::kString).bits_); }
  static Val bytes(std::string b) {
    Val x(Kind::kBytes);
    x.str_ = std::move(b);
    return x;
  }
  static Val list(std::vector<Val> elems) { return aggregate(Kind::kList, std::move(elems)); }
  static Val record(std::vector<Val> fields) { return aggregate(Kind::kRecord, std::move(fields)); }
  static Val tuple(std::vector<Val> elems) { return aggregate(Kind::kTuple, std::move(elems)); }
  // A variant case; `payload` empty for cases without one.
  static Val variant(uint32_t c, std::vector<Val> payload = {}) {
    Val x = aggregate(Kind::kVariant, std::move(payload));
    x.bits_ = c;
    return x;
  }
  static Val enumCase(uint32_t c) { return variant(c); }
  static Val none() { return variant(0); }
  static Val some(Val v) { return variant(1, one(std::move(v))); }
  static Val ok(Val v) { return variant(0, one(std::move(v))); }
  static Val okUnit() { return variant(0); }
  static Val err(Val v) { return variant(1, one(std::move(v))); }
  static Val errUnit() { return variant(1); }
  static Val flags(uint32_t bits) { return scalar(Kind::kFlags, bits); }
  static Val own(const ResourceType* type, uint32_t rep) { return handle(Kind::kOwn, type, rep); }
  static Val borrow(const ResourceType* type, uint32_t rep) {
    return handle(Kind::kBorrow, type, rep);
  }

  Kind kind() const { return kind_; }
  bool isUnit() const { return kind_ == Kind::kUnit; }

  // Accessors check the kind (ValKindError otherwise).
  bool asBool() const { return expect(Kind::kBool).bits_ != 0; }
  // Any integer kind (and char, flags) as its raw bits, sign-extended for signed kinds.
  uint64_t asU64() const;
  int64_t asS64() const { return static_cast<int64_t>(asU64()); }
  uint32_t asU32() const { return static_cast<uint32_t>(asU64()); }
  double asF64() const;
  const std::string& asString() const { return expect(Kind::kString).str_; }
  std::string& asString() { return const_cast<std::string&>(std::as_const(*this).asString()); }
  const std::string& asBytes() const { return expect(Kind::kBytes).str_; }
  std::string& asBytes() { return const_cast<std::string&>(std::as_const(*this).asBytes()); }
  const std::vector<Val>& elems() const;  // list, record, tuple; variant payload (0 or 1)
  std::vector<Val>& elems() { return const_cast<std::vector<Val>&>(std::as_const(*this).elems()); }
  uint32_t discriminant() const { return static_cast<uint32_t>(expect(Kind::kVariant).bits_); }
  bool hasPayload() const { return !expect(Kind::kVariant).elems_.empty(); }
  const Val& payload() const;
  uint32_t flagBits() const { return static_cast<uint32_t>(expect(Kind::kFlags).bits_); }
  // own or borrow
  const ResourceType* resourceType() const;
  uint32_t rep() const;

  // Raw access for the canonical ABI (no kind check).
  uint64_t rawBits() const { return bits_; }
  double rawFloat() const { return f64_; }
  const std::string& rawString() const { return str_; }
  std::string& rawString() { return str_; }
  const std::vector<Val>& rawElems() const { return elems_; }

  // Debug form ("ok(\"hi\")", "[1, 2]"), used by tests and `cumulus call`-style tools.
  std::string toString() const;
  bool operator==(const Val& o) const;

  static const char* kindName(Kind k);

 private:
  explicit Val(Kind k) : kind_(k) {}
  static Val scalar(Kind k, uint64_t bits) {
    Val x(k);
    x.bits_ = bits;
    return x;
  }
  static Val aggregate(Kind k, std::vector<Val> elems) {
    Val x(k);
    x.elems_ = std::move(elems);
    return x;
  }
  static std::vector<Val> one(Val v) {
    std::vector<Val> out;
    out.push_back(std::move(v));
    return out;
  }
  static Val handle(Kind k, const ResourceType* type, uint32_t rep) {
    Val x(k);
    x.bits_ = rep;
    x.resource_ = type;
    return x;
  }
  const Val& expect(Kind k) const;

  Kind kind_ = Kind::kUnit;
  uint64_t bits_ = 0;
  double f64_ = 0;
  const ResourceType* resource_ = nullptr;
  std::string str_;
  std::vector<Val> elems_;
};

}  // namespace cumulus::component
