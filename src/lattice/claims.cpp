// wascap component claims; see claims.h. The section walk is written here because it must
// reproduce wascap's exact byte stream for the hash (no wasm library re-encodes that way).
#include "lattice/claims.h"

#include <sodium.h>

#include "base/hash.h"
#include "lattice/nkeys.h"

namespace cumulus::lattice {
namespace {

constexpr uint8_t kCustomSection = 0;
constexpr uint8_t kCoreModuleSection = 1;  // in a component
constexpr uint8_t kComponentSection = 4;   // in a component

bool isJwtSection(std::string_view name) { return name == "wasmcloud_jwt" || name == "jwt"; }

Expected<uint32_t> readLeb(std::span<const uint8_t> data, size_t& pos) {
  uint64_t value = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    if (pos >= data.size()) return makeError(ErrorCode::kInvalidArgument, "truncated wasm binary");
    uint8_t b = data[pos++];
    value |= uint64_t{b & 0x7fu} << shift;
    if (!(b & 0x80)) {
      if (value > UINT32_MAX) break;
      return static_cast<uint32_t>(value);
    }
  }
  return makeError(ErrorCode::kInvalidArgument, "bad LEB128 in wasm binary");
}

void writeLeb(uint32_t v, std::vector<uint8_t>& out) {
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    out.push_back(v ? (b | 0x80) : b);
  } while (v);
}

// Calls `fn(id, body)` for each section of a module or component binary.
template <typename Fn>
Expected<void> forEachSection(std::span<const uint8_t> wasm, Fn&& fn) {
  if (wasm.size() < 8 || wasm[0] != 0 || wasm[1] != 'a' || wasm[2] != 's' || wasm[3] != 'm') {
    return makeError(ErrorCode::kInvalidArgument, "not a wasm binary");
  }
  size_t pos = 8;
  while (pos < wasm.size()) {
    uint8_t id = wasm[pos++];
    CUMULUS_TRY(uint32_t size, readLeb(wasm, pos));
    if (size > wasm.size() - pos) return makeError(ErrorCode::kInvalidArgument, "truncated section");
    CUMULUS_TRY_VOID(fn(id, wasm.subspan(pos, size)));
    pos += size;
  }
  return {};
}

Expected<std::string_view> customName(std::span<const uint8_t> body, size_t& pos) {
  CUMULUS_TRY(uint32_t len, readLeb(body, pos));
  if (len > body.size() - pos) return makeError(ErrorCode::kInvalidArgument, "bad custom section name");
  std::string_view name(reinterpret_cast<const char*>(body.data() + pos), len);
  pos += len;
  return name;
}

Expected<std::vector<uint8_t>> strip(std::span<const uint8_t> wasm) {
  std::vector<uint8_t> out(wasm.begin(), wasm.begin() + std::min<size_t>(8, wasm.size()));
  bool component = wasm.size() >= 8 && wasm[6] == 1;  // layer 1
  CUMULUS_TRY_VOID(forEachSection(wasm, [&](uint8_t id, std::span<const uint8_t> body) -> Expected<void> {
    if (id == kCustomSection) {
      size_t p = 0;
      CUMULUS_TRY(auto name, customName(body, p));
      if (isJwtSection(name)) return {};
    }
    if (component && (id == kCoreModuleSection || id == kComponentSection)) {
      CUMULUS_TRY(auto inner, strip(body));
      out.push_back(id);
      writeLeb(static_cast<uint32_t>(inner.size()), out);
      out.insert(out.end(), inner.begin(), inner.end());
      return {};
    }
    out.push_back(id);
    writeLeb(static_cast<uint32_t>(body.size()), out);
    out.insert(out.end(), body.begin(), body.end());
    return {};
  }));
  return out;
}

Expected<std::string> base64UrlDecode(std::string_view text, std::string_view what) {
  std::string out(text.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
    return makeError(ErrorCode::kInvalidArgument, "claims: the JWT {} is not base64url", what);
  }
  out.resize(len);
  return out;
}

