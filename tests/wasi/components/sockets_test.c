// A wasi:cli/run@0.2.6 command component in plain C (no binding generator, no libc) that drives
// Cumulus's wasi:sockets host against real peers. tests/wasi/sockets_test.sh starts the peers and
// picks the scenario with the program's arguments:
//   tcp-echo PORT            connect to 127.0.0.1:PORT, send a line, half-close, read the echo
//   tcp-bulk PORT BYTES      stream BYTES through an echo server with small socket buffers,
//                            writing and reading interleaved with poll (check-write must never
//                            promise more than the host can take without blocking, or both
//                            sides stall)
//   tcp-listen               bind 127.0.0.1:0, print "listening on PORT", accept one connection
//                            and echo it until the peer half-closes
//   tcp-self6                over IPv6 inside the guest: listen on [::1]:0, connect to it,
//                            accept, exchange a message both ways
//   udp-echo PORT            datagrams to a UDP echo server, unconnected then connected
//   tcp-reset PORT           connect to a peer that resets the connection; reads and writes
//                            must then fail as stream errors (not kill the host with SIGPIPE)
//   connect-fails PORT CODE  a TCP connect to 127.0.0.1:PORT fails with error-code CODE
//   udp-send-fails PORT CODE a datagram to 127.0.0.1:PORT fails with error-code CODE
//   lookup NAME              resolve NAME, print every address
//   denied                   with nothing allowed: every socket and lookup is access-denied
//   bad-args                 invalid-state / invalid-argument / not-in-progress cases
// Results go to stdout; `run` returns err on any unexpected outcome.
//
// The core signatures follow the canonical ABI (`jco embed --dummy` + `jco print` over a world
// importing these interfaces; see toolchains/c-http in the fixtures). Built by
// tests/wasi/build_test_components.sh with clang-14 and jco.
#include <stdint.h>

#define IMPORT(mod, name) __attribute__((import_module(mod), import_name(name)))
#define NET "wasi:sockets/network@0.2.6"
#define INET "wasi:sockets/instance-network@0.2.6"
#define TCP "wasi:sockets/tcp@0.2.6"
#define TCPC "wasi:sockets/tcp-create-socket@0.2.6"
#define UDP "wasi:sockets/udp@0.2.6"
#define UDPC "wasi:sockets/udp-create-socket@0.2.6"
#define DNS "wasi:sockets/ip-name-lookup@0.2.6"
#define IO "wasi:io/streams@0.2.6"
#define POLL "wasi:io/poll@0.2.6"
#define ERR "wasi:io/error@0.2.6"

// An ip-socket-address flattens to 12 i32s: the case, then the larger (ipv6) payload.
#define A12 int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, int32_t, \
            int32_t, int32_t, int32_t
#define F12(f) f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11]

IMPORT(INET, "instance-network") int32_t instance_network(void);
IMPORT(NET, "[resource-drop]network") void network_drop(int32_t);

IMPORT(TCPC, "create-tcp-socket") void tcp_create(int32_t family, int32_t ret);
IMPORT(TCP, "[method]tcp-socket.start-bind") void tcp_start_bind(int32_t, int32_t, A12, int32_t);
IMPORT(TCP, "[method]tcp-socket.finish-bind") void tcp_finish_bind(int32_t, int32_t);
IMPORT(TCP, "[method]tcp-socket.start-connect") void tcp_start_connect(int32_t, int32_t, A12, int32_t);
IMPORT(TCP, "[method]tcp-socket.finish-connect") void tcp_finish_connect(int32_t, int32_t);
IMPORT(TCP, "[method]tcp-socket.start-listen") void tcp_start_listen(int32_t, int32_t);
IMPORT(TCP, "[method]tcp-socket.finish-listen") void tcp_finish_listen(int32_t, int32_t);
IMPORT(TCP, "[method]tcp-socket.accept") void tcp_accept(int32_t, int32_t);
IMPORT(TCP, "[method]tcp-socket.local-address") void tcp_local_address(int32_t, int32_t);
IMPORT(TCP, "[method]tcp-socket.remote-address") void tcp_remote_address(int32_t, int32_t);
IMPORT(TCP, "[method]tcp-socket.is-listening") int32_t tcp_is_listening(int32_t);
IMPORT(TCP, "[method]tcp-socket.address-family") int32_t tcp_address_family(int32_t);
IMPORT(TCP, "[method]tcp-socket.set-listen-backlog-size") void tcp_set_backlog(int32_t, int64_t, int32_t);
IMPORT(TCP, "[method]tcp-socket.keep-alive-enabled") void tcp_keep_alive(int32_t, int32_t);
IMPORT(TCP, "[method]tcp-socket.set-keep-alive-enabled") void tcp_set_keep_alive(int32_t, int32_t, int32_t);
IMPORT(TCP, "[method]tcp-socket.keep-alive-idle-time") void tcp_keep_idle(int32_t, int32_t);
IMPORT(TCP, "[method]tcp-socket.set-keep-alive-idle-time") void tcp_set_keep_idle(int32_t, int64_t, int32_t);
IMPORT(TCP, "[method]tcp-socket.keep-alive-count") void tcp_keep_count(int32_t, int32_t);
IMPORT(TCP, "[method]tcp-socket.set-keep-alive-count") void tcp_set_keep_count(int32_t, int32_t, int32_t);
IMPORT(TCP, "[method]tcp-socket.hop-limit") void tcp_hop_limit(int32_t, int32_t);
IMPORT(TCP, "[method]tcp-socket.set-hop-limit") void tcp_set_hop_limit(int32_t, int32_t, int32_t);
IMPORT(TCP, "[method]tcp-socket.receive-buffer-size") void tcp_recv_buf(int32_t, int32_t);
IMPORT(TCP, "[method]tcp-socket.set-receive-buffer-size") void tcp_set_recv_buf(int32_t, int64_t, int32_t);
IMPORT(TCP, "[method]tcp-socket.set-send-buffer-size") void tcp_set_send_buf(int32_t, int64_t, int32_t);
IMPORT(TCP, "[method]tcp-socket.subscribe") int32_t tcp_subscribe(int32_t);
IMPORT(TCP, "[method]tcp-socket.shutdown") void tcp_shutdown(int32_t, int32_t, int32_t);
IMPORT(TCP, "[resource-drop]tcp-socket") void tcp_drop(int32_t);

