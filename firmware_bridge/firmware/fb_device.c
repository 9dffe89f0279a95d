#include "fb_device.h"

#include <string.h>

#include "fb_crc.h"

void fb_device_init(fb_device_t *dev, fb_tx_fn tx, void *tx_ctx)
{
    memset(dev, 0, sizeof *dev);
    fb_decoder_init(&dev->dec);
    dev->tx_fn = tx;
    dev->tx_ctx = tx_ctx;
}

static void send_frame(fb_device_t *dev, fb_frame_t *f, int cache)
{
    size_t n = fb_frame_build(f, dev->wire, sizeof dev->wire);
    if (n == 0)
        return;
    dev->tx_frames++;
    if (cache) {
        memcpy(dev->last_reply, dev->wire, n);
        dev->last_reply_len = n;
    }
    if (dev->tx_fn)
        dev->tx_fn(dev->tx_ctx, dev->wire, n);
}

static void send_event(fb_device_t *dev, uint8_t type, size_t len)
{
    dev->tx.version = FB_PROTOCOL_VERSION;
    dev->tx.type = type;
    dev->tx.flags = FB_FLAG_EVENT;
    dev->tx.seq = dev->event_seq++;
    dev->tx.len = (uint16_t)len;
    send_frame(dev, &dev->tx, 0);
}

/* Handlers read p[0..n) and write reply data to out; they return the status. */
#define HANDLER(name) static uint8_t name(fb_device_t *dev, const uint8_t *p, size_t n, uint8_t *out, size_t *out_n)

HANDLER(h_hello)
{
    (void)p; (void)n;
    static const char name[] = FB_DEVICE_NAME;
    out[0] = FB_PROTOCOL_VERSION;
    out[1] = FB_FW_MAJOR;
    out[2] = FB_FW_MINOR;
    out[3] = FB_FW_PATCH;
    fb_put_u32(out + 4, FB_CAPABILITIES);
    fb_put_u32(out + 8, FB_SAMPLE_RATE_HZ);
    fb_put_u16(out + 12, FB_BLOCK_SIZE_SAMPLES);
    fb_put_u16(out + 14, FB_MAX_PAYLOAD);
    fb_put_u32(out + 16, FB_PRESET_MAX);
    out[20] = FB_NUM_PROGRAMS;
    memcpy(out + 21, name, sizeof name - 1);
    *out_n = 21 + sizeof name - 1;
    (void)dev;
    return FB_OK;
}

HANDLER(h_preset_begin)
{
    (void)n;
    uint8_t slot = p[0];
    uint32_t size = fb_get_u32(p + 1), crc = fb_get_u32(p + 5);
    if (slot >= FB_NUM_PROGRAMS || size == 0)
        return FB_BAD_ARG;
    if (size > FB_PRESET_MAX)
        return FB_TOO_LARGE;
    if (!dev->transfer_active || dev->transfer_slot != slot || dev->transfer_size != size || dev->transfer_crc != crc) {
        dev->transfer_active = 1;
        dev->transfer_slot = slot;
        dev->transfer_size = size;
        dev->transfer_crc = crc;
        dev->transfer_received = 0;
    }
    fb_put_u32(out, dev->transfer_received);
    *out_n = 4;
    return FB_OK;
}

HANDLER(h_preset_write)
{
    uint32_t offset = fb_get_u32(p);
    size_t len = n - 4;
    if (!dev->transfer_active)
        return FB_NO_TRANSFER;
    if (offset > dev->transfer_received) {
        fb_put_u32(out, dev->transfer_received);
        *out_n = 4;
        return FB_BAD_OFFSET;
    }
    if ((uint64_t)offset + len > dev->transfer_size)
        return FB_TOO_LARGE;
    memcpy(dev->staging + offset, p + 4, len);
    if (offset + len > dev->transfer_received)
        dev->transfer_received = (uint32_t)(offset + len);
    fb_put_u32(out, dev->transfer_received);
    *out_n = 4;
    return FB_OK;
}

HANDLER(h_preset_commit)
{
    (void)n;
    uint8_t slot = p[0];
    uint32_t crc = fb_get_u32(p + 1);
    if (!dev->transfer_active || dev->transfer_slot != slot || dev->transfer_crc != crc)
        return FB_NO_TRANSFER;
    if (dev->transfer_received < dev->transfer_size) {
        fb_put_u32(out, dev->transfer_received);
        *out_n = 4;
        return FB_INCOMPLETE;
    }
    dev->transfer_active = 0;
    if (fb_crc32(dev->staging, dev->transfer_size) != crc)
        return FB_CRC_MISMATCH; /* staged bytes are wrong: the host must start over */
    /* On flash this is "write the spare page, then flip the slot pointer": the old preset stays
       valid until the new one is complete. */
    memcpy(dev->presets[slot], dev->staging, dev->transfer_size);
    dev->preset_size[slot] = dev->transfer_size;
    return FB_OK;
}

