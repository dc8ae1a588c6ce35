// wascap claims embedded in components (PROTOCOL.md §7.6): a JWT in a custom section named
// `wasmcloud_jwt` (older artifacts: `jwt`), signed Ed25519 by an account key ("A…") about a
// component key ("M…"), whose `wascap.hash` is the uppercase hex SHA-256 of the component with
// those sections removed (at every nesting level; nested modules and components re-encoded with
// minimal LEB128 sizes, as wascap computes it).
//
// wasmCloud 1.x validates claims only when a token is present: unsigned components run. Cumulus
// does the same; a present but invalid token (bad signature, hash mismatch, expired, not yet
// valid) refuses the component with a message saying which.
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace cumulus::lattice {

struct ComponentClaims {
  std::string issuer;   // iss: account public key
  std::string subject;  // sub: component public key
  std::string name;
  std::vector<std::string> tags;
  int32_t revision = 0;
  std::string version;
  std::string call_alias;
  uint64_t issued_at = 0;
  std::optional<uint64_t> expires;     // exp, seconds since the epoch
  std::optional<uint64_t> not_before;  // nbf

  // The `CLAIMS_{subject}` value in LATTICEDATA (call_alias, issuer, name, revision, subject,
  // tags, version).
  nlohmann::json stored() const;
  // Back from a stored value (readers also accept iss/rev/sub); fields missing stay empty.
  static ComponentClaims fromStored(const nlohmann::json& j);
  // One entry of ctl claims.get: strings only; iss/rev/sub duplicate issuer/revision/subject.
  nlohmann::json ctlEntry() const;
  // The `claims` object of component_scaled events.
  nlohmann::json event() const;
};

// The embedded token, if the component carries one.
std::optional<std::string> embeddedJwt(std::span<const uint8_t> wasm);
// Uppercase hex SHA-256 of the binary without its jwt sections.
Expected<std::string> wascapHash(std::span<const uint8_t> wasm);
// Decodes and verifies `jwt` against `wasm` at time `now` (seconds since the epoch).
Expected<ComponentClaims> verifyComponentClaims(const std::string& jwt, std::span<const uint8_t> wasm,
                                                uint64_t now);

}  // namespace cumulus::lattice