IMPORT(UDPC, "create-udp-socket") void udp_create(int32_t family, int32_t ret);
IMPORT(UDP, "[method]udp-socket.start-bind") void udp_start_bind(int32_t, int32_t, A12, int32_t);
IMPORT(UDP, "[method]udp-socket.finish-bind") void udp_finish_bind(int32_t, int32_t);
IMPORT(UDP, "[method]udp-socket.stream") void udp_stream(int32_t, int32_t, A12, int32_t);
IMPORT(UDP, "[method]udp-socket.local-address") void udp_local_address(int32_t, int32_t);
IMPORT(UDP, "[method]udp-socket.remote-address") void udp_remote_address(int32_t, int32_t);
IMPORT(UDP, "[method]udp-socket.set-unicast-hop-limit") void udp_set_hop_limit(int32_t, int32_t, int32_t);
IMPORT(UDP, "[method]udp-socket.unicast-hop-limit") void udp_hop_limit(int32_t, int32_t);
IMPORT(UDP, "[method]incoming-datagram-stream.receive") void udp_receive(int32_t, int64_t, int32_t);
IMPORT(UDP, "[method]incoming-datagram-stream.subscribe") int32_t udp_in_subscribe(int32_t);
IMPORT(UDP, "[method]outgoing-datagram-stream.check-send") void udp_check_send(int32_t, int32_t);
IMPORT(UDP, "[method]outgoing-datagram-stream.send") void udp_send(int32_t, int32_t, int32_t, int32_t);
IMPORT(UDP, "[method]outgoing-datagram-stream.subscribe") int32_t udp_out_subscribe(int32_t);
IMPORT(UDP, "[resource-drop]udp-socket") void udp_drop(int32_t);
IMPORT(UDP, "[resource-drop]incoming-datagram-stream") void udp_in_drop(int32_t);
IMPORT(UDP, "[resource-drop]outgoing-datagram-stream") void udp_out_drop(int32_t);

IMPORT(DNS, "resolve-addresses") void resolve_addresses(int32_t net, int32_t ptr, int32_t len, int32_t ret);
IMPORT(DNS, "[method]resolve-address-stream.resolve-next-address") void resolve_next(int32_t, int32_t);
IMPORT(DNS, "[method]resolve-address-stream.subscribe") int32_t resolve_subscribe(int32_t);
IMPORT(DNS, "[resource-drop]resolve-address-stream") void resolve_drop(int32_t);

IMPORT(IO, "[method]input-stream.read") void in_read(int32_t, int64_t, int32_t);
IMPORT(IO, "[method]input-stream.blocking-read") void in_blocking_read(int32_t, int64_t, int32_t);
IMPORT(IO, "[method]input-stream.subscribe") int32_t in_subscribe(int32_t);
IMPORT(IO, "[resource-drop]input-stream") void in_drop(int32_t);
IMPORT(IO, "[method]output-stream.check-write") void out_check_write(int32_t, int32_t);
IMPORT(IO, "[method]output-stream.write") void out_write(int32_t, int32_t, int32_t, int32_t);
IMPORT(IO, "[method]output-stream.blocking-write-and-flush") void out_write_flush(int32_t, int32_t, int32_t, int32_t);
IMPORT(IO, "[method]output-stream.blocking-flush") void out_blocking_flush(int32_t, int32_t);
IMPORT(IO, "[method]output-stream.subscribe") int32_t out_subscribe(int32_t);
IMPORT(IO, "[resource-drop]output-stream") void out_drop(int32_t);
IMPORT(ERR, "[method]error.to-debug-string") void error_debug(int32_t, int32_t);
IMPORT(ERR, "[resource-drop]error") void error_drop(int32_t);
IMPORT(POLL, "[method]pollable.block") void pollable_block(int32_t);
IMPORT(POLL, "poll") void poll_list(int32_t ptr, int32_t len, int32_t ret);
IMPORT(POLL, "[resource-drop]pollable") void pollable_drop(int32_t);

IMPORT("wasi:cli/stdout@0.2.6", "get-stdout") int32_t get_stdout(void);
IMPORT("wasi:cli/environment@0.2.6", "get-arguments") void get_arguments(int32_t ret);

// ---- freestanding support ----

extern unsigned char __heap_base;
static uintptr_t heap_top = 0;
// cabi_realloc: a bump allocator that never frees (every scenario is short).
__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *old, uint32_t old_size, uint32_t align, uint32_t new_size) {
  if (!heap_top) heap_top = (uintptr_t)&__heap_base;
  uintptr_t p = (heap_top + align - 1) & ~(uintptr_t)(align - 1);
  uintptr_t end = p + new_size;
  uintptr_t mem_end = __builtin_wasm_memory_size(0) * 65536u;
  if (end > mem_end) __builtin_wasm_memory_grow(0, (end - mem_end + 65535) / 65536);
  heap_top = end;
  unsigned char *d = (unsigned char *)p, *s = (unsigned char *)old;
  for (uint32_t i = 0; old && i < old_size && i < new_size; i++) d[i] = s[i];
  return (void *)p;
}

// The compiler may emit calls to these for loops and local arrays; there is no libc.
void *memset(void *d, int c, unsigned long n) {
  unsigned char *p = d;
  while (n--) *p++ = (unsigned char)c;
  return d;
}
void *memcpy(void *d, const void *s, unsigned long n) {
  unsigned char *p = d;
  const unsigned char *q = s;
  while (n--) *p++ = *q++;
  return d;
}

static uint32_t slen(const char *s) {
  uint32_t n = 0;
  while (s[n]) n++;
  return n;
}
static int equals(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}
static uint64_t parse_u64(const char *s) {
  uint64_t v = 0;
  while (*s >= '0' && *s <= '9') v = v * 10 + (uint64_t)(*s++ - '0');
  return v;
}

// ---- results ----