HANDLER(h_preset_read)
{
    (void)n;
    uint8_t slot = p[0];
    uint32_t offset = fb_get_u32(p + 1);
    uint32_t max_len = fb_get_u16(p + 5);
    if (slot >= FB_NUM_PROGRAMS)
        return FB_BAD_ARG;
    uint32_t size = dev->preset_size[slot];
    if (size == 0)
        return FB_EMPTY_SLOT;
    if (offset > size)
        return FB_BAD_OFFSET;
    uint32_t k = size - offset;
    if (max_len < k)
        k = max_len;
    if (k > FB_MAX_PAYLOAD - 1 - 8)
        k = FB_MAX_PAYLOAD - 1 - 8;
    fb_put_u32(out, size);
    fb_put_u32(out + 4, fb_crc32(dev->presets[slot], size));
    memcpy(out + 8, dev->presets[slot] + offset, k);
    *out_n = 8 + k;
    return FB_OK;
}

HANDLER(h_preset_abort)
{
    (void)p; (void)n; (void)out; (void)out_n;
    dev->transfer_active = 0;
    return FB_OK;
}

HANDLER(h_set_program)
{
    (void)n;
    if (p[0] >= FB_NUM_PROGRAMS)
        return FB_BAD_ARG;
    dev->program = p[0];
    out[0] = dev->program;
    *out_n = 1;
    return FB_OK;
}

HANDLER(h_set_volume)
{
    (void)n;
    int v = (int)(int8_t)p[0];
    if (v < FB_VOLUME_MIN_DB || v > FB_VOLUME_MAX_DB)
        return FB_BAD_ARG;
    dev->volume_db = (int8_t)v;
    out[0] = p[0];
    *out_n = 1;
    return FB_OK;
}

HANDLER(h_telemetry)
{
    (void)p; (void)n;
    fb_sensors_t s;
    memset(&s, 0, sizeof s);
    if (dev->sensors)
        dev->sensors(dev->sensor_ctx, &s);
    fb_put_u16(out, s.load_permille);
    fb_put_u16(out + 2, s.block_time_us);
    fb_put_u32(out + 4, s.underruns);
    fb_put_u32(out + 8, s.overruns);
    fb_put_u16(out + 12, s.battery_mv);
    fb_put_u32(out + 14, s.current_ua);
    fb_put_u16(out + 18, (uint16_t)s.temperature_cdeg);
    fb_put_u32(out + 20, s.uptime_ms);
    out[24] = dev->program;
    out[25] = (uint8_t)dev->volume_db;
    *out_n = 26;
    return FB_OK;
}

HANDLER(h_link_status)
{
    (void)p; (void)n;
    const fb_frame_stats_t *s = &dev->dec.stats;
    uint32_t crc_errors = s->errors[FB_ERR_CRC];
    uint32_t other = s->errors[FB_ERR_COBS] + s->errors[FB_ERR_SHORT] + s->errors[FB_ERR_LENGTH] +
                     s->errors[FB_ERR_OVERFLOW];
    fb_put_u32(out, s->frames);
    fb_put_u32(out + 4, crc_errors);
    fb_put_u32(out + 8, other);
    fb_put_u32(out + 12, dev->rx_duplicates);
    fb_put_u32(out + 16, dev->tx_frames + 1); /* + this reply */
    *out_n = 20;
    return FB_OK;
}

HANDLER(h_capture_start)
{
    (void)n;
    uint32_t ms = fb_get_u32(p);
    if (ms == 0 || ms > FB_MAX_CAPTURE_MS)
        return FB_BAD_ARG;
    if (dev->capture_active)
        return FB_BUSY;
    dev->capture_active = 1;
    dev->capture_total = ms * (FB_SAMPLE_RATE_HZ / 1000u);
    dev->capture_sent = 0;
    fb_put_u32(out, FB_SAMPLE_RATE_HZ);
    fb_put_u32(out + 4, dev->capture_total);
    fb_put_u16(out + 8, FB_CAPTURE_BLOCK_SAMPLES);
    *out_n = 10;
    return FB_OK;
}

HANDLER(h_capture_stop)
{
    (void)p; (void)n;
    fb_put_u32(out, dev->capture_active ? dev->capture_sent : 0u);
    *out_n = 4;
    dev->capture_active = 0; /* the audio task sends EV_CAPTURE_END */
    return FB_OK;
}

