// wasi:http over wRPC; see wrpc_http.h.
#include "host/wrpc_http.h"

#include <array>

#include "base/log.h"
#include "lattice/wrpc_codec.h"

namespace cumulus::host {
namespace {

using component::CType;
using component::CTypePtr;
using component::Prim;
using component::Val;
namespace wrpc = lattice::wrpc;
using K = CType::Kind;

// How long a forwarded request waits for the response head, and for each body chunk after it.
constexpr auto kHeadTimeout = std::chrono::seconds(60);
constexpr auto kChunkTimeout = std::chrono::seconds(30);

std::shared_ptr<CType> make(K kind, std::vector<CTypePtr> elems = {},
                            std::vector<std::pair<std::string, CTypePtr>> fields = {}) {
  auto t = std::make_shared<CType>();
  t->kind = kind;
  t->elems = std::move(elems);
  t->fields = std::move(fields);
  return t;
}
CTypePtr prim(Prim p) { return component::primType(p); }
CTypePtr option(CTypePtr t) { return make(K::kOption, {std::move(t)}); }
CTypePtr list(CTypePtr t) { return make(K::kList, {std::move(t)}); }

// The wRPC HTTP types, built once (wrpc:http/types@0.1.0 reusing wasi:http/types@0.2.0's method,
// scheme and error-code).
struct Types {
  CTypePtr bytes = list(prim(Prim::kU8));
  CTypePtr fields = list(make(K::kTuple, {prim(Prim::kString), list(bytes)}));
  CTypePtr body = make(K::kStream, {prim(Prim::kU8)});
  CTypePtr trailers = make(K::kFuture, {option(fields)});
  CTypePtr method = make(K::kVariant, {}, {{"get", nullptr}, {"head", nullptr}, {"post", nullptr},
                                           {"put", nullptr}, {"delete", nullptr}, {"connect", nullptr},
                                           {"options", nullptr}, {"trace", nullptr}, {"patch", nullptr},
                                           {"other", prim(Prim::kString)}});
  CTypePtr scheme = make(K::kVariant, {}, {{"HTTP", nullptr}, {"HTTPS", nullptr}, {"other", prim(Prim::kString)}});
  CTypePtr request = make(K::kRecord, {}, {{"body", body}, {"trailers", trailers}, {"method", method},
                                           {"path-with-query", option(prim(Prim::kString))},
                                           {"scheme", option(scheme)},
                                           {"authority", option(prim(Prim::kString))},
                                           {"headers", fields}});
  CTypePtr response = make(K::kRecord, {}, {{"body", body}, {"trailers", trailers},
                                            {"status", prim(Prim::kU16)}, {"headers", fields}});
  CTypePtr error_code = errorCode();
  CTypePtr result = make(K::kResult, {response, error_code});
  CTypePtr handle = [this]() -> CTypePtr {
    auto f = make(K::kFunc, {}, {{"request", request}});
    f->result = result;
    return f;
  }();

