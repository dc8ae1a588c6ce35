// wasi:sockets (network, instance-network, tcp, tcp-create-socket, udp, udp-create-socket,
// ip-name-lookup) over non-blocking POSIX sockets.
//
// Policy: deny by default. Creating sockets, binding and connecting need an allow-list entry in
// WasiConfig::allowed_sockets ("ADDR:PORT" where either part may be "*"); name lookup needs
// allow_ip_name_lookup. A denied operation returns error-code.access-denied to the guest.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "wasi/p2/ctx.h"

namespace cumulus::wasi {

using component::CallContext;
using component::Val;
using Args = std::vector<Val>;

namespace {

// error-code cases, in WIT order.
enum Code : uint32_t {
  kUnknown,
  kAccessDenied,
  kNotSupported,
  kInvalidArgument,
  kOutOfMemory,
  kTimeout,
  kConcurrencyConflict,
  kNotInProgress,
  kWouldBlock,
  kInvalidState,
  kNewSocketLimit,
  kAddressNotBindable,
  kAddressInUse,
  kRemoteUnreachable,
  kConnectionRefused,
  kConnectionReset,
  kConnectionAborted,
  kDatagramTooLarge,
  kNameUnresolvable,
  kTemporaryResolverFailure,
  kPermanentResolverFailure,
};

Code fromErrno(int e) {
  switch (e) {
    case EACCES:
    case EPERM:
      return kAccessDenied;
    case EOPNOTSUPP:
    case EAFNOSUPPORT:
    case EPROTONOSUPPORT:
      return kNotSupported;
    case EINVAL:
    case EDESTADDRREQ:
      return kInvalidArgument;
    case ENOMEM:
    case ENOBUFS:
      return kOutOfMemory;
    case ETIMEDOUT:
      return kTimeout;
    case EALREADY:
      return kConcurrencyConflict;
    case EAGAIN:
    case EINPROGRESS:
      return kWouldBlock;
    case EISCONN:
    case ENOTCONN:
      return kInvalidState;
    case EMFILE:
    case ENFILE:
      return kNewSocketLimit;
    case EADDRNOTAVAIL:
      return kAddressNotBindable;
    case EADDRINUSE:
      return kAddressInUse;
    case EHOSTUNREACH:
    case ENETUNREACH:
    case ENETDOWN:
      return kRemoteUnreachable;
    case ECONNREFUSED:
      return kConnectionRefused;
    case ECONNRESET:
    case EPIPE:
      return kConnectionReset;
    case ECONNABORTED:
      return kConnectionAborted;
    case EMSGSIZE:
      return kDatagramTooLarge;
    default:
      return kUnknown;
  }
}

Val fail(Code c) { return Val::err(Val::enumCase(c)); }
Val failErrno() { return fail(fromErrno(errno)); }

// Owns a socket descriptor shared by a socket and the streams it handed out.
struct Fd {
  int fd = -1;
  // A TCP connection's bytes accepted by output-stream.write but not yet taken by the kernel
  // (TcpOutput); here so that shutdown(send) can send them before the FIN.
  std::string unsent;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Sends as much of fd.unsent as the socket takes without blocking; 0 or an errno.
// MSG_NOSIGNAL: a peer that went away is a stream error, not a SIGPIPE killing the host.
int sendUnsent(Fd& fd) {
  while (!fd.unsent.empty()) {
    ssize_t n = ::send(fd.fd, fd.unsent.data(), fd.unsent.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      return errno;
    }
    fd.unsent.erase(0, static_cast<size_t>(n));
  }
  return 0;
}

// Sends all of fd.unsent, waiting for the socket as needed; 0 or an errno.
int drainUnsent(Fd& fd) {
  while (!fd.unsent.empty()) {
    if (int e = sendUnsent(fd)) return e;
    if (fd.unsent.empty()) break;
    pollfd p{fd.fd, POLLOUT, 0};
    ::poll(&p, 1, -1);
  }
  return 0;
}

// A TCP connection's output stream. wasi:io promises that `write` of what `check-write` permitted
// never blocks, so a guest can interleave reading and writing one connection with poll: `write`
// hands the kernel what it takes now and keeps the rest in Fd::unsent; `check-write` permits
// nothing while bytes are unsent or the socket is not writable, and the stream's pollable waits
// for writability. (io.cpp's FdOutput blocks in write instead: with an echo peer and full
// buffers both sides then wait for each other forever.) Flush, the same function for flush and
// blocking-flush in io.cpp, waits until everything is sent.
class TcpOutput : public OutputStream {
 public:
  explicit TcpOutput(std::shared_ptr<Fd> fd) : fd_(std::move(fd)) {}
  ~TcpOutput() override { sendUnsent(*fd_); }  // best effort; unflushed bytes may be lost
  StreamResult checkWrite() override {
    if (failed_) return StreamResult::closed();
    if (int e = sendUnsent(*fd_)) return fail(e);
    StreamResult r;
    pollfd p{fd_->fd, POLLOUT, 0};
    if (fd_->unsent.empty() && ::poll(&p, 1, 0) > 0) r.count = kBudget;
    return r;
  }
  StreamResult write(std::string_view data) override {
    if (failed_) return StreamResult::closed();
    fd_->unsent.append(data);
    if (int e = sendUnsent(*fd_)) return fail(e);
    return {};
  }
  StreamResult flush() override {
    if (failed_) return StreamResult::closed();
    if (int e = drainUnsent(*fd_)) return fail(e);
    return {};
  }
  std::unique_ptr<Pollable> subscribe() override {
    auto p = std::make_unique<Pollable>();
    p->fd = fd_->fd;
    p->events = POLLOUT;
    return p;
  }

