// Type substitution and subtyping on instantiation (Explainer.md "Type Checking"; the error
// messages follow wasm-tools'), for the resolver (resolve.cpp).
#include <fmt/format.h>

#include "component/resolve_internal.h"

namespace cumulus::component::resolver {

namespace {

ExternItem substituteItem(const Ctx& c, const ExternItem& item, const Subst& sub,
                          std::map<const CType*, CTypePtr>& memo, int depth) {
  ExternItem out = item;
  out.type = substitute(c, item.type, sub, memo, depth + 1);
  return out;
}

}  // namespace

const char* externKindName(EK k) {
  switch (k) {
    case EK::kCoreModule:
      return "module";
    case EK::kFunc:
      return "func";
    case EK::kValue:
      return "value";
    case EK::kType:
      return "type";
    case EK::kComponent:
      return "component";
    case EK::kInstance:
      return "instance";
  }
  return "item";
}

CTypePtr substitute(const Ctx& c, const CTypePtr& t, const Subst& sub,
                    std::map<const CType*, CTypePtr>& memo, int depth) {
  if (!t || sub.empty() || depth > 200) return t;
  if (t->kind == K::kResource) {
    auto it = sub.find(validationId(c, t.get()));
    return it == sub.end() ? t : it->second;
  }
  if (t->kind == K::kPrim) return t;
  if (auto it = sub.find(t.get()); it != sub.end()) return it->second;  // an imported type
  auto m = memo.find(t.get());
  if (m != memo.end()) return m->second;
  auto copy = std::make_shared<CType>(*t);
  bool changed = false;
  auto sw = [&](CTypePtr& p) {
    CTypePtr n = substitute(c, p, sub, memo, depth + 1);
    if (n != p) changed = true, p = n;
  };
  for (auto& [n, f] : copy->fields) sw(f);
  for (auto& e : copy->elems) sw(e);
  sw(copy->result);
  sw(copy->resource);
  for (auto* items : {&copy->imports, &copy->exports})
    for (auto& [n, item] : *items) {
      ExternItem s = substituteItem(c, item, sub, memo, depth);
      if (s.type != item.type) changed = true, item = s;
    }
  CTypePtr out = changed ? CTypePtr(copy) : t;
  memo[t.get()] = out;
  return out;
}

namespace {

const char* typeKindName(const CType& t) {
  switch (t.kind) {
    case K::kPrim:
      return primName(t.prim);
    case K::kRecord:
      return "record";
    case K::kVariant:
      return "variant";
    case K::kList:
      return "list";
    case K::kFixedList:
      return "fixed-length list";
    case K::kTuple:
      return "tuple";
    case K::kFlags:
      return "flags";
    case K::kEnum:
      return "enum";
    case K::kOption:
      return "option";
    case K::kResult:
      return "result";
    case K::kOwn:
      return "own";
    case K::kBorrow:
      return "borrow";
    case K::kStream:
      return "stream";
    case K::kFuture:
      return "future";
    case K::kMap:
      return "map";
    case K::kFunc:
      return "func";
    case K::kComponent:
      return "component";
    case K::kInstance:
      return "instance";
    case K::kResource:
      return "resource";
  }
  return "type";
}

// Checks that `actual` can stand where `expected` is required. Resources of `expected` created in
// `bindable` (serials) are abstract: the first occurrence binds them to the actual resource.
struct Subtyper {
  Ctx& c;
  Subst& sub;
  std::pair<uint64_t, uint64_t> bindable{0, 0};

  template <typename F>
  void within(const std::string& what, F&& f) {
    try {
      f();
    } catch (const Invalid& e) {
      invalid(fmt::format("{}: {}", what, e.message));
    }
  }

  const CType* expectedResource(const CType* e) const {
    const CType* id = validationId(c, e);
    auto it = sub.find(id);
    return it == sub.end() ? id : validationId(c, it->second.get());
  }

