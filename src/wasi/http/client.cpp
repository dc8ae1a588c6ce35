// wasi:http/outgoing-handler over libcurl. Each request runs curl_easy_perform on its own thread
// so the guest can stream the request body after `handle` returns and read the response body
// while it arrives; the two directions meet in a ClientExchange (bounded buffers, condition
// variable). Connections are reused across requests through a curl share handle.
#include <curl/curl.h>

#include <chrono>
#include <cstring>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "wasi/http/types.h"

namespace cumulus::wasi::http {

using component::CallContext;
using component::Val;
using Args = std::vector<Val>;

namespace {

constexpr size_t kMaxBuffered = 1 << 20;
constexpr auto kStallLimit = std::chrono::seconds(60);
constexpr uint32_t kErrDnsError = 1;

// One curl share handle for the process: connection cache and DNS cache.
class Share {
 public:
  static Share& get() {
    static Share s;
    return s;
  }
  CURLSH* handle() const { return share_; }

 private:
  Share() {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    share_ = curl_share_init();
    curl_share_setopt(share_, CURLSHOPT_LOCKFUNC, &Share::lock);
    curl_share_setopt(share_, CURLSHOPT_UNLOCKFUNC, &Share::unlock);
    curl_share_setopt(share_, CURLSHOPT_USERDATA, this);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(share_, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  }
  static void lock(CURL*, curl_lock_data data, curl_lock_access, void* self) {
    static_cast<Share*>(self)->mutexes_[data % kLocks].lock();
  }
  static void unlock(CURL*, curl_lock_data data, void* self) {
    static_cast<Share*>(self)->mutexes_[data % kLocks].unlock();
  }
  static constexpr int kLocks = 8;
  CURLSH* share_ = nullptr;
  std::mutex mutexes_[kLocks];
};

}  // namespace

struct ClientExchange : ResponseSink, BodyReader, std::enable_shared_from_this<ClientExchange> {
  std::mutex m;
  std::condition_variable cv;
  // request body (guest -> curl)
  std::string req;
  bool req_done = false, req_failed = false;
  // response (curl -> guest)
  bool head_ready = false, done = false;
  uint16_t status = 0;
  FieldList headers;
  std::optional<FieldList> trailer_fields;  // header lines after the head (HTTP/2 or chunked trailers)
  std::string resp;
  std::optional<Val> error;  // error-code, before the head arrived
  std::string error_text;    // after it

  // ResponseSink (the request body)
  Expected<void> start(uint16_t, const FieldList&) override { return {}; }
  StreamResult write(std::string_view chunk) override {
    std::unique_lock lock(m);
    if (!cv.wait_for(lock, kStallLimit, [&] { return req.size() < kMaxBuffered || done; }))
      return StreamResult::failed("request body stalled");
    if (done) return StreamResult::closed();
    req.append(chunk);
    cv.notify_all();
    return {};
  }
  Expected<void> finish(const FieldList*) override {
    std::lock_guard lock(m);
    req_done = true;
    cv.notify_all();
    return {};
  }
  void abort() override {
    std::lock_guard lock(m);
    req_failed = true;
    cv.notify_all();
  }

  // BodyReader (the response body)
  StreamResult read(uint64_t max, bool blocking) override {
    std::unique_lock lock(m);
    if (blocking && !cv.wait_for(lock, kStallLimit, [&] { return !resp.empty() || done; }))
      return StreamResult::failed("response body stalled");
    if (resp.empty()) {
      if (!done) return {};
      if (!error_text.empty()) return StreamResult::failed(error_text);
      return StreamResult::closed();
    }
    StreamResult r = takeFront(resp, max);
    cv.notify_all();
    return r;
  }
  bool trailersReady() override {
    std::lock_guard lock(m);
    return done;
  }
  std::optional<FieldList> trailers() override {
    std::lock_guard lock(m);
    return trailer_fields;
  }