 private:
  static constexpr uint64_t kBudget = 64 * 1024;
  StreamResult fail(int e) {
    failed_ = true;  // after last-operation-failed the stream is closed
    fd_->unsent.clear();
    return StreamResult::failed(std::strerror(e), e);
  }
  std::shared_ptr<Fd> fd_;
  bool failed_ = false;
};

struct Network : Object {};

// ---- addresses ----

struct SockAddr {
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family() const { return ss.ss_family; }
  uint16_t port() const {
    return ntohs(family() == AF_INET ? reinterpret_cast<const sockaddr_in&>(ss).sin_port
                                     : reinterpret_cast<const sockaddr_in6&>(ss).sin6_port);
  }
  std::string host() const {
    char buf[INET6_ADDRSTRLEN] = {};
    if (family() == AF_INET)
      inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(ss).sin_addr, buf, sizeof buf);
    else
      inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr, buf, sizeof buf);
    return buf;
  }
  bool unspecified() const {
    if (family() == AF_INET) return reinterpret_cast<const sockaddr_in&>(ss).sin_addr.s_addr == 0;
    return IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr);
  }
};

SockAddr fromVal(const Val& v) {
  SockAddr a;
  const Val& r = v.payload();
  const auto& f = r.elems();
  if (v.discriminant() == 0) {
    auto& in = reinterpret_cast<sockaddr_in&>(a.ss);
    in.sin_family = AF_INET;
    in.sin_port = htons(static_cast<uint16_t>(f[0].asU32()));
    const auto& o = f[1].elems();
    uint8_t b[4];
    for (int i = 0; i < 4; ++i) b[i] = static_cast<uint8_t>(o[i].asU32());
    std::memcpy(&in.sin_addr, b, 4);
    a.len = sizeof(sockaddr_in);
  } else {
    auto& in6 = reinterpret_cast<sockaddr_in6&>(a.ss);
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(static_cast<uint16_t>(f[0].asU32()));
    in6.sin6_flowinfo = htonl(f[1].asU32());
    const auto& s = f[2].elems();
    for (int i = 0; i < 8; ++i) {
      uint16_t x = static_cast<uint16_t>(s[i].asU32());
      in6.sin6_addr.s6_addr[2 * i] = static_cast<uint8_t>(x >> 8);
      in6.sin6_addr.s6_addr[2 * i + 1] = static_cast<uint8_t>(x);
    }
    in6.sin6_scope_id = f[3].asU32();
    a.len = sizeof(sockaddr_in6);
  }
  return a;
}

Val ipVal(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(ss);
    const auto* b = reinterpret_cast<const uint8_t*>(&in.sin_addr);
    return Val::variant(0,
                        {Val::tuple({Val::u8(b[0]), Val::u8(b[1]), Val::u8(b[2]), Val::u8(b[3])})});
  }
  const auto& in6 = reinterpret_cast<const sockaddr_in6&>(ss);
  std::vector<Val> s;
  for (int i = 0; i < 8; ++i)
    s.push_back(Val::u16(static_cast<uint16_t>((in6.sin6_addr.s6_addr[2 * i] << 8) |
                                               in6.sin6_addr.s6_addr[2 * i + 1])));
  return Val::variant(1, {Val::tuple(std::move(s))});
}