std::string humanTime(const std::optional<uint64_t>& t, const char* never) {
  if (!t) return never;
  time_t tt = static_cast<time_t>(*t);
  char buf[64];
  std::tm tm{};
  gmtime_r(&tt, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

}  // namespace

nlohmann::json ComponentClaims::stored() const {
  return {{"call_alias", call_alias}, {"issuer", issuer},   {"name", name}, {"revision", revision},
          {"subject", subject},       {"tags", tags},       {"version", version}};
}

ComponentClaims ComponentClaims::fromStored(const nlohmann::json& j) {
  ComponentClaims c;
  auto str = [&](const char* a, const char* b) {
    for (const char* k : {a, b}) {
      if (k && j.contains(k) && j[k].is_string()) return j[k].get<std::string>();
    }
    return std::string();
  };
  c.issuer = str("issuer", "iss");
  c.subject = str("subject", "sub");
  c.name = str("name", nullptr);
  c.version = str("version", nullptr);
  c.call_alias = str("call_alias", nullptr);
  for (const char* k : {"revision", "rev"}) {
    if (j.contains(k) && j[k].is_number_integer()) c.revision = j[k].get<int32_t>();
  }
  if (j.contains("tags") && j["tags"].is_array()) {
    for (const auto& t : j["tags"]) {
      if (t.is_string()) c.tags.push_back(t.get<std::string>());
    }
  }
  return c;
}

nlohmann::json ComponentClaims::ctlEntry() const {
  std::string joined;
  for (const auto& t : tags) joined += (joined.empty() ? "" : ",") + t;
  return {{"call_alias", call_alias}, {"iss", issuer}, {"issuer", issuer}, {"name", name},
          {"rev", std::to_string(revision)}, {"revision", std::to_string(revision)},
          {"sub", subject}, {"subject", subject}, {"tags", joined}, {"version", version}};
}

nlohmann::json ComponentClaims::event() const {
  return {{"call_alias", call_alias}, {"issuer", issuer}, {"tags", tags}, {"name", name},
          {"version", version}, {"revision", revision},
          {"not_before_human", humanTime(not_before, "immediately")},
          {"expires_human", humanTime(expires, "never")}};
}

std::optional<std::string> embeddedJwt(std::span<const uint8_t> wasm) {
  std::optional<std::string> jwt;
  (void)forEachSection(wasm, [&](uint8_t id, std::span<const uint8_t> body) -> Expected<void> {
    if (id != kCustomSection || jwt) return {};
    size_t p = 0;
    auto name = customName(body, p);
    if (name.ok() && isJwtSection(*name)) jwt.emplace(reinterpret_cast<const char*>(body.data() + p), body.size() - p);
    return {};
  });
  return jwt;
}

Expected<std::string> wascapHash(std::span<const uint8_t> wasm) {
  CUMULUS_TRY(auto stripped, strip(wasm));
  std::string hex = toHex(sha256(stripped));
  for (char& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return hex;
}

Expected<ComponentClaims> verifyComponentClaims(const std::string& jwt, std::span<const uint8_t> wasm,
                                                uint64_t now) {
  size_t d1 = jwt.find('.'), d2 = d1 == std::string::npos ? d1 : jwt.find('.', d1 + 1);
  if (d2 == std::string::npos) return makeError(ErrorCode::kInvalidArgument, "claims: the embedded JWT is malformed");
  CUMULUS_TRY(auto header_text, base64UrlDecode(std::string_view(jwt).substr(0, d1), "header"));
  CUMULUS_TRY(auto payload_text, base64UrlDecode(std::string_view(jwt).substr(d1 + 1, d2 - d1 - 1), "payload"));
  CUMULUS_TRY(auto signature, base64UrlDecode(std::string_view(jwt).substr(d2 + 1), "signature"));
  auto header = nlohmann::json::parse(header_text, nullptr, false);
  auto payload = nlohmann::json::parse(payload_text, nullptr, false);
  if (!header.is_object() || !payload.is_object() || !payload.contains("wascap") ||
      !payload["wascap"].is_object()) {
    return makeError(ErrorCode::kInvalidArgument, "claims: the embedded JWT is not a wascap token");
  }
  if (header.value("alg", "") != "Ed25519") {
    return makeError(ErrorCode::kInvalidArgument, "claims: unsupported JWT algorithm '{}'", header.value("alg", ""));
  }
  ComponentClaims c;
  try {
    c.issuer = payload.at("iss").get<std::string>();
    c.subject = payload.at("sub").get<std::string>();
    c.issued_at = payload.value("iat", uint64_t{0});
    if (payload.contains("exp") && payload["exp"].is_number()) c.expires = payload["exp"].get<uint64_t>();
    if (payload.contains("nbf") && payload["nbf"].is_number()) c.not_before = payload["nbf"].get<uint64_t>();
    const auto& w = payload["wascap"];
    c.name = w.value("name", "");
    c.version = w.value("ver", "");
    c.revision = w.value("rev", 0);
    c.call_alias = w.value("call_alias", "");
    if (w.contains("tags") && w["tags"].is_array()) c.tags = w["tags"].get<std::vector<std::string>>();
    std::string signed_part = jwt.substr(0, d2);
    if (!decodePublicKey(c.issuer, KeyType::kAccount).ok()) {
      return makeError(ErrorCode::kInvalidArgument, "claims: issuer '{}' is not an account key", c.issuer);
    }
    if (!decodePublicKey(c.subject, KeyType::kModule).ok()) {
      return makeError(ErrorCode::kInvalidArgument, "claims: subject '{}' is not a component key", c.subject);
    }
    if (!verifySignature(c.issuer,
                         std::span(reinterpret_cast<const uint8_t*>(signed_part.data()), signed_part.size()),
                         std::span(reinterpret_cast<const uint8_t*>(signature.data()), signature.size()))) {
      return makeError(ErrorCode::kInvalidArgument, "claims: the JWT signature does not verify against issuer {}",
                       c.issuer);
    }
    CUMULUS_TRY(auto hash, wascapHash(wasm));
    if (hash != w.value("hash", "")) {
      return makeError(ErrorCode::kInvalidArgument,
                       "claims: the component was modified after signing (hash {} != signed {})", hash,
                       w.value("hash", ""));
    }
  } catch (const nlohmann::json::exception& e) {
    return makeError(ErrorCode::kInvalidArgument, "claims: malformed JWT payload: {}", e.what());
  }
  if (c.expires && now >= *c.expires) {
    return makeError(ErrorCode::kInvalidArgument, "claims: the token expired at {}", humanTime(c.expires, ""));
  }
  if (c.not_before && now < *c.not_before) {
    return makeError(ErrorCode::kInvalidArgument, "claims: the token is not valid before {}",
                     humanTime(c.not_before, ""));
  }
  return c;
}

}  // namespace cumulus::lattice
