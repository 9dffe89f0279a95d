/* Fuzz harness for the frame decoder and the device dispatch.
   Usage: fuzz [ITERATIONS [SEED]]. Per iteration it feeds
     1. a random byte stream (zeros made common so frames are short) to a decoder,
     2. a valid random frame with random corruption (bit flips, byte insert/delete/overwrite,
        truncation, spliced garbage), followed by 0x00 + the clean frame, which must then decode
        exactly (resynchronisation),
     3. a random request with a valid CRC to a device, whose replies must decode as valid frames.
   It fails (exit 1) if a corrupted frame is accepted with content other than the original, if
   random bytes are accepted as a frame, or if resynchronisation fails. Build with
   -fsanitize=address,undefined to catch memory errors; the bounded loops rule out hangs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fb_device.h"

static uint64_t rng_state;
static uint32_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 32);
}
static uint32_t below(uint32_t n) { return n ? rnd() % n : 0; }

static fb_decoder_t dec;
static fb_frame_t frame, got, orig;
static uint8_t wire[FB_MAX_WIRE], mutated[2 * FB_MAX_WIRE + 64];
static fb_device_t dev;
static fb_decoder_t host;
static unsigned long replies, bad_replies;
static uint8_t last_seq;

static int same(const fb_frame_t *a, const fb_frame_t *b)
{
    return a->version == b->version && a->type == b->type && a->flags == b->flags && a->seq == b->seq &&
           a->len == b->len && memcmp(a->payload, b->payload, a->len) == 0;
}

static void random_frame(fb_frame_t *f)
{
    static const uint8_t types[] = {0x01, 0x10, 0x11, 0x12, 0x13, 0x14, 0x20, 0x21, 0x30, 0x31, 0x40, 0x41};
    f->version = below(16) ? FB_PROTOCOL_VERSION : (uint8_t)rnd();
    f->type = below(8) ? types[below(sizeof types)] : (uint8_t)rnd();
    f->flags = below(8) ? 0 : (uint8_t)below(4);
    f->seq = (uint8_t)rnd();
    uint32_t r = below(100);
    f->len = (uint16_t)(r < 70 ? below(16) : r < 95 ? below(200) : below(FB_MAX_PAYLOAD + 1));
    for (uint16_t i = 0; i < f->len; i++)
        f->payload[i] = below(4) ? (uint8_t)rnd() : 0;
    if (f->type == FB_PRESET_BEGIN && f->len == 9 && below(2)) /* make some transfers valid */
        fb_put_u32(f->payload + 1, below(64) + 1);
    if ((f->type == FB_PRESET_WRITE || f->type == FB_PRESET_READ) && f->len >= 5 && below(2))
        fb_put_u32(f->payload + (f->type == FB_PRESET_READ), below(64));
}

static void on_reply(void *ctx, const uint8_t *data, size_t n)
{
    (void)ctx;
    int frames = 0;
    for (size_t i = 0; i < n; i++)
        if (fb_decoder_push(&host, data[i], &got)) {
            frames++;
            if (!(got.flags & FB_FLAG_REPLY) || got.seq != last_seq || got.len < 1)
                bad_replies++;
        }
    if (frames != 1)
        bad_replies++;
    replies++;
}

