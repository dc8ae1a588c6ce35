/* parse.c - parsing benchmark: generates a ~4 MB JSON document in memory
 * (nested objects/arrays, strings with escapes, integers/decimals/exponents,
 * literals, irregular whitespace), then repeatedly tokenises and parses it
 * with a recursive-descent parser into a heap-allocated DOM and walks the DOM
 * to hash every value. Byte-wise branchy code, pointer chasing and malloc.
 * Prints "parse checksum=<n>". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TARGET_BYTES (4u << 20)
#define PASSES 26
#define MAX_DEPTH 6

/* ---------------------------------------------------------------- utils */

static uint32_t rng_state = 0x12345678u;
static uint32_t rng(void) { /* xorshift32 */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static void die(const char *msg, uint32_t pos) {
    printf("parse: %s at byte %u\n", msg, pos);
    exit(1);
}

typedef struct {
    char *data;
    uint32_t len, cap;
} Buf;

static void buf_put(Buf *b, const char *s, uint32_t n) {
    if (b->len + n > b->cap) {
        while (b->len + n > b->cap)
            b->cap = b->cap ? b->cap * 2 : 4096;
        b->data = realloc(b->data, b->cap);
        if (!b->data) die("out of memory", b->len);
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
}
static void buf_putc(Buf *b, char c) { buf_put(b, &c, 1); }
static void buf_puts(Buf *b, const char *s) { buf_put(b, s, (uint32_t)strlen(s)); }
static void buf_putu(Buf *b, uint32_t v) {
    char tmp[16];
    int n = 0;
    do { tmp[15 - n++] = (char)('0' + v % 10); v /= 10; } while (v);
    buf_put(b, tmp + 16 - n, (uint32_t)n);
}

/* ------------------------------------------------------------ generator */

static const char *const KEYS[] = {
    "id", "name", "value", "items", "type", "children", "enabled", "score",
    "tags", "description", "x", "y", "z", "weight", "parent", "meta",
    "created", "owner", "size", "ratio", "label", "path", "count", "extra"};
#define NKEYS (sizeof KEYS / sizeof KEYS[0])

static void gen_ws(Buf *b) {
    uint32_t r = rng() & 15;
    if (r < 9) return;
    if (r < 13) { buf_putc(b, ' '); return; }
    if (r < 15) { buf_puts(b, "\n  "); return; }
    buf_puts(b, "\t \r\n");
}

static void gen_string(Buf *b) {
    uint32_t n = rng() % 24;
    buf_putc(b, '"');
    for (uint32_t i = 0; i < n; i++) {
        uint32_t r = rng() % 64;
        if (r < 52) buf_putc(b, (char)(r < 26 ? 'a' + r : 'A' + r - 26));
        else if (r < 56) buf_putc(b, ' ');
        else if (r < 58) buf_putc(b, (char)('0' + rng() % 10));
        else if (r == 58) buf_puts(b, "\\\"");
        else if (r == 59) buf_puts(b, "\\\\");
        else if (r == 60) buf_puts(b, "\\n");
        else if (r == 61) buf_puts(b, "\\t");
        else if (r == 62) buf_puts(b, "\\u00e9");
        else buf_puts(b, "\\/");
    }
    buf_putc(b, '"');
}

static void gen_number(Buf *b) {
    uint32_t r = rng();
    if (r & 1) buf_putc(b, '-');
    buf_putu(b, (r >> 1) % ((r & 2) ? 1000000u : 100u));
    if (r & 4) { /* fraction */
        buf_putc(b, '.');
        uint32_t digits = 1 + rng() % 6;
        for (uint32_t i = 0; i < digits; i++) buf_putc(b, (char)('0' + rng() % 10));
    }
    if ((r & 24) == 24) { /* exponent */
        buf_putc(b, (r & 32) ? 'e' : 'E');
        if (r & 64) buf_putc(b, (r & 128) ? '-' : '+');
        buf_putu(b, rng() % 20);
    }
}

static void gen_value(Buf *b, int depth) {
    uint32_t r = rng() % 16;
    if (depth >= MAX_DEPTH && r >= 11) r = rng() % 11; /* only scalars */
    gen_ws(b);
    if (r < 4) {
        gen_number(b);
    } else if (r < 8) {
        gen_string(b);
    } else if (r < 11) {
        buf_puts(b, r == 8 ? "true" : r == 9 ? "false" : "null");
    } else if (r < 13) {
        uint32_t n = rng() % 7;
        buf_putc(b, '[');
        for (uint32_t i = 0; i < n; i++) {
            if (i) buf_putc(b, ',');
            gen_value(b, depth + 1);
        }
        gen_ws(b);
        buf_putc(b, ']');
    } else {
        uint32_t n = rng() % 6;
        buf_putc(b, '{');
        for (uint32_t i = 0; i < n; i++) {
            if (i) buf_putc(b, ',');
            gen_ws(b);
            buf_putc(b, '"');
            buf_puts(b, KEYS[rng() % NKEYS]);
            buf_putc(b, '"');
            gen_ws(b);
            buf_putc(b, ':');
            gen_value(b, depth + 1);
        }
        gen_ws(b);
        buf_putc(b, '}');
    }
    gen_ws(b);
}

/* One record: an object with a few fixed members plus random ones. */
static void gen_record(Buf *b, uint32_t id) {
    buf_puts(b, "{\"id\":");
    buf_putu(b, id);
    buf_puts(b, ",\"name\":");
    gen_string(b);
    uint32_t n = 2 + rng() % 5;
    for (uint32_t i = 0; i < n; i++) {
        buf_puts(b, ",\"");
        buf_puts(b, KEYS[rng() % NKEYS]);
        buf_puts(b, "\":");
        gen_value(b, 1);
    }
    buf_putc(b, '}');
}

/* ------------------------------------------------------------------ DOM */

enum { T_NULL, T_FALSE, T_TRUE, T_NUMBER, T_STRING, T_ARRAY, T_OBJECT };

typedef struct Node {
    uint8_t type;
    int32_t exp10;           /* number = mant * 10^exp10 */
    int64_t mant;
    const char *str;         /* decoded string value */
    uint32_t str_len;
    const char *key;         /* member name when inside an object */
    uint32_t key_len;
    uint32_t count;          /* number of children */
    struct Node *first, *next;
} Node;

/* Nodes come from malloc'ed blocks. After a pass the blocks go to a spare
 * list and are reused (returning them to malloc would let glibc trim the heap
 * and re-fault it every pass, i.e. measure the kernel instead of the code). */
#define BLOCK_NODES 1024
typedef struct Block {
    struct Block *prev;
    uint32_t used;
    Node nodes[BLOCK_NODES];
} Block;

typedef struct {
    const char *p, *begin, *end;
    Block *block;            /* blocks in use, newest first */
    Block *spare;            /* blocks free for reuse */
    char *strings;           /* decoded strings, capacity >= input length */
    uint32_t strings_len;
} Parser;

static Node *new_node(Parser *ps, uint8_t type) {
    if (!ps->block || ps->block->used == BLOCK_NODES) {
        Block *blk = ps->spare;
        if (blk) {
            ps->spare = blk->prev;
        } else {
            blk = malloc(sizeof(Block));
            if (!blk) die("out of memory", 0);
        }
        blk->prev = ps->block;
        blk->used = 0;
        ps->block = blk;
    }
    Node *n = &ps->block->nodes[ps->block->used++];
    memset(n, 0, sizeof *n);
    n->type = type;
    return n;
}

static void recycle_nodes(Parser *ps) {
    while (ps->block) {
        Block *prev = ps->block->prev;
        ps->block->prev = ps->spare;
        ps->spare = ps->block;
        ps->block = prev;
    }
}

static void free_blocks(Block *b) {
    while (b) {
        Block *prev = b->prev;
        free(b);
        b = prev;
    }
}

/* --------------------------------------------------------------- parser */

static uint32_t pos(const Parser *ps) { return (uint32_t)(ps->p - ps->begin); }

static void skip_ws(Parser *ps) {
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\t' || *ps->p == '\r'))
        ps->p++;
}

static void expect(Parser *ps, char c) {
    skip_ws(ps);
    if (ps->p >= ps->end || *ps->p != c) die("unexpected character", pos(ps));
    ps->p++;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Parses a string literal (cursor on the opening quote), decoding escapes
 * into the string arena; \uXXXX is encoded as UTF-8 (BMP only). */
static void parse_string(Parser *ps, const char **out, uint32_t *out_len) {
    ps->p++;
    char *dst = ps->strings + ps->strings_len, *start = dst;
    for (;;) {
        if (ps->p >= ps->end) die("unterminated string", pos(ps));
        char c = *ps->p++;
        if (c == '"') break;
        if (c != '\\') { *dst++ = c; continue; }
        if (ps->p >= ps->end) die("bad escape", pos(ps));
        c = *ps->p++;
        switch (c) {
        case '"': case '\\': case '/': *dst++ = c; break;
        case 'n': *dst++ = '\n'; break;
        case 't': *dst++ = '\t'; break;
        case 'r': *dst++ = '\r'; break;
        case 'b': *dst++ = '\b'; break;
        case 'f': *dst++ = '\f'; break;
        case 'u': {
            uint32_t cp = 0;
            for (int i = 0; i < 4; i++) {
                int h = ps->p < ps->end ? hexval(*ps->p++) : -1;
                if (h < 0) die("bad \\u escape", pos(ps));
                cp = cp << 4 | (uint32_t)h;
            }
            if (cp < 0x80) {
                *dst++ = (char)cp;
            } else if (cp < 0x800) {
                *dst++ = (char)(0xC0 | cp >> 6);
                *dst++ = (char)(0x80 | (cp & 0x3F));
            } else {
                *dst++ = (char)(0xE0 | cp >> 12);
                *dst++ = (char)(0x80 | ((cp >> 6) & 0x3F));
                *dst++ = (char)(0x80 | (cp & 0x3F));
            }
            break;
        }
        default: die("bad escape", pos(ps));
        }
    }
    *out = start;
    *out_len = (uint32_t)(dst - start);
    ps->strings_len += *out_len;
}

static void parse_number(Parser *ps, Node *n) {
    int neg = 0;
    int64_t mant = 0;
    int32_t exp10 = 0;
    if (*ps->p == '-') { neg = 1; ps->p++; }
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') die("bad number", pos(ps));
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
        mant = mant * 10 + (*ps->p++ - '0');
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') die("bad fraction", pos(ps));
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
            mant = mant * 10 + (*ps->p++ - '0');
            exp10--;
        }
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        int eneg = 0;
        int32_t e = 0;
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) eneg = *ps->p++ == '-';
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') die("bad exponent", pos(ps));
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
            e = e * 10 + (*ps->p++ - '0');
        exp10 += eneg ? -e : e;
    }
    n->mant = neg ? -mant : mant;
    n->exp10 = exp10;
}

