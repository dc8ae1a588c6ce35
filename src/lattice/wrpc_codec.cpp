// The wRPC value codec; see wrpc_codec.h for the representation choices and error contract.
#include "lattice/wrpc_codec.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "base/binary.h"

namespace cumulus::lattice::wrpc {
namespace {

using component::Prim;
using K = CType::Kind;
using VK = Val::Kind;

static_assert(std::endian::native == std::endian::little,
              "the f32/f64 and flags encodings copy little-endian bytes");

// How many Vals one decode may build. Every element takes at least one input byte, so counts
// cannot outrun the input, but one input byte can become a ~100-byte Val: this caps the
// expansion for inputs that are large and legitimate-looking (16 M values ~ 1.5 GiB at most).
constexpr size_t kMaxDecodedValues = size_t{1} << 24;

std::string wit(const CType& t) { return component::toWit(CTypePtr(CTypePtr(), &t)); }

// flags of 17-24 labels: Rust bindgen's encoder writes them as a u32 (4 bytes, not 3).
bool hasWideFlags(const CType* t) {
  if (t == nullptr) return false;
  if (t->kind == K::kFlags) return t->labels.size() > 16 && t->labels.size() <= 24;
  for (const auto& [n, f] : t->fields)
    if (hasWideFlags(f.get())) return true;
  for (const auto& e : t->elems)
    if (hasWideFlags(e.get())) return true;
  return false;
}

// The payload type of case `c` of a variant-like type (null: the case has none), or an error
// when `c` is out of range.
Expected<const CType*> caseType(const CType& t, uint64_t c) {
  size_t n = 0;
  const CType* payload = nullptr;
  switch (t.kind) {
    case K::kVariant:
      n = t.fields.size();
      if (c < n) payload = t.fields[c].second.get();
      break;
    case K::kEnum:
      n = t.labels.size();
      break;
    case K::kOption:
      n = 2;
      if (c == 1) payload = t.elems[0].get();
      break;
    case K::kResult:
      n = 2;
      if (c < 2) payload = t.elems[c].get();
      break;
    default:
      return makeError(ErrorCode::kInternal, "wrpc: {} is not a variant type", wit(t));
  }
  if (c >= n) {
    return makeError(ErrorCode::kInvalidArgument, "wrpc: case {} out of range for {} ({} cases)", c,
                     wit(t), n);
  }
  return payload;
}

std::optional<VK> primKind(Prim p) {
  switch (p) {
    case Prim::kBool:
      return VK::kBool;
    case Prim::kS8:
      return VK::kS8;
    case Prim::kU8:
      return VK::kU8;
    case Prim::kS16:
      return VK::kS16;
    case Prim::kU16:
      return VK::kU16;
    case Prim::kS32:
      return VK::kS32;
    case Prim::kU32:
      return VK::kU32;
    case Prim::kS64:
      return VK::kS64;
    case Prim::kU64:
      return VK::kU64;
    case Prim::kF32:
      return VK::kF32;
    case Prim::kF64:
      return VK::kF64;
    case Prim::kChar:
      return VK::kChar;
    case Prim::kString:
      return VK::kString;
    case Prim::kErrorContext:
      return std::nullopt;
  }
  return std::nullopt;
}

Val withPayload(uint32_t c, Val v) {
  std::vector<Val> p;  // not an initializer list: that would copy `v` deeply
  p.push_back(std::move(v));
  return Val::variant(c, std::move(p));
}

bool isU8(const CType* t) { return t && t->kind == K::kPrim && t->prim == Prim::kU8; }

// --- encoding ------------------------------------------------------------------------------

void putUleb(std::string& out, uint64_t v) {
  do {
    auto b = static_cast<uint8_t>(v & 0x7f);
    v >>= 7;
    if (v != 0) b |= 0x80;
    out.push_back(static_cast<char>(b));
  } while (v != 0);
}

void putSleb(std::string& out, int64_t v) {
  for (;;) {
    auto b = static_cast<uint8_t>(v & 0x7f);
    v >>= 7;  // arithmetic shift (C++20)
    bool done = (v == 0 && !(b & 0x40)) || (v == -1 && (b & 0x40));
    out.push_back(static_cast<char>(done ? b : b | 0x80));
    if (done) return;
  }
}

void putUtf8(std::string& out, uint32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
  }
}

Error shapeError(const CType& t, const Val& v) {
  return makeError(ErrorCode::kInvalidArgument, "wrpc encode: a {} value does not have type {}",
                   Val::kindName(v.kind()), wit(t));
}

Expected<void> putLength(std::string& out, size_t n, const CType& t) {
  if (n > UINT32_MAX)
    return makeError(ErrorCode::kInvalidArgument, "wrpc encode: {} longer than 2^32-1", wit(t));
  putUleb(out, n);
  return {};
}

Expected<void> encodeList(const CType& t, const CType& elem, const Val& v, std::string& out) {
  if (v.kind() == VK::kBytes) {
    if (elem.kind != K::kPrim || (elem.prim != Prim::kU8 && elem.prim != Prim::kS8))
      return shapeError(t, v);
    CUMULUS_TRY_VOID(putLength(out, v.rawString().size(), t));
    out += v.rawString();
    return {};
  }
  if (v.kind() != VK::kList) return shapeError(t, v);
  CUMULUS_TRY_VOID(putLength(out, v.rawElems().size(), t));
  for (const Val& e : v.rawElems()) CUMULUS_TRY_VOID(encodeValue(elem, e, out));
  return {};
}

Expected<void> encodePrim(const CType& t, const Val& v, std::string& out) {
  auto want = primKind(t.prim);
  if (!want) {
    return makeError(ErrorCode::kUnsupported, "wrpc: error-context values have no wire form");
  }
  if (v.kind() != *want) return shapeError(t, v);
  uint64_t bits = v.rawBits();
  switch (t.prim) {
    case Prim::kBool:
    case Prim::kS8:
    case Prim::kU8:
      out.push_back(static_cast<char>(bits & 0xff));
      return {};
    case Prim::kS16:
    case Prim::kS32:
    case Prim::kS64:
      putSleb(out, static_cast<int64_t>(bits));
      return {};
    case Prim::kU16:
    case Prim::kU32:
    case Prim::kU64:
      putUleb(out, bits);
      return {};
    case Prim::kF32: {
      auto f = static_cast<float>(v.rawFloat());
      char b[4];
      std::memcpy(b, &f, 4);
      out.append(b, 4);
      return {};
    }
    case Prim::kF64: {
      double d = v.rawFloat();
      char b[8];
      std::memcpy(b, &d, 8);
      out.append(b, 8);
      return {};
    }
    case Prim::kChar:
      if (bits >= 0x110000 || (bits >= 0xd800 && bits <= 0xdfff)) {
        return makeError(ErrorCode::kInvalidArgument,
                         "wrpc encode: char {:#x} is not a Unicode scalar value", bits);
      }
      putUtf8(out, static_cast<uint32_t>(bits));
      return {};
    case Prim::kString:
      CUMULUS_TRY_VOID(putLength(out, v.rawString().size(), t));
      out += v.rawString();
      return {};
    case Prim::kErrorContext:
      break;
  }
  return {};
}

Expected<void> encodeAsync(const CType& t, const Val& v, std::string& out) {
  if (v.kind() == VK::kUnit || isAsyncPending(v)) {
    out.push_back('\0');
    return {};
  }
  if (v.kind() != VK::kVariant || v.rawBits() != 1) return shapeError(t, v);
  const CType* elem = t.elems[0].get();
  if (t.kind == K::kFuture) {
    out.push_back('\1');
    if (elem == nullptr) return {};
    if (v.rawElems().size() != 1) return shapeError(t, v);
    return encodeValue(*elem, v.rawElems()[0], out);
  }
  if (elem == nullptr) return makeError(ErrorCode::kUnsupported, "wrpc: untyped stream values");
  if (v.rawElems().size() != 1) return shapeError(t, v);
  const Val& list = v.rawElems()[0];
  bool empty = list.kind() == VK::kBytes ? list.rawString().empty() : list.rawElems().empty();
  if (empty) {
    return makeError(ErrorCode::kInvalidArgument,
                     "wrpc encode: an inline {} must not be empty (an empty list means pending: "
                     "send asyncPending() and an empty chunk on the stream's path)",
                     wit(t));
  }
  return encodeList(t, *elem, list, out);
}

// --- decoding ------------------------------------------------------------------------------

class Decoder {
 public:
  Decoder(std::string_view in, size_t pos, bool wide_flags)
      : in_(in), pos_(pos), wide_flags_(wide_flags) {}
  size_t pos() const { return pos_; }
  Expected<Val> value(const CType& t);
  Expected<uint32_t> length(const CType& t);
  Expected<Val> listElems(const CType& elem, uint32_t count);

