// Spec-test runner over wast2json output (see wast.h).
#include "engine/wast.h"

#include <cmath>
#include <cstring>
#include <map>

#include <fmt/format.h>
#include <wabt/ir.h>
#include <wabt/resolve-names.h>
#include <wabt/validator.h>
#include <wabt/wast-lexer.h>
#include <wabt/wast-parser.h>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/subprocess.h"
#include "engine/instance.h"
#include "engine/rt/runtime.h"

namespace cumulus::engine {

namespace {

using json = nlohmann::json;

// Externref values in scripts are small integers; 0 is a valid non-null reference, so the host
// representation is N+1 (null stays null).
void* externFromScript(uint64_t n) { return reinterpret_cast<void*>(n + 1); }

std::optional<ValType> parseType(const std::string& t) {
  if (t == "i32") return ValType::kI32;
  if (t == "i64") return ValType::kI64;
  if (t == "f32") return ValType::kF32;
  if (t == "f64") return ValType::kF64;
  if (t == "v128") return ValType::kV128;
  if (t == "funcref") return ValType::kFuncRef;
  if (t == "externref") return ValType::kExternRef;
  return std::nullopt;
}

// Bytes per lane of a v128 written with `lane_type`.
size_t laneWidth(const std::string& lane) {
  return lane == "i8" ? 1 : lane == "i16" ? 2 : (lane == "i32" || lane == "f32") ? 4 : 8;
}

// Writes lane values of a v128 into 16 bytes.
void parseV128(const json& v, uint8_t out[16]) {
  std::string lane = v.value("lane_type", "i32");
  const json& vals = v["value"];
  size_t width = laneWidth(lane);
  for (size_t i = 0; i < vals.size(); ++i) {
    uint64_t bits = std::stoull(vals[i].get<std::string>());
    std::memcpy(out + i * width, &bits, width);
  }
}

Expected<Value> parseValue(const json& v) {
  auto t = parseType(v.value("type", ""));
  if (!t) return makeError(ErrorCode::kInvalidArgument, "unknown value type {}", v.dump());
  Value out;
  out.type = *t;
  switch (*t) {
    case ValType::kI32:
      out.cell.i32 = static_cast<uint32_t>(std::stoull(v["value"].get<std::string>()));
      break;
    case ValType::kI64:
      out.cell.i64 = std::stoull(v["value"].get<std::string>());
      break;
    case ValType::kF32: {
      uint32_t b = static_cast<uint32_t>(std::stoull(v["value"].get<std::string>()));
      std::memcpy(&out.cell.f32, &b, 4);
      break;
    }
    case ValType::kF64: {
      uint64_t b = std::stoull(v["value"].get<std::string>());
      std::memcpy(&out.cell.f64, &b, 8);
      break;
    }
    case ValType::kV128:
      parseV128(v, out.cell.v128);
      break;
    case ValType::kFuncRef:
      out.cell.funcref = wasm_rt_funcref_null_value;
      break;
    case ValType::kExternRef: {
      std::string s = v["value"].get<std::string>();
      out.cell.externref = s == "null" ? nullptr : externFromScript(std::stoull(s));
      break;
    }
  }
  return out;
}

bool isCanonicalNan32(uint32_t b) { return (b & 0x7fffffff) == 0x7fc00000; }
bool isArithmeticNan32(uint32_t b) { return (b & 0x7fc00000) == 0x7fc00000; }
bool isCanonicalNan64(uint64_t b) { return (b & 0x7fffffffffffffffull) == 0x7ff8000000000000ull; }
bool isArithmeticNan64(uint64_t b) { return (b & 0x7ff8000000000000ull) == 0x7ff8000000000000ull; }

bool matchLane(const std::string& lane, const std::string& want, const uint8_t* got) {
  if (lane == "f32") {
    uint32_t b;
    std::memcpy(&b, got, 4);
    if (want == "nan:canonical") return isCanonicalNan32(b);
    if (want == "nan:arithmetic") return isArithmeticNan32(b);
    return b == static_cast<uint32_t>(std::stoull(want));
  }
  if (lane == "f64") {
    uint64_t b;
    std::memcpy(&b, got, 8);
    if (want == "nan:canonical") return isCanonicalNan64(b);
    if (want == "nan:arithmetic") return isArithmeticNan64(b);
    return b == std::stoull(want);
  }
  size_t width = laneWidth(lane);
  uint64_t w = std::stoull(want), g = 0;
  std::memcpy(&g, got, width);
  if (width < 8) w &= (1ull << (width * 8)) - 1;
  return w == g;
}

bool matchValue(const json& want, const Value& got) {
  auto t = parseType(want.value("type", ""));
  if (!t || *t != got.type) return false;
  switch (*t) {
    case ValType::kI32:
      return got.cell.i32 == static_cast<uint32_t>(std::stoull(want["value"].get<std::string>()));
    case ValType::kI64:
      return got.cell.i64 == std::stoull(want["value"].get<std::string>());
    case ValType::kF32: {
      uint8_t b[4];
      std::memcpy(b, &got.cell.f32, 4);
      return matchLane("f32", want["value"].get<std::string>(), b);
    }
    case ValType::kF64: {
      uint8_t b[8];
      std::memcpy(b, &got.cell.f64, 8);
      return matchLane("f64", want["value"].get<std::string>(), b);
    }
    case ValType::kV128: {
      std::string lane = want.value("lane_type", "i32");
      size_t width = laneWidth(lane);
      const json& vals = want["value"];
      for (size_t i = 0; i < vals.size(); ++i)
        if (!matchLane(lane, vals[i].get<std::string>(), got.cell.v128 + i * width)) return false;
      return true;
    }
    case ValType::kFuncRef: {
      bool is_null = got.cell.funcref.func == nullptr;
      if (!want.contains("value")) return !is_null;
      return want["value"].get<std::string>() == "null" ? is_null : !is_null;
    }
    case ValType::kExternRef: {
      if (!want.contains("value")) return got.cell.externref != nullptr;
      std::string s = want["value"].get<std::string>();
      if (s == "null") return got.cell.externref == nullptr;
      return got.cell.externref == externFromScript(std::stoull(s));
    }
  }
  return false;
}

class Runner {
 public:
  Runner(Engine& engine, std::filesystem::path dir, std::string file)
      : engine_(engine), dir_(std::move(dir)), file_(std::move(file)) {}

