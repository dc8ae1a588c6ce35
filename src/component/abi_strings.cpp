// Canonical ABI strings: loading and storing in utf8, utf16 and latin1+utf16, with the spec's
// transcoding between guests (CanonicalABI.md "Strings", load_string / store_string).
#include "base/binary.h"
#include "component/abi_internal.h"

namespace cumulus::component::abi {

using namespace internal;

namespace {

constexpr uint32_t kUtf16Tag = 1u << 31;
constexpr uint32_t kMaxStringByteLength = (1u << 31) - 1;

constexpr uint64_t kHighBits = 0x8080808080808080ull;  // the top bit of each of eight bytes

// isValidUtf8 with a fast path over ASCII (strings may be up to 2 GiB): eight bytes at a time,
// each multi-byte sequence checked on its own.
bool validUtf8(std::string_view s) {
  size_t i = 0, n = s.size();
  while (i < n) {
    uint64_t w;
    while (i + 8 <= n && (std::memcpy(&w, s.data() + i, 8), (w & kHighBits) == 0)) i += 8;
    while (i < n && static_cast<uint8_t>(s[i]) < 0x80) ++i;
    if (i == n) break;
    auto b = static_cast<uint8_t>(s[i]);
    size_t len = b >= 0xC0 && b < 0xE0   ? 2
                 : b >= 0xE0 && b < 0xF0 ? 3
                 : b >= 0xF0 && b < 0xF8 ? 4
                                         : 0;
    if (len == 0 || i + len > n || !isValidUtf8(s.substr(i, len))) return false;
    i += len;
  }
  return true;
}

// Appends UTF-8 to a string through a small buffer (per-byte push_back is slow on huge strings).
class Utf8Writer {
 public:
  explicit Utf8Writer(std::string& out) : out_(out) {}
  ~Utf8Writer() { flush(); }
  void put(uint32_t c) {
    if (n_ + 4 > sizeof(buf_)) flush();
    char* o = buf_ + n_;
    if (c < 0x80) {
      o[0] = static_cast<char>(c);
      n_ += 1;
    } else if (c < 0x800) {
      o[0] = static_cast<char>(0xC0 | (c >> 6));
      o[1] = static_cast<char>(0x80 | (c & 0x3F));
      n_ += 2;
    } else if (c < 0x10000) {
      o[0] = static_cast<char>(0xE0 | (c >> 12));
      o[1] = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      o[2] = static_cast<char>(0x80 | (c & 0x3F));
      n_ += 3;
    } else {
      o[0] = static_cast<char>(0xF0 | (c >> 18));
      o[1] = static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      o[2] = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      o[3] = static_cast<char>(0x80 | (c & 0x3F));
      n_ += 4;
    }
  }
  void putAscii(const uint8_t* p, size_t n) {  // n <= 8
    if (n_ + n > sizeof(buf_)) flush();
    std::memcpy(buf_ + n_, p, n);
    n_ += n;
  }
  void flush() {
    out_.append(buf_, n_);
    n_ = 0;
  }

