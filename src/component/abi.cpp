// Canonical ABI (see abi.h). Follows CanonicalABI.md's definitions function by function: the names
// in comments (despecialize, discriminant_type, flatten_type, lift_flat, …) are the spec's.
#include "component/abi.h"

#include <cstring>

#include <fmt/format.h>

#include "base/binary.h"

namespace cumulus::component::abi {

namespace {

using K = CType::Kind;
using VT = engine::ValType;

[[noreturn]] void trap(std::string message) { throw AbiTrap(std::move(message)); }

uint32_t alignTo(uint32_t x, uint32_t a) { return (x + a - 1) / a * a; }

uint32_t caseCount(const CType& t) {
  switch (t.kind) {
    case K::kVariant:
      return static_cast<uint32_t>(t.fields.size());
    case K::kEnum:
      return static_cast<uint32_t>(t.labels.size());
    default:  // option, result
      return 2;
  }
}

// discriminant_type: the smallest unsigned integer holding the case index.
uint32_t discriminantSize(uint32_t cases) {
  if (cases <= 0x100) return 1;
  if (cases <= 0x10000) return 2;
  return 4;
}

// The payload type of case `i` of a variant-like type (null: no payload). No allocation: this is
// on every lift and lower of a variant, option or result.
const CType* caseType(const CType& t, uint32_t i) {
  switch (t.kind) {
    case K::kVariant:
      return t.fields[i].second.get();
    case K::kOption:
      return i == 1 ? t.elems[0].get() : nullptr;
    case K::kResult:
      return t.elems[i].get();
    default:
      return nullptr;
  }
}

// Iterable view of the case payload types.
struct Cases {
  const CType& t;
  uint32_t n;
  struct It {
    const CType& t;
    uint32_t i;
    const CType* operator*() const { return caseType(t, i); }
    It& operator++() {
      ++i;
      return *this;
    }
    bool operator!=(const It& o) const { return i != o.i; }
  };
  It begin() const { return {t, 0}; }
  It end() const { return {t, n}; }
  size_t size() const { return n; }
  const CType* operator[](uint32_t i) const { return caseType(t, i); }
};
Cases cases(const CType& t) { return Cases{t, caseCount(t)}; }

uint32_t maxCaseAlignment(const CType& t) {
  uint32_t a = 1;
  for (const CType* c : cases(t))
    if (c) a = std::max(a, alignment(*c));
  return a;
}

uint32_t flagsSize(size_t n) {
  if (n == 0) return 0;
  if (n <= 8) return 1;
  if (n <= 16) return 2;
  return 4 * static_cast<uint32_t>((n + 31) / 32);
}

size_t flatCount(const CType* t) {
  if (!t) return 0;
  std::vector<VT> v;
  flatten(std::shared_ptr<const CType>(std::shared_ptr<const CType>(), t), v);
  return v.size();
}

VT join(VT a, VT b) {
  if (a == b) return a;
  if ((a == VT::kI32 && b == VT::kF32) || (a == VT::kF32 && b == VT::kI32)) return VT::kI32;
  return VT::kI64;
}

float canonF32(float f) {
  if (f != f) {
    uint32_t bits = 0x7fc00000;
    std::memcpy(&f, &bits, 4);
  }
  return f;
}
double canonF64(double f) {
  if (f != f) {
    uint64_t bits = 0x7ff8000000000000ull;
    std::memcpy(&f, &bits, 8);
  }
  return f;
}

uint32_t checkChar(uint32_t c) {
  if (c >= 0x110000 || (c >= 0xD800 && c <= 0xDFFF))
    trap(fmt::format("invalid char: {:#x} is not a Unicode scalar value", c));
  return c;
}

class Memory {
 public:
  explicit Memory(Context& cx) : cx_(cx) {
    if (!cx.memory) trap("canonical ABI: this function needs a memory option but has none");
  }
  uint8_t* at(uint32_t ptr, uint64_t len, uint32_t align) const {
    if (align > 1 && ptr % align != 0) trap(fmt::format("unaligned pointer {:#x}", ptr));
    if (uint64_t(ptr) + len > cx_.memory->size)
      trap(fmt::format("out of bounds: {} bytes at {:#x} exceed memory size {}", len, ptr,
                       cx_.memory->size));
    return cx_.memory->data + ptr;
  }
  template <typename T>
  T get(uint32_t ptr) const {
    T v;
    std::memcpy(&v, at(ptr, sizeof(T), 1), sizeof(T));
    return v;
  }
  template <typename T>
  void put(uint32_t ptr, T v) const {
    std::memcpy(at(ptr, sizeof(T), 1), &v, sizeof(T));
  }

