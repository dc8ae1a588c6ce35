// `cumulus inspect FILE.wasm [-o json]`: a component's imports and exports as WIT-like text (or
// JSON); for a core module, its imports and exports with their core types.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "cli/commands.h"
#include "component/decoder.h"
#include "component/resolve.h"
#include "engine/translate.h"

namespace cumulus::cli {

namespace {

using component::CType;
using component::ExternItem;
using component::ExternType;

const char* kindWord(ExternType::Kind k) {
  switch (k) {
    case ExternType::Kind::kCoreModule:
      return "core module";
    case ExternType::Kind::kFunc:
      return "func";
    case ExternType::Kind::kValue:
      return "value";
    case ExternType::Kind::kType:
      return "type";
    case ExternType::Kind::kComponent:
      return "component";
    case ExternType::Kind::kInstance:
      return "interface";
  }
  return "?";
}

void printItem(const std::string& verb, const std::string& name, const ExternItem& item, int indent,
               nlohmann::json* json) {
  std::string pad(size_t(indent), ' ');
  nlohmann::json j = {{"name", name}, {"kind", kindWord(item.kind)}};
  if (item.kind == ExternType::Kind::kInstance && item.type) {
    if (!json) fmt::print("{}{} {} {{\n", pad, verb, name);
    nlohmann::json members = nlohmann::json::array();
    for (const auto& [n, sub] : item.type->exports) {
      if (!json) {
        printItem("", n, sub, indent + 2, nullptr);
      } else {
        nlohmann::json m;
        printItem("", n, sub, 0, &m);
        members.push_back(m);
      }
    }
    if (!json) fmt::print("{}}}\n", pad);
    j["exports"] = members;
  } else if (item.kind == ExternType::Kind::kFunc) {
    std::string wit = component::toWit(item.type);
    if (!json) fmt::print("{}{}{}: {};\n", pad, verb.empty() ? "" : verb + " ", name, wit);
    j["type"] = wit;
  } else if (item.kind == ExternType::Kind::kType) {
    std::string wit = component::toWit(item.type, /*expand=*/true);
    if (!json) fmt::print("{}{}type {} = {};\n", pad, verb.empty() ? "" : verb + " ", name, wit);
    j["type"] = wit;
  } else {
    if (!json)
      fmt::print("{}{}{}: {};\n", pad, verb.empty() ? "" : verb + " ", name, kindWord(item.kind));
  }
  if (json) *json = j;
}

int inspect(const std::string& file, bool as_json) {
  auto bytes = readFile(file);
  if (!bytes.ok()) {
    fmt::print(stderr, "error: {}\n", bytes.error().message());
    return 1;
  }
  if (component::sniff(*bytes) == component::BinaryKind::kCoreModule) {
    auto m = engine::ParsedModule::parse(*bytes);
    if (!m.ok()) {
      fmt::print(stderr, "error: {}: {}\n", file, m.error().message());
      return 1;
    }
    nlohmann::json j = {{"kind", "core module"},
                        {"imports", nlohmann::json::array()},
                        {"exports", nlohmann::json::array()}};
    for (const auto& i : m->info().imports) {
      if (!as_json) fmt::print("import {}.{}: {};\n", i.module, i.name, i.type.toString());
      j["imports"].push_back({{"module", i.module}, {"name", i.name}, {"type", i.type.toString()}});
    }
    for (const auto& e : m->info().exports) {
      if (!as_json) fmt::print("export {}: {};\n", e.name, e.type.toString());
      j["exports"].push_back({{"name", e.name}, {"type", e.type.toString()}});
    }
    if (as_json) fmt::print("{}\n", j.dump(2));
    return 0;
  }
  auto decoded = component::decode(*bytes);
  if (!decoded.ok()) {
    fmt::print(stderr, "error: {}: {}\n", file, decoded.error().message());
    return 1;
  }
  auto info = component::resolve(*decoded, *bytes);
  if (!info.ok()) {
    fmt::print(stderr, "error: {}: {}\n", file, info.error().message());
    return 1;
  }
  nlohmann::json j = {{"kind", "component"},
                      {"core_modules", info->core_modules},
                      {"imports", nlohmann::json::array()},
                      {"exports", nlohmann::json::array()}};
  for (const auto& [n, item] : info->imports) {
    nlohmann::json e;
    printItem("import", n, item, 0, as_json ? &e : nullptr);
    j["imports"].push_back(e);
  }
  for (const auto& [n, item] : info->exports) {
    nlohmann::json e;
    printItem("export", n, item, 0, as_json ? &e : nullptr);
    j["exports"].push_back(e);
  }
  if (as_json) fmt::print("{}\n", j.dump(2));
  return 0;
}

}  // namespace

void addInspectCommand(CLI::App& app, int& status) {
  auto file = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>("text");
  auto* cmd =
      app.add_subcommand("inspect", "show a component's (or core module's) imports and exports");
  cmd->add_option("file", *file)->required();
  cmd->add_option("-o,--output", *output, "text or json")->check(CLI::IsMember({"text", "json"}));
  cmd->callback([file, output, &status] { status = inspect(*file, *output == "json"); });
}

}  // namespace cumulus::cli