 private:
  std::string& out_;
  char buf_[4096];
  size_t n_ = 0;
};

// The code point starting at s[i] (s is valid UTF-8); advances i.
uint32_t nextCodePoint(const std::string& s, size_t& i) {
  auto b = static_cast<uint8_t>(s[i]);
  int n = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
  uint32_t c = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
  for (int k = 1; k < n && i + k < s.size(); ++k) c = (c << 6) | (uint8_t(s[i + k]) & 0x3F);
  i += n;
  return c;
}

// Writes `c` as UTF-16LE at unit `k` of `p`, advancing k.
void putUtf16(uint8_t* p, uint32_t c, uint64_t& k) {
  auto put = [&](uint32_t u) {
    p[2 * k] = static_cast<uint8_t>(u);
    p[2 * k + 1] = static_cast<uint8_t>(u >> 8);
    ++k;
  };
  if (c >= 0x10000) {
    put(0xD800 + ((c - 0x10000) >> 10));
    put(0xDC00 + ((c - 0x10000) & 0x3FF));
  } else {
    put(c);
  }
}

// Counts of valid UTF-8, eight bytes at a time: code points are the bytes that are not
// continuation bytes (10xxxxxx); UTF-16 needs one more unit for each 4-byte lead (11110xxx).
uint64_t countBytes(const std::string& s, bool four_byte_leads) {
  uint64_t n = 0;
  size_t i = 0;
  auto count = [&](uint64_t w, size_t bytes) {
    uint64_t cont = w & kHighBits & ~((w << 1) & kHighBits);
    n += bytes - static_cast<uint64_t>(__builtin_popcountll(cont));
    if (four_byte_leads)
      n += static_cast<uint64_t>(
          __builtin_popcountll(w & (w << 1) & (w << 2) & (w << 3) & kHighBits));
  };
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    count(w, 8);
  }
  uint64_t w = 0;
  std::memcpy(&w, s.data() + i, s.size() - i);
  count(w, s.size() - i);
  return n;
}
uint64_t utf16Length(const std::string& s) { return countBytes(s, true); }
uint64_t codePointCount(const std::string& s) { return countBytes(s, false); }

// Writes s as UTF-16LE from unit `k` of `p`, advancing k; ASCII runs four units at a time.
void writeUtf16(uint8_t* p, const std::string& s, size_t from, uint64_t& k) {
  for (size_t i = from; i < s.size();) {
    uint32_t w;
    if (i + 4 <= s.size() && (std::memcpy(&w, s.data() + i, 4), (w & 0x80808080u) == 0)) {
      uint8_t* o = p + 2 * k;
      for (int b = 0; b < 4; ++b) {
        o[2 * b] = static_cast<uint8_t>(s[i + b]);
        o[2 * b + 1] = 0;
      }
      i += 4;
      k += 4;
      continue;
    }
    putUtf16(p, nextCodePoint(s, i), k);
  }
}

void checkStringSize(uint64_t bytes) {
  if (bytes > kMaxStringByteLength)
    trap(fmt::format("string too long: {} bytes exceed the maximum string size (2^31-1 bytes)",
                     bytes));
}

// The spec's store_* functions, one per (source form, destination encoding) pair: each allocates
// what its source form implies (a worst case where the size is not known up front) and shrinks
// or grows with further realloc calls, so guests see the same realloc calls under every
// implementation. Each returns (ptr, tagged code units).
using StoredString = std::pair<uint32_t, uint32_t>;

// store_string_copy: the destination size follows from the source code units.
StoredString storeStringCopy(Context& cx, const std::string& s, uint64_t units, uint32_t unit_size,
                             uint32_t align, CanonOpts::Encoding dst) {
  uint64_t bytes = unit_size * units;
  checkStringSize(bytes);
  uint32_t ptr = reallocate(cx, 0, 0, align, bytes);
  uint8_t* p = Memory(cx).at(ptr, bytes, 1);
  if (dst == CanonOpts::Encoding::kUtf8) {
    if (!s.empty()) std::memcpy(p, s.data(), s.size());
  } else if (unit_size == 2) {
    uint64_t k = 0;
    writeUtf16(p, s, 0, k);
  } else {  // latin1
    uint64_t k = 0;
    for (size_t i = 0; i < s.size();) p[k++] = static_cast<uint8_t>(nextCodePoint(s, i));
  }
  return {ptr, static_cast<uint32_t>(units)};
}

// store_string_to_utf8 (from utf16 or latin1): optimistic ASCII first, then the worst case.
StoredString storeStringToUtf8(Context& cx, const std::string& s, uint64_t units,
                               uint64_t worst_case) {
  uint32_t ptr = reallocate(cx, 0, 0, 1, units);
  size_t ascii = 0;
  while (ascii < s.size() && static_cast<uint8_t>(s[ascii]) < 0x80) ++ascii;
  if (ascii) std::memcpy(Memory(cx).at(ptr, ascii, 1), s.data(), ascii);
  if (ascii == s.size()) return {ptr, static_cast<uint32_t>(units)};
  checkStringSize(worst_case);
  ptr = reallocate(cx, ptr, units, 1, worst_case);
  std::memcpy(Memory(cx).at(ptr + ascii, s.size() - ascii, 1), s.data() + ascii, s.size() - ascii);
  if (worst_case > s.size()) ptr = reallocate(cx, ptr, worst_case, 1, s.size());
  return {ptr, static_cast<uint32_t>(s.size())};
}

// store_utf8_to_utf16: the worst case up front, then shrink.
StoredString storeUtf8ToUtf16(Context& cx, const std::string& s) {
  uint64_t worst_case = 2ull * s.size();
  checkStringSize(worst_case);
  uint32_t ptr = reallocate(cx, 0, 0, 2, worst_case);
  uint8_t* p = Memory(cx).at(ptr, worst_case, 1);
  uint64_t k = 0;
  writeUtf16(p, s, 0, k);
  if (2 * k < worst_case) ptr = reallocate(cx, ptr, worst_case, 2, 2 * k);
  return {ptr, static_cast<uint32_t>(k)};
}

// store_string_to_latin1_or_utf16 (from utf8 or utf16): latin1 until a code point needs utf16,
// then inflate in place to the worst case, then shrink.
StoredString storeStringToLatin1OrUtf16(Context& cx, const std::string& s, uint64_t units) {
  uint32_t ptr = reallocate(cx, 0, 0, 2, units);
  uint64_t len = 0;
  for (size_t i = 0; i < s.size();) {
    size_t at = i;
    uint32_t c = nextCodePoint(s, i);
    if (c < 0x100) {
      Memory(cx).at(ptr + len, 1, 1)[0] = static_cast<uint8_t>(c);
      ++len;
      continue;
    }
    uint64_t worst_case = 2 * units;
    checkStringSize(worst_case);
    ptr = reallocate(cx, ptr, units, 2, worst_case);
    uint8_t* p = Memory(cx).at(ptr, worst_case, 1);
    for (uint64_t j = len; j-- > 0;) {
      p[2 * j] = p[j];
      p[2 * j + 1] = 0;
    }
    uint64_t k = len;
    writeUtf16(p, s, at, k);
    if (worst_case > 2 * k) ptr = reallocate(cx, ptr, worst_case, 2, 2 * k);
    return {ptr, static_cast<uint32_t>(k) | kUtf16Tag};
  }
  if (len < units) ptr = reallocate(cx, ptr, units, 2, len);
  return {ptr, static_cast<uint32_t>(len)};
}

// store_probably_utf16_to_latin1_or_utf16: utf16 at the source's size, compacted to latin1
// (and shrunk) when every code point fits.
StoredString storeProbablyUtf16ToLatin1OrUtf16(Context& cx, const std::string& s, uint64_t units) {
  uint64_t bytes = 2 * units;
  checkStringSize(bytes);
  uint32_t ptr = reallocate(cx, 0, 0, 2, bytes);
  uint8_t* p = Memory(cx).at(ptr, bytes, 1);
  uint64_t k = 0;
  bool latin1 = true;
  for (size_t i = 0; i < s.size();) {
    uint32_t c = nextCodePoint(s, i);
    latin1 = latin1 && c < 0x100;
    putUtf16(p, c, k);
  }
  if (!latin1) return {ptr, static_cast<uint32_t>(k) | kUtf16Tag};
  for (uint64_t i = 0; i < k; ++i) p[i] = p[2 * i];
  ptr = reallocate(cx, ptr, bytes, 1, k);
  return {ptr, static_cast<uint32_t>(k)};
}

}  // namespace

