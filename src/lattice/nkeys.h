// NATS nkeys: Ed25519 key pairs (libsodium) in the nkeys text encoding that wasmCloud uses for
// host ids ("N…", seeds "SN…"), account, component and provider keys.
//
// Encoding (as defined by github.com/nats-io/nkeys): a public key is base32 (RFC 4648 alphabet,
// no padding) of [prefix byte][32-byte Ed25519 public key][CRC-16 little endian]; a seed is
// base32 of [b1][b2][32-byte Ed25519 seed][CRC-16 LE] where b1 = 'S' prefix (18 << 3) | type >> 5
// and b2 = (type & 31) << 3, so the text starts "S" + the type letter. The CRC is CRC-16/XMODEM
// (polynomial 0x1021, initial value 0) over the bytes before it.
//
// Thread-safety: KeyPair is an immutable value; its seed bytes are wiped on destruction.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace cumulus::lattice {

// The prefix byte of each key type (the first base32 character of the public key).
enum class KeyType : uint8_t {
  kAccount = 0,         // A
  kCluster = 2 << 3,    // C
  kModule = 12 << 3,    // M (component)
  kServer = 13 << 3,    // N (host)
  kOperator = 14 << 3,  // O
  kUser = 20 << 3,      // U
  kService = 21 << 3,   // V (provider)
};
const char* keyTypeName(KeyType type);

class KeyPair {
 public:
  // A fresh key pair from the system's secure random source.
  static KeyPair generate(KeyType type);
  // Decodes and validates an encoded seed ("S…"): length, base32, checksum, prefixes.
  static Expected<KeyPair> fromSeed(std::string_view seed);
  // Like fromSeed, and the key must be of `type` (for example a host seed must be "SN…").
  static Expected<KeyPair> fromSeed(std::string_view seed, KeyType type);

  KeyPair(const KeyPair& other) = default;
  KeyPair& operator=(const KeyPair& other) = default;
  ~KeyPair();

  KeyType type() const { return type_; }
  std::string publicKey() const;
  std::string seed() const;
  std::array<uint8_t, 32> rawPublicKey() const { return public_; }
  // Ed25519 detached signature (64 bytes).
  std::vector<uint8_t> sign(std::span<const uint8_t> message) const;

 private:
  KeyPair(KeyType type, const std::array<uint8_t, 32>& seed);
  KeyType type_;
  std::array<uint8_t, 32> seed_{};
  std::array<uint8_t, 32> public_{};
};

// Decodes an encoded public key of `type` into its 32 raw bytes.
Expected<std::array<uint8_t, 32>> decodePublicKey(std::string_view key, KeyType type);
// Verifies an Ed25519 signature against an encoded public key of any type.
bool verifySignature(std::string_view public_key, std::span<const uint8_t> message,
                     std::span<const uint8_t> signature);

// Building blocks, exposed for tests.
uint16_t crc16(std::span<const uint8_t> data);
std::string base32Encode(std::span<const uint8_t> data);
Expected<std::vector<uint8_t>> base32Decode(std::string_view text);

}  // namespace cumulus::lattice
