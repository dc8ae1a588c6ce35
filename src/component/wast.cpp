// The component-model script runner (see wast.h).
#include "component/wast.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "component/runtime.h"
#include "component/types.h"

namespace cumulus::component {

namespace {

// ---- s-expressions ----

struct SExpr {
  enum class Kind : uint8_t { kList, kAtom, kString };
  Kind kind = Kind::kList;
  std::string text;  // atom text, or a string's decoded bytes
  std::vector<SExpr> items;
  uint32_t line = 0;

  bool isList() const { return kind == Kind::kList; }
  bool isAtom(std::string_view a) const { return kind == Kind::kAtom && text == a; }
  bool isString() const { return kind == Kind::kString; }
  bool isId() const { return kind == Kind::kAtom && !text.empty() && text[0] == '$'; }
  // The head atom of a list ("" otherwise).
  std::string_view head() const {
    return isList() && !items.empty() && items[0].kind == Kind::kAtom
               ? std::string_view(items[0].text)
               : std::string_view();
  }
};

struct ParseError {
  std::string message;
};

void appendUtf8(std::string& out, uint32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

// The wast text format's lexical rules, as far as scripts need them: `;;` line comments, nested
// `(; ;)` block comments, strings with \n \t \r \" \' \\ \hh and \u{…} escapes, and atoms
// (keywords, numbers, $ids) running up to whitespace, a parenthesis or a quote.
class Reader {
 public:
  explicit Reader(std::string_view src) : src_(src) {}

  std::vector<SExpr> forms() {
    std::vector<SExpr> out;
    while (skipSpace(), pos_ < src_.size()) {
      if (src_[pos_] != '(') fail("expected `(` at the top level");
      out.push_back(list());
    }
    return out;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw ParseError{fmt::format("line {}: {}", line_, what)};
  }

  void advance() {
    if (src_[pos_] == '\n') ++line_;
    ++pos_;
  }

  void skipSpace() {
    while (pos_ < src_.size()) {
      char c = src_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        advance();
      } else if (src_.substr(pos_, 2) == ";;") {
        while (pos_ < src_.size() && src_[pos_] != '\n') advance();
      } else if (src_.substr(pos_, 2) == "(;") {
        int depth = 0;
        do {
          if (pos_ >= src_.size()) fail("unterminated block comment");
          if (src_.substr(pos_, 2) == "(;") {
            ++depth;
            pos_ += 2;
          } else if (src_.substr(pos_, 2) == ";)") {
            --depth;
            pos_ += 2;
          } else {
            advance();
          }
        } while (depth > 0);
      } else {
        return;
      }
    }
  }

  SExpr list() {
    SExpr e;
    e.kind = SExpr::Kind::kList;
    e.line = line_;
    advance();  // (
    while (true) {
      skipSpace();
      if (pos_ >= src_.size()) fail(fmt::format("unclosed `(` opened on line {}", e.line));
      char c = src_[pos_];
      if (c == ')') {
        advance();
        return e;
      }
      if (c == '(') {
        e.items.push_back(list());
      } else if (c == '"') {
        e.items.push_back(string());
      } else {
        e.items.push_back(atom());
      }
    }
  }

  static int hexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  SExpr string() {
    SExpr e;
    e.kind = SExpr::Kind::kString;
    e.line = line_;
    advance();  // "
    while (true) {
      if (pos_ >= src_.size()) fail("unterminated string");
      char c = src_[pos_];
      if (c == '"') {
        advance();
        return e;
      }
      if (c != '\\') {
        e.text += c;
        advance();
        continue;
      }
      if (pos_ + 1 >= src_.size()) fail("unterminated string");
      char n = src_[pos_ + 1];
      pos_ += 2;
      switch (n) {
        case 'n':
          e.text += '\n';
          break;
        case 't':
          e.text += '\t';
          break;
        case 'r':
          e.text += '\r';
          break;
        case '"':
        case '\'':
        case '\\':
          e.text += n;
          break;
        case 'u': {
          if (pos_ >= src_.size() || src_[pos_] != '{') fail("bad \\u escape");
          ++pos_;
          uint32_t cp = 0;
          while (pos_ < src_.size() && src_[pos_] != '}') {
            if (src_[pos_] != '_') {
              int d = hexDigit(src_[pos_]);
              if (d < 0 || cp > 0x10FFFF) fail("bad \\u escape");
              cp = cp * 16 + static_cast<uint32_t>(d);
            }
            ++pos_;
          }
          ++pos_;
          appendUtf8(e.text, cp);
          break;
        }
        default: {
          int hi = hexDigit(n);
          int lo = pos_ < src_.size() ? hexDigit(src_[pos_]) : -1;
          if (hi < 0 || lo < 0) fail(fmt::format("bad string escape \\{}", n));
          ++pos_;
          e.text += static_cast<char>(hi * 16 + lo);
        }
      }
    }
  }

  SExpr atom() {
    SExpr e;
    e.kind = SExpr::Kind::kAtom;
    e.line = line_;
    size_t start = pos_;
    while (pos_ < src_.size()) {
      char c = src_[pos_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(' || c == ')' || c == '"')
        break;
      ++pos_;
    }
    e.text = std::string(src_.substr(start, pos_ - start));
    return e;
  }

  std::string_view src_;
  size_t pos_ = 0;
  uint32_t line_ = 1;
};

// ---- wast values → Val ----

struct ValueError {
  std::string message;
};
[[noreturn]] void valueFail(std::string message) { throw ValueError{std::move(message)}; }

using K = CType::Kind;

std::string stripUnderscores(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c != '_') out += c;
  return out;
}

// An integer literal: optional sign, decimal or 0x hex. Returns the two's complement bits.
uint64_t parseInt(std::string_view text, bool is_signed, unsigned bits) {
  std::string s = stripUnderscores(text);
  bool neg = false;
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
  int base = 10;
  if (s.compare(i, 2, "0x") == 0) {
    base = 16;
    i += 2;
  }
  if (i >= s.size()) valueFail(fmt::format("bad integer `{}`", text));
  errno = 0;
  char* end = nullptr;
  unsigned long long mag = std::strtoull(s.c_str() + i, &end, base);
  if (errno || *end) valueFail(fmt::format("bad integer `{}`", text));
  uint64_t max = bits == 64 ? UINT64_MAX : (uint64_t{1} << bits) - 1;
  if (neg) {
    // -0x80 for s8 is fine; an unsigned negative wraps like the core wast format allows.
    uint64_t limit = is_signed ? (uint64_t{1} << (bits - 1)) : max;
    if (mag > limit) valueFail(fmt::format("integer `{}` out of range", text));
    return (~static_cast<uint64_t>(mag) + 1) & max;
  }
  if (mag > max) valueFail(fmt::format("integer `{}` out of range", text));
  return mag;
}

double parseFloat(std::string_view text, bool f32) {
  std::string s = stripUnderscores(text);
  bool neg = !s.empty() && s[0] == '-';
  std::string body = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? s.substr(1) : s;
  if (body.rfind("nan", 0) == 0) return std::nan("");
  if (body == "inf") return neg ? -INFINITY : INFINITY;
  char* end = nullptr;
  double v = f32 ? static_cast<double>(std::strtof(s.c_str(), &end)) : std::strtod(s.c_str(), &end);
  if (end == s.c_str() || *end) valueFail(fmt::format("bad float `{}`", text));
  return v;
}

// The code points of a UTF-8 string (the reader keeps source bytes, which are UTF-8).
std::vector<uint32_t> codePoints(const std::string& s) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < s.size();) {
    auto b = static_cast<uint8_t>(s[i]);
    int n = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    uint32_t c = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
    for (int k = 1; k < n && i + k < s.size(); ++k) c = (c << 6) | (uint8_t(s[i + k]) & 0x3F);
    out.push_back(c);
    i += n;
  }
  return out;
}

