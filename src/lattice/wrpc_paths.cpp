// Async paths of component types (PROTOCOL.md §5.5) and the NATS subjects they map to; see
// wrpc_codec.h. Kept apart from the value codec: this walks types only, never bytes.
#include <algorithm>

#include "lattice/wrpc_codec.h"

namespace cumulus::lattice::wrpc {
namespace {

using K = CType::Kind;

// Adds the async paths inside `t` to `out`, each prefixed with `step` (the position of the
// value in its parent); a value that is itself async gets the path `step` alone.
void collectPaths(const CType* t, const std::optional<uint32_t>& step,
                  std::vector<AsyncPath>& out) {
  if (t == nullptr) return;
  AsyncPaths inner = asyncPaths(*t);
  for (auto& p : inner.nested) {
    p.insert(p.begin(), step);
    out.push_back(std::move(p));
  }
  if (inner.self) out.push_back(AsyncPath{step});
}

}  // namespace

AsyncPaths asyncPaths(const CType& t) {
  AsyncPaths out;
  switch (t.kind) {
    case K::kRecord:
      for (size_t i = 0; i < t.fields.size(); ++i)
        collectPaths(t.fields[i].second.get(), static_cast<uint32_t>(i), out.nested);
      break;
    case K::kTuple:
      for (size_t i = 0; i < t.elems.size(); ++i)
        collectPaths(t.elems[i].get(), static_cast<uint32_t>(i), out.nested);
      break;
    case K::kList:
    case K::kFixedList:
      collectPaths(t.elems[0].get(), std::nullopt, out.nested);
      break;
    case K::kMap: {
      CType entry;
      entry.kind = K::kTuple;
      entry.elems = t.elems;
      collectPaths(&entry, std::nullopt, out.nested);
      break;
    }
    case K::kOption:
    case K::kResult:
      for (const auto& e : t.elems) {
        if (!e) continue;
        AsyncPaths inner = asyncPaths(*e);
        out.nested.insert(out.nested.end(), inner.nested.begin(), inner.nested.end());
        out.self = out.self || inner.self;
      }
      break;
    case K::kVariant:
      for (const auto& [n, f] : t.fields) {
        if (!f) continue;
        AsyncPaths inner = asyncPaths(*f);
        out.nested.insert(out.nested.end(), inner.nested.begin(), inner.nested.end());
        out.self = out.self || inner.self;
      }
      break;
    case K::kFuture:
      collectPaths(t.elems[0].get(), uint32_t{0}, out.nested);
      out.self = true;
      break;
    case K::kStream:
      collectPaths(t.elems[0].get(), std::nullopt, out.nested);
      out.self = true;
      break;
    default:
      break;
  }
  return out;
}

std::vector<AsyncPath> asyncTuplePaths(std::span<const CTypePtr> types) {
  std::vector<AsyncPath> out;
  for (size_t i = 0; i < types.size(); ++i)
    collectPaths(types[i].get(), static_cast<uint32_t>(i), out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string subscribeSubject(std::string_view base, const AsyncPath& path) {
  std::string s(base);
  for (const auto& p : path) {
    if (!s.empty()) s += '.';
    s += p ? std::to_string(*p) : "*";
  }
  return s;
}

std::string indexSubject(std::string_view base, std::span<const uint32_t> indices) {
  std::string s(base);
  for (uint32_t i : indices) {
    if (!s.empty()) s += '.';
    s += std::to_string(i);
  }
  return s;
}

}  // namespace cumulus::lattice::wrpc
