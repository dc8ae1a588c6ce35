// HTTP/1.1 server and component serving core (see server.h).
//
// Responses are formatted here rather than with Beast's serializer: a streamed body with
// trailers needs chunked encoding with a trailer section, which Beast's buffer_body serializer
// does not emit, and writing the head together with small bodies in one send() is what keeps
// hello-world latency low.
#include "wasi/http/server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include <condition_variable>
#include <list>
#include <mutex>
#include <set>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "base/log.h"

namespace cumulus::wasi::http {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
using component::Val;

namespace {

// Waits until `fd` is ready for `events` or the timeout passes.
bool waitFd(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd p{fd, events, 0};
  int r;
  do {
    r = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (r < 0 && errno == EINTR);
  return r > 0;
}

const char* reason(unsigned status) {
  auto r = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
  return r.empty() ? "Unknown" : r.data();
}

}  // namespace

// ---- connections ----

class Connection;

struct HttpServer::Impl {
  ServerConfig config;
  std::shared_ptr<RequestHandler> handler;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::vector<std::thread> threads;
  std::mutex mutex;
  std::condition_variable cv;
  std::set<std::shared_ptr<Connection>> connections;  // GUARDED_BY(mutex)
  bool stopping = false;                              // GUARDED_BY(mutex)
  size_t busy = 0;                                    // GUARDED_BY(mutex): requests in flight
  std::atomic<bool> stopped{false};

  void accept();
  void remove(const std::shared_ptr<Connection>& c) {
    std::lock_guard lock(mutex);
    connections.erase(c);
  }
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(HttpServer::Impl& server, tcp::socket sock)
      : server_(server), sock_(std::move(sock)), timer_(server.io) {
    sock_.set_option(tcp::no_delay(true));
    sock_.non_blocking(true);
    fd_ = sock_.native_handle();
    ::fcntl(fd_, F_SETFD, FD_CLOEXEC);  // Asio does not; see start()
  }

  void start() { waitForRequest(); }
  void close() {
    boost::system::error_code ec;
    timer_.cancel();
    sock_.shutdown(tcp::socket::shutdown_both, ec);
    sock_.close(ec);
  }

  // The request body, read synchronously from the socket while the handler runs.
  class Body : public BodyReader {
   public:
    explicit Body(Connection& c) : c_(c) {}
    StreamResult read(uint64_t max, bool blocking) override { return c_.readBody(max, blocking); }
    bool trailersReady() override { return detached_ || !c_.parser_ || c_.parser_->is_done(); }
    // A chunked request's trailer section: Beast appends its fields to the message's after the
    // head's (head_fields_ of them).
    std::optional<FieldList> trailers() override {
      if (detached_ || !c_.parser_ || !c_.parser_->is_done()) return std::nullopt;
      FieldList out;
      size_t i = 0;
      for (const auto& f : c_.parser_->get())
        if (i++ >= c_.head_fields_)
          out.emplace_back(std::string(f.name_string()), std::string(f.value()));
      if (out.empty()) return std::nullopt;
      return out;
    }
    void detach() { detached_ = true; }
    Connection& c_;
    bool detached_ = false;
  };

