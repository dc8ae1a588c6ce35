// A wasi:http handler in plain C (no binding generator, no libc) that uses the interfaces a
// wasmCloud host serves itself, for the lattice tests:
//   /config/KEY   200 with the value of KEY from wasi:config/store (the component's named
//                 config, merged), 404 "missing\n" when it has none
//   /log/TEXT     logs TEXT at info level through wasi:logging (context "config-handler"),
//                 answers "logged\n"
// Core signatures follow the canonical ABI; built by tests/http/build_components.sh against
// config_handler.wit.
#include "http_imports.h"

// get(key: string) -> result<option<string>, error>: [0] result tag, [4] option tag, [8] ptr, [12] len
IMPORT("wasi:config/store@0.2.0-draft", "get") void config_get(int32_t ptr, int32_t len, int32_t retptr);
IMPORT("wasi:logging/logging@0.1.0-draft", "log") void log_message(int32_t level, int32_t ctx, int32_t ctx_len,
                                                                   int32_t msg, int32_t msg_len);

static _Alignas(8) uint8_t ret[64];
static uint8_t heap[65536];
static uint32_t heap_used;

__attribute__((export_name("cabi_realloc")))
void *cabi_realloc(void *old, uint32_t old_size, uint32_t align, uint32_t new_size) {
  uint32_t p = (heap_used + align - 1) & ~(align - 1);
  if (p + new_size > sizeof heap) __builtin_trap();
  heap_used = p + new_size;
  for (uint32_t i = 0; old && i < old_size && i < new_size; i++) heap[p + i] = ((uint8_t *)old)[i];
  return heap + p;
}

static uint32_t length(const char *s) {
  uint32_t n = 0;
  while (s[n]) n++;
  return n;
}
static int starts_with(const char *s, uint32_t n, const char *prefix) {
  uint32_t k = length(prefix);
  if (n < k) return 0;
  for (uint32_t i = 0; i < k; i++)
    if (s[i] != prefix[i]) return 0;
  return 1;
}

static void answer(int32_t response_out, int32_t status, const void *body, uint32_t n) {
  int32_t resp = outgoing_response_new(fields_new());
  set_status(resp, status);
  outgoing_response_body(resp, (int32_t)ret);
  int32_t out_body = *(int32_t *)(ret + 4);
  response_outparam_set(response_out, 0, resp, 0, 0, 0, 0, 0, 0);
  outgoing_body_write(out_body, (int32_t)ret);
  int32_t stream = *(int32_t *)(ret + 4);
  output_write_flush(stream, (int32_t)body, (int32_t)n, (int32_t)ret);
  output_stream_drop(stream);
  outgoing_body_finish(out_body, 0, 0, (int32_t)ret);
}

__attribute__((export_name("wasi:http/incoming-handler@0.2.6#handle")))
void handle(int32_t request, int32_t response_out) {
  heap_used = 0;
  request_path(request, (int32_t)ret);  // option<string>
  const char *path = ret[0] ? (const char *)*(int32_t *)(ret + 4) : "/";
  uint32_t n = ret[0] ? (uint32_t)*(int32_t *)(ret + 8) : 1;
  incoming_request_drop(request);
  if (starts_with(path, n, "/config/")) {
    config_get((int32_t)(path + 8), (int32_t)(n - 8), (int32_t)ret);
    if (ret[0] != 0) return answer(response_out, 500, "config error\n", 13);
    if (ret[4] == 0) return answer(response_out, 404, "missing\n", 8);
    return answer(response_out, 200, (const void *)*(int32_t *)(ret + 8), (uint32_t)*(int32_t *)(ret + 12));
  }
  if (starts_with(path, n, "/log/")) {
    static const char ctx[] = "config-handler";
    log_message(2 /* info */, (int32_t)ctx, (int32_t)(sizeof ctx - 1), (int32_t)(path + 5), (int32_t)(n - 5));
    return answer(response_out, 200, "logged\n", 7);
  }
  answer(response_out, 404, "unknown path\n", 13);
}