// Every import writes its result here; offsets follow the canonical ABI layouts.
static _Alignas(8) uint8_t ret[128];
#define R8(o) (*(uint8_t *)(ret + (o)))
#define R16(o) (*(uint16_t *)(ret + (o)))
#define R32(o) (*(int32_t *)(ret + (o)))
#define R64(o) (*(uint64_t *)(ret + (o)))

// wasi:sockets/network.error-code, in WIT order.
static const char *const kCodes[] = {
    "unknown", "access-denied", "not-supported", "invalid-argument", "out-of-memory", "timeout",
    "concurrency-conflict", "not-in-progress", "would-block", "invalid-state", "new-socket-limit",
    "address-not-bindable", "address-in-use", "remote-unreachable", "connection-refused",
    "connection-reset", "connection-aborted", "datagram-too-large", "name-unresolvable",
    "temporary-resolver-failure", "permanent-resolver-failure"};
enum { kOk = -1, kAccessDenied = 1, kInvalidArgument = 3, kNotInProgress = 7, kWouldBlock = 8,
       kInvalidState = 9 };
static const char *code_name(int c) {
  return c == kOk ? "ok" : (c >= 0 && c < 21) ? kCodes[c] : "?";
}
static int code_of(const char *name) {
  if (equals(name, "ok")) return kOk;
  for (int i = 0; i < 21; i++)
    if (equals(name, kCodes[i])) return i;
  return -2;
}
// result<_, error-code> and result<T, error-code> whose payload starts at `at`.
static int res(uint32_t at) { return R8(0) ? R8(at) : kOk; }

// ---- stdout ----

static int32_t out_handle;
static char line[512];
static uint32_t line_len;
static void put(const char *s) {
  while (*s && line_len < sizeof line) line[line_len++] = *s++;
}
static void put_u64(uint64_t v) {
  char b[24];
  int n = 0;
  do b[n++] = (char)('0' + v % 10); while ((v /= 10));
  while (n && line_len < sizeof line) line[line_len++] = b[--n];
}
static void put_bytes(const uint8_t *p, uint32_t n) {
  for (uint32_t i = 0; i < n && line_len < sizeof line; i++) line[line_len++] = (char)p[i];
}
static void put_hex(uint32_t v) {
  char b[8];
  int n = 0;
  do b[n++] = "0123456789abcdef"[v & 15]; while ((v >>= 4));
  while (n && line_len < sizeof line) line[line_len++] = b[--n];
}
static void endl(void) {
  put("\n");
  out_write_flush(out_handle, (int32_t)line, (int32_t)line_len, (int32_t)ret);
  line_len = 0;
}

// ---- addresses ----

struct addr {
  int v6;
  uint16_t port;
  uint8_t a4[4];
  uint16_t a6[8];
};
static struct addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  struct addr x = {0};
  x.port = port;
  x.a4[0] = a, x.a4[1] = b, x.a4[2] = c, x.a4[3] = d;
  return x;
}
static struct addr loopback(uint16_t port) { return v4(127, 0, 0, 1, port); }
static void flat(const struct addr *a, int32_t f[12]) {
  for (int i = 0; i < 12; i++) f[i] = 0;
  f[0] = a->v6;
  f[1] = a->port;
  if (!a->v6) {
    for (int i = 0; i < 4; i++) f[2 + i] = a->a4[i];
  } else {
    for (int i = 0; i < 8; i++) f[3 + i] = a->a6[i];  // f[2] flow-info, f[11] scope-id: 0
  }
}
// Reads an ip-socket-address stored at ret+at (case byte, payload 4 bytes on).
static struct addr read_addr(uint32_t at) {
  struct addr a = {0};
  a.v6 = R8(at);
  a.port = R16(at + 4);
  if (!a.v6)
    for (int i = 0; i < 4; i++) a.a4[i] = R8(at + 6 + i);
  else
    for (int i = 0; i < 8; i++) a.a6[i] = R16(at + 12 + 2 * i);
  return a;
}
static void put_ip(const struct addr *a) {
  if (!a->v6) {
    for (int i = 0; i < 4; i++) {
      if (i) put(".");
      put_u64(a->a4[i]);
    }
  } else {
    for (int i = 0; i < 8; i++) {
      if (i) put(":");
      put_hex(a->a6[i]);
    }
  }
}
static void put_addr(const struct addr *a) {
  if (a->v6) put("[");
  put_ip(a);
  if (a->v6) put("]");
  put(":");
  put_u64(a->port);
}
static int is_loopback4(const struct addr *a) {
  return !a->v6 && a->a4[0] == 127 && a->a4[1] == 0 && a->a4[2] == 0 && a->a4[3] == 1;
}

// ---- checks ----

static int failures;
// Prints "WHAT: CODE" and counts a failure when CODE is not WANT.
static int expect(const char *what, int got, int want) {
  put(what);
  put(": ");
  put(code_name(got));
  if (got != want) {
    put(" (MISMATCH: want ");
    put(code_name(want));
    put(")");
    failures++;
  }
  endl();
  return got == want;
}
static void check(const char *what, int ok) {
  put(what);
  put(ok ? ": ok" : ": MISMATCH");
  if (!ok) failures++;
  endl();
}

static void wait_on(int32_t pollable) {
  pollable_block(pollable);
  pollable_drop(pollable);
}

// ---- TCP helpers ----

static int32_t net;

static int tcp_socket(int32_t *sock) {
  tcp_create(0, (int32_t)ret);
  int c = res(4);
  if (c == kOk) *sock = R32(4);
  return c;
}
static int tcp_bind(int32_t sock, struct addr a) {
  int32_t f[12];
  flat(&a, f);
  tcp_start_bind(sock, net, F12(f), (int32_t)ret);
  int c = res(1);
  if (c != kOk) return c;
  tcp_finish_bind(sock, (int32_t)ret);
  return res(1);
}
// Connects `sock` to `a`, waiting on the socket's pollable while the connect is in progress.
static int tcp_connect(int32_t sock, struct addr a, int32_t *in, int32_t *out) {
  int32_t f[12];
  flat(&a, f);
  tcp_start_connect(sock, net, F12(f), (int32_t)ret);
  int c = res(1);
  if (c != kOk) return c;
  for (;;) {
    tcp_finish_connect(sock, (int32_t)ret);
    c = res(4);
    if (c != kWouldBlock) break;
    wait_on(tcp_subscribe(sock));
  }
  if (c == kOk) *in = R32(4), *out = R32(8);
  return c;
}