  Expected<void> makeSpectest() {
    auto host = [](const char* name, FuncType type) {
      auto fn = std::make_shared<HostFunc>();
      fn->type = std::move(type);
      fn->name = name;
      fn->callback = [](Caller&, Cell*) -> Expected<void> { return {}; };
      return makeHostFunc(fn);
    };
    using V = ValType;
    auto& s = registry_["spectest"];
    s["print"] = host("print", {});
    s["print_i32"] = host("print_i32", {{V::kI32}, {}});
    s["print_i64"] = host("print_i64", {{V::kI64}, {}});
    s["print_f32"] = host("print_f32", {{V::kF32}, {}});
    s["print_f64"] = host("print_f64", {{V::kF64}, {}});
    s["print_i32_f32"] = host("print_i32_f32", {{V::kI32, V::kF32}, {}});
    s["print_f64_f64"] = host("print_f64_f64", {{V::kF64, V::kF64}, {}});
    Cell c{};
    c.i32 = 666;
    s["global_i32"] = makeHostGlobal({V::kI32, false}, c);
    c.i64 = 666;
    s["global_i64"] = makeHostGlobal({V::kI64, false}, c);
    c.f32 = 666.6f;
    s["global_f32"] = makeHostGlobal({V::kF32, false}, c);
    c.f64 = 666.6;
    s["global_f64"] = makeHostGlobal({V::kF64, false}, c);
    CUMULUS_TRY(auto table, makeHostTable({V::kFuncRef, {10, 20}}));
    s["table"] = table;
    CUMULUS_TRY(auto mem, makeHostMemory({{1, 2}}));
    s["memory"] = mem;
    return {};
  }

  Expected<std::shared_ptr<Instance>> instantiate(const std::string& filename) {
    CUMULUS_TRY(auto bytes, readFile(dir_ / filename));
    CUMULUS_TRY(auto module, engine_.compile(bytes));
    CUMULUS_TRY_VOID(checkTier(*module));
    std::vector<Extern> imports;
    for (const auto& imp : module->info().imports) {
      auto m = registry_.find(imp.module);
      if (m == registry_.end())
        return makeError(ErrorCode::kLinkError, "unknown import module {}", imp.module);
      auto it = m->second.find(imp.name);
      if (it == m->second.end())
        return makeError(ErrorCode::kLinkError, "unknown import {}.{}", imp.module, imp.name);
      imports.push_back(it->second);
    }
    InstanceOptions options;
    options.store = &store_;
    return Instance::create(engine_, module, std::move(imports), options);
  }