const char* primWastName(Prim p) {
  switch (p) {
    case Prim::kBool:
      return "bool";
    case Prim::kS8:
      return "s8";
    case Prim::kU8:
      return "u8";
    case Prim::kS16:
      return "s16";
    case Prim::kU16:
      return "u16";
    case Prim::kS32:
      return "s32";
    case Prim::kU32:
      return "u32";
    case Prim::kS64:
      return "s64";
    case Prim::kU64:
      return "u64";
    case Prim::kF32:
      return "f32";
    case Prim::kF64:
      return "f64";
    case Prim::kChar:
      return "char";
    case Prim::kString:
      return "str";
    case Prim::kErrorContext:
      return "error-context";
  }
  return "?";
}

const std::string& stringArg(const SExpr& e, size_t i) {
  if (i >= e.items.size() || !e.items[i].isString())
    valueFail(fmt::format("`{}` needs a string at position {}", e.head(), i));
  return e.items[i].text;
}

const std::string& atomArg(const SExpr& e, size_t i) {
  if (i >= e.items.size() || e.items[i].kind != SExpr::Kind::kAtom)
    valueFail(fmt::format("`{}` needs a literal at position {}", e.head(), i));
  return e.items[i].text;
}

Val toVal(const SExpr& e, const CTypePtr& tp);

// A value written as the rest of a list from position `i`: either one parenthesized value or,
// as in `(field "k" str.const "a")`, the value's head and arguments inline.
Val toValAt(const SExpr& e, size_t i, const CTypePtr& tp) {
  if (i >= e.items.size()) valueFail(fmt::format("`{}` is missing a value", e.head()));
  if (e.items[i].isList()) return toVal(e.items[i], tp);
  SExpr inl;
  inl.kind = SExpr::Kind::kList;
  inl.items.assign(e.items.begin() + static_cast<ptrdiff_t>(i), e.items.end());
  return toVal(inl, tp);
}