// Stream results: 0 ok, 1 closed, 2 failed (prints the error).
enum { kStreamOk, kStreamClosed, kStreamFailed };
static int stream_status(uint32_t at) {
  if (!R8(0)) return kStreamOk;
  if (R8(at) == 1) return kStreamClosed;
  int32_t err = R32(at + 4);
  error_debug(err, (int32_t)ret);
  put("stream error: ");
  put_bytes((const uint8_t *)R32(0), (uint32_t)R32(4));
  endl();
  error_drop(err);
  return kStreamFailed;
}

// Writes all of data[0..n) with check-write + write, then blocking-flush.
static int write_all(int32_t out, const uint8_t *data, uint32_t n) {
  while (n) {
    out_check_write(out, (int32_t)ret);
    int s = stream_status(8);
    if (s != kStreamOk) return s;
    uint64_t permit = R64(8);
    if (!permit) {
      wait_on(out_subscribe(out));
      continue;
    }
    uint32_t k = permit < n ? (uint32_t)permit : n;
    out_write(out, (int32_t)data, (int32_t)k, (int32_t)ret);
    if ((s = stream_status(4)) != kStreamOk) return s;
    data += k, n -= k;
  }
  out_blocking_flush(out, (int32_t)ret);
  return stream_status(4);
}

// Reads until the stream closes (non-blocking reads, waiting on the stream's pollable) into
// buf (up to cap bytes); returns the byte count or -1 on a stream error.
static int64_t read_all(int32_t in, uint8_t *buf, uint32_t cap) {
  uint32_t n = 0;
  int32_t p = in_subscribe(in);
  for (;;) {
    in_read(in, cap - n > 4096 ? 4096 : cap - n, (int32_t)ret);
    int s = stream_status(4);
    if (s == kStreamClosed) break;
    if (s == kStreamFailed) return -1;
    uint32_t got = (uint32_t)R32(8);
    if (!got) {
      if (n == cap) break;
      pollable_block(p);
      continue;
    }
    memcpy(buf + n, (const void *)R32(4), got);
    n += got;
  }
  pollable_drop(p);
  return n;
}

// ---- scenarios ----

static const char kMessage[] = "hello over wasi:sockets";
static uint8_t big[1 << 16];

static int tcp_echo(uint16_t port) {
  int32_t sock, in, out;
  if (!expect("create-tcp-socket", tcp_socket(&sock), kOk)) return 1;
  if (!expect("connect", tcp_connect(sock, loopback(port), &in, &out), kOk)) return 1;
  tcp_local_address(sock, (int32_t)ret);
  struct addr local = read_addr(4);
  check("local-address is 127.0.0.1", R8(0) == 0 && is_loopback4(&local) && local.port != 0);
  tcp_remote_address(sock, (int32_t)ret);
  struct addr remote = read_addr(4);
  put("remote-address ");
  put_addr(&remote);
  endl();
  check("remote-address is the peer", R8(0) == 0 && is_loopback4(&remote) && remote.port == port);
  // Connecting a connected socket again is invalid-state.
  int32_t f[12];
  struct addr again = loopback(port);
  flat(&again, f);
  tcp_start_connect(sock, net, F12(f), (int32_t)ret);
  expect("connect again", res(1), kInvalidState);

  check("write", write_all(out, (const uint8_t *)kMessage, sizeof kMessage - 1) == kStreamOk);
  tcp_shutdown(sock, 1 /* send */, (int32_t)ret);
  expect("shutdown send", res(1), kOk);
  int64_t n = read_all(in, big, sizeof big);
  put("echo: ");
  if (n > 0) put_bytes(big, (uint32_t)n);
  endl();
  int same = n == sizeof kMessage - 1;
  for (int64_t i = 0; same && i < n; i++) same = big[i] == (uint8_t)kMessage[i];
  check("echo matches", same);
  in_drop(in);
  out_drop(out);
  tcp_drop(sock);
  return failures != 0;
}

static uint8_t pattern(uint64_t i) { return (uint8_t)(i * 7 + i / 251); }

static int tcp_bulk(uint16_t port, uint64_t total) {
  int32_t sock, in, out;
  if (!expect("create-tcp-socket", tcp_socket(&sock), kOk)) return 1;
  // Small kernel buffers on both ends (the test's echo server sets them too), so a host that
  // blocks in write, or promises more than the socket takes, deadlocks here quickly.
  tcp_set_send_buf(sock, 16384, (int32_t)ret);
  if (!expect("set-send-buffer-size", res(1), kOk)) return 1;
  tcp_set_recv_buf(sock, 16384, (int32_t)ret);
  if (!expect("set-receive-buffer-size", res(1), kOk)) return 1;
  if (!expect("connect", tcp_connect(sock, loopback(port), &in, &out), kOk)) return 1;
  int32_t pin = in_subscribe(in), pout = out_subscribe(out);
  uint64_t sent = 0, received = 0;
  int mismatch = 0, closed = 0, write_done = 0;
  uint32_t waits = 0;
  static int32_t list[2];
  while (!closed) {
    if (!write_done && sent == total) {
      out_blocking_flush(out, (int32_t)ret);
      if (stream_status(4) != kStreamOk) return 1;
      tcp_shutdown(sock, 1, (int32_t)ret);
      if (!expect("shutdown send", res(1), kOk)) return 1;
      write_done = 1;
    }
    list[0] = pin, list[1] = pout;
    poll_list((int32_t)list, write_done ? 1 : 2, (int32_t)ret);
    waits++;
    // Copy the ready list out: the reads below reuse the arena it lives in.
    uint32_t ready[2], nready = (uint32_t)R32(4);
    for (uint32_t r = 0; r < nready && r < 2; r++) ready[r] = ((const uint32_t *)R32(0))[r];
    for (uint32_t r = 0; r < nready && r < 2; r++) {
      if (ready[r] == 0) {  // readable: drain what is there
        for (;;) {
          in_read(in, sizeof big, (int32_t)ret);
          int s = stream_status(4);
          if (s == kStreamClosed) {
            closed = 1;
            break;
          }
          if (s == kStreamFailed) return 1;
          uint32_t got = (uint32_t)R32(8);
          if (!got) break;
          const uint8_t *p = (const uint8_t *)R32(4);
          for (uint32_t i = 0; i < got; i++)
            if (p[i] != pattern(received + i)) mismatch = 1;
          received += got;
          heap_top = 0;  // the bytes were copied out: reuse the arena
        }
      } else if (!write_done) {  // writable: write what check-write permits
        out_check_write(out, (int32_t)ret);
        if (stream_status(8) != kStreamOk) return 1;
        uint64_t permit = R64(8);
        uint64_t k = total - sent;
        if (k > permit) k = permit;
        if (k > sizeof big) k = sizeof big;
        for (uint64_t i = 0; i < k; i++) big[i] = pattern(sent + i);
        if (k) {
          out_write(out, (int32_t)big, (int32_t)k, (int32_t)ret);
          if (stream_status(4) != kStreamOk) return 1;
          sent += k;
        }
      }
    }
  }
  pollable_drop(pin);
  pollable_drop(pout);
  put("bulk: sent ");
  put_u64(sent);
  put(", received ");
  put_u64(received);
  endl();
  check("bulk echo complete", sent == total && received == total);
  check("bulk echo intact", !mismatch);
  in_drop(in);
  out_drop(out);
  tcp_drop(sock);
  return failures != 0;
}

