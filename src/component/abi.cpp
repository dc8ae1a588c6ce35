// Canonical ABI values: lifting and lowering between core values or linear memory and `Val`
// (CanonicalABI.md). Follows the spec's definitions function by function: the names in comments
// (despecialize, discriminant_type, lift_flat, …) are the spec's. Layout is in abi_layout.cpp,
// strings in abi_strings.cpp.
#include "component/abi_internal.h"

namespace cumulus::component::abi {

using namespace internal;

namespace {

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

// map<K, V> has the layout of list<tuple<K, V>>; its values are lists of (key, value) tuples.
CTypePtr mapEntry(const CType& map) {
  auto t = std::make_shared<CType>();
  t->kind = K::kTuple;
  t->elems = map.elems;
  return t;
}

}  // namespace

uint32_t internal::reallocate(Context& cx, uint32_t old_ptr, uint64_t old_size, uint32_t align,
                              uint64_t new_size) {
  if (!cx.realloc) trap("canonical ABI: this function needs a realloc option but has none");
  engine::Cell cells[4]{};
  cells[0].i32 = old_ptr;
  cells[1].i32 = static_cast<uint32_t>(old_size);
  cells[2].i32 = align;
  cells[3].i32 = static_cast<uint32_t>(new_size);
  auto r = cx.realloc->call(cells);
  if (!r.ok()) throw AbiTrap("realloc: " + r.error().message());
  uint32_t ptr = cells[0].i32;
  Memory(cx).at(ptr, new_size, align);  // checks alignment and bounds
  return ptr;
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

}  // namespace cumulus::component::abi
