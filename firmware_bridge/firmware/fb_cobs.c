#include "fb_cobs.h"

size_t fb_cobs_encode(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    size_t code_at = 0, o = 1;
    uint8_t code = 1;
    int just_full = 0; /* the last thing written was a full 0xFF block */
    if (cap == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == 0) {
            out[code_at] = code;
            code_at = o++;
            code = 1;
            just_full = 0;
        } else {
            if (o >= cap)
                return 0;
            out[o++] = in[i];
            code++;
            just_full = 0;
            if (code == 0xFF) {
                out[code_at] = code;
                code_at = o++;
                code = 1;
                just_full = 1;
            }
        }
        if (o > cap)
            return 0;
    }
    if (just_full) /* canonical: no empty block after a final 0xFF block */
        return o - 1;
    out[code_at] = code;
    return o;
}

int fb_cobs_decode(const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *out_len)
{
    size_t i = 0, o = 0;
    if (n == 0)
        return -1;
    while (i < n) {
        uint8_t code = in[i];
        if (code == 0 || (size_t)code > n - i)
            return -1;
        for (size_t k = 1; k < code; k++) {
            if (in[i + k] == 0 || o >= cap)
                return -1;
            out[o++] = in[i + k];
        }
        i += code;
        if (code != 0xFF && i < n) {
            if (o >= cap)
                return -1;
            out[o++] = 0;
        }
    }
    *out_len = o;
    return 0;
}
