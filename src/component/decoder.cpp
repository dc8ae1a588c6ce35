// Component binary decoder (see decoder.h). Written from the Binary.md grammar; every production
// has one function, named after it.
#include "component/decoder.h"

#include <fmt/format.h>

#include "base/binary.h"

namespace cumulus::component {

const char* sortName(Sort s) {
  switch (s) {
    case Sort::kCoreFunc:
      return "core func";
    case Sort::kCoreTable:
      return "core table";
    case Sort::kCoreMemory:
      return "core memory";
    case Sort::kCoreGlobal:
      return "core global";
    case Sort::kCoreTag:
      return "core tag";
    case Sort::kCoreType:
      return "core type";
    case Sort::kCoreModule:
      return "core module";
    case Sort::kCoreInstance:
      return "core instance";
    case Sort::kFunc:
      return "func";
    case Sort::kValue:
      return "value";
    case Sort::kType:
      return "type";
    case Sort::kComponent:
      return "component";
    case Sort::kInstance:
      return "instance";
  }
  return "?";
}

const char* primName(Prim p) {
  static const char* const kNames[] = {"bool", "s8",   "u8",     "s16",          "u16",
                                       "s32",  "u32",  "s64",    "u64",          "f32",
                                       "f64",  "char", "string", "error-context"};
  return kNames[static_cast<int>(p)];
}

BinaryKind sniff(std::span<const uint8_t> b) {
  if (b.size() < 8 || b[0] != 0 || b[1] != 'a' || b[2] != 's' || b[3] != 'm')
    return BinaryKind::kUnknown;
  if (b[6] == 0 && b[7] == 0) return BinaryKind::kCoreModule;
  if (b[6] == 1 && b[7] == 0) return BinaryKind::kComponent;
  return BinaryKind::kUnknown;
}

namespace {

// Decoding failures unwind to decode() as this exception (one policy for this file: the grammar
// is deeply recursive and every production can fail; nothing escapes decode()).
struct DecodeError {
  size_t offset;
  std::string message;
};

class Reader {
 public:
  Reader(std::span<const uint8_t> bytes, size_t pos, size_t end)
      : b_(bytes), pos_(pos), end_(end) {}

  [[noreturn]] void fail(std::string message) const { throw DecodeError{pos_, std::move(message)}; }
  bool done() const { return pos_ >= end_; }
  size_t pos() const { return pos_; }
  size_t end() const { return end_; }

  uint8_t u8() {
    if (pos_ >= end_) fail("unexpected end");
    return b_[pos_++];
  }
  uint8_t peek() {
    if (pos_ >= end_) fail("unexpected end");
    return b_[pos_];
  }
  uint32_t u32() {
    uint64_t v;
    if (const char* e = readUleb128(b_.first(end_), pos_, 32, v)) fail(e);
    return static_cast<uint32_t>(v);
  }
  // s33, as used for `valtype`: negative values are type opcodes, non-negative are indices.
  int64_t s33() {
    int64_t result = 0;
    int shift = 0;
    uint8_t byte;
    do {
      byte = u8();
      result |= int64_t(byte & 0x7f) << shift;
      shift += 7;
      if (shift > 35 && (byte & 0x80)) fail("integer representation too long");
    } while (byte & 0x80);
    if (shift < 64 && (byte & 0x40)) result |= -(int64_t(1) << shift);
    return result;
  }
  std::string name() {
    uint32_t len = u32();
    if (len > end_ - pos_) fail("name length out of bounds");
    std::string s(reinterpret_cast<const char*>(b_.data() + pos_), len);
    pos_ += len;
    if (!isValidUtf8(s)) fail("malformed UTF-8 encoding");
    return s;
  }
  template <typename F>
  void vec(F&& each) {
    uint32_t n = u32();
    if (n > end_ - pos_) fail("vector length out of bounds");
    for (uint32_t i = 0; i < n; ++i) each();
  }
  void skip(size_t n) {
    if (n > end_ - pos_) fail("unexpected end");
    pos_ += n;
  }
  std::span<const uint8_t> bytes() const { return b_; }