static int match_word(Parser *ps, const char *w, uint32_t len) {
    if ((uint32_t)(ps->end - ps->p) < len || memcmp(ps->p, w, len) != 0) return 0;
    ps->p += len;
    return 1;
}

static Node *parse_value(Parser *ps, int depth) {
    if (depth > 64) die("nesting too deep", pos(ps));
    skip_ws(ps);
    if (ps->p >= ps->end) die("unexpected end of input", pos(ps));
    char c = *ps->p;
    Node *n;
    if (c == '{' || c == '[') {
        int is_obj = c == '{';
        char close = is_obj ? '}' : ']';
        n = new_node(ps, is_obj ? T_OBJECT : T_ARRAY);
        ps->p++;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == close) { ps->p++; return n; }
        Node **tail = &n->first;
        for (;;) {
            const char *key = NULL;
            uint32_t key_len = 0;
            if (is_obj) {
                skip_ws(ps);
                if (ps->p >= ps->end || *ps->p != '"') die("expected member name", pos(ps));
                parse_string(ps, &key, &key_len);
                expect(ps, ':');
            }
            Node *child = parse_value(ps, depth + 1);
            child->key = key;
            child->key_len = key_len;
            *tail = child;
            tail = &child->next;
            n->count++;
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') { ps->p++; continue; }
            expect(ps, close);
            return n;
        }
    }
    if (c == '"') {
        n = new_node(ps, T_STRING);
        parse_string(ps, &n->str, &n->str_len);
        return n;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        n = new_node(ps, T_NUMBER);
        parse_number(ps, n);
        return n;
    }
    if (match_word(ps, "true", 4)) return new_node(ps, T_TRUE);
    if (match_word(ps, "false", 5)) return new_node(ps, T_FALSE);
    if (match_word(ps, "null", 4)) return new_node(ps, T_NULL);
    die("unexpected character", pos(ps));
    return NULL;
}

