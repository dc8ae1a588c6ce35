// The component binary format as data: what decoder.cpp produces from bytes (Binary.md of
// WebAssembly/component-model, encoding version 0x0d). Indices are as written in the binary;
// resolving them into index spaces is the validator's job.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace cumulus::component {

// Every sort an index can refer to (core sorts first, as in `core:sort`).
enum class Sort : uint8_t {
  kCoreFunc,
  kCoreTable,
  kCoreMemory,
  kCoreGlobal,
  kCoreTag,
  kCoreType,
  kCoreModule,
  kCoreInstance,
  kFunc,
  kValue,
  kType,
  kComponent,
  kInstance,
};
const char* sortName(Sort s);

struct SortIdx {
  Sort sort = Sort::kFunc;
  uint32_t index = 0;
};

enum class Prim : uint8_t {
  kBool,
  kS8,
  kU8,
  kS16,
  kU16,
  kS32,
  kU32,
  kS64,
  kU64,
  kF32,
  kF64,
  kChar,
  kString,
  kErrorContext,
};
const char* primName(Prim p);

// A value type: a primitive, or an index into the type index space.
struct ValType {
  bool is_prim = true;
  Prim prim = Prim::kBool;
  uint32_t index = 0;
};

struct DefValType {
  enum class Kind : uint8_t {
    kPrim,
    kRecord,
    kVariant,
    kList,
    kFixedList,
    kTuple,
    kFlags,
    kEnum,
    kOption,
    kResult,
    kOwn,
    kBorrow,
    kStream,
    kFuture,
    kMap,
  };
  Kind kind = Kind::kPrim;
  Prim prim = Prim::kBool;
  std::vector<std::pair<std::string, ValType>> fields;                // record
  std::vector<std::pair<std::string, std::optional<ValType>>> cases;  // variant
  std::vector<ValType> types;       // list/fixed-list/option: 1; tuple: n; map: 2
  std::vector<std::string> labels;  // flags, enum
  std::optional<ValType> ok, err;   // result; stream/future element in `ok`
  uint32_t index = 0;               // own/borrow: resource type; fixed list: length
};

struct FuncType {
  bool async = false;
  std::vector<std::pair<std::string, ValType>> params;
  std::optional<ValType> result;
};

// `externtype`: the type of an import or export.
struct ExternType {
  enum class Kind : uint8_t { kCoreModule, kFunc, kValue, kType, kComponent, kInstance };
  Kind kind = Kind::kFunc;
  uint32_t index = 0;         // type index (core type index for modules); value index for (eq)
  bool sub_resource = false;  // type bound (sub resource) instead of (eq index)
  bool value_eq = false;      // value bound (eq index) instead of a value type
  ValType value_type;
};

struct ExternName {
  std::string name;
  std::vector<std::pair<uint8_t, std::string>> attributes;  // (attribute kind, text)
};

struct Alias {
  enum class Target : uint8_t { kInstanceExport, kCoreInstanceExport, kOuter };
  Sort sort = Sort::kFunc;
  Target target = Target::kInstanceExport;
  uint32_t instance = 0;  // export targets
  std::string name;
  uint32_t outer_count = 0, outer_index = 0;  // outer
};

// ---- core types (inside components: function types and module types) ----
struct CoreFuncType {
  std::vector<uint8_t> params, results;  // core valtype codes (0x7f i32 ... 0x70 funcref)
};
struct CoreImportDesc {
  uint8_t kind = 0;  // 0 func (type index), 1 table, 2 memory, 3 global, 4 tag
  uint32_t type_index = 0;
  std::vector<uint8_t> raw;  // table/memory/global/tag descriptor bytes, as written
};
struct CoreModuleDecl {
  enum class Kind : uint8_t { kImport, kType, kAlias, kExport } kind = Kind::kImport;
  std::string module, name;  // import: module + name; export: name
  CoreImportDesc desc;
  std::shared_ptr<struct CoreType> type;
  uint32_t outer_count = 0, outer_index = 0;  // alias outer (type)
};
struct CoreType {
  bool is_module = false;
  CoreFuncType func;
  std::vector<CoreModuleDecl> decls;
};

// ---- component-level types ----
struct TypeDef;
struct Decl {  // componentdecl / instancedecl
  enum class Kind : uint8_t { kCoreType, kType, kAlias, kImport, kExport } kind = Kind::kType;
  std::shared_ptr<CoreType> core_type;
  std::shared_ptr<TypeDef> type;
  Alias alias;
  ExternName name;
  ExternType extern_type;
};
struct TypeDef {
  enum class Kind : uint8_t {
    kDefVal,
    kFunc,
    kComponent,
    kInstance,
    kResource
  } kind = Kind::kDefVal;
  DefValType val;
  FuncType func;
  std::vector<Decl> decls;      // component / instance types
  uint8_t resource_rep = 0x7f;  // core valtype of the representation (i32)
  std::optional<uint32_t> resource_dtor;
  bool resource_async = false;
};

// ---- definitions ----
struct CoreInstance {
  bool instantiate = true;
  uint32_t module = 0;
  std::vector<std::pair<std::string, uint32_t>> args;    // name -> core instance index
  std::vector<std::pair<std::string, SortIdx>> exports;  // inline exports
};
struct Instance {
  bool instantiate = true;
  uint32_t component = 0;
  std::vector<std::pair<std::string, SortIdx>> args;
  std::vector<std::pair<ExternName, SortIdx>> exports;
};
struct CanonOpts {
  enum class Encoding : uint8_t { kUtf8, kUtf16, kLatin1Utf16 };
  std::optional<Encoding> encoding;
  std::optional<uint32_t> memory, realloc, post_return, callback, core_type;
  bool async = false;
  bool gc = false;
};
struct Canon {
  // Lift, lower and the resource built-ins are what a WASI 0.2 host runs; every other canonical
  // built-in (async, threads, error-context) is decoded for diagnostics and kept as kOther.
  enum class Kind : uint8_t { kLift, kLower, kResourceNew, kResourceDrop, kResourceRep, kOther };
  Kind kind = Kind::kLift;
  uint8_t opcode = 0;
  uint32_t func = 0;  // lift: core func; lower: component func
  uint32_t type = 0;  // lift: func type; resource.*: resource type
  CanonOpts opts;
  bool resource_drop_async = false;
};
struct Import {
  ExternName name;
  ExternType type;
};
struct Export {
  ExternName name;
  SortIdx target;
  std::optional<ExternType> type;
};
struct StartDef {
  uint32_t func = 0;
  std::vector<uint32_t> args;
  uint32_t results = 0;
};

struct Component;
// One section's definitions, in binary order (order matters for index spaces).
using Definition =
    std::variant<std::pair<size_t, size_t>,  // core module: [offset, length) in the bytes
                 CoreInstance, std::shared_ptr<CoreType>, std::shared_ptr<Component>, Instance,
                 Alias, std::shared_ptr<TypeDef>, Canon, StartDef, Import, Export>;

struct Component {
  std::vector<Definition> definitions;
  std::vector<std::pair<std::string, std::pair<size_t, size_t>>> custom_sections;
};

}  // namespace cumulus::component
