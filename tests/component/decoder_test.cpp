// Component decoder tests over material written by others (../shared/fixtures).
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "component/decoder.h"
#include "component/resolve.h"
#include "engine/translate.h"

namespace cumulus::component {
namespace {

// Invalid spec components rejected before anything runs (of 367): by the decoder + resolver, or
// by the engine's validation of their core modules, which runs when a component is planned.
// Raise as validation grows.
constexpr int kInvalidRejectedFloor = 364;

// Whether every core module of `c` (nested components included) passes the engine's validation.
bool coreModulesValidate(const Component& c, std::span<const uint8_t> bytes) {
  for (const Definition& d : c.definitions) {
    if (const auto* range = std::get_if<std::pair<size_t, size_t>>(&d)) {
      if (range->first + range->second > bytes.size()) continue;
      if (!engine::ParsedModule::parse(bytes.subspan(range->first, range->second)).ok())
        return false;
    } else if (const auto* nested = std::get_if<std::shared_ptr<Component>>(&d)) {
      if (*nested && !coreModulesValidate(**nested, bytes)) return false;
    }
  }
  return true;
}

const std::filesystem::path kFixtures =
    std::filesystem::path(CUMULUS_SOURCE_DIR) / ".." / "shared" / "fixtures";

TEST(ComponentDecoder, EveryValidSpecComponentDecodes) {
  auto manifest = readTextFile(kFixtures / "component-model/compiled/manifest.json");
  ASSERT_TRUE(manifest.ok()) << manifest.error().message();
  auto entries = nlohmann::json::parse(*manifest);
  int total = 0, decoded = 0;
  for (const auto& e : entries) {
    if (e["kind"] != "component" || e.value("async", false) || e["file"].is_null()) continue;
    ++total;
    auto bytes = readFile(kFixtures / "component-model/compiled" / e["file"].get<std::string>());
    ASSERT_TRUE(bytes.ok());
    auto c = decode(*bytes);
    if (c.ok()) {
      ++decoded;
    } else {
      ADD_FAILURE() << e["file"].get<std::string>() << ": " << c.error().message();
    }
  }
  std::cout << "valid non-async spec components decoded: " << decoded << "/" << total << "\n";
  EXPECT_EQ(total, 362);
  EXPECT_EQ(decoded, total);
}

TEST(ComponentDecoder, RealComponentsDecode) {
  int n = 0;
  for (const char* dir : {"components/wasmcloud-wash", "components/jco/runtime",
                          "toolchains/c-http", "toolchains/js-http", "toolchains/c-cli"}) {
    for (const auto& f : std::filesystem::directory_iterator(kFixtures / dir)) {
      if (f.path().extension() != ".wasm") continue;
      auto bytes = readFile(f.path());
      ASSERT_TRUE(bytes.ok());
      if (sniff(*bytes) != BinaryKind::kComponent) continue;
      auto c = decode(*bytes);
      ASSERT_TRUE(c.ok()) << f.path() << ": " << c.error().message();
      auto info = resolve(*c, *bytes);
      EXPECT_TRUE(info.ok()) << f.path() << ": " << (info.ok() ? "" : info.error().message());
      ++n;
    }
  }
  EXPECT_GT(n, 20);
}

TEST(ComponentDecoder, OldEncodingsAndCoreModulesAreNamedAsSuch) {
  auto old = readFile(kFixtures / "components/wasmcloud-legacy/guest.component.wasm");
  ASSERT_TRUE(old.ok());
  auto c = decode(*old);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message().find("unsupported component binary version 0x0c"),
            std::string::npos)
      << c.error().message();
  EXPECT_NE(c.error().message().find("pre-1.0"), std::string::npos);
  std::vector<uint8_t> core = {0, 'a', 's', 'm', 1, 0, 0, 0};
  auto m = decode(core);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message().find("core WebAssembly module"), std::string::npos);
  std::vector<uint8_t> truncated = {0, 'a', 's', 'm', 0x0d, 0, 1, 0, 0x07, 0x05, 0x01};
  auto t = decode(truncated);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code(), ErrorCode::kInvalidArgument);
}

TEST(ComponentResolver, ValidSpecComponentsResolveAndInvalidOnesAreCounted) {
  auto manifest = readTextFile(kFixtures / "component-model/compiled/manifest.json");
  ASSERT_TRUE(manifest.ok());
  auto entries = nlohmann::json::parse(*manifest);
  int valid = 0, resolved = 0, invalid = 0, rejected = 0, rejected_by_engine = 0;
  for (const auto& e : entries) {
    if (e.value("async", false) || e["file"].is_null()) continue;
    bool expect_valid = e["kind"] == "component";
    if (!expect_valid && e["kind"] != "assert_invalid") continue;
    auto bytes = readFile(kFixtures / "component-model/compiled" / e["file"].get<std::string>());
    ASSERT_TRUE(bytes.ok());
    auto c = decode(*bytes);
    Expected<ComponentInfo> info =
        c.ok() ? resolve(*c, *bytes) : Expected<ComponentInfo>(c.error());
    if (expect_valid) {
      ++valid;
      if (info.ok())
        ++resolved;
      else
        ADD_FAILURE() << e["file"].get<std::string>() << ": " << info.error().message();
    } else {
      ++invalid;
      if (!info.ok()) {
        ++rejected;
      } else if (!coreModulesValidate(*c, *bytes)) {
        ++rejected;
        ++rejected_by_engine;
      }
    }
  }
  // Validation is incomplete (issue 3): every valid component must pass; the share of invalid
  // ones already rejected is reported and must not regress below the recorded floor.
  std::cout << "valid resolved: " << resolved << "/" << valid << "; invalid rejected: " << rejected
            << "/" << invalid << " (" << rejected_by_engine
            << " by the engine's core module validation)\n";
  EXPECT_EQ(resolved, valid);
  EXPECT_EQ(invalid, 367);
  EXPECT_GE(rejected, kInvalidRejectedFloor);
}