/* ----------------------------------------------------------- DOM walker */

static uint64_t hash_bytes(uint64_t h, const char *s, uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 1099511628211ull; /* FNV-1a */
    return h;
}

static uint64_t hash_node(const Node *n, uint64_t h) {
    h = (h ^ n->type) * 0x100000001B3ull;
    if (n->key) h = hash_bytes(h ^ 0x55, n->key, n->key_len);
    switch (n->type) {
    case T_NUMBER:
        h = (h ^ (uint64_t)n->mant) * 0x9E3779B97F4A7C15ull;
        h ^= (uint64_t)(int64_t)n->exp10 + (h >> 29);
        break;
    case T_STRING:
        h = hash_bytes(h, n->str, n->str_len);
        break;
    case T_ARRAY:
    case T_OBJECT:
        h += n->count;
        for (const Node *c = n->first; c; c = c->next)
            h = hash_node(c, h);
        break;
    }
    return h;
}

int main(void) {
    Buf doc = {0};
    buf_putc(&doc, '[');
    for (uint32_t id = 0; doc.len < TARGET_BYTES; id++) {
        if (id) buf_puts(&doc, ",\n");
        gen_record(&doc, id);
    }
    buf_puts(&doc, "]\n");

    Parser ps = {0};
    ps.strings = malloc(doc.len + 1);
    if (!ps.strings) die("out of memory", 0);

    uint64_t sum = doc.len;
    for (int pass = 0; pass < PASSES; pass++) {
        ps.begin = ps.p = doc.data;
        ps.end = doc.data + doc.len;
        ps.strings_len = 0;
        Node *root = parse_value(&ps, 0);
        skip_ws(&ps);
        if (ps.p != ps.end) die("trailing garbage", pos(&ps));
        sum = sum * 31 + hash_node(root, (uint64_t)pass);
        sum += root->count;
        recycle_nodes(&ps);
        /* perturb one digit inside the document so passes differ */
        for (uint32_t i = (uint32_t)(sum % doc.len); i < doc.len; i++)
            if (doc.data[i] >= '0' && doc.data[i] <= '8') { doc.data[i]++; break; }
    }

    printf("parse checksum=%llu\n", (unsigned long long)sum);
    recycle_nodes(&ps);
    free_blocks(ps.spare);
    free(ps.strings);
    free(doc.data);
    return 0;
}