  // curl callbacks (curl's thread)
  static size_t onRead(char* buf, size_t size, size_t n, void* self) {
    auto* x = static_cast<ClientExchange*>(self);
    std::unique_lock lock(x->m);
    if (!x->cv.wait_for(lock, kStallLimit,
                        [&] { return !x->req.empty() || x->req_done || x->req_failed; }))
      return CURL_READFUNC_ABORT;
    if (x->req_failed) return CURL_READFUNC_ABORT;
    size_t k = std::min(size * n, x->req.size());
    std::memcpy(buf, x->req.data(), k);
    x->req.erase(0, k);
    x->cv.notify_all();
    return k;
  }
  static size_t onHeader(char* buf, size_t size, size_t n, void* self) {
    auto* x = static_cast<ClientExchange*>(self);
    std::string_view line(buf, size * n);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    std::lock_guard lock(x->m);
    if (line.rfind("HTTP/", 0) == 0) {
      x->headers.clear();
      size_t sp = line.find(' ');
      x->status = sp == std::string_view::npos
                      ? 0
                      : static_cast<uint16_t>(std::atoi(std::string(line.substr(sp + 1, 3)).c_str()));
    } else if (line.empty()) {
      if (x->status >= 200) {
        x->head_ready = true;
        x->cv.notify_all();
      }
    } else {
      size_t colon = line.find(':');
      if (colon != std::string_view::npos) {
        std::string_view v = line.substr(colon + 1);
        while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
        // After the head, curl hands over the trailers the same way (gRPC's grpc-status).
        if (x->head_ready && !x->trailer_fields) x->trailer_fields.emplace();
        FieldList& into = x->head_ready ? *x->trailer_fields : x->headers;
        into.emplace_back(std::string(line.substr(0, colon)), std::string(v));
      }
    }
    return size * n;
  }
  static size_t onWrite(char* buf, size_t size, size_t n, void* self) {
    auto* x = static_cast<ClientExchange*>(self);
    std::unique_lock lock(x->m);
    if (!x->cv.wait_for(lock, kStallLimit, [&] { return x->resp.size() < kMaxBuffered; }))
      return 0;  // nobody reads: abort the transfer
    x->resp.append(buf, size * n);
    x->cv.notify_all();
    return size * n;
  }
};

namespace {

Val curlError(CURLcode c) {
  switch (c) {
    case CURLE_COULDNT_RESOLVE_HOST:
      return Val::variant(kErrDnsError, {Val::record({Val::some(Val::string("address not available")), Val::none()})});
    case CURLE_COULDNT_CONNECT:
      return errorCode(kErrConnectionRefused);
    case CURLE_OPERATION_TIMEDOUT:
      return errorCode(kErrConnectionTimeout);
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
      return errorCode(kErrTlsProtocolError);
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
      return errorCode(kErrConnectionTerminated);
    case CURLE_URL_MALFORMAT:
      return errorCode(kErrHttpRequestUriInvalid);
    default:
      return errorCode(kErrInternalError, std::string(curl_easy_strerror(c)));
  }
}

void perform(std::shared_ptr<ClientExchange> x, std::string url, std::string method,
             FieldList headers, bool has_body, std::optional<uint64_t> length,
             RequestOptions opts) {
  CURL* c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &ClientExchange::onHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, x.get());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &ClientExchange::onWrite);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, x.get());
  if (method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (method != "GET" || has_body) {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  // gRPC runs over HTTP/2 only: cleartext h2 with prior knowledge (what gRPC clients and servers
  // speak on http:// endpoints), negotiated by ALPN over TLS. Everything else is HTTP/1.1.
  bool grpc = false;
  for (const auto& [n, v] : headers)
    if (iequals(n, "content-type") && v.rfind("application/grpc", 0) == 0) grpc = true;
  if (grpc) {
    // Its own connection: libcurl's share interface reuses HTTP/1 connections across threads,
    // but an HTTP/2 session belongs to the handle that made it (reusing it from another thread
    // failed with "Error in the HTTP2 framing layer").
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, url.rfind("https:", 0) == 0
                                                  ? long(CURL_HTTP_VERSION_2TLS)
                                                  : long(CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE));
  } else {
    curl_easy_setopt(c, CURLOPT_SHARE, Share::get().handle());
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, long(CURL_HTTP_VERSION_1_1));
  }
  curl_slist* list = nullptr;
  for (const auto& [n, v] : headers) list = curl_slist_append(list, fmt::format("{}: {}", n, v).c_str());
  list = curl_slist_append(list, "Expect:");  // no 100-continue round trip
  if (has_body) {
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, &ClientExchange::onRead);
    curl_easy_setopt(c, CURLOPT_READDATA, x.get());
    if (length)
      curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(*length));
    else if (!grpc)  // HTTP/2 frames a body of unknown length itself
      list = curl_slist_append(list, "Transfer-Encoding: chunked");
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  if (opts.connect_timeout_ns)
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(*opts.connect_timeout_ns / 1000000));
  if (opts.between_bytes_timeout_ns) {
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
                     std::max<long>(1, static_cast<long>(*opts.between_bytes_timeout_ns / 1000000000)));
  }
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(list);
  curl_easy_cleanup(c);
  std::lock_guard lock(x->m);
  if (rc != CURLE_OK) {
    if (!x->head_ready)
      x->error = curlError(rc);
    else
      x->error_text = curl_easy_strerror(rc);
  }
  x->done = true;
  x->cv.notify_all();
}

}  // namespace