  CTypePtr errorCode() const {
    auto str = prim(Prim::kString);
    auto dns = make(K::kRecord, {}, {{"rcode", option(str)}, {"info-code", option(prim(Prim::kU16))}});
    auto tls = make(K::kRecord, {}, {{"alert-id", option(prim(Prim::kU8))}, {"alert-message", option(str)}});
    auto fsp = make(K::kRecord, {}, {{"field-name", option(str)}, {"field-size", option(prim(Prim::kU32))}});
    auto ou64 = option(prim(Prim::kU64)), ou32 = option(prim(Prim::kU32));
    return make(K::kVariant, {},
                {{"DNS-timeout", nullptr}, {"DNS-error", dns}, {"destination-not-found", nullptr},
                 {"destination-unavailable", nullptr}, {"destination-IP-prohibited", nullptr},
                 {"destination-IP-unroutable", nullptr}, {"connection-refused", nullptr},
                 {"connection-terminated", nullptr}, {"connection-timeout", nullptr},
                 {"connection-read-timeout", nullptr}, {"connection-write-timeout", nullptr},
                 {"connection-limit-reached", nullptr}, {"TLS-protocol-error", nullptr},
                 {"TLS-certificate-error", nullptr}, {"TLS-alert-received", tls},
                 {"HTTP-request-denied", nullptr}, {"HTTP-request-length-required", nullptr},
                 {"HTTP-request-body-size", ou64}, {"HTTP-request-method-invalid", nullptr},
                 {"HTTP-request-URI-invalid", nullptr}, {"HTTP-request-URI-too-long", nullptr},
                 {"HTTP-request-header-section-size", ou32},
                 {"HTTP-request-header-size", option(fsp)},
                 {"HTTP-request-trailer-section-size", ou32}, {"HTTP-request-trailer-size", fsp},
                 {"HTTP-response-incomplete", nullptr}, {"HTTP-response-header-section-size", ou32},
                 {"HTTP-response-header-size", fsp}, {"HTTP-response-body-size", ou64},
                 {"HTTP-response-trailer-section-size", ou32}, {"HTTP-response-trailer-size", fsp},
                 {"HTTP-response-transfer-coding", option(str)},
                 {"HTTP-response-content-coding", option(str)}, {"HTTP-response-timeout", nullptr},
                 {"HTTP-upgrade-failed", nullptr}, {"HTTP-protocol-error", nullptr},
                 {"loop-detected", nullptr}, {"configuration-error", nullptr},
                 {"internal-error", option(str)}});
  }
};

const Types& types() {
  static const Types t;
  return t;
}

constexpr std::array<std::string_view, 9> kMethods = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                                      "CONNECT", "OPTIONS", "TRACE", "PATCH"};

Val methodVal(const std::string& m) {
  for (size_t i = 0; i < kMethods.size(); ++i) {
    if (m == kMethods[i]) return Val::variant(static_cast<uint32_t>(i));
  }
  return Val::variant(9, {Val::string(m)});
}

std::string methodName(const Val& v) {
  uint32_t c = v.discriminant();
  if (c < kMethods.size()) return std::string(kMethods[c]);
  return v.payload().asString();
}

Val fieldsVal(const wasi::http::FieldList& headers) {
  std::vector<Val> out;
  for (const auto& [name, value] : headers) {
    out.push_back(Val::tuple({Val::string(name), Val::list({Val::bytes(value)})}));
  }
  return Val::list(std::move(out));
}

wasi::http::FieldList fieldList(const Val& v) {
  wasi::http::FieldList out;
  for (const Val& pair : v.elems()) {
    for (const Val& value : pair.elems()[1].elems()) out.emplace_back(pair.elems()[0].asString(), value.asBytes());
  }
  return out;
}

Val internalError(const std::string& message) {
  return Val::err(Val::variant(38, {Val::some(Val::string(message))}));
}

// stream<u8> chunks arriving as messages on one async path, as a byte reader. `next` returns the
// path's next message (nullopt at its end).
class ChunkReader {
 public:
  using Next = std::function<Expected<std::optional<std::string>>()>;
  explicit ChunkReader(Next next) : next_(std::move(next)) {}
  // The next bytes of the stream; empty at its end.
  Expected<std::string> read() {
    for (;;) {
      if (done_) return std::string();
      size_t used = 0;
      CUMULUS_TRY(auto chunk, wrpc::decodeStreamChunk(*types().body->elems[0], raw_, used));
      if (chunk) {
        raw_.erase(0, used);
        if (chunk->asBytes().empty()) {
          done_ = true;
          return std::string();
        }
        return std::move(chunk->asBytes());
      }
      CUMULUS_TRY(auto msg, next_());
      if (!msg) {
        if (!raw_.empty()) return makeError(ErrorCode::kInvalidArgument, "stream ended inside a chunk");
        done_ = true;  // the path ended without an end chunk: treat as the end
        return std::string();
      }
      raw_ += *msg;
    }
  }

 private:
  Next next_;
  std::string raw_;
  bool done_ = false;
};

// A request body arriving over wRPC (inline, or on `params.0.0`).
class WrpcBodyReader : public wasi::http::BodyReader {
 public:
  WrpcBodyReader(lattice::WrpcInvocation& inv, std::optional<std::string> inline_body)
      : chunks_([&inv] { return inv.nextParam("0.0", kChunkTimeout); }), inline_(std::move(inline_body)) {}
  wasi::StreamResult read(uint64_t max, bool /*blocking*/) override {
    // Reads block until data arrives (a guest's non-blocking read then just returns later).
    if (pending_.empty()) {
      if (inline_) {
        pending_ = std::move(*inline_);
        inline_.reset();
        ended_ = true;
      } else if (!ended_) {
        auto data = chunks_.read();
        if (!data.ok()) return wasi::StreamResult::failed(data.error().message());
        if (data->empty()) ended_ = true;
        pending_ = std::move(*data);
      }
    }
    if (pending_.empty()) return wasi::StreamResult::closed();
    return wasi::http::takeFront(pending_, max);
  }

 private:
  ChunkReader chunks_;
  std::optional<std::string> inline_;
  std::string pending_;
  bool ended_ = false;
};

// A response going back over wRPC: the head as the synchronous result, the body on `results.0.0`.
class WrpcResponseSink : public wasi::http::ResponseSink {
 public:
  explicit WrpcResponseSink(lattice::WrpcInvocation& inv) : inv_(inv) {}
  Expected<void> start(uint16_t status, const wasi::http::FieldList& headers) override {
    if (started) return makeError(ErrorCode::kInternal, "response already started");
    started = true;
    Val response = Val::record({wrpc::asyncPending(), wrpc::asyncPending(), Val::u16(status), fieldsVal(headers)});
    std::vector<Val> results;
    results.push_back(Val::ok(std::move(response)));
    CUMULUS_TRY(auto bytes, wrpc::encodeTuple(std::span(&types().result, 1), results));
    return inv_.writeResults(bytes);
  }
  wasi::StreamResult write(std::string_view chunk) override {
    if (!started || finished) return wasi::StreamResult::closed();
    if (chunk.empty()) return {};
    if (auto w = inv_.writeResult("0.0", wrpc::encodeByteChunk(chunk)); !w.ok()) {
      return wasi::StreamResult::failed(w.error().message());
    }
    return {};
  }
  Expected<void> finish(const wasi::http::FieldList* /*trailers*/) override {
    finished = true;
    CUMULUS_TRY_VOID(inv_.writeResult("0.0", wrpc::streamEnd()));
    CUMULUS_TRY_VOID(inv_.endResult("0.0"));
    CUMULUS_TRY_VOID(inv_.writeResult("0.1", std::string(1, '\0')));  // option<fields>: none
    return inv_.endResult("0.1");
  }
  bool started = false, finished = false;

