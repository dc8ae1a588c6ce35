// Fetching a component's bytes from its reference (PROTOCOL.md §7.3): `file:///abs/path.wasm` and
// plain paths (only when file loading is allowed, as wasmCloud's --allow-file-load), and
// `http://` / `https://` URLs (libcurl). OCI references are rejected with a clear error until
// the OCI issue lands.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"

namespace cumulus::host {

struct FetchOptions {
  bool allow_file_load = false;
  uint64_t max_bytes = 50ull << 20;
};

Expected<std::vector<uint8_t>> fetchComponent(const std::string& ref, const FetchOptions& options);

}  // namespace cumulus::host