void addOutgoingHandler(component::Linker& l, HttpTypes& t) {
  HttpTypes* tp = &t;
  const std::string types = iface("wasi:http/types");
  l.func(iface("wasi:http/outgoing-handler"), "handle",
         [tp](CallContext& cx, Args& a) -> Expected<Val> {
           OutgoingRequest& r = ctx(cx).table().get<OutgoingRequest>(a[0]);
           RequestOptions opts;
           if (a[1].discriminant() == 1) {
             opts = ctx(cx).table().get<RequestOptions>(a[1].payload());
             ctx(cx).table().remove(a[1].payload().rep());
           }
           if (!r.authority) return Val::err(errorCode(kErrHttpRequestUriInvalid));
           std::string scheme = r.scheme.value_or("https");
           if (scheme != "http" && scheme != "https")
             return Val::err(errorCode(kErrHttpProtocolError));
           std::string url = fmt::format("{}://{}{}", scheme, *r.authority,
                                         r.path_with_query.value_or("/"));
           auto x = std::make_shared<ClientExchange>();
           auto body = r.body;
           bool has_body = r.body_taken;
           std::string method = r.method;
           FieldList headers = r.headers->entries;
           ctx(cx).table().remove(a[0].rep());
           // The body's writes go to the exchange from now on.
           body->sink = x.get();
           body->keep_sink = x;
           if (!body->pending.empty()) {
             x->write(body->pending);
             body->pending.clear();
           }
           if (!has_body || body->finished) (void)x->finish(nullptr);
           std::thread(perform, x, std::move(url), std::move(method), std::move(headers), has_body,
                       body->content_length, opts)
               .detach();
           auto f = std::make_unique<FutureIncomingResponse>();
           f->exchange = x;
           return Val::ok(own(cx, tp->future_incoming_response, std::move(f)));
         });
  l.func(types, "[method]future-incoming-response.subscribe",
         [tp](CallContext& cx, Args& a) -> Expected<Val> {
           auto x = ctx(cx).table().get<FutureIncomingResponse>(a[0]).exchange;
           auto p = std::make_unique<Pollable>();
           p->ready = [x] {
             std::lock_guard lock(x->m);
             return x->head_ready || x->done;
           };
           return own(cx, tp->wasi->pollable, std::move(p));
         });
  l.func(types, "[method]future-incoming-response.get",
         [tp](CallContext& cx, Args& a) -> Expected<Val> {
           auto& f = ctx(cx).table().get<FutureIncomingResponse>(a[0]);
           auto x = f.exchange;
           std::unique_lock lock(x->m);
           if (!x->head_ready && !x->done) return Val::none();
           if (f.taken) return Val::some(Val::errUnit());
           f.taken = true;
           if (!x->head_ready) {
             Val e = x->error ? *x->error : errorCode(kErrHttpResponseIncomplete);
             return Val::some(Val::ok(Val::err(std::move(e))));
           }
           auto resp = std::make_unique<IncomingResponse>();
           resp->status = x->status;
           resp->headers = x->headers;
           resp->body = x;
           lock.unlock();
           return Val::some(Val::ok(Val::ok(own(cx, tp->incoming_response, std::move(resp)))));
         });
}

}  // namespace cumulus::wasi::http