int main(int argc, char **argv)
{
    unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000ul;
    rng_state = (argc > 2 ? strtoull(argv[2], NULL, 10) : 1ull) * 0x9E3779B97F4A7C15ULL + 1;
    unsigned long random_accepted = 0, corrupt_accepted = 0, benign = 0, resync_fail = 0, unchanged = 0;
    fb_decoder_init(&dec);
    fb_decoder_init(&host);
    fb_device_init(&dev, on_reply, NULL);

    for (unsigned long it = 0; it < n; it++) {
        /* 1. random bytes */
        int zero_free = below(8) == 0; /* long zero-free runs exercise the overflow path */
        size_t len = zero_free ? below(3000) : below(1200);
        for (size_t i = 0; i < len; i++) {
            uint8_t b = zero_free ? (uint8_t)(rnd() | 1u) : below(32) ? (uint8_t)rnd() : 0;
            if (fb_decoder_push(&dec, b, &got))
                random_accepted++;
        }
        fb_decoder_push(&dec, 0, &got);

        /* 2. corrupted valid frame, then resync on the clean frame */
        random_frame(&orig);
        size_t nw = fb_frame_build(&orig, wire, sizeof wire), nm = nw - 1; /* without delimiter */
        memcpy(mutated, wire, nm);
        int edits = 1 + (int)below(4);
        for (int k = 0; k < edits; k++) {
            uint32_t kind = below(6), pos = below((uint32_t)nm + 1);
            if (kind == 0 && nm) { /* bit flip */
                mutated[pos % nm] ^= (uint8_t)(1u << below(8));
            } else if (kind == 1 && nm < sizeof mutated - 1) { /* insert */
                memmove(mutated + pos + 1, mutated + pos, nm - pos);
                mutated[pos] = (uint8_t)rnd();
                nm++;
            } else if (kind == 2 && nm) { /* delete */
                pos %= nm;
                memmove(mutated + pos, mutated + pos + 1, nm - pos - 1);
                nm--;
            } else if (kind == 3 && nm) { /* overwrite a span */
                pos %= nm;
                for (uint32_t j = pos; j < nm && j < pos + 1 + below(8); j++)
                    mutated[j] = (uint8_t)rnd();
            } else if (kind == 4) { /* truncate */
                nm = pos;
            } else if (nm + 64 < sizeof mutated) { /* splice garbage */
                uint32_t g = 1 + below(32);
                memmove(mutated + pos + g, mutated + pos, nm - pos);
                for (uint32_t j = 0; j < g; j++)
                    mutated[pos + j] = (uint8_t)rnd();
                nm += g;
            }
        }
        if (nm == nw - 1 && memcmp(mutated, wire, nm) == 0) {
            unchanged++;
        } else {
            for (size_t i = 0; i < nm; i++)
                if (fb_decoder_push(&dec, mutated[i], &got)) {
                    if (same(&got, &orig))
                        benign++; /* e.g. garbage spliced before a delimiter the edit created */
                    else
                        corrupt_accepted++;
                }
        }
        int ok = 0;
        fb_decoder_push(&dec, 0, &got);
        for (size_t i = 0; i < nw; i++)
            if (fb_decoder_push(&dec, wire[i], &got))
                ok += same(&got, &orig);
        if (ok != 1)
            resync_fail++;

        /* 3. device dispatch on a valid-CRC request */
        random_frame(&frame);
        last_seq = frame.seq;
        unsigned long before = replies;
        int expect = !(frame.flags & (FB_FLAG_REPLY | FB_FLAG_EVENT));
        nw = fb_frame_build(&frame, wire, sizeof wire);
        fb_device_rx(&dev, wire, nw);
        if ((replies - before) != (unsigned long)expect)
            bad_replies++;
        if (below(64) == 0) /* exercise the reply cache: resend the same request */
            fb_device_rx(&dev, wire, nw);
    }
    unsigned long errs = 0;
    for (int k = 1; k < 6; k++)
        errs += dec.stats.errors[k];
    printf("fuzz: %lu iterations: %lu random streams, %lu corrupted frames (%lu unchanged skipped), "
           "%lu device requests; decoder saw %lu valid frames and %lu errors "
           "(cobs %u short %u length %u crc %u overflow %u); random accepted %lu, corrupt accepted %lu, "
           "benign %lu, resync failures %lu, device replies %lu, bad replies %lu, duplicates %u\n",
           n, n, n - unchanged, unchanged, n, (unsigned long)dec.stats.frames, errs, dec.stats.errors[1],
           dec.stats.errors[2], dec.stats.errors[3], dec.stats.errors[4], dec.stats.errors[5], random_accepted,
           corrupt_accepted, benign, resync_fail, replies, bad_replies, dev.rx_duplicates);
    return (random_accepted || corrupt_accepted || resync_fail || bad_replies) ? 1 : 0;
}
