/* Consistent Overhead Byte Stuffing, canonical form shared with firmware_bridge/framing.py. */
#ifndef FB_COBS_H
#define FB_COBS_H
#include <stddef.h>
#include <stdint.h>

/* Encode n bytes into out (capacity cap). Returns the encoded length, or 0 if cap is too small.
   The output holds no 0x00; it is at most n + n / 254 + 1 bytes. */
size_t fb_cobs_encode(const uint8_t *in, size_t n, uint8_t *out, size_t cap);

/* Decode n bytes (without the delimiter) into out. Returns 0 and sets *out_len, or -1 if the
   input is malformed (empty, holds a 0x00, a block runs past the end) or does not fit in cap. */
int fb_cobs_decode(const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *out_len);

#endif
