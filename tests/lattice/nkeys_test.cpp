// nkeys encoding against published vectors (wasmCloud/nkeys and nats-io test data), round trips
// and rejection of malformed seeds.
#include "lattice/nkeys.h"

#include <gtest/gtest.h>

#include <string>

namespace cumulus::lattice {
namespace {

std::span<const uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(Nkeys, Crc16IsXmodem) {
  EXPECT_EQ(crc16(bytes("")), 0x0000);
  EXPECT_EQ(crc16(bytes("abc")), 0x9DD6);
  EXPECT_EQ(crc16(bytes("123456789")), 0x31C3);
}

TEST(Nkeys, Base32RoundTrip) {
  EXPECT_EQ(base32Encode(bytes("foobar")), "MZXW6YTBOI");
  auto back = base32Decode("MZXW6YTBOI");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(std::string(back->begin(), back->end()), "foobar");
  EXPECT_FALSE(base32Decode("MZXW1").ok());
}

// wasmCloud/nkeys src/lib.rs `roundtrip_encoding_go_compat` (a pair made by the Go library).
TEST(Nkeys, KnownVectorAccount) {
  auto pair = KeyPair::fromSeed("SAAPN4W3EG6KCJGUQTKTJ5GSB5NHK5CHAJL4DBGFUM3HHROI4XUEP4OBK4");
  ASSERT_TRUE(pair.ok()) << pair.error().message();
  EXPECT_EQ(pair->type(), KeyType::kAccount);
  EXPECT_EQ(pair->publicKey(), "ACODERUVFFAWZQDSS6SBIACUA5O6SXF7HJ3YTYXBALHZP3P7R4BUO4J2");
  EXPECT_EQ(pair->seed(), "SAAPN4W3EG6KCJGUQTKTJ5GSB5NHK5CHAJL4DBGFUM3HHROI4XUEP4OBK4");
}

// The user seed used across the NATS client test suites.
TEST(Nkeys, KnownVectorUser) {
  auto pair = KeyPair::fromSeed("SUAMLK2ZNL35WSMW37E7UD4VZ7ELPKW7DHC3BWBSD2GCZ7IUQQXZIORRBU");
  ASSERT_TRUE(pair.ok()) << pair.error().message();
  EXPECT_EQ(pair->type(), KeyType::kUser);
  EXPECT_EQ(pair->publicKey(), "UCK5N7N66OBOINFXAYC2ACJQYFSOD4VYNU6APEJTAVFZB2SVHLKGEW7L");
}

TEST(Nkeys, ServerKeyRoundTrip) {
  KeyPair host = KeyPair::generate(KeyType::kServer);
  std::string pk = host.publicKey();
  std::string seed = host.seed();
  EXPECT_EQ(pk.size(), 56u);
  EXPECT_EQ(pk[0], 'N');
  EXPECT_EQ(seed.size(), 58u);
  EXPECT_EQ(seed.substr(0, 2), "SN");
  auto again = KeyPair::fromSeed(seed, KeyType::kServer);
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(again->publicKey(), pk);
  EXPECT_TRUE(decodePublicKey(pk, KeyType::kServer).ok());
  EXPECT_FALSE(decodePublicKey(pk, KeyType::kAccount).ok());
}

TEST(Nkeys, SignVerify) {
  KeyPair key = KeyPair::generate(KeyType::kServer);
  auto sig = key.sign(bytes("hello"));
  EXPECT_EQ(sig.size(), 64u);
  EXPECT_TRUE(verifySignature(key.publicKey(), bytes("hello"), sig));
  EXPECT_FALSE(verifySignature(key.publicKey(), bytes("hellO"), sig));
}

TEST(Nkeys, RejectsBadSeeds) {
  const std::string good = "SAAPN4W3EG6KCJGUQTKTJ5GSB5NHK5CHAJL4DBGFUM3HHROI4XUEP4OBK4";
  // Wrong type for a host.
  EXPECT_FALSE(KeyPair::fromSeed(good, KeyType::kServer).ok());
  // Not a seed prefix.
  EXPECT_FALSE(KeyPair::fromSeed("F" + good.substr(1)).ok());
  // Bad length, bad characters.
  EXPECT_FALSE(KeyPair::fromSeed(good.substr(0, 57)).ok());
  EXPECT_FALSE(KeyPair::fromSeed("SAAPN4W3EG6KCJGUQTKTJ5!#B5NHK5CHAJL4DBGFUM3HHROI4XUEP4OBK4").ok());
  // A flipped character breaks the checksum.
  std::string flipped = good;
  flipped[20] = flipped[20] == 'A' ? 'B' : 'A';
  auto r = KeyPair::fromSeed(flipped);
  ASSERT_FALSE(r.ok());
}

}  // namespace
}  // namespace cumulus::lattice