Val toVal(const SExpr& e, const CTypePtr& tp) {
  if (!tp) valueFail("a value where the type has none");
  const CType& t = *tp;
  std::string_view h = e.head();
  if (!e.isList() || h.empty()) valueFail("a value must be a parenthesized form");
  switch (t.kind) {
    case K::kPrim: {
      std::string want = fmt::format("{}.const", primWastName(t.prim));
      if (h != want) valueFail(fmt::format("`{}` where the type is {}", h, toWit(tp)));
      switch (t.prim) {
        case Prim::kBool: {
          const std::string& a = atomArg(e, 1);
          if (a != "true" && a != "false") valueFail(fmt::format("bad bool `{}`", a));
          return Val::boolean(a == "true");
        }
        case Prim::kS8:
          return Val::s8(static_cast<int8_t>(parseInt(atomArg(e, 1), true, 8)));
        case Prim::kU8:
          return Val::u8(static_cast<uint8_t>(parseInt(atomArg(e, 1), false, 8)));
        case Prim::kS16:
          return Val::s16(static_cast<int16_t>(parseInt(atomArg(e, 1), true, 16)));
        case Prim::kU16:
          return Val::u16(static_cast<uint16_t>(parseInt(atomArg(e, 1), false, 16)));
        case Prim::kS32:
          return Val::s32(static_cast<int32_t>(parseInt(atomArg(e, 1), true, 32)));
        case Prim::kU32:
          return Val::u32(static_cast<uint32_t>(parseInt(atomArg(e, 1), false, 32)));
        case Prim::kS64:
          return Val::s64(static_cast<int64_t>(parseInt(atomArg(e, 1), true, 64)));
        case Prim::kU64:
          return Val::u64(parseInt(atomArg(e, 1), false, 64));
        case Prim::kF32:
          return Val::f32(static_cast<float>(parseFloat(atomArg(e, 1), true)));
        case Prim::kF64:
          return Val::f64(parseFloat(atomArg(e, 1), false));
        case Prim::kChar: {
          auto cps = codePoints(stringArg(e, 1));
          if (cps.size() != 1) valueFail("`char.const` needs exactly one character");
          return Val::character(cps[0]);
        }
        case Prim::kString:
          return Val::string(e.items.size() > 1 ? stringArg(e, 1) : std::string());
        case Prim::kErrorContext:
          break;
      }
      valueFail("error-context values cannot be written in a script");
    }
    case K::kList:
    case K::kFixedList:
    case K::kMap: {
      if (h != "list.const" && h != "map.const")
        valueFail(fmt::format("`{}` where the type is {}", h, toWit(tp)));
      CTypePtr elem = t.elems[0];
      if (t.kind == K::kMap) {
        auto tup = std::make_shared<CType>();
        tup->kind = K::kTuple;
        tup->elems = t.elems;
        elem = tup;
      }
      if (t.kind == K::kList && elem->kind == K::kPrim && elem->prim == Prim::kU8) {
        std::string bytes;
        for (size_t i = 1; i < e.items.size(); ++i)
          bytes += static_cast<char>(toVal(e.items[i], elem).asU64());
        return Val::bytes(std::move(bytes));
      }
      std::vector<Val> out;
      for (size_t i = 1; i < e.items.size(); ++i) out.push_back(toVal(e.items[i], elem));
      if (t.kind == K::kFixedList && out.size() != t.length)
        valueFail(fmt::format("{} elements where the type is {}", out.size(), toWit(tp)));
      return Val::list(std::move(out));
    }
    case K::kRecord: {
      if (h != "record.const") valueFail(fmt::format("`{}` where the type is {}", h, toWit(tp)));
      std::vector<std::optional<Val>> fields(t.fields.size());
      for (size_t i = 1; i < e.items.size(); ++i) {
        const SExpr& f = e.items[i];
        if (f.head() != "field") valueFail("`record.const` takes `(field \"name\" value)` forms");
        const std::string& name = stringArg(f, 1);
        size_t k = 0;
        while (k < t.fields.size() && t.fields[k].first != name) ++k;
        if (k == t.fields.size()) valueFail(fmt::format("no field `{}` in {}", name, toWit(tp)));
        fields[k] = toValAt(f, 2, t.fields[k].second);
      }
      std::vector<Val> out;
      for (size_t k = 0; k < fields.size(); ++k) {
        if (!fields[k]) valueFail(fmt::format("field `{}` is missing", t.fields[k].first));
        out.push_back(std::move(*fields[k]));
      }
      return Val::record(std::move(out));
    }
    case K::kTuple: {
      if (h != "tuple.const") valueFail(fmt::format("`{}` where the type is {}", h, toWit(tp)));
      if (e.items.size() - 1 != t.elems.size())
        valueFail(fmt::format("{} elements where the type is {}", e.items.size() - 1, toWit(tp)));
      std::vector<Val> out;
      for (size_t i = 0; i < t.elems.size(); ++i) out.push_back(toVal(e.items[i + 1], t.elems[i]));
      return Val::tuple(std::move(out));
    }
    case K::kVariant: {
      if (h != "variant.const") valueFail(fmt::format("`{}` where the type is {}", h, toWit(tp)));
      const std::string& name = stringArg(e, 1);
      for (size_t k = 0; k < t.fields.size(); ++k) {
        if (t.fields[k].first != name) continue;
        if (!t.fields[k].second) return Val::variant(static_cast<uint32_t>(k));
        std::vector<Val> payload;
        payload.push_back(toValAt(e, 2, t.fields[k].second));
        return Val::variant(static_cast<uint32_t>(k), std::move(payload));
      }
      valueFail(fmt::format("no case `{}` in {}", name, toWit(tp)));
    }
    case K::kEnum: {
      if (h != "enum.const") valueFail(fmt::format("`{}` where the type is {}", h, toWit(tp)));
      const std::string& name = stringArg(e, 1);
      for (size_t k = 0; k < t.labels.size(); ++k)
        if (t.labels[k] == name) return Val::enumCase(static_cast<uint32_t>(k));
      valueFail(fmt::format("no case `{}` in {}", name, toWit(tp)));
    }
    case K::kFlags: {
      if (h != "flags.const") valueFail(fmt::format("`{}` where the type is {}", h, toWit(tp)));
      uint32_t bits = 0;
      for (size_t i = 1; i < e.items.size(); ++i) {
        const std::string& name = stringArg(e, i);
        size_t k = 0;
        while (k < t.labels.size() && t.labels[k] != name) ++k;
        if (k == t.labels.size()) valueFail(fmt::format("no flag `{}` in {}", name, toWit(tp)));
        bits |= 1u << k;
      }
      return Val::flags(bits);
    }
    case K::kOption:
      if (h == "option.none") return Val::none();
      if (h == "option.some") return Val::some(toValAt(e, 1, t.elems[0]));
      valueFail(fmt::format("`{}` where the type is {}", h, toWit(tp)));
    case K::kResult: {
      if (h != "result.ok" && h != "result.err")
        valueFail(fmt::format("`{}` where the type is {}", h, toWit(tp)));
      uint32_t c = h == "result.ok" ? 0 : 1;
      const CTypePtr& payload = t.elems[c];
      if (!payload) {
        if (e.items.size() > 1) valueFail(fmt::format("`{}` has no payload in {}", h, toWit(tp)));
        return Val::variant(c);
      }
      std::vector<Val> p;
      p.push_back(toValAt(e, 1, payload));
      return Val::variant(c, std::move(p));
    }
    default:
      valueFail(fmt::format("values of type {} cannot be written in a script", toWit(tp)));
  }
}

