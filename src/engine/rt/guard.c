/* The one place that calls sigsetjmp for wasm calls. Kept in C so a trap's siglongjmp only ever
 * crosses C frames (translated wasm, generated glue, this file), never C++ frames with destructors. */
#include <setjmp.h>
#include <stddef.h>

/* Provided by runtime.cpp. */
sigjmp_buf* cumulus_rt_enter(sigjmp_buf* target, int* saved_mode);
int cumulus_rt_leave(sigjmp_buf* previous, int saved_mode, int trapped);

int cumulus_guarded_call(void (*fn)(void*), void* ctx) {
  sigjmp_buf target;
  int saved_mode;
  sigjmp_buf* previous = cumulus_rt_enter(&target, &saved_mode);
  /* The signal mask is not saved (that is a sigprocmask syscall per call): the fault handlers run
   * with SA_NODEFER, and cumulus_rt_leave unblocks the interrupt signal after a trap. */
  int code = sigsetjmp(target, 0);
  if (code == 0) {
    fn(ctx);
  }
  return cumulus_rt_leave(previous, saved_mode, code);
}
