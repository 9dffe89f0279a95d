/* Host test: check the C reference against ../vectors/vectors.json.
   Usage: test_vectors PATH/vectors.json   (exit 0 when every vector passes)
   The JSON is flat by design (see firmware_bridge/testvectors.py): this reads it with a tiny
   scanner, no JSON library. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fb_cobs.h"
#include "fb_crc.h"
#include "fb_device.h"

static char json[1 << 20];
static int checks, failures;

#define CHECK(cond, ...)                                  \
    do {                                                  \
        checks++;                                         \
        if (!(cond)) {                                    \
            failures++;                                   \
            fprintf(stderr, "FAIL: " __VA_ARGS__);        \
            fputc('\n', stderr);                          \
        }                                                 \
    } while (0)

/* Find "key": inside [obj, end); return a pointer to the value or NULL. */
static const char *field(const char *obj, const char *end, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    size_t k = strlen(pat);
    for (const char *p = obj; p + k <= end; p++)
        if (memcmp(p, pat, k) == 0) {
            p += k;
            while (*p == ' ')
                p++;
            return p;
        }
    return NULL;
}

static long get_int(const char *obj, const char *end, const char *key)
{
    const char *v = field(obj, end, key);
    return v ? strtol(v, NULL, 10) : -1;
}

static void get_str(const char *obj, const char *end, const char *key, char *out, size_t cap)
{
    const char *v = field(obj, end, key);
    out[0] = 0;
    if (!v || *v != '"')
        return;
    v++;
    size_t n = 0;
    while (v < end && *v != '"' && n + 1 < cap)
        out[n++] = *v++;
    out[n] = 0;
}

static size_t get_hex(const char *obj, const char *end, const char *key, uint8_t *out, size_t cap)
{
    static char hex[8192];
    get_str(obj, end, key, hex, sizeof hex);
    size_t n = strlen(hex) / 2;
    if (n > cap)
        n = cap;
    for (size_t i = 0; i < n; i++) {
        unsigned b;
        sscanf(hex + 2 * i, "%2x", &b);
        out[i] = (uint8_t)b;
    }
    return n;
}

/* Iterate the objects of array "name": calls fn(obj_start, obj_end) for each. */
static int each(const char *name, void (*fn)(const char *, const char *))
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": [", name);
    const char *p = strstr(json, pat);
    int count = 0;
    if (!p)
        return 0;
    p += strlen(pat);
    for (;;) {
        while (*p && *p != '{' && *p != ']')
            p++;
        if (*p != '{')
            break;
        const char *e = strchr(p, '}');
        if (!e)
            break;
        fn(p, e);
        count++;
        p = e + 1;
    }
    return count;
}

static void t_crc(const char *o, const char *e)
{
    uint8_t d[256];
    char name[128];
    size_t n = get_hex(o, e, "data_hex", d, sizeof d);
    get_str(o, e, "name", name, sizeof name);
    CHECK(fb_crc32(d, n) == (uint32_t)strtoul(field(o, e, "crc32"), NULL, 10), "crc32 %s", name);
}

static void t_cobs(const char *o, const char *e)
{
    static uint8_t raw[512], enc[512], out[512];
    char name[128];
    size_t nr = get_hex(o, e, "raw_hex", raw, sizeof raw), ne = get_hex(o, e, "encoded_hex", enc, sizeof enc), n;
    get_str(o, e, "name", name, sizeof name);
    n = fb_cobs_encode(raw, nr, out, sizeof out);
    CHECK(n == ne && memcmp(out, enc, n) == 0, "cobs encode %s", name);
    CHECK(fb_cobs_decode(enc, ne, out, sizeof out, &n) == 0 && n == nr && memcmp(out, raw, n) == 0,
          "cobs decode %s", name);
}

