// A wasi:http/incoming-handler@0.2.6 test component in plain C (no binding generator, no libc),
// written for Cumulus's HTTP tests: each path exercises one server behaviour.
//   /            200 "hello\n"
//   /trap        traps (unreachable)
//   /loop        never returns (the server's deadline must cut it off)
//   /none        returns without setting a response
//   /echo        streams the request body back (chunked)
//   /count       reads the whole request body, answers with its byte count
//   /big/N       streams N bytes of 'x' (64 KiB writes)
//   /path...     answers with the request's path-with-query
// Core signatures follow the canonical ABI (see toolchains/c-http in the fixtures for the
// recipe). Built by tests/http/build_components.sh with clang-14 and jco.
#include "http_imports.h"

static _Alignas(8) uint8_t ret[64];
static char path[1024];
static uint8_t chunk[65536];

// cabi_realloc: a bump allocator over a scratch arena that handle() resets before each read, so
// streaming a large body does not grow memory.
extern unsigned char __heap_base;
static uintptr_t heap_top = 0;
static void arena_reset(void) { heap_top = (uintptr_t)&__heap_base; }
__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *old, uint32_t old_size, uint32_t align, uint32_t new_size) {
  if (!heap_top) arena_reset();
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

static int starts_with(const char *s, const char *prefix) {
  while (*prefix)
    if (*s++ != *prefix++) return 0;
  return 1;
}
static int equals(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}
static uint32_t length(const char *s) {
  uint32_t n = 0;
  while (s[n]) n++;
  return n;
}
static uint64_t parse_u64(const char *s) {
  uint64_t v = 0;
  while (*s >= '0' && *s <= '9') v = v * 10 + (uint64_t)(*s++ - '0');
  return v;
}
static uint32_t format_u64(uint64_t v, char *out) {
  char tmp[24];
  uint32_t n = 0;
  do tmp[n++] = (char)('0' + v % 10), v /= 10; while (v);
  for (uint32_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
  out[n] = '\n';
  return n + 1;
}

// Starts a 200 response; returns the body's output stream, *body_out = the outgoing-body.
static int32_t respond(int32_t response_out, int32_t status, int32_t *body_out) {
  int32_t resp = outgoing_response_new(fields_new());
  set_status(resp, status);
  outgoing_response_body(resp, (int32_t)ret);
  *body_out = *(int32_t *)(ret + 4);
  response_outparam_set(response_out, 0, resp, 0, 0, 0, 0, 0, 0);
  outgoing_body_write(*body_out, (int32_t)ret);
  return *(int32_t *)(ret + 4);
}

static void write_all(int32_t stream, const void *p, uint32_t n) {
  output_write_flush(stream, (int32_t)p, (int32_t)n, (int32_t)ret);
}

static void finish(int32_t body, int32_t stream) {
  output_stream_drop(stream);
  outgoing_body_finish(body, 0, 0, (int32_t)ret);
}

// Opens the request body as an input stream.
static int32_t open_body(int32_t request, int32_t *incoming_body) {
  request_consume(request, (int32_t)ret);
  *incoming_body = *(int32_t *)(ret + 4);
  incoming_body_stream(*incoming_body, (int32_t)ret);
  return *(int32_t *)(ret + 4);
}

// Reads up to 64 KiB; returns the byte count, or -1 at the end of the stream. *data points at it.
static int64_t read_some(int32_t in, const uint8_t **data) {
  arena_reset();
  input_blocking_read(in, 65536, (int32_t)ret);
  if (ret[0] != 0) return -1;  // err(stream-error): closed or failed
  *data = (const uint8_t *)*(int32_t *)(ret + 4);
  return *(int32_t *)(ret + 8);
}

__attribute__((export_name("wasi:http/incoming-handler@0.2.6#handle")))
void handle(int32_t request, int32_t response_out) {
  request_path(request, (int32_t)ret);
  uint32_t n = 0;
  if (ret[0] == 1) {
    const char *p = (const char *)*(int32_t *)(ret + 4);
    n = *(uint32_t *)(ret + 8);
    if (n >= sizeof path) n = sizeof path - 1;
    for (uint32_t i = 0; i < n; i++) path[i] = p[i];
  }
  path[n] = 0;
  int32_t body, out;
  if (equals(path, "/trap")) __builtin_trap();
  if (equals(path, "/loop"))
    for (volatile int i = 0;; i++) {
    }
  if (equals(path, "/none")) return;
  if (equals(path, "/echo") || equals(path, "/count")) {
    int32_t in_body;
    int32_t in = open_body(request, &in_body);
    int echo = equals(path, "/echo");
    out = echo ? respond(response_out, 200, &body) : 0;
    uint64_t total = 0;
    const uint8_t *data;
    int64_t got;
    while ((got = read_some(in, &data)) >= 0) {
      total += (uint64_t)got;
      if (echo && got > 0) write_all(out, data, (uint32_t)got);
    }
    input_stream_drop(in);
    incoming_body_drop(in_body);
    incoming_request_drop(request);
    if (!echo) {
      out = respond(response_out, 200, &body);
      char text[24];
      write_all(out, text, format_u64(total, text));
    }
    finish(body, out);
    return;
  }
  if (equals(path, "/trailers")) {  // reads the body, answers with the request's trailers
    int32_t in_body;
    int32_t in = open_body(request, &in_body);
    const uint8_t *data;
    while (read_some(in, &data) >= 0) {
    }
    input_stream_drop(in);
    int32_t future = incoming_body_finish(in_body);
    future_trailers_get(future, (int32_t)ret);
    int32_t trailers = ret[0] == 1 && ret[8] == 0 && ret[16] == 0 && ret[24] == 1 ? *(int32_t *)(ret + 28) : -1;
    incoming_request_drop(request);
    out = respond(response_out, 200, &body);
    if (trailers < 0) {
      write_all(out, "no trailers\n", 12);
    } else {
      arena_reset();
      fields_entries(trailers, (int32_t)ret);
      const uint32_t *entry = (const uint32_t *)*(int32_t *)ret;  // (name ptr, len, value ptr, len)
      uint32_t count = *(uint32_t *)(ret + 4);
      for (uint32_t i = 0; i < count; i++, entry += 4) {
        write_all(out, (const void *)entry[0], entry[1]);
        write_all(out, ": ", 2);
        write_all(out, (const void *)entry[2], entry[3]);
        write_all(out, "\n", 1);
      }
      fields_drop(trailers);
    }
    future_trailers_drop(future);
    finish(body, out);
    return;
  }
  incoming_request_drop(request);
  if (starts_with(path, "/big/")) {
    uint64_t left = parse_u64(path + 5);
    for (uint32_t i = 0; i < sizeof chunk; i++) chunk[i] = 'x';
    out = respond(response_out, 200, &body);
    while (left) {
      uint32_t k = left < sizeof chunk ? (uint32_t)left : (uint32_t)sizeof chunk;
      write_all(out, chunk, k);
      left -= k;
    }
    finish(body, out);
    return;
  }
  out = respond(response_out, 200, &body);
  if (starts_with(path, "/path")) {
    write_all(out, path, length(path));
  } else {
    write_all(out, "hello\n", 6);
  }
  finish(body, out);
}
