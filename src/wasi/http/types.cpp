// wasi:http/types: fields, requests, responses, bodies, outparams (see types.h).
#include "wasi/http/types.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace cumulus::wasi::http {

StreamResult takeFront(std::string& buffer, uint64_t max) {
  StreamResult r;
  size_t n = std::min<uint64_t>(max, buffer.size());
  r.data = buffer.substr(0, n);
  buffer.erase(0, n);
  return r;
}

using component::CallContext;
using component::Val;
using Args = std::vector<Val>;

namespace {

constexpr uint32_t kInvalidSyntax = 0, kForbidden = 1, kImmutable = 2;
constexpr size_t kMaxPendingBody = 64u << 20;  // buffered before the response head is sent
constexpr uint32_t kErrHttpResponseBodySize = 28;

Val headerError(uint32_t c) { return Val::err(Val::enumCase(c)); }

std::optional<uint64_t> contentLength(const FieldList& f) {
  for (const auto& [n, v] : f)
    if (iequals(n, "content-length")) {
      try {
        return std::stoull(v);
      } catch (...) {
        return std::nullopt;
      }
    }
  return std::nullopt;
}

Val fieldsVal(CallContext& cx, const HttpTypes& t, FieldList entries, bool immutable) {
  auto f = std::make_unique<Fields>();
  f->entries = std::move(entries);
  f->immutable = immutable;
  return own(cx, t.fields, std::move(f));
}

// Takes an owned fields handle the guest passed in (the host table entry goes with it).
FieldList takeFields(CallContext& cx, const Val& v) {
  FieldList out = ctx(cx).table().get<Fields>(v).entries;
  ctx(cx).table().remove(v.rep());
  return out;
}

Val schemeVal(const std::string& s) {
  if (iequals(s, "http")) return Val::variant(0);
  if (iequals(s, "https")) return Val::variant(1);
  return Val::variant(2, {Val::string(s)});
}

std::string schemeName(const Val& v) {
  switch (v.discriminant()) {
    case 0:
      return "http";
    case 1:
      return "https";
    default:
      return v.payload().asString();
  }
}

bool validToken(std::string_view s) { return validFieldName(s); }

class BodyOutput : public OutputStream {
 public:
  explicit BodyOutput(std::shared_ptr<OutgoingBodyState> s) : s_(std::move(s)) {}
  StreamResult checkWrite() override {
    if (s_->finished || s_->failed) return StreamResult::closed();
    StreamResult r;
    r.count = 1 << 20;
    return r;
  }
  StreamResult write(std::string_view data) override { return s_->write(data); }
  std::unique_ptr<Pollable> subscribe() override { return readyPollable(); }

 private:
  std::shared_ptr<OutgoingBodyState> s_;
};

class BodyInput : public InputStream {
 public:
  explicit BodyInput(std::shared_ptr<BodyReader> r) : r_(std::move(r)) {}
  StreamResult read(uint64_t len, bool blocking) override { return r_->read(len, blocking); }
  std::unique_ptr<Pollable> subscribe() override {
    return readyPollable();  // reads block on the connection with a timeout
  }

 private:
  std::shared_ptr<BodyReader> r_;
};

// Hands a finished or set response to its sink once both the head and the sink are known.
Expected<void> deliver(ResponseSlot& slot) {
  if (!slot.sink || !slot.body) return {};
  OutgoingBodyState& b = *slot.body;
  if (!b.sink) {
    b.sink = slot.sink;
    if (!b.pending.empty()) {
      StreamResult r = b.sink->write(b.pending);
      b.pending.clear();
      if (r.status != StreamResult::Status::kOk) {
        b.failed = true;
        return makeError(ErrorCode::kIo, "writing the response body: {}", r.error);
      }
    }
    if (b.finished) return b.sink->finish(b.trailers ? &*b.trailers : nullptr);
  }
  return {};
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool validFieldName(std::string_view name) {
  if (name.empty()) return false;
  static constexpr std::string_view kSpecial = "!#$%&'*+-.^_`|~";
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && kSpecial.find(c) == std::string_view::npos) return false;
  }
  return true;
}

bool validFieldValue(std::string_view value) {
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (u == '\t' || u == ' ' || (u >= 0x21 && u != 0x7f)) continue;
    return false;
  }
  return true;
}

