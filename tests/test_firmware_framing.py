"""firmware_bridge.framing: CRC, COBS, frame bytes, streaming reader, fuzzing (hypothesis)."""

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from firmware_bridge.errors import FrameError
from firmware_bridge.testvectors import EDIT_KINDS, corrupt
from firmware_bridge.framing import (FLAG_REPLY, MAX_ENCODED, MAX_PAYLOAD, Frame, FrameReader, cobs_decode,
                                     cobs_encode, crc32, decode_frame)

VECTORS = json.loads((Path(__file__).parents[1] / "firmware_bridge/vectors/vectors.json").read_text())


def test_crc32_check_value_and_vectors():
    assert crc32(b"123456789") == 0xCBF43926
    for v in VECTORS["crc32"]:
        assert crc32(bytes.fromhex(v["data_hex"])) == v["crc32"], v["name"]


def test_cobs_published_examples():
    assert cobs_encode(b"\x11\x22\x00\x33") == b"\x03\x11\x22\x02\x33"
    assert len(VECTORS["cobs"]) == 10
    for v in VECTORS["cobs"]:
        raw, enc = bytes.fromhex(v["raw_hex"]), bytes.fromhex(v["encoded_hex"])
        assert cobs_encode(raw) == enc, v["name"]
        assert cobs_decode(enc) == raw, v["name"]


def test_hello_request_bytes_on_the_wire():
    wire = Frame(0x01, 0, b"\x01").encode()
    # body 01 01 00 00 01 00 | 01 | crc32 LE, COBS-stuffed, then the delimiter
    assert wire.hex() == "0301010102010601ce5d828600"
    assert len(wire) == 13


def test_max_payload_frame_size_and_limit():
    frame = Frame(0x11, 1, bytes(i % 251 + 1 for i in range(MAX_PAYLOAD)))
    wire = frame.encode()
    assert len(wire) <= MAX_ENCODED + 1 == 1040
    assert decode_frame(wire[:-1]) == frame
    with pytest.raises(FrameError) as exc:
        Frame(0x11, 1, bytes(MAX_PAYLOAD + 1)).encode()
    assert exc.value.kind == "length"


def test_frame_vectors_round_trip():
    for v in VECTORS["frames"]:
        f = Frame(v["type"], v["seq"], bytes.fromhex(v["payload_hex"]), v["flags"], v["version"])
        assert f.encode().hex() == v["wire_hex"], v["name"]
        assert FrameReader().feed(bytes.fromhex(v["wire_hex"])) == [f], v["name"]


def test_bad_frame_vectors_report_their_error_kind():
    kinds = set()
    for v in VECTORS["bad_frames"]:
        reader = FrameReader()
        assert reader.feed(bytes.fromhex(v["wire_hex"])) == [], v["name"]
        assert reader.stats.errors == {v["error"]: 1}, v["name"]
        kinds.add(v["error"])
    assert kinds == {"crc", "short", "length", "cobs", "overflow"}


def test_reader_resynchronises_after_garbage_and_split_reads():
    a, b = Frame(0x30, 5), Frame(0x21, 6, b"\xfa", FLAG_REPLY)
    stream = b"\x17garbage\xff" + b"\x00" + a.encode() + b"\x01\x02\x03\x00" + b"\x00" + b.encode()
    reader = FrameReader()
    got = []
    for i in range(0, len(stream), 3):  # arbitrary chunking
        got += reader.feed(stream[i:i + 3])
    assert got == [a, b]
    assert reader.stats.frames == 2
    assert reader.stats.bad_frames == 2  # the garbage and the 01 02 03 fragment


def test_reader_overflow_is_bounded_and_recovers():
    reader = FrameReader()
    assert reader.feed(b"\x01" * 5000 + b"\x00") == []
    assert reader.stats.errors == {"overflow": 1}
    assert len(reader._buf) == 0
    assert reader.feed(Frame(1, 2, b"\x01").encode()) == [Frame(1, 2, b"\x01")]


frames = st.builds(Frame, type=st.integers(0, 255), seq=st.integers(0, 255),
                   payload=st.binary(max_size=300), flags=st.integers(0, 255), version=st.integers(0, 255))
FUZZ = settings(max_examples=1500, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.binary(max_size=2000))
def test_cobs_round_trip(data):
    enc = cobs_encode(data)
    assert 0 not in enc
    assert len(enc) <= len(data) + len(data) // 254 + 1
    assert cobs_decode(enc) == data


@FUZZ
@given(frames)
def test_frame_round_trip(frame):
    assert FrameReader().feed(frame.encode()) == [frame]


@FUZZ
@given(st.binary(max_size=1500))
def test_random_bytes_never_crash_or_decode(data):
    reader = FrameReader()
    assert reader.feed(data + b"\x00") == []  # P(valid CRC-32) = 2**-32 per candidate
    assert len(reader._buf) == 0


@FUZZ
@given(frames, st.lists(st.tuples(st.sampled_from(EDIT_KINDS),
                                  st.integers(0, 2000), st.integers(0, 255)), min_size=1, max_size=4))
def test_corrupted_frame_is_never_accepted_and_link_resyncs(frame, edits):
    original = frame.encode()[:-1]
    wire = corrupt(original, edits)
    assume(bytes(wire) != original)  # (a filter that rejects most examples fails the health check)
    reader = FrameReader()
    got = reader.feed(bytes(wire) + b"\x00")
    assert all(f == frame for f in got)  # only the intact original could ever come out
    assert got == [] or b"\x00" in wire
    # a delimiter and the clean frame always get through
    assert reader.feed(b"\x00" + frame.encode()) == [frame]
