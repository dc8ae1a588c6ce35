// Canonical ABI layout: alignment, size, flattening and flat signatures (CanonicalABI.md
// "Alignment", "Element Size", "Flattening").
#include "component/abi_internal.h"

namespace cumulus::component::abi {

using namespace internal;

namespace {

VT join(VT a, VT b) {
  if (a == b) return a;
  if ((a == VT::kI32 && b == VT::kF32) || (a == VT::kF32 && b == VT::kI32)) return VT::kI32;
  return VT::kI64;
}

}  // namespace

size_t computeFlatCount(const CType* t);

size_t flatCount(const CType* t) {
  if (!t) return 0;
  if (uint32_t c = t->layout.flat_plus1.load(std::memory_order_relaxed)) return c - 1;
  size_t n = computeFlatCount(t);
  t->layout.flat_plus1.store(static_cast<uint32_t>(std::min<size_t>(n, UINT32_MAX - 1)) + 1,
                             std::memory_order_relaxed);
  return n;
}

size_t computeFlatCount(const CType* t) {
  switch (t->kind) {
    case K::kPrim:
      return t->prim == Prim::kString ? 2 : 1;
    case K::kList:
    case K::kMap:
      return 2;
    case K::kFixedList:
      return t->length * flatCount(t->elems[0].get());
    case K::kRecord: {
      size_t n = 0;
      for (const auto& [name, f] : t->fields) n += flatCount(f.get());
      return n;
    }
    case K::kTuple: {
      size_t n = 0;
      for (const auto& e : t->elems) n += flatCount(e.get());
      return n;
    }
    case K::kVariant:
    case K::kEnum:
    case K::kOption:
    case K::kResult: {  // the discriminant, then the longest case (cases are joined slot-wise)
      size_t n = 0;
      for (const CType* c : cases(*t)) n = std::max(n, flatCount(c));
      return 1 + n;
    }
    case K::kFlags:
      return (t->labels.size() + 31) / 32;
    default:  // own, borrow, stream, future
      return 1;
  }
}

uint32_t computeAlignment(const CType& t);
uint32_t computeSize(const CType& t);

uint32_t alignment(const CType& t) {
  if (uint32_t a = t.layout.align.load(std::memory_order_relaxed)) return a;
  uint32_t a = computeAlignment(t);
  t.layout.align.store(a, std::memory_order_relaxed);
  return a;
}

uint32_t size(const CType& t) {
  if (uint32_t s = t.layout.size_plus1.load(std::memory_order_relaxed)) return s - 1;
  uint32_t s = computeSize(t);
  if (s != UINT32_MAX) t.layout.size_plus1.store(s + 1, std::memory_order_relaxed);
  return s;
}

uint32_t computeAlignment(const CType& t) {
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

uint32_t computeSize(const CType& t) {
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

CTypePtr paramsTuple(const CType& func) {
  auto t = std::make_shared<CType>();
  t->kind = K::kTuple;
  for (const auto& [n, p] : func.fields) t->elems.push_back(p);
  return t;
}

FlatSig flatSignature(const CType& func, bool lower) {
  FlatSig sig;
  // Counted before flattening: a (list u8 N) parameter of large N needs no N-element vector.
  size_t params = 0;
  for (const auto& [n, p] : func.fields) params += flatCount(p.get());
  if (params > kMaxFlatParams) {
    sig.params = {VT::kI32};
    sig.params_in_memory = true;
  } else {
    for (const auto& [n, p] : func.fields) flatten(p, sig.params);
  }
  if (flatCount(func.result.get()) > kMaxFlatResults) {
    sig.results_in_memory = true;
    if (lower) {
      sig.params.push_back(VT::kI32);
    } else {
      sig.results = {VT::kI32};
    }
  } else {
    flatten(func.result, sig.results);
  }
  return sig;
}

}  // namespace cumulus::component::abi