 private:
  size_t left() const { return in_.size() - pos_; }
  Error truncated(const CType& t) const {
    return makeError(ErrorCode::kInvalidArgument,
                     "wrpc decode: input ends at byte {} inside a value of type {}", pos_, wit(t))
        .withDetail(kTruncated);
  }
  template <typename... Args>
  Error bad(fmt::format_string<Args...> f, Args&&... args) const {
    return makeError(ErrorCode::kInvalidArgument, "wrpc decode: {} (at byte {})",
                     fmt::format(f, std::forward<Args>(args)...), pos_);
  }
  Expected<void> count(size_t n) {
    values_ += n;
    if (values_ > kMaxDecodedValues) {
      return makeError(ErrorCode::kResourceLimit, "wrpc decode: more than {} values in one message",
                       kMaxDecodedValues);
    }
    return {};
  }
  Expected<uint64_t> uleb(const CType& t, int bits);
  Expected<int64_t> sleb(const CType& t, int bits);
  Expected<uint8_t> byte(const CType& t) {
    if (left() < 1) return truncated(t);
    return static_cast<uint8_t>(in_[pos_++]);
  }
  Expected<std::string_view> take(const CType& t, size_t n) {
    if (left() < n) return truncated(t);
    std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  Expected<Val> prim(const CType& t);
  Expected<Val> variant(const CType& t);
  Expected<Val> flags(const CType& t);

  std::string_view in_;
  size_t pos_;
  bool wide_flags_;
  size_t values_ = 0;
};

Expected<uint64_t> Decoder::uleb(const CType& t, int bits) {
  uint64_t v = 0;
  auto span = std::span(reinterpret_cast<const uint8_t*>(in_.data()), in_.size());
  size_t start = pos_;
  if (const char* err = readUleb128(span, pos_, bits, v)) {
    if (std::strcmp(err, "unexpected end") == 0) {
      pos_ = start;
      return truncated(t);
    }
    return bad("{} in a u{} LEB128 of {}", err, bits, wit(t));
  }
  return v;
}

Expected<int64_t> Decoder::sleb(const CType& t, int bits) {
  const int last = (bits - 1) / 7;   // index of the last byte allowed
  const int used = bits - 7 * last;  // bits of that byte that carry the value (incl. its sign)
  uint64_t result = 0;
  size_t start = pos_;
  for (int i = 0;; ++i) {
    if (left() < 1) {
      pos_ = start;
      return truncated(t);
    }
    auto b = static_cast<uint8_t>(in_[pos_++]);
    result |= uint64_t(b & 0x7f) << (7 * i);
    if (i == last) {
      // The bits above the value must repeat its sign bit, and the encoding ends here.
      if (b & 0x80) return bad("integer representation too long in an s{} LEB128", bits);
      uint8_t high = static_cast<uint8_t>((b & 0x7f) >> (used - 1));
      uint8_t all = static_cast<uint8_t>(0x7f >> (used - 1));
      if (high != 0 && high != all) return bad("integer too large for s{}", bits);
      if (high != 0 && 7 * (i + 1) < 64) result |= ~uint64_t{0} << (7 * (i + 1));
      break;
    }
    if (!(b & 0x80)) {
      if (b & 0x40) result |= ~uint64_t{0} << (7 * (i + 1));
      break;
    }
  }
  return static_cast<int64_t>(result);
}

Expected<uint32_t> Decoder::length(const CType& t) {
  CUMULUS_TRY(uint64_t n, uleb(t, 32));
  return static_cast<uint32_t>(n);
}

Expected<Val> Decoder::prim(const CType& t) {
  switch (t.prim) {
    case Prim::kBool: {
      CUMULUS_TRY(uint8_t b, byte(t));
      if (b > 1) return bad("bool byte {:#04x} is neither 0 nor 1", b);
      return Val::boolean(b == 1);
    }
    case Prim::kS8: {
      CUMULUS_TRY(uint8_t b, byte(t));
      return Val::s8(static_cast<int8_t>(b));
    }
    case Prim::kU8: {
      CUMULUS_TRY(uint8_t b, byte(t));
      return Val::u8(b);
    }
    case Prim::kS16: {
      CUMULUS_TRY(int64_t v, sleb(t, 16));
      return Val::s16(static_cast<int16_t>(v));
    }
    case Prim::kU16: {
      CUMULUS_TRY(uint64_t v, uleb(t, 16));
      return Val::u16(static_cast<uint16_t>(v));
    }
    case Prim::kS32: {
      CUMULUS_TRY(int64_t v, sleb(t, 32));
      return Val::s32(static_cast<int32_t>(v));
    }
    case Prim::kU32: {
      CUMULUS_TRY(uint64_t v, uleb(t, 32));
      return Val::u32(static_cast<uint32_t>(v));
    }
    case Prim::kS64: {
      CUMULUS_TRY(int64_t v, sleb(t, 64));
      return Val::s64(v);
    }
    case Prim::kU64: {
      CUMULUS_TRY(uint64_t v, uleb(t, 64));
      return Val::u64(v);
    }
    case Prim::kF32: {
      CUMULUS_TRY(std::string_view b, take(t, 4));
      float f;
      std::memcpy(&f, b.data(), 4);
      return Val::f32(f);
    }
    case Prim::kF64: {
      CUMULUS_TRY(std::string_view b, take(t, 8));
      double d;
      std::memcpy(&d, b.data(), 8);
      return Val::f64(d);
    }
    case Prim::kChar: {
      if (left() < 1) return truncated(t);
      auto lead = static_cast<uint8_t>(in_[pos_]);
      size_t n = lead < 0x80         ? 1
                 : (lead >> 5) == 6  ? 2
                 : (lead >> 4) == 14 ? 3
                 : (lead >> 3) == 30 ? 4
                                     : 0;
      if (n == 0) return bad("byte {:#04x} cannot start a UTF-8 char", lead);
      CUMULUS_TRY(std::string_view s, take(t, n));
      if (!isValidUtf8(s)) return bad("invalid UTF-8 in a char");
      uint32_t c = n == 1 ? lead : lead & (0x7f >> n);
      for (size_t i = 1; i < n; ++i) c = (c << 6) | (static_cast<uint8_t>(s[i]) & 0x3f);
      return Val::character(c);
    }
    case Prim::kString: {
      CUMULUS_TRY(uint32_t n, length(t));
      CUMULUS_TRY(std::string_view s, take(t, n));
      if (!isValidUtf8(s)) return bad("string is not valid UTF-8");
      return Val::string(std::string(s));
    }
    case Prim::kErrorContext:
      break;
  }
  return makeError(ErrorCode::kUnsupported, "wrpc: error-context values have no wire form");
}

Expected<Val> Decoder::listElems(const CType& elem, uint32_t n) {
  if (isU8(&elem)) {
    CUMULUS_TRY(std::string_view s, take(elem, n));
    return Val::bytes(std::string(s));
  }
  // Every element takes at least one byte: a count beyond the input is a lie, caught before
  // allocating anything for it.
  if (n > left()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "wrpc decode: list of {} elements of {} but only {} bytes left (at byte {})",
                     n, wit(elem), left(), pos_)
        .withDetail(kTruncated);
  }
  CUMULUS_TRY_VOID(count(n));
  std::vector<Val> out;
  out.reserve(std::min<uint32_t>(n, 1024));
  for (uint32_t i = 0; i < n; ++i) {
    CUMULUS_TRY(Val v, value(elem));
    out.push_back(std::move(v));
  }
  return Val::list(std::move(out));
}

Expected<Val> Decoder::variant(const CType& t) {
  uint64_t c = 0;
  if (t.kind == K::kOption || t.kind == K::kResult) {
    CUMULUS_TRY(uint8_t b, byte(t));
    c = b;
  } else {
    CUMULUS_TRY(c, uleb(t, 32));
  }
  auto payload = caseType(t, c);
  if (!payload.ok()) return bad("{}", payload.error().message());
  if (*payload == nullptr) return Val::variant(static_cast<uint32_t>(c));
  CUMULUS_TRY(Val v, value(**payload));
  return withPayload(static_cast<uint32_t>(c), std::move(v));
}

Expected<Val> Decoder::flags(const CType& t) {
  size_t n = t.labels.size();
  size_t width = (n + 7) / 8;
  if (wide_flags_ && n > 16 && n <= 24) width = 4;
  CUMULUS_TRY(std::string_view b, take(t, width));
  uint64_t bits = 0;
  for (size_t i = 0; i < width; ++i) bits |= uint64_t(static_cast<uint8_t>(b[i])) << (8 * i);
  if (n < 64 && (bits >> n) != 0)
    return bad("flags value {:#x} sets undeclared bits of {}", bits, wit(t));
  return Val::flags(static_cast<uint32_t>(bits));
}

Expected<Val> Decoder::value(const CType& t) {
  switch (t.kind) {
    case K::kPrim:
      return prim(t);
    case K::kList: {
      CUMULUS_TRY(uint32_t n, length(t));
      return listElems(*t.elems[0], n);
    }
    case K::kMap: {
      CUMULUS_TRY(uint32_t n, length(t));
      CType entry;
      entry.kind = K::kTuple;
      entry.elems = t.elems;
      return listElems(entry, n);
    }
    case K::kFixedList: {
      CUMULUS_TRY_VOID(count(t.length));
      std::vector<Val> out;
      for (uint32_t i = 0; i < t.length; ++i) {
        CUMULUS_TRY(Val v, value(*t.elems[0]));
        out.push_back(std::move(v));
      }
      return Val::list(std::move(out));
    }
    case K::kRecord:
    case K::kTuple: {
      size_t n = t.kind == K::kRecord ? t.fields.size() : t.elems.size();
      CUMULUS_TRY_VOID(count(n));
      std::vector<Val> out;
      out.reserve(n);
      for (size_t i = 0; i < n; ++i) {
        CUMULUS_TRY(Val v, value(t.kind == K::kRecord ? *t.fields[i].second : *t.elems[i]));
        out.push_back(std::move(v));
      }
      return t.kind == K::kRecord ? Val::record(std::move(out)) : Val::tuple(std::move(out));
    }
    case K::kVariant:
    case K::kEnum:
    case K::kOption:
    case K::kResult:
      return variant(t);
    case K::kFlags:
      return flags(t);
    case K::kOwn:
    case K::kBorrow: {
      CUMULUS_TRY(uint32_t n, length(t));
      CUMULUS_TRY(std::string_view s, take(t, n));
      return Val::bytes(std::string(s));
    }
    case K::kStream: {
      if (!t.elems[0]) return makeError(ErrorCode::kUnsupported, "wrpc: untyped stream values");
      CUMULUS_TRY(uint32_t n, length(t));
      if (n == 0) return asyncPending();
      CUMULUS_TRY(Val list, listElems(*t.elems[0], n));
      return asyncReady(std::move(list));
    }
    case K::kFuture: {
      CUMULUS_TRY(uint8_t b, byte(t));
      if (b == 0) return asyncPending();
      if (b != 1) return bad("future status byte {:#04x} is neither 0 (pending) nor 1", b);
      if (!t.elems[0]) return asyncReadyUnit();
      CUMULUS_TRY(Val v, value(*t.elems[0]));
      return asyncReady(std::move(v));
    }
    default:
      return makeError(ErrorCode::kInvalidArgument, "wrpc: {} is not a value type", wit(t));
  }
}

}  // namespace

