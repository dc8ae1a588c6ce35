/* matmul.c - double-precision floating point benchmark: dense N x N matrix
 * multiply done two ways (cache-friendly i-k-j with a vectorisable inner loop,
 * and i-j-k dot products against a transposed B, a serial FP dependency chain).
 * Both produce bit-identical results (same summation order), which is checked.
 * The checksum hashes the exact bit patterns of the result.
 * Prints "matmul checksum=<n>". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 640

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rng(void) { /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

static uint64_t hash_matrix(const double *m, uint32_t n) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a over 64-bit words */
    for (uint32_t i = 0; i < n * n; i++) {
        uint64_t bits;
        memcpy(&bits, &m[i], sizeof bits);
        h = (h ^ bits) * 1099511628211ull;
    }
    return h;
}

/* c = a * b, i-k-j order: inner loop streams over rows of b and c. */
static void matmul_ikj(const double *a, const double *b, double *c, uint32_t n) {
    memset(c, 0, sizeof(double) * n * n);
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t k = 0; k < n; k++) {
            double aik = a[i * n + k];
            const double *brow = &b[k * n];
            double *crow = &c[i * n];
            for (uint32_t j = 0; j < n; j++)
                crow[j] += aik * brow[j];
        }
}

/* c = a * b using bt = transpose(b): each element is one dot product. */
static void matmul_dot(const double *a, const double *bt, double *c, uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < n; j++) {
            const double *arow = &a[i * n];
            const double *brow = &bt[j * n];
            double s = 0.0;
            for (uint32_t k = 0; k < n; k++)
                s += arow[k] * brow[k];
            c[i * n + j] = s;
        }
}

int main(void) {
    const uint32_t n = N;
    size_t bytes = sizeof(double) * n * n;
    double *a = malloc(bytes), *b = malloc(bytes), *bt = malloc(bytes);
    double *c1 = malloc(bytes), *c2 = malloc(bytes);
    if (!a || !b || !bt || !c1 || !c2) {
        printf("matmul: out of memory\n");
        return 1;
    }
    for (uint32_t i = 0; i < n * n; i++) {
        a[i] = (double)(int32_t)(rng() % 2001u - 1000) / 256.0;
        b[i] = (double)(int32_t)(rng() % 2001u - 1000) / 1000.0;
    }
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < n; j++)
            bt[j * n + i] = b[i * n + j];

    uint64_t sum = 0;
    for (int round = 0; round < 2; round++) {
        matmul_ikj(a, b, c1, n);
        matmul_dot(a, bt, c2, n);
        if (memcmp(c1, c2, bytes) != 0) {
            printf("matmul: ikj and dot results differ\n");
            return 1;
        }
        sum = sum * 31 + hash_matrix(c1, n);
        /* feed the result back so round 2 depends on round 1: a = c1 scaled */
        for (uint32_t i = 0; i < n * n; i++)
            a[i] = c1[i] * (1.0 / 64.0);
    }

    printf("matmul checksum=%llu\n", (unsigned long long)sum);
    free(a); free(b); free(bt); free(c1); free(c2);
    return 0;
}
