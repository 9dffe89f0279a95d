"""Loading PortAudio and choosing devices, without an audio server."""

import ctypes.util
import sys

import pytest

from hearsep.errors import LiveAudioError
from hearsep.live.portaudio import DeviceInfo, resolve_device


def test_importing_hearsep_live_does_not_load_sounddevice():
    import subprocess

    code = "import sys, hearsep, hearsep.live, hearsep.cli.main; print('sounddevice' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_missing_portaudio_library_names_the_debian_package(monkeypatch, capsys):
    real = ctypes.util.find_library
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None if "portaudio" in name else real(name))
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    from hearsep.cli.main import main

    assert main(["devices"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "libportaudio2" in err[0] and "PortAudio library" in err[0]


def _dev(index, name, ins, outs, default_in=False, default_out=False):
    return DeviceInfo(index, name, "ALSA", ins, outs, 48000.0, default_in, default_out)


DEVICES = [_dev(0, "HDA Intel PCH: ALC3246 Analog (hw:0,0)", 2, 2, True, True),
           _dev(1, "USB Audio: Mic (hw:1,0)", 1, 0), _dev(2, "USB Audio: Headphones (hw:1,1)", 0, 2)]


def test_devices_are_chosen_by_index_name_or_default():
    assert resolve_device(None, "input", DEVICES).index == 0
    assert resolve_device("2", "output", DEVICES).index == 2
    assert resolve_device("mic", "input", DEVICES).index == 1
    with pytest.raises(LiveAudioError, match="2 input devices match 'hw:'"):
        resolve_device("hw:", "input", DEVICES)
    with pytest.raises(LiveAudioError, match="device 1 .* has no output channels"):
        resolve_device(1, "output", DEVICES)
    with pytest.raises(LiveAudioError, match="no audio output device named 'Mic'"):
        resolve_device("Mic", "output", DEVICES)
    with pytest.raises(LiveAudioError, match="no audio input device found"):
        resolve_device(None, "input", [d for d in DEVICES if d.max_input_channels == 0])
