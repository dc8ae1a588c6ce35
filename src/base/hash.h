// SHA-256 (libsodium) for content addressing: code-cache keys, module identity.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace cumulus {

using Sha256 = std::array<uint8_t, 32>;

Sha256 sha256(std::span<const uint8_t> data);
std::string toHex(std::span<const uint8_t> data);
// Incremental hashing for keys built from several parts.
class Sha256Builder {
 public:
  Sha256Builder();
  Sha256Builder& add(std::span<const uint8_t> data);
  Sha256Builder& add(std::string_view text);
  Sha256 finish();

 private:
  alignas(64) unsigned char state_[128];
};

}  // namespace cumulus