static int tcp_listen(void) {
  int32_t sock;
  if (!expect("create-tcp-socket", tcp_socket(&sock), kOk)) return 1;
  if (!expect("bind", tcp_bind(sock, loopback(0)), kOk)) return 1;
  tcp_start_listen(sock, (int32_t)ret);
  if (!expect("start-listen", res(1), kOk)) return 1;
  tcp_finish_listen(sock, (int32_t)ret);
  if (!expect("finish-listen", res(1), kOk)) return 1;
  check("is-listening", tcp_is_listening(sock) == 1);
  tcp_local_address(sock, (int32_t)ret);
  struct addr local = read_addr(4);
  if (R8(0) || !is_loopback4(&local) || !local.port) return check("local-address", 0), 1;
  put("listening on ");
  put_u64(local.port);
  endl();
  int c;
  for (;;) {
    tcp_accept(sock, (int32_t)ret);
    if ((c = res(4)) != kWouldBlock) break;
    wait_on(tcp_subscribe(sock));
  }
  if (!expect("accept", c, kOk)) return 1;
  int32_t conn = R32(4), in = R32(8), out = R32(12);
  tcp_remote_address(conn, (int32_t)ret);
  struct addr peer = read_addr(4);
  put("accepted from ");
  put_ip(&peer);
  endl();
  check("accepted socket is not listening", tcp_is_listening(conn) == 0);
  uint64_t total = 0;
  for (;;) {  // echo until the peer half-closes
    in_blocking_read(in, 4096, (int32_t)ret);
    int s = stream_status(4);
    if (s == kStreamClosed) break;
    if (s == kStreamFailed) return 1;
    uint32_t got = (uint32_t)R32(8);
    const uint8_t *p = (const uint8_t *)R32(4);
    memcpy(big, p, got);
    out_write_flush(out, (int32_t)big, (int32_t)got, (int32_t)ret);
    if (stream_status(4) != kStreamOk) return 1;
    total += got;
  }
  put("echoed ");
  put_u64(total);
  put(" bytes");
  endl();
  in_drop(in);
  out_drop(out);
  tcp_drop(conn);
  tcp_drop(sock);
  return failures != 0;
}

static struct addr loopback6(uint16_t port) {
  struct addr a = {0};
  a.v6 = 1;
  a.port = port;
  a.a6[7] = 1;
  return a;
}
static int is_loopback6(const struct addr *a) {
  int ok = a->v6 && a->a6[7] == 1;
  for (int i = 0; i < 7; i++) ok = ok && a->a6[i] == 0;
  return ok;
}
// Reads exactly n bytes with blocking reads into big; 1 when they equal want.
static int read_exactly(int32_t in, const char *want, uint32_t n) {
  uint32_t got = 0;
  while (got < n) {
    in_blocking_read(in, n - got, (int32_t)ret);
    if (stream_status(4) != kStreamOk) return 0;
    memcpy(big + got, (const void *)R32(4), (uint32_t)R32(8));
    got += (uint32_t)R32(8);
  }
  for (uint32_t i = 0; i < n; i++)
    if (big[i] != (uint8_t)want[i]) return 0;
  return 1;
}

static int tcp_self6(void) {
  int32_t listener, client, conn, cin, cout, in, out;
  tcp_create(1, (int32_t)ret);
  if (!expect("create-tcp-socket ipv6", res(4), kOk)) return 1;
  listener = R32(4);
  check("address-family ipv6", tcp_address_family(listener) == 1);
  int c = tcp_bind(listener, loopback6(0));
  if (c == 11 /* address-not-bindable: no ::1 here */) {
    put("ipv6 unavailable");
    endl();
    return 0;
  }
  if (!expect("bind [::1]:0", c, kOk)) return 1;
  tcp_start_listen(listener, (int32_t)ret);
  tcp_finish_listen(listener, (int32_t)ret);
  if (!expect("listen", res(1), kOk)) return 1;
  tcp_local_address(listener, (int32_t)ret);
  struct addr local = read_addr(4);
  check("listener local-address is [::1]", res(4) == kOk && is_loopback6(&local) && local.port);

  tcp_create(1, (int32_t)ret);
  client = R32(4);
  int32_t f[12];
  struct addr a4 = loopback(local.port);
  flat(&a4, f);
  tcp_start_connect(client, net, F12(f), (int32_t)ret);
  expect("connect ipv6 socket to an ipv4 address", res(1), kInvalidArgument);
  if (!expect("connect [::1]", tcp_connect(client, loopback6(local.port), &in, &out), kOk)) return 1;
  for (;;) {
    tcp_accept(listener, (int32_t)ret);
    if ((c = res(4)) != kWouldBlock) break;
    wait_on(tcp_subscribe(listener));
  }
  if (!expect("accept", c, kOk)) return 1;
  conn = R32(4), cin = R32(8), cout = R32(12);

  tcp_remote_address(client, (int32_t)ret);
  struct addr remote = read_addr(4);
  put("client remote-address ");
  put_addr(&remote);
  endl();
  check("client remote-address is the listener", is_loopback6(&remote) && remote.port == local.port);
  tcp_local_address(client, (int32_t)ret);
  struct addr client_local = read_addr(4);
  tcp_remote_address(conn, (int32_t)ret);
  struct addr peer = read_addr(4);
  check("accepted remote-address is the client",
        is_loopback6(&peer) && peer.port == client_local.port && client_local.port);

  check("client writes", write_all(out, (const uint8_t *)"ping6", 5) == kStreamOk);
  check("server reads ping6", read_exactly(cin, "ping6", 5));
  check("server writes", write_all(cout, (const uint8_t *)"pong6", 5) == kStreamOk);
  check("client reads pong6", read_exactly(in, "pong6", 5));
  in_drop(in), out_drop(out);
  in_drop(cin), out_drop(cout);
  tcp_drop(conn), tcp_drop(client), tcp_drop(listener);
  return failures != 0;
}