  // The response, written synchronously to the socket.
  class Sink : public ResponseSink {
   public:
    Sink(Connection& c, bool head_only) : c_(c), head_only_(head_only) {}
    Expected<void> start(uint16_t status, const FieldList& headers) override {
      if (started) return makeError(ErrorCode::kInternal, "response already started");
      started = true;
      std::string& o = c_.out_;
      o += fmt::format("HTTP/1.1 {} {}\r\n", status, reason(status));
      bool has_length = false;
      for (const auto& [n, v] : headers) {
        if (iequals(n, "content-length")) has_length = true;
        if (iequals(n, "transfer-encoding") || iequals(n, "connection")) continue;
        o += n;
        o += ": ";
        o += v;
        o += "\r\n";
      }
      no_body_ = head_only_ || status == 204 || status == 304 || status < 200;
      chunked_ = !has_length && !no_body_;
      // HTTP/1.0 has no chunked coding (RFC 9112 §6.1): the body ends when the connection does.
      if (chunked_ && c_.version_ < 11) {
        chunked_ = false;
        c_.keep_alive_ = false;
      }
      if (chunked_) o += "transfer-encoding: chunked\r\n";
      if (!c_.keep_alive_) o += "connection: close\r\n";
      o += "\r\n";
      return {};
    }
    StreamResult write(std::string_view chunk) override {
      if (!started || finished) return StreamResult::closed();
      if (chunk.empty() || no_body_) return {};
      std::string& o = c_.out_;
      if (chunked_) o += fmt::format("{:x}\r\n", chunk.size());
      o.append(chunk);
      if (chunked_) o += "\r\n";
      if (o.size() >= 16384 && !c_.flush()) return StreamResult::failed("client disconnected");
      return {};
    }
    Expected<void> finish(const FieldList* trailers) override {
      if (!started) return makeError(ErrorCode::kInternal, "finish before start");
      finished = true;
      if (chunked_) {
        c_.out_ += "0\r\n";
        if (trailers)
          for (const auto& [n, v] : *trailers) c_.out_ += fmt::format("{}: {}\r\n", n, v);
        c_.out_ += "\r\n";
      }
      if (!c_.flush()) return makeError(ErrorCode::kIo, "client disconnected");
      return {};
    }
    bool started = false, finished = false;

   private:
    Connection& c_;
    bool head_only_;
    bool chunked_ = false, no_body_ = false;
  };

 private:
  friend class Body;

  void waitForRequest() {
    timer_.expires_after(server_.config.idle_timeout);
    auto self = shared_from_this();
    timer_.async_wait([self](boost::system::error_code ec) {
      if (!ec) self->close();
    });
    sock_.async_wait(tcp::socket::wait_read, [self](boost::system::error_code ec) {
      self->timer_.cancel();
      if (ec) return self->finish();
      self->onReadable();
    });
  }

  void finish() {
    close();
    server_.remove(shared_from_this());
  }

  // Reads what is available (at most 256 KiB, so a fast uploader cannot make the buffer grow
  // without bound); returns false on EOF or error.
  bool fill() {
    char buf[16384];
    for (int i = 0; i < 16; ++i) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) {
        in_.append(buf, static_cast<size_t>(n));
        if (static_cast<size_t>(n) < sizeof buf) return true;
        continue;
      }
      if (n == 0) return false;
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK;
    }
    return true;
  }

  bool fillBlocking() {
    size_t before = in_.size();
    while (in_.size() == before) {
      if (!waitFd(fd_, POLLIN, server_.config.io_timeout)) return false;
      if (!fill()) return in_.size() > before;
    }
    return true;
  }