// Structural equality; a list<u8> may be bytes on one side and a list of u8 on the other.
bool sameVal(const Val& a, const Val& b) {
  using VK = Val::Kind;
  if (a.kind() == VK::kBytes && b.kind() == VK::kList) return sameVal(b, a);
  if (a.kind() == VK::kList && b.kind() == VK::kBytes) {
    const auto& e = a.rawElems();
    const std::string& s = b.rawString();
    if (e.size() != s.size()) return false;
    for (size_t i = 0; i < e.size(); ++i)
      if (e[i].kind() != VK::kU8 || e[i].rawBits() != static_cast<uint8_t>(s[i])) return false;
    return true;
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case VK::kList:
    case VK::kRecord:
    case VK::kTuple:
    case VK::kVariant: {
      if (a.kind() == VK::kVariant && a.rawBits() != b.rawBits()) return false;
      const auto& x = a.rawElems();
      const auto& y = b.rawElems();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i)
        if (!sameVal(x[i], y[i])) return false;
      return true;
    }
    case VK::kF32:
    case VK::kF64: {
      double x = a.rawFloat(), y = b.rawFloat();
      if (std::isnan(x) || std::isnan(y)) return std::isnan(x) && std::isnan(y);
      return x == y && std::signbit(x) == std::signbit(y);
    }
    default:
      return a == b;
  }
}

// ---- host definitions: what wasmtime's wast harness links (crates/wast/src/spectest.rs,
// link_component_spectest) ----

struct HostState {
  uint32_t drops = 0;
  uint32_t last_drop = 0;
};

Expected<Val> hostCheck(bool ok, const char* what) {
  if (ok) return Val();
  return makeError(ErrorCode::kTrap, "host assertion failed: {}", what);
}

void defineHost(Linker& linker, HostState* state) {
  linker.func("host-return-two", "host-return-two",
              [](CallContext&, std::vector<Val>&) -> Expected<Val> { return Val::u32(2); });
  const char* kHost = "host";
  linker.func(kHost, "return-three",
              [](CallContext&, std::vector<Val>&) -> Expected<Val> { return Val::u32(3); });
  const ResourceType* r1 = linker.resource(kHost, "resource1", [state](CallContext&, uint32_t rep) {
    ++state->drops;
    state->last_drop = rep;
  });
  linker.resource(kHost, "resource2", [](CallContext&, uint32_t) {});
  linker.resourceAlias(kHost, "resource1-again", r1);  // the same host type, as in wasmtime
  linker.func(kHost, "[constructor]resource1",
              [r1](CallContext&, std::vector<Val>& a) -> Expected<Val> {
                return Val::own(r1, a.at(0).asU32());
              });
  linker.func(kHost, "[static]resource1.assert",
              [](CallContext&, std::vector<Val>& a) -> Expected<Val> {
                return hostCheck(a.at(0).rep() == a.at(1).asU32(), "resource1.assert: rep");
              });
  linker.func(kHost, "[static]resource1.last-drop",
              [state](CallContext&, std::vector<Val>&) -> Expected<Val> {
                return Val::u32(state->last_drop);
              });
  linker.func(
      kHost, "[static]resource1.drops",
      [state](CallContext&, std::vector<Val>&) -> Expected<Val> { return Val::u32(state->drops); });
  linker.func(kHost, "[method]resource1.simple",
              [](CallContext&, std::vector<Val>& a) -> Expected<Val> {
                if (a.at(0).kind() != Val::Kind::kBorrow)
                  return hostCheck(false, "resource1.simple: self is not a borrow");
                return hostCheck(a.at(0).rep() == a.at(1).asU32(), "resource1.simple: rep");
              });
  linker.func(kHost, "[method]resource1.take-borrow",
              [](CallContext&, std::vector<Val>& a) -> Expected<Val> {
                return hostCheck(
                    a.at(0).kind() == Val::Kind::kBorrow && a.at(1).kind() == Val::Kind::kBorrow,
                    "resource1.take-borrow: both arguments are borrows");
              });
  linker.func(
      kHost, "[method]resource1.take-own", [](CallContext&, std::vector<Val>& a) -> Expected<Val> {
        return hostCheck(a.at(0).kind() == Val::Kind::kBorrow && a.at(1).kind() == Val::Kind::kOwn,
                         "resource1.take-own: a borrow and an owned handle");
      });
  // Not provided (the Linker has no nested host instances or core modules): `host.nested`
  // (return-four) and `host.simple-module`.
}

