"""Message layer: typed requests, replies and events carried in frame payloads.

Every request (host -> device) gets exactly one reply frame with the same ``type`` and ``seq``
and :data:`~firmware_bridge.framing.FLAG_REPLY` set. The reply payload starts with a status
byte: 0 is an ACK, anything else a NACK carrying a :class:`Status` error code. Events
(device -> host, :data:`~firmware_bridge.framing.FLAG_EVENT`) are never answered.
All integers are little-endian. Byte layouts are in PROTOCOL.md; the ``struct`` formats below
are the single source of truth for the Python side.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass, fields

from firmware_bridge.errors import ProtocolError, Status  # noqa: F401  (Status: part of the message vocabulary)


class MsgType(enum.IntEnum):
    HELLO = 0x01
    PRESET_BEGIN = 0x10
    PRESET_WRITE = 0x11
    PRESET_COMMIT = 0x12
    PRESET_READ = 0x13
    PRESET_ABORT = 0x14
    SET_PROGRAM = 0x20
    SET_VOLUME = 0x21
    GET_TELEMETRY = 0x30
    GET_LINK_STATUS = 0x31
    CAPTURE_START = 0x40
    CAPTURE_STOP = 0x41
    # events, device -> host
    EV_LOG = 0x60
    EV_AUDIO = 0x61
    EV_CAPTURE_END = 0x62


class Capability(enum.IntFlag):
    PRESETS = 0x01
    TELEMETRY = 0x02
    CAPTURE = 0x04
    LOG = 0x08
    EMULATED = 0x10  # telemetry and capture audio are synthetic (an emulator), not measured


class LogLevel(enum.IntEnum):
    DEBUG = 0
    INFO = 1
    WARNING = 2
    ERROR = 3


# Request payload formats (after the header). Replies: status byte, then the reply format.
PRESET_BEGIN = struct.Struct("<BII")   # slot, size_bytes, crc32
PRESET_WRITE = struct.Struct("<I")     # offset, then data
PRESET_COMMIT = struct.Struct("<BI")   # slot, crc32
PRESET_READ = struct.Struct("<BIH")    # slot, offset, max_len
PRESET_READ_REPLY = struct.Struct("<II")  # size_bytes, crc32, then data
U32 = struct.Struct("<I")
CAPTURE_START_REPLY = struct.Struct("<IIH")  # sample_rate_hz, total_samples, samples_per_block
AUDIO_HEADER = struct.Struct("<IH")    # first_sample, n_samples; then n int16 in, n int16 out
MAX_CAPTURE_MS = 60_000
VOLUME_MIN_DB = -30  # SET_VOLUME range (PROTOCOL.md section 3)
VOLUME_MAX_DB = 10


def valid_range(type_: MsgType, num_programs: int | None = None) -> str:
    """The valid argument range of a request, in words, for BAD_ARG messages ('' if none)."""
    slots = f"0..{num_programs - 1}" if num_programs else "0..num_programs-1"
    return {
        MsgType.PRESET_BEGIN: f"slot must be {slots} and the preset not empty",
        MsgType.PRESET_READ: f"slot must be {slots}",
        MsgType.SET_PROGRAM: f"program must be {slots}",
        MsgType.SET_VOLUME: f"volume_db must be {VOLUME_MIN_DB:+d}..{VOLUME_MAX_DB:+d} dB",
        MsgType.CAPTURE_START: f"duration must be 1..{MAX_CAPTURE_MS} ms ({MAX_CAPTURE_MS // 1000} s)",
    }.get(type_, "")


def _unpack(fmt: struct.Struct, data: bytes, what: str, exact: bool = True) -> tuple:
    if len(data) < fmt.size or (exact and len(data) != fmt.size):
        raise ProtocolError(f"{what}: expected {fmt.size} bytes, got {len(data)}")
    return fmt.unpack_from(data)


class _FixedLayout:
    """A message whose payload is exactly its dataclass fields, in order, packed with ``FORMAT``."""

    FORMAT: struct.Struct
    WHAT = ""  # names the message in length errors

    def pack(self) -> bytes:
        return self.FORMAT.pack(*(getattr(self, f.name) for f in fields(self)))

    @classmethod
    def unpack(cls, data: bytes):
        return cls(*_unpack(cls.FORMAT, data, cls.WHAT))


@dataclass(frozen=True)
class DeviceInfo:
    """HELLO reply: what the device is and what it can do."""

    protocol_version: int
    firmware_version: tuple[int, int, int]
    capabilities: Capability
    sample_rate_hz: int
    block_size_samples: int
    max_payload_bytes: int
    preset_max_bytes: int
    num_programs: int
    name: str

    FORMAT = struct.Struct("<BBBBIIHHIB")

    def pack(self) -> bytes:
        return self.FORMAT.pack(self.protocol_version, *self.firmware_version, int(self.capabilities),
                                self.sample_rate_hz, self.block_size_samples, self.max_payload_bytes,
                                self.preset_max_bytes, self.num_programs) + self.name.encode()[:32]

    @classmethod
    def unpack(cls, data: bytes) -> "DeviceInfo":
        v = _unpack(cls.FORMAT, data, "HELLO reply", exact=False)
        name = data[cls.FORMAT.size:].decode("utf-8", errors="replace")
        return cls(v[0], (v[1], v[2], v[3]), Capability(v[4]), v[5], v[6], v[7], v[8], v[9], name)


@dataclass(frozen=True)
class Telemetry(_FixedLayout):
    """GET_TELEMETRY reply. Units are in the names; ``temperature_cdeg`` is 0.01 degC."""

    load_permille: int
    block_time_us: int
    underruns: int
    overruns: int
    battery_mv: int
    current_ua: int
    temperature_cdeg: int
    uptime_ms: int
    program: int
    volume_db: int

    FORMAT = struct.Struct("<HHIIHIhIBb")
    WHAT = "GET_TELEMETRY reply"

    @property
    def load_percent(self) -> float:
        return self.load_permille / 10

    @property
    def current_ma(self) -> float:
        return self.current_ua / 1000

    @property
    def temperature_c(self) -> float:
        return self.temperature_cdeg / 100



@dataclass(frozen=True)
class LinkStatus(_FixedLayout):
    """GET_LINK_STATUS reply: the device's view of the link since power-up."""

    rx_frames: int
    rx_crc_errors: int
    rx_frame_errors: int   # COBS, short, length, overflow
    rx_duplicates: int     # retransmitted requests answered from the reply cache
    tx_frames: int

    FORMAT = struct.Struct("<IIIII")
    WHAT = "GET_LINK_STATUS reply"


@dataclass(frozen=True)
class CaptureEnd(_FixedLayout):
    """EV_CAPTURE_END: what the device produced and what it had to drop (link too slow)."""

    samples_total: int
    samples_sent: int
    blocks_dropped: int

    FORMAT = struct.Struct("<III")
    WHAT = "EV_CAPTURE_END"


@dataclass(frozen=True)
class LogLine:
    """EV_LOG: one line of device log text."""

    level: LogLevel
    uptime_ms: int
    text: str

    FORMAT = struct.Struct("<BI")

    def pack(self) -> bytes:
        return self.FORMAT.pack(int(self.level), self.uptime_ms) + self.text.encode()[:256]

    @classmethod
    def unpack(cls, data: bytes) -> "LogLine":
        level, uptime = _unpack(cls.FORMAT, data, "EV_LOG", exact=False)
        try:
            level = LogLevel(level)
        except ValueError:
            level = LogLevel.ERROR
        return cls(level, uptime, data[cls.FORMAT.size:].decode("utf-8", errors="replace"))