  bool flush() {
    sent_any_ = sent_any_ || !out_.empty();
    size_t off = 0;
    while (off < out_.size()) {
      ssize_t n = ::send(fd_, out_.data() + off, out_.size() - off, MSG_NOSIGNAL);
      if (n > 0) {
        off += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) &&
          waitFd(fd_, POLLOUT, server_.config.io_timeout))
        continue;
      out_.clear();
      broken_ = true;
      return false;
    }
    out_.clear();
    return true;
  }

  void onReadable() {
    if (!fill()) return finish();
    serveBuffered();
  }

  // Parses and serves every complete request in the buffer, then waits for more.
  void serveBuffered() {
    while (true) {
      if (!parser_) {
        parser_.emplace();
        parser_->header_limit(server_.config.max_header_bytes);
        parser_->body_limit(server_.config.max_body_bytes);
        parser_->eager(true);
      }
      boost::beast::error_code ec;
      size_t used = in_.empty() ? 0 : parser_->put(asio::buffer(in_.data(), in_.size()), ec);
      in_.erase(0, used);
      if (ec == bhttp::error::need_more || (!ec && !parser_->is_header_done())) {
        if (in_.size() > server_.config.max_header_bytes) return reject(431, "header too large");
        return waitForRequest();
      }
      if (ec && ec != bhttp::error::need_buffer) {
        if (ec == bhttp::error::header_limit) return reject(431, "header too large");
        return reject(400, ec.message());
      }
      if (!serveOne()) return finish();
      parser_.reset();
      if (!keep_alive_) return finish();
      if (in_.empty()) return waitForRequest();
    }
  }

  void reject(unsigned status, const std::string& why) {
    keep_alive_ = false;
    out_ = fmt::format("HTTP/1.1 {} {}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n"
                       "connection: close\r\n\r\n{}\n",
                       status, reason(status), why.size() + 1, why);
    flush();
    finish();
  }

  StreamResult readBody(uint64_t max, bool blocking) {
    if (broken_) return StreamResult::failed("client disconnected");
    if (expect_continue_) {  // the client waits for this before sending the body
      expect_continue_ = false;
      if (!sent_any_) {  // ahead of a response head the guest may have buffered already
        out_.insert(0, "HTTP/1.1 100 Continue\r\n\r\n");
        if (!flush()) return StreamResult::failed("client disconnected");
      }
    }
    StreamResult r;
    max = std::min<uint64_t>(max, 1 << 20);
    if (max == 0) return r;
    r.data.resize(max);
    while (true) {
      if (parser_->is_done()) {
        r.data.clear();
        return StreamResult::closed();
      }
      auto& body = parser_->get().body();
      body.data = r.data.data();
      body.size = max;
      boost::beast::error_code ec;
      size_t used = parser_->put(asio::buffer(in_.data(), in_.size()), ec);
      in_.erase(0, used);
      size_t got = max - body.size;
      if (ec && ec != bhttp::error::need_buffer && ec != bhttp::error::need_more) {
        broken_ = true;
        return StreamResult::failed(ec.message());
      }
      if (got > 0 || parser_->is_done()) {
        if (got == 0) return StreamResult::closed();
        r.data.resize(got);
        return r;
      }
      if (used > 0) continue;  // consumed framing (a chunk header) only: parse on
      if (!blocking && !waitFd(fd_, POLLIN, std::chrono::milliseconds(0))) {
        r.data.clear();
        return r;
      }
      if (!fillBlocking()) {
        broken_ = true;
        return StreamResult::failed("client disconnected or stalled mid-body");
      }
    }
  }

  // Serves the request whose head the parser holds; false = close the connection.
  bool serveOne() {
    auto& req = parser_->get();
    RequestHead head;
    head.method = std::string(req.method_string());
    head.target = std::string(req.target());
    head.version = req.version();
    for (const auto& f : req) {
      head.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
      if (f.name() == bhttp::field::host) head.authority = std::string(f.value());
    }
    head_fields_ = head.headers.size();
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    auto expect = req.find(bhttp::field::expect);
    expect_continue_ = expect != req.end() && boost::beast::iequals(expect->value(), "100-continue");
    sent_any_ = false;
    {
      std::lock_guard lock(server_.mutex);
      if (server_.stopping) keep_alive_ = false;
      ++server_.busy;
    }
    auto body = std::make_shared<Body>(*this);
    Sink sink(*this, head.method == "HEAD");
    auto r = server_.handler->handle(head, body, sink);
    body->detach();
    {
      std::lock_guard lock(server_.mutex);
      --server_.busy;
    }
    server_.cv.notify_all();
    if (!r.ok() || !sink.finished) {
      if (sink.started) return false;  // mid-response failure: cut the connection
      std::string msg = r.ok() ? "the component did not finish its response" : r.error().message();
      out_.clear();
      out_ = fmt::format(
          "HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\ncontent-length: "
          "{}\r\n{}\r\n{}\n",
          msg.size() + 1, keep_alive_ ? "" : "connection: close\r\n", msg);
      if (!flush()) return false;
    }
    if (broken_) return false;
    // An unread request body must be skipped before the next request (bounded).
    if (!parser_->is_done()) {
      uint64_t skipped = 0;
      while (!parser_->is_done() && skipped < (1 << 20)) {
        StreamResult s = readBody(65536, true);
        if (s.status != StreamResult::Status::kOk) break;
        skipped += s.data.size();
      }
      if (!parser_->is_done()) return false;
    }
    return true;
  }

  HttpServer::Impl& server_;
  tcp::socket sock_;
  asio::steady_timer timer_;
  int fd_ = -1;
  std::string in_, out_;
  std::optional<bhttp::request_parser<bhttp::buffer_body>> parser_;
  size_t head_fields_ = 0;  // fields of the request head (the rest are trailers)
  bool keep_alive_ = true;
  bool broken_ = false;
  bool expect_continue_ = false;
  bool sent_any_ = false;  // for the current request
  unsigned version_ = 11;  // of the current request (10: HTTP/1.0)
};