// outgoing-datagram: data (ptr, len) at 0, option<ip-socket-address> at 8 (payload at 12).
static _Alignas(4) uint8_t dgram[44];
static void set_dgram(const char *data, const struct addr *to) {
  memset(dgram, 0, sizeof dgram);
  *(int32_t *)(dgram + 0) = (int32_t)data;
  *(int32_t *)(dgram + 4) = (int32_t)slen(data);
  if (!to) return;
  dgram[8] = 1;
  dgram[12] = (uint8_t)to->v6;
  *(uint16_t *)(dgram + 16) = to->port;
  for (int i = 0; i < 4; i++) dgram[18 + i] = to->a4[i];
}

static int udp_bound(int32_t *sock) {
  udp_create(0, (int32_t)ret);
  int c = res(4);
  if (c != kOk) return c;
  *sock = R32(4);
  int32_t f[12];
  struct addr any = loopback(0);
  flat(&any, f);
  udp_start_bind(*sock, net, F12(f), (int32_t)ret);
  if ((c = res(1)) != kOk) return c;
  udp_finish_bind(*sock, (int32_t)ret);
  return res(1);
}
static int udp_open(int32_t sock, const struct addr *remote, int32_t *in, int32_t *out) {
  int32_t f[13] = {0};
  if (remote) {
    f[0] = 1;
    flat(remote, f + 1);
  }
  udp_stream(sock, f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11], f[12],
             (int32_t)ret);
  int c = res(4);
  if (c == kOk) *in = R32(4), *out = R32(8);
  return c;
}
static int udp_send_one(int32_t out, const char *data, const struct addr *to) {
  udp_check_send(out, (int32_t)ret);
  int c = res(8);
  if (c != kOk) return c;
  if (R64(8) == 0) {
    wait_on(udp_out_subscribe(out));
    return udp_send_one(out, data, to);
  }
  set_dgram(data, to);
  udp_send(out, (int32_t)dgram, 1, (int32_t)ret);
  c = res(8);
  if (c == kOk && R64(8) != 1) return kWouldBlock;
  return c;
}
// Waits for one datagram; prints it and checks that it came from `from` and carries `want`.
static void udp_expect(int32_t in, const char *want, uint16_t from) {
  for (;;) {
    udp_receive(in, 4, (int32_t)ret);
    if (res(4) != kOk) {
      expect("receive", res(4), kOk);
      return;
    }
    if (R32(8)) break;
    wait_on(udp_in_subscribe(in));
  }
  const uint8_t *d = (const uint8_t *)R32(4);  // incoming-datagram: 40 bytes
  const uint8_t *data = (const uint8_t *)*(const int32_t *)d;
  uint32_t len = (uint32_t)*(const int32_t *)(d + 4);
  uint16_t port = *(const uint16_t *)(d + 12);
  put("reply: ");
  put_bytes(data, len);
  put(" from ");
  put_u64(port);
  endl();
  int same = len == slen(want) && d[8] == 0 && port == from;
  for (uint32_t i = 0; same && i < len; i++) same = data[i] == (uint8_t)want[i];
  check("datagram echoed", same);
}

static int udp_echo(uint16_t port) {
  int32_t sock, in, out;
  struct addr peer = loopback(port);
  if (!expect("udp bind", udp_bound(&sock), kOk)) return 1;
  udp_local_address(sock, (int32_t)ret);
  struct addr local = read_addr(4);
  check("udp local-address", res(4) == kOk && is_loopback4(&local) && local.port != 0);
  // Unconnected: every datagram names its destination.
  if (!expect("stream (unconnected)", udp_open(sock, 0, &in, &out), kOk)) return 1;
  expect("send to peer", udp_send_one(out, "ping 1", &peer), kOk);
  udp_expect(in, "ping 1", port);
  expect("send without address", udp_send_one(out, "ping x", 0), kInvalidArgument);
  udp_in_drop(in);
  udp_out_drop(out);
  // Connected: datagrams go to (and only come from) the peer.
  if (!expect("stream (connected)", udp_open(sock, &peer, &in, &out), kOk)) return 1;
  udp_remote_address(sock, (int32_t)ret);
  struct addr remote = read_addr(4);
  check("udp remote-address", res(4) == kOk && is_loopback4(&remote) && remote.port == port);
  expect("send connected", udp_send_one(out, "ping 2", 0), kOk);
  udp_expect(in, "ping 2", port);
  struct addr other = loopback((uint16_t)(port == 9 ? 10 : 9));
  expect("send elsewhere while connected", udp_send_one(out, "ping y", &other), kInvalidArgument);
  udp_in_drop(in);
  udp_out_drop(out);
  udp_drop(sock);
  return failures != 0;
}

