"""Client API: typed calls on a device, over any pyserial URL.

``with Client("/dev/ttyACM0") as dev: dev.info, dev.push_preset(blob), dev.telemetry()``.
One request is in flight at a time (a lock serialises callers, so a Client may be shared by
threads); a reader thread routes replies, log lines and audio blocks. Every request is retried
with the same sequence number after ``timeout_s``; the device answers a retransmission from its
reply cache, so retries never apply a request twice.

Arguments are checked against the protocol's ranges (PROTOCOL.md section 3, and the device's
``num_programs`` from HELLO) before anything is sent: :class:`RequestError` means the device never
saw the request; :class:`DeviceNack` means it did and refused it (BAD_ARG names the valid range).
A capture notices a dead link or a device that stopped streaming within ``stall_s``, not at the
end of the requested duration.
"""

from __future__ import annotations

import collections
import itertools
import queue
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import serial

from firmware_bridge import messages as m
from firmware_bridge.errors import DeviceNack, LinkError, LinkTimeout, ProtocolError, RequestError
from firmware_bridge.framing import FLAG_EVENT, FLAG_REPLY, MAX_PAYLOAD, PROTOCOL_VERSION, Frame, crc32
from firmware_bridge.messages import MsgType, Status
from firmware_bridge.preset import validate_preset
from firmware_bridge.transport import DEFAULT_BAUDRATE, FramedProtocol, open_port

WRITE_CHUNK_MAX = MAX_PAYLOAD - m.PRESET_WRITE.size  # 1020 data bytes per PRESET_WRITE
READ_CHUNK_MAX = MAX_PAYLOAD - 1 - m.PRESET_READ_REPLY.size  # 1015 data bytes per PRESET_READ reply
#: polling step of a capture while it waits for audio (s): bounds how late a dead link is noticed
CAPTURE_POLL_S = 0.05


def _check_range(what: str, value, low, high, unit: str = "") -> None:
    """Raise :class:`RequestError` unless ``low <= value <= high`` (nothing is sent)."""
    if not low <= value <= high:
        raise RequestError(f"{what} {value}{unit} is outside {low}..{high}{unit}; nothing was sent to the device")


@dataclass
class ClientStats:
    requests: int = 0
    retries: int = 0
    stale_replies: int = 0  # replies to an earlier request (late, duplicated) that were ignored


@dataclass(frozen=True)
class PushResult:
    size_bytes: int
    crc32: int
    resumed_from: int  # bytes the device had already staged from an interrupted transfer
    bytes_sent: int    # preset bytes sent in this call
    restarts: int      # transfers restarted from zero after a CRC mismatch


@dataclass
class Capture:
    """Result of :meth:`Client.capture`: audio as float32 in [-1, 1] and what was lost.

    Lost samples are zero in ``input``/``output``; ``received`` marks the samples that arrived.
    """

    sample_rate_hz: int
    input: np.ndarray
    output: np.ndarray
    received: np.ndarray
    samples_expected: int
    device_blocks_dropped: int | None  # None if the end-of-capture event never came
    elapsed_s: float
    rx_bytes: int
    bad_frames: int

    @property
    def samples_received(self) -> int:
        return int(self.received.sum())

    @property
    def lost_samples(self) -> int:
        return self.samples_expected - self.samples_received

    @property
    def loss_ratio(self) -> float:
        return self.lost_samples / self.samples_expected if self.samples_expected else 0.0

    @property
    def rx_bytes_per_s(self) -> float:
        return self.rx_bytes / self.elapsed_s if self.elapsed_s > 0 else 0.0


class _ClientProtocol(FramedProtocol):
    def __init__(self, client: "Client") -> None:
        super().__init__()
        self.client = client

    def handle_frame(self, frame: Frame) -> None:
        self.client._route(frame)

    def connection_lost(self, exc) -> None:
        self.client._lost = exc or LinkError("port closed")


