// Host identity; see identity.h.
#include "host/identity.h"

#include <sodium.h>

#include <array>

namespace cumulus::host {

std::string makeFriendlyName() {
  static constexpr std::array<const char*, 16> kAdjectives = {
      "amber", "autumn", "bold",   "calm",  "crimson", "dawn",   "frosty", "gentle",
      "hidden", "lively", "misty", "quiet", "rapid",   "silent", "summer", "wild"};
  static constexpr std::array<const char*, 16> kNouns = {
      "brook", "cloud", "dew",   "field", "forest", "glade", "harbor", "lake",
      "meadow", "mist", "pine", "river", "shadow", "stone", "timber", "wave"};
  if (sodium_init() < 0) std::abort();
  return fmt::format("{}-{}-{:04}", kAdjectives[randombytes_uniform(kAdjectives.size())],
                     kNouns[randombytes_uniform(kNouns.size())], randombytes_uniform(10000));
}

std::map<std::string, std::string> builtinLabels() {
#if defined(__x86_64__)
  const char* arch = "x86_64";
#elif defined(__aarch64__)
  const char* arch = "aarch64";
#else
  const char* arch = "unknown";
#endif
  return {{"hostcore.arch", arch}, {"hostcore.os", "linux"}, {"hostcore.osfamily", "unix"}};
}

Expected<std::pair<std::string, std::string>> parseLabel(std::string_view text) {
  size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return makeError(ErrorCode::kInvalidArgument, "label '{}': expected key=value", text);
  }
  std::string key(text.substr(0, eq));
  if (key.starts_with("hostcore.")) {
    return makeError(ErrorCode::kInvalidArgument,
                     "label '{}': keys starting with 'hostcore.' are reserved for the host", key);
  }
  return std::pair{key, std::string(text.substr(eq + 1))};
}

Expected<lattice::KeyPair> hostKey(std::string_view seed) {
  if (seed.empty()) return lattice::KeyPair::generate(lattice::KeyType::kServer);
  auto key = lattice::KeyPair::fromSeed(seed, lattice::KeyType::kServer);
  if (!key.ok()) {
    return makeError(ErrorCode::kInvalidArgument,
                     "--host-seed: {} (a host seed starts with \"SN\"; `cumulus host` without "
                     "--host-seed generates one)",
                     key.error().message());
  }
  return key;
}

}  // namespace cumulus::host
