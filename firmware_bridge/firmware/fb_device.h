/* Reference device side: message dispatch, staged preset store, reply cache. No allocation:
   everything lives in one fb_device_t (about 26 KiB with the defaults below). */
#ifndef FB_DEVICE_H
#define FB_DEVICE_H
#include "fb_frame.h"

#ifndef FB_NUM_PROGRAMS
#define FB_NUM_PROGRAMS 4u
#endif
#ifndef FB_PRESET_MAX
#define FB_PRESET_MAX 4096u
#endif
#define FB_SAMPLE_RATE_HZ 16000u
#define FB_BLOCK_SIZE_SAMPLES 32u
#define FB_CAPTURE_BLOCK_SAMPLES 128u
#define FB_MAX_CAPTURE_MS 60000u
#define FB_VOLUME_MIN_DB (-30)
#define FB_VOLUME_MAX_DB 10
#define FB_DEVICE_NAME "hearsep-ref"
#define FB_FW_MAJOR 0u
#define FB_FW_MINOR 1u
#define FB_FW_PATCH 0u
#define FB_CAPABILITIES 0x0Fu /* presets | telemetry | capture | log */
/* bit 0x10 (emulated: synthetic telemetry and audio) is set by the Python emulator only */

typedef void (*fb_tx_fn)(void *ctx, const uint8_t *data, size_t n);

typedef struct {
    uint16_t load_permille;
    uint16_t block_time_us;
    uint32_t underruns;
    uint32_t overruns;
    uint16_t battery_mv;
    uint32_t current_ua;
    int16_t temperature_cdeg;
    uint32_t uptime_ms;
} fb_sensors_t;

/* Fill *out with current measurements; NULL means "all zero" (host builds, tests). */
typedef void (*fb_sensor_fn)(void *ctx, fb_sensors_t *out);

typedef struct {
    fb_decoder_t dec;
    fb_frame_t rx;
    fb_frame_t tx;
    uint8_t wire[FB_MAX_WIRE];

    uint8_t presets[FB_NUM_PROGRAMS][FB_PRESET_MAX];
    uint32_t preset_size[FB_NUM_PROGRAMS]; /* 0: empty slot */
    uint8_t staging[FB_PRESET_MAX];
    int transfer_active;
    uint8_t transfer_slot;
    uint32_t transfer_size, transfer_crc, transfer_received;

    uint8_t program;
    int8_t volume_db;
    int capture_active;
    uint32_t capture_total, capture_sent;

    int have_last; /* reply cache for retransmitted requests */
    uint8_t last_version, last_type, last_flags, last_seq;
    uint16_t last_len;
    uint32_t last_crc;
    uint8_t last_reply[FB_MAX_WIRE];
    size_t last_reply_len;

    uint32_t rx_duplicates, tx_frames;
    uint8_t event_seq;
    fb_tx_fn tx_fn;
    void *tx_ctx;
    fb_sensor_fn sensors;
    void *sensor_ctx;
} fb_device_t;

void fb_device_init(fb_device_t *dev, fb_tx_fn tx, void *tx_ctx);
/* Feed received bytes; replies go out through the tx callback. */
void fb_device_rx(fb_device_t *dev, const uint8_t *data, size_t n);
/* Handle one valid frame (what fb_device_rx does per frame). */
void fb_device_handle(fb_device_t *dev, const fb_frame_t *f);
/* Send an EV_LOG line (text truncated to 256 bytes). */
void fb_device_log(fb_device_t *dev, uint8_t level, uint32_t uptime_ms, const char *text);
/* Send an EV_AUDIO block of n (<= FB_CAPTURE_BLOCK_SAMPLES) input and output samples. */
void fb_device_audio(fb_device_t *dev, uint32_t first_sample, const int16_t *in, const int16_t *out, uint16_t n);

#endif
