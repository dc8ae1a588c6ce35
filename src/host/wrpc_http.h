// wasi:http over the lattice (PROTOCOL.md §5.6): a component's wasi:http/incoming-handler export
// is served as `wrpc:http/incoming-handler@0.1.0.handle` — what wasmCloud's http-server provider
// calls — and the builtin http-server forwards a request to a component running on another host
// the same way. Request and response bodies stream on the async paths (`params.0.0`,
// `results.0.0`) in stream<u8> chunks; the response head (status, headers) is sent as soon as the
// component sets it. Trailers are sent as `none` and ignored when received.
#pragma once

#include <memory>
#include <string>

#include "base/error.h"
#include "component/types.h"
#include "host/components.h"
#include "lattice/wrpc.h"
#include "wasi/http/server.h"

namespace cumulus::host {

inline constexpr std::string_view kWrpcHttpHandler = "wrpc:http/incoming-handler@0.1.0";

// `func(request: request) -> result<response, error-code>` of wrpc:http/incoming-handler@0.1.0.
const component::CType& wrpcHttpHandleType();

// The handler serving component `id`'s HTTP export over wRPC.
lattice::WrpcStreamingHandler wrpcHttpHandler(ComponentManager& components, std::string id);

// Sends one HTTP request to the component served under `prefix` (`{lattice}.{id}`) and streams
// its response into `sink`. kNotFound when no host runs it.
Expected<void> forwardHttp(lattice::WrpcClient& client, const std::string& prefix,
                           const wasi::http::RequestHead& head,
                           std::shared_ptr<wasi::http::BodyReader> body,
                           wasi::http::ResponseSink& sink);

}  // namespace cumulus::host
