// nkeys encoding and Ed25519 key pairs; see nkeys.h for the format.
#include "lattice/nkeys.h"

#include <sodium.h>

namespace cumulus::lattice {
namespace {

constexpr uint8_t kPrefixSeed = 18 << 3;  // 'S'
constexpr size_t kEncodedSeedLength = 58;
constexpr size_t kEncodedPublicLength = 56;
constexpr const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

void initSodium() {
  // sodium_init is idempotent and thread-safe; < 0 means no usable entropy source.
  if (sodium_init() < 0) std::abort();
}

bool knownType(uint8_t prefix) {
  switch (static_cast<KeyType>(prefix)) {
    case KeyType::kAccount:
    case KeyType::kCluster:
    case KeyType::kModule:
    case KeyType::kServer:
    case KeyType::kOperator:
    case KeyType::kUser:
    case KeyType::kService:
      return true;
  }
  return false;
}

void appendCrc(std::vector<uint8_t>& raw) {
  uint16_t crc = crc16(raw);
  raw.push_back(static_cast<uint8_t>(crc & 0xff));
  raw.push_back(static_cast<uint8_t>(crc >> 8));
}

// Base32-decodes `text` and checks and strips the trailing CRC.
Expected<std::vector<uint8_t>> decodeChecked(std::string_view text) {
  CUMULUS_TRY(auto raw, base32Decode(text));
  if (raw.size() < 3) return makeError(ErrorCode::kInvalidArgument, "nkey is too short");
  uint16_t want = static_cast<uint16_t>(raw[raw.size() - 2] | (raw[raw.size() - 1] << 8));
  raw.resize(raw.size() - 2);
  if (crc16(raw) != want) return makeError(ErrorCode::kInvalidArgument, "nkey checksum mismatch");
  return raw;
}

}  // namespace

const char* keyTypeName(KeyType type) {
  switch (type) {
    case KeyType::kAccount: return "account";
    case KeyType::kCluster: return "cluster";
    case KeyType::kModule: return "module";
    case KeyType::kServer: return "server";
    case KeyType::kOperator: return "operator";
    case KeyType::kUser: return "user";
    case KeyType::kService: return "service";
  }
  return "unknown";
}

uint16_t crc16(std::span<const uint8_t> data) {
  uint16_t crc = 0;
  for (uint8_t byte : data) {
    crc ^= static_cast<uint16_t>(byte) << 8;
    for (int i = 0; i < 8; ++i) {
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021) : static_cast<uint16_t>(crc << 1);
    }
  }
  return crc;
}

std::string base32Encode(std::span<const uint8_t> data) {
  std::string out;
  out.reserve((data.size() * 8 + 4) / 5);
  uint32_t buffer = 0;
  int bits = 0;
  for (uint8_t byte : data) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kAlphabet[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 31]);
  return out;
}

Expected<std::vector<uint8_t>> base32Decode(std::string_view text) {
  std::vector<uint8_t> out;
  out.reserve(text.size() * 5 / 8);
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    uint32_t v;
    if (c >= 'A' && c <= 'Z') {
      v = static_cast<uint32_t>(c - 'A');
    } else if (c >= '2' && c <= '7') {
      v = static_cast<uint32_t>(c - '2' + 26);
    } else {
      return makeError(ErrorCode::kInvalidArgument, "invalid base32 character '{}' in nkey", c);
    }
    buffer = (buffer << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<uint8_t>(buffer >> (bits - 8)));
      bits -= 8;
    }
  }
  return out;
}

KeyPair::KeyPair(KeyType type, const std::array<uint8_t, 32>& seed) : type_(type), seed_(seed) {
  initSodium();
  std::array<uint8_t, crypto_sign_SECRETKEYBYTES> secret{};
  crypto_sign_seed_keypair(public_.data(), secret.data(), seed_.data());
  sodium_memzero(secret.data(), secret.size());
}

KeyPair::~KeyPair() { sodium_memzero(seed_.data(), seed_.size()); }

KeyPair KeyPair::generate(KeyType type) {
  initSodium();
  std::array<uint8_t, 32> seed{};
  randombytes_buf(seed.data(), seed.size());
  KeyPair pair(type, seed);
  sodium_memzero(seed.data(), seed.size());
  return pair;
}