  // The suite measures one tier: a module that silently fell back to another tier is a failure
  // (except SIMD modules, which only the interpreter runs).
  Expected<void> checkTier(const Module& module) {
    TierPolicy policy = engine_.config().policy;
    Tier tier = module.tier();
    bool ok = policy == TierPolicy::kAuto ||
              (tier == Tier::kInterpreter && !module.info().interpreter_reason.empty()) ||
              (policy == TierPolicy::kBaseline && tier == Tier::kBaseline) ||
              (policy == TierPolicy::kOptimized && tier == Tier::kOptimized) ||
              (policy == TierPolicy::kInterpreter && tier == Tier::kInterpreter);
    if (!ok)
      return makeError(ErrorCode::kInternal,
                       "module ran on the {} tier instead of the requested one: {}", tierName(tier),
                       module.tierNote());
    return {};
  }

  std::shared_ptr<Instance> target(const json& action) {
    if (action.contains("module")) {
      auto it = named_.find(action["module"].get<std::string>());
      return it == named_.end() ? nullptr : it->second;
    }
    return current_;
  }

  // Performs an action; returns values or the error (traps included).
  Expected<std::vector<Value>> act(const json& action) {
    auto inst = target(action);
    if (!inst) return makeError(ErrorCode::kNotFound, "no module for action");
    std::string field = action["field"].get<std::string>();
    if (action["type"] == "get") {
      auto ex = inst->getExport(field);
      if (!ex || ex->kind != ExternKind::kGlobal)
        return makeError(ErrorCode::kNotFound, "no global {}", field);
      Value v;
      v.type = ex->type.global.type;
      size_t size = v.type == ValType::kI32 || v.type == ValType::kF32 ? 4
                    : v.type == ValType::kFuncRef                      ? sizeof(wasm_rt_funcref_t)
                    : v.type == ValType::kV128                         ? 16
                                                                       : 8;
      std::memcpy(&v.cell, ex->object, size);
      return std::vector<Value>{v};
    }
    std::vector<Value> args;
    for (const auto& a : action["args"]) {
      CUMULUS_TRY(auto v, parseValue(a));
      args.push_back(v);
    }
    return inst->call(field, args);
  }

  Expected<WastResult> run(const json& script, const WastOptions& options) {
    CUMULUS_TRY_VOID(makeSpectest());
    WastResult result;
    for (const json& cmd : script["commands"]) {
      std::string type = cmd["type"].get<std::string>();
      int line = cmd.value("line", 0);
      if (type == "register") {
        auto inst = cmd.contains("name") ? named_[cmd["name"].get<std::string>()] : current_;
        if (inst) {
          auto& exports = registry_[cmd["as"].get<std::string>()];
          for (const auto& ex : inst->module().info().exports)
            exports[ex.name] = *inst->getExport(ex.name);
        }
        continue;
      }
      ++result.total;
      std::string where = fmt::format("{}:{}", file_, line);
      if (options.skip.count(where)) {
        ++result.skipped;
        continue;
      }
      std::string failure = runCommand(type, cmd);
      if (failure.empty()) {
        ++result.passed;
      } else {
        result.failures.push_back(fmt::format("{}: {}: {}", where, type, failure));
      }
    }
    return result;
  }