static int tcp_reset(uint16_t port) {
  int32_t sock, in, out;
  if (!expect("create-tcp-socket", tcp_socket(&sock), kOk)) return 1;
  if (!expect("connect", tcp_connect(sock, loopback(port), &in, &out), kOk)) return 1;
  // The peer resets the connection once it has read this byte.
  check("write one byte", write_all(out, (const uint8_t *)"x", 1) == kStreamOk);
  int s;
  do {
    in_blocking_read(in, 4096, (int32_t)ret);
  } while ((s = stream_status(4)) == kStreamOk);
  put(s == kStreamClosed ? "read: closed" : "read: failed");
  endl();
  memset(big, 'x', 4096);
  int tries = 0;
  while (tries++ < 100 && (s = write_all(out, big, 4096)) == kStreamOk) {
  }
  put(s == kStreamFailed ? "write: failed" : s == kStreamClosed ? "write: closed" : "write: ok");
  endl();
  check("write after reset fails", s != kStreamOk);
  // The stream stays closed after the failure.
  out_check_write(out, (int32_t)ret);
  check("check-write after failure is closed", stream_status(8) == kStreamClosed);
  in_drop(in);
  out_drop(out);
  tcp_drop(sock);
  return failures != 0;
}

static int connect_fails(uint16_t port, int want) {
  int32_t sock, in, out;
  int c = tcp_socket(&sock);
  if (c == kOk) {
    c = tcp_connect(sock, loopback(port), &in, &out);
    if (c == kOk) in_drop(in), out_drop(out);
    tcp_drop(sock);
  }
  expect("connect", c, want);
  return failures != 0;
}

static int udp_send_fails(uint16_t port, int want) {
  int32_t sock, in, out;
  struct addr peer = loopback(port);
  int c = udp_bound(&sock);
  if (c == kOk && (c = udp_open(sock, 0, &in, &out)) == kOk) {
    c = udp_send_one(out, "ping", &peer);
    udp_in_drop(in);
    udp_out_drop(out);
  }
  expect("udp send", c, want);
  return failures != 0;
}

// resolve-next-address: result<option<ip-address>, error-code>: option at 2, ip-address at 4
// (case byte, payload at 6).
static int lookup(const char *name) {
  resolve_addresses(net, (int32_t)name, (int32_t)slen(name), (int32_t)ret);
  if (!expect("resolve-addresses", res(4), kOk)) return 1;
  int32_t stream = R32(4);
  int count = 0;
  for (;;) {
    resolve_next(stream, (int32_t)ret);
    if (R8(0)) {
      if (R8(2) == kWouldBlock) {
        wait_on(resolve_subscribe(stream));
        continue;
      }
      expect("resolve-next-address", R8(2), kOk);
      break;
    }
    if (!R8(2)) break;
    struct addr a = {0};
    a.v6 = R8(4);
    for (int i = 0; i < 4; i++) a.a4[i] = R8(6 + i);
    for (int i = 0; i < 8; i++) a.a6[i] = R16(6 + 2 * i);
    put("address ");
    put_ip(&a);
    endl();
    count++;
  }
  resolve_drop(stream);
  check("at least one address", count > 0);
  return failures != 0;
}

static int denied(void) {
  int32_t sock;
  expect("create-tcp-socket", tcp_socket(&sock), kAccessDenied);
  udp_create(0, (int32_t)ret);
  expect("create-udp-socket", res(4), kAccessDenied);
  resolve_addresses(net, (int32_t) "localhost", 9, (int32_t)ret);
  expect("resolve-addresses", res(4), kAccessDenied);
  return failures != 0;
}

