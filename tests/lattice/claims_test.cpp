// wascap claims: the signed wasmCloud fixtures verify (signature, hash over the binary without its
// jwt section, re-encoded as wascap does), tampering and expiry are caught, and a token we sign
// ourselves round-trips.
#include <gtest/gtest.h>
#include <sodium.h>

#include "base/file.h"
#include "lattice/claims.h"
#include "lattice/nkeys.h"

namespace cumulus::lattice {
namespace {

const std::string kWash = std::string(CUMULUS_FIXTURES) + "/components/wasmcloud-wash/";

std::vector<uint8_t> load(const std::string& path) {
  auto bytes = readFile(path);
  EXPECT_TRUE(bytes.ok()) << path;
  return bytes.ok() ? *bytes : std::vector<uint8_t>{};
}

std::string b64url(std::string_view data) {
  std::string out(sodium_base64_encoded_len(data.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(data.data()),
                    data.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::strlen(out.c_str()));
  return out;
}

// Appends a `wasmcloud_jwt` custom section to `wasm`.
std::vector<uint8_t> embed(std::vector<uint8_t> wasm, const std::string& jwt) {
  std::string name = "wasmcloud_jwt";
  std::vector<uint8_t> body = {static_cast<uint8_t>(name.size())};
  body.insert(body.end(), name.begin(), name.end());
  body.insert(body.end(), jwt.begin(), jwt.end());
  wasm.push_back(0);
  uint32_t n = static_cast<uint32_t>(body.size());
  do {
    uint8_t b = n & 0x7f;
    n >>= 7;
    wasm.push_back(n ? (b | 0x80) : b);
  } while (n);
  wasm.insert(wasm.end(), body.begin(), body.end());
  return wasm;
}

std::string sign(const KeyPair& account, const KeyPair& component, const std::string& hash,
                 std::optional<uint64_t> exp) {
  nlohmann::json payload = {{"jti", "test"}, {"iat", 1700000000}, {"iss", account.publicKey()},
                            {"sub", component.publicKey()},
                            {"wascap", {{"name", "mine"}, {"hash", hash}, {"tags", {"a", "b"}},
                                        {"rev", 7}, {"ver", "1.2.3"}, {"prov", false}}},
                            {"wascap_revision", 3}};
  if (exp) payload["exp"] = *exp;
  std::string head = b64url(R"({"typ":"jwt","alg":"Ed25519"})") + "." + b64url(payload.dump());
  auto sig = account.sign(std::span(reinterpret_cast<const uint8_t*>(head.data()), head.size()));
  return head + "." + b64url(std::string_view(reinterpret_cast<const char*>(sig.data()), sig.size()));
}

TEST(Claims, WasmCloudSignedFixturesVerify) {
  auto rust = load(kWash + "http_hello_world_rust.wasm");
  auto jwt = embeddedJwt(rust);
  ASSERT_TRUE(jwt);
  auto c = verifyComponentClaims(*jwt, rust, 1800000000);
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->name, "http-hello-world");
  EXPECT_EQ(c->subject, "MBFFVNGFK3IA2ZXXG5DQXQNYM6TNG45PHJMJIJFVFI6YKS3XTXL3DRRK");
  EXPECT_EQ(c->issuer, "ADVIWF6Z3BFZNWUXJYT5NEAZZ2YX4T6NRKI3YOR3HKOSQQN7IVDGWSNO");
  EXPECT_EQ(c->version, "0.1.0");
  EXPECT_EQ(c->tags, std::vector<std::string>{"wasmcloud.com/experimental"});
  auto entry = c->ctlEntry();
  EXPECT_EQ(entry["iss"], entry["issuer"]);
  EXPECT_EQ(entry["rev"], "0");
  EXPECT_EQ(entry["tags"], "wasmcloud.com/experimental");
  EXPECT_EQ(ComponentClaims::fromStored(c->stored()).ctlEntry(), entry);

  auto loop = load(std::string(CUMULUS_FIXTURES) + "/components/wasmcloud-legacy/signed_loop.wasm");
  auto loop_jwt = embeddedJwt(loop);
  ASSERT_TRUE(loop_jwt);
  auto lc = verifyComponentClaims(*loop_jwt, loop, 1800000000);
  ASSERT_TRUE(lc.ok()) << lc.error().message();
  EXPECT_EQ(lc->name, "Secure Actor");
}

TEST(Claims, TamperingIsCaught) {
  auto rust = load(kWash + "http_hello_world_rust.wasm");
  auto jwt = *embeddedJwt(rust);
  auto modified = rust;
  modified[modified.size() / 3] ^= 0x01;  // inside the code, far from the jwt section
  auto c = verifyComponentClaims(jwt, modified, 1800000000);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message().find("modified after signing"), std::string::npos);
  std::string bad_sig = jwt;
  bad_sig[bad_sig.size() - 5] = bad_sig[bad_sig.size() - 5] == 'A' ? 'B' : 'A';
  auto s = verifyComponentClaims(bad_sig, rust, 1800000000);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("signature"), std::string::npos);
  EXPECT_FALSE(verifyComponentClaims("not.a.jwt", rust, 0).ok());
  EXPECT_FALSE(verifyComponentClaims("garbage", rust, 0).ok());
}

TEST(Claims, OwnTokensRoundTripAndExpire) {
  auto unsigned_bytes = load(kWash + "inter_component_call_callee.wasm");
  EXPECT_FALSE(embeddedJwt(unsigned_bytes));
  auto account = KeyPair::generate(KeyType::kAccount);
  auto component = KeyPair::generate(KeyType::kModule);
  auto hash = wascapHash(unsigned_bytes);
  ASSERT_TRUE(hash.ok());
  auto signed_bytes = embed(unsigned_bytes, sign(account, component, *hash, 1750000000));
  auto jwt = embeddedJwt(signed_bytes);
  ASSERT_TRUE(jwt);
  EXPECT_EQ(*wascapHash(signed_bytes), *hash);  // the jwt section is not part of the hash
  auto c = verifyComponentClaims(*jwt, signed_bytes, 1740000000);
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->revision, 7);
  EXPECT_EQ(c->subject, component.publicKey());
  auto expired = verifyComponentClaims(*jwt, signed_bytes, 1760000000);
  ASSERT_FALSE(expired.ok());
  EXPECT_NE(expired.error().message().find("expired"), std::string::npos);
}

}  // namespace
}  // namespace cumulus::lattice
