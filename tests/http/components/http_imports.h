// The wasi:http@0.2.6 and wasi:io imports the plain-C test components use, declared with their
// canonical-ABI core signatures (no binding generator). Included by test_handler.c and
// config_handler.c.
#pragma once

#include <stdint.h>

#define IMPORT(mod, name) __attribute__((import_module(mod), import_name(name)))
#define HTTP "wasi:http/types@0.2.6"
#define IO "wasi:io/streams@0.2.6"

IMPORT(HTTP, "[constructor]fields") int32_t fields_new(void);
IMPORT(HTTP, "[constructor]outgoing-response") int32_t outgoing_response_new(int32_t headers);
IMPORT(HTTP, "[method]outgoing-response.set-status-code") int32_t set_status(int32_t self, int32_t code);
IMPORT(HTTP, "[method]outgoing-response.body") void outgoing_response_body(int32_t self, int32_t retptr);
IMPORT(HTTP, "[method]outgoing-body.write") void outgoing_body_write(int32_t self, int32_t retptr);
IMPORT(HTTP, "[static]outgoing-body.finish") void outgoing_body_finish(int32_t body, int32_t has_trailers,
                                                                      int32_t trailers, int32_t retptr);
IMPORT(HTTP, "[static]response-outparam.set") void response_outparam_set(int32_t param, int32_t is_err, int32_t a,
                                                                         int32_t b, int64_t c, int32_t d, int32_t e,
                                                                         int32_t f, int32_t g);
IMPORT(HTTP, "[method]incoming-request.path-with-query") void request_path(int32_t self, int32_t retptr);
IMPORT(HTTP, "[method]incoming-request.consume") void request_consume(int32_t self, int32_t retptr);
IMPORT(HTTP, "[method]incoming-body.stream") void incoming_body_stream(int32_t self, int32_t retptr);
IMPORT(HTTP, "[resource-drop]incoming-body") void incoming_body_drop(int32_t self);
IMPORT(HTTP, "[resource-drop]incoming-request") void incoming_request_drop(int32_t self);
IMPORT(HTTP, "[static]incoming-body.finish") int32_t incoming_body_finish(int32_t body);
// option<result<result<option<trailers>, error-code>>>: some @0, ok @8, ok @16, some @24, handle @28
IMPORT(HTTP, "[method]future-trailers.get") void future_trailers_get(int32_t self, int32_t retptr);
IMPORT(HTTP, "[resource-drop]future-trailers") void future_trailers_drop(int32_t self);
IMPORT(HTTP, "[method]fields.entries") void fields_entries(int32_t self, int32_t retptr);
IMPORT(HTTP, "[resource-drop]fields") void fields_drop(int32_t self);
IMPORT(IO, "[method]input-stream.blocking-read") void input_blocking_read(int32_t self, int64_t len, int32_t retptr);
IMPORT(IO, "[resource-drop]input-stream") void input_stream_drop(int32_t self);
IMPORT(IO, "[method]output-stream.blocking-write-and-flush") void output_write_flush(int32_t self, int32_t ptr,
                                                                                   int32_t len, int32_t retptr);
IMPORT(IO, "[resource-drop]output-stream") void output_stream_drop(int32_t self);
