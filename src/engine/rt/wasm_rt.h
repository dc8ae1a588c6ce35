/* Cumulus's implementation of the wasm2c runtime interface ("wasm-rt.h" as wabt 1.0.32's wasm2c
 * expects it). Written for Cumulus: the declarations follow the names and layouts that wasm2c's
 * generated C uses; the behaviour lives in runtime.cpp and differs from wabt's reference runtime:
 *  - trap state is per thread (wabt's is a process global: traps on one thread corrupted others);
 *  - every thread that runs wasm gets its own alternate signal stack;
 *  - bounds checks use guard pages (8 GiB reservation per memory), stack exhaustion is detected by
 *    the fault handler on the native stack guard, interruption by a signal (see runtime.cpp).
 * This text is compiled into every translated module (both tiers) and into the host runtime. */
#ifndef CUMULUS_WASM_RT_H_
#define CUMULUS_WASM_RT_H_
#define WASM_RT_H_ /* keep any other wasm-rt.h out */

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && !defined(__TINYC__)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define wasm_rt_memcpy __builtin_memcpy
#define wasm_rt_unreachable __builtin_unreachable
#else
#define UNLIKELY(x) (x)
#define LIKELY(x) (x)
#define wasm_rt_memcpy memcpy
#define wasm_rt_unreachable abort
#endif

/* Guard pages bound every linear-memory access; the native stack guard bounds recursion. */
#define WASM_RT_SKIP_SIGNAL_RECOVERY 0
#define WASM_RT_SIGNAL_RECOVERY_SUPPORTED 1
#define WASM_RT_MEMCHECK_SIGNAL_HANDLER 1
#define WASM_RT_USE_STACK_DEPTH_COUNT 0
#define WASM_RT_MERGED_OOB_AND_EXHAUSTION_TRAPS 0
#define WASM_RT_NO_RETURN __attribute__((noreturn))

typedef enum {
  WASM_RT_TRAP_NONE,
  WASM_RT_TRAP_OOB,
  WASM_RT_TRAP_INT_OVERFLOW,
  WASM_RT_TRAP_DIV_BY_ZERO,
  WASM_RT_TRAP_INVALID_CONVERSION,
  WASM_RT_TRAP_UNREACHABLE,
  WASM_RT_TRAP_CALL_INDIRECT,
  WASM_RT_TRAP_UNCAUGHT_EXCEPTION,
  WASM_RT_TRAP_EXHAUSTION,
  /* Cumulus additions (never produced by wasm2c's own code). */
  CUMULUS_TRAP_INTERRUPTED = 64, /* deadline passed or the host asked the call to stop */
  CUMULUS_TRAP_HOST = 65,        /* a host function failed; the message is in the thread state */
  CUMULUS_TRAP_RESOURCE = 66,    /* a memory/table limit was hit where wasm must trap */
  CUMULUS_TRAP_NULL_REF = 67,    /* null or uninitialised table element */
  CUMULUS_TRAP_INDIRECT_TYPE = 68 /* call_indirect signature mismatch */
} wasm_rt_trap_t;

typedef enum {
  WASM_RT_I32,
  WASM_RT_I64,
  WASM_RT_F32,
  WASM_RT_F64,
  WASM_RT_FUNCREF,
  WASM_RT_EXTERNREF,
} wasm_rt_type_t;

typedef void (*wasm_rt_function_ptr_t)(void);

/* A function reference: registered type id, code pointer and the instance it runs against. */
typedef struct {
  uint32_t func_type;
  wasm_rt_function_ptr_t func;
  void* module_instance;
} wasm_rt_funcref_t;

static const wasm_rt_funcref_t wasm_rt_funcref_null_value = {0, NULL, NULL};

typedef void* wasm_rt_externref_t;
static const wasm_rt_externref_t wasm_rt_externref_null_value = NULL;

/* A linear memory. `data` is the base of an 8 GiB reservation; [0, size) is accessible. */
typedef struct {
  uint8_t* data;
  uint32_t pages, max_pages;
  uint32_t size;
} wasm_rt_memory_t;

typedef struct {
  wasm_rt_funcref_t* data;
  uint32_t max_size;
  uint32_t size;
} wasm_rt_funcref_table_t;

typedef struct {
  wasm_rt_externref_t* data;
  uint32_t max_size;
  uint32_t size;
} wasm_rt_externref_table_t;

void wasm_rt_init(void);
bool wasm_rt_is_initialized(void);
void wasm_rt_free(void);
WASM_RT_NO_RETURN void wasm_rt_trap(wasm_rt_trap_t);
const char* wasm_rt_strerror(wasm_rt_trap_t trap);
uint32_t wasm_rt_register_func_type(uint32_t params, uint32_t results, ...);
uint32_t wasm_rt_register_tag(uint32_t size);
void wasm_rt_load_exception(uint32_t tag, uint32_t size, const void* values);
WASM_RT_NO_RETURN void wasm_rt_throw(void);

#define WASM_RT_UNWIND_TARGET sigjmp_buf
WASM_RT_UNWIND_TARGET* wasm_rt_get_unwind_target(void);
void wasm_rt_set_unwind_target(WASM_RT_UNWIND_TARGET* target);
uint32_t wasm_rt_exception_tag(void);
uint32_t wasm_rt_exception_size(void);
void* wasm_rt_exception(void);
#define WASM_RT_SETJMP(buf) sigsetjmp(buf, 1)
#define wasm_rt_try(target) WASM_RT_SETJMP(target)

void wasm_rt_allocate_memory(wasm_rt_memory_t*, uint32_t initial_pages, uint32_t max_pages);
uint32_t wasm_rt_grow_memory(wasm_rt_memory_t*, uint32_t pages);
void wasm_rt_free_memory(wasm_rt_memory_t*);
void wasm_rt_allocate_funcref_table(wasm_rt_funcref_table_t*, uint32_t elements,
                                    uint32_t max_elements);
void wasm_rt_free_funcref_table(wasm_rt_funcref_table_t*);
void wasm_rt_allocate_externref_table(wasm_rt_externref_table_t*, uint32_t elements,
                                      uint32_t max_elements);
void wasm_rt_free_externref_table(wasm_rt_externref_table_t*);
uint32_t wasm_rt_grow_funcref_table(wasm_rt_funcref_table_t*, uint32_t delta,
                                    wasm_rt_funcref_t init);
uint32_t wasm_rt_grow_externref_table(wasm_rt_externref_table_t*, uint32_t delta,
                                      wasm_rt_externref_t init);

/* ---- Cumulus extensions used by the generated glue (see translate.cpp) ---- */

/* One wasm value as the host and the glue exchange it. */
typedef union {
  uint32_t i32;
  uint64_t i64;
  float f32;
  double f64;
  uint8_t v128[16];
  wasm_rt_funcref_t funcref;
  wasm_rt_externref_t externref;
} cumulus_cell_t;

/* Traps naming the generated C function the trap happened in. */
WASM_RT_NO_RETURN void cumulus_trap_in(wasm_rt_trap_t code, const char* function);
/* Calls host import `index` of the instance owning `env`; cells hold params in, results out.
 * Returns 0, or a trap code the caller must raise (after the host's C++ frames are gone). */
int cumulus_host_call(void* env, uint32_t index, cumulus_cell_t* cells);

#ifdef __cplusplus
}
#endif

#endif /* CUMULUS_WASM_RT_H_ */
