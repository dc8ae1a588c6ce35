// Component decoder tests over material written by others (../shared/fixtures).
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "base/file.h"
#include "component/decoder.h"

namespace cumulus::component {
namespace {

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
      EXPECT_TRUE(c.ok()) << f.path() << ": " << (c.ok() ? "" : c.error().message());
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

}  // namespace
}  // namespace cumulus::component