// load_string_from_range. The value remembers the form it had here (Val::StringForm): storing
// it into another guest follows that form.
Val internal::loadString(Context& cx, uint32_t ptr, uint32_t tagged) {
  Memory m(cx);
  using E = CanonOpts::Encoding;
  using F = Val::StringForm;
  bool utf16 = cx.encoding == E::kUtf16;
  uint32_t units = tagged;
  if (cx.encoding == E::kLatin1Utf16) {
    utf16 = (tagged & kUtf16Tag) != 0;
    units = tagged & ~kUtf16Tag;
  }
  uint64_t byte_length = utf16 ? 2ull * units : units;
  if (byte_length > kMaxStringByteLength)
    trap(fmt::format("string too long: {} bytes exceed the maximum string size (2^31-1 bytes)",
                     byte_length));
  if (!utf16) {
    const uint8_t* p = m.at(ptr, units, cx.encoding == E::kUtf8 ? 1 : 2);
    if (cx.encoding == E::kUtf8) {
      std::string s(reinterpret_cast<const char*>(p), units);
      if (!validUtf8(s)) trap("invalid utf-8 string");
      return Val::string(std::move(s), F::kUtf8);
    }
    std::string s;  // latin1
    s.reserve(units);
    {
      Utf8Writer w(s);
      for (uint32_t i = 0; i < units;) {
        uint64_t x;
        if (i + 8 <= units && (std::memcpy(&x, p + i, 8), (x & kHighBits) == 0)) {
          w.putAscii(p + i, 8);
          i += 8;
          continue;
        }
        w.put(p[i++]);
      }
    }
    return Val::string(std::move(s), F::kLatin1);
  }
  const uint8_t* p = m.at(ptr, uint64_t(units) * 2, 2);
  std::string s;
  s.reserve(units);
  Utf8Writer w(s);
  for (uint32_t i = 0; i < units; ++i) {
    uint64_t x;
    if (i + 4 <= units && (std::memcpy(&x, p + 2 * i, 8), (x & 0xFF80FF80FF80FF80ull) == 0)) {
      uint8_t a[4] = {p[2 * i], p[2 * i + 2], p[2 * i + 4], p[2 * i + 6]};
      w.putAscii(a, 4);
      i += 3;
      continue;
    }
    uint32_t u = p[2 * i] | (p[2 * i + 1] << 8);
    if (u >= 0xD800 && u < 0xDC00 && i + 1 < units) {
      uint32_t lo = p[2 * i + 2] | (p[2 * i + 3] << 8);
      if (lo >= 0xDC00 && lo < 0xE000) {
        w.put(0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00));
        ++i;
        continue;
      }
    }
    if (u >= 0xD800 && u < 0xE000) trap("invalid utf-16 string: unpaired surrogate");
    w.put(u);
  }
  w.flush();
  return Val::string(std::move(s), cx.encoding == E::kUtf16 ? F::kUtf16 : F::kLatin1Utf16);
}