bool forbiddenField(std::string_view name) {
  static constexpr std::string_view kForbiddenNames[] = {"connection",
                                                         "keep-alive",
                                                         "proxy-authenticate",
                                                         "proxy-authorization",
                                                         "proxy-connection",
                                                         "transfer-encoding",
                                                         "upgrade",
                                                         "http2-settings"};
  for (auto f : kForbiddenNames)
    if (iequals(name, f)) return true;
  return false;
}

StreamResult OutgoingBodyState::write(std::string_view data) {
  if (finished || failed) return StreamResult::closed();
  if (content_length && written + data.size() > *content_length) {
    failed = true;
    return StreamResult::failed(
        fmt::format("body exceeds its content-length of {} bytes", *content_length));
  }
  written += data.size();
  if (!sink) {
    if (pending.size() + data.size() > kMaxPendingBody) {
      failed = true;
      return StreamResult::failed("too much body written before the response was sent");
    }
    pending.append(data);
    return {};
  }
  StreamResult r = sink->write(data);
  if (r.status != StreamResult::Status::kOk) failed = true;
  return r;
}

Val methodVal(const std::string& m) {
  static const char* const kMethods[] = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                         "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  for (uint32_t i = 0; i < 9; ++i)
    if (m == kMethods[i]) return Val::variant(i);
  return Val::variant(9, {Val::string(m)});
}

std::string methodName(const Val& v) {
  static const char* const kMethods[] = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                         "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  uint32_t d = v.discriminant();
  if (d < 9) return kMethods[d];
  return v.payload().asString();
}

Val errorCode(uint32_t c, std::optional<std::string> message) {
  if (c == kErrInternalError)
    return Val::variant(c, {message ? Val::some(Val::string(*message)) : Val::none()});
  if (c == kErrHttpResponseBodySize) return Val::variant(c, {Val::none()});
  return Val::variant(c);
}

