// Component references; see fetch.h.
#include "host/fetch.h"

#include <curl/curl.h>

#include "base/file.h"

namespace cumulus::host {
namespace {

bool startsWith(const std::string& s, std::string_view p) { return s.rfind(p, 0) == 0; }

struct Download {
  std::vector<uint8_t> bytes;
  uint64_t max = 0;
  bool too_big = false;
};

size_t onData(char* data, size_t size, size_t n, void* user) {
  auto* d = static_cast<Download*>(user);
  size_t len = size * n;
  if (d->bytes.size() + len > d->max) {
    d->too_big = true;
    return 0;  // aborts the transfer
  }
  d->bytes.insert(d->bytes.end(), data, data + len);
  return len;
}

Expected<std::vector<uint8_t>> fetchHttp(const std::string& url, uint64_t max_bytes) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return makeError(ErrorCode::kInternal, "libcurl could not start a transfer");
  Download d;
  d.max = max_bytes;
  char errbuf[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, 300000L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, onData);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &d);
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, errbuf);
  CURLcode rc = curl_easy_perform(curl.get());
  if (d.too_big) {
    return makeError(ErrorCode::kResourceLimit, "{} is larger than the {} byte component limit",
                     url, max_bytes);
  }
  if (rc != CURLE_OK) {
    return makeError(ErrorCode::kIo, "fetching {}: {}", url,
                     errbuf[0] ? errbuf : curl_easy_strerror(rc));
  }
  long status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status >= 300) {
    return makeError(ErrorCode::kNotFound, "fetching {}: HTTP status {}", url, status);
  }
  return std::move(d.bytes);
}

}  // namespace

Expected<std::vector<uint8_t>> fetchComponent(const std::string& ref, const FetchOptions& options) {
  if (ref.empty()) return makeError(ErrorCode::kInvalidArgument, "empty component reference");
  if (startsWith(ref, "http://") || startsWith(ref, "https://")) {
    return fetchHttp(ref, options.max_bytes);
  }
  std::string path;
  if (startsWith(ref, "file://")) {
    path = ref.substr(7);
  } else if (startsWith(ref, "/") || startsWith(ref, "./") || startsWith(ref, "../")) {
    path = ref;
  } else if (startsWith(ref, "wasmcloud+builtin://")) {
    return makeError(ErrorCode::kInvalidArgument, "{} names a builtin provider, not a component", ref);
  } else {
    return makeError(ErrorCode::kUnsupported,
                     "component reference '{}': OCI references are not supported yet; use a "
                     "file:// path or an http(s):// URL",
                     ref);
  }
  if (!options.allow_file_load) {
    return makeError(ErrorCode::kInvalidArgument,
                     "{}: loading components from files is disabled on this host (start it with "
                     "--allow-file-load; `cumulus up` allows it)",
                     ref);
  }
  CUMULUS_TRY(auto bytes, readFile(path));
  if (bytes.size() > options.max_bytes) {
    return makeError(ErrorCode::kResourceLimit, "{} is larger than the {} byte component limit",
                     path, options.max_bytes);
  }
  return bytes;
}

}  // namespace cumulus::host