// store_string_into_range: dispatches on the value's source form and this side's encoding.
StoredString internal::storeString(Context& cx, const Val& v) {
  using E = CanonOpts::Encoding;
  using F = Val::StringForm;
  const std::string& s = v.asString();
  // Guests rely on strings being valid (Rust's `String`); a host value that is not is the host's
  // error, found before anything reaches the guest.
  if (!validUtf8(s)) throw ValKindError("string is not valid UTF-8");
  if (s.size() > kMaxStringByteLength)
    trap(fmt::format("string too long: {} bytes exceed the maximum string size (2^31-1 bytes)",
                     s.size()));
  F form = v.stringForm();
  if (form == F::kLatin1)  // a host may label a string it made; trust only what holds
    for (size_t i = 0; i < s.size();)
      if (nextCodePoint(s, i) >= 0x100) form = F::kUtf8;
  switch (cx.encoding) {
    case E::kUtf8:
      switch (form) {
        case F::kUtf8:
          return storeStringCopy(cx, s, s.size(), 1, 1, E::kUtf8);
        case F::kUtf16:
        case F::kLatin1Utf16: {
          uint64_t units = utf16Length(s);
          return storeStringToUtf8(cx, s, units, 3 * units);
        }
        case F::kLatin1: {
          uint64_t units = codePointCount(s);
          return storeStringToUtf8(cx, s, units, 2 * units);
        }
      }
      break;
    case E::kUtf16:
      switch (form) {
        case F::kUtf8:
          return storeUtf8ToUtf16(cx, s);
        case F::kUtf16:
        case F::kLatin1Utf16:
          return storeStringCopy(cx, s, utf16Length(s), 2, 2, E::kUtf16);
        case F::kLatin1:
          return storeStringCopy(cx, s, codePointCount(s), 2, 2, E::kUtf16);
      }
      break;
    case E::kLatin1Utf16:
      switch (form) {
        case F::kUtf8:
          return storeStringToLatin1OrUtf16(cx, s, s.size());
        case F::kUtf16:
          return storeStringToLatin1OrUtf16(cx, s, utf16Length(s));
        case F::kLatin1:
          return storeStringCopy(cx, s, codePointCount(s), 1, 2, E::kLatin1Utf16);
        case F::kLatin1Utf16:
          return storeProbablyUtf16ToLatin1OrUtf16(cx, s, utf16Length(s));
      }
      break;
  }
  trap("unknown string encoding");
}

}  // namespace cumulus::component::abi
