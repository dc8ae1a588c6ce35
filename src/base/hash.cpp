// SHA-256 via libsodium (see hash.h).
#include "base/hash.h"

#include <cstring>

#include <sodium.h>

namespace cumulus {

static_assert(sizeof(crypto_hash_sha256_state) <= 128);

Sha256 sha256(std::span<const uint8_t> data) {
  Sha256 out;
  crypto_hash_sha256(out.data(), data.data(), data.size());
  return out;
}

std::string toHex(std::span<const uint8_t> data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(data.size() * 2);
  for (uint8_t b : data) {
    s.push_back(kDigits[b >> 4]);
    s.push_back(kDigits[b & 15]);
  }
  return s;
}

Sha256Builder::Sha256Builder() {
  crypto_hash_sha256_init(reinterpret_cast<crypto_hash_sha256_state*>(state_));
}

Sha256Builder& Sha256Builder::add(std::span<const uint8_t> data) {
  crypto_hash_sha256_update(reinterpret_cast<crypto_hash_sha256_state*>(state_), data.data(),
                            data.size());
  return *this;
}

Sha256Builder& Sha256Builder::add(std::string_view text) {
  // Length-prefix each part so ("ab","c") and ("a","bc") hash differently.
  uint64_t n = text.size();
  add(std::span(reinterpret_cast<const uint8_t*>(&n), sizeof n));
  return add(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

Sha256 Sha256Builder::finish() {
  Sha256 out;
  crypto_hash_sha256_final(reinterpret_cast<crypto_hash_sha256_state*>(state_), out.data());
  return out;
}

}  // namespace cumulus
