/* fib.c - recursion benchmark: naive doubly-recursive Fibonacci plus the
 * Takeuchi function, i.e. call/return overhead and small-integer arithmetic.
 * Deterministic, argument-free; prints "fib checksum=<n>". */
#include <stdint.h>
#include <stdio.h>

static uint32_t fib(uint32_t n) {
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/* Takeuchi function: deep, three-way recursion with non-tail calls. */
static int32_t tak(int32_t x, int32_t y, int32_t z) {
    if (y >= x) return z;
    return tak(tak(x - 1, y, z), tak(y - 1, z, x), tak(z - 1, x, y));
}

int main(void) {
    /* volatile so the compiler cannot constant-fold the workload away */
    volatile uint32_t fib_base = 32;
    static volatile int32_t tak_args[4][3] = {
        {24, 8, 0}, {24, 12, 4}, {22, 12, 4}, {24, 16, 8}};
    uint64_t sum = 0;

    for (uint32_t i = 0; i <= 7; i++)            /* fib(32) .. fib(39) */
        sum = sum * 1000003u + fib(fib_base + i);
    for (int i = 0; i < 4; i++)                  /* ~72M tak calls in total */
        sum = sum * 1000003u +
              (uint32_t)tak(tak_args[i][0], tak_args[i][1], tak_args[i][2]);

    printf("fib checksum=%llu\n", (unsigned long long)sum);
    return 0;
}
