"""A protocol-level model of the device: bytes in, bytes out, no I/O, no threads.

:class:`DeviceModel` is what the emulator runs and what the C reference
(``firmware/fb_device.c``) implements; both must give the same reply bytes for the same request
bytes (checked against ``vectors/vectors.json``). Things a real device measures (telemetry) or
produces (audio) come from the ``sensors`` callable and the emulator, not from here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from firmware_bridge import messages as m
from firmware_bridge.framing import (FLAG_EVENT, FLAG_REPLY, MAX_PAYLOAD, PROTOCOL_VERSION, Frame,
                                     FrameReader, crc32)
from firmware_bridge.messages import MsgType, Status
from firmware_bridge.preset import PRESET_MAX_BYTES

CAPTURE_BLOCK_SAMPLES = 128  # samples per channel in one EV_AUDIO frame (8 ms at 16 kHz)


@dataclass
class DeviceConfig:
    name: str = "hearsep-ref"
    firmware_version: tuple[int, int, int] = (0, 1, 0)
    sample_rate_hz: int = 16_000
    block_size_samples: int = 32
    num_programs: int = 4
    preset_max_bytes: int = PRESET_MAX_BYTES
    capabilities: m.Capability = (m.Capability.PRESETS | m.Capability.TELEMETRY
                                  | m.Capability.CAPTURE | m.Capability.LOG)


@dataclass
class _Transfer:
    slot: int
    size: int
    crc: int
    data: bytearray
    received: int = 0


@dataclass
class CaptureState:
    """What a CAPTURE_START asked for; the emulator streams it and updates the counts."""

    total_samples: int
    sent_samples: int = 0
    dropped_blocks: int = 0


def _default_sensors(dev: "DeviceModel") -> m.Telemetry:
    """No sensors: zeros, plus the state the model knows (what the C reference reports on a host)."""
    return m.Telemetry(load_permille=0, block_time_us=0, underruns=0, overruns=0, battery_mv=0,
                       current_ua=0, temperature_cdeg=0, uptime_ms=0, program=dev.program,
                       volume_db=dev.volume_db)


@dataclass
class DeviceModel:
    """Staged preset store, programs, volume and link bookkeeping of one hearing aid."""

    config: DeviceConfig = field(default_factory=DeviceConfig)
    sensors: Callable[["DeviceModel"], m.Telemetry] | None = None
    clock_ms: Callable[[], int] = field(default=lambda: int(time.monotonic() * 1000))
    #: content check at PRESET_COMMIT: ``(slot, blob) -> None`` (accepted) or the reason it is refused
    #: (NACK BAD_PRESET, reply data = reason). None: blobs are opaque, as in the C reference.
    preset_check: Callable[[int, bytes], str | None] | None = None

    def __post_init__(self) -> None:
        self.presets: list[bytes | None] = [None] * self.config.num_programs
        self.program = 0
        self.volume_db = 0
        self.transfer: _Transfer | None = None
        self.capture: CaptureState | None = None
        self.reader = FrameReader()
        self.rx_duplicates = 0
        self.tx_frames = 0
        self.events: list[Frame] = []  # unsolicited frames waiting to be sent (logs)
        self._event_seq = 0
        self._last_request: Frame | None = None
        self._last_reply: bytes = b""

    # -- bytes in, bytes out -------------------------------------------------------------
    def receive(self, data: bytes) -> bytes:
        """Feed bytes from the host; return the reply bytes to send back (possibly empty)."""
        out = bytearray()
        for frame in self.reader.feed(data):
            out += self.handle(frame)
        return bytes(out)

    def handle(self, frame: Frame) -> bytes:
        """Answer one valid frame; return the encoded reply (empty for non-requests)."""
        if frame.flags & (FLAG_REPLY | FLAG_EVENT):
            return b""
        if frame == self._last_request:
            self.rx_duplicates += 1
            self.tx_frames += 1
            return self._last_reply
        if frame.version != PROTOCOL_VERSION:
            status, data = Status.BAD_VERSION, b""
        else:
            status, data = self._dispatch(frame.type, frame.payload)
        reply = Frame(frame.type, frame.seq, bytes([status]) + data, FLAG_REPLY).encode()
        self._last_request, self._last_reply = frame, reply
        self.tx_frames += 1
        return reply

    def event(self, type_: MsgType, payload: bytes) -> bytes:
        """Encode an unsolicited frame with the device's own event sequence number."""
        frame = Frame(type_, self._event_seq, payload, FLAG_EVENT)
        self._event_seq = (self._event_seq + 1) & 0xFF
        self.tx_frames += 1
        return frame.encode()

    def log(self, text: str, level: m.LogLevel = m.LogLevel.INFO) -> None:
        self.events.append(Frame(MsgType.EV_LOG, 0, m.LogLine(level, self.clock_ms() & 0xFFFFFFFF,
                                                              text).pack(), FLAG_EVENT))

    def drain_events(self) -> bytes:
        out = b"".join(self.event(f.type, f.payload) for f in self.events)
        self.events.clear()
        return out

    # -- message dispatch ----------------------------------------------------------------
    def _dispatch(self, type_: int, p: bytes) -> tuple[Status, bytes]:
        handler = self._HANDLERS.get(type_)
        if handler is None:
            return Status.UNKNOWN_TYPE, b""
        fmt, exact = handler[1], handler[2]
        if (exact and len(p) != fmt) or len(p) < fmt:
            return Status.BAD_LENGTH, b""
        return handler[0](self, p)

    def _hello(self, p: bytes) -> tuple[Status, bytes]:
        c = self.config
        info = m.DeviceInfo(PROTOCOL_VERSION, c.firmware_version, c.capabilities, c.sample_rate_hz,
                            c.block_size_samples, MAX_PAYLOAD, c.preset_max_bytes, c.num_programs, c.name)
        return Status.OK, info.pack()

    def _preset_begin(self, p: bytes) -> tuple[Status, bytes]:
        slot, size, crc = m.PRESET_BEGIN.unpack(p)
        if slot >= self.config.num_programs or size == 0:
            return Status.BAD_ARG, b""
        if size > self.config.preset_max_bytes:
            return Status.TOO_LARGE, b""
        t = self.transfer
        if t is None or (t.slot, t.size, t.crc) != (slot, size, crc):
            self.transfer = t = _Transfer(slot, size, crc, bytearray(size))
        return Status.OK, m.U32.pack(t.received)

    def _preset_write(self, p: bytes) -> tuple[Status, bytes]:
        (offset,) = m.PRESET_WRITE.unpack_from(p)
        data = p[m.PRESET_WRITE.size:]
        t = self.transfer
        if t is None:
            return Status.NO_TRANSFER, b""
        if offset > t.received:
            return Status.BAD_OFFSET, m.U32.pack(t.received)
        if offset + len(data) > t.size:
            return Status.TOO_LARGE, b""
        t.data[offset:offset + len(data)] = data
        t.received = max(t.received, offset + len(data))
        return Status.OK, m.U32.pack(t.received)

    def _preset_commit(self, p: bytes) -> tuple[Status, bytes]:
        slot, crc = m.PRESET_COMMIT.unpack(p)
        t = self.transfer
        if t is None or (t.slot, t.crc) != (slot, crc):
            return Status.NO_TRANSFER, b""
        if t.received < t.size:
            return Status.INCOMPLETE, m.U32.pack(t.received)
        if crc32(bytes(t.data)) != t.crc:
            self.transfer = None  # staged bytes are wrong: the host must start over
            return Status.CRC_MISMATCH, b""
        reason = self.preset_check(slot, bytes(t.data)) if self.preset_check else None
        if reason:
            self.transfer = None  # refused content: the old preset stays
            self.log(f"preset slot {slot} refused ({t.size} bytes): content check failed", m.LogLevel.WARNING)
            return Status.BAD_PRESET, reason.encode()[:MAX_PAYLOAD - 1].decode("utf-8", "ignore").encode()
        self.presets[slot] = bytes(t.data)
        self.transfer = None
        self.log(f"preset slot {slot} committed ({t.size} bytes, crc {t.crc:08x})")
        return Status.OK, b""

    def _preset_read(self, p: bytes) -> tuple[Status, bytes]:
        slot, offset, max_len = m.PRESET_READ.unpack(p)
        if slot >= self.config.num_programs:
            return Status.BAD_ARG, b""
        blob = self.presets[slot]
        if blob is None:
            return Status.EMPTY_SLOT, b""
        if offset > len(blob):
            return Status.BAD_OFFSET, b""
        n = min(max_len, len(blob) - offset, MAX_PAYLOAD - 1 - m.PRESET_READ_REPLY.size)
        return Status.OK, m.PRESET_READ_REPLY.pack(len(blob), crc32(blob)) + blob[offset:offset + n]

    def _preset_abort(self, p: bytes) -> tuple[Status, bytes]:
        self.transfer = None
        return Status.OK, b""

    def _set_program(self, p: bytes) -> tuple[Status, bytes]:
        if p[0] >= self.config.num_programs:
            return Status.BAD_ARG, b""
        self.program = p[0]
        self.log(f"program {self.program} selected")
        return Status.OK, bytes([self.program])

    def _set_volume(self, p: bytes) -> tuple[Status, bytes]:
        volume_db = int.from_bytes(p, "little", signed=True)
        if not m.VOLUME_MIN_DB <= volume_db <= m.VOLUME_MAX_DB:
            return Status.BAD_ARG, b""
        self.volume_db = volume_db
        return Status.OK, p

    def _telemetry(self, p: bytes) -> tuple[Status, bytes]:
        return Status.OK, (self.sensors or _default_sensors)(self).pack()

    def _link_status(self, p: bytes) -> tuple[Status, bytes]:
        s = self.reader.stats
        crc_errors = s.errors.get("crc", 0)
        status = m.LinkStatus(s.frames, crc_errors, s.bad_frames - crc_errors, self.rx_duplicates,
                              self.tx_frames + 1)  # + this reply
        return Status.OK, status.pack()

    def _capture_start(self, p: bytes) -> tuple[Status, bytes]:
        (duration_ms,) = m.U32.unpack(p)
        if not 0 < duration_ms <= m.MAX_CAPTURE_MS:
            return Status.BAD_ARG, b""
        if self.capture is not None:
            return Status.BUSY, b""
        total = duration_ms * self.config.sample_rate_hz // 1000
        self.capture = CaptureState(total)
        return Status.OK, m.CAPTURE_START_REPLY.pack(self.config.sample_rate_hz, total, CAPTURE_BLOCK_SAMPLES)

    def _capture_stop(self, p: bytes) -> tuple[Status, bytes]:
        sent = self.capture.sent_samples if self.capture else 0
        if self.capture is not None:
            self.capture.total_samples = self.capture.sent_samples  # the emulator ends it
        return Status.OK, m.U32.pack(sent)

    # type -> (handler, payload length, exact?)
    _HANDLERS = {
        MsgType.HELLO: (_hello, 1, True),
        MsgType.PRESET_BEGIN: (_preset_begin, m.PRESET_BEGIN.size, True),
        MsgType.PRESET_WRITE: (_preset_write, m.PRESET_WRITE.size, False),
        MsgType.PRESET_COMMIT: (_preset_commit, m.PRESET_COMMIT.size, True),
        MsgType.PRESET_READ: (_preset_read, m.PRESET_READ.size, True),
        MsgType.PRESET_ABORT: (_preset_abort, 0, True),
        MsgType.SET_PROGRAM: (_set_program, 1, True),
        MsgType.SET_VOLUME: (_set_volume, 1, True),
        MsgType.GET_TELEMETRY: (_telemetry, 0, True),
        MsgType.GET_LINK_STATUS: (_link_status, 0, True),
        MsgType.CAPTURE_START: (_capture_start, 4, True),
        MsgType.CAPTURE_STOP: (_capture_stop, 0, True),
    }