Expected<void> encodeValue(const CType& t, const Val& v, std::string& out) {
  switch (t.kind) {
    case K::kPrim:
      return encodePrim(t, v, out);
    case K::kList:
      return encodeList(t, *t.elems[0], v, out);
    case K::kMap: {
      if (v.kind() != VK::kList) return shapeError(t, v);
      CType entry;
      entry.kind = K::kTuple;
      entry.elems = t.elems;
      return encodeList(t, entry, v, out);
    }
    case K::kFixedList: {
      if (v.kind() != VK::kList || v.rawElems().size() != t.length) return shapeError(t, v);
      for (const Val& e : v.rawElems()) CUMULUS_TRY_VOID(encodeValue(*t.elems[0], e, out));
      return {};
    }
    case K::kRecord:
    case K::kTuple: {
      bool rec = t.kind == K::kRecord;
      size_t n = rec ? t.fields.size() : t.elems.size();
      if (v.kind() != (rec ? VK::kRecord : VK::kTuple) || v.rawElems().size() != n)
        return shapeError(t, v);
      for (size_t i = 0; i < n; ++i)
        CUMULUS_TRY_VOID(
            encodeValue(rec ? *t.fields[i].second : *t.elems[i], v.rawElems()[i], out));
      return {};
    }
    case K::kVariant:
    case K::kEnum:
    case K::kOption:
    case K::kResult: {
      if (v.kind() != VK::kVariant) return shapeError(t, v);
      CUMULUS_TRY(const CType* payload, caseType(t, v.rawBits()));
      if (v.rawElems().size() != (payload ? 1u : 0u)) return shapeError(t, v);
      putUleb(out, v.rawBits());  // 0x00 / 0x01 for option and result
      return payload ? encodeValue(*payload, v.rawElems()[0], out) : Expected<void>{};
    }
    case K::kFlags: {
      if (v.kind() != VK::kFlags) return shapeError(t, v);
      size_t n = t.labels.size();
      uint64_t bits = v.rawBits();
      if (n < 64 && (bits >> n) != 0) {
        return makeError(ErrorCode::kInvalidArgument,
                         "wrpc encode: flags value {:#x} sets undeclared bits of {}", bits, wit(t));
      }
      for (size_t i = 0; i < (n + 7) / 8; ++i) out.push_back(static_cast<char>(bits >> (8 * i)));
      return {};
    }
    case K::kOwn:
    case K::kBorrow:
      if (v.kind() == VK::kOwn || v.kind() == VK::kBorrow) {
        return makeError(ErrorCode::kUnsupported,
                         "wrpc encode: a {} handle has no wire form; map it to its opaque bytes "
                         "(Val::bytes) first",
                         wit(t));
      }
      if (v.kind() != VK::kBytes) return shapeError(t, v);
      CUMULUS_TRY_VOID(putLength(out, v.rawString().size(), t));
      out += v.rawString();
      return {};
    case K::kStream:
    case K::kFuture:
      return encodeAsync(t, v, out);
    default:
      return makeError(ErrorCode::kInvalidArgument, "wrpc: {} is not a value type", wit(t));
  }
}

