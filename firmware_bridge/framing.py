"""Framing layer: bytes <-> frames. COBS with a 0x00 delimiter, a 6-byte header and a CRC-32.

Wire format of one frame (see PROTOCOL.md)::

    COBS( version u8 | type u8 | flags u8 | seq u8 | length u16 LE | payload | crc32 u32 LE ) 0x00

The CRC-32 is the IEEE/zlib one (reflected, poly 0xEDB88320, init and xorout 0xFFFFFFFF; check
value of ``b"123456789"`` is ``0xCBF43926``) over header and payload. Nothing here does I/O:
:class:`FrameReader` is fed bytes and returns frames, so every check is testable with plain bytes.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

from firmware_bridge.errors import FrameError

PROTOCOL_VERSION = 1
HEADER = struct.Struct("<BBBBH")  # version, type, flags, seq, payload length
HEADER_SIZE = HEADER.size  # 6
CRC_SIZE = 4
MAX_PAYLOAD = 1024
MAX_BODY = HEADER_SIZE + MAX_PAYLOAD + CRC_SIZE  # 1034
MAX_ENCODED = MAX_BODY + MAX_BODY // 254 + 1  # 1039, COBS worst case, without the delimiter
DELIMITER = b"\x00"

FLAG_REPLY = 0x01  # a device's answer to a request (same seq as the request)
FLAG_EVENT = 0x02  # an unsolicited device message (log line, audio block)


def crc32(data: bytes) -> int:
    """CRC-32/ISO-HDLC (zlib) of ``data``."""
    return zlib.crc32(data) & 0xFFFFFFFF


def cobs_encode(data: bytes) -> bytes:
    """Consistent Overhead Byte Stuffing (Cheshire & Baker 1999): the result holds no 0x00 byte.

    Canonical form, shared with the C code: zero-free runs are cut into blocks of at most 254
    bytes (code 0xFF: no zero follows); a final empty block is not written after a full 0xFF
    block at the very end. The length is at most ``len(data) + len(data) // 254 + 1``.
    """
    out = bytearray()
    runs = bytes(data).split(b"\x00")
    last = len(runs) - 1
    for k, run in enumerate(runs):
        full = False
        while len(run) >= 254:
            out.append(0xFF)
            out += run[:254]
            run = run[254:]
            full = True
        if k == last and full and not run:
            break
        out.append(len(run) + 1)
        out += run
    return bytes(out)


def cobs_decode(data: bytes) -> bytes:
    """Inverse of :func:`cobs_encode`; raises :class:`FrameError` (kind ``"cobs"``) on bad input."""
    out = bytearray()
    i, n = 0, len(data)
    if n == 0:
        raise FrameError("cobs", "empty COBS block")
    while i < n:
        code = data[i]
        if code == 0:
            raise FrameError("cobs", f"zero byte inside COBS data at {i}")
        end = i + code
        if end > n:
            raise FrameError("cobs", f"COBS block at {i} runs past the end ({end} > {n})")
        block = data[i + 1:end]
        if 0 in block:
            raise FrameError("cobs", "zero byte inside COBS data")
        out += block
        i = end
        if code != 0xFF and i < n:
            out.append(0)
    return bytes(out)


@dataclass(frozen=True)
class Frame:
    """One decoded frame. ``payload`` is at most :data:`MAX_PAYLOAD` bytes."""

    type: int
    seq: int
    payload: bytes = b""
    flags: int = 0
    version: int = PROTOCOL_VERSION

    def body(self) -> bytes:
        """Header + payload + CRC, before COBS."""
        if len(self.payload) > MAX_PAYLOAD:
            raise FrameError("length", f"payload of {len(self.payload)} bytes exceeds {MAX_PAYLOAD}")
        head = HEADER.pack(self.version, self.type, self.flags, self.seq & 0xFF, len(self.payload))
        data = head + bytes(self.payload)
        return data + struct.pack("<I", crc32(data))

    def encode(self) -> bytes:
        """Bytes on the wire: COBS(body) followed by the 0x00 delimiter."""
        return cobs_encode(self.body()) + DELIMITER


def parse_body(body: bytes) -> Frame:
    """Check a decoded (un-stuffed) body and return its frame; raise :class:`FrameError` if bad."""
    if len(body) < HEADER_SIZE + CRC_SIZE:
        raise FrameError("short", f"frame of {len(body)} bytes is shorter than {HEADER_SIZE + CRC_SIZE}")
    if len(body) > MAX_BODY:
        raise FrameError("length", f"frame of {len(body)} bytes exceeds {MAX_BODY}")
    (crc,) = struct.unpack_from("<I", body, len(body) - CRC_SIZE)
    if crc32(body[:-CRC_SIZE]) != crc:
        raise FrameError("crc", "CRC mismatch")
    version, type_, flags, seq, length = HEADER.unpack_from(body)
    if length != len(body) - HEADER_SIZE - CRC_SIZE:
        raise FrameError("length", f"header says {length} payload bytes, frame holds {len(body) - 10}")
    return Frame(type_, seq, bytes(body[HEADER_SIZE:-CRC_SIZE]), flags, version)


def decode_frame(encoded: bytes) -> Frame:
    """Decode one frame given without its delimiter."""
    if len(encoded) > MAX_ENCODED:
        raise FrameError("overflow", f"encoded frame of {len(encoded)} bytes exceeds {MAX_ENCODED}")
    return parse_body(cobs_decode(encoded))


@dataclass
class FrameStats:
    """Counts kept by a :class:`FrameReader`; ``errors`` is keyed by :attr:`FrameError.kind`."""

    frames: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def bad_frames(self) -> int:
        return sum(self.errors.values())


class FrameReader:
    """Streaming decoder: feed arbitrary byte chunks, get complete valid frames back.

    Bytes accumulate until a 0x00 delimiter. Empty frames (repeated delimiters) are skipped
    silently, so a sender may put a 0x00 before each frame to cut off any garbage. A frame longer
    than :data:`MAX_ENCODED` is discarded up to the next delimiter (the buffer never grows beyond
    that bound). Invalid frames are counted in :attr:`stats` and dropped.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._overflow = False
        self.stats = FrameStats()

    def _error(self, kind: str) -> None:
        self.stats.errors[kind] = self.stats.errors.get(kind, 0) + 1

    def feed(self, data: bytes) -> list[Frame]:
        frames: list[Frame] = []
        data = bytes(data)
        start = 0
        while start < len(data):
            i = data.find(0, start)
            chunk = data[start:] if i < 0 else data[start:i]
            if not self._overflow:
                self._buf += chunk
                if len(self._buf) > MAX_ENCODED:
                    self._overflow = True
                    self._buf.clear()
            if i < 0:
                break
            start = i + 1
            if self._overflow:
                self._error("overflow")
            elif self._buf:
                try:
                    frames.append(decode_frame(bytes(self._buf)))
                    self.stats.frames += 1
                except FrameError as exc:
                    self._error(exc.kind)
            self._buf.clear()
            self._overflow = False
        return frames

    def reset(self) -> None:
        """Drop any partial frame (e.g. after reconnecting)."""
        self._buf.clear()
        self._overflow = False
