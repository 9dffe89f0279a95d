/* CRC-32/ISO-HDLC (zlib): reflected poly 0xEDB88320, init and xorout 0xFFFFFFFF. */
#ifndef FB_CRC_H
#define FB_CRC_H
#include <stddef.h>
#include <stdint.h>

/* Continue a CRC: start with crc = 0, feed chunks, the result is the CRC of all of them. */
uint32_t fb_crc32_update(uint32_t crc, const uint8_t *data, size_t n);
static inline uint32_t fb_crc32(const uint8_t *data, size_t n) { return fb_crc32_update(0u, data, n); }

#endif
