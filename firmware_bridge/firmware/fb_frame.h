/* Frames: header + payload + CRC-32, COBS-stuffed, 0x00-delimited. No allocation. */
#ifndef FB_FRAME_H
#define FB_FRAME_H
#include "fb_protocol.h"

typedef struct {
    uint8_t version;
    uint8_t type;
    uint8_t flags;
    uint8_t seq;
    uint16_t len;
    uint32_t crc; /* CRC-32 field of the frame (set by parse and build) */
    uint8_t payload[FB_MAX_PAYLOAD];
} fb_frame_t;

/* Check a decoded body and fill f. Returns FB_FRAME_OK or an fb_frame_error. */
int fb_frame_parse_body(const uint8_t *body, size_t n, fb_frame_t *f);

/* Build the wire bytes (COBS + delimiter) of a frame into out (cap >= FB_MAX_WIRE is always
   enough). Sets f->crc. Returns the number of bytes, or 0 if len > FB_MAX_PAYLOAD or cap is small. */
size_t fb_frame_build(fb_frame_t *f, uint8_t *out, size_t cap);

typedef struct {
    uint32_t frames;
    uint32_t errors[6]; /* indexed by fb_frame_error */
} fb_frame_stats_t;

/* Streaming decoder, one byte at a time (from a UART ISR or a DMA buffer). */
typedef struct {
    uint8_t buf[FB_MAX_ENCODED];
    uint8_t body[FB_MAX_ENCODED]; /* decodes never grow: oversize bodies fail as FB_ERR_LENGTH */
    size_t len;
    int overflow;
    fb_frame_stats_t stats;
} fb_decoder_t;

void fb_decoder_init(fb_decoder_t *d);
/* Push one byte. Returns 1 when a valid frame was completed into *f, else 0 (errors are counted
   in d->stats; empty frames between delimiters are skipped silently). */
int fb_decoder_push(fb_decoder_t *d, uint8_t byte, fb_frame_t *f);

#endif