void HttpServer::Impl::accept() {
  acceptor.async_accept([this](boost::system::error_code ec, tcp::socket sock) {
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      log().warn("http: accept failed: {}", ec.message());
    } else {
      auto c = std::make_shared<Connection>(*this, std::move(sock));
      bool ok;
      {
        std::lock_guard lock(mutex);
        ok = !stopping;
        if (ok) connections.insert(c);
      }
      if (ok) c->start();
    }
    accept();
  });
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { stop(std::chrono::milliseconds(0)); }

Expected<std::unique_ptr<HttpServer>> HttpServer::start(const ServerConfig& config,
                                                        std::shared_ptr<RequestHandler> handler) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->handler = std::move(handler);
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(config.host, ec);
  if (ec) return makeError(ErrorCode::kInvalidArgument, "bad listen address '{}': {}", config.host, ec.message());
  tcp::endpoint ep(addr, config.port);
  impl->acceptor.open(ep.protocol(), ec);
  // Not inherited by child processes: the optimizing tier runs gcc in the background for up to
  // tens of minutes, and an inherited listener would keep the port bound (and accepting into a
  // backlog nobody serves) after this process exits.
  if (!ec) ::fcntl(impl->acceptor.native_handle(), F_SETFD, FD_CLOEXEC);
  if (!ec) impl->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return makeError(ErrorCode::kIo, "cannot listen on {}:{}: {}", config.host, config.port,
                     ec.message());
  impl->accept();
  unsigned n = config.threads ? config.threads : std::max(1u, std::thread::hardware_concurrency());
  Impl* p = impl.get();
  for (unsigned i = 0; i < n; ++i)
    impl->threads.emplace_back([p] {
      auto guard = asio::make_work_guard(p->io);
      p->io.run();
    });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

