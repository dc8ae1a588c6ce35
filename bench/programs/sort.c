/* sort.c - sorting benchmark over pseudo-random integers:
 *   1. own quicksort (median-of-3, insertion sort for short ranges) on uint32,
 *   2. own bottom-up merge sort on uint64 keys,
 *   3. own heapsort that compares through a function pointer (indirect
 *      calls) on uint32. (libc qsort is deliberately not used: glibc and
 *      wasi-libc/musl implement it with different algorithms, which would
 *      make the native-vs-wasm comparison unfair.)
 * Every result is verified to be sorted; the checksum is a position-weighted
 * sum of the sorted data. Prints "sort checksum=<n>". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QS_COUNT (3u << 20)   /* 3M uint32 for quicksort   */
#define MS_COUNT (2u << 20)   /* 2M uint64 for merge sort  */
#define HEAP_COUNT (1u << 20) /* 1M uint32 for heapsort    */

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rng64(void) { /* xorshift64 */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void insertion_sort(uint32_t *a, int32_t lo, int32_t hi) {
    for (int32_t i = lo + 1; i <= hi; i++) {
        uint32_t v = a[i];
        int32_t j = i - 1;
        while (j >= lo && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

static inline void swap_u32(uint32_t *a, uint32_t *b) {
    uint32_t t = *a; *a = *b; *b = t;
}

/* Sorts a[lo..hi]; recurses into the smaller part, loops on the larger,
 * so recursion depth stays O(log n) (the wasm stack is small). */
static void quicksort(uint32_t *a, int32_t lo, int32_t hi) {
    while (hi - lo > 16) {
        int32_t mid = lo + (hi - lo) / 2;
        if (a[mid] < a[lo]) swap_u32(&a[mid], &a[lo]);
        if (a[hi] < a[lo]) swap_u32(&a[hi], &a[lo]);
        if (a[hi] < a[mid]) swap_u32(&a[hi], &a[mid]);
        uint32_t pivot = a[mid];
        int32_t i = lo, j = hi;
        while (i <= j) {               /* Hoare-style partition */
            while (a[i] < pivot) i++;
            while (a[j] > pivot) j--;
            if (i <= j) {
                swap_u32(&a[i], &a[j]);
                i++;
                j--;
            }
        }
        if (j - lo < hi - i) {
            quicksort(a, lo, j);
            lo = i;
        } else {
            quicksort(a, i, hi);
            hi = j;
        }
    }
    insertion_sort(a, lo, hi);
}

/* Bottom-up merge sort of n uint64 values using tmp as scratch space. */
static void merge_sort(uint64_t *a, uint64_t *tmp, uint32_t n) {
    uint64_t *src = a, *dst = tmp;
    for (uint32_t width = 1; width < n; width *= 2) {
        for (uint32_t lo = 0; lo < n; lo += 2 * width) {
            uint32_t mid = lo + width < n ? lo + width : n;
            uint32_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            uint32_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                dst[k++] = src[i] <= src[j] ? src[i++] : src[j++];
            while (i < mid) dst[k++] = src[i++];
            while (j < hi) dst[k++] = src[j++];
        }
        uint64_t *t = src; src = dst; dst = t;
    }
    if (src != a)
        memcpy(a, src, sizeof(uint64_t) * n);
}

typedef int (*cmp_fn)(uint32_t, uint32_t);

static int cmp_u32(uint32_t a, uint32_t b) { return (a > b) - (a < b); }

static void sift_down(uint32_t *a, uint32_t root, uint32_t end, cmp_fn cmp) {
    for (;;) {
        uint32_t child = 2 * root + 1;
        if (child >= end) return;
        if (child + 1 < end && cmp(a[child], a[child + 1]) < 0) child++;
        if (cmp(a[root], a[child]) >= 0) return;
        swap_u32(&a[root], &a[child]);
        root = child;
    }
}

/* Heapsort of n uint32 values ordered by cmp (called indirectly). */
static void heap_sort(uint32_t *a, uint32_t n, cmp_fn cmp) {
    for (uint32_t i = n / 2; i-- > 0;)
        sift_down(a, i, n, cmp);
    for (uint32_t end = n; end-- > 1;) {
        swap_u32(&a[0], &a[end]);
        sift_down(a, 0, end, cmp);
    }
}

static void fail(const char *what) {
    printf("sort: %s\n", what);
    exit(1);
}

int main(void) {
    uint64_t sum = 0;

    /* 1. quicksort; values limited to 2^24 so there are many duplicates */
    uint32_t *q = malloc(sizeof(uint32_t) * QS_COUNT);
    if (!q) fail("out of memory");
    for (uint32_t i = 0; i < QS_COUNT; i++)
        q[i] = (uint32_t)(rng64() >> 40);
    quicksort(q, 0, (int32_t)QS_COUNT - 1);
    for (uint32_t i = 0; i < QS_COUNT; i++) {
        if (i && q[i - 1] > q[i]) fail("quicksort result not sorted");
        sum += (uint64_t)q[i] * (i + 1);
    }
    free(q);

    /* 2. merge sort of full-width 64-bit keys */
    uint64_t *m = malloc(sizeof(uint64_t) * MS_COUNT);
    uint64_t *tmp = malloc(sizeof(uint64_t) * MS_COUNT);
    if (!m || !tmp) fail("out of memory");
    for (uint32_t i = 0; i < MS_COUNT; i++)
        m[i] = rng64();
    merge_sort(m, tmp, MS_COUNT);
    for (uint32_t i = 0; i < MS_COUNT; i++) {
        if (i && m[i - 1] > m[i]) fail("merge sort result not sorted");
        sum = sum * 3 + (m[i] ^ i);
    }
    free(m);
    free(tmp);

    /* 3. heapsort through a comparison callback; the volatile function
     * pointer keeps the compiler from devirtualising/inlining the calls */
    static cmp_fn volatile comparator = cmp_u32;
    uint32_t *l = malloc(sizeof(uint32_t) * HEAP_COUNT);
    if (!l) fail("out of memory");
    for (uint32_t i = 0; i < HEAP_COUNT; i++)
        l[i] = (uint32_t)rng64();
    heap_sort(l, HEAP_COUNT, comparator);
    for (uint32_t i = 0; i < HEAP_COUNT; i++) {
        if (i && l[i - 1] > l[i]) fail("heapsort result not sorted");
        sum += (uint64_t)l[i] * (i + 7);
    }
    free(l);

    printf("sort checksum=%llu\n", (unsigned long long)sum);
    return 0;
}