  bool isBindable(const CType* e) const {
    const CType* id = validationId(c, e);
    if (sub.count(id)) return false;
    auto it = c.serial.find(id);
    return it != c.serial.end() && it->second >= bindable.first && it->second < bindable.second;
  }

  void resource(const CTypePtr& a, const CTypePtr& e) {
    if (isBindable(e.get())) {
      sub[validationId(c, e.get())] = a;
      return;
    }
    if (expectedResource(e.get()) != validationId(c, a.get()))
      invalid("resource types are not the same");
  }

  void optional(const CTypePtr& a, const CTypePtr& e) {
    if (!a && !e) return;
    if (!a || !e) invalid("type mismatch");
    val(a, e, false);
  }

  void val(const CTypePtr& a, const CTypePtr& e, bool top) {
    if (!a || !e || a == e) return;
    if (e->kind == K::kPrim) {
      if (a->kind == K::kPrim) {
        if (a->prim != e->prim)
          invalid(fmt::format("expected primitive `{}` found primitive `{}`", primName(e->prim),
                              primName(a->prim)));
        return;
      }
      invalid(top ? fmt::format("expected primitive, found {}", typeKindName(*a))
                  : fmt::format("expected {}, found {}", primName(e->prim), typeKindName(*a)));
    }
    if (a->kind != e->kind)
      invalid(fmt::format("expected {}, found {}", typeKindName(*e), typeKindName(*a)));
    switch (e->kind) {
      case K::kRecord:
        if (a->fields.size() != e->fields.size())
          invalid(fmt::format("expected {} fields, found {}", e->fields.size(), a->fields.size()));
        for (size_t i = 0; i < e->fields.size(); ++i) {
          const auto& [en, et] = e->fields[i];
          const auto& [an, at] = a->fields[i];
          if (en != an) invalid(fmt::format("expected field name `{}`, found `{}`", en, an));
          within(fmt::format("type mismatch in record field `{}`", en),
                 [&, at = &at, et = &et] { val(*at, *et, false); });
        }
        break;
      case K::kVariant:
        if (a->fields.size() != e->fields.size())
          invalid(fmt::format("expected {} cases, found {}", e->fields.size(), a->fields.size()));
        for (size_t i = 0; i < e->fields.size(); ++i) {
          const auto& [en, et] = e->fields[i];
          const auto& [an, at] = a->fields[i];
          if (en != an) invalid(fmt::format("expected case named `{}`, found `{}`", en, an));
          if (et && !at) invalid(fmt::format("expected case `{}` to have a type, found none", en));
          if (!et && at) invalid(fmt::format("expected case `{}` to have no type", en));
          within(fmt::format("type mismatch in variant case `{}`", en),
                 [&, at = &at, et = &et] { val(*at, *et, false); });
        }
        break;
      case K::kTuple:
        if (a->elems.size() != e->elems.size())
          invalid(fmt::format("expected {} types, found {}", e->elems.size(), a->elems.size()));
        for (size_t i = 0; i < e->elems.size(); ++i)
          within(fmt::format("type mismatch in tuple field {}", i),
                 [&] { val(a->elems[i], e->elems[i], false); });
        break;
      case K::kFlags:
        if (a->labels != e->labels) invalid("mismatch in flags elements");
        break;
      case K::kEnum:
        if (a->labels != e->labels) invalid("mismatch in enum elements");
        break;
      case K::kResult:
        for (int i = 0; i < 2; ++i) {
          const char* which = i == 0 ? "ok" : "err";
          const CTypePtr& ae = a->elems[i];
          const CTypePtr& ee = e->elems[i];
          if (ee && !ae) invalid(fmt::format("expected {} type, but found none", which));
          if (!ee && ae) invalid(fmt::format("expected {} type to not be present", which));
          within(fmt::format("type mismatch in {} variant", which), [&] { val(ae, ee, false); });
        }
        break;
      case K::kFixedList:
        if (a->length != e->length)
          invalid(fmt::format("expected list of length {}, found {}", e->length, a->length));
        [[fallthrough]];
      case K::kList:
      case K::kOption:
      case K::kMap:
      case K::kStream:
      case K::kFuture:
        if (a->elems.size() != e->elems.size()) invalid("type mismatch");
        for (size_t i = 0; i < e->elems.size(); ++i)
          within(fmt::format("type mismatch in {}", typeKindName(*e)),
                 [&] { optional(a->elems[i], e->elems[i]); });
        break;
      case K::kOwn:
      case K::kBorrow:
        resource(a->resource, e->resource);
        break;
      case K::kResource:
        resource(a, e);
        break;
      case K::kFunc:
        func(a, e);
        break;
      case K::kInstance:
        instance(a, e);
        break;
      default:
        break;
    }
  }

