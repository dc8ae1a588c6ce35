// The interface of a core module embedded in a component, and core item types (see
// resolve_internal.h).
//
// Only the sections that make up a module's interface are read: types, imports, the function,
// table, memory, tag and global sections (for the types of what it exports) and exports. The engine
// validates the whole module when it is compiled; reading just the interface here keeps resolution
// cheap for 10 MB modules and independent of which core features the engine runs (exceptions, GC
// or memory64 modules still have an interface). What this reader does not model (GC type
// definitions, typed references, table initialisers or constant expressions beyond Wasm 2.0 and
// extended-const) leaves the affected items' types unknown rather than failing.
#include <cstring>
#include <set>

#include <fmt/format.h>

#include "base/binary.h"
#include "component/resolve_internal.h"

namespace cumulus::component::resolver {

using engine::ExternKind;
using engine::FuncType;
using VT = engine::ValType;

CoreExtern knownFunc(FuncType f) {
  CoreExtern e;
  e.known = true;
  e.func = std::move(f);
  return e;
}

CoreExtern unknownOf(ExternKind kind) {
  CoreExtern e;
  e.kind = kind;
  return e;
}

std::string coreFuncString(const FuncType& f) {
  std::string s = "(func";
  auto list = [&](const char* what, const std::vector<VT>& v) {
    if (v.empty()) return;
    s += fmt::format(" ({}", what);
    for (VT t : v) s += fmt::format(" {}", engine::valTypeName(t));
    s += ")";
  };
  list("param", f.params);
  list("result", f.results);
  return s + ")";
}

namespace {

// The value types the resolver models (Wasm 2.0); others (typed references, GC abstract heap
// types) give nullopt.
std::optional<VT> modelledValType(uint8_t code) {
  switch (code) {
    case 0x7f:
      return VT::kI32;
    case 0x7e:
      return VT::kI64;
    case 0x7d:
      return VT::kF32;
    case 0x7c:
      return VT::kF64;
    case 0x7b:
      return VT::kV128;
    case 0x70:
      return VT::kFuncRef;
    case 0x6f:
      return VT::kExternRef;
    default:
      return std::nullopt;
  }
}

}  // namespace

void checkCoreMatch(const CoreExtern& a, const CoreExtern& e) {
  if (a.kind != e.kind)
    invalid(fmt::format("expected {}, found {}", engine::externKindName(e.kind),
                        engine::externKindName(a.kind)));
  if (!a.known || !e.known) return;
  switch (e.kind) {
    case ExternKind::kFunc:
      if (!(a.func == e.func))
        invalid(
            fmt::format("expected: {}, found: {}", coreFuncString(e.func), coreFuncString(a.func)));
      break;
    case ExternKind::kTable:
      if (a.val != e.val)
        invalid(fmt::format("expected table element type {}, found {}", engine::valTypeName(e.val),
                            engine::valTypeName(a.val)));
      if (a.shared != e.shared) invalid("mismatch in the shared flag for tables");
      if (!engine::limitsMatch(a.limits, e.limits)) invalid("mismatch in table limits");
      break;
    case ExternKind::kMemory:
      if (a.shared != e.shared) invalid("mismatch in the shared flag for memories");
      if (a.is64 != e.is64) invalid("mismatch in index type used for memories");
      if (a.page_log2 != e.page_log2) invalid("mismatch in page size for memories");
      if (!engine::limitsMatch(a.limits, e.limits)) invalid("mismatch in memory limits");
      break;
    case ExternKind::kGlobal:
      if (a.mut != e.mut) invalid("global types differ in mutability");
      if (a.val != e.val)
        invalid(fmt::format("expected global type {}, found {}", engine::valTypeName(e.val),
                            engine::valTypeName(a.val)));
      break;
    case ExternKind::kTag:
      break;
  }
}

std::optional<FuncType> coreFuncTypeOf(const CoreFuncType& f) {
  FuncType out;
  for (uint8_t c : f.params) {
    auto t = modelledValType(c);
    if (!t) return std::nullopt;
    out.params.push_back(*t);
  }
  for (uint8_t c : f.results) {
    auto t = modelledValType(c);
    if (!t) return std::nullopt;
    out.results.push_back(*t);
  }
  return out;
}

CoreExtern coreExternOf(const CoreImportDesc& d,
                        const std::vector<std::optional<FuncType>>& types) {
  if (d.kind > 4) return unknownOf(ExternKind::kFunc);
  CoreExtern e = unknownOf(static_cast<ExternKind>(d.kind));
  const auto& raw = d.raw;  // see decoder.cpp coreImportDesc: [valtype] flags min32 [max32] [mut]
  auto limits = [&](size_t at) {
    if (raw.size() < at + 5) return false;
    uint8_t flags = raw[at];
    uint32_t v = 0;
    std::memcpy(&v, raw.data() + at + 1, 4);
    e.limits.min = v;
    if (flags & 1) {
      if (raw.size() < at + 9) return false;
      std::memcpy(&v, raw.data() + at + 5, 4);
      e.limits.max = v;
    }
    e.shared = flags & 2;
    return true;
  };
  switch (e.kind) {
    case ExternKind::kFunc:
      if (d.type_index < types.size() && types[d.type_index]) {
        e.func = *types[d.type_index];
        e.known = true;
      }
      break;
    case ExternKind::kTable:
      if (!raw.empty() && modelledValType(raw[0])) {
        e.val = *modelledValType(raw[0]);
        e.known = limits(1);
      }
      break;
    case ExternKind::kMemory:
      e.known = limits(0);
      break;
    case ExternKind::kGlobal:
      if (raw.size() == 2 && modelledValType(raw[0])) {
        e.val = *modelledValType(raw[0]);
        e.mut = raw[1] == 1;
        e.known = true;
      }
      break;
    case ExternKind::kTag:
      break;
  }
  return e;
}

namespace {

struct Cursor {
  std::span<const uint8_t> b;
  size_t pos = 8;