Expected<Val> decodeValue(const CType& type, std::string_view in, size_t& pos) {
  Decoder d(in, pos, /*wide_flags=*/false);
  CUMULUS_TRY(Val v, d.value(type));
  pos = d.pos();
  return v;
}

Expected<std::string> encodeTuple(std::span<const CTypePtr> types, std::span<const Val> values) {
  if (types.size() != values.size()) {
    return makeError(ErrorCode::kInvalidArgument, "wrpc encode: {} values for {} types",
                     values.size(), types.size());
  }
  std::string out;
  for (size_t i = 0; i < types.size(); ++i)
    CUMULUS_TRY_VOID(encodeValue(*types[i], values[i], out));
  return out;
}

Expected<std::vector<Val>> decodeTuple(std::span<const CTypePtr> types, std::string_view in) {
  if (in.empty() && !types.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 "wrpc decode: incomplete: the channel closed without a value (on a result "
                 "channel: the peer's handler failed or trapped)")
        .withDetail(kTruncated);
  }
  auto attempt = [&](bool wide) -> Expected<std::vector<Val>> {
    Decoder d(in, 0, wide);
    std::vector<Val> out;
    out.reserve(types.size());
    for (const auto& t : types) {
      CUMULUS_TRY(Val v, d.value(*t));
      out.push_back(std::move(v));
    }
    if (d.pos() != in.size()) {
      return makeError(ErrorCode::kInvalidArgument,
                       "wrpc decode: {} trailing bytes after the values", in.size() - d.pos());
    }
    return out;
  };
  auto strict = attempt(false);
  if (strict.ok()) return strict;
  bool wide =
      std::any_of(types.begin(), types.end(), [](const auto& t) { return hasWideFlags(t.get()); });
  if (wide) {
    auto lenient = attempt(true);
    if (lenient.ok()) return lenient;
  }
  return strict;
}

