"""firmware_bridge.device and the shared vectors: bytes in -> bytes out."""

import json
from pathlib import Path

from firmware_bridge import messages as m
from firmware_bridge.device import DeviceModel
from firmware_bridge.framing import FLAG_REPLY, Frame, FrameReader, crc32
from firmware_bridge.messages import MsgType, Status
from firmware_bridge.testvectors import dumps

VECTOR_PATH = Path(__file__).parents[1] / "firmware_bridge/vectors/vectors.json"


def test_committed_vectors_are_what_the_python_side_produces():
    assert VECTOR_PATH.read_text() == dumps()


def test_exchanges_replay_byte_for_byte():
    steps = json.loads(VECTOR_PATH.read_text())["exchanges"]
    assert len(steps) == 37
    dev, session = None, None
    for step in steps:
        if step["session"] != session:
            dev, session = DeviceModel(clock_ms=lambda: 0), step["session"]
        assert dev.receive(bytes.fromhex(step["request_hex"])).hex() == step["reply_hex"], step["name"]


def _reply(dev, type_, seq, payload=b""):
    frames = FrameReader().feed(dev.receive(Frame(type_, seq, payload).encode()))
    assert len(frames) == 1 and frames[0].flags == FLAG_REPLY and frames[0].seq == seq
    return frames[0].payload[0], frames[0].payload[1:]


def test_error_codes():
    dev = DeviceModel()
    assert _reply(dev, 0x55, 1) == (Status.UNKNOWN_TYPE, b"")
    assert _reply(dev, MsgType.HELLO, 2, b"") == (Status.BAD_LENGTH, b"")
    assert _reply(dev, MsgType.SET_PROGRAM, 3, b"\x04") == (Status.BAD_ARG, b"")
    assert _reply(dev, MsgType.SET_VOLUME, 4, (-31).to_bytes(1, "little", signed=True)) == (Status.BAD_ARG, b"")
    assert _reply(dev, MsgType.PRESET_COMMIT, 5, m.PRESET_COMMIT.pack(0, 1)) == (Status.NO_TRANSFER, b"")
    assert _reply(dev, MsgType.PRESET_BEGIN, 6, m.PRESET_BEGIN.pack(0, 4097, 0)) == (Status.TOO_LARGE, b"")
    assert _reply(dev, MsgType.CAPTURE_START, 7, m.U32.pack(60_001)) == (Status.BAD_ARG, b"")


def test_old_preset_survives_a_transfer_that_fails_its_crc():
    dev = DeviceModel()
    old, new = b"gain_db = 1\n", b"gain_db = 2\n"
    assert _reply(dev, MsgType.PRESET_BEGIN, 1, m.PRESET_BEGIN.pack(0, len(old), crc32(old)))[0] == Status.OK
    assert _reply(dev, MsgType.PRESET_WRITE, 2, m.U32.pack(0) + old) == (Status.OK, m.U32.pack(len(old)))
    assert _reply(dev, MsgType.PRESET_COMMIT, 3, m.PRESET_COMMIT.pack(0, crc32(old))) == (Status.OK, b"")
    # staged bytes corrupted in transit (a byte the CRC of the frame did not cover cannot exist,
    # so model it as a host that declared the wrong whole-preset CRC)
    _reply(dev, MsgType.PRESET_BEGIN, 4, m.PRESET_BEGIN.pack(0, len(new), crc32(old)))
    _reply(dev, MsgType.PRESET_WRITE, 5, m.U32.pack(0) + new)
    assert _reply(dev, MsgType.PRESET_COMMIT, 6, m.PRESET_COMMIT.pack(0, crc32(old)))[0] == Status.CRC_MISMATCH
    assert dev.presets[0] == old
    assert dev.transfer is None


def test_retransmitted_request_is_answered_from_cache_not_reapplied():
    dev = DeviceModel()
    blob = b"a = 1\n"
    _reply(dev, MsgType.PRESET_BEGIN, 1, m.PRESET_BEGIN.pack(0, len(blob), crc32(blob)))
    request = Frame(MsgType.PRESET_WRITE, 2, m.U32.pack(0) + blob).encode()
    first = dev.receive(request)
    assert dev.receive(request) == first
    assert dev.rx_duplicates == 1
    assert dev.transfer.received == len(blob)


def test_a_preset_check_refuses_at_commit_and_the_old_preset_stays():
    # A bare DeviceModel (like the C reference and the vectors) stores blobs opaquely; with a
    # preset_check (the emulator plugs in the host's validator) a refusal is BAD_PRESET + reason.
    seen = []

    def check(slot, blob):
        seen.append((slot, blob))
        return None if blob.startswith(b"ok") else "slot 1: not a preset"

    dev = DeviceModel(preset_check=check, clock_ms=lambda: 0)
    for seq, blob in ((1, b"ok 1\n"), (4, b"bad\n")):
        _reply(dev, MsgType.PRESET_BEGIN, seq, m.PRESET_BEGIN.pack(1, len(blob), crc32(blob)))
        _reply(dev, MsgType.PRESET_WRITE, seq + 1, m.U32.pack(0) + blob)
        status, data = _reply(dev, MsgType.PRESET_COMMIT, seq + 2, m.PRESET_COMMIT.pack(1, crc32(blob)))
    assert (status, data) == (Status.BAD_PRESET, b"slot 1: not a preset")
    assert seen == [(1, b"ok 1\n"), (1, b"bad\n")]
    assert dev.presets[1] == b"ok 1\n" and dev.transfer is None
    logs = [m.LogLine.unpack(f.payload).text for f in dev.events]
    assert logs[-1] == "preset slot 1 refused (4 bytes): content check failed"
    # the reason is cut to fit one reply payload, on a UTF-8 character boundary
    dev = DeviceModel(preset_check=lambda slot, blob: "\u00e9" * 600)
    _reply(dev, MsgType.PRESET_BEGIN, 1, m.PRESET_BEGIN.pack(0, 3, crc32(b"abc")))
    _reply(dev, MsgType.PRESET_WRITE, 2, m.U32.pack(0) + b"abc")
    status, data = _reply(dev, MsgType.PRESET_COMMIT, 3, m.PRESET_COMMIT.pack(0, crc32(b"abc")))
    assert status == Status.BAD_PRESET and data.decode() == "\u00e9" * 511 and dev.presets[0] is None