class Client:
    """A connection to one device. Opening sends HELLO; :attr:`info` holds the answer.

    ``timeout_s`` (s, > 0) is the wait for one reply, ``retries`` (>= 0) how often a request is
    resent; ``baudrate`` in bit/s. Bad settings raise :class:`RequestError` before the port opens.
    """

    def __init__(self, port: str, baudrate: int = DEFAULT_BAUDRATE, timeout_s: float = 0.5,
                 retries: int = 3, hello: bool = True):
        if not timeout_s > 0:
            raise RequestError(f"reply timeout must be positive, got {timeout_s} s")
        if not isinstance(retries, int) or retries < 0:
            raise RequestError(f"retries must be 0 or more, got {retries}")
        if not baudrate > 0:
            raise RequestError(f"baud rate must be positive, got {baudrate}")
        self.port = port
        self.timeout_s = timeout_s
        self.retries = retries
        self.stats = ClientStats()
        self.logs: collections.deque[m.LogLine] = collections.deque(maxlen=1000)
        self._lock = threading.RLock()
        self._replies: queue.Queue[Frame] = queue.Queue()
        self._audio: queue.Queue[Frame] = queue.Queue()
        self._seq = random.randrange(256)  # a fresh client never collides with the device's reply cache
        self._lost: BaseException | None = None
        self._serial = open_port(port, baudrate)
        self._thread = serial.threaded.ReaderThread(self._serial, lambda: _ClientProtocol(self))
        self._thread.start()
        _, self.protocol = self._thread.connect()
        self.info: m.DeviceInfo | None = None
        if hello:
            try:
                self.info = self.hello()
            except BaseException:
                self.close()
                raise

    # -- lifetime -----------------------------------------------------------------------
    def close(self) -> None:
        if self._thread is not None:
            self._thread.close()
            self._thread = None

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- raw link -----------------------------------------------------------------------
    def _route(self, frame: Frame) -> None:
        if frame.flags & FLAG_REPLY:
            self._replies.put(frame)
        elif frame.flags & FLAG_EVENT:
            if frame.type == MsgType.EV_LOG:
                try:
                    self.logs.append(m.LogLine.unpack(frame.payload))
                except ProtocolError:
                    pass
            elif frame.type in (MsgType.EV_AUDIO, MsgType.EV_CAPTURE_END):
                self._audio.put(frame)

    def write_raw(self, data: bytes) -> None:
        """Send bytes as they are (tests use it to inject garbage)."""
        if self._thread is None or self._lost is not None:
            raise LinkError(f"link to {self.port} is closed")
        try:
            self._thread.write(data)
        except (serial.SerialException, OSError) as exc:
            raise LinkError(f"write to {self.port} failed: {exc}") from None

    def request(self, type_: MsgType, payload: bytes = b"") -> bytes:
        """Send one request; return the reply data after the status byte.

        Raises :class:`DeviceNack` on a non-zero status (``.data`` holds the rest of the reply),
        :class:`LinkTimeout` after ``1 + retries`` unanswered attempts.
        """
        with self._lock:
            self._seq = (self._seq + 1) & 0xFF
            seq = self._seq
            wire = b"\x00" + Frame(type_, seq, payload).encode()  # leading 0x00 cuts off garbage
            self.stats.requests += 1
            for attempt in range(1 + self.retries):
                if attempt:
                    self.stats.retries += 1
                self.write_raw(wire)
                deadline = time.monotonic() + self.timeout_s
                while (remaining := deadline - time.monotonic()) > 0:
                    try:
                        frame = self._replies.get(timeout=remaining)
                    except queue.Empty:
                        break
                    if frame.seq != seq or frame.type != type_:
                        self.stats.stale_replies += 1
                        continue
                    if frame.version != PROTOCOL_VERSION or not frame.payload:
                        raise ProtocolError(f"malformed reply to {type_.name}")
                    if frame.payload[0] != Status.OK:
                        hint = ""
                        if frame.payload[0] == Status.BAD_ARG:
                            hint = m.valid_range(type_, self.info.num_programs if self.info else None)
                        elif frame.payload[0] == Status.BAD_PRESET:  # the device says why, in words
                            hint = frame.payload[1:].decode("utf-8", "replace")
                        raise DeviceNack(type_.name, frame.payload[0], hint, frame.payload[1:])
                    return frame.payload[1:]
                if self._lost is not None:
                    raise LinkError(f"link to {self.port} lost: {self._lost}")
            raise LinkTimeout(f"no reply to {type_.name} from {self.port} after {1 + self.retries} attempts "
                              f"of {self.timeout_s:g} s")

    # -- messages -------------------------------------------------------------------------
    def hello(self) -> m.DeviceInfo:
        info = m.DeviceInfo.unpack(self.request(MsgType.HELLO, bytes([PROTOCOL_VERSION])))
        if info.protocol_version != PROTOCOL_VERSION:
            raise ProtocolError(f"device speaks protocol {info.protocol_version}, host {PROTOCOL_VERSION}")
        return info

    @property
    def emulated(self) -> bool:
        """True when the device says its telemetry and audio are synthetic (``Capability.EMULATED``)."""
        return self.info is not None and bool(self.info.capabilities & m.Capability.EMULATED)

    def _check_slot(self, what: str, slot: int) -> None:
        last = self.info.num_programs - 1 if self.info else 255
        _check_range(what, slot, 0, last)

    def select_program(self, program: int) -> int:
        """Make ``program`` (0-based) the active program; returns the program the device reports."""
        self._check_slot("program", program)
        return self.request(MsgType.SET_PROGRAM, bytes([program]))[0]

    def set_volume(self, volume_db: int) -> int:
        """Set the volume (dB relative to the fitting, protocol range -30..+10); returns the device's value."""
        _check_range("volume_db", volume_db, m.VOLUME_MIN_DB, m.VOLUME_MAX_DB, " dB")
        data = self.request(MsgType.SET_VOLUME, int(volume_db).to_bytes(1, "little", signed=True))
        return int.from_bytes(data[:1], "little", signed=True)

    def telemetry(self) -> m.Telemetry:
        """One telemetry reading (synthetic when :attr:`emulated`)."""
        return m.Telemetry.unpack(self.request(MsgType.GET_TELEMETRY))

    def telemetry_readings(self, count: int | None = 1, interval_s: float = 1.0) -> Iterator[m.Telemetry]:
        """``count`` readings (``None``: endless), ``interval_s`` seconds apart (>= 0).

        The arguments are checked here, before the first reading (:class:`RequestError`).
        """
        if count is not None and count < 1:
            raise RequestError(f"number of telemetry readings must be at least 1, got {count}")
        if not interval_s >= 0:
            raise RequestError(f"telemetry interval must be 0 s or more, got {interval_s} s")

        def readings() -> Iterator[m.Telemetry]:
            for i in itertools.count() if count is None else range(count):
                if i:
                    time.sleep(interval_s)
                yield self.telemetry()

        return readings()

    def link_status(self) -> m.LinkStatus:
        return m.LinkStatus.unpack(self.request(MsgType.GET_LINK_STATUS))

    def read_logs(self) -> list[m.LogLine]:
        """Return and forget the log lines received so far."""
        out = []
        while self.logs:
            out.append(self.logs.popleft())
        return out

    def push_preset(self, blob: bytes, slot: int = 0, chunk_bytes: int = 512,
                    progress: Callable[[int, int], None] | None = None) -> PushResult:
        """Stage ``blob`` in chunks and commit it to ``slot``.

        If the device still holds part of the same transfer (same slot, size and CRC) from an
        interrupted call, writing resumes there. A CRC mismatch at commit restarts once from zero.
        ``progress(bytes_staged, size)`` is called after each chunk. ``blob`` is first checked with
        the host's preset validation (:func:`firmware_bridge.preset.validate_preset`; PresetError,
        nothing sent); a device that checks content itself may still refuse the commit
        (:class:`DeviceNack` ``BAD_PRESET``, its reason in the message).
        """
        max_bytes = self.info.preset_max_bytes if self.info else 1 << 16
        self._check_slot("slot", slot)
        validate_preset(blob, max_bytes)
        blob = bytes(blob)
        chunk_bytes = max(1, min(chunk_bytes, WRITE_CHUNK_MAX))
        crc = crc32(blob)
        sent = restarts = 0
        with self._lock:
            for _ in range(2):
                (offset,) = m.U32.unpack(self.request(MsgType.PRESET_BEGIN, m.PRESET_BEGIN.pack(slot, len(blob), crc)))
                resumed_from = offset
                while offset < len(blob):
                    chunk = blob[offset:offset + chunk_bytes]
                    try:
                        data = self.request(MsgType.PRESET_WRITE, m.PRESET_WRITE.pack(offset) + chunk)
                    except DeviceNack as nack:
                        if nack.status != Status.BAD_OFFSET or len(nack.data) != 4:
                            raise
                        data = nack.data  # the device tells where to continue
                    else:
                        sent += len(chunk)
                    (offset,) = m.U32.unpack(data)
                    if progress is not None:
                        progress(offset, len(blob))
                try:
                    self.request(MsgType.PRESET_COMMIT, m.PRESET_COMMIT.pack(slot, crc))
                except DeviceNack as nack:
                    if nack.status != Status.CRC_MISMATCH or restarts:
                        raise
                    restarts += 1
                    continue
                return PushResult(len(blob), crc, resumed_from, sent, restarts)
        raise AssertionError("unreachable")

    def pull_preset(self, slot: int = 0) -> bytes:
        """Read the preset in ``slot``; its CRC-32 is checked against the device's."""
        self._check_slot("slot", slot)
        with self._lock:
            out = bytearray()
            size = crc = None
            while size is None or len(out) < size:
                data = self.request(MsgType.PRESET_READ, m.PRESET_READ.pack(slot, len(out), READ_CHUNK_MAX))
                this_size, this_crc = m.PRESET_READ_REPLY.unpack_from(data)
                if size is not None and (this_size, this_crc) != (size, crc):
                    raise ProtocolError(f"preset in slot {slot} changed while it was read")
                size, crc = this_size, this_crc
                chunk = data[m.PRESET_READ_REPLY.size:]
                if not chunk and len(out) < size:
                    raise ProtocolError("device returned an empty preset chunk")
                out += chunk
            if len(out) != size or crc32(bytes(out)) != crc:
                raise ProtocolError(f"preset read from slot {slot} fails its CRC check")
            return bytes(out)

    def capture(self, duration_s: float, stall_s: float | None = None,
                progress: Callable[[int, int], None] | None = None) -> Capture:
        """Record ``duration_s`` (s, protocol range 0.001..60) of the device's input and output audio.

        The device streams EV_AUDIO blocks in real time; blocks it had to drop, or that were
        corrupted on the wire, are counted as lost samples (and left as zeros). If the link is
        lost, :class:`LinkError` is raised within :data:`CAPTURE_POLL_S`; if no audio arrives for
        ``stall_s`` seconds (default ``1 + 2 * timeout_s``), :class:`LinkTimeout`.
        ``progress(last_sample_received, total_samples)`` is called after each audio block.
        """
        if not duration_s > 0:
            raise RequestError(f"capture duration must be positive, got {duration_s} s")
        duration_ms = int(round(duration_s * 1000))
        _check_range("capture duration", duration_ms, 1, m.MAX_CAPTURE_MS, " ms")
        stall_s = 1.0 + 2 * self.timeout_s if stall_s is None else stall_s
        with self._lock:
            while not self._audio.empty():
                self._audio.get_nowait()
            rx0, bad0 = self.protocol.rx_bytes, self.protocol.reader.stats.bad_frames
            data = self.request(MsgType.CAPTURE_START, m.U32.pack(duration_ms))
            t0 = time.monotonic()
            sample_rate_hz, total, _block = m.CAPTURE_START_REPLY.unpack(data)
            pcm_in = np.zeros(total, "<i2")
            pcm_out = np.zeros(total, "<i2")
            got = np.zeros(total, bool)
            dropped = None
            deadline = t0 + duration_ms / 1000 + 1.0 + 4 * self.timeout_s
            last_frame_t = t0
            while (remaining := deadline - time.monotonic()) > 0:
                try:
                    frame = self._audio.get(timeout=min(remaining, CAPTURE_POLL_S))
                except queue.Empty:
                    now = time.monotonic()
                    if self._lost is not None:
                        raise LinkError(f"link to {self.port} lost during capture after {now - t0:.2f} s "
                                        f"({int(got.sum())} of {total} samples received): {self._lost}") from None
                    if now - last_frame_t > stall_s:
                        raise LinkTimeout(f"device on {self.port} stopped streaming during capture: no audio for "
                                          f"{stall_s:g} s after {last_frame_t - t0:.2f} s "
                                          f"({int(got.sum())} of {total} samples received)")
                    continue
                last_frame_t = time.monotonic()
                if frame.type == MsgType.EV_CAPTURE_END:
                    dropped = m.CaptureEnd.unpack(frame.payload).blocks_dropped
                    break
                first, n = m.AUDIO_HEADER.unpack_from(frame.payload)
                body = frame.payload[m.AUDIO_HEADER.size:]
                if len(body) != 4 * n or first + n > total:
                    raise ProtocolError(f"malformed audio block ({len(body)} bytes for {n} samples at {first})")
                pcm_in[first:first + n] = np.frombuffer(body[:2 * n], "<i2")
                pcm_out[first:first + n] = np.frombuffer(body[2 * n:], "<i2")
                got[first:first + n] = True
                if progress is not None:
                    progress(first + n, total)
            elapsed = time.monotonic() - t0
            if dropped is None:
                try:
                    self.request(MsgType.CAPTURE_STOP)
                except (LinkTimeout, DeviceNack):
                    pass
            return Capture(sample_rate_hz, pcm_in.astype(np.float32) / 32768, pcm_out.astype(np.float32) / 32768,
                           got, total, dropped, elapsed, self.protocol.rx_bytes - rx0,
                           self.protocol.reader.stats.bad_frames - bad0)
