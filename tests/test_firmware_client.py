"""firmware_bridge.client against the emulator, through pyserial on a real pty."""

import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge import Client, DeviceNack, Emulator, LinkError, LinkTimeout, MsgType, RequestError, Status
from firmware_bridge.device import DeviceConfig, DeviceModel
from firmware_bridge.framing import Frame, FrameReader, crc32
from firmware_bridge.messages import Capability, LogLevel
from firmware_bridge.preset import load_preset
from hearsep.fitting import example_preset, save_preset


def host_preset_bytes(preset) -> bytes:
    """The bytes ``hearsep device push-preset`` sends for ``preset``: the file save_preset writes."""
    with tempfile.TemporaryDirectory() as folder:
        return load_preset(save_preset(preset, Path(folder) / "preset.toml"))


N3 = example_preset("N3", "nal-r")  # linear: one gain per band at every input level
PRESET = host_preset_bytes(N3)
OTHER = host_preset_bytes(example_preset("S2", "camfit-linear"))


@pytest.fixture
def emu():
    with Emulator() as e:
        yield e
    assert e.error is None


def test_info_program_volume_telemetry_logs(emu):
    with Client(emu.port) as dev:
        assert dev.info.name == "hearsep-emulator"
        assert (dev.info.sample_rate_hz, dev.info.block_size_samples, dev.info.num_programs) == (16000, 32, 4)
        assert dev.select_program(2) == 2
        assert dev.set_volume(-6) == -6
        t = dev.telemetry()
        assert (t.program, t.volume_db, t.temperature_cdeg) == (2, -6, 3450)
        assert 3300 <= t.battery_mv <= 3950 and 0 < t.load_permille < 1000 and t.current_ua == 1150 + 20 * 24
        with pytest.raises(DeviceNack) as exc:
            dev.request(MsgType.SET_PROGRAM, b"\x07")
        assert exc.value.status == Status.BAD_ARG
        logs = dev.read_logs()
        assert [(line.level, line.text) for line in logs] == [(LogLevel.INFO, "program 2 selected")]


def test_push_pull_preset_and_emulator_applies_it(emu):
    with Client(emu.port) as dev:
        assert len(PRESET) > 2 * 512
        result = dev.push_preset(PRESET, slot=1)
        assert (result.size_bytes, result.crc32, result.resumed_from, result.bytes_sent) == (
            len(PRESET), crc32(PRESET), 0, len(PRESET))
        assert dev.pull_preset(1) == PRESET
        assert emu.device.presets[1] == PRESET
        assert emu.fitting() is None and emu.gain_db() == 0.0  # program 0: empty slot, volume 0 dB
        dev.select_program(1)
        assert emu.fitting() == N3.resolve()
        bands = N3.resolve().bands  # 440 Hz lies in the 500 Hz band (354..707), 1 kHz in the 1 kHz band
        assert emu.gain_db(1000.0, 84.0) == pytest.approx(bands[2].gain_65_db)
        dev.set_volume(10)  # +10 dB asked, the preset allows volume.max_db = +6 dB
        assert emu.volume_db() == 6.0
        assert emu.gain_db(440.0, 90.0) == pytest.approx(bands[1].gain_65_db + 6.0)
        # 100 dB SPL in at 1 kHz + 19.6 dB + 6 dB would be 125.6 dB SPL: held at the 110 dB SPL MPO
        assert emu.gain_db(1000.0, 100.0) == pytest.approx(110.0 - 100.0)
        dev.set_volume(-6)
        cap = dev.capture(0.3)
        assert dev.stats.retries == 0
    assert cap.lost_samples == 0
    # emulated output: each tone amplified by its band's gain at the applied volume (-6 dB)
    spectrum_in, spectrum_out = np.abs(np.fft.rfft(cap.input)), np.abs(np.fft.rfft(cap.output))
    for frequency_hz, band in ((440, bands[1]), (1000, bands[2])):
        k = frequency_hz * len(cap.input) // 16000  # 0.3 s: a whole number of periods
        gain_db = 20 * np.log10(spectrum_out[k] / spectrum_in[k])
        assert gain_db == pytest.approx(band.gain_65_db - 6.0, abs=0.05)


def test_disconnect_mid_transfer_keeps_old_preset_and_resumes(emu):
    old = OTHER
    with Client(emu.port) as dev:
        dev.push_preset(old, slot=0)

    class CablePulled(Exception):
        pass

    def pull_cable(staged, total):
        if staged >= 1024:
            raise CablePulled

    with Client(emu.port) as dev:
        with pytest.raises(CablePulled):
            dev.push_preset(PRESET, slot=0, chunk_bytes=512, progress=pull_cable)
    assert emu.device.presets[0] == old  # nothing committed
    assert emu.device.transfer.received == 1024
    with Client(emu.port) as dev:  # a new connection (new sequence numbers) resumes
        assert dev.pull_preset(0) == old
        result = dev.push_preset(PRESET, slot=0, chunk_bytes=512)
        assert result.resumed_from == 1024
        assert result.bytes_sent == len(PRESET) - 1024
        assert dev.pull_preset(0) == PRESET


