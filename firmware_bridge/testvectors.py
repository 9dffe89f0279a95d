"""Shared test vectors: ``python -m firmware_bridge.testvectors > firmware_bridge/vectors/vectors.json``.

The committed JSON is checked by the Python tests (this module must reproduce it byte for byte)
and by the C host test (``firmware/test_vectors.c``). The CRC and COBS anchors are published
values (CRC-32 check value; the COBS examples of Cheshire & Baker as listed on Wikipedia), so the
two implementations are not only checked against each other. Every JSON object is flat (strings
and integers only) so the C side can read it with a tiny scanner.
"""

from __future__ import annotations

import json
import struct

from firmware_bridge import messages as m
from firmware_bridge.device import DeviceModel
from firmware_bridge.framing import (FLAG_EVENT, FLAG_REPLY, HEADER, MAX_ENCODED, Frame, cobs_encode, crc32)
from firmware_bridge.messages import MsgType

CRC_VECTORS = [("check value", b"123456789", 0xCBF43926), ("empty", b"", 0x00000000),
               ("four zeros", b"\x00" * 4, 0x2144DF1C), ("single a", b"a", 0xE8B7BE43)]

COBS_VECTORS = [  # (name, raw, encoded) from Wikipedia "Consistent Overhead Byte Stuffing", examples 1-10
    ("one zero", b"\x00", b"\x01\x01"),
    ("two zeros", b"\x00\x00", b"\x01\x01\x01"),
    ("zero 11 zero", b"\x00\x11\x00", b"\x01\x02\x11\x01"),
    ("11 22 00 33", b"\x11\x22\x00\x33", b"\x03\x11\x22\x02\x33"),
    ("11 22 33 44", b"\x11\x22\x33\x44", b"\x05\x11\x22\x33\x44"),
    ("11 then three zeros", b"\x11\x00\x00\x00", b"\x02\x11\x01\x01\x01"),
    ("01..fe", bytes(range(1, 255)), b"\xff" + bytes(range(1, 255))),
    ("00..fe", bytes(range(0, 255)), b"\x01\xff" + bytes(range(1, 255))),
    ("01..ff", bytes(range(1, 256)), b"\xff" + bytes(range(1, 255)) + b"\x02\xff"),
    ("02..ff 00", bytes(range(2, 256)) + b"\x00", b"\xff" + bytes(range(2, 256)) + b"\x01\x01"),
]


def _frames() -> list[tuple[str, Frame]]:
    info = m.DeviceInfo(1, (0, 1, 0), m.Capability(15), 16000, 32, 1024, 4096, 4, "hearsep-ref")
    return [
        ("hello request", Frame(MsgType.HELLO, 0, b"\x01")),
        ("hello reply", Frame(MsgType.HELLO, 0, b"\x00" + info.pack(), FLAG_REPLY)),
        ("set volume -6 dB", Frame(MsgType.SET_VOLUME, 7, b"\xfa")),
        ("nack bad arg", Frame(MsgType.SET_PROGRAM, 8, bytes([m.Status.BAD_ARG]), FLAG_REPLY)),
        ("preset write with zeros", Frame(MsgType.PRESET_WRITE, 255, m.U32.pack(0) + b"a\x00b\x00\x00")),
        ("log event", Frame(MsgType.EV_LOG, 3, m.LogLine(m.LogLevel.INFO, 1234, "boot").pack(), FLAG_EVENT)),
        ("max payload", Frame(MsgType.PRESET_WRITE, 1, bytes(i % 251 + 1 for i in range(1024)))),
        ("empty payload", Frame(MsgType.GET_TELEMETRY, 42)),
    ]


def _bad_frames() -> list[tuple[str, bytes, str]]:
    good = Frame(MsgType.HELLO, 0, b"\x01").body()
    flipped = bytearray(good)
    flipped[6] ^= 0x04
    body9 = good[:5] + struct.pack("<I", crc32(good[:5]))
    wrong_len = HEADER.pack(1, MsgType.HELLO, 0, 0, 2) + b"\x01"
    wrong_len += struct.pack("<I", crc32(wrong_len))
    return [
        ("payload bit flipped", cobs_encode(bytes(flipped)) + b"\x00", "crc"),
        ("crc byte changed", cobs_encode(good[:-1] + bytes([good[-1] ^ 0xFF])) + b"\x00", "crc"),
        ("nine byte body", cobs_encode(body9) + b"\x00", "short"),
        ("length field lies", cobs_encode(wrong_len) + b"\x00", "length"),
        ("cobs code past end", b"\x05\x01\x02\x00", "cobs"),
        ("oversized", b"\x01" * (MAX_ENCODED + 1) + b"\x00", "overflow"),
    ]