typedef uint8_t (*fb_handler_fn)(fb_device_t *, const uint8_t *, size_t, uint8_t *, size_t *);

static const struct {
    uint8_t type;
    uint16_t len; /* payload length (minimum if !exact) */
    uint8_t exact;
    fb_handler_fn fn;
} fb_handlers[] = {
    {FB_HELLO, 1, 1, h_hello},
    {FB_PRESET_BEGIN, 9, 1, h_preset_begin},
    {FB_PRESET_WRITE, 4, 0, h_preset_write},
    {FB_PRESET_COMMIT, 5, 1, h_preset_commit},
    {FB_PRESET_READ, 7, 1, h_preset_read},
    {FB_PRESET_ABORT, 0, 1, h_preset_abort},
    {FB_SET_PROGRAM, 1, 1, h_set_program},
    {FB_SET_VOLUME, 1, 1, h_set_volume},
    {FB_GET_TELEMETRY, 0, 1, h_telemetry},
    {FB_GET_LINK_STATUS, 0, 1, h_link_status},
    {FB_CAPTURE_START, 4, 1, h_capture_start},
    {FB_CAPTURE_STOP, 0, 1, h_capture_stop},
};

void fb_device_handle(fb_device_t *dev, const fb_frame_t *f)
{
    if (f->flags & (FB_FLAG_REPLY | FB_FLAG_EVENT))
        return;
    if (dev->have_last && f->version == dev->last_version && f->type == dev->last_type &&
        f->flags == dev->last_flags && f->seq == dev->last_seq && f->len == dev->last_len &&
        f->crc == dev->last_crc) {
        dev->rx_duplicates++;
        dev->tx_frames++;
        if (dev->tx_fn)
            dev->tx_fn(dev->tx_ctx, dev->last_reply, dev->last_reply_len);
        return;
    }
    uint8_t status = FB_UNKNOWN_TYPE;
    size_t out_n = 0;
    if (f->version != FB_PROTOCOL_VERSION) {
        status = FB_BAD_VERSION;
    } else {
        for (size_t i = 0; i < sizeof fb_handlers / sizeof fb_handlers[0]; i++) {
            if (fb_handlers[i].type != f->type)
                continue;
            if (f->len < fb_handlers[i].len || (fb_handlers[i].exact && f->len != fb_handlers[i].len))
                status = FB_BAD_LENGTH;
            else
                status = fb_handlers[i].fn(dev, f->payload, f->len, dev->tx.payload + 1, &out_n);
            break;
        }
    }
    dev->tx.version = FB_PROTOCOL_VERSION;
    dev->tx.type = f->type;
    dev->tx.flags = FB_FLAG_REPLY;
    dev->tx.seq = f->seq;
    dev->tx.payload[0] = status;
    dev->tx.len = (uint16_t)(1 + out_n);
    dev->have_last = 1;
    dev->last_version = f->version;
    dev->last_type = f->type;
    dev->last_flags = f->flags;
    dev->last_seq = f->seq;
    dev->last_len = f->len;
    dev->last_crc = f->crc;
    send_frame(dev, &dev->tx, 1);
}

void fb_device_rx(fb_device_t *dev, const uint8_t *data, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (fb_decoder_push(&dev->dec, data[i], &dev->rx))
            fb_device_handle(dev, &dev->rx);
}

void fb_device_log(fb_device_t *dev, uint8_t level, uint32_t uptime_ms, const char *text)
{
    size_t len = strlen(text);
    if (len > 256)
        len = 256;
    dev->tx.payload[0] = level;
    fb_put_u32(dev->tx.payload + 1, uptime_ms);
    memcpy(dev->tx.payload + 5, text, len);
    send_event(dev, FB_EV_LOG, 5 + len);
}

void fb_device_audio(fb_device_t *dev, uint32_t first_sample, const int16_t *in, const int16_t *out, uint16_t n)
{
    if (n > FB_CAPTURE_BLOCK_SAMPLES)
        n = FB_CAPTURE_BLOCK_SAMPLES;
    fb_put_u32(dev->tx.payload, first_sample);
    fb_put_u16(dev->tx.payload + 4, n);
    for (uint16_t i = 0; i < n; i++) {
        fb_put_u16(dev->tx.payload + 6 + 2 * i, (uint16_t)in[i]);
        fb_put_u16(dev->tx.payload + 6 + 2 * n + 2 * i, (uint16_t)out[i]);
    }
    dev->capture_sent += n;
    send_event(dev, FB_EV_AUDIO, 6 + 4u * n);
}
