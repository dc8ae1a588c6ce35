/* memory.c - memory-bound benchmark (64 MB, then 16 MB, of working set):
 *   1. open-addressing hash table (linear probing, 4M slots x 16 bytes =
 *      64 MB) with millions of insert-or-update operations and lookups
 *      (hits and misses), keyed by 64-bit integers;
 *   2. a dependent random pointer chase over a 16 MB array that holds a
 *      single random cycle (Sattolo's algorithm), i.e. cache/TLB misses.
 * Prints "memory checksum=<n>". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define TABLE_BITS 22
#define TABLE_SLOTS (1u << TABLE_BITS)
#define INSERTS 2000000u
#define KEY_RANGE 2000000u
#define LOOKUPS 6000000u

#define WALK_BITS 22
#define WALK_LEN (1u << WALK_BITS)  /* 4M uint32 = 16 MB */
#define WALK_STEPS 2500000u

typedef struct {
    uint64_t key; /* 0 = empty */
    uint64_t value;
} Slot;

static uint64_t rng_state = 0x853C49E6748FEA9Bull;
static uint64_t rng64(void) { /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

static uint64_t mix64(uint64_t x) { /* splitmix64 finaliser */
    x ^= x >> 30; x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 27; x *= 0x94D049BB133111EBull;
    x ^= x >> 31;
    return x;
}

/* Maps a small id to a well-spread non-zero 64-bit key. */
static uint64_t make_key(uint64_t id) { return (id * 0x9E3779B97F4A7C15ull) | 1; }

static Slot *find_slot(Slot *table, uint64_t key) {
    uint32_t i = (uint32_t)(mix64(key) >> (64 - TABLE_BITS));
    while (table[i].key != 0 && table[i].key != key)
        i = (i + 1) & (TABLE_SLOTS - 1);
    return &table[i];
}

int main(void) {
    uint64_t sum = 0;

    /* ---- 1. hash table */
    Slot *table = calloc(TABLE_SLOTS, sizeof(Slot));
    if (!table) {
        printf("memory: out of memory\n");
        return 1;
    }
    uint32_t distinct = 0;
    for (uint32_t i = 0; i < INSERTS; i++) {
        uint64_t key = make_key(rng64() % KEY_RANGE);
        Slot *s = find_slot(table, key);
        if (s->key == 0) {
            s->key = key;
            distinct++;
        }
        s->value += i ^ (uint32_t)key;
    }
    uint32_t hits = 0;
    for (uint32_t i = 0; i < LOOKUPS; i++) {
        /* half the probed ids lie outside the inserted range -> mostly misses */
        uint64_t key = make_key(rng64() % (2 * KEY_RANGE));
        Slot *s = find_slot(table, key);
        if (s->key == key) {
            hits++;
            sum += s->value;
        } else {
            sum ^= (uint64_t)(s - table);
        }
    }
    sum = sum * 31 + distinct;
    sum = sum * 31 + hits;
    free(table);

    /* ---- 2. random pointer chase */
    uint32_t *next = malloc(sizeof(uint32_t) * WALK_LEN);
    if (!next) {
        printf("memory: out of memory\n");
        return 1;
    }
    for (uint32_t i = 0; i < WALK_LEN; i++)
        next[i] = i;
    for (uint32_t i = WALK_LEN - 1; i > 0; i--) { /* Sattolo: one big cycle */
        uint32_t j = (uint32_t)(rng64() % i);
        uint32_t t = next[i]; next[i] = next[j]; next[j] = t;
    }
    uint32_t p = 0;
    uint64_t walk = 0;
    for (uint32_t step = 0; step < WALK_STEPS; step++) {
        p = next[p];
        walk += p ^ step;
    }
    sum = sum * 31 + walk;
    sum = sum * 31 + p;
    free(next);

    printf("memory checksum=%llu\n", (unsigned long long)sum);
    return 0;
}