// ---- trap messages ----

// wasmtime's trap messages are not ours, so an `assert_trap` compares the kind of trap: the
// expected message names one of these kinds by one of `theirs`, and our message must then contain
// one of `ours`. A message naming no kind accepts any trap (the message is noted under
// --verbose). `exact` kinds carry a detail (a handle index) and need the expected text verbatim.
struct TrapKind {
  const char* name;
  std::vector<std::string_view> theirs, ours;
  bool exact = false;
};

const std::vector<TrapKind>& trapKinds() {
  static const std::vector<TrapKind> kKinds = {
      {"handle index", {"unknown handle index"}, {}, true},
      {"unreachable", {"unreachable"}, {"unreachable"}},
      {"unaligned pointer", {"unaligned pointer", "not aligned"}, {"unaligned pointer"}},
      {"out of bounds",
       {"out-of-bounds", "out of bounds", "beyond end of memory"},
       {"out of bounds", "string too long", "list too long"}},
      {"invalid char", {"invalid `char` bit pattern"}, {"invalid char"}},
      {"invalid utf-8", {"invalid utf-8", "incomplete utf-8"}, {"invalid utf-8"}},
      {"invalid discriminant",
       {"invalid variant discriminant", "out of range ["},
       {"invalid variant discriminant"}},
      {"borrowed resource", {"while borrowed"}, {"still lent out"}},
      {"handle of the wrong type", {"used with the wrong type"}, {"is not a"}},
      {"cannot enter", {"cannot enter component instance"}, {"cannot enter component instance"}},
      {"cannot leave", {"cannot leave component instance"}, {"cannot leave component instance"}},
  };
  return kKinds;
}

// Why `got` is not the trap `want` names, or nothing when it is (or `want` names no kind).
std::optional<std::string> trapMismatch(const std::string& want, const std::string& got) {
  if (want.empty() || got.find(want) != std::string::npos) return std::nullopt;
  for (const TrapKind& k : trapKinds()) {
    bool named = false;
    for (auto t : k.theirs) named = named || want.find(t) != std::string::npos;
    if (!named) continue;
    if (!k.exact)
      for (auto o : k.ours)
        if (got.find(o) != std::string::npos) return std::nullopt;
    return fmt::format("trapped, but not with {} (\"{}\"): {}", k.name, want, got);
  }
  return std::nullopt;
}

// ---- the runner ----

struct Outcome {
  enum class Kind : uint8_t { kPass, kFail, kSkip };
  Kind kind = Kind::kPass;
  std::string message;
  static Outcome pass() { return {}; }
  static Outcome fail(std::string m) { return {Kind::kFail, std::move(m)}; }
  static Outcome skip(std::string m) { return {Kind::kSkip, std::move(m)}; }
};

constexpr auto kCallTimeout = std::chrono::seconds(20);

class Runner {
 public:
  Runner(engine::Engine& engine, const WastManifest& manifest, std::string script,
         const ComponentWastOptions& options)
      : engine_(engine), manifest_(manifest), script_(std::move(script)), options_(options) {
    defineHost(linker_, &host_);
  }

  ComponentWastResult run(const std::vector<SExpr>& forms) {
    auto file_skip = options_.skip.find(script_);
    for (size_t i = 0; i < forms.size(); ++i) {
      const SExpr& f = forms[i];
      std::string where = fmt::format("{}:{}", script_, f.line);
      ++result_.total;
      Outcome o;
      auto line_skip = options_.skip.find(where);
      if (file_skip != options_.skip.end()) {
        o = Outcome::skip(file_skip->second);
      } else if (line_skip != options_.skip.end()) {
        o = Outcome::skip(line_skip->second);
        // What follows a skipped component needs it: it is skipped too.
        if (f.head() == "component") {
          std::string why = fmt::format("the component at line {} is skipped", f.line);
          if (f.items.size() > 2 && f.items[1].isAtom("definition") && f.items[2].isId())
            definitions_[f.items[2].text] = Definition{nullptr, why, true};
          else
            noCurrent(why, true);
        }
      } else {
        try {
          o = directive(f, i);
        } catch (const ValueError& e) {
          o = Outcome::fail(e.message);
        }
      }
      switch (o.kind) {
        case Outcome::Kind::kPass:
          ++result_.passed;
          break;
        case Outcome::Kind::kFail:
          result_.failures.push_back(fmt::format("{}: {}: {}", where, f.head(), o.message));
          break;
        case Outcome::Kind::kSkip:
          ++result_.skipped;
          result_.skips.push_back(fmt::format("{}: {}", where, o.message));
          break;
      }
    }
    return std::move(result_);
  }