std::shared_ptr<HttpTypes> addToLinker(component::Linker& l, std::shared_ptr<Types> wasi) {
  auto t = std::make_shared<HttpTypes>();
  t->wasi = std::move(wasi);
  HttpTypes* tp = t.get();
  const std::string types = iface("wasi:http/types");
  t->fields = l.resource(types, "fields", dropObject);
  t->incoming_request = l.resource(types, "incoming-request", dropObject);
  t->outgoing_request = l.resource(types, "outgoing-request", dropObject);
  t->request_options = l.resource(types, "request-options", dropObject);
  t->response_outparam = l.resource(types, "response-outparam", dropObject);
  t->incoming_response = l.resource(types, "incoming-response", dropObject);
  t->incoming_body = l.resource(types, "incoming-body", dropObject);
  t->future_trailers = l.resource(types, "future-trailers", dropObject);
  t->outgoing_response = l.resource(types, "outgoing-response", dropObject);
  t->outgoing_body = l.resource(types, "outgoing-body", [](CallContext& cx, uint32_t rep) {
    // Dropping an outgoing-body without finish() means the body is incomplete.
    auto& b = ctx(cx).table().get<OutgoingBody>(rep);
    if (!b.state->finished) {
      b.state->failed = true;
      if (b.state->sink) b.state->sink->abort();
    }
    ctx(cx).table().remove(rep);
  });
  t->future_incoming_response = l.resource(types, "future-incoming-response", dropObject);

  l.func(types, "http-error-code",
         [](CallContext&, Args&) -> Expected<Val> { return Val::none(); });

  // ---- fields ----
  l.func(types, "[constructor]fields",
         [tp](CallContext& cx, Args&) -> Expected<Val> { return fieldsVal(cx, *tp, {}, false); });
  l.func(types, "[static]fields.from-list", [tp](CallContext& cx, Args& a) -> Expected<Val> {
    FieldList f;
    for (const Val& e : a[0].elems()) {
      const auto& kv = e.elems();
      const std::string& n = kv[0].asString();
      const std::string& v = kv[1].asBytes();
      if (!validFieldName(n) || !validFieldValue(v)) return headerError(kInvalidSyntax);
      if (forbiddenField(n)) return headerError(kForbidden);
      f.emplace_back(n, v);
    }
    return Val::ok(fieldsVal(cx, *tp, std::move(f), false));
  });
  auto fields = [](CallContext& cx, const Val& v) -> Fields& {
    return ctx(cx).table().get<Fields>(v);
  };
  l.func(types, "[method]fields.get", [fields](CallContext& cx, Args& a) -> Expected<Val> {
    std::vector<Val> out;
    for (const auto& [n, v] : fields(cx, a[0]).entries)
      if (iequals(n, a[1].asString())) out.push_back(Val::bytes(v));
    return Val::list(std::move(out));
  });
  l.func(types, "[method]fields.has", [fields](CallContext& cx, Args& a) -> Expected<Val> {
    for (const auto& [n, v] : fields(cx, a[0]).entries)
      if (iequals(n, a[1].asString())) return Val::boolean(true);
    return Val::boolean(false);
  });
  l.func(types, "[method]fields.set", [fields](CallContext& cx, Args& a) -> Expected<Val> {
    Fields& f = fields(cx, a[0]);
    const std::string& name = a[1].asString();
    if (f.immutable) return headerError(kImmutable);
    if (!validFieldName(name)) return headerError(kInvalidSyntax);
    for (const Val& v : a[2].elems())
      if (!validFieldValue(v.asBytes())) return headerError(kInvalidSyntax);
    if (forbiddenField(name)) return headerError(kForbidden);
    std::erase_if(f.entries, [&](const auto& e) { return iequals(e.first, name); });
    for (const Val& v : a[2].elems()) f.entries.emplace_back(name, v.asBytes());
    return Val::okUnit();
  });
  l.func(types, "[method]fields.delete", [fields](CallContext& cx, Args& a) -> Expected<Val> {
    Fields& f = fields(cx, a[0]);
    const std::string& name = a[1].asString();
    if (f.immutable) return headerError(kImmutable);
    if (!validFieldName(name)) return headerError(kInvalidSyntax);
    if (forbiddenField(name)) return headerError(kForbidden);
    std::erase_if(f.entries, [&](const auto& e) { return iequals(e.first, name); });
    return Val::okUnit();
  });
  l.func(types, "[method]fields.append", [fields](CallContext& cx, Args& a) -> Expected<Val> {
    Fields& f = fields(cx, a[0]);
    const std::string& name = a[1].asString();
    if (f.immutable) return headerError(kImmutable);
    if (!validFieldName(name) || !validFieldValue(a[2].asBytes()))
      return headerError(kInvalidSyntax);
    if (forbiddenField(name)) return headerError(kForbidden);
    f.entries.emplace_back(name, a[2].asBytes());
    return Val::okUnit();
  });
  l.func(types, "[method]fields.entries", [fields](CallContext& cx, Args& a) -> Expected<Val> {
    std::vector<Val> out;
    for (const auto& [n, v] : fields(cx, a[0]).entries)
      out.push_back(Val::tuple({Val::string(n), Val::bytes(v)}));
    return Val::list(std::move(out));
  });
  l.func(types, "[method]fields.clone", [fields, tp](CallContext& cx, Args& a) -> Expected<Val> {
    return fieldsVal(cx, *tp, fields(cx, a[0]).entries, false);
  });

  // ---- incoming-request ----
  auto req = [](CallContext& cx, const Val& v) -> IncomingRequest& {
    return ctx(cx).table().get<IncomingRequest>(v);
  };
  l.func(
      types, "[method]incoming-request.method",
      [req](CallContext& cx, Args& a) -> Expected<Val> { return methodVal(req(cx, a[0]).method); });
  l.func(types, "[method]incoming-request.path-with-query",
         [req](CallContext& cx, Args& a) -> Expected<Val> {
           const auto& p = req(cx, a[0]).path_with_query;
           return p ? Val::some(Val::string(*p)) : Val::none();
         });
  l.func(types, "[method]incoming-request.scheme",
         [req](CallContext& cx, Args& a) -> Expected<Val> {
           const auto& s = req(cx, a[0]).scheme;
           return s ? Val::some(schemeVal(*s)) : Val::none();
         });
  l.func(types, "[method]incoming-request.authority",
         [req](CallContext& cx, Args& a) -> Expected<Val> {
           const auto& p = req(cx, a[0]).authority;
           return p ? Val::some(Val::string(*p)) : Val::none();
         });
  l.func(types, "[method]incoming-request.headers",
         [req, tp](CallContext& cx, Args& a) -> Expected<Val> {
           return fieldsVal(cx, *tp, req(cx, a[0]).headers, true);
         });
  l.func(types, "[method]incoming-request.consume",
         [req, tp](CallContext& cx, Args& a) -> Expected<Val> {
           IncomingRequest& r = req(cx, a[0]);
           if (r.consumed) return Val::errUnit();
           r.consumed = true;
           auto b = std::make_unique<IncomingBody>();
           b->reader = r.body;
           return Val::ok(own(cx, tp->incoming_body, std::move(b)));
         });

  // ---- incoming-body / future-trailers ----
  l.func(types, "[method]incoming-body.stream", [tp](CallContext& cx, Args& a) -> Expected<Val> {
    auto& b = ctx(cx).table().get<IncomingBody>(a[0]);
    if (b.stream_taken) return Val::errUnit();
    b.stream_taken = true;
    std::shared_ptr<BodyReader> reader = b.reader;
    if (!reader) return Val::ok(own(cx, tp->wasi->input_stream, emptyInputStream()));
    return Val::ok(own(cx, tp->wasi->input_stream, std::make_unique<BodyInput>(reader)));
  });
  l.func(types, "[static]incoming-body.finish", [tp](CallContext& cx, Args& a) -> Expected<Val> {
    auto& b = ctx(cx).table().get<IncomingBody>(a[0]);
    auto f = std::make_unique<FutureTrailers>();
    f->reader = b.reader;
    ctx(cx).table().remove(a[0].rep());
    return own(cx, tp->future_trailers, std::move(f));
  });
  l.func(types, "[method]future-trailers.subscribe", [tp](CallContext& cx, Args& a) -> Expected<Val> {
    std::shared_ptr<BodyReader> reader = ctx(cx).table().get<FutureTrailers>(a[0]).reader;
    if (!reader) return own(cx, tp->wasi->pollable, readyPollable());
    auto p = std::make_unique<Pollable>();
    p->ready = [reader] { return reader->trailersReady(); };
    return own(cx, tp->wasi->pollable, std::move(p));
  });
  l.func(types, "[method]future-trailers.get", [tp](CallContext& cx, Args& a) -> Expected<Val> {
    auto& f = ctx(cx).table().get<FutureTrailers>(a[0]);
    if (f.reader && !f.reader->trailersReady()) return Val::none();
    if (f.taken) return Val::some(Val::errUnit());
    f.taken = true;
    std::optional<FieldList> tr = f.reader ? f.reader->trailers() : std::nullopt;
    Val inner = tr ? Val::some(fieldsVal(cx, *tp, std::move(*tr), true)) : Val::none();
    return Val::some(Val::ok(Val::ok(std::move(inner))));
  });

  // ---- outgoing-response / outgoing-body / response-outparam ----
  l.func(types, "[constructor]outgoing-response", [tp](CallContext& cx, Args& a) -> Expected<Val> {
    auto r = std::make_unique<OutgoingResponse>();
    r->headers = std::make_shared<Fields>();
    r->headers->entries = takeFields(cx, a[0]);
    r->body = std::make_shared<OutgoingBodyState>();
    r->body->content_length = contentLength(r->headers->entries);
    return own(cx, tp->outgoing_response, std::move(r));
  });
  auto resp = [](CallContext& cx, const Val& v) -> OutgoingResponse& {
    return ctx(cx).table().get<OutgoingResponse>(v);
  };
  l.func(types, "[method]outgoing-response.status-code",
         [resp](CallContext& cx, Args& a) -> Expected<Val> {
           return Val::u16(resp(cx, a[0]).status);
         });
  l.func(types, "[method]outgoing-response.set-status-code",
         [resp](CallContext& cx, Args& a) -> Expected<Val> {
           uint32_t s = a[1].asU32();
           if (s < 100 || s > 999) return Val::errUnit();
           resp(cx, a[0]).status = static_cast<uint16_t>(s);
           return Val::okUnit();
         });
  l.func(types, "[method]outgoing-response.headers",
         [resp, tp](CallContext& cx, Args& a) -> Expected<Val> {
           return fieldsVal(cx, *tp, resp(cx, a[0]).headers->entries, true);
         });
  l.func(types, "[method]outgoing-response.body",
         [resp, tp](CallContext& cx, Args& a) -> Expected<Val> {
           OutgoingResponse& r = resp(cx, a[0]);
           if (r.body_taken) return Val::errUnit();
           r.body_taken = true;
           auto b = std::make_unique<OutgoingBody>();
           b->state = r.body;
           return Val::ok(own(cx, tp->outgoing_body, std::move(b)));
         });
  l.func(types, "[method]outgoing-body.write", [tp](CallContext& cx, Args& a) -> Expected<Val> {
    auto& b = ctx(cx).table().get<OutgoingBody>(a[0]);
    if (b.stream_taken) return Val::errUnit();
    b.stream_taken = true;
    return Val::ok(own(cx, tp->wasi->output_stream, std::make_unique<BodyOutput>(b.state)));
  });
  l.func(types, "[static]outgoing-body.finish", [](CallContext& cx, Args& a) -> Expected<Val> {
    auto state = ctx(cx).table().get<OutgoingBody>(a[0]).state;
    ctx(cx).table().remove(a[0].rep());
    if (a[1].discriminant() == 1) state->trailers = takeFields(cx, a[1].payload());
    if (state->failed) return Val::err(errorCode(kErrInternalError, "the body stream failed"));
    if (state->content_length && state->written != *state->content_length) {
      state->failed = true;
      return Val::err(
          Val::variant(kErrHttpResponseBodySize, {Val::some(Val::u64(state->written))}));
    }
    state->finished = true;
    if (state->sink) {
      auto r = state->sink->finish(state->trailers ? &*state->trailers : nullptr);
      if (!r.ok()) return Val::err(errorCode(kErrInternalError, r.error().message()));
    }
    return Val::okUnit();
  });
  l.func(types, "[static]response-outparam.set", [](CallContext& cx, Args& a) -> Expected<Val> {
    auto slot = ctx(cx).table().get<ResponseOutparam>(a[0]).slot;
    ctx(cx).table().remove(a[0].rep());
    if (slot->set) return makeError(ErrorCode::kTrap, "response-outparam.set called twice");
    slot->set = true;
    const Val& result = a[1];
    if (result.discriminant() == 1) {
      slot->error = result.payload().toString();
      return Val();
    }
    const Val& rv = result.payload();
    OutgoingResponse& r = ctx(cx).table().get<OutgoingResponse>(rv);
    slot->status = r.status;
    slot->headers = r.headers->entries;
    slot->body = r.body;
    ctx(cx).table().remove(rv.rep());
    if (slot->sink) {
      auto s = slot->sink->start(slot->status, slot->headers);
      if (!s.ok()) {
        slot->body->failed = true;
        return Val();
      }
      auto d = deliver(*slot);
      (void)d;  // a failed write marks the body failed; the guest sees it on its next write
    }
    return Val();
  });
  l.func(
      types, "[method]response-outparam.send-informational",
      [](CallContext&, Args&) -> Expected<Val> {
        return Val::err(errorCode(kErrInternalError, "informational responses are not supported"));
      });

  // ---- outgoing-request / request-options ----
  l.func(types, "[constructor]outgoing-request", [tp](CallContext& cx, Args& a) -> Expected<Val> {
    auto r = std::make_unique<OutgoingRequest>();
    r->headers = std::make_shared<Fields>();
    r->headers->entries = takeFields(cx, a[0]);
    r->body = std::make_shared<OutgoingBodyState>();
    r->body->content_length = contentLength(r->headers->entries);
    return own(cx, tp->outgoing_request, std::move(r));
  });
  auto oreq = [](CallContext& cx, const Val& v) -> OutgoingRequest& {
    return ctx(cx).table().get<OutgoingRequest>(v);
  };
  l.func(types, "[method]outgoing-request.body",
         [oreq, tp](CallContext& cx, Args& a) -> Expected<Val> {
           OutgoingRequest& r = oreq(cx, a[0]);
           if (r.body_taken) return Val::errUnit();
           r.body_taken = true;
           auto b = std::make_unique<OutgoingBody>();
           b->state = r.body;
           return Val::ok(own(cx, tp->outgoing_body, std::move(b)));
         });
  l.func(types, "[method]outgoing-request.method",
         [oreq](CallContext& cx, Args& a) -> Expected<Val> {
           return methodVal(oreq(cx, a[0]).method);
         });
  l.func(types, "[method]outgoing-request.set-method",
         [oreq](CallContext& cx, Args& a) -> Expected<Val> {
           std::string m = methodName(a[1]);
           if (!validToken(m)) return Val::errUnit();
           oreq(cx, a[0]).method = m;
           return Val::okUnit();
         });
  auto optString = [oreq](std::optional<std::string> OutgoingRequest::*field) {
    return [oreq, field](CallContext& cx, Args& a) -> Expected<Val> {
      const auto& v = oreq(cx, a[0]).*field;
      return v ? Val::some(Val::string(*v)) : Val::none();
    };
  };
  auto setOptString = [oreq](std::optional<std::string> OutgoingRequest::*field) {
    return [oreq, field](CallContext& cx, Args& a) -> Expected<Val> {
      if (a[1].discriminant() == 0) {
        oreq(cx, a[0]).*field = std::nullopt;
        return Val::okUnit();
      }
      const std::string& s = a[1].payload().asString();
      for (char c : s)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return Val::errUnit();
      oreq(cx, a[0]).*field = s;
      return Val::okUnit();
    };
  };
  l.func(types, "[method]outgoing-request.path-with-query",
         optString(&OutgoingRequest::path_with_query));
  l.func(types, "[method]outgoing-request.set-path-with-query",
         setOptString(&OutgoingRequest::path_with_query));
  l.func(types, "[method]outgoing-request.authority", optString(&OutgoingRequest::authority));
  l.func(types, "[method]outgoing-request.set-authority",
         setOptString(&OutgoingRequest::authority));
  l.func(types, "[method]outgoing-request.scheme",
         [oreq](CallContext& cx, Args& a) -> Expected<Val> {
           const auto& s = oreq(cx, a[0]).scheme;
           return s ? Val::some(schemeVal(*s)) : Val::none();
         });
  l.func(types, "[method]outgoing-request.set-scheme",
         [oreq](CallContext& cx, Args& a) -> Expected<Val> {
           if (a[1].discriminant() == 0) {
             oreq(cx, a[0]).scheme = std::nullopt;
             return Val::okUnit();
           }
           std::string s = schemeName(a[1].payload());
           if (!validToken(s)) return Val::errUnit();
           oreq(cx, a[0]).scheme = s;
           return Val::okUnit();
         });
  l.func(types, "[method]outgoing-request.headers",
         [oreq, tp](CallContext& cx, Args& a) -> Expected<Val> {
           return fieldsVal(cx, *tp, oreq(cx, a[0]).headers->entries, true);
         });
  l.func(types, "[constructor]request-options", [tp](CallContext& cx, Args&) -> Expected<Val> {
    return own(cx, tp->request_options, std::make_unique<RequestOptions>());
  });
  using Opt = std::optional<uint64_t> RequestOptions::*;
  for (auto [name, field] :
       {std::pair<const char*, Opt>{"connect-timeout", &RequestOptions::connect_timeout_ns},
        std::pair<const char*, Opt>{"first-byte-timeout", &RequestOptions::first_byte_timeout_ns},
        std::pair<const char*, Opt>{"between-bytes-timeout",
                                    &RequestOptions::between_bytes_timeout_ns}}) {
    l.func(types, fmt::format("[method]request-options.{}", name),
           [field = field](CallContext& cx, Args& a) -> Expected<Val> {
             const auto& v = ctx(cx).table().get<RequestOptions>(a[0]).*field;
             return v ? Val::some(Val::u64(*v)) : Val::none();
           });
    l.func(types, fmt::format("[method]request-options.set-{}", name),
           [field = field](CallContext& cx, Args& a) -> Expected<Val> {
             auto& o = ctx(cx).table().get<RequestOptions>(a[0]);
             if (a[1].discriminant() == 0)
               o.*field = std::nullopt;
             else
               o.*field = a[1].payload().asU64();
             return Val::okUnit();
           });
  }

  // ---- incoming-response (client side) ----
  auto iresp = [](CallContext& cx, const Val& v) -> IncomingResponse& {
    return ctx(cx).table().get<IncomingResponse>(v);
  };
  l.func(types, "[method]incoming-response.status",
         [iresp](CallContext& cx, Args& a) -> Expected<Val> {
           return Val::u16(iresp(cx, a[0]).status);
         });
  l.func(types, "[method]incoming-response.headers",
         [iresp, tp](CallContext& cx, Args& a) -> Expected<Val> {
           return fieldsVal(cx, *tp, iresp(cx, a[0]).headers, true);
         });
  l.func(types, "[method]incoming-response.consume",
         [iresp, tp](CallContext& cx, Args& a) -> Expected<Val> {
           IncomingResponse& r = iresp(cx, a[0]);
           if (r.consumed) return Val::errUnit();
           r.consumed = true;
           auto b = std::make_unique<IncomingBody>();
           b->reader = r.body;
           return Val::ok(own(cx, tp->incoming_body, std::move(b)));
         });

  addOutgoingHandler(l, *t);
  l.keepAlive(t);
  return t;
}

}  // namespace cumulus::wasi::http