uint16_t HttpServer::port() const {
  boost::system::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

void HttpServer::stop(std::chrono::milliseconds grace) {
  Impl& s = *impl_;
  if (s.stopped.exchange(true)) return;
  std::set<std::shared_ptr<Connection>> conns;
  {
    std::unique_lock lock(s.mutex);
    s.stopping = true;
    asio::post(s.io, [&s] {
      boost::system::error_code ec;
      s.acceptor.close(ec);
    });
    s.cv.wait_for(lock, grace, [&] { return s.busy == 0; });
    conns = s.connections;
  }
  for (const auto& c : conns) asio::post(s.io, [c] { c->close(); });
  s.io.stop();
  for (auto& t : s.threads)
    if (t.joinable()) t.join();
  std::lock_guard lock(s.mutex);
  s.connections.clear();
  s.cv.notify_all();
}

void HttpServer::wait() {
  std::unique_lock lock(impl_->mutex);
  impl_->cv.wait(lock, [&] { return impl_->stopped.load(); });
}

// ---- the serving core ----

Expected<std::shared_ptr<ComponentService>> ComponentService::create(
    std::shared_ptr<const component::ComponentPlan> plan, std::shared_ptr<HttpTypes> types,
    ServiceOptions options) {
  auto s = std::shared_ptr<ComponentService>(new ComponentService());
  s->plan_ = std::move(plan);
  s->types_ = std::move(types);
  s->options_ = std::move(options);
  CUMULUS_TRY(Ready first, s->make());
  auto h = first.instance->exportFunc("wasi:http/incoming-handler@0.2.0", "handle");
  if (!h)
    return makeError(ErrorCode::kInvalidArgument,
                     "{} does not export wasi:http/incoming-handler (is it a command? try "
                     "`cumulus run`)",
                     s->options_.name);
  s->handle_ = *h;
  s->pool_.push_back(std::move(first));
  for (size_t i = 1; i < s->options_.pool_size; ++i) {
    CUMULUS_TRY(Ready r, s->make());
    s->pool_.push_back(std::move(r));
  }
  return s;
}

Expected<ComponentService::Ready> ComponentService::make() {
  Ready r;
  r.ctx = std::make_unique<WasiCtx>(options_.wasi);
  CUMULUS_TRY(r.instance, plan_->instantiate(r.ctx.get(), options_.instantiate));
  ++created_;
  return r;
}

Expected<void> ComponentService::handle(const RequestHead& head, std::shared_ptr<BodyReader> body,
                                        ResponseSink& sink) {
  Ready r;
  {
    std::lock_guard lock(mutex_);
    if (!pool_.empty()) {
      r = std::move(pool_.back());
      pool_.pop_back();
    }
  }
  if (!r.instance) {
    CUMULUS_TRY(r, make());
  }
  WasiCtx& wc = *r.ctx;
  auto req = std::make_unique<IncomingRequest>();
  req->method = head.method;
  req->path_with_query = head.target;
  req->authority = head.authority;
  req->scheme = "http";
  req->headers = head.headers;
  req->body = std::move(body);
  auto slot = std::make_shared<ResponseSlot>();
  slot->sink = &sink;
  auto out = std::make_unique<ResponseOutparam>();
  out->slot = slot;
  std::vector<Val> args;
  args.push_back(Val::own(types_->incoming_request, wc.table().push(std::move(req))));
  args.push_back(Val::own(types_->response_outparam, wc.table().push(std::move(out))));
  engine::CallOptions co;
  co.deadline = std::chrono::steady_clock::now() + options_.deadline;
  auto result = r.instance->call(handle_, std::move(args), co);
  Expected<void> outcome;
  if (!result.ok()) {
    log().warn("http: {} {} {}: {}", options_.name, head.method, head.target,
              result.error().message());
    outcome = Error(ErrorCode::kTrap, fmt::format("{} failed: {}", options_.name,
                                                  result.error().message()));
  } else if (!slot->set) {
    outcome = makeError(ErrorCode::kInternal, "{} returned without setting a response",
                        options_.name);
  } else if (slot->error) {
    outcome = makeError(ErrorCode::kInternal, "{} answered with error {}", options_.name,
                        *slot->error);
  } else if (slot->body && !slot->body->finished) {
    // The guest returned without finishing the body (or dropped it): the response is incomplete.
    outcome = makeError(ErrorCode::kInternal, "{} did not finish the response body",
                        options_.name);
  }
  // Recycle or replace the instance off the request's critical path (the response is sent).
  if (options_.reuse_instances && outcome.ok()) {
    std::lock_guard lock(mutex_);
    pool_.push_back(std::move(r));
  } else {
    r = Ready{};
    bool refill;
    {
      std::lock_guard lock(mutex_);
      refill = pool_.size() < options_.pool_size;
    }
    if (refill) {
      auto fresh = make();
      if (fresh.ok()) {
        std::lock_guard lock(mutex_);
        pool_.push_back(std::move(*fresh));
      }
    }
  }
  return outcome;
}

std::shared_ptr<HttpTypes> addWasiHttp(component::Linker& linker) {
  return addToLinker(linker, wasi::addToLinker(linker));
}

}  // namespace cumulus::wasi::http