 private:
  lattice::WrpcInvocation& inv_;
};

}  // namespace

const component::CType& wrpcHttpHandleType() { return *types().handle; }

lattice::WrpcStreamingHandler wrpcHttpHandler(ComponentManager& components, std::string id) {
  return [&components, id](lattice::WrpcInvocation& inv) -> Expected<std::string> {
    const Types& t = types();
    CUMULUS_TRY(auto params, wrpc::decodeTuple(std::span(&t.request, 1), inv.params()));
    const auto& req = params.at(0).elems();
    wasi::http::RequestHead head;
    head.method = methodName(req[2]);
    head.target = req[3].hasPayload() ? req[3].payload().asString() : "/";
    if (req[5].hasPayload()) head.authority = req[5].payload().asString();
    head.headers = fieldList(req[6]);
    std::optional<std::string> inline_body;
    if (!wrpc::isAsyncPending(req[0])) inline_body = req[0].payload().asBytes();
    auto body = std::make_shared<WrpcBodyReader>(inv, std::move(inline_body));
    WrpcResponseSink sink(inv);
    auto served = components.handleHttp(id, head, body, sink);
    if (sink.started) {
      if (!served.ok()) log().warn("component {}: HTTP over wRPC: {}", id, served.error().message());
      return std::string();  // the results went out with the response head
    }
    std::vector<Val> results;
    results.push_back(internalError(served.ok() ? "no response" : served.error().message()));
    return wrpc::encodeTuple(std::span(&t.result, 1), results);
  };
}

Expected<void> forwardHttp(lattice::WrpcClient& client, const std::string& prefix,
                           const wasi::http::RequestHead& head,
                           std::shared_ptr<wasi::http::BodyReader> body,
                           wasi::http::ResponseSink& sink) {
  const Types& t = types();
  std::vector<Val> params;
  params.push_back(Val::record({wrpc::asyncPending(), wrpc::asyncPending(), methodVal(head.method),
                                Val::some(Val::string(head.target)), Val::some(Val::variant(0)),
                                head.authority ? Val::some(Val::string(*head.authority)) : Val::none(),
                                fieldsVal(head.headers)}));
  CUMULUS_TRY(auto encoded, wrpc::encodeTuple(std::span(&t.request, 1), params));
  CUMULUS_TRY(auto call, client.start(prefix, kWrpcHttpHandler, "handle", encoded, {},
                                      std::chrono::duration_cast<std::chrono::milliseconds>(kHeadTimeout)));
  for (;;) {
    auto r = body->read(64 * 1024, true);
    if (r.status == wasi::StreamResult::Status::kFailed) {
      return makeError(ErrorCode::kIo, "reading the request body: {}", r.error);
    }
    if (!r.data.empty()) CUMULUS_TRY_VOID(call->writeParam("0.0", wrpc::encodeByteChunk(r.data)));
    if (r.status == wasi::StreamResult::Status::kClosed) break;
  }
  CUMULUS_TRY_VOID(call->writeParam("0.0", wrpc::streamEnd()));
  CUMULUS_TRY_VOID(call->endParam("0.0"));
  CUMULUS_TRY_VOID(call->writeParam("0.1", std::string(1, '\0')));  // trailers: none
  CUMULUS_TRY_VOID(call->endParam("0.1"));
  CUMULUS_TRY(auto bytes, call->results());
  CUMULUS_TRY(auto results, wrpc::decodeTuple(std::span(&t.result, 1), bytes));
  const Val& result = results.at(0);
  if (result.discriminant() != 0) {
    return makeError(ErrorCode::kInternal, "the component answered with error-code {}",
                     result.payload().discriminant());
  }
  const auto& resp = result.payload().elems();
  CUMULUS_TRY_VOID(sink.start(static_cast<uint16_t>(resp[2].asU32()), fieldList(resp[3])));
  if (!wrpc::isAsyncPending(resp[0])) {
    auto w = sink.write(resp[0].payload().asBytes());
    if (w.status != wasi::StreamResult::Status::kOk) return makeError(ErrorCode::kIo, "client gone");
  } else {
    ChunkReader chunks([&call] { return call->nextResult("0.0", kChunkTimeout); });
    for (;;) {
      CUMULUS_TRY(auto data, chunks.read());
      if (data.empty()) break;
      auto w = sink.write(data);
      if (w.status != wasi::StreamResult::Status::kOk) return makeError(ErrorCode::kIo, "client gone");
    }
  }
  return sink.finish(nullptr);
}

}  // namespace cumulus::host