def test_garbage_mid_transfer_link_resyncs(emu):
    with Client(emu.port, timeout_s=0.2) as dev:
        garbage = bytes(range(1, 200)) + b"\x00\xff\xfe\x00" + bytes(3000)

        def inject(staged, total):
            dev.write_raw(garbage)

        result = dev.push_preset(PRESET, slot=2, chunk_bytes=256, progress=inject)
        assert result.bytes_sent == len(PRESET)
        assert dev.pull_preset(2) == PRESET
        link = dev.link_status()
        chunks = -(-len(PRESET) // 256)
        assert link.rx_crc_errors + link.rx_frame_errors == 2 * chunks  # two bad frames per garbage burst
        assert dev.stats.retries == 0  # the leading 0x00 of each request cuts the garbage off


def test_corrupted_replies_are_retried_not_misread():
    state = {"n": 0}

    def corrupt_every_third_reply(frame: bytes) -> bytes:
        state["n"] += 1
        if state["n"] % 3 == 0:
            return frame[:5] + bytes([frame[5] ^ 0x10]) + frame[6:]
        return frame

    with Emulator(tx_fault=corrupt_every_third_reply) as emu, Client(emu.port, timeout_s=0.1) as dev:
        dev.push_preset(PRESET, slot=3, chunk_bytes=200)
        assert dev.pull_preset(3) == PRESET
        assert dev.stats.retries > 0
        assert emu.device.rx_duplicates == dev.stats.retries  # retransmissions answered from the cache
        assert emu.device.presets[3] == PRESET


def test_client_is_thread_safe(emu):
    with Client(emu.port) as dev:
        errors = []

        def worker(k):
            try:
                for i in range(20):
                    assert dev.set_volume(-k) == -k
                    dev.telemetry()
            except Exception as exc:  # pragma: no cover
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert dev.stats.requests == 1 + 4 * 40 and dev.stats.retries == 0


def test_capture_sustains_16k_in_out_at_921600_baud(emu):
    with Client(emu.port) as dev:
        dev.set_volume(-6)
        cap = dev.capture(1.0)
    assert cap.samples_expected == 16000
    assert cap.lost_samples == 0 and cap.device_blocks_dropped == 0 and cap.bad_frames == 0
    # payload 16 kHz x 2 ch x 2 B = 64000 B/s; with framing about 65.9 kB/s < 92.16 kB/s of the link
    assert 60_000 < cap.rx_bytes_per_s < 92_160
    gain = np.sqrt(np.mean(cap.output ** 2) / np.mean(cap.input ** 2))
    assert 20 * np.log10(gain) == pytest.approx(-6.0, abs=0.1)


def test_capture_loss_is_measured_on_a_slow_link():
    with Emulator(baudrate=460_800) as emu, Client(emu.port, baudrate=460_800) as dev:
        cap = dev.capture(1.0)
    # 66 kB/s of frames through a 46 kB/s link: ~30 % cannot fit; the 16-block (128 ms) device
    # queue drains after the last block, so about 20 % of a 1 s capture is dropped, and counted
    assert cap.device_blocks_dropped > 0
    assert cap.lost_samples == 128 * cap.device_blocks_dropped
    assert 0.1 < cap.loss_ratio < 0.35
    assert cap.rx_bytes_per_s < 46_080 * 1.05


def test_timeout_on_loop_url_names_the_request():
    with Client("loop://", timeout_s=0.05, retries=1, hello=False) as dev:
        with pytest.raises(LinkTimeout, match="no reply to GET_TELEMETRY from loop:// after 2 attempts"):
            dev.telemetry()
        assert dev.stats.retries == 1


def test_open_error_is_a_link_error(tmp_path):
    with pytest.raises(LinkError, match="cannot open"):
        Client(str(tmp_path / "ttyACM9"))


def test_emulator_paces_bytes_at_the_baud_rate():
    with Emulator(baudrate=115_200) as emu, Client(emu.port) as dev:
        t0 = time.monotonic()
        for _ in range(10):
            dev.request(MsgType.HELLO, b"\x01")
        elapsed = time.monotonic() - t0
    reply = DeviceModel(DeviceConfig(name="hearsep-emulator")).receive(Frame(MsgType.HELLO, 0, b"\x01").encode())
    assert len(reply) == 50 and len(FrameReader().feed(reply)) == 1
    # 10 HELLO replies of 50 bytes = 5000 bit times at 115200 baud = 43.4 ms
    assert elapsed >= 10 * 50 * 10 / 115_200


def test_captures_follow_each_other_and_load_returns_to_idle(emu):
    with Client(emu.port) as dev:
        assert dev.emulated and Capability.EMULATED in dev.info.capabilities
        idle = dev.telemetry().load_permille
        for _ in range(3):  # every capture after the first used to get BUSY (5)
            cap = dev.capture(0.1)
            assert cap.samples_expected == 1600 and cap.lost_samples == 0 and cap.device_blocks_dropped == 0
        time.sleep(0.05)
        # emulated load: 420 +- 30 permille idle, +150 while capturing
        assert emu.device.capture is None
        assert 390 <= idle <= 450 and 390 <= dev.telemetry().load_permille <= 450


def test_bad_arg_reply_names_the_valid_range(emu):
    with Client(emu.port) as dev:
        with pytest.raises(DeviceNack, match=r"device refused SET_VOLUME: BAD_ARG \(4\); volume_db must be -30..\+10 dB"):
            dev.request(MsgType.SET_VOLUME, (40).to_bytes(1, "little", signed=True))
        with pytest.raises(DeviceNack, match=r"SET_PROGRAM: BAD_ARG \(4\); program must be 0..3"):
            dev.request(MsgType.SET_PROGRAM, b"\x07")
        with pytest.raises(DeviceNack, match=r"CAPTURE_START: BAD_ARG \(4\); duration must be 1..60000 ms"):
            dev.request(MsgType.CAPTURE_START, (70_000).to_bytes(4, "little"))


@pytest.mark.parametrize("call", [lambda d: d.push_preset(PRESET, slot=256), lambda d: d.pull_preset(-1),
                                  lambda d: d.select_program(4), lambda d: d.set_volume(11),
                                  lambda d: d.capture(-1.0), lambda d: d.capture(60.5),
                                  lambda d: d.telemetry_readings(0), lambda d: d.telemetry_readings(2, -1.0)])
def test_client_side_range_checks_are_not_nacks_and_send_nothing(emu, call):
    with Client(emu.port) as dev:
        frames = emu.device.reader.stats.frames
        with pytest.raises(RequestError) as exc:
            call(dev)
        assert not isinstance(exc.value, DeviceNack)
        assert "outside" in str(exc.value) or "must be" in str(exc.value)
        assert emu.device.reader.stats.frames == frames and dev.stats.requests == 1  # HELLO only


def test_client_settings_are_checked_before_opening():
    for kwargs in ({"timeout_s": 0}, {"retries": -1}, {"baudrate": 0}):
        with pytest.raises(RequestError):
            Client("loop://", hello=False, **kwargs)


def _die_after(frames: int):
    sent = [0]

    def fault(frame: bytes) -> bytes:
        sent[0] += 1
        if sent[0] > frames:
            raise RuntimeError("emulated firmware crash")
        return frame
    return fault


def test_a_device_that_dies_mid_capture_is_noticed_within_the_stall_time():
    with Emulator(tx_fault=_die_after(20)) as emu, Client(emu.port, timeout_s=0.1) as dev:
        t0 = time.monotonic()
        with pytest.raises(LinkTimeout, match=r"stopped streaming during capture: no audio for 1.2 s"):
            dev.capture(10.0)
        elapsed = time.monotonic() - t0
    assert isinstance(emu.error, RuntimeError)
    # stall time 1 + 2 * 0.1 s after the last block, not the 10 s asked for (the old client: 13 s);
    # the bound leaves room for a loaded machine
    assert elapsed < 5.0


def test_a_link_lost_mid_capture_is_a_link_error_at_once():
    emu = Emulator()
    emu.start()
    with Client(emu.port) as dev:
        threading.Timer(0.3, emu.stop).start()
        t0 = time.monotonic()
        with pytest.raises(LinkError, match="lost during capture after 0.[0-9]+ s"):
            dev.capture(10.0, stall_s=30.0)
        assert time.monotonic() - t0 < 5.0  # well before the 10 s capture (or the 30 s stall) would end


def test_capture_reports_progress_per_block(emu):
    calls = []
    with Client(emu.port) as dev:
        cap = dev.capture(0.05, progress=lambda done, total: calls.append((done, total)))
    # 800 samples in blocks of 128: 7 blocks, the last one short
    assert cap.samples_expected == 800
    assert [d for d, _ in calls] == [128, 256, 384, 512, 640, 768, 800] and {t for _, t in calls} == {800}