Expected<KeyPair> KeyPair::fromSeed(std::string_view seed) {
  if (seed.size() != kEncodedSeedLength) {
    return makeError(ErrorCode::kInvalidArgument,
                     "an nkey seed has {} characters, this one has {}", kEncodedSeedLength,
                     seed.size());
  }
  CUMULUS_TRY(auto raw, decodeChecked(seed));
  if (raw.size() != 34 || (raw[0] & 0xf8) != kPrefixSeed) {
    return makeError(ErrorCode::kInvalidArgument, "not an nkey seed (seeds start with 'S')");
  }
  uint8_t prefix = static_cast<uint8_t>(((raw[0] & 7) << 5) | ((raw[1] & 0xf8) >> 3));
  if (!knownType(prefix)) {
    return makeError(ErrorCode::kInvalidArgument, "nkey seed has an unknown key type");
  }
  std::array<uint8_t, 32> bytes{};
  std::copy(raw.begin() + 2, raw.end(), bytes.begin());
  sodium_memzero(raw.data(), raw.size());
  KeyPair pair(static_cast<KeyType>(prefix), bytes);
  sodium_memzero(bytes.data(), bytes.size());
  return pair;
}

Expected<KeyPair> KeyPair::fromSeed(std::string_view seed, KeyType type) {
  CUMULUS_TRY(auto pair, fromSeed(seed));
  if (pair.type() != type) {
    return makeError(ErrorCode::kInvalidArgument, "nkey seed is a {} key, expected a {} key",
                     keyTypeName(pair.type()), keyTypeName(type));
  }
  return pair;
}

std::string KeyPair::publicKey() const {
  std::vector<uint8_t> raw;
  raw.push_back(static_cast<uint8_t>(type_));
  raw.insert(raw.end(), public_.begin(), public_.end());
  appendCrc(raw);
  return base32Encode(raw);
}

std::string KeyPair::seed() const {
  uint8_t prefix = static_cast<uint8_t>(type_);
  std::vector<uint8_t> raw;
  raw.push_back(static_cast<uint8_t>(kPrefixSeed | (prefix >> 5)));
  raw.push_back(static_cast<uint8_t>((prefix & 31) << 3));
  raw.insert(raw.end(), seed_.begin(), seed_.end());
  appendCrc(raw);
  std::string text = base32Encode(raw);
  sodium_memzero(raw.data(), raw.size());
  return text;
}

std::vector<uint8_t> KeyPair::sign(std::span<const uint8_t> message) const {
  std::array<uint8_t, crypto_sign_PUBLICKEYBYTES> pk{};
  std::array<uint8_t, crypto_sign_SECRETKEYBYTES> sk{};
  crypto_sign_seed_keypair(pk.data(), sk.data(), seed_.data());
  std::vector<uint8_t> sig(crypto_sign_BYTES);
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), sk.data());
  sodium_memzero(sk.data(), sk.size());
  return sig;
}

Expected<std::array<uint8_t, 32>> decodePublicKey(std::string_view key, KeyType type) {
  if (key.size() != kEncodedPublicLength) {
    return makeError(ErrorCode::kInvalidArgument, "an nkey public key has {} characters, got {}",
                     kEncodedPublicLength, key.size());
  }
  CUMULUS_TRY(auto raw, decodeChecked(key));
  if (raw.size() != 33 || raw[0] != static_cast<uint8_t>(type)) {
    return makeError(ErrorCode::kInvalidArgument, "not a {} public key", keyTypeName(type));
  }
  std::array<uint8_t, 32> out{};
  std::copy(raw.begin() + 1, raw.end(), out.begin());
  return out;
}

bool verifySignature(std::string_view public_key, std::span<const uint8_t> message,
                     std::span<const uint8_t> signature) {
  if (public_key.empty() || signature.size() != crypto_sign_BYTES) return false;
  auto raw = decodeChecked(public_key);
  if (!raw.ok() || raw->size() != 33 || !knownType((*raw)[0])) return false;
  initSodium();
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                     raw->data() + 1) == 0;
}

}  // namespace cumulus::lattice