 private:
  std::span<const uint8_t> b_;
  size_t pos_, end_;
};

Sort coreSort(Reader& r) {
  switch (r.u8()) {
    case 0x00:
      return Sort::kCoreFunc;
    case 0x01:
      return Sort::kCoreTable;
    case 0x02:
      return Sort::kCoreMemory;
    case 0x03:
      return Sort::kCoreGlobal;
    case 0x04:
      return Sort::kCoreTag;
    case 0x10:
      return Sort::kCoreType;
    case 0x11:
      return Sort::kCoreModule;
    case 0x12:
      return Sort::kCoreInstance;
    default:
      r.fail("malformed core sort");
  }
}

Sort sort(Reader& r) {
  switch (r.u8()) {
    case 0x00:
      return coreSort(r);
    case 0x01:
      return Sort::kFunc;
    case 0x02:
      return Sort::kValue;
    case 0x03:
      return Sort::kType;
    case 0x04:
      return Sort::kComponent;
    case 0x05:
      return Sort::kInstance;
    default:
      r.fail("malformed sort");
  }
}

std::optional<Prim> primFromOpcode(int64_t op) {
  if (op >= 0x73 && op <= 0x7f) return static_cast<Prim>(0x7f - op);
  if (op == 0x64) return Prim::kErrorContext;
  return std::nullopt;
}

ValType valType(Reader& r) {
  int64_t v = r.s33();
  ValType t;
  if (v >= 0) {
    t.is_prim = false;
    t.index = static_cast<uint32_t>(v);
    return t;
  }
  auto p = primFromOpcode(v & 0x7f);
  if (!p) r.fail("malformed value type");
  t.prim = *p;
  return t;
}

template <typename T, typename F>
std::optional<T> optional(Reader& r, F&& read) {
  switch (r.u8()) {
    case 0x00:
      return std::nullopt;
    case 0x01:
      return read();
    default:
      r.fail("malformed optional");
  }
}

ExternName externName(Reader& r) {
  ExternName n;
  uint8_t form = r.u8();
  if (form > 0x02) r.fail("malformed import/export name form");
  n.name = r.name();
  if (form == 0x02) {
    r.vec([&] {
      uint8_t kind = r.u8();
      if (kind > 0x02) r.fail("malformed name attribute");
      n.attributes.emplace_back(kind, r.name());
    });
  }
  return n;
}

ExternType externType(Reader& r) {
  ExternType t;
  switch (r.u8()) {
    case 0x00:
      if (r.u8() != 0x11) r.fail("malformed core extern type (only core module)");
      t.kind = ExternType::Kind::kCoreModule;
      t.index = r.u32();
      break;
    case 0x01:
      t.kind = ExternType::Kind::kFunc;
      t.index = r.u32();
      break;
    case 0x02:
      t.kind = ExternType::Kind::kValue;
      if (r.u8() == 0x00) {
        t.value_eq = true;
        t.index = r.u32();
      } else {
        t.value_type = valType(r);
      }
      break;
    case 0x03:
      t.kind = ExternType::Kind::kType;
      switch (r.u8()) {
        case 0x00:
          t.index = r.u32();
          break;
        case 0x01:
          t.sub_resource = true;
          break;
        default:
          r.fail("malformed type bound");
      }
      break;
    case 0x04:
      t.kind = ExternType::Kind::kComponent;
      t.index = r.u32();
      break;
    case 0x05:
      t.kind = ExternType::Kind::kInstance;
      t.index = r.u32();
      break;
    default:
      r.fail("malformed extern type");
  }
  return t;
}

Alias alias(Reader& r) {
  Alias a;
  a.sort = sort(r);
  switch (r.u8()) {
    case 0x00:
      a.target = Alias::Target::kInstanceExport;
      a.instance = r.u32();
      a.name = r.name();
      break;
    case 0x01:
      a.target = Alias::Target::kCoreInstanceExport;
      a.instance = r.u32();
      a.name = r.name();
      break;
    case 0x02:
      a.target = Alias::Target::kOuter;
      a.outer_count = r.u32();
      a.outer_index = r.u32();
      break;
    default:
      r.fail("malformed alias target");
  }
  return a;
}

// Core value types inside core function types and descriptors.
// GC reference types ((ref ht), (ref null ht), abstract shorthands) are decoded and kept as their
// leading opcode: Cumulus does not run GC modules, but components mentioning them still decode.
uint8_t coreValType(Reader& r) {
  uint8_t t = r.u8();
  switch (t) {
    case 0x7f:
    case 0x7e:
    case 0x7d:
    case 0x7c:
    case 0x7b:
    case 0x70:
    case 0x6f:
      return t;
    case 0x63:
    case 0x64:
      r.s33();
      return t;
    default:
      if (t >= 0x69 && t <= 0x74) return t;
      r.fail("malformed core value type");
  }
}

void coreLimits(Reader& r, std::vector<uint8_t>& raw) {
  uint8_t flags = r.u8();
  raw.push_back(flags);
  uint32_t min = r.u32();
  raw.insert(raw.end(), reinterpret_cast<uint8_t*>(&min), reinterpret_cast<uint8_t*>(&min) + 4);
  if (flags & 1) {
    uint32_t max = r.u32();
    raw.insert(raw.end(), reinterpret_cast<uint8_t*>(&max), reinterpret_cast<uint8_t*>(&max) + 4);
  }
  if (flags > 3) r.fail("malformed limits flags");
}

CoreImportDesc coreImportDesc(Reader& r) {
  CoreImportDesc d;
  d.kind = r.u8();
  switch (d.kind) {
    case 0x00:
      d.type_index = r.u32();
      break;
    case 0x01:
      d.raw.push_back(coreValType(r));
      coreLimits(r, d.raw);
      break;
    case 0x02:
      coreLimits(r, d.raw);
      break;
    case 0x03: {
      d.raw.push_back(coreValType(r));
      uint8_t mut = r.u8();
      if (mut > 1) r.fail("malformed mutability");
      d.raw.push_back(mut);
      break;
    }
    case 0x04:
      if (r.u8() != 0x00) r.fail("malformed tag");
      d.type_index = r.u32();
      break;
    default:
      r.fail("malformed core import kind");
  }
  return d;
}

std::shared_ptr<CoreType> coreType(Reader& r);

std::shared_ptr<CoreType> coreType(Reader& r) {
  auto t = std::make_shared<CoreType>();
  uint8_t form = r.u8();
  if (form == 0x60) {
    r.vec([&] { t->func.params.push_back(coreValType(r)); });
    r.vec([&] { t->func.results.push_back(coreValType(r)); });
  } else if (form == 0x50) {
    t->is_module = true;
    r.vec([&] {
      CoreModuleDecl d;
      switch (r.u8()) {
        case 0x00:
          d.kind = CoreModuleDecl::Kind::kImport;
          d.module = r.name();
          d.name = r.name();
          d.desc = coreImportDesc(r);
          break;
        case 0x01:
          d.kind = CoreModuleDecl::Kind::kType;
          d.type = coreType(r);
          if (d.type->is_module) r.fail("module types cannot nest");
          break;
        case 0x02:
          d.kind = CoreModuleDecl::Kind::kAlias;
          if (r.u8() != 0x10 || r.u8() != 0x01) r.fail("malformed core alias");
          d.outer_count = r.u32();
          d.outer_index = r.u32();
          break;
        case 0x03:
          d.kind = CoreModuleDecl::Kind::kExport;
          d.name = r.name();
          d.desc = coreImportDesc(r);
          break;
        default:
          r.fail("malformed module type declaration");
      }
      t->decls.push_back(std::move(d));
    });
  } else if (form == 0x00 || form == 0x4e || form == 0x4f) {
    r.fail("GC core types are not supported");
  } else {
    r.fail("malformed core type");
  }
  return t;
}

std::shared_ptr<TypeDef> typeDef(Reader& r);

std::vector<Decl> decls(Reader& r, bool component) {
  std::vector<Decl> out;
  r.vec([&] {
    Decl d;
    uint8_t tag = r.u8();
    switch (tag) {
      case 0x00:
        d.kind = Decl::Kind::kCoreType;
        d.core_type = coreType(r);
        break;
      case 0x01:
        d.kind = Decl::Kind::kType;
        d.type = typeDef(r);
        break;
      case 0x02:
        d.kind = Decl::Kind::kAlias;
        d.alias = alias(r);
        break;
      case 0x03:
        if (!component) r.fail("imports are not allowed in instance types");
        d.kind = Decl::Kind::kImport;
        d.name = externName(r);
        d.extern_type = externType(r);
        break;
      case 0x04:
        d.kind = Decl::Kind::kExport;
        d.name = externName(r);
        d.extern_type = externType(r);
        break;
      default:
        r.fail("malformed type declaration");
    }
    out.push_back(std::move(d));
  });
  return out;
}

std::string label(Reader& r) { return r.name(); }

DefValType defValType(Reader& r, uint8_t op) {
  DefValType t;
  using K = DefValType::Kind;
  if (auto p = primFromOpcode(op)) {
    t.kind = K::kPrim;
    t.prim = *p;
    return t;
  }
  switch (op) {
    case 0x72:
      t.kind = K::kRecord;
      r.vec([&] {
        std::string l = label(r);
        t.fields.emplace_back(std::move(l), valType(r));
      });
      break;
    case 0x71:
      t.kind = K::kVariant;
      r.vec([&] {
        std::string l = label(r);
        auto ty = optional<ValType>(r, [&] { return valType(r); });
        uint8_t refines = r.u8();
        if (refines != 0x00) {
          // Older encodings carried an optional `refines` index here.
          if (refines == 0x01)
            r.u32();
          else
            r.fail("malformed variant case");
        }
        t.cases.emplace_back(std::move(l), ty);
      });
      break;
    case 0x70:
      t.kind = K::kList;
      t.types.push_back(valType(r));
      break;
    case 0x67:
      t.kind = K::kFixedList;
      t.types.push_back(valType(r));
      t.index = r.u32();
      break;
    case 0x6f:
      t.kind = K::kTuple;
      r.vec([&] { t.types.push_back(valType(r)); });
      break;
    case 0x6e:
      t.kind = K::kFlags;
      r.vec([&] { t.labels.push_back(label(r)); });
      break;
    case 0x6d:
      t.kind = K::kEnum;
      r.vec([&] { t.labels.push_back(label(r)); });
      break;
    case 0x6b:
      t.kind = K::kOption;
      t.types.push_back(valType(r));
      break;
    case 0x6a:
      t.kind = K::kResult;
      t.ok = optional<ValType>(r, [&] { return valType(r); });
      t.err = optional<ValType>(r, [&] { return valType(r); });
      break;
    case 0x69:
      t.kind = K::kOwn;
      t.index = r.u32();
      break;
    case 0x68:
      t.kind = K::kBorrow;
      t.index = r.u32();
      break;
    case 0x66:
      t.kind = K::kStream;
      t.ok = optional<ValType>(r, [&] { return valType(r); });
      break;
    case 0x65:
      t.kind = K::kFuture;
      t.ok = optional<ValType>(r, [&] { return valType(r); });
      break;
    case 0x63:
      t.kind = K::kMap;
      t.types.push_back(valType(r));
      t.types.push_back(valType(r));
      break;
    default:
      r.fail(fmt::format("malformed defined type 0x{:02x}", op));
  }
  return t;
}

std::shared_ptr<TypeDef> typeDef(Reader& r) {
  auto t = std::make_shared<TypeDef>();
  uint8_t op = r.u8();
  switch (op) {
    case 0x40:
    case 0x43:
      t->kind = TypeDef::Kind::kFunc;
      t->func.async = op == 0x43;
      r.vec([&] {
        std::string l = label(r);
        t->func.params.emplace_back(std::move(l), valType(r));
      });
      switch (r.u8()) {
        case 0x00:
          t->func.result = valType(r);
          break;
        case 0x01:
          if (r.u8() != 0x00) r.fail("named results are not supported");
          break;
        default:
          r.fail("malformed result list");
      }
      break;
    case 0x41:
      t->kind = TypeDef::Kind::kComponent;
      t->decls = decls(r, true);
      break;
    case 0x42:
      t->kind = TypeDef::Kind::kInstance;
      t->decls = decls(r, false);
      break;
    case 0x3f:
    case 0x3e:
      t->kind = TypeDef::Kind::kResource;
      t->resource_rep = coreValType(r);
      if (op == 0x3e) {
        t->resource_async = true;
        t->resource_dtor = r.u32();
        optional<uint32_t>(r, [&] { return r.u32(); });  // callback
      } else {
        t->resource_dtor = optional<uint32_t>(r, [&] { return r.u32(); });
      }
      break;
    default:
      t->kind = TypeDef::Kind::kDefVal;
      t->val = defValType(r, op);
      break;
  }
  return t;
}

CanonOpts canonOpts(Reader& r) {
  CanonOpts o;
  r.vec([&] {
    uint8_t op = r.u8();
    auto once = [&](auto& field, auto value) {
      if (field) r.fail("duplicate canonical option");
      field = value;
    };
    switch (op) {
      case 0x00:
        once(o.encoding, CanonOpts::Encoding::kUtf8);
        break;
      case 0x01:
        once(o.encoding, CanonOpts::Encoding::kUtf16);
        break;
      case 0x02:
        once(o.encoding, CanonOpts::Encoding::kLatin1Utf16);
        break;
      case 0x03:
        once(o.memory, r.u32());
        break;
      case 0x04:
        once(o.realloc, r.u32());
        break;
      case 0x05:
        once(o.post_return, r.u32());
        break;
      case 0x06:
        if (o.async) r.fail("duplicate canonical option");
        o.async = true;
        break;
      case 0x07:
        once(o.callback, r.u32());
        break;
      case 0x08:
        once(o.core_type, r.u32());
        break;  // (core-type ct), GC proposal
      case 0x09:
        if (o.gc) r.fail("duplicate canonical option");
        o.gc = true;
        break;
      default:
        r.fail("malformed canonical option");
    }
  });
  return o;
}

Canon canon(Reader& r) {
  Canon c;
  c.opcode = r.u8();
  switch (c.opcode) {
    case 0x00:
      if (r.u8() != 0x00) r.fail("malformed canon lift");
      c.kind = Canon::Kind::kLift;
      c.func = r.u32();
      c.opts = canonOpts(r);
      c.type = r.u32();
      break;
    case 0x01:
      if (r.u8() != 0x00) r.fail("malformed canon lower");
      c.kind = Canon::Kind::kLower;
      c.func = r.u32();
      c.opts = canonOpts(r);
      break;
    case 0x02:
      c.kind = Canon::Kind::kResourceNew;
      c.type = r.u32();
      break;
    case 0x03:
      c.kind = Canon::Kind::kResourceDrop;
      c.type = r.u32();
      break;
    case 0x07:
      c.kind = Canon::Kind::kResourceDrop;
      c.type = r.u32();
      c.resource_drop_async = true;
      break;
    case 0x04:
      c.kind = Canon::Kind::kResourceRep;
      c.type = r.u32();
      break;
    default:
      // Async, thread and error-context built-ins: decode their immediates, keep them as kOther.
      c.kind = Canon::Kind::kOther;
      switch (c.opcode) {
        case 0x05:
        case 0x0d:
        case 0x1e:
        case 0x1f:
        case 0x22:
        case 0x23:
        case 0x24:
        case 0x25:
        case 0x26:
        case 0x28:
          break;
        case 0x09: {
          switch (r.u8()) {
            case 0x00:
              valType(r);
              break;
            case 0x01:
              if (r.u8() != 0x00) r.fail("malformed result list");
              break;
            default:
              r.fail("malformed result list");
          }
          c.opts = canonOpts(r);
          break;
        }
        case 0x0a:
        case 0x0b:
          coreValType(r);
          r.u32();
          break;
        case 0x06:
        case 0x0c:
        case 0x29:
        case 0x2a:
        case 0x2b:
        case 0x2c:
        case 0x2d:
        case 0x42:
          r.u8();
          break;
        case 0x0e:
        case 0x13:
        case 0x14:
        case 0x15:
        case 0x1a:
        case 0x1b:
          r.u32();
          break;
        case 0x0f:
        case 0x10:
        case 0x16:
        case 0x17:
          r.u32();
          c.opts = canonOpts(r);
          break;
        case 0x11:
        case 0x12:
        case 0x18:
        case 0x19:
          r.u32();
          r.u8();
          break;
        case 0x1c:
        case 0x1d:
          c.opts = canonOpts(r);
          break;
        case 0x20:
        case 0x21:
          r.u8();
          r.u32();
          break;
        case 0x27:
          r.u32();
          r.u32();
          break;
        case 0x40:
          r.u8();
          r.u32();
          break;
        case 0x41:
          r.u8();
          r.u32();
          r.u32();
          break;
        default:
          r.fail(fmt::format("malformed canonical definition 0x{:02x}", c.opcode));
      }
  }
  return c;
}

Component component(std::span<const uint8_t> bytes, size_t start, size_t end, int depth);

void section(Reader& r, uint8_t id, Component& out, int depth) {
  auto& defs = out.definitions;
  switch (id) {
    case 0: {
      std::string name = r.name();
      out.custom_sections.emplace_back(name, std::make_pair(r.pos(), r.end() - r.pos()));
      r.skip(r.end() - r.pos());
      break;
    }
    case 1:
      if (r.end() - r.pos() < 8 || r.bytes()[r.pos() + 6] != 0 || r.bytes()[r.pos() + 7] != 0 ||
          r.bytes()[r.pos() + 1] != 'a')
        r.fail("core module section does not hold a core module");
      defs.emplace_back(std::make_pair(r.pos(), r.end() - r.pos()));
      r.skip(r.end() - r.pos());
      break;
    case 2:
      r.vec([&] {
        CoreInstance ci;
        switch (r.u8()) {
          case 0x00:
            ci.module = r.u32();
            r.vec([&] {
              std::string n = r.name();
              if (r.u8() != 0x12) r.fail("core instantiate arguments must be instances");
              ci.args.emplace_back(std::move(n), r.u32());
            });
            break;
          case 0x01:
            ci.instantiate = false;
            r.vec([&] {
              std::string n = r.name();
              Sort s = coreSort(r);
              ci.exports.emplace_back(std::move(n), SortIdx{s, r.u32()});
            });
            break;
          default:
            r.fail("malformed core instance");
        }
        defs.emplace_back(std::move(ci));
      });
      break;
    case 3:
      r.vec([&] { defs.emplace_back(coreType(r)); });
      break;
    case 4: {
      if (depth > 100) r.fail("components nest too deeply");
      auto nested = std::make_shared<Component>(component(r.bytes(), r.pos(), r.end(), depth + 1));
      defs.emplace_back(std::move(nested));
      r.skip(r.end() - r.pos());
      break;
    }
    case 5:
      r.vec([&] {
        Instance inst;
        switch (r.u8()) {
          case 0x00:
            inst.component = r.u32();
            r.vec([&] {
              std::string n = r.name();
              Sort s = sort(r);
              inst.args.emplace_back(std::move(n), SortIdx{s, r.u32()});
            });
            break;
          case 0x01:
            inst.instantiate = false;
            r.vec([&] {
              ExternName n = externName(r);
              Sort s = sort(r);
              inst.exports.emplace_back(std::move(n), SortIdx{s, r.u32()});
            });
            break;
          default:
            r.fail("malformed instance");
        }
        defs.emplace_back(std::move(inst));
      });
      break;
    case 6:
      r.vec([&] { defs.emplace_back(alias(r)); });
      break;
    case 7:
      r.vec([&] { defs.emplace_back(typeDef(r)); });
      break;
    case 8:
      r.vec([&] { defs.emplace_back(canon(r)); });
      break;
    case 9: {
      StartDef s;
      s.func = r.u32();
      r.vec([&] { s.args.push_back(r.u32()); });
      s.results = r.u32();
      defs.emplace_back(s);
      break;
    }
    case 10:
      r.vec([&] {
        Import i;
        i.name = externName(r);
        i.type = externType(r);
        defs.emplace_back(std::move(i));
      });
      break;
    case 11:
      r.vec([&] {
        Export e;
        e.name = externName(r);
        Sort s = sort(r);
        e.target = SortIdx{s, r.u32()};
        e.type = optional<ExternType>(r, [&] { return externType(r); });
        defs.emplace_back(std::move(e));
      });
      break;
    case 12:
      r.fail("value definitions are not supported");
    default:
      r.fail(fmt::format("malformed section id {}", id));
  }
  if (!r.done()) r.fail("section size mismatch");
}

Component component(std::span<const uint8_t> bytes, size_t start, size_t end, int depth) {
  Reader r(bytes, start, end);
  static constexpr uint8_t kMagic[] = {0x00, 0x61, 0x73, 0x6d};
  for (uint8_t m : kMagic)
    if (r.u8() != m) r.fail("magic header not detected");
  uint16_t version = r.u8();
  version |= uint16_t(r.u8()) << 8;
  uint16_t layer = r.u8();
  layer |= uint16_t(r.u8()) << 8;
  if (layer == 0) r.fail("this is a core WebAssembly module, not a component");
  if (layer != 1) r.fail(fmt::format("unknown binary layer {}", layer));
  if (version != kComponentVersion)
    r.fail(fmt::format(
        "unsupported component binary version 0x{:02x} (Cumulus reads version 0x{:02x}, the "
        "encoding of the component model shipped with WASI 0.2; this binary is from {} "
        "toolchain: rebuild it with a current one)",
        version, kComponentVersion, version < kComponentVersion ? "an older, pre-1.0" : "a newer"));
  Component out;
  while (!r.done()) {
    uint8_t id = r.u8();
    uint32_t size = r.u32();
    if (size > r.end() - r.pos()) r.fail("section size out of bounds");
    Reader sr(bytes, r.pos(), r.pos() + size);
    section(sr, id, out, depth);
    r.skip(size);
  }
  return out;
}

}  // namespace

Expected<Component> decode(std::span<const uint8_t> bytes) {
  try {
    return component(bytes, 0, bytes.size(), 0);
  } catch (const DecodeError& e) {
    return makeError(ErrorCode::kInvalidArgument, "malformed component (offset 0x{:x}): {}",
                     e.offset, e.message);
  } catch (const std::bad_alloc&) {
    return makeError(ErrorCode::kResourceLimit, "component too large to decode");
  }
}

}  // namespace cumulus::component
