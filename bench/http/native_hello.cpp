// native_hello: the practical ceiling for `cumulus serve` on a hello world, with no wasm.
//
//   native_hello [--listen ADDR:PORT] [--threads N]
//
// It copies the structure of src/wasi/http/server.cpp on purpose, so that the gap between this
// and `cumulus serve` is the cost of the component (instance, canonical ABI, wasi:http host
// objects) and not of a different server design:
//   - one asio::io_context run by N threads (default: one per core), async accept;
//   - per connection: an idle timer plus async_wait(wait_read); when readable, recv() what is
//     there into a std::string and feed Beast's request_parser<buffer_body> (eager, same limits);
//   - per request: the RequestHead copy the server makes (method, target, every header as two
//     std::strings), the busy counter under the server mutex, then a response formatted by hand
//     exactly like the server's Sink: status line with fmt, headers appended, chunked framing
//     (the hello-world components do not declare a content-length), one send() per response.
// The body is the C fixture's ("Hello from C over wasi:http!\n" with content-type text/plain), so
// the bytes on the wire match `cumulus serve hello_http.component.wasm` exactly.
// Prints "serving native on http://ADDR:PORT/" once listening (port 0 picks a free one), stops on
// SIGINT/SIGTERM.
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;

namespace {

constexpr std::string_view kBody = "Hello from C over wasi:http!\n";

struct Server {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::mutex mutex;
  size_t busy = 0;  // GUARDED_BY(mutex), as in the real server
  std::chrono::milliseconds idle_timeout{60000};
  void accept();
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Server& server, tcp::socket sock)
      : server_(server), sock_(std::move(sock)), timer_(server.io) {
    sock_.set_option(tcp::no_delay(true));
    sock_.non_blocking(true);
    fd_ = sock_.native_handle();
  }
  void start() { waitForRequest(); }

 private:
  void waitForRequest() {
    timer_.expires_after(server_.idle_timeout);
    auto self = shared_from_this();
    timer_.async_wait([self](boost::system::error_code ec) {
      if (!ec) self->close();
    });
    sock_.async_wait(tcp::socket::wait_read, [self](boost::system::error_code ec) {
      self->timer_.cancel();
      if (ec) return self->close();
      if (!self->fill()) return self->close();
      self->serveBuffered();
    });
  }

  void close() {
    boost::system::error_code ec;
    timer_.cancel();
    sock_.shutdown(tcp::socket::shutdown_both, ec);
    sock_.close(ec);
  }

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

  bool flush() {
    size_t off = 0;
    while (off < out_.size()) {
      ssize_t n = ::send(fd_, out_.data() + off, out_.size() - off, MSG_NOSIGNAL);
      if (n > 0) {
        off += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        pollfd p{fd_, POLLOUT, 0};
        if (::poll(&p, 1, 30000) > 0) continue;
      }
      out_.clear();
      return false;
    }
    out_.clear();
    return true;
  }

  void serveBuffered() {
    while (true) {
      if (!parser_) {
        parser_.emplace();
        parser_->header_limit(64 * 1024);
        parser_->body_limit(1ull << 32);
        parser_->eager(true);
      }
      boost::beast::error_code ec;
      size_t used = in_.empty() ? 0 : parser_->put(asio::buffer(in_.data(), in_.size()), ec);
      in_.erase(0, used);
      if (ec == bhttp::error::need_more || (!ec && !parser_->is_header_done()))
        return waitForRequest();
      if (ec && ec != bhttp::error::need_buffer) return close();
      if (!serveOne()) return close();
      parser_.reset();
      if (!keep_alive_) return close();
      if (in_.empty()) return waitForRequest();
    }
  }

  bool serveOne() {
    auto& req = parser_->get();
    // The copy the real server hands to its handler.
    std::string method(req.method_string()), target(req.target());
    std::optional<std::string> authority;
    std::vector<std::pair<std::string, std::string>> headers;
    for (const auto& f : req) {
      headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
      if (f.name() == bhttp::field::host) authority = std::string(f.value());
    }
    keep_alive_ = req.keep_alive();
    {
      std::lock_guard lock(server_.mutex);
      ++server_.busy;
    }
    // The response, as the server's Sink formats a status, one header and a streamed body.
    bool head_only = method == "HEAD";
    out_ += fmt::format("HTTP/1.1 {} {}\r\n", 200, "OK");
    out_ += "content-type";
    out_ += ": ";
    out_ += "text/plain";
    out_ += "\r\n";
    out_ += "transfer-encoding: chunked\r\n";
    if (!keep_alive_) out_ += "connection: close\r\n";
    out_ += "\r\n";
    if (!head_only) {
      out_ += fmt::format("{:x}\r\n", kBody.size());
      out_.append(kBody);
      out_ += "\r\n0\r\n\r\n";
    }
    bool ok = flush();
    {
      std::lock_guard lock(server_.mutex);
      --server_.busy;
    }
    if (!ok) return false;
    // Skip an unread request body (a hello world never reads it).
    while (!parser_->is_done()) {
      char sink[65536];
      auto& body = parser_->get().body();
      body.data = sink;
      body.size = sizeof sink;
      boost::beast::error_code ec;
      size_t used = parser_->put(asio::buffer(in_.data(), in_.size()), ec);
      in_.erase(0, used);
      if (ec && ec != bhttp::error::need_buffer && ec != bhttp::error::need_more) return false;
      if (parser_->is_done()) break;
      if (used == 0 && body.size == sizeof sink) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 30000) <= 0 || !fill()) return false;
      }
    }
    return true;
  }

  Server& server_;
  tcp::socket sock_;
  asio::steady_timer timer_;
  int fd_ = -1;
  std::string in_, out_;
  std::optional<bhttp::request_parser<bhttp::buffer_body>> parser_;
  bool keep_alive_ = true;
};

void Server::accept() {
  acceptor.async_accept([this](boost::system::error_code ec, tcp::socket sock) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) std::make_shared<Connection>(*this, std::move(sock))->start();
    accept();
  });
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:8080";
  unsigned threads = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--listen" && i + 1 < argc) {
      listen = argv[++i];
    } else if (a == "--threads" && i + 1 < argc) {
      threads = static_cast<unsigned>(std::stoul(argv[++i]));
    } else {
      fmt::print(stderr, "usage: native_hello [--listen ADDR:PORT] [--threads N]\n");
      return 2;
    }
  }
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) {
    fmt::print(stderr, "error: --listen wants ADDRESS:PORT\n");
    return 2;
  }
  std::string host = listen.substr(0, colon);
  auto port = static_cast<uint16_t>(std::stoul(listen.substr(colon + 1)));

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  Server server;
  boost::system::error_code ec;
  tcp::endpoint ep(asio::ip::make_address(host, ec), port);
  if (!ec) server.acceptor.open(ep.protocol(), ec);
  if (!ec) server.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) server.acceptor.bind(ep, ec);
  if (!ec) server.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    fmt::print(stderr, "error: cannot listen on {}: {}\n", listen, ec.message());
    return 1;
  }
  server.accept();
  unsigned n = threads ? threads : std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  for (unsigned i = 0; i < n; ++i)
    pool.emplace_back([&server] {
      auto guard = asio::make_work_guard(server.io);
      server.io.run();
    });
  fmt::print("serving native on http://{}:{}/\n", host, server.acceptor.local_endpoint().port());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&set, &sig);
  server.io.stop();
  for (auto& t : pool) t.join();
  return 0;
}