  std::string runCommand(const std::string& type, const json& cmd) {
    if (type == "module") {
      auto inst = instantiate(cmd["filename"].get<std::string>());
      if (!inst.ok()) {
        current_ = nullptr;
        return inst.error().message();
      }
      current_ = *inst;
      if (cmd.contains("name")) named_[cmd["name"].get<std::string>()] = current_;
      return {};
    }
    if (type == "action") {
      auto r = act(cmd["action"]);
      return r.ok() ? std::string() : r.error().message();
    }
    if (type == "assert_return") {
      auto r = act(cmd["action"]);
      if (!r.ok()) return r.error().message();
      const json& expected = cmd["expected"];
      if (expected.size() != r->size()) return "wrong number of results";
      for (size_t i = 0; i < r->size(); ++i) {
        if (!matchValue(expected[i], (*r)[i]))
          return fmt::format("result {}: got {}, expected {}", i, (*r)[i].toString(),
                             expected[i].dump());
      }
      return {};
    }
    if (type == "assert_trap" || type == "assert_exhaustion") {
      auto r = act(cmd["action"]);
      if (r.ok()) return "expected a trap (" + cmd.value("text", "") + "), got a result";
      if (r.error().code() != ErrorCode::kTrap)
        return "expected a trap, got: " + r.error().message();
      if (type == "assert_exhaustion" && r.error().detail() != WASM_RT_TRAP_EXHAUSTION)
        return "expected exhaustion, got: " + r.error().message();
      return {};
    }
    if (type == "assert_invalid" || type == "assert_malformed") {
      std::string filename = cmd["filename"].get<std::string>();
      if (cmd.value("module_type", "binary") == "text") return checkTextRejected(filename);
      auto bytes = readFile(dir_ / filename);
      if (!bytes.ok()) return bytes.error().message();
      auto m = engine_.compile(*bytes);
      if (m.ok()) return "module was accepted, expected: " + cmd.value("text", "");
      return {};
    }
    if (type == "assert_unlinkable" || type == "assert_uninstantiable") {
      auto inst = instantiate(cmd["filename"].get<std::string>());
      if (inst.ok()) return "instantiation succeeded, expected: " + cmd.value("text", "");
      if (type == "assert_uninstantiable" && inst.error().code() != ErrorCode::kTrap)
        return "expected a trap, got: " + inst.error().message();
      if (type == "assert_unlinkable" && inst.error().code() != ErrorCode::kLinkError)
        return "expected a link error, got: " + inst.error().message();
      return {};
    }
    return "unknown command " + type;
  }

  // Text-format modules: the wabt text parser must reject them (they are never compiled).
  std::string checkTextRejected(const std::string& filename) {
    auto text = readFile(dir_ / filename);
    if (!text.ok()) return text.error().message();
    wabt::Errors errors;
    auto lexer = wabt::WastLexer::CreateBufferLexer(filename, text->data(), text->size(), &errors);
    wabt::Features features;
    features.set_multi_memory_enabled(engine_.config().features.multi_memory);
    features.set_extended_const_enabled(engine_.config().features.extended_const);
    wabt::WastParseOptions popts(features);
    std::unique_ptr<wabt::Module> module;
    if (wabt::Failed(wabt::ParseWatModule(lexer.get(), &module, &errors, &popts))) return {};
    if (wabt::Failed(wabt::ResolveNamesModule(module.get(), &errors))) return {};
    wabt::ValidateOptions vopts(features);
    if (wabt::Failed(wabt::ValidateModule(module.get(), &errors, vopts))) return {};
    return "text module was accepted";
  }

 private:
  Engine& engine_;
  Store store_;  // all instances of a script live as long as the script (shared tables)
  std::filesystem::path dir_;
  std::string file_;
  std::map<std::string, std::map<std::string, Extern>> registry_;
  std::map<std::string, std::shared_ptr<Instance>> named_;
  std::shared_ptr<Instance> current_;
};

}  // namespace

Expected<WastResult> runWastJson(Engine& engine, const std::filesystem::path& json_path,
                                 const WastOptions& options) {
  CUMULUS_TRY(auto text, readTextFile(json_path));
  json script;
  try {
    script = json::parse(text);
  } catch (const std::exception& e) {
    return makeError(ErrorCode::kInvalidArgument, "{}: not a wast2json script: {}",
                     json_path.string(), e.what());
  }
  Runner runner(engine, json_path.parent_path(), json_path.filename().string());
  return runner.run(script, options);
}

Expected<WastResult> runWastFile(Engine& engine, const std::filesystem::path& wast_path,
                                 const std::filesystem::path& out_dir, const WastOptions& options) {
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  auto json_path = out_dir / (wast_path.stem().string() + ".json");
  CUMULUS_TRY(auto r, runSubprocess({"wast2json", wast_path.string(), "-o", json_path.string()},
                                    std::chrono::minutes(2)));
  if (r.exit_code != 0)
    return makeError(ErrorCode::kInvalidArgument, "wast2json {} failed: {}", wast_path.string(),
                     r.output);
  return runWastJson(engine, json_path, options);
}

}  // namespace cumulus::engine