Val toVal(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(ss);
    return Val::variant(0, {Val::record({Val::u16(ntohs(in.sin_port)), ipVal(ss).payload()})});
  }
  const auto& in6 = reinterpret_cast<const sockaddr_in6&>(ss);
  return Val::variant(
      1, {Val::record({Val::u16(ntohs(in6.sin6_port)), Val::u32(ntohl(in6.sin6_flowinfo)),
                       ipVal(ss).payload(), Val::u32(in6.sin6_scope_id)})});
}

int familyOf(const Val& v) { return v.discriminant() == 0 ? AF_INET : AF_INET6; }
Val familyVal(int af) { return Val::enumCase(af == AF_INET ? 0 : 1); }

bool matches(const std::string& pattern, const std::string& host, uint16_t port) {
  size_t colon = pattern.rfind(':');
  std::string ph = colon == std::string::npos ? pattern : pattern.substr(0, colon);
  std::string pp = colon == std::string::npos ? "*" : pattern.substr(colon + 1);
  if (!ph.empty() && ph.front() == '[' && ph.back() == ']') ph = ph.substr(1, ph.size() - 2);
  if (pattern == "*") return true;
  return (ph == "*" || ph == host) && (pp == "*" || pp == std::to_string(port));
}

bool allowed(CallContext& cx, const SockAddr& a) {
  for (const auto& p : ctx(cx).config().allowed_sockets)
    if (matches(p, a.host(), a.port())) return true;
  return false;
}

bool anyAllowed(CallContext& cx) { return !ctx(cx).config().allowed_sockets.empty(); }

int newSocket(int af, int type) { return ::socket(af, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0); }

// Reads/writes a socket option as an int.
Val getInt(int fd, int level, int opt, bool as_bool, uint64_t scale = 1) {
  int v = 0;
  socklen_t len = sizeof v;
  if (::getsockopt(fd, level, opt, &v, &len) < 0) return failErrno();
  if (as_bool) return Val::ok(Val::boolean(v != 0));
  return Val::ok(Val::u64(static_cast<uint64_t>(v) * scale));
}
Val setInt(int fd, int level, int opt, int v) {
  if (::setsockopt(fd, level, opt, &v, sizeof v) < 0) return failErrno();
  return Val::okUnit();
}

// ---- TCP ----

struct TcpSocket : Object {
  enum class State {
    kUnbound,
    kBindStarted,
    kBound,
    kListenStarted,
    kListening,
    kConnecting,
    kConnectReady,
    kConnected,
    kClosed
  };
  std::shared_ptr<Fd> fd;
  int family = AF_INET;
  State state = State::kUnbound;
  int backlog = 128;
  int connect_error = 0;
};

struct UdpSocket : Object {
  std::shared_ptr<Fd> fd;
  int family = AF_INET;
  bool bind_started = false, bound = false;
  std::optional<SockAddr> remote;
  uint32_t stream_generation = 0;
};

struct IncomingDatagrams : Object {
  std::shared_ptr<Fd> fd;
};
struct OutgoingDatagrams : Object {
  std::shared_ptr<Fd> fd;
  int family = AF_INET;
  std::optional<SockAddr> remote;
};

struct ResolveStream : Object {
  std::vector<sockaddr_storage> addresses;
  size_t next = 0;
  std::optional<Code> error;
};

// local-address / remote-address of a socket (TCP or UDP), as result<ip-socket-address>.
Val socketAddress(int fd, bool local) {
  SockAddr addr;
  addr.len = sizeof addr.ss;
  int r = local ? ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr.ss), &addr.len)
                : ::getpeername(fd, reinterpret_cast<sockaddr*>(&addr.ss), &addr.len);
  if (r < 0) return failErrno();
  return Val::ok(toVal(addr.ss));
}

std::unique_ptr<Pollable> fdPollable(int fd, short events) {
  auto p = std::make_unique<Pollable>();
  p->fd = fd;
  p->events = events;
  return p;
}

Val streamsFor(CallContext& cx, const Types& t, const std::shared_ptr<Fd>& fd) {
  Val in = own(cx, t.input_stream, fdInputStream(fd->fd, std::nullopt, fd));
  Val out = own(cx, t.output_stream, std::make_unique<TcpOutput>(fd));
  return Val::tuple({std::move(in), std::move(out)});
}

}  // namespace

