// The built-in HTTP/1.1 server and the serving core that runs wasi:http components.
//
// Server: Boost.Asio accepts connections and waits for readability asynchronously (an idle or
// slow connection costs no thread); once a request head is complete (parsed by Boost.Beast's
// parser) it is handled synchronously on the I/O thread that saw it, reading the body and
// writing the response with bounded waits on the socket. Threads = cores by default. Keep-alive,
// pipelined requests served in order, limits on header size, body size, idle and request time,
// graceful stop.
//
// ComponentService: the serving core used by `cumulus serve` and the host's http-server
// capability. Fresh instance per request from the component's plan (wasmCloud semantics), a
// pool of pre-instantiated instances, optional instance reuse, a deadline per request; a trap
// gives that request a 500 (or a cut connection if the response had started) and a log line.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "component/runtime.h"
#include "wasi/http/types.h"

namespace cumulus::wasi::http {

struct ServerConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: pick a free port
  unsigned threads = 0;  // 0: one per core
  uint32_t max_header_bytes = 64 * 1024;
  uint64_t max_body_bytes = 1ull << 32;
  std::chrono::milliseconds idle_timeout{60000};  // waiting for (the rest of) a request head
  std::chrono::milliseconds io_timeout{30000};    // a stalled read or write during a request
};

struct RequestHead {
  std::string method, target;
  std::optional<std::string> authority;
  FieldList headers;
  unsigned version = 11;
};

// Serves one request: writes the response through `sink`. An error after nothing was sent
// becomes a 500 with the message; after the head was sent, the connection is cut.
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  virtual Expected<void> handle(const RequestHead& head, std::shared_ptr<BodyReader> body,
                                ResponseSink& sink) = 0;
};

class HttpServer {
 public:
  static Expected<std::unique_ptr<HttpServer>> start(const ServerConfig& config,
                                                     std::shared_ptr<RequestHandler> handler);
  ~HttpServer();
  uint16_t port() const;
  // Stops accepting, lets in-flight requests finish (up to `grace`), closes the rest.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));
  // Blocks until stop() was called (from another thread or a signal handler thread).
  void wait();

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

struct ServiceOptions {
  size_t pool_size = 4;          // pre-instantiated instances kept ready
  bool reuse_instances = false;  // return an instance to the pool after a successful request
  std::chrono::milliseconds deadline{30000};
  WasiConfig wasi;  // per-request WASI context template (env, args, preopens, stdio sinks)
  component::InstantiateOptions instantiate;  // memory limit per instance
  std::string name = "component";  // in log lines
};

class ComponentService : public RequestHandler {
 public:
  // The linker must have WASI and wasi:http registered and outlive the service.
  static Expected<std::shared_ptr<ComponentService>> create(
      std::shared_ptr<const component::ComponentPlan> plan, std::shared_ptr<HttpTypes> types,
      ServiceOptions options);
  Expected<void> handle(const RequestHead& head, std::shared_ptr<BodyReader> body,
                        ResponseSink& sink) override;
  uint64_t instancesCreated() const { return created_.load(); }

 private:
  struct Ready {
    std::unique_ptr<WasiCtx> ctx;
    std::shared_ptr<component::ComponentInstance> instance;
  };
  ComponentService() = default;
  Expected<Ready> make();
  std::shared_ptr<const component::ComponentPlan> plan_;
  std::shared_ptr<HttpTypes> types_;
  ServiceOptions options_;
  component::FuncHandle handle_;
  std::mutex mutex_;
  std::vector<Ready> pool_;  // GUARDED_BY(mutex_)
  std::atomic<uint64_t> created_{0};
};

// Registers WASI 0.2 + wasi:http in `linker`; returns the http resource types.
std::shared_ptr<HttpTypes> addWasiHttp(component::Linker& linker);

}  // namespace cumulus::wasi::http