  void func(const CTypePtr& a, const CTypePtr& e) {
    if (a->fields.size() != e->fields.size())
      invalid(fmt::format("expected {} parameters, found {}", e->fields.size(), a->fields.size()));
    for (size_t i = 0; i < e->fields.size(); ++i) {
      const auto& [en, et] = e->fields[i];
      const auto& [an, at] = a->fields[i];
      if (en != an) invalid(fmt::format("expected parameter named `{}`, found `{}`", en, an));
      within(fmt::format("type mismatch in function parameter `{}`", en),
             [&, at = &at, et = &et] { val(*at, *et, false); });
    }
    if (a->result && !e->result) invalid("expected a result, found none");
    if (!a->result && e->result) invalid("expected no result, found one");
    within("type mismatch with result type", [&] { val(a->result, e->result, false); });
  }

  void instance(const CTypePtr& a, const CTypePtr& e) {
    for (const auto& [n, ei] : e->exports) {
      const ExternItem* ai = nullptr;
      for (const auto& [an, x] : a->exports)
        if (an == n) ai = &x;
      if (!ai) invalid(fmt::format("missing expected export `{}`", n));
      within(fmt::format("type mismatch in instance export `{}`", n), [&, ei = &ei] { item(*ai, *ei); });
    }
  }

  void module(const engine::ModuleInfo& a, const engine::ModuleInfo& e) {
    for (const auto& ai : a.imports) {
      const engine::ImportDesc* ei = nullptr;
      for (const auto& x : e.imports)
        if (x.module == ai.module && x.name == ai.name) ei = &x;
      if (!ei) invalid(fmt::format("missing expected import `{}::{}`", ai.module, ai.name));
      if (ei->type.kind != ai.type.kind)
        invalid(fmt::format("type mismatch in import `{}::{}`", ai.module, ai.name));
    }
    for (const auto& ee : e.exports) {
      const engine::ExportDesc* ae = nullptr;
      for (const auto& x : a.exports)
        if (x.name == ee.name) ae = &x;
      if (!ae) invalid(fmt::format("missing expected export `{}`", ee.name));
      if (ae->type.kind != ee.type.kind)
        invalid(fmt::format("type mismatch in export `{}`", ee.name));
    }
  }

