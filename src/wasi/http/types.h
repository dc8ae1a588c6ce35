// wasi:http 0.2 host objects and their registration (types, incoming-handler support,
// outgoing-handler). The server (server.h) and tests drive requests through the two seams here:
// a BodyReader supplies an incoming body, a ResponseSink receives the response as the guest
// produces it (head first, then body chunks, then the end), so bodies stream in both directions
// and never have to sit whole in memory.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "wasi/p2/ctx.h"

namespace cumulus::wasi::http {

using FieldList = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive ASCII comparison (header names, schemes).
bool iequals(std::string_view a, std::string_view b);

// Header name/value validation (RFC 9110 field syntax) and the headers a guest may not set.
bool validFieldName(std::string_view name);
bool validFieldValue(std::string_view value);
bool forbiddenField(std::string_view name);

struct Fields : Object {
  FieldList entries;
  bool immutable = false;
};

// Supplies an incoming body (request body on the server, response body on the client).
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  virtual StreamResult read(uint64_t max, bool blocking) = 0;
  // Trailers, once the body has ended (none by default); trailersReady says whether it has.
  virtual bool trailersReady() { return true; }
  virtual std::optional<FieldList> trailers() { return std::nullopt; }
};

// For BodyReader implementations: a read result holding the first `max` bytes of `buffer` (all
// of it when shorter), which are removed from it.
StreamResult takeFront(std::string& buffer, uint64_t max);

// Receives an outgoing body (response on the server, request on the client).
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  virtual Expected<void> start(uint16_t status, const FieldList& headers) = 0;
  virtual StreamResult write(std::string_view chunk) = 0;
  virtual Expected<void> finish(const FieldList* trailers) = 0;
  // The body will never be finished (the guest dropped it, or trapped).
  virtual void abort() {}
};

struct IncomingRequest : Object {
  std::string method;  // as sent ("GET", "PATCH", ...)
  std::optional<std::string> path_with_query, authority;
  std::optional<std::string> scheme;  // "http" / "https" / other
  FieldList headers;
  std::shared_ptr<BodyReader> body;
  bool consumed = false;
};

struct IncomingBody : Object {
  std::shared_ptr<BodyReader> reader;
  bool stream_taken = false;
};

struct FutureTrailers : Object {
  std::shared_ptr<BodyReader> reader;
  bool taken = false;
};

// Shared between an outgoing-response/-request, its outgoing-body and the body's stream.
struct OutgoingBodyState {
  ResponseSink* sink = nullptr;  // set once the response is handed to the host
  std::shared_ptr<void> keep_sink;  // owns `sink` when the body state does (client requests)
  std::string pending;           // written before the sink existed
  bool finished = false;
  bool failed = false;
  std::optional<FieldList> trailers;
  std::optional<uint64_t> content_length;  // declared by the guest's headers
  uint64_t written = 0;
  StreamResult write(std::string_view data);
};

struct OutgoingResponse : Object {
  uint16_t status = 200;
  std::shared_ptr<Fields> headers;
  std::shared_ptr<OutgoingBodyState> body;
  bool body_taken = false;
};

struct OutgoingBody : Object {
  std::shared_ptr<OutgoingBodyState> state;
  bool stream_taken = false;
};

// What the host learns from response-outparam.set.
struct ResponseSlot {
  bool set = false;
  std::optional<std::string> error;  // the guest answered with an error-code
  uint16_t status = 0;
  FieldList headers;
  std::shared_ptr<OutgoingBodyState> body;
  ResponseSink* sink = nullptr;  // where the head and body go
};

struct ResponseOutparam : Object {
  std::shared_ptr<ResponseSlot> slot;
};

struct OutgoingRequest : Object {
  std::string method = "GET";
  std::optional<std::string> path_with_query, authority, scheme;
  std::shared_ptr<Fields> headers;
  std::shared_ptr<OutgoingBodyState> body;
  bool body_taken = false;
};

struct RequestOptions : Object {
  std::optional<uint64_t> connect_timeout_ns, first_byte_timeout_ns, between_bytes_timeout_ns;
};

struct IncomingResponse : Object {
  uint16_t status = 0;
  FieldList headers;
  std::shared_ptr<BodyReader> body;
  bool consumed = false;
};

struct FutureIncomingResponse : Object {
  // Filled by the client when the response head arrived or the request failed.
  std::shared_ptr<struct ClientExchange> exchange;
  bool taken = false;
};

struct HttpTypes {
  const component::ResourceType *fields = nullptr, *incoming_request = nullptr,
                                *outgoing_request = nullptr, *request_options = nullptr,
                                *response_outparam = nullptr, *incoming_response = nullptr,
                                *incoming_body = nullptr, *future_trailers = nullptr,
                                *outgoing_response = nullptr, *outgoing_body = nullptr,
                                *future_incoming_response = nullptr;
  std::shared_ptr<Types> wasi;
};

// Registers wasi:http/types and wasi:http/outgoing-handler. Call after wasi::addToLinker.
std::shared_ptr<HttpTypes> addToLinker(component::Linker& linker, std::shared_ptr<Types> wasi);

// Registers the outgoing-handler (client.cpp).
void addOutgoingHandler(component::Linker& linker, HttpTypes& t);

// Method names <-> the WIT `method` variant.
component::Val methodVal(const std::string& method);
std::string methodName(const component::Val& v);

// error-code values
component::Val errorCode(uint32_t c, std::optional<std::string> message = std::nullopt);
inline constexpr uint32_t kErrConnectionRefused = 6, kErrConnectionTimeout = 8,
                          kErrDestinationNotFound = 2, kErrHttpProtocolError = 35,
                          kErrHttpResponseTimeout = 33, kErrHttpRequestDenied = 15,
                          kErrInternalError = 38, kErrHttpRequestUriInvalid = 19,
                          kErrTlsProtocolError = 12, kErrConnectionTerminated = 7,
                          kErrHttpResponseIncomplete = 25;

}  // namespace cumulus::wasi::http
