// Internals the canonical ABI's files share (abi.cpp: values; abi_layout.cpp: sizes, alignments,
// flattening; abi_strings.cpp: strings and transcoding). Not part of the ABI's interface.
#pragma once

#include <cstring>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "component/abi.h"

namespace cumulus::component::abi::internal {

using K = CType::Kind;
using VT = engine::ValType;

[[noreturn]] inline void trap(std::string message) { throw AbiTrap(std::move(message)); }

inline uint32_t alignTo(uint32_t x, uint32_t a) { return (x + a - 1) / a * a; }

// A non-owning CTypePtr (the ABI's functions take CTypePtr; nested types are borrowed).
inline CTypePtr alias(const CType* t) { return CTypePtr(CTypePtr(), t); }

inline uint32_t caseCount(const CType& t) {
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
inline uint32_t discriminantSize(uint32_t cases) {
  if (cases <= 0x100) return 1;
  if (cases <= 0x10000) return 2;
  return 4;
}

// The payload type of case `i` of a variant-like type (null: no payload). No allocation: this is
// on every lift and lower of a variant, option or result.
inline const CType* caseType(const CType& t, uint32_t i) {
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
inline Cases cases(const CType& t) { return Cases{t, caseCount(t)}; }

inline uint32_t maxCaseAlignment(const CType& t) {
  uint32_t a = 1;
  for (const CType* c : cases(t))
    if (c) a = std::max(a, alignment(*c));
  return a;
}

inline uint32_t flagsSize(size_t n) {
  if (n == 0) return 0;
  if (n <= 8) return 1;
  if (n <= 16) return 2;
  return 4 * static_cast<uint32_t>((n + 31) / 32);
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

inline uint64_t loadInt(const Memory& m, uint32_t ptr, uint32_t n) {
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

inline void storeInt(const Memory& m, uint32_t ptr, uint32_t n, uint64_t v) {
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

// realloc(old_ptr, old_size, align, new_size), its result checked for alignment and bounds.
uint32_t reallocate(Context& cx, uint32_t old_ptr, uint64_t old_size, uint32_t align,
                    uint64_t new_size);

// load_string_from_range; store_string_into_range (returns ptr and tagged code units).
Val loadString(Context& cx, uint32_t ptr, uint32_t tagged);
std::pair<uint32_t, uint32_t> storeString(Context& cx, const Val& v);

}  // namespace cumulus::component::abi::internal