 private:
  struct Current {
    std::shared_ptr<ComponentInstance> instance;
    std::string missing;  // why there is none
    bool missing_is_skip = false;
  };

  void noCurrent(std::string why, bool skip) { current_ = Current{nullptr, std::move(why), skip}; }

  // The compiled binary for form `index`, or why there is none.
  Expected<std::vector<uint8_t>> binary(size_t index, const WastManifest::Entry** entry) {
    const WastManifest::Entry* e = manifest_.find(script_, index);
    *entry = e;
    if (!e)
      return makeError(ErrorCode::kNotFound,
                       "form {} has no compiled binary (binary/quote forms are not compiled)",
                       index);
    if (e->file.empty())
      return makeError(ErrorCode::kNotFound, "form {} could not be compiled (jco parse failed)",
                       index);
    return readFile(e->file);
  }

  Expected<std::shared_ptr<ComponentPlan>> plan(const std::vector<uint8_t>& bytes) {
    CUMULUS_TRY(auto p, ComponentPlan::create(engine_, bytes, linker_));
    plans_.push_back(p);
    return p;
  }

  Outcome directive(const SExpr& f, size_t index) {
    std::string_view h = f.head();
    if (h == "component") return component(f, index);
    if (h == "assert_return") return assertReturn(f);
    if (h == "invoke") {
      auto r = invoke(f);
      if (!r.ok()) return Outcome::fail(r.error().message());
      return Outcome::pass();
    }
    if (h == "assert_trap") return assertTrap(f, index);
    if (h == "assert_unlinkable") return assertUnlinkable(f, index);
    if (h == "assert_invalid" || h == "assert_malformed") return assertInvalid(f, index);
    return Outcome::skip(fmt::format("directive `{}` is not supported by this runner", h));
  }

  Outcome component(const SExpr& f, size_t index) {
    size_t i = 1;
    if (i < f.items.size() && f.items[i].isAtom("definition")) {
      std::string name = i + 1 < f.items.size() && f.items[i + 1].isId() ? f.items[i + 1].text : "";
      const WastManifest::Entry* e = nullptr;
      auto bytes = binary(index, &e);
      if (!bytes.ok()) return Outcome::skip(bytes.error().message());
      if (e->async) {
        definitions_[name] = Definition{nullptr, "async component (out of scope)", true};
        return Outcome::skip("async component (WASI 0.3 / async ABI is out of scope)");
      }
      auto p = plan(*bytes);
      if (!p.ok()) {
        definitions_[name] = Definition{nullptr, "its definition failed", false};
        return Outcome::fail(p.error().message());
      }
      definitions_[name] = Definition{*p, "", false};
      return Outcome::pass();
    }
    if (i < f.items.size() && f.items[i].isAtom("instance")) {
      std::string inst_name =
          i + 1 < f.items.size() && f.items[i + 1].isId() ? f.items[i + 1].text : "";
      std::string def_name =
          i + 2 < f.items.size() && f.items[i + 2].isId() ? f.items[i + 2].text : "";
      auto d = definitions_.find(def_name);
      if (d == definitions_.end()) {
        noCurrent("no definition " + def_name, false);
        return Outcome::fail(fmt::format("no component definition named {}", def_name));
      }
      if (!d->second.plan) {
        noCurrent(fmt::format("definition {}: {}", def_name, d->second.missing),
                  d->second.missing_is_skip);
        if (current_.missing_is_skip) return Outcome::skip(current_.missing);
        return Outcome::fail(current_.missing);
      }
      return instantiate(d->second.plan, inst_name);
    }
    if (i < f.items.size() &&
        (f.items[i].isAtom("binary") || f.items[i].isAtom("quote") ||
         (f.items[i].isId() && i + 1 < f.items.size() &&
          (f.items[i + 1].isAtom("binary") || f.items[i + 1].isAtom("quote"))))) {
      noCurrent("binary/quote component not compiled", true);
      return Outcome::skip("binary/quote component forms are not compiled");
    }
    std::string name = i < f.items.size() && f.items[i].isId() ? f.items[i].text : "";
    const WastManifest::Entry* e = nullptr;
    auto bytes = binary(index, &e);
    if (!bytes.ok()) {
      noCurrent(bytes.error().message(), true);
      return Outcome::skip(bytes.error().message());
    }
    if (e->async) {
      noCurrent(fmt::format("the async component at line {} is skipped", f.line), true);
      return Outcome::skip("async component (WASI 0.3 / async ABI is out of scope)");
    }
    auto p = plan(*bytes);
    if (!p.ok()) {
      noCurrent(fmt::format("the component at line {} failed", f.line), false);
      return Outcome::fail(p.error().message());
    }
    return instantiate(*p, name);
  }

  Outcome instantiate(const std::shared_ptr<ComponentPlan>& plan, const std::string& name) {
    auto inst = plan->instantiate();
    if (!inst.ok()) {
      noCurrent("its instantiation failed", false);
      return Outcome::fail(inst.error().message());
    }
    instances_.push_back(*inst);
    current_ = Current{*inst, "", false};
    if (!name.empty()) {
      named_[name] = *inst;
      registerInstance(name.substr(1), *plan, **inst);
    }
    return Outcome::pass();
  }

