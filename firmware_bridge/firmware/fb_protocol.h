/* firmware_bridge protocol v1: constants shared by every module. See ../PROTOCOL.md. */
#ifndef FB_PROTOCOL_H
#define FB_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#define FB_PROTOCOL_VERSION 1u
#define FB_HEADER_SIZE 6u
#define FB_CRC_SIZE 4u
#define FB_MAX_PAYLOAD 1024u
#define FB_MAX_BODY (FB_HEADER_SIZE + FB_MAX_PAYLOAD + FB_CRC_SIZE)   /* 1034 */
#define FB_MAX_ENCODED (FB_MAX_BODY + FB_MAX_BODY / 254u + 1u)         /* 1039, without delimiter */
#define FB_MAX_WIRE (FB_MAX_ENCODED + 1u)                              /* with the 0x00 delimiter */

#define FB_FLAG_REPLY 0x01u
#define FB_FLAG_EVENT 0x02u

enum fb_msg_type {
    FB_HELLO = 0x01,
    FB_PRESET_BEGIN = 0x10,
    FB_PRESET_WRITE = 0x11,
    FB_PRESET_COMMIT = 0x12,
    FB_PRESET_READ = 0x13,
    FB_PRESET_ABORT = 0x14,
    FB_SET_PROGRAM = 0x20,
    FB_SET_VOLUME = 0x21,
    FB_GET_TELEMETRY = 0x30,
    FB_GET_LINK_STATUS = 0x31,
    FB_CAPTURE_START = 0x40,
    FB_CAPTURE_STOP = 0x41,
    FB_EV_LOG = 0x60,
    FB_EV_AUDIO = 0x61,
    FB_EV_CAPTURE_END = 0x62
};

enum fb_status {
    FB_OK = 0,
    FB_UNKNOWN_TYPE = 1,
    FB_BAD_VERSION = 2,
    FB_BAD_LENGTH = 3,
    FB_BAD_ARG = 4,
    FB_BUSY = 5,
    FB_NO_TRANSFER = 6,
    FB_BAD_OFFSET = 7,
    FB_TOO_LARGE = 8,
    FB_CRC_MISMATCH = 9,
    FB_INCOMPLETE = 10,
    FB_EMPTY_SLOT = 11,
    FB_BAD_PRESET = 12   /* content check failed (PROTOCOL.md section 4); this reference never sends it */
};

/* Frame-level errors (the Python FrameError.kind in brackets). */
enum fb_frame_error {
    FB_FRAME_OK = 0,
    FB_ERR_COBS = 1,     /* "cobs" */
    FB_ERR_SHORT = 2,    /* "short" */
    FB_ERR_LENGTH = 3,   /* "length" */
    FB_ERR_CRC = 4,      /* "crc" */
    FB_ERR_OVERFLOW = 5  /* "overflow" */
};

/* Little-endian helpers. */
static inline uint16_t fb_get_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t fb_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline void fb_put_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void fb_put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}

#endif