  [[noreturn]] static void fail(const char* what) {
    invalid(fmt::format("core module: malformed {}", what));
  }
  uint8_t u8() {
    if (pos >= b.size()) fail("module (unexpected end)");
    return b[pos++];
  }
  uint64_t leb() {  // 64-bit: memory64 limits
    uint64_t r;
    if (readUleb128(b, pos, 64, r)) fail("LEB128");
    return r;
  }
  // A vector's length: each entry takes at least one byte, so a count beyond the bytes left is
  // malformed (found by fuzzing: a huge count made the reader allocate gigabytes).
  uint64_t count() {
    uint64_t n = leb();
    if (n > b.size() - pos) fail("count (more entries than bytes)");
    return n;
  }
  // Skips a (signed or unsigned) LEB128 of at most 10 bytes.
  void skipLeb() {
    for (int i = 0; i < 10; ++i)
      if (!(u8() & 0x80)) return;
    fail("LEB128");
  }
  void skip(size_t n) {
    if (n > b.size() - pos) fail("module (unexpected end)");
    pos += n;
  }
  std::string name() {
    uint64_t n = leb();
    if (n > b.size() - pos) fail("name");
    std::string s(reinterpret_cast<const char*>(b.data() + pos), n);
    pos += n;
    return s;
  }
  // A value type; nullopt for those not modelled (their bytes are consumed all the same).
  std::optional<VT> valType() {
    uint8_t t = u8();
    if (t == 0x63 || t == 0x64) {  // (ref null? heaptype)
      skipLeb();
      return std::nullopt;
    }
    return modelledValType(t);
  }
  // Limits into `e` (tables and memories): flags bit 0 max, 1 shared, 2 64-bit index, 3 custom
  // page size.
  void limits(CoreExtern& e) {
    uint8_t flags = u8();
    e.limits.min = leb();
    if (flags & 1) e.limits.max = leb();
    e.shared = flags & 2;
    e.is64 = flags & 4;
    if (flags & 8) e.page_log2 = static_cast<uint32_t>(leb());
  }
  // Table, memory and global types, as imports and definitions write them.
  CoreExtern tableType() {
    CoreExtern e = unknownOf(ExternKind::kTable);
    auto elem = valType();
    limits(e);
    if (elem) e.val = *elem, e.known = true;
    return e;
  }
  CoreExtern memoryType() {
    CoreExtern e = unknownOf(ExternKind::kMemory);
    limits(e);
    e.known = true;
    return e;
  }
  CoreExtern globalType() {
    CoreExtern e = unknownOf(ExternKind::kGlobal);
    auto t = valType();
    e.mut = u8() == 1;
    if (t) e.val = *t, e.known = true;
    return e;
  }
  // A function type's parameter or result list; nullopt if it has a type not modelled (read all
  // the same).
  std::optional<std::vector<VT>> valTypeList() {
    std::vector<VT> list;
    bool known = true;
    for (uint64_t k = leb(); k > 0; --k) {
      auto t = valType();
      if (t) list.push_back(*t);
      known = known && t;
    }
    if (!known) return std::nullopt;
    return list;
  }
  // Skips a constant expression; false if it uses an instruction this reader does not know (the
  // rest of the section is then left unread).
  bool skipConstExpr() {
    for (;;) {
      uint8_t op = u8();
      switch (op) {
        case 0x0b:  // end
          return true;
        case 0x41:  // i32.const
        case 0x42:  // i64.const
        case 0x23:  // global.get
        case 0xd0:  // ref.null heaptype
        case 0xd2:  // ref.func
          skipLeb();
          break;
        case 0x43:  // f32.const
          skip(4);
          break;
        case 0x44:  // f64.const
          skip(8);
          break;
        case 0x6a:  // extended-const: i32.add/sub/mul, i64.add/sub/mul
        case 0x6b:
        case 0x6c:
        case 0x7c:
        case 0x7d:
        case 0x7e:
          break;
        case 0xfd:  // v128.const
          if (leb() != 12) return false;
          skip(16);
          break;
        default:
          return false;
      }
    }
  }
};

}  // namespace

CoreModule coreModuleInterface(std::span<const uint8_t> bytes) {
  Cursor r{bytes};
  auto info = std::make_shared<engine::ModuleInfo>();
  auto types = std::make_shared<CoreModuleTypes>();
  if (bytes.size() < 8) Cursor::fail("header");
  // Function types by type index; the list stops at the first type definition this reader does
  // not model (GC), and indices past its end are unknown.
  std::vector<std::optional<FuncType>> func_types;
  std::vector<CoreExtern> funcs, tables, memories, globals, tags;  // index spaces
  auto funcOf = [&](uint64_t type_index) {
    if (type_index < func_types.size() && func_types[type_index])
      return knownFunc(*func_types[type_index]);
    return unknownOf(ExternKind::kFunc);
  };
  // Section entries left unread are still counted, with unknown types.
  auto fillUnknown = [](std::vector<CoreExtern>& space, size_t target, ExternKind kind) {
    while (space.size() < target) space.push_back(unknownOf(kind));
  };
  while (r.pos < bytes.size()) {
    uint8_t id = r.u8();
    uint64_t size = r.leb();
    if (size > bytes.size() - r.pos) Cursor::fail("section size");
    size_t end = r.pos + size;
    switch (id) {
      case 1: {  // types
        uint64_t n = r.count();
        for (uint64_t i = 0; i < n; ++i) {
          if (r.u8() != 0x60) break;  // rec groups, sub types, structs, arrays: not modelled
          auto params = r.valTypeList();
          auto results = r.valTypeList();
          func_types.push_back(params && results
                                   ? std::optional<FuncType>(FuncType{*params, *results})
                                   : std::nullopt);
        }
        break;
      }
      case 2: {  // imports
        uint64_t n = r.count();
        std::set<std::pair<std::string, std::string>> seen;
        for (uint64_t i = 0; i < n; ++i) {
          engine::ImportDesc d{r.name(), r.name(), {}};
          if (!seen.emplace(d.module, d.name).second)
            invalid(fmt::format("duplicate import name `{}:{}`", d.module, d.name));
          uint8_t kind = r.u8();
          CoreExtern e;
          switch (kind) {
            case 0:
              e = funcOf(r.leb());
              funcs.push_back(e);
              break;
            case 1:
              e = r.tableType();
              tables.push_back(e);
              break;
            case 2:
              e = r.memoryType();
              memories.push_back(e);
              break;
            case 3:
              e = r.globalType();
              globals.push_back(e);
              break;
            case 4:
              r.u8();
              r.leb();
              e = unknownOf(ExternKind::kTag);
              tags.push_back(e);
              break;
            default:
              Cursor::fail("import kind");
          }
          d.type.kind = e.kind;
          info->imports.push_back(std::move(d));
          types->imports.push_back(e);
        }
        break;
      }
      case 3: {  // functions
        uint64_t n = r.count();
        for (uint64_t i = 0; i < n; ++i) funcs.push_back(funcOf(r.leb()));
        break;
      }
      case 4: {  // tables
        uint64_t n = r.count();
        size_t target = tables.size() + n;
        for (uint64_t i = 0; i < n; ++i) {
          // A table with an initialiser is 0x40 0x00 tabletype expr.
          bool init = r.pos < bytes.size() && bytes[r.pos] == 0x40;
          if (init) r.skip(2);
          tables.push_back(r.tableType());
          if (init && !r.skipConstExpr()) break;
        }
        fillUnknown(tables, target, ExternKind::kTable);
        break;
      }
      case 5: {  // memories
        uint64_t n = r.count();
        for (uint64_t i = 0; i < n; ++i) memories.push_back(r.memoryType());
        break;
      }
      case 6: {  // globals
        uint64_t n = r.count();
        size_t target = globals.size() + n;
        for (uint64_t i = 0; i < n; ++i) {
          globals.push_back(r.globalType());
          if (!r.skipConstExpr()) break;
        }
        fillUnknown(globals, target, ExternKind::kGlobal);
        break;
      }
      case 13: {  // tags
        uint64_t n = r.count();
        for (uint64_t i = 0; i < n; ++i) tags.push_back(unknownOf(ExternKind::kTag));
        break;
      }
      case 7: {  // exports
        uint64_t n = r.count();
        for (uint64_t i = 0; i < n; ++i) {
          engine::ExportDesc d{r.name(), {}};
          uint8_t kind = r.u8();
          if (kind > 4) Cursor::fail("export kind");
          uint64_t index = r.leb();
          const std::vector<CoreExtern>* spaces[] = {&funcs, &tables, &memories, &globals, &tags};
          const auto& space = *spaces[kind];
          CoreExtern e =
              index < space.size() ? space[index] : unknownOf(static_cast<ExternKind>(kind));
          d.type.kind = e.kind;
          info->exports.push_back(std::move(d));
          types->exports.push_back(e);
        }
        break;
      }
      default:
        break;
    }
    r.pos = end;
  }
  // Known types are also recorded in the module's engine-level description.
  auto describe = [](engine::ExternType& t, const CoreExtern& e) {
    if (!e.known) return;
    t.func = e.func;
    t.global = {e.val, e.mut};
    t.table = {e.val, e.limits};
    t.memory = {e.limits};
  };
  for (size_t i = 0; i < info->imports.size(); ++i)
    describe(info->imports[i].type, types->imports[i]);
  for (size_t i = 0; i < info->exports.size(); ++i)
    describe(info->exports[i].type, types->exports[i]);
  return {info, types};
}

}  // namespace cumulus::component::resolver