 private:
  Context& cx_;
};

uint64_t loadInt(const Memory& m, uint32_t ptr, uint32_t n) {
  switch (n) {
    case 1:
      return m.get<uint8_t>(ptr);
    case 2:
      return m.get<uint16_t>(ptr);
    case 4:
      return m.get<uint32_t>(ptr);
    default:
      return m.get<uint64_t>(ptr);
  }
}

void storeInt(const Memory& m, uint32_t ptr, uint32_t n, uint64_t v) {
  switch (n) {
    case 1:
      m.put<uint8_t>(ptr, static_cast<uint8_t>(v));
      break;
    case 2:
      m.put<uint16_t>(ptr, static_cast<uint16_t>(v));
      break;
    case 4:
      m.put<uint32_t>(ptr, static_cast<uint32_t>(v));
      break;
    default:
      m.put<uint64_t>(ptr, v);
  }
}

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

// load_string_from_range. The value remembers the form it had here (Val::StringForm): storing
// it into another guest follows that form.
Val loadString(Context& cx, uint32_t ptr, uint32_t tagged) {
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

// realloc(old_ptr, old_size, align, new_size), its result checked for alignment and bounds.
uint32_t reallocate(Context& cx, uint32_t old_ptr, uint64_t old_size, uint32_t align,
                    uint64_t new_size) {
  if (!cx.realloc) trap("canonical ABI: this function needs a realloc option but has none");
  engine::Cell cells[4]{};
  cells[0].i32 = old_ptr;
  cells[1].i32 = static_cast<uint32_t>(old_size);
  cells[2].i32 = align;
  cells[3].i32 = static_cast<uint32_t>(new_size);
  auto r = engine::callFunc(*cx.realloc, cells);
  if (!r.ok()) throw AbiTrap("realloc: " + r.error().message());
  uint32_t ptr = cells[0].i32;
  Memory(cx).at(ptr, new_size, align);  // checks alignment and bounds
  return ptr;
}

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

// store_string_into_range: dispatches on the value's source form and this side's encoding.
StoredString storeString(Context& cx, const Val& v) {
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

bool isByte(const CType& elem) {
  return elem.kind == K::kPrim && (elem.prim == Prim::kU8 || elem.prim == Prim::kS8);
}

Val loadList(Context& cx, const CType& elem, uint32_t ptr, uint32_t len) {
  Memory m(cx);
  uint32_t esize = size(elem);
  const uint8_t* p = m.at(ptr, uint64_t(len) * esize, alignment(elem));
  if (isByte(elem) && elem.prim == Prim::kU8)
    return Val::bytes(std::string(reinterpret_cast<const char*>(p), len));
  std::vector<Val> out;
  out.reserve(len);
  CTypePtr et(CTypePtr(), &elem);
  for (uint32_t i = 0; i < len; ++i) out.push_back(load(cx, et, ptr + i * esize));
  return Val::list(std::move(out));
}

std::pair<uint32_t, uint32_t> storeList(Context& cx, const CType& elem, const Val& v) {
  uint32_t esize = size(elem);
  if (v.kind() == Val::Kind::kBytes) {
    if (!isByte(elem)) throw ValKindError("a byte list where the type wants list of another type");
    const std::string& b = v.rawString();
    uint32_t ptr = allocate(cx, 1, static_cast<uint32_t>(b.size()));
    if (!b.empty()) std::memcpy(Memory(cx).at(ptr, b.size(), 1), b.data(), b.size());
    return {ptr, static_cast<uint32_t>(b.size())};
  }
  const auto& elems = v.elems();
  uint64_t bytes = uint64_t(elems.size()) * esize;
  if (bytes > UINT32_MAX) trap("list too long");
  uint32_t ptr = allocate(cx, alignment(elem), static_cast<uint32_t>(bytes));
  CTypePtr et(CTypePtr(), &elem);
  for (size_t i = 0; i < elems.size(); ++i)
    store(cx, et, elems[i], ptr + static_cast<uint32_t>(i) * esize);
  return {ptr, static_cast<uint32_t>(elems.size())};
}

CTypePtr alias(const CType* t) { return CTypePtr(CTypePtr(), t); }

// map<K, V> has the layout of list<tuple<K, V>>; its values are lists of (key, value) tuples.
CTypePtr mapEntry(const CType& map) {
  auto t = std::make_shared<CType>();
  t->kind = K::kTuple;
  t->elems = map.elems;
  return t;
}

}  // namespace

uint32_t alignment(const CType& t) {
  switch (t.kind) {
    case K::kPrim:
      switch (t.prim) {
        case Prim::kBool:
        case Prim::kS8:
        case Prim::kU8:
          return 1;
        case Prim::kS16:
        case Prim::kU16:
          return 2;
        case Prim::kS64:
        case Prim::kU64:
        case Prim::kF64:
          return 8;
        default:
          return 4;
      }
    case K::kList:
    case K::kOwn:
    case K::kBorrow:
    case K::kStream:
    case K::kFuture:
    case K::kMap:
      return 4;
    case K::kFixedList:
      return alignment(*t.elems[0]);
    case K::kRecord: {
      uint32_t a = 1;
      for (const auto& [n, f] : t.fields) a = std::max(a, alignment(*f));
      return a;
    }
    case K::kTuple: {
      uint32_t a = 1;
      for (const auto& e : t.elems) a = std::max(a, alignment(*e));
      return a;
    }
    case K::kVariant:
    case K::kEnum:
    case K::kOption:
    case K::kResult:
      return std::max(discriminantSize(caseCount(t)), maxCaseAlignment(t));
    case K::kFlags: {
      uint32_t n = flagsSize(t.labels.size());
      return n >= 4 ? 4 : std::max<uint32_t>(n, 1);
    }
    default:
      return 1;
  }
}

uint32_t size(const CType& t) {
  switch (t.kind) {
    case K::kPrim:
      switch (t.prim) {
        case Prim::kString:
          return 8;
        default:
          return alignment(t);
      }
    case K::kList:
    case K::kMap:
      return 8;
    case K::kOwn:
    case K::kBorrow:
    case K::kStream:
    case K::kFuture:
      return 4;
    case K::kFixedList:
      return t.length * size(*t.elems[0]);
    case K::kRecord:
    case K::kTuple: {
      uint32_t s = 0;
      auto add = [&](const CType& f) {
        s = alignTo(s, alignment(f));
        s += size(f);
      };
      if (t.kind == K::kRecord)
        for (const auto& [n, f] : t.fields) add(*f);
      else
        for (const auto& e : t.elems) add(*e);
      return alignTo(s, alignment(t));
    }
    case K::kVariant:
    case K::kEnum:
    case K::kOption:
    case K::kResult: {
      uint32_t s = discriminantSize(caseCount(t));
      s = alignTo(s, maxCaseAlignment(t));
      uint32_t payload = 0;
      for (const CType* c : cases(t))
        if (c) payload = std::max(payload, size(*c));
      return alignTo(s + payload, alignment(t));
    }
    case K::kFlags:
      return flagsSize(t.labels.size());
    default:
      return 0;
  }
}

void flatten(const CTypePtr& tp, std::vector<VT>& out) {
  if (!tp) return;
  const CType& t = *tp;
  switch (t.kind) {
    case K::kPrim:
      switch (t.prim) {
        case Prim::kS64:
        case Prim::kU64:
          out.push_back(VT::kI64);
          return;
        case Prim::kF32:
          out.push_back(VT::kF32);
          return;
        case Prim::kF64:
          out.push_back(VT::kF64);
          return;
        case Prim::kString:
          out.push_back(VT::kI32);
          out.push_back(VT::kI32);
          return;
        default:
          out.push_back(VT::kI32);
          return;
      }
    case K::kList:
    case K::kMap:
      out.push_back(VT::kI32);
      out.push_back(VT::kI32);
      return;
    case K::kFixedList:
      for (uint32_t i = 0; i < t.length; ++i) flatten(t.elems[0], out);
      return;
    case K::kRecord:
      for (const auto& [n, f] : t.fields) flatten(f, out);
      return;
    case K::kTuple:
      for (const auto& e : t.elems) flatten(e, out);
      return;
    case K::kVariant:
    case K::kEnum:
    case K::kOption:
    case K::kResult: {
      std::vector<VT> joined;
      for (const CType* c : cases(t)) {
        if (!c) continue;
        std::vector<VT> cf;
        flatten(alias(c), cf);
        for (size_t i = 0; i < cf.size(); ++i) {
          if (i < joined.size())
            joined[i] = join(joined[i], cf[i]);
          else
            joined.push_back(cf[i]);
        }
      }
      out.push_back(VT::kI32);
      out.insert(out.end(), joined.begin(), joined.end());
      return;
    }
    case K::kFlags:
      for (size_t i = 0; i < (t.labels.size() + 31) / 32; ++i) out.push_back(VT::kI32);
      return;
    default:  // own, borrow, stream, future
      out.push_back(VT::kI32);
      return;
  }
}

uint32_t allocate(Context& cx, uint32_t align, uint32_t bytes) {
  return reallocate(cx, 0, 0, align, bytes);
}

Val liftFlat(Context& cx, const CTypePtr& tp, std::span<const engine::Cell> cells, size_t& pos) {
  const CType& t = *tp;
  auto next = [&]() -> const engine::Cell& {
    if (pos >= cells.size()) trap("canonical ABI: too few flat values");
    return cells[pos++];
  };
  switch (t.kind) {
    case K::kPrim:
      switch (t.prim) {
        case Prim::kBool:
          return Val::boolean(next().i32 != 0);
        case Prim::kS8:
          return Val::s8(static_cast<int8_t>(next().i32));
        case Prim::kU8:
          return Val::u8(static_cast<uint8_t>(next().i32));
        case Prim::kS16:
          return Val::s16(static_cast<int16_t>(next().i32));
        case Prim::kU16:
          return Val::u16(static_cast<uint16_t>(next().i32));
        case Prim::kS32:
          return Val::s32(static_cast<int32_t>(next().i32));
        case Prim::kU32:
          return Val::u32(next().i32);
        case Prim::kS64:
          return Val::s64(static_cast<int64_t>(next().i64));
        case Prim::kU64:
          return Val::u64(next().i64);
        case Prim::kF32:
          return Val::f32(canonF32(next().f32));
        case Prim::kF64:
          return Val::f64(canonF64(next().f64));
        case Prim::kChar:
          return Val::character(checkChar(next().i32));
        case Prim::kString: {
          uint32_t ptr = next().i32;
          uint32_t len = next().i32;
          return loadString(cx, ptr, len);
        }
        case Prim::kErrorContext:
          trap("error-context values are not supported");
      }
      break;
    case K::kList: {
      uint32_t ptr = next().i32;
      uint32_t len = next().i32;
      return loadList(cx, *t.elems[0], ptr, len);
    }
    case K::kMap: {
      uint32_t ptr = next().i32;
      uint32_t len = next().i32;
      return loadList(cx, *mapEntry(t), ptr, len);
    }
    case K::kFixedList: {
      std::vector<Val> out;
      for (uint32_t i = 0; i < t.length; ++i) out.push_back(liftFlat(cx, t.elems[0], cells, pos));
      return Val::list(std::move(out));
    }
    case K::kRecord: {
      std::vector<Val> out;
      out.reserve(t.fields.size());
      for (const auto& [n, f] : t.fields) out.push_back(liftFlat(cx, f, cells, pos));
      return Val::record(std::move(out));
    }
    case K::kTuple: {
      std::vector<Val> out;
      out.reserve(t.elems.size());
      for (const auto& e : t.elems) out.push_back(liftFlat(cx, e, cells, pos));
      return Val::tuple(std::move(out));
    }
    case K::kVariant:
    case K::kEnum:
    case K::kOption:
    case K::kResult: {
      uint32_t disc = next().i32;
      auto cs = cases(t);
      if (disc >= cs.size())
        trap(fmt::format("invalid variant discriminant {} ({} cases)", disc, cs.size()));
      size_t width = flatCount(&t) - 1;
      size_t start = pos;
      std::vector<Val> payload;
      if (cs[disc]) {
        // The joined slots hold the case's values in their low bits (cells are unions).
        payload.push_back(liftFlat(cx, alias(cs[disc]), cells, pos));
      }
      pos = start + width;
      return Val::variant(disc, std::move(payload));
    }
    case K::kFlags: {
      uint32_t bits = next().i32;
      uint32_t n = static_cast<uint32_t>(t.labels.size());
      if (n < 32) bits &= (1u << n) - 1;
      return Val::flags(bits);
    }
    case K::kOwn:
      if (!cx.handles) trap("handles are not supported here");
      return cx.handles->liftOwn(*t.resource, next().i32);
    case K::kBorrow:
      if (!cx.handles) trap("handles are not supported here");
      return cx.handles->liftBorrow(*t.resource, next().i32);
    default:
      trap(fmt::format("type {} is not supported by the canonical ABI here", toWit(tp)));
  }
  trap("unreachable");
}

void lowerFlat(Context& cx, const CTypePtr& tp, const Val& v, std::vector<engine::Cell>& out) {
  const CType& t = *tp;
  auto push32 = [&](uint32_t x) {
    engine::Cell c{};
    c.i32 = x;
    out.push_back(c);
  };
  auto push64 = [&](uint64_t x) {
    engine::Cell c{};
    c.i64 = x;
    out.push_back(c);
  };
  switch (t.kind) {
    case K::kPrim:
      switch (t.prim) {
        case Prim::kBool:
          push32(v.asBool() ? 1 : 0);
          return;
        case Prim::kS8:
        case Prim::kU8:
        case Prim::kS16:
        case Prim::kU16:
        case Prim::kS32:
        case Prim::kU32:
          push32(static_cast<uint32_t>(v.asU64()));
          return;
        case Prim::kChar:
          push32(checkChar(static_cast<uint32_t>(v.asU64())));
          return;
        case Prim::kS64:
        case Prim::kU64:
          push64(v.asU64());
          return;
        case Prim::kF32: {
          engine::Cell c{};
          c.f32 = canonF32(static_cast<float>(v.asF64()));
          out.push_back(c);
          return;
        }
        case Prim::kF64: {
          engine::Cell c{};
          c.f64 = canonF64(v.asF64());
          out.push_back(c);
          return;
        }
        case Prim::kString: {
          auto [ptr, len] = storeString(cx, v);
          push32(ptr);
          push32(len);
          return;
        }
        case Prim::kErrorContext:
          trap("error-context values are not supported");
      }
      return;
    case K::kList:
    case K::kMap: {
      auto [ptr, len] = storeList(cx, t.kind == K::kMap ? *mapEntry(t) : *t.elems[0], v);
      push32(ptr);
      push32(len);
      return;
    }
    case K::kFixedList: {
      const auto& e = v.elems();
      if (e.size() != t.length) throw ValKindError("fixed-length list has the wrong length");
      for (const Val& x : e) lowerFlat(cx, t.elems[0], x, out);
      return;
    }
    case K::kRecord: {
      const auto& e = v.elems();
      if (e.size() != t.fields.size()) throw ValKindError("record has the wrong number of fields");
      for (size_t i = 0; i < e.size(); ++i) lowerFlat(cx, t.fields[i].second, e[i], out);
      return;
    }
    case K::kTuple: {
      const auto& e = v.elems();
      if (e.size() != t.elems.size()) throw ValKindError("tuple has the wrong number of elements");
      for (size_t i = 0; i < e.size(); ++i) lowerFlat(cx, t.elems[i], e[i], out);
      return;
    }
    case K::kVariant:
    case K::kEnum:
    case K::kOption:
    case K::kResult: {
      uint32_t disc = v.discriminant();
      auto cs = cases(t);
      if (disc >= cs.size()) throw ValKindError("variant case out of range");
      size_t width = flatCount(&t) - 1;
      push32(disc);
      size_t start = out.size();
      if (cs[disc]) lowerFlat(cx, alias(cs[disc]), v.payload(), out);
      while (out.size() < start + width) out.push_back(engine::Cell{});
      return;
    }
    case K::kFlags: {
      uint32_t n = static_cast<uint32_t>(t.labels.size());
      push32(n < 32 ? v.flagBits() & ((1u << n) - 1) : v.flagBits());  // no bits beyond the labels
      return;
    }
    case K::kOwn:
      if (!cx.handles) trap("handles are not supported here");
      push32(cx.handles->lowerOwn(*t.resource, v));
      return;
    case K::kBorrow:
      if (!cx.handles) trap("handles are not supported here");
      push32(cx.handles->lowerBorrow(*t.resource, v));
      return;
    default:
      trap(fmt::format("type {} is not supported by the canonical ABI here", toWit(tp)));
  }
}

Val load(Context& cx, const CTypePtr& tp, uint32_t ptr) {
  const CType& t = *tp;
  Memory m(cx);
  m.at(ptr, size(t), alignment(t));
  switch (t.kind) {
    case K::kPrim:
      switch (t.prim) {
        case Prim::kBool:
          return Val::boolean(m.get<uint8_t>(ptr) != 0);
        case Prim::kS8:
          return Val::s8(m.get<int8_t>(ptr));
        case Prim::kU8:
          return Val::u8(m.get<uint8_t>(ptr));
        case Prim::kS16:
          return Val::s16(m.get<int16_t>(ptr));
        case Prim::kU16:
          return Val::u16(m.get<uint16_t>(ptr));
        case Prim::kS32:
          return Val::s32(m.get<int32_t>(ptr));
        case Prim::kU32:
          return Val::u32(m.get<uint32_t>(ptr));
        case Prim::kS64:
          return Val::s64(m.get<int64_t>(ptr));
        case Prim::kU64:
          return Val::u64(m.get<uint64_t>(ptr));
        case Prim::kF32:
          return Val::f32(canonF32(m.get<float>(ptr)));
        case Prim::kF64:
          return Val::f64(canonF64(m.get<double>(ptr)));
        case Prim::kChar:
          return Val::character(checkChar(m.get<uint32_t>(ptr)));
        case Prim::kString:
          return loadString(cx, m.get<uint32_t>(ptr), m.get<uint32_t>(ptr + 4));
        case Prim::kErrorContext:
          trap("error-context values are not supported");
      }
      break;
    case K::kList:
      return loadList(cx, *t.elems[0], m.get<uint32_t>(ptr), m.get<uint32_t>(ptr + 4));
    case K::kMap:
      return loadList(cx, *mapEntry(t), m.get<uint32_t>(ptr), m.get<uint32_t>(ptr + 4));
    case K::kFixedList: {
      std::vector<Val> out;
      uint32_t es = size(*t.elems[0]);
      for (uint32_t i = 0; i < t.length; ++i) out.push_back(load(cx, t.elems[0], ptr + i * es));
      return Val::list(std::move(out));
    }
    case K::kRecord:
    case K::kTuple: {
      std::vector<Val> out;
      uint32_t off = 0;
      auto one = [&](const CTypePtr& f) {
        off = alignTo(off, alignment(*f));
        out.push_back(load(cx, f, ptr + off));
        off += size(*f);
      };
      if (t.kind == K::kRecord) {
        for (const auto& [n, f] : t.fields) one(f);
        return Val::record(std::move(out));
      }
      for (const auto& e : t.elems) one(e);
      return Val::tuple(std::move(out));
    }
    case K::kVariant:
    case K::kEnum:
    case K::kOption:
    case K::kResult: {
      auto cs = cases(t);
      uint32_t ds = discriminantSize(static_cast<uint32_t>(cs.size()));
      auto disc = static_cast<uint32_t>(loadInt(m, ptr, ds));
      if (disc >= cs.size())
        trap(fmt::format("invalid variant discriminant {} ({} cases)", disc, cs.size()));
      std::vector<Val> payload;
      if (cs[disc])
        payload.push_back(load(cx, alias(cs[disc]), ptr + alignTo(ds, maxCaseAlignment(t))));
      return Val::variant(disc, std::move(payload));
    }
    case K::kFlags: {
      uint32_t n = static_cast<uint32_t>(t.labels.size());
      auto bits = static_cast<uint32_t>(loadInt(m, ptr, flagsSize(n)));
      if (n < 32) bits &= (1u << n) - 1;
      return Val::flags(bits);
    }
    case K::kOwn:
      if (!cx.handles) trap("handles are not supported here");
      return cx.handles->liftOwn(*t.resource, m.get<uint32_t>(ptr));
    case K::kBorrow:
      if (!cx.handles) trap("handles are not supported here");
      return cx.handles->liftBorrow(*t.resource, m.get<uint32_t>(ptr));
    default:
      trap(fmt::format("type {} is not supported by the canonical ABI here", toWit(tp)));
  }
  trap("unreachable");
}

void store(Context& cx, const CTypePtr& tp, const Val& v, uint32_t ptr) {
  const CType& t = *tp;
  Memory(cx).at(ptr, size(t), alignment(t));
  switch (t.kind) {
    case K::kPrim:
      switch (t.prim) {
        case Prim::kBool:
          Memory(cx).put<uint8_t>(ptr, v.asBool() ? 1 : 0);
          return;
        case Prim::kS8:
        case Prim::kU8:
        case Prim::kS16:
        case Prim::kU16:
        case Prim::kS32:
        case Prim::kU32:
        case Prim::kS64:
        case Prim::kU64:
          storeInt(Memory(cx), ptr, size(t), v.asU64());
          return;
        case Prim::kChar:
          Memory(cx).put<uint32_t>(ptr, checkChar(static_cast<uint32_t>(v.asU64())));
          return;
        case Prim::kF32:
          Memory(cx).put<float>(ptr, canonF32(static_cast<float>(v.asF64())));
          return;
        case Prim::kF64:
          Memory(cx).put<double>(ptr, canonF64(v.asF64()));
          return;
        case Prim::kString: {
          auto [sp, len] = storeString(cx, v);  // may grow memory: re-resolve after
          Memory(cx).put<uint32_t>(ptr, sp);
          Memory(cx).put<uint32_t>(ptr + 4, len);
          return;
        }
        case Prim::kErrorContext:
          trap("error-context values are not supported");
      }
      return;
    case K::kList:
    case K::kMap: {
      auto [lp, len] = storeList(cx, t.kind == K::kMap ? *mapEntry(t) : *t.elems[0], v);
      Memory(cx).put<uint32_t>(ptr, lp);
      Memory(cx).put<uint32_t>(ptr + 4, len);
      return;
    }
    case K::kFixedList: {
      const auto& e = v.elems();
      if (e.size() != t.length) throw ValKindError("fixed-length list has the wrong length");
      uint32_t es = size(*t.elems[0]);
      for (uint32_t i = 0; i < t.length; ++i) store(cx, t.elems[0], e[i], ptr + i * es);
      return;
    }
    case K::kRecord:
    case K::kTuple: {
      const auto& e = v.elems();
      size_t n = t.kind == K::kRecord ? t.fields.size() : t.elems.size();
      if (e.size() != n) throw ValKindError("record or tuple has the wrong number of fields");
      uint32_t off = 0;
      for (size_t i = 0; i < n; ++i) {
        const CTypePtr& f = t.kind == K::kRecord ? t.fields[i].second : t.elems[i];
        off = alignTo(off, alignment(*f));
        store(cx, f, e[i], ptr + off);
        off += size(*f);
      }
      return;
    }
    case K::kVariant:
    case K::kEnum:
    case K::kOption:
    case K::kResult: {
      auto cs = cases(t);
      uint32_t disc = v.discriminant();
      if (disc >= cs.size()) throw ValKindError("variant case out of range");
      uint32_t ds = discriminantSize(static_cast<uint32_t>(cs.size()));
      storeInt(Memory(cx), ptr, ds, disc);
      if (cs[disc]) store(cx, alias(cs[disc]), v.payload(), ptr + alignTo(ds, maxCaseAlignment(t)));
      return;
    }
    case K::kFlags:
      storeInt(Memory(cx), ptr, flagsSize(t.labels.size()),
               t.labels.size() < 32 ? v.flagBits() & ((1u << t.labels.size()) - 1) : v.flagBits());
      return;
    case K::kOwn:
    case K::kBorrow: {
      if (!cx.handles) trap("handles are not supported here");
      uint32_t h = t.kind == K::kOwn ? cx.handles->lowerOwn(*t.resource, v)
                                     : cx.handles->lowerBorrow(*t.resource, v);
      Memory(cx).put<uint32_t>(ptr, h);
      return;
    }
    default:
      trap(fmt::format("type {} is not supported by the canonical ABI here", toWit(tp)));
  }
}

CTypePtr paramsTuple(const CType& func) {
  auto t = std::make_shared<CType>();
  t->kind = K::kTuple;
  for (const auto& [n, p] : func.fields) t->elems.push_back(p);
  return t;
}

FlatSig flatSignature(const CType& func, bool lower) {
  FlatSig sig;
  for (const auto& [n, p] : func.fields) flatten(p, sig.params);
  if (sig.params.size() > kMaxFlatParams) {
    sig.params = {VT::kI32};
    sig.params_in_memory = true;
  }
  flatten(func.result, sig.results);
  if (sig.results.size() > kMaxFlatResults) {
    sig.results_in_memory = true;
    if (lower) {
      sig.params.push_back(VT::kI32);
      sig.results.clear();
    } else {
      sig.results = {VT::kI32};
    }
  }
  return sig;
}

}  // namespace cumulus::component::abi