// Core instantiation arguments, canonical core signatures, nested names, resource names in
// annotated functions, type depth and size: the rejection names what wasm-tools names.
TEST(ComponentResolver, CoreTypeAndNameRejectionsSayWhatWasmToolsSays) {
  const std::set<std::string> ids = {"spec-repo__validation__abi.17",
                                     "spec-repo__validation__abi.18",
                                     "spec-repo__validation__abi.20",
                                     "spec-repo__validation__abi.21",
                                     "spec-repo__validation__instantiation.39",
                                     "spec-repo__validation__instantiation.40",
                                     "spec-repo__validation__instantiation.41",
                                     "spec-repo__validation__instantiation.42",
                                     "spec-repo__validation__instantiation.43",
                                     "spec-repo__validation__instantiation.44",
                                     "spec-repo__validation__instantiation.45",
                                     "spec-repo__validation__instantiation.46",
                                     "spec-repo__validation__instantiation.47",
                                     "spec-repo__validation__instantiation.48",
                                     "spec-repo__validation__instantiation.49",
                                     "spec-repo__validation__instantiation.51",
                                     "spec-repo__validation__resources.60",
                                     "spec-repo__validation__annotated-names.28",
                                     "spec-repo__validation__annotated-names.32",
                                     "spec-repo__validation__attributes.19",
                                     "spec-repo__validation__attributes.24",
                                     "spec-repo__validation__extern-names.10",
                                     "spec-repo__validation__extern-names.11",
                                     "spec-repo__validation__max-value-size.7",
                                     "wasmtime-misc__types.20"};
  auto manifest = readTextFile(kFixtures / "component-model/compiled/manifest.json");
  ASSERT_TRUE(manifest.ok());
  size_t seen = 0;
  for (const auto& e : nlohmann::json::parse(*manifest)) {
    if (!ids.count(e["id"].get<std::string>())) continue;
    ++seen;
    auto bytes = readFile(kFixtures / "component-model/compiled" / e["file"].get<std::string>());
    ASSERT_TRUE(bytes.ok());
    auto c = decode(*bytes);
    ASSERT_TRUE(c.ok()) << e["id"];
    auto info = resolve(*c, *bytes);
    ASSERT_FALSE(info.ok()) << e["id"];
    EXPECT_NE(info.error().message().find(e["expect_message"].get<std::string>()),
              std::string::npos)
        << e["id"] << ": " << info.error().message();
  }
  EXPECT_EQ(seen, ids.size());
}

TEST(ComponentResolver, HttpHelloWorldHasTheExpectedWorld) {
  auto bytes = readFile(kFixtures / "components/wasmcloud-wash/http_hello_world_rust.wasm");
  ASSERT_TRUE(bytes.ok());
  auto c = decode(*bytes);
  ASSERT_TRUE(c.ok());
  auto info = resolve(*c, *bytes);
  ASSERT_TRUE(info.ok()) << info.error().message();
  ASSERT_EQ(info->exports.size(), 1u);
  EXPECT_EQ(info->exports[0].first, "wasi:http/incoming-handler@0.2.0");
  const auto& handler = info->exports[0].second;
  ASSERT_EQ(handler.kind, ExternType::Kind::kInstance);
  bool found = false;
  for (const auto& [n, item] : handler.type->exports) {
    if (n != "handle") continue;
    found = true;
    ASSERT_EQ(item.kind, ExternType::Kind::kFunc);
    EXPECT_EQ(item.type->fields.size(), 2u);
    EXPECT_FALSE(item.type->result);
  }
  EXPECT_TRUE(found);
  bool has_types = false;
  for (const auto& [n, item] : info->imports) has_types |= n == "wasi:http/types@0.2.0";
  EXPECT_TRUE(has_types);
  EXPECT_GE(info->core_modules, 1u);
}

}  // namespace
}  // namespace cumulus::component

namespace cumulus::component {
namespace {

// Every input in fuzz/regressions/ (module and component fuzzer findings alike) is decoded and
// resolved without crashing; the ones found by the component fuzzer must be rejected.
TEST(ComponentFuzzRegressions, ReplayAll) {
  std::filesystem::path dir = std::filesystem::path(CUMULUS_SOURCE_DIR) / "fuzz" / "regressions";
  // A core module declaring 2^30 globals in a few bytes: the reader allocated 3 GiB.
  const std::set<std::string> must_reject = {"oom-7efa7d7bdb6ac6c5f059889346d78cb5b56e9821"};
  int n = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().filename() == ".gitkeep") continue;
    auto bytes = readFile(e.path());
    ASSERT_TRUE(bytes.ok());
    auto c = decode(*bytes);
    bool ok = c.ok() && resolve(*c, *bytes).ok();
    if (must_reject.count(e.path().filename().string()))
      EXPECT_FALSE(ok) << e.path().filename() << " was accepted";
    ++n;
  }
  EXPECT_GE(n, 3);
}

}  // namespace
}  // namespace cumulus::component