static int bad_args(void) {
  int32_t s, f[12];
  struct addr a;
  if (!expect("create-tcp-socket", tcp_socket(&s), kOk)) return 1;
#define CALL(what, call, at, want) (call, expect(what, res(at), want))
  CALL("finish-bind without start-bind", tcp_finish_bind(s, (int32_t)ret), 1, kNotInProgress);
  CALL("finish-connect without start-connect", tcp_finish_connect(s, (int32_t)ret), 4, kNotInProgress);
  CALL("finish-listen without start-listen", tcp_finish_listen(s, (int32_t)ret), 1, kNotInProgress);
  CALL("start-listen unbound", tcp_start_listen(s, (int32_t)ret), 1, kInvalidState);
  CALL("accept unbound", tcp_accept(s, (int32_t)ret), 4, kInvalidState);
  CALL("local-address unbound", tcp_local_address(s, (int32_t)ret), 4, kInvalidState);
  CALL("remote-address unconnected", tcp_remote_address(s, (int32_t)ret), 4, kInvalidState);
  CALL("shutdown unconnected", tcp_shutdown(s, 2, (int32_t)ret), 1, kInvalidState);
  a = loopback(0);
  flat(&a, f);
  CALL("connect to port 0", tcp_start_connect(s, net, F12(f), (int32_t)ret), 1, kInvalidArgument);
  a = v4(0, 0, 0, 0, 80);
  flat(&a, f);
  CALL("connect to 0.0.0.0", tcp_start_connect(s, net, F12(f), (int32_t)ret), 1, kInvalidArgument);
  a = (struct addr){0};
  a.v6 = 1;
  a.a6[7] = 1;
  flat(&a, f);
  CALL("bind ipv6 address on ipv4 socket", tcp_start_bind(s, net, F12(f), (int32_t)ret), 1,
       kInvalidArgument);
  a = v4(10, 1, 2, 3, 80);
  flat(&a, f);
  CALL("bind outside the allow-list", tcp_start_bind(s, net, F12(f), (int32_t)ret), 1, kAccessDenied);
  CALL("set-listen-backlog-size 0", tcp_set_backlog(s, 0, (int32_t)ret), 1, kInvalidArgument);
  CALL("set-hop-limit 0", tcp_set_hop_limit(s, 0, (int32_t)ret), 1, kInvalidArgument);
  CALL("set-keep-alive-idle-time 0", tcp_set_keep_idle(s, 0, (int32_t)ret), 1, kInvalidArgument);

  // Options round-trip.
  CALL("set-keep-alive-enabled", tcp_set_keep_alive(s, 1, (int32_t)ret), 1, kOk);
  tcp_keep_alive(s, (int32_t)ret);
  check("keep-alive-enabled", res(1) == kOk && R8(1) == 1);
  CALL("set-keep-alive-idle-time 5s", tcp_set_keep_idle(s, 5000000000ll, (int32_t)ret), 1, kOk);
  tcp_keep_idle(s, (int32_t)ret);
  check("keep-alive-idle-time", res(8) == kOk && R64(8) == 5000000000ull);
  CALL("set-keep-alive-count", tcp_set_keep_count(s, 3, (int32_t)ret), 1, kOk);
  tcp_keep_count(s, (int32_t)ret);
  check("keep-alive-count", res(4) == kOk && R32(4) == 3);
  CALL("set-hop-limit", tcp_set_hop_limit(s, 42, (int32_t)ret), 1, kOk);
  tcp_hop_limit(s, (int32_t)ret);
  check("hop-limit", res(1) == kOk && R8(1) == 42);
  tcp_recv_buf(s, (int32_t)ret);
  check("receive-buffer-size", res(8) == kOk && R64(8) > 0);
  check("address-family ipv4", tcp_address_family(s) == 0);
  check("is-listening before listen", tcp_is_listening(s) == 0);

  // Bind, then bind again; listen, then connect a listening socket.
  expect("bind 127.0.0.1:0", tcp_bind(s, loopback(0)), kOk);
  a = loopback(0);
  flat(&a, f);
  CALL("bind again", tcp_start_bind(s, net, F12(f), (int32_t)ret), 1, kInvalidState);
  CALL("finish-bind again", tcp_finish_bind(s, (int32_t)ret), 1, kNotInProgress);
  tcp_local_address(s, (int32_t)ret);
  struct addr local = read_addr(4);
  check("local-address bound", res(4) == kOk && is_loopback4(&local) && local.port != 0);
  CALL("start-listen", tcp_start_listen(s, (int32_t)ret), 1, kOk);
  CALL("finish-listen", tcp_finish_listen(s, (int32_t)ret), 1, kOk);
  check("is-listening", tcp_is_listening(s) == 1);
  CALL("start-listen again", tcp_start_listen(s, (int32_t)ret), 1, kInvalidState);
  a = loopback(local.port);
  flat(&a, f);
  CALL("connect a listening socket", tcp_start_connect(s, net, F12(f), (int32_t)ret), 1, kInvalidState);
  CALL("accept with nothing pending", tcp_accept(s, (int32_t)ret), 4, kWouldBlock);
  tcp_drop(s);

  // UDP.
  udp_create(0, (int32_t)ret);
  if (!expect("create-udp-socket", res(4), kOk)) return 1;
  int32_t u = R32(4), in, out;
  CALL("udp finish-bind without start-bind", udp_finish_bind(u, (int32_t)ret), 1, kNotInProgress);
  expect("udp stream unbound", udp_open(u, 0, &in, &out), kInvalidState);
  CALL("udp local-address unbound", udp_local_address(u, (int32_t)ret), 4, kInvalidState);
  CALL("udp set-unicast-hop-limit 0", udp_set_hop_limit(u, 0, (int32_t)ret), 1, kInvalidArgument);
  CALL("udp set-unicast-hop-limit", udp_set_hop_limit(u, 7, (int32_t)ret), 1, kOk);
  udp_hop_limit(u, (int32_t)ret);
  check("udp unicast-hop-limit", res(1) == kOk && R8(1) == 7);
  a = loopback(0);
  flat(&a, f);
  udp_start_bind(u, net, F12(f), (int32_t)ret);
  expect("udp start-bind", res(1), kOk);
  CALL("udp bind again", udp_start_bind(u, net, F12(f), (int32_t)ret), 1, kInvalidState);
  CALL("udp finish-bind", udp_finish_bind(u, (int32_t)ret), 1, kOk);
  a = loopback(0);
  expect("udp stream to port 0", udp_open(u, &a, &in, &out), kInvalidArgument);
  CALL("udp remote-address unconnected", udp_remote_address(u, (int32_t)ret), 4, kInvalidState);
  udp_drop(u);

  resolve_addresses(net, (int32_t) "", 0, (int32_t)ret);
  expect("resolve empty name", res(4), kInvalidArgument);
#undef CALL
  return failures != 0;
}

// ---- entry point ----

__attribute__((export_name("wasi:cli/run@0.2.6#run")))
int32_t run(void) {
  out_handle = get_stdout();
  net = instance_network();
  get_arguments((int32_t)ret);
  const int32_t *args = (const int32_t *)R32(0);  // (ptr, len) pairs
  uint32_t argc = (uint32_t)R32(4);
  // Copy the arguments out as NUL-terminated strings.
  static char argbuf[8][256];
  const char *argv[8] = {0};
  for (uint32_t i = 0; i < argc && i < 8; i++) {
    uint32_t n = (uint32_t)args[2 * i + 1];
    if (n > 255) n = 255;
    memcpy(argbuf[i], (const void *)args[2 * i], n);
    argbuf[i][n] = 0;
    argv[i] = argbuf[i];
  }
  const char *cmd = argc > 1 ? argv[1] : "";
  const char *a1 = argc > 2 ? argv[2] : "0";
  const char *a2 = argc > 3 ? argv[3] : "";
  uint16_t port = (uint16_t)parse_u64(a1);
  int rc;
  if (equals(cmd, "tcp-echo")) rc = tcp_echo(port);
  else if (equals(cmd, "tcp-bulk")) rc = tcp_bulk(port, parse_u64(a2));
  else if (equals(cmd, "tcp-listen")) rc = tcp_listen();
  else if (equals(cmd, "tcp-self6")) rc = tcp_self6();
  else if (equals(cmd, "udp-echo")) rc = udp_echo(port);
  else if (equals(cmd, "tcp-reset")) rc = tcp_reset(port);
  else if (equals(cmd, "connect-fails")) rc = connect_fails(port, code_of(a2));
  else if (equals(cmd, "udp-send-fails")) rc = udp_send_fails(port, code_of(a2));
  else if (equals(cmd, "lookup")) rc = lookup(a1);
  else if (equals(cmd, "denied")) rc = denied();
  else if (equals(cmd, "bad-args")) rc = bad_args();
  else {
    put("unknown scenario: ");
    put(cmd);
    endl();
    rc = 1;
  }
  put(rc ? "FAILED" : "PASSED");
  endl();
  network_drop(net);
  return rc;
}
