#include "component/value.h"

#include <fmt/format.h>

namespace cumulus::component {

const char* Val::kindName(Kind k) {
  static const char* const kNames[] = {
      "unit", "bool",  "s8",    "u8",     "s16",   "u16",     "s32",   "u32",
      "s64",  "u64",   "f32",   "f64",    "char",  "string",  "bytes", "list",
      "record", "tuple", "variant", "flags", "own", "borrow"};
  return kNames[static_cast<int>(k)];
}

const Val& Val::expect(Kind k) const {
  if (kind_ != k)
    throw ValKindError(fmt::format("expected a {} value, got {}", kindName(k), kindName(kind_)));
  return *this;
}

uint64_t Val::asU64() const {
  switch (kind_) {
    case Kind::kBool:
    case Kind::kS8:
    case Kind::kU8:
    case Kind::kS16:
    case Kind::kU16:
    case Kind::kS32:
    case Kind::kU32:
    case Kind::kS64:
    case Kind::kU64:
    case Kind::kChar:
    case Kind::kFlags:
      return bits_;
    default:
      throw ValKindError(fmt::format("expected an integer value, got {}", kindName(kind_)));
  }
}

double Val::asF64() const {
  if (kind_ != Kind::kF32 && kind_ != Kind::kF64)
    throw ValKindError(fmt::format("expected a float value, got {}", kindName(kind_)));
  return f64_;
}

const std::vector<Val>& Val::elems() const {
  if (kind_ != Kind::kList && kind_ != Kind::kRecord && kind_ != Kind::kTuple &&
      kind_ != Kind::kVariant)
    throw ValKindError(fmt::format("expected an aggregate value, got {}", kindName(kind_)));
  return elems_;
}

const Val& Val::payload() const {
  expect(Kind::kVariant);
  if (elems_.empty()) throw ValKindError("variant case has no payload");
  return elems_[0];
}

const ResourceType* Val::resourceType() const {
  if (kind_ != Kind::kOwn && kind_ != Kind::kBorrow)
    throw ValKindError(fmt::format("expected a handle, got {}", kindName(kind_)));
  return resource_;
}

uint32_t Val::rep() const {
  resourceType();
  return static_cast<uint32_t>(bits_);
}

std::string Val::toString() const {
  auto join = [](const std::vector<Val>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i].toString();
    return s;
  };
  switch (kind_) {
    case Kind::kUnit:
      return "()";
    case Kind::kBool:
      return bits_ ? "true" : "false";
    case Kind::kS8:
    case Kind::kS16:
    case Kind::kS32:
    case Kind::kS64:
      return fmt::format("{}", static_cast<int64_t>(bits_));
    case Kind::kU8:
    case Kind::kU16:
    case Kind::kU32:
    case Kind::kU64:
      return fmt::format("{}", bits_);
    case Kind::kF32:
    case Kind::kF64:
      return fmt::format("{}", f64_);
    case Kind::kChar:
      return fmt::format("'\\u{{{:x}}}'", bits_);
    case Kind::kString:
      return fmt::format("\"{}\"", str_);
    case Kind::kBytes: {
      std::string s = "[";
      for (size_t i = 0; i < str_.size(); ++i)
        s += fmt::format("{}{}", i ? ", " : "", static_cast<unsigned>(uint8_t(str_[i])));
      return s + "]";
    }
    case Kind::kList:
      return "[" + join(elems_) + "]";
    case Kind::kRecord:
      return "{" + join(elems_) + "}";
    case Kind::kTuple:
      return "(" + join(elems_) + ")";
    case Kind::kVariant:
      return elems_.empty() ? fmt::format("case{}", bits_)
                            : fmt::format("case{}({})", bits_, join(elems_));
    case Kind::kFlags:
      return fmt::format("flags({:#x})", bits_);
    case Kind::kOwn:
      return fmt::format("own({})", bits_);
    case Kind::kBorrow:
      return fmt::format("borrow({})", bits_);
  }
  return "?";
}

bool Val::operator==(const Val& o) const {
  if (kind_ != o.kind_) return false;
  switch (kind_) {
    case Kind::kF32:
    case Kind::kF64:
      return f64_ == o.f64_ || (f64_ != f64_ && o.f64_ != o.f64_);
    case Kind::kString:
    case Kind::kBytes:
      return str_ == o.str_;
    case Kind::kOwn:
    case Kind::kBorrow:
      return bits_ == o.bits_ && resource_ == o.resource_;
    default:
      return bits_ == o.bits_ && elems_ == o.elems_;
  }
}

}  // namespace cumulus::component