static void t_frame(const char *o, const char *e)
{
    static fb_frame_t f, g;
    static uint8_t wire[FB_MAX_WIRE], out[FB_MAX_WIRE];
    static fb_decoder_t d;
    char name[128];
    get_str(o, e, "name", name, sizeof name);
    f.version = (uint8_t)get_int(o, e, "version");
    f.type = (uint8_t)get_int(o, e, "type");
    f.flags = (uint8_t)get_int(o, e, "flags");
    f.seq = (uint8_t)get_int(o, e, "seq");
    f.len = (uint16_t)get_hex(o, e, "payload_hex", f.payload, sizeof f.payload);
    size_t nw = get_hex(o, e, "wire_hex", wire, sizeof wire);
    size_t n = fb_frame_build(&f, out, sizeof out);
    CHECK(n == nw && memcmp(out, wire, n) == 0, "frame build %s", name);
    fb_decoder_init(&d);
    int got = 0;
    for (size_t i = 0; i < nw; i++)
        got += fb_decoder_push(&d, wire[i], &g);
    CHECK(got == 1 && g.type == f.type && g.seq == f.seq && g.flags == f.flags && g.version == f.version &&
              g.len == f.len && memcmp(g.payload, f.payload, f.len) == 0,
          "frame decode %s", name);
}

static void t_bad(const char *o, const char *e)
{
    static uint8_t wire[4096];
    static fb_decoder_t d;
    static fb_frame_t g;
    char name[128], err[32];
    static const char *kinds[] = {"ok", "cobs", "short", "length", "crc", "overflow"};
    get_str(o, e, "name", name, sizeof name);
    get_str(o, e, "error", err, sizeof err);
    size_t nw = get_hex(o, e, "wire_hex", wire, sizeof wire);
    fb_decoder_init(&d);
    int got = 0;
    for (size_t i = 0; i < nw; i++)
        got += fb_decoder_push(&d, wire[i], &g);
    int kind = 0;
    for (int k = 1; k < 6; k++)
        if (d.stats.errors[k])
            kind = k;
    CHECK(got == 0 && strcmp(kinds[kind], err) == 0, "bad frame %s: expected %s, got %s", name, err, kinds[kind]);
}

static fb_device_t dev;
static long session = -1;
static uint8_t txbuf[8192];
static size_t txlen;

static void capture_tx(void *ctx, const uint8_t *data, size_t n)
{
    (void)ctx;
    if (txlen + n <= sizeof txbuf) {
        memcpy(txbuf + txlen, data, n);
        txlen += n;
    }
}

static void t_exchange(const char *o, const char *e)
{
    static uint8_t req[4096], rep[4096];
    char name[128];
    long s = get_int(o, e, "session");
    if (s != session) {
        fb_device_init(&dev, capture_tx, NULL);
        session = s;
    }
    get_str(o, e, "name", name, sizeof name);
    size_t nq = get_hex(o, e, "request_hex", req, sizeof req), np = get_hex(o, e, "reply_hex", rep, sizeof rep);
    txlen = 0;
    fb_device_rx(&dev, req, nq);
    CHECK(txlen == np && memcmp(txbuf, rep, np) == 0, "exchange %ld %s (%zu reply bytes, expected %zu)", s, name,
          txlen, np);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s vectors.json\n", argv[0]);
        return 2;
    }
    FILE *fp = fopen(argv[1], "rb");
    if (!fp) {
        perror(argv[1]);
        return 2;
    }
    size_t n = fread(json, 1, sizeof json - 1, fp);
    fclose(fp);
    json[n] = 0;
    int counts[5] = {each("crc32", t_crc), each("cobs", t_cobs), each("frames", t_frame),
                     each("bad_frames", t_bad), each("exchanges", t_exchange)};
    printf("vectors: crc32 %d, cobs %d, frames %d, bad_frames %d, exchanges %d; %d checks, %d failures\n",
           counts[0], counts[1], counts[2], counts[3], counts[4], checks, failures);
    return failures || counts[4] == 0 ? 1 : 0;
}