def _exchanges() -> list[dict]:
    """Sessions of (request bytes -> reply bytes) on a fresh reference device (name hearsep-ref)."""
    steps: list[dict] = []
    blob = b'name = "quiet"\ngain_db = 3.0\ncomp = 2\n'  # 38 bytes
    blob_crc = crc32(blob)
    other = b'gain_db = -4.5\n'

    def req(type_, seq, payload=b"", flags=0, version=1):
        return Frame(type_, seq, payload, flags, version).encode()

    sessions = {
        1: [("hello", req(MsgType.HELLO, 0, b"\x01")),
            ("hello bad length", req(MsgType.HELLO, 1, b"\x01\x02")),
            ("unknown type", req(0x55, 2)),
            ("bad version", req(MsgType.HELLO, 3, b"\x01", version=2)),
            ("reply flag is ignored", req(MsgType.HELLO, 4, b"\x00", flags=FLAG_REPLY)),
            ("select program 2", req(MsgType.SET_PROGRAM, 5, b"\x02")),
            ("select program 9", req(MsgType.SET_PROGRAM, 6, b"\x09")),
            ("volume -6 dB", req(MsgType.SET_VOLUME, 7, b"\xfa")),
            ("volume +20 dB", req(MsgType.SET_VOLUME, 8, b"\x14")),
            ("telemetry", req(MsgType.GET_TELEMETRY, 9)),
            ("capture 0 ms", req(MsgType.CAPTURE_START, 10, m.U32.pack(0))),
            ("capture 1000 ms", req(MsgType.CAPTURE_START, 11, m.U32.pack(1000))),
            ("capture while busy", req(MsgType.CAPTURE_START, 12, m.U32.pack(500))),
            ("capture stop", req(MsgType.CAPTURE_STOP, 13)),
            ("garbage then link status", b"\x01\x02\x03\x00\xff\xff\x00" + req(MsgType.GET_LINK_STATUS, 14))],
        2: [("read empty slot", req(MsgType.PRESET_READ, 0, m.PRESET_READ.pack(0, 0, 100))),
            ("write without begin", req(MsgType.PRESET_WRITE, 1, m.U32.pack(0) + b"x")),
            ("begin", req(MsgType.PRESET_BEGIN, 2, m.PRESET_BEGIN.pack(0, len(blob), blob_crc))),
            ("write 0..20", req(MsgType.PRESET_WRITE, 3, m.U32.pack(0) + blob[:20])),
            ("write past staged", req(MsgType.PRESET_WRITE, 4, m.U32.pack(30) + blob[30:])),
            ("commit incomplete", req(MsgType.PRESET_COMMIT, 5, m.PRESET_COMMIT.pack(0, blob_crc))),
            ("retransmitted commit", req(MsgType.PRESET_COMMIT, 5, m.PRESET_COMMIT.pack(0, blob_crc))),
            ("begin again resumes", req(MsgType.PRESET_BEGIN, 6, m.PRESET_BEGIN.pack(0, len(blob), blob_crc))),
            ("write 20..38", req(MsgType.PRESET_WRITE, 7, m.U32.pack(20) + blob[20:])),
            ("commit wrong crc", req(MsgType.PRESET_COMMIT, 8, m.PRESET_COMMIT.pack(0, blob_crc ^ 1))),
            ("commit", req(MsgType.PRESET_COMMIT, 9, m.PRESET_COMMIT.pack(0, blob_crc))),
            ("read 16", req(MsgType.PRESET_READ, 10, m.PRESET_READ.pack(0, 0, 16))),
            ("read rest", req(MsgType.PRESET_READ, 11, m.PRESET_READ.pack(0, 16, 1000))),
            ("begin slot 4", req(MsgType.PRESET_BEGIN, 12, m.PRESET_BEGIN.pack(4, 10, 0))),
            ("begin too large", req(MsgType.PRESET_BEGIN, 13, m.PRESET_BEGIN.pack(0, 5000, 0))),
            ("begin corrupt transfer", req(MsgType.PRESET_BEGIN, 14, m.PRESET_BEGIN.pack(0, len(other), 0x1234))),
            ("write it", req(MsgType.PRESET_WRITE, 15, m.U32.pack(0) + other)),
            ("commit fails crc", req(MsgType.PRESET_COMMIT, 16, m.PRESET_COMMIT.pack(0, 0x1234))),
            ("staging was discarded", req(MsgType.PRESET_COMMIT, 17, m.PRESET_COMMIT.pack(0, 0x1234))),
            ("old preset still there", req(MsgType.PRESET_READ, 18, m.PRESET_READ.pack(0, 0, 1000))),
            ("abort", req(MsgType.PRESET_ABORT, 19)),
            ("link status", req(MsgType.GET_LINK_STATUS, 20))],
    }
    for session, items in sessions.items():
        dev = DeviceModel(clock_ms=lambda: 0)
        for name, request in items:
            steps.append({"session": session, "name": name, "request_hex": request.hex(),
                          "reply_hex": dev.receive(request).hex()})
    return steps


def build_vectors() -> dict:
    return {
        "description": "firmware_bridge protocol v1 test vectors; generated by firmware_bridge/testvectors.py",
        "crc32": [{"name": n, "data_hex": d.hex(), "crc32": c} for n, d, c in CRC_VECTORS],
        "cobs": [{"name": n, "raw_hex": r.hex(), "encoded_hex": e.hex()} for n, r, e in COBS_VECTORS],
        "frames": [{"name": n, "version": f.version, "type": int(f.type), "flags": f.flags, "seq": f.seq,
                    "payload_hex": f.payload.hex(), "wire_hex": f.encode().hex()} for n, f in _frames()],
        "bad_frames": [{"name": n, "wire_hex": w.hex(), "error": e} for n, w, e in _bad_frames()],
        "exchanges": _exchanges(),
    }


def dumps() -> str:
    return json.dumps(build_vectors(), indent=1) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(dumps(), end="")


EDIT_KINDS = ("flip", "insert", "delete", "overwrite", "truncate")


def corrupt(wire: bytes, edits) -> bytes:
    """Apply ``(kind, position, value)`` edits (kinds from :data:`EDIT_KINDS`) to frame bytes.

    Shared by the fuzz test and ``tools/fuzz_framing.py``: bit flips, inserted, deleted and
    overwritten bytes, and truncation, at positions taken modulo the current length.
    """
    out = bytearray(wire)
    for kind, pos, value in edits:
        pos %= len(out) + 1
        if kind == "flip" and out:
            out[pos % len(out)] ^= 1 << (value % 8)
        elif kind == "insert":
            out.insert(pos, value)
        elif kind == "delete" and out:
            del out[pos % len(out)]
        elif kind == "overwrite" and out:
            out[pos % len(out)] = value
        elif kind == "truncate":
            del out[pos:]
    return bytes(out)
