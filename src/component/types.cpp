// WIT rendering of resolved types (see types.h).
#include "component/types.h"

#include <fmt/format.h>

namespace cumulus::component {

CTypePtr primType(Prim p) {
  static std::map<Prim, CTypePtr> cache = [] {
    std::map<Prim, CTypePtr> m;
    for (int i = 0; i <= static_cast<int>(Prim::kErrorContext); ++i) {
      auto t = std::make_shared<CType>();
      t->kind = CType::Kind::kPrim;
      t->prim = static_cast<Prim>(i);
      m[t->prim] = t;
    }
    return m;
  }();
  return cache.at(p);
}

std::string toWit(const CTypePtr& t, bool expand) {
  if (!t) return "_";
  if (!expand && !t->name.empty() && t->kind != CType::Kind::kResource) return t->name;
  using K = CType::Kind;
  auto join = [](const std::vector<CTypePtr>& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + toWit(v[i]);
    return s;
  };
  switch (t->kind) {
    case K::kPrim:
      return primName(t->prim);
    case K::kRecord: {
      std::string s = "record { ";
      for (size_t i = 0; i < t->fields.size(); ++i)
        s += fmt::format("{}{}: {}", i ? ", " : "", t->fields[i].first, toWit(t->fields[i].second));
      return s + " }";
    }
    case K::kVariant: {
      std::string s = "variant { ";
      for (size_t i = 0; i < t->fields.size(); ++i) {
        s += (i ? ", " : "") + t->fields[i].first;
        if (t->fields[i].second) s += "(" + toWit(t->fields[i].second) + ")";
      }
      return s + " }";
    }
    case K::kList:
      return "list<" + toWit(t->elems[0]) + ">";
    case K::kFixedList:
      return fmt::format("list<{}, {}>", toWit(t->elems[0]), t->length);
    case K::kTuple:
      return "tuple<" + join(t->elems) + ">";
    case K::kFlags:
      return fmt::format("flags {{ {} }}", fmt::join(t->labels, ", "));
    case K::kEnum:
      return fmt::format("enum {{ {} }}", fmt::join(t->labels, ", "));
    case K::kOption:
      return "option<" + toWit(t->elems[0]) + ">";
    case K::kResult:
      if (!t->elems[0] && !t->elems[1]) return "result";
      if (!t->elems[1]) return "result<" + toWit(t->elems[0]) + ">";
      return "result<" + toWit(t->elems[0]) + ", " + toWit(t->elems[1]) + ">";
    case K::kOwn:
      return t->resource && !t->resource->name.empty() ? t->resource->name : "own<resource>";
    case K::kBorrow:
      return "borrow<" +
             (t->resource && !t->resource->name.empty() ? t->resource->name : "resource") + ">";
    case K::kStream:
      return t->elems[0] ? "stream<" + toWit(t->elems[0]) + ">" : "stream";
    case K::kFuture:
      return t->elems[0] ? "future<" + toWit(t->elems[0]) + ">" : "future";
    case K::kMap:
      return "map<" + join(t->elems) + ">";
    case K::kFunc: {
      std::string s = t->async ? "async func(" : "func(";
      for (size_t i = 0; i < t->fields.size(); ++i)
        s += fmt::format("{}{}: {}", i ? ", " : "", t->fields[i].first, toWit(t->fields[i].second));
      s += ")";
      if (t->result) s += " -> " + toWit(t->result);
      return s;
    }
    case K::kComponent:
      return "component";
    case K::kInstance:
      return "instance";
    case K::kResource:
      return t->name.empty() ? "resource" : "resource " + t->name;
  }
  return "?";
}

Sort coreSortOf(engine::ExternKind k) {
  switch (k) {
    case engine::ExternKind::kFunc:
      return Sort::kCoreFunc;
    case engine::ExternKind::kTable:
      return Sort::kCoreTable;
    case engine::ExternKind::kMemory:
      return Sort::kCoreMemory;
    case engine::ExternKind::kGlobal:
      return Sort::kCoreGlobal;
    case engine::ExternKind::kTag:
      return Sort::kCoreTag;
  }
  return Sort::kCoreFunc;
}

}  // namespace cumulus::component