  void item(const ExternItem& a, const ExternItem& e) {
    if (a.kind != e.kind)
      invalid(fmt::format("expected {}, found {}", externKindName(e.kind), externKindName(a.kind)));
    switch (e.kind) {
      case EK::kCoreModule:
        if (a.module && e.module) module(*a.module, *e.module);
        break;
      case EK::kFunc:
        if (a.type && e.type) func(a.type, e.type);
        break;
      case EK::kInstance:
        if (a.type && e.type) instance(a.type, e.type);
        break;
      case EK::kType:
        if (!a.type || !e.type) break;
        if (e.type->kind == K::kResource) {
          if (a.type->kind != K::kResource) invalid("expected resource, found defined type");
          resource(a.type, e.type);
        } else if (a.type->kind == K::kResource) {
          invalid("expected defined type, found resource");
        } else if (isValueType(*e.type)) {
          val(a.type, e.type, true);
          sub[e.type.get()] = a.type;  // uses of the imported type now name the argument
        } else if (e.type->kind == K::kFunc && a.type->kind == K::kFunc) {
          func(a.type, e.type);
        } else if (e.type->kind == K::kInstance && a.type->kind == K::kInstance) {
          instance(a.type, e.type);
        }
        break;
      default:  // TODO(conformance): component and value subtyping
        break;
    }
  }
};

// Collects the resources reachable from `t` whose creation serial lies in `range`, keyed by
// validation identity (the value is one index naming it).
void definedResources(const Ctx& c, const CTypePtr& t, std::pair<uint64_t, uint64_t> range,
                      std::map<const CType*, CTypePtr>& out, std::set<const CType*>& seen,
                      int depth = 0) {
  if (!t || depth > 200 || !seen.insert(t.get()).second) return;
  if (t->kind == K::kResource) {
    const CType* id = validationId(c, t.get());
    auto it = c.serial.find(id);
    if (it != c.serial.end() && it->second >= range.first && it->second < range.second)
      out.emplace(id, t);
    return;
  }
  for (const auto& [n, f] : t->fields) definedResources(c, f, range, out, seen, depth + 1);
  for (const auto& e : t->elems) definedResources(c, e, range, out, seen, depth + 1);
  definedResources(c, t->result, range, out, seen, depth + 1);
  definedResources(c, t->resource, range, out, seen, depth + 1);
  for (const auto& [n, item] : t->exports)
    definedResources(c, item.type, range, out, seen, depth + 1);
}

// The instance an instantiation of component type `ct` with `args` produces: each import is
// checked against its argument (binding the component's imported resources), the resources the
// component defines become fresh, and its export types are rewritten accordingly.

}  // namespace

CTypePtr instantiate(Ctx& c, const CTypePtr& ct, const std::map<std::string, ExternItem>& args) {
  Subst sub;
  auto range_it = c.defined.find(ct.get());
  auto range = range_it == c.defined.end() ? std::pair<uint64_t, uint64_t>{0, 0} : range_it->second;
  Subtyper st{c, sub, range};
  for (const auto& [n, expected] : ct->imports) {
    auto it = args.find(n);
    if (it == args.end()) invalid(fmt::format("missing import named `{}`", n));
    st.within(fmt::format("type mismatch in instantiation argument `{}`", n),
              [&, expected = &expected] { st.item(it->second, *expected); });
  }
  std::map<const CType*, CTypePtr> defined;
  std::set<const CType*> seen;
  for (const auto& [n, item] : ct->exports) definedResources(c, item.type, range, defined, seen);
  for (const auto& [id, r] : defined)
    if (!sub.count(id)) sub[id] = newResource(c, r->name, r);
  auto inst = std::make_shared<CType>();
  inst->kind = K::kInstance;
  std::map<const CType*, CTypePtr> memo;
  for (const auto& [n, item] : ct->exports)
    inst->exports.emplace_back(n, substituteItem(c, item, sub, memo, 0));
  return inst;
}

// Each import or export of an instance type gets its own copies of the resources the type
// declares (`(export "r" (type (sub resource)))`): two imports of one instance type are distinct.
CTypePtr freshInstance(Ctx& c, const CTypePtr& t) {
  auto range = c.defined.find(t.get());
  if (range == c.defined.end()) return t;
  std::map<const CType*, CTypePtr> defined;
  std::set<const CType*> seen;
  for (const auto& [n, item] : t->exports)
    definedResources(c, item.type, range->second, defined, seen);
  if (defined.empty()) return t;
  Subst sub;
  for (const auto& [id, r] : defined) sub[id] = newResource(c, r->name, r);
  std::map<const CType*, CTypePtr> memo;
  return substitute(c, t, sub, memo);
}

ExternItem ascribe(Ctx& c, const ExternItem& actual, const ExternItem& declared,
                   std::pair<uint64_t, uint64_t> bindable) {
  Subst sub;
  Subtyper st{c, sub, bindable};
  st.within("ascribed type of export is not compatible", [&] { st.item(actual, declared); });
  std::map<const CType*, CTypePtr> memo;
  return substituteItem(c, declared, sub, memo, 0);
}

}  // namespace cumulus::component::resolver