std::vector<CTypePtr> paramTypes(const CType& func) {
  std::vector<CTypePtr> out;
  for (const auto& [n, t] : func.fields) out.push_back(t);
  return out;
}

std::vector<CTypePtr> resultTypes(const CType& func) {
  if (!func.result) return {};
  return {func.result};
}

bool isAsyncPending(const Val& v) {
  return v.kind() == VK::kVariant && v.rawBits() == 0 && v.rawElems().empty();
}

Expected<void> encodeStreamChunk(const CType& elem, const Val& chunk, std::string& out) {
  CType list;
  list.kind = K::kList;
  list.elems.push_back(CTypePtr(CTypePtr(), &elem));
  return encodeList(list, elem, chunk, out);
}

std::string encodeByteChunk(std::string_view bytes) {
  std::string out;
  putUleb(out, bytes.size());
  out += bytes;
  return out;
}

Expected<std::optional<Val>> decodeStreamChunk(const CType& elem, std::string_view buf,
                                               size_t& consumed) {
  Decoder d(buf, 0, /*wide_flags=*/false);
  CType list;
  list.kind = K::kList;
  list.elems.push_back(CTypePtr(CTypePtr(), &elem));
  auto n = d.length(list);
  auto v = n.ok() ? d.listElems(elem, *n) : Expected<Val>(std::move(n).error());
  if (!v.ok()) {
    if (isTruncated(v.error())) return std::optional<Val>{};
    return std::move(v).error();
  }
  consumed = d.pos();
  return std::optional<Val>(std::move(*v));
}

}  // namespace cumulus::lattice::wrpc
