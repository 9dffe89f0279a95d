#include "fb_frame.h"

#include <string.h>

#include "fb_cobs.h"
#include "fb_crc.h"

int fb_frame_parse_body(const uint8_t *body, size_t n, fb_frame_t *f)
{
    if (n < FB_HEADER_SIZE + FB_CRC_SIZE)
        return FB_ERR_SHORT;
    if (n > FB_MAX_BODY)
        return FB_ERR_LENGTH;
    uint32_t crc = fb_get_u32(body + n - FB_CRC_SIZE);
    if (fb_crc32(body, n - FB_CRC_SIZE) != crc)
        return FB_ERR_CRC;
    uint16_t len = fb_get_u16(body + 4);
    if ((size_t)len != n - FB_HEADER_SIZE - FB_CRC_SIZE)
        return FB_ERR_LENGTH;
    f->version = body[0];
    f->type = body[1];
    f->flags = body[2];
    f->seq = body[3];
    f->len = len;
    f->crc = crc;
    memcpy(f->payload, body + FB_HEADER_SIZE, len);
    return FB_FRAME_OK;
}

size_t fb_frame_build(fb_frame_t *f, uint8_t *out, size_t cap)
{
    uint8_t body[FB_MAX_BODY];
    if (f->len > FB_MAX_PAYLOAD)
        return 0;
    body[0] = f->version;
    body[1] = f->type;
    body[2] = f->flags;
    body[3] = f->seq;
    fb_put_u16(body + 4, f->len);
    memcpy(body + FB_HEADER_SIZE, f->payload, f->len);
    size_t n = FB_HEADER_SIZE + f->len;
    f->crc = fb_crc32(body, n);
    fb_put_u32(body + n, f->crc);
    n += FB_CRC_SIZE;
    if (cap < 2)
        return 0;
    size_t m = fb_cobs_encode(body, n, out, cap - 1);
    if (m == 0)
        return 0;
    out[m] = 0;
    return m + 1;
}

void fb_decoder_init(fb_decoder_t *d) { memset(d, 0, sizeof *d); }

int fb_decoder_push(fb_decoder_t *d, uint8_t byte, fb_frame_t *f)
{
    if (byte != 0) {
        if (d->overflow)
            return 0;
        if (d->len >= FB_MAX_ENCODED) {
            d->overflow = 1;
            d->len = 0;
            return 0;
        }
        d->buf[d->len++] = byte;
        return 0;
    }
    /* delimiter */
    if (d->overflow) {
        d->overflow = 0;
        d->stats.errors[FB_ERR_OVERFLOW]++;
        return 0;
    }
    if (d->len == 0)
        return 0;
    size_t n = 0;
    int err;
    if (fb_cobs_decode(d->buf, d->len, d->body, sizeof d->body, &n) != 0)
        err = FB_ERR_COBS;
    else
        err = fb_frame_parse_body(d->body, n, f);
    d->len = 0;
    if (err != FB_FRAME_OK) {
        d->stats.errors[err]++;
        return 0;
    }
    d->stats.frames++;
    return 1;
}
