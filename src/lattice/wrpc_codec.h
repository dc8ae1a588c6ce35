// The wRPC value encoding (PROTOCOL.md §5.4): component-model values (`Val`) to and from the
// bytes that travel on a wRPC invocation's synchronous parameter and result channels, guided by
// the value's component type (`CType`); plus the async paths of a type (§5.5) and the chunk
// format of streams on those paths.
//
// The encoding is self-delimiting only given the type: there is no framing, tag or length other
// than what the type asks for (LEB128 lengths for strings and lists, LEB128 discriminants for
// variants). A parameter list or result list is encoded as a tuple: the values concatenated.
//
// Representation choices where `Val` and the wire differ:
//  * `list<u8>` decodes to Val::bytes; encoding accepts Val::bytes or a list of u8 values.
//  * `own<R>` / `borrow<R>` travel as opaque byte strings (like `list<u8>`) whose meaning is up to
//    the application; they decode to Val::bytes and encode from Val::bytes. A Val handle (a rep in
//    this process' resource tables) has no wire form: the caller maps it first (kUnsupported).
//  * `stream<T>` / `future<T>` decode to a two-case variant: case 0 (`asyncPending()`) means the
//    value follows on the value's async path; case 1 (`asyncReady(v)`) carries it inline (a
//    stream's complete contents as a list, a future's value, no payload for `future` without a
//    type). Encoding accepts the same forms (or a unit Val for pending); the Rust encoders always
//    send pending. An inline stream must be non-empty, because an empty list on the wire *means*
//    pending: send pending and an empty chunk on the path instead.
//  * `map<K, V>` (not in wRPC 0.0.1) is encoded like `list<tuple<K, V>>`; fixed-length lists
//    `list<T, n>` (neither) as n elements without a count. Both are our choice, unconfirmed.
//  * `flags` are ceil(n/8) bytes, little-endian. Rust's bindgen *encoder* writes the full
//    representation width instead (4 bytes for 17-24 flags; PROTOCOL.md Appendix A.6), so when a
//    tuple containing such flags fails to decode, decodeTuple retries with the 4-byte form and
//    accepts it if that parses the whole input. Bits beyond the declared flags are rejected.
//  * `error-context` and untyped `stream` are kUnsupported.
//
// Error contract: encoders return kInvalidArgument when a value does not have its type's shape
// (wrong kind, case out of range, wrong field count), naming the type. Decoders never trust the
// input: they reject truncated input (kInvalidArgument with detail kTruncated), bad bools, bad
// discriminants, overlong or overflowing LEB128, invalid UTF-8 and chars, and list counts larger
// than the bytes left (every element takes at least one byte), so a hostile count cannot make
// them allocate more than a small multiple of the input. Nothing throws. All functions are pure
// and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "component/types.h"
#include "component/value.h"

namespace cumulus::lattice::wrpc {

using component::CType;
using component::CTypePtr;
using component::Val;

// Error::detail() of a decode error caused by input that ends too early (as opposed to bytes
// that are wrong): callers reading a byte stream use it to wait for more.
inline constexpr int kTruncated = 1;
inline bool isTruncated(const Error& e) { return e.detail() == kTruncated; }

// --- values ---------------------------------------------------------------------------------

// Appends the encoding of `v` (of type `type`) to `out`. On error `out` may hold a partial value.
Expected<void> encodeValue(const CType& type, const Val& v, std::string& out);
// Decodes one value of type `type` starting at `pos` (advanced past it).
Expected<Val> decodeValue(const CType& type, std::string_view in, size_t& pos);

// A tuple of values (a parameter list or result list): the encodings concatenated.
Expected<std::string> encodeTuple(std::span<const CTypePtr> types, std::span<const Val> values);
// Decodes exactly `types.size()` values that must use up all of `in` (trailing bytes are an
// error). Empty `in` for a non-empty tuple is reported as "incomplete": on a result channel it
// means the peer closed it without a value (its handler failed or trapped; §5.2 item 5).
Expected<std::vector<Val>> decodeTuple(std::span<const CTypePtr> types, std::string_view in);

// A function type's parameter types and result types (0 or 1), in tuple order.
std::vector<CTypePtr> paramTypes(const CType& func);
std::vector<CTypePtr> resultTypes(const CType& func);

// --- stream<T> / future<T> values ---------------------------------------------------------

inline Val asyncPending() { return Val::variant(0); }
inline Val asyncReady(Val v) {
  std::vector<Val> payload;
  payload.push_back(std::move(v));
  return Val::variant(1, std::move(payload));
}
inline Val asyncReadyUnit() { return Val::variant(1); }  // `future` without a type
// True for the decoded form of a stream/future whose value follows on its async path.
bool isAsyncPending(const Val& v);

// One chunk of a `stream<T>` on its async path: LEB128 element count + the elements (for
// `stream<u8>` the raw bytes). A chunk with no elements ends the stream. `chunk` is a list Val
// (or bytes for u8).
Expected<void> encodeStreamChunk(const CType& elem, const Val& chunk, std::string& out);
std::string encodeByteChunk(std::string_view bytes);  // stream<u8>
inline std::string streamEnd() { return std::string(1, '\0'); }
// Decodes the chunk at the front of `buf`. nullopt: `buf` holds only part of a chunk (read more
// from the path and retry with the longer buffer); otherwise the chunk (a list Val, Val::bytes for
// u8; empty = end of stream) and `consumed` its length.
Expected<std::optional<Val>> decodeStreamChunk(const CType& elem, std::string_view buf,
                                               size_t& consumed);

// --- async paths (§5.5; wrpc_paths.cpp) -----------------------------------------------------

// Indices from the parameter/result tuple down to an async value; nullopt = any element of a list
// or stream (a wildcard when subscribing; the concrete element index when sending).
using AsyncPath = std::vector<std::optional<uint32_t>>;

struct AsyncPaths {
  std::vector<AsyncPath> nested;  // async values inside the value, relative to it
  bool self = false;              // the value itself is (or transparently holds) a stream/future
};

// Follows wrpc-introspect: record fields and tuple members add their index; list and stream
// elements a wildcard; a future's value index 0; option, result and variant are transparent (a
// stream inside an option makes the option itself async).
AsyncPaths asyncPaths(const CType& type);
// The async paths of a parameter or result tuple: sorted, without duplicates; the first index is
// the parameter/result position. Empty when nothing is async (the common case).
std::vector<AsyncPath> asyncTuplePaths(std::span<const CTypePtr> types);

// `base.0.*.1`: the subject to subscribe for a path (wildcards as `*`). `base` as is when empty.
std::string subscribeSubject(std::string_view base, const AsyncPath& path);
// `base.0.3.1`: the subject one concrete async value is sent on.
std::string indexSubject(std::string_view base, std::span<const uint32_t> indices);

}  // namespace cumulus::lattice::wrpc