  // wasmtime's harness makes a named instance importable under its name (without `$`), with the
  // resource types it exports (and core modules, which our Linker cannot hold).
  void registerInstance(const std::string& name, const ComponentPlan& plan,
                        const ComponentInstance& inst) {
    for (const auto& [en, e] : plan.info().exports) {
      if (e.kind != ExternType::Kind::kType || !e.type || e.type->kind != CType::Kind::kResource)
        continue;
      if (const ResourceType* t = inst.exportResource("", en)) linker_.resourceAlias(name, en, t);
    }
  }

  struct Invoked {
    Expected<Val> result;
    CTypePtr type;  // the function's type
  };

  // Runs `(invoke [$inst] "name" args...)`. Errors: the call's trap or why it could not be made
  // (kNotFound, kInvalidArgument; kUnsupported when the instance is missing because a component
  // was skipped).
  Expected<Invoked> invoke(const SExpr& inv) {
    if (inv.head() != "invoke")
      return makeError(ErrorCode::kInvalidArgument, "expected `(invoke ...)`");
    size_t i = 1;
    std::shared_ptr<ComponentInstance> inst = current_.instance;
    if (i < inv.items.size() && inv.items[i].isId()) {
      auto it = named_.find(inv.items[i].text);
      if (it == named_.end())
        return makeError(ErrorCode::kNotFound, "no instance named {}", inv.items[i].text);
      inst = it->second;
      ++i;
    }
    if (!inst)
      return makeError(current_.missing_is_skip ? ErrorCode::kUnsupported : ErrorCode::kNotFound,
                       "no current instance: {}",
                       current_.missing.empty() ? "no component yet" : current_.missing);
    if (i >= inv.items.size() || !inv.items[i].isString())
      return makeError(ErrorCode::kInvalidArgument, "`invoke` needs a function name");
    const std::string& name = inv.items[i].text;
    auto fh = inst->exportFunc("", name);
    if (!fh) return makeError(ErrorCode::kNotFound, "the instance exports no function `{}`", name);
    const CType& ft = *fh->type;
    std::vector<Val> args;
    size_t nargs = inv.items.size() - i - 1;
    if (nargs != ft.fields.size())
      return makeError(ErrorCode::kInvalidArgument, "`{}` takes {} arguments, {} given", name,
                       ft.fields.size(), nargs);
    for (size_t k = 0; k < nargs; ++k)
      args.push_back(toVal(inv.items[i + 1 + k], ft.fields[k].second));
    engine::CallOptions co;
    co.deadline = std::chrono::steady_clock::now() + kCallTimeout;
    return Invoked{inst->call(*fh, std::move(args), co), fh->type};
  }

  static Outcome unavailable(const Error& e) {
    if (e.code() == ErrorCode::kUnsupported) return Outcome::skip(e.message());
    return Outcome::fail(e.message());
  }

  Outcome assertReturn(const SExpr& f) {
    if (f.items.size() < 2) return Outcome::fail("`assert_return` needs an action");
    auto r = invoke(f.items[1]);
    if (!r.ok()) return unavailable(r.error());
    if (!r->result.ok()) return Outcome::fail(r->result.error().message());
    const Val& got = *r->result;
    size_t nexp = f.items.size() - 2;
    const CTypePtr& rt = r->type->result;
    if (!rt) {
      if (nexp != 0)
        return Outcome::fail(fmt::format("expected {} results, the function has none", nexp));
      return Outcome::pass();
    }
    if (nexp != 1)
      return Outcome::fail(
          fmt::format("expected {} results, the function returns {}", nexp, toWit(rt)));
    Val want = toVal(f.items[2], rt);
    if (!sameVal(want, got))
      return Outcome::fail(fmt::format("got {}, expected {}", got.toString(), want.toString()));
    return Outcome::pass();
  }

  // The expected message of an assertion (its last string).
  static std::string expectedMessage(const SExpr& f) {
    return !f.items.empty() && f.items.back().isString() ? f.items.back().text : std::string();
  }

  void noteMessage(const SExpr& f, const std::string& got) {
    std::string want = expectedMessage(f);
    if (!want.empty() && got.find(want) == std::string::npos)
      result_.notes.push_back(
          fmt::format("{}:{}: expected \"{}\", got \"{}\"", script_, f.line, want, got));
  }

  Outcome checkTrap(const SExpr& f, const std::string& got) {
    if (auto why = trapMismatch(expectedMessage(f), got)) return Outcome::fail(*why);
    noteMessage(f, got);
    return Outcome::pass();
  }

  Outcome assertTrap(const SExpr& f, size_t index) {
    if (f.items.size() < 2) return Outcome::fail("`assert_trap` needs an action");
    const SExpr& what = f.items[1];
    if (what.head() == "invoke") {
      auto r = invoke(what);
      if (!r.ok()) return unavailable(r.error());
      if (r->result.ok())
        return Outcome::fail(fmt::format("returned {} instead of trapping", r->result->toString()));
      if (r->result.error().code() != ErrorCode::kTrap)
        return Outcome::fail(fmt::format("failed without a trap: {}", r->result.error().message()));
      return checkTrap(f, r->result.error().message());
    }
    if (what.head() != "component") return Outcome::fail("`assert_trap` of an unknown action");
    const WastManifest::Entry* e = nullptr;
    auto bytes = binary(index, &e);
    if (!bytes.ok()) return Outcome::skip(bytes.error().message());
    if (e->async) return Outcome::skip("async component (WASI 0.3 / async ABI is out of scope)");
    auto p = plan(*bytes);
    if (!p.ok()) return Outcome::fail(p.error().message());
    auto inst = (*p)->instantiate();
    if (inst.ok()) return Outcome::fail("instantiation succeeded instead of trapping");
    if (inst.error().code() != ErrorCode::kTrap)
      return Outcome::fail(
          fmt::format("instantiation failed without a trap: {}", inst.error().message()));
    return checkTrap(f, inst.error().message());
  }