void addSockets(component::Linker& l, Types& t) {
  Types* tp = &t;
  const std::string network = iface("wasi:sockets/network");
  t.network = l.resource(network, "network", dropObject);
  l.func(network, "network-error-code", [](CallContext& cx, Args& a) -> Expected<Val> {
    const IoError& e = ctx(cx).table().get<IoError>(a[0]);
    if (!e.errno_value) return Val::none();
    return Val::some(Val::enumCase(fromErrno(e.errno_value)));
  });
  l.func(iface("wasi:sockets/instance-network"), "instance-network",
         [tp](CallContext& cx, Args&) -> Expected<Val> {
           return own(cx, tp->network, std::make_unique<Network>());
         });

  // ---- tcp ----
  const std::string tcp = iface("wasi:sockets/tcp");
  t.tcp_socket = l.resource(tcp, "tcp-socket", dropObject);
  l.func(iface("wasi:sockets/tcp-create-socket"), "create-tcp-socket",
         [tp](CallContext& cx, Args& a) -> Expected<Val> {
           if (!anyAllowed(cx)) return fail(kAccessDenied);
           auto s = std::make_unique<TcpSocket>();
           s->family = a[0].discriminant() == 0 ? AF_INET : AF_INET6;
           int fd = newSocket(s->family, SOCK_STREAM);
           if (fd < 0) return failErrno();
           s->fd = std::make_shared<Fd>(fd);
           if (s->family == AF_INET6) setInt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
           return Val::ok(own(cx, tp->tcp_socket, std::move(s)));
         });
  using S = TcpSocket::State;
  auto sock = [](CallContext& cx, const Val& v) -> TcpSocket& {
    return ctx(cx).table().get<TcpSocket>(v);
  };
  l.func(tcp, "[method]tcp-socket.start-bind", [sock](CallContext& cx, Args& a) -> Expected<Val> {
    TcpSocket& s = sock(cx, a[0]);
    if (s.state != S::kUnbound) return fail(kInvalidState);
    if (familyOf(a[2]) != s.family) return fail(kInvalidArgument);
    SockAddr addr = fromVal(a[2]);
    if (!allowed(cx, addr)) return fail(kAccessDenied);
    setInt(s.fd->fd, SOL_SOCKET, SO_REUSEADDR, 1);
    if (::bind(s.fd->fd, reinterpret_cast<sockaddr*>(&addr.ss), addr.len) < 0) return failErrno();
    s.state = S::kBindStarted;
    return Val::okUnit();
  });
  l.func(tcp, "[method]tcp-socket.finish-bind", [sock](CallContext& cx, Args& a) -> Expected<Val> {
    TcpSocket& s = sock(cx, a[0]);
    if (s.state != S::kBindStarted) return fail(kNotInProgress);
    s.state = S::kBound;
    return Val::okUnit();
  });
  l.func(tcp, "[method]tcp-socket.start-connect",
         [sock](CallContext& cx, Args& a) -> Expected<Val> {
           TcpSocket& s = sock(cx, a[0]);
           if (s.state != S::kUnbound && s.state != S::kBound) return fail(kInvalidState);
           if (familyOf(a[2]) != s.family) return fail(kInvalidArgument);
           SockAddr addr = fromVal(a[2]);
           if (addr.port() == 0 || addr.unspecified()) return fail(kInvalidArgument);
           if (!allowed(cx, addr)) return fail(kAccessDenied);
           int r = ::connect(s.fd->fd, reinterpret_cast<sockaddr*>(&addr.ss), addr.len);
           if (r < 0 && errno != EINPROGRESS) return failErrno();
           s.state = S::kConnecting;
           return Val::okUnit();
         });
  l.func(tcp, "[method]tcp-socket.finish-connect",
         [sock, tp](CallContext& cx, Args& a) -> Expected<Val> {
           TcpSocket& s = sock(cx, a[0]);
           if (s.state != S::kConnecting) return fail(kNotInProgress);
           pollfd p{s.fd->fd, POLLOUT, 0};
           if (::poll(&p, 1, 0) <= 0) return fail(kWouldBlock);
           int err = 0;
           socklen_t len = sizeof err;
           ::getsockopt(s.fd->fd, SOL_SOCKET, SO_ERROR, &err, &len);
           if (err) {
             s.state = S::kClosed;
             return fail(fromErrno(err));
           }
           s.state = S::kConnected;
           return Val::ok(streamsFor(cx, *tp, s.fd));
         });
  l.func(tcp, "[method]tcp-socket.start-listen", [sock](CallContext& cx, Args& a) -> Expected<Val> {
    TcpSocket& s = sock(cx, a[0]);
    if (s.state != S::kBound) return fail(kInvalidState);
    if (::listen(s.fd->fd, s.backlog) < 0) return failErrno();
    s.state = S::kListenStarted;
    return Val::okUnit();
  });
  l.func(tcp, "[method]tcp-socket.finish-listen",
         [sock](CallContext& cx, Args& a) -> Expected<Val> {
           TcpSocket& s = sock(cx, a[0]);
           if (s.state != S::kListenStarted) return fail(kNotInProgress);
           s.state = S::kListening;
           return Val::okUnit();
         });
  l.func(tcp, "[method]tcp-socket.accept", [sock, tp](CallContext& cx, Args& a) -> Expected<Val> {
    TcpSocket& s = sock(cx, a[0]);
    if (s.state != S::kListening) return fail(kInvalidState);
    int fd = ::accept4(s.fd->fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return failErrno();
    auto c = std::make_unique<TcpSocket>();
    c->fd = std::make_shared<Fd>(fd);
    c->family = s.family;
    c->state = S::kConnected;
    auto fdp = c->fd;
    Val sockv = own(cx, tp->tcp_socket, std::move(c));
    Val streams = streamsFor(cx, *tp, fdp);
    auto& e = streams.elems();
    return Val::ok(Val::tuple({std::move(sockv), std::move(e[0]), std::move(e[1])}));
  });
  auto address = [sock](bool local) {
    return [sock, local](CallContext& cx, Args& a) -> Expected<Val> {
      TcpSocket& s = sock(cx, a[0]);
      if (local ? s.state == S::kUnbound : s.state != S::kConnected) return fail(kInvalidState);
      return socketAddress(s.fd->fd, local);
    };
  };
  l.func(tcp, "[method]tcp-socket.local-address", address(true));
  l.func(tcp, "[method]tcp-socket.remote-address", address(false));
  l.func(tcp, "[method]tcp-socket.is-listening", [sock](CallContext& cx, Args& a) -> Expected<Val> {
    return Val::boolean(sock(cx, a[0]).state == S::kListening);
  });
  l.func(tcp, "[method]tcp-socket.address-family",
         [sock](CallContext& cx, Args& a) -> Expected<Val> {
           return familyVal(sock(cx, a[0]).family);
         });
  l.func(tcp, "[method]tcp-socket.set-listen-backlog-size",
         [sock](CallContext& cx, Args& a) -> Expected<Val> {
           TcpSocket& s = sock(cx, a[0]);
           uint64_t v = a[1].asU64();
           if (v == 0) return fail(kInvalidArgument);
           s.backlog = static_cast<int>(std::min<uint64_t>(v, INT32_MAX));
           if (s.state == S::kListening && ::listen(s.fd->fd, s.backlog) < 0) return failErrno();
           return Val::okUnit();
         });
  struct Opt {
    const char* name;
    int level, opt;
    bool boolean;
    uint64_t scale;  // guest units per socket-option unit (durations are ns, options seconds)
    bool u8 = false, u32 = false;
  };
  const Opt opts[] = {
      {"keep-alive-enabled", SOL_SOCKET, SO_KEEPALIVE, true, 1},
      {"keep-alive-idle-time", IPPROTO_TCP, TCP_KEEPIDLE, false, 1000000000ull},
      {"keep-alive-interval", IPPROTO_TCP, TCP_KEEPINTVL, false, 1000000000ull},
      {"keep-alive-count", IPPROTO_TCP, TCP_KEEPCNT, false, 1, false, true},
      {"receive-buffer-size", SOL_SOCKET, SO_RCVBUF, false, 1},
      {"send-buffer-size", SOL_SOCKET, SO_SNDBUF, false, 1},
  };
  for (const Opt& o : opts) {
    l.func(tcp, fmt::format("[method]tcp-socket.{}", o.name),
           [sock, o](CallContext& cx, Args& a) -> Expected<Val> {
             Val r = getInt(sock(cx, a[0]).fd->fd, o.level, o.opt, o.boolean, o.scale);
             if (o.u32 && r.discriminant() == 0) return Val::ok(Val::u32(r.payload().asU32()));
             return r;
           });
    l.func(tcp, fmt::format("[method]tcp-socket.set-{}", o.name),
           [sock, o](CallContext& cx, Args& a) -> Expected<Val> {
             int fd = sock(cx, a[0]).fd->fd;
             if (o.boolean) return setInt(fd, o.level, o.opt, a[1].asBool() ? 1 : 0);
             uint64_t v = a[1].asU64();
             if (v == 0) return fail(kInvalidArgument);
             uint64_t n = std::max<uint64_t>(1, v / o.scale);
             return setInt(fd, o.level, o.opt, static_cast<int>(std::min<uint64_t>(n, INT32_MAX)));
           });
  }
  auto hopLevel = [](int family) {
    return family == AF_INET ? std::pair{IPPROTO_IP, IP_TTL}
                             : std::pair{IPPROTO_IPV6, IPV6_UNICAST_HOPS};
  };
  l.func(tcp, "[method]tcp-socket.hop-limit",
         [sock, hopLevel](CallContext& cx, Args& a) -> Expected<Val> {
           TcpSocket& s = sock(cx, a[0]);
           auto [lvl, opt] = hopLevel(s.family);
           Val r = getInt(s.fd->fd, lvl, opt, false);
           if (r.discriminant() != 0) return r;
           return Val::ok(Val::u8(static_cast<uint8_t>(r.payload().asU64())));
         });
  l.func(tcp, "[method]tcp-socket.set-hop-limit",
         [sock, hopLevel](CallContext& cx, Args& a) -> Expected<Val> {
           TcpSocket& s = sock(cx, a[0]);
           if (a[1].asU32() == 0) return fail(kInvalidArgument);
           auto [lvl, opt] = hopLevel(s.family);
           return setInt(s.fd->fd, lvl, opt, static_cast<int>(a[1].asU32()));
         });
  l.func(tcp, "[method]tcp-socket.subscribe",
         [sock, tp](CallContext& cx, Args& a) -> Expected<Val> {
           TcpSocket& s = sock(cx, a[0]);
           if (s.state == S::kConnecting)
             return own(cx, tp->pollable, fdPollable(s.fd->fd, POLLOUT));
           if (s.state == S::kListening) return own(cx, tp->pollable, fdPollable(s.fd->fd, POLLIN));
           return own(cx, tp->pollable, readyPollable());
         });
  l.func(tcp, "[method]tcp-socket.shutdown", [sock](CallContext& cx, Args& a) -> Expected<Val> {
    TcpSocket& s = sock(cx, a[0]);
    if (s.state != S::kConnected) return fail(kInvalidState);
    static const int how[] = {SHUT_RD, SHUT_WR, SHUT_RDWR};
    uint32_t k = a[1].discriminant();
    if (k > 2) return fail(kInvalidArgument);
    if (k != 0) drainUnsent(*s.fd);  // written bytes go before the FIN
    if (::shutdown(s.fd->fd, how[k]) < 0) return failErrno();
    return Val::okUnit();
  });

  // ---- udp ----
  const std::string udp = iface("wasi:sockets/udp");
  t.udp_socket = l.resource(udp, "udp-socket", dropObject);
  t.incoming_datagram_stream = l.resource(udp, "incoming-datagram-stream", dropObject);
  t.outgoing_datagram_stream = l.resource(udp, "outgoing-datagram-stream", dropObject);
  auto usock = [](CallContext& cx, const Val& v) -> UdpSocket& {
    return ctx(cx).table().get<UdpSocket>(v);
  };
  l.func(iface("wasi:sockets/udp-create-socket"), "create-udp-socket",
         [tp](CallContext& cx, Args& a) -> Expected<Val> {
           if (!anyAllowed(cx)) return fail(kAccessDenied);
           auto s = std::make_unique<UdpSocket>();
           s->family = a[0].discriminant() == 0 ? AF_INET : AF_INET6;
           int fd = newSocket(s->family, SOCK_DGRAM);
           if (fd < 0) return failErrno();
           s->fd = std::make_shared<Fd>(fd);
           if (s->family == AF_INET6) setInt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
           return Val::ok(own(cx, tp->udp_socket, std::move(s)));
         });
  l.func(udp, "[method]udp-socket.start-bind", [usock](CallContext& cx, Args& a) -> Expected<Val> {
    UdpSocket& s = usock(cx, a[0]);
    if (s.bind_started || s.bound) return fail(kInvalidState);
    if (familyOf(a[2]) != s.family) return fail(kInvalidArgument);
    SockAddr addr = fromVal(a[2]);
    if (!allowed(cx, addr)) return fail(kAccessDenied);
    if (::bind(s.fd->fd, reinterpret_cast<sockaddr*>(&addr.ss), addr.len) < 0) return failErrno();
    s.bind_started = true;
    return Val::okUnit();
  });
  l.func(udp, "[method]udp-socket.finish-bind", [usock](CallContext& cx, Args& a) -> Expected<Val> {
    UdpSocket& s = usock(cx, a[0]);
    if (!s.bind_started) return fail(kNotInProgress);
    s.bind_started = false;
    s.bound = true;
    return Val::okUnit();
  });
  l.func(udp, "[method]udp-socket.stream", [usock, tp](CallContext& cx, Args& a) -> Expected<Val> {
    UdpSocket& s = usock(cx, a[0]);
    if (!s.bound) return fail(kInvalidState);
    if (a[1].discriminant() == 1) {
      SockAddr addr = fromVal(a[1].payload());
      if (addr.family() != s.family || addr.port() == 0 || addr.unspecified())
        return fail(kInvalidArgument);
      if (!allowed(cx, addr)) return fail(kAccessDenied);
      if (::connect(s.fd->fd, reinterpret_cast<sockaddr*>(&addr.ss), addr.len) < 0)
        return failErrno();
      s.remote = addr;
    } else if (s.remote) {
      sockaddr unspec{};
      unspec.sa_family = AF_UNSPEC;
      ::connect(s.fd->fd, &unspec, sizeof unspec);
      s.remote.reset();
    }
    auto in = std::make_unique<IncomingDatagrams>();
    in->fd = s.fd;
    auto out = std::make_unique<OutgoingDatagrams>();
    out->fd = s.fd;
    out->family = s.family;
    out->remote = s.remote;
    Val iv = own(cx, tp->incoming_datagram_stream, std::move(in));
    Val ov = own(cx, tp->outgoing_datagram_stream, std::move(out));
    return Val::ok(Val::tuple({std::move(iv), std::move(ov)}));
  });
  auto uaddress = [usock](bool local) {
    return [usock, local](CallContext& cx, Args& a) -> Expected<Val> {
      UdpSocket& s = usock(cx, a[0]);
      if (local ? !s.bound : !s.remote) return fail(kInvalidState);
      return socketAddress(s.fd->fd, local);
    };
  };
  l.func(udp, "[method]udp-socket.local-address", uaddress(true));
  l.func(udp, "[method]udp-socket.remote-address", uaddress(false));
  l.func(udp, "[method]udp-socket.address-family",
         [usock](CallContext& cx, Args& a) -> Expected<Val> {
           return familyVal(usock(cx, a[0]).family);
         });
  l.func(udp, "[method]udp-socket.unicast-hop-limit",
         [usock, hopLevel](CallContext& cx, Args& a) -> Expected<Val> {
           UdpSocket& s = usock(cx, a[0]);
           auto [lvl, opt] = hopLevel(s.family);
           Val r = getInt(s.fd->fd, lvl, opt, false);
           if (r.discriminant() != 0) return r;
           return Val::ok(Val::u8(static_cast<uint8_t>(r.payload().asU64())));
         });
  l.func(udp, "[method]udp-socket.set-unicast-hop-limit",
         [usock, hopLevel](CallContext& cx, Args& a) -> Expected<Val> {
           UdpSocket& s = usock(cx, a[0]);
           if (a[1].asU32() == 0) return fail(kInvalidArgument);
           auto [lvl, opt] = hopLevel(s.family);
           return setInt(s.fd->fd, lvl, opt, static_cast<int>(a[1].asU32()));
         });
  for (auto [name, opt] :
       {std::pair{"receive-buffer-size", SO_RCVBUF}, std::pair{"send-buffer-size", SO_SNDBUF}}) {
    l.func(udp, fmt::format("[method]udp-socket.{}", name),
           [usock, opt = opt](CallContext& cx, Args& a) -> Expected<Val> {
             return getInt(usock(cx, a[0]).fd->fd, SOL_SOCKET, opt, false);
           });
    l.func(udp, fmt::format("[method]udp-socket.set-{}", name),
           [usock, opt = opt](CallContext& cx, Args& a) -> Expected<Val> {
             uint64_t v = a[1].asU64();
             if (v == 0) return fail(kInvalidArgument);
             return setInt(usock(cx, a[0]).fd->fd, SOL_SOCKET, opt,
                           static_cast<int>(std::min<uint64_t>(v, INT32_MAX)));
           });
  }
  l.func(udp, "[method]udp-socket.subscribe", [tp](CallContext& cx, Args&) -> Expected<Val> {
    return own(cx, tp->pollable, readyPollable());
  });
  l.func(udp, "[method]incoming-datagram-stream.receive",
         [](CallContext& cx, Args& a) -> Expected<Val> {
           auto& in = ctx(cx).table().get<IncomingDatagrams>(a[0]);
           uint64_t max = std::min<uint64_t>(a[1].asU64(), 1024);
           std::vector<Val> out;
           std::string buf(65536, '\0');
           while (out.size() < max) {
             sockaddr_storage from{};
             socklen_t len = sizeof from;
             ssize_t n = ::recvfrom(in.fd->fd, buf.data(), buf.size(), 0,
                                    reinterpret_cast<sockaddr*>(&from), &len);
             if (n < 0) {
               if (errno == EAGAIN || errno == EWOULDBLOCK) break;
               if (out.empty()) return failErrno();
               break;
             }
             out.push_back(
                 Val::record({Val::bytes(buf.substr(0, static_cast<size_t>(n))), toVal(from)}));
           }
           return Val::ok(Val::list(std::move(out)));
         });
  l.func(udp, "[method]incoming-datagram-stream.subscribe",
         [tp](CallContext& cx, Args& a) -> Expected<Val> {
           auto& in = ctx(cx).table().get<IncomingDatagrams>(a[0]);
           return own(cx, tp->pollable, fdPollable(in.fd->fd, POLLIN));
         });
  l.func(udp, "[method]outgoing-datagram-stream.check-send",
         [](CallContext&, Args&) -> Expected<Val> { return Val::ok(Val::u64(64)); });
  l.func(udp, "[method]outgoing-datagram-stream.send",
         [](CallContext& cx, Args& a) -> Expected<Val> {
           auto& out = ctx(cx).table().get<OutgoingDatagrams>(a[0]);
           uint64_t sent = 0;
           for (const Val& d : a[1].elems()) {
             const auto& f = d.elems();
             const std::string& data = f[0].asBytes();
             ssize_t n;
             if (f[1].discriminant() == 1) {
               SockAddr addr = fromVal(f[1].payload());
               if (addr.family() != out.family || addr.port() == 0) return fail(kInvalidArgument);
               if (out.remote &&
                   (addr.host() != out.remote->host() || addr.port() != out.remote->port()))
                 return fail(kInvalidArgument);
               if (!allowed(cx, addr)) return fail(kAccessDenied);
               n = out.remote ? ::send(out.fd->fd, data.data(), data.size(), 0)
                              : ::sendto(out.fd->fd, data.data(), data.size(), 0,
                                         reinterpret_cast<sockaddr*>(&addr.ss), addr.len);
             } else {
               if (!out.remote) return fail(kInvalidArgument);
               n = ::send(out.fd->fd, data.data(), data.size(), 0);
             }
             if (n < 0) {
               if (errno == EAGAIN || errno == EWOULDBLOCK) break;
               if (sent == 0) return failErrno();
               break;
             }
             ++sent;
           }
           return Val::ok(Val::u64(sent));
         });
  l.func(udp, "[method]outgoing-datagram-stream.subscribe",
         [tp](CallContext& cx, Args& a) -> Expected<Val> {
           auto& out = ctx(cx).table().get<OutgoingDatagrams>(a[0]);
           return own(cx, tp->pollable, fdPollable(out.fd->fd, POLLOUT));
         });

  // ---- ip-name-lookup ----
  const std::string lookup = iface("wasi:sockets/ip-name-lookup");
  t.resolve_address_stream = l.resource(lookup, "resolve-address-stream", dropObject);
  l.func(lookup, "resolve-addresses", [tp](CallContext& cx, Args& a) -> Expected<Val> {
    if (!ctx(cx).config().allow_ip_name_lookup) return fail(kAccessDenied);
    const std::string& name = a[1].asString();
    if (name.empty() || name.find('\0') != std::string::npos) return fail(kInvalidArgument);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    int r = ::getaddrinfo(name.c_str(), nullptr, &hints, &res);
    auto s = std::make_unique<ResolveStream>();
    if (r == EAI_NONAME || r == EAI_NODATA) return fail(kNameUnresolvable);
    if (r == EAI_AGAIN) return fail(kTemporaryResolverFailure);
    if (r != 0) return fail(kPermanentResolverFailure);
    for (addrinfo* p = res; p; p = p->ai_next) {
      sockaddr_storage ss{};
      std::memcpy(&ss, p->ai_addr, std::min<size_t>(p->ai_addrlen, sizeof ss));
      bool dup = false;
      for (const auto& x : s->addresses)
        if (ipVal(x) == ipVal(ss)) dup = true;
      if (!dup) s->addresses.push_back(ss);
    }
    ::freeaddrinfo(res);
    return Val::ok(own(cx, tp->resolve_address_stream, std::move(s)));
  });
  l.func(lookup, "[method]resolve-address-stream.resolve-next-address",
         [](CallContext& cx, Args& a) -> Expected<Val> {
           auto& s = ctx(cx).table().get<ResolveStream>(a[0]);
           if (s.next >= s.addresses.size()) return Val::ok(Val::none());
           return Val::ok(Val::some(ipVal(s.addresses[s.next++])));
         });
  l.func(lookup, "[method]resolve-address-stream.subscribe",
         [tp](CallContext& cx, Args&) -> Expected<Val> {
           return own(cx, tp->pollable, readyPollable());
         });
}

}  // namespace cumulus::wasi