  Outcome assertUnlinkable(const SExpr& f, size_t index) {
    const WastManifest::Entry* e = nullptr;
    auto bytes = binary(index, &e);
    if (!bytes.ok()) return Outcome::skip(bytes.error().message());
    if (e->async) return Outcome::skip("async component (WASI 0.3 / async ABI is out of scope)");
    auto p = plan(*bytes);
    Error err(ErrorCode::kInternal, "");
    if (p.ok()) {
      auto inst = (*p)->instantiate();
      if (inst.ok()) return Outcome::fail("the component linked and instantiated");
      err = inst.error();
    } else {
      err = p.error();
    }
    if (err.code() != ErrorCode::kLinkError)
      return Outcome::fail(fmt::format("failed, but not with a link error: {}", err.message()));
    noteMessage(f, err.message());
    return Outcome::pass();
  }

  Outcome assertInvalid(const SExpr& f, size_t index) {
    const WastManifest::Entry* e = nullptr;
    auto bytes = binary(index, &e);
    if (!bytes.ok()) return Outcome::skip(bytes.error().message());
    if (e->async) return Outcome::skip("async component (WASI 0.3 / async ABI is out of scope)");
    auto p = ComponentPlan::create(engine_, *bytes, linker_);
    if (p.ok()) return Outcome::fail("the component was accepted");
    // Missing imports make a valid component unlinkable, not invalid.
    if (p.error().code() == ErrorCode::kLinkError)
      return Outcome::fail(fmt::format("rejected only by linking: {}", p.error().message()));
    noteMessage(f, p.error().message());
    return Outcome::pass();
  }

  struct Definition {
    std::shared_ptr<ComponentPlan> plan;
    std::string missing;  // why there is no plan
    bool missing_is_skip = false;
  };

  engine::Engine& engine_;
  const WastManifest& manifest_;
  std::string script_;
  const ComponentWastOptions& options_;
  HostState host_;
  Linker linker_;
  // Plans and instances live as long as the script runs: handles passed between instances refer
  // to resource types their instances own.
  std::vector<std::shared_ptr<ComponentPlan>> plans_;
  std::vector<std::shared_ptr<ComponentInstance>> instances_;
  std::map<std::string, Definition> definitions_;
  std::map<std::string, std::shared_ptr<ComponentInstance>> named_;
  Current current_{nullptr, "no component yet", false};
  ComponentWastResult result_;
};

}  // namespace

Expected<WastManifest> WastManifest::load(const std::filesystem::path& dir) {
  CUMULUS_TRY(std::string text, readTextFile(dir / "manifest.json"));
  WastManifest m;
  m.root_ = std::filesystem::weakly_canonical(dir).parent_path();
  try {
    auto j = nlohmann::json::parse(text);
    for (const auto& e : j) {
      Entry entry;
      entry.kind = e.at("kind").get<std::string>();
      // jco could not parse a few (async) forms: they have no file.
      if (!e.at("file").is_null()) entry.file = dir / e.at("file").get<std::string>();
      entry.async = e.value("async", false);
      m.entries_[e.at("source_wast").get<std::string>()][e.at("form_index").get<size_t>()] =
          std::move(entry);
    }
  } catch (const nlohmann::json::exception& e) {
    return makeError(ErrorCode::kInvalidArgument, "{}: {}", (dir / "manifest.json").string(),
                     e.what());
  }
  return m;
}

std::string WastManifest::scriptName(const std::filesystem::path& wast) const {
  std::error_code ec;
  auto abs = std::filesystem::weakly_canonical(wast, ec);
  if (ec) return wast.generic_string();
  auto rel = abs.lexically_relative(root_);
  if (rel.empty() || *rel.begin() == "..") return wast.generic_string();
  return rel.generic_string();
}

const WastManifest::Entry* WastManifest::find(const std::string& script, size_t form_index) const {
  auto s = entries_.find(script);
  if (s == entries_.end()) return nullptr;
  auto e = s->second.find(form_index);
  return e == s->second.end() ? nullptr : &e->second;
}

Expected<ComponentWastResult> runComponentWast(engine::Engine& engine, const WastManifest& manifest,
                                               const std::filesystem::path& wast,
                                               const ComponentWastOptions& options) {
  CUMULUS_TRY(std::string src, readTextFile(wast));
  std::vector<SExpr> forms;
  try {
    forms = Reader(src).forms();
  } catch (const ParseError& e) {
    return makeError(ErrorCode::kInvalidArgument, "{}: {}", wast.string(), e.message);
  }
  return Runner(engine, manifest, manifest.scriptName(wast), options).run(forms);
}

}  // namespace cumulus::component
