"""RuiDeng (RDTech) UM24C / UM25C / UM34C USB power meters over their serial link.

The meters speak serial over Bluetooth (SPP; bind it with ``rfcomm bind 0 MAC`` to get
``/dev/rfcomm0``), 9600 baud 8N1. Every command is one byte; ``0xF0`` asks for a status dump and
the meter answers with one 130-byte frame, all fields big-endian unsigned. The layout below is
the one decoded by libsigrok's ``rdtech-um`` driver (``src/hardware/rdtech-um/protocol.[ch]``,
Andreas Sandberg) and by rdserialtool (``rdserial/um/__init__.py``, Ryan Finnie), both from
the reverse engineering on the sigrok wiki page "RDTech UM series":

========  ======  ===============================================================
offset    bytes   field
========  ======  ===============================================================
0         2       model id: 0x0963 UM24C, 0x09C9 UM25C, 0x0D4C UM34C
2         2       bus voltage: 0.01 V (UM24C/UM34C), 0.001 V (UM25C)
4         2       current: 0.001 A (UM24C/UM34C), 0.0001 A (UM25C)
6         4       power, 0.001 W
10 / 12   2 / 2   temperature °C / °F
14        2       selected data group (0-9)
16        80      10 data groups of (charge mAh u32, energy mWh u32)
96 / 98   2 / 2   USB D+ / D- voltage, 0.01 V
100       2       charging mode
102 / 106 4 / 4   threshold recording: charge mAh / energy mWh
110       2       recording threshold current, 0.01 A
112       4       recording duration, s
116       2       recording active (0/1)
118 / 120 2 / 2   screen timeout (min) / brightness
122       4       load resistance, 0.1 Ω
126       2       selected screen
128       2       UM24C/UM25C: end marker 0xFFF1; UM34C: byte 129 is the XOR of the bytes
                  at libsigrok's 32 checksum positions
========  ======  ===============================================================

Power is computed as voltage x current at the meter's own resolution (as libsigrok does);
the 0.001 W power field is coarser. :class:`UMFrame` decodes, :func:`encode_frame` builds
frames (for the emulator and tests), :class:`UMMeter` polls a meter over any pyserial-like port.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from hearsep.errors import PowerSourceError

FRAME_BYTES = 130
POLL_COMMAND = b"\xf0"
END_MARKER = 0xFFF1
#: model id -> (name, volts per count, amps per count)
MODELS = {0x0963: ("UM24C", 0.01, 0.001), 0x09C9: ("UM25C", 0.001, 0.0001), 0x0D4C: ("UM34C", 0.01, 0.001)}
MODEL_IDS = {name: mid for mid, (name, _, _) in MODELS.items()}
#: UM34C checksum: XOR of these byte positions goes into byte 129 (libsigrok poll_csum_um34c)
UM34C_CHECKSUM_POSITIONS = (1, 3, 7, 9, 15, 17, 19, 23, 31, 39, 41, 45, 49, 53, 55, 57, 59, 63, 67, 69,
                            73, 79, 83, 89, 97, 99, 109, 111, 113, 119, 121, 127)


def _um34c_checksum(frame: bytes) -> int:
    c = 0
    for i in UM34C_CHECKSUM_POSITIONS:
        c ^= frame[i]
    return c


@dataclass(frozen=True)
class UMFrame:
    """The measurement fields of one status frame, in SI units."""

    model: str
    voltage_v: float
    current_a: float
    power_field_w: float  # the frame's own 0.001 W field
    temperature_c: int

    @property
    def power_w(self) -> float:
        """Bus power V x I in watts (finer than :attr:`power_field_w`)."""
        return self.voltage_v * self.current_a

    @classmethod
    def decode(cls, frame: bytes) -> "UMFrame":
        """Decode a 130-byte frame; :class:`PowerSourceError` names what is wrong with it."""
        if len(frame) != FRAME_BYTES:
            raise PowerSourceError(f"meter frame is {len(frame)} bytes, expected {FRAME_BYTES}")
        model_id = struct.unpack_from(">H", frame, 0)[0]
        if model_id not in MODELS:
            raise PowerSourceError(f"meter answered garbage: model id 0x{model_id:04X} is not a UM24C/UM25C/UM34C "
                                   "(0x0963/0x09C9/0x0D4C)")
        name, v_per, a_per = MODELS[model_id]
        if name == "UM34C":
            if _um34c_checksum(frame) != frame[129]:
                raise PowerSourceError("meter answered garbage: UM34C frame checksum does not match")
        elif struct.unpack_from(">H", frame, 128)[0] != END_MARKER:
            raise PowerSourceError(f"meter answered garbage: {name} frame does not end in 0xFFF1")
        volts, amps, milliwatts, temp_c = struct.unpack_from(">HHIH", frame, 2)
        return cls(name, volts * v_per, amps * a_per, milliwatts / 1000.0, temp_c)


def encode_frame(model: str, voltage_v: float, current_a: float, temperature_c: int = 25) -> bytes:
    """A valid status frame for ``model`` ("UM24C", "UM25C", "UM34C") showing the given bus values."""
    if model not in MODEL_IDS:
        raise ValueError(f"unknown meter model {model!r}")
    mid = MODEL_IDS[model]
    _, v_per, a_per = MODELS[mid]
    frame = bytearray(FRAME_BYTES)
    volts, amps = round(voltage_v / v_per), round(current_a / a_per)
    struct.pack_into(">HHHIHH", frame, 0, mid, volts, amps, round(volts * v_per * amps * a_per * 1000),
                     temperature_c, round(temperature_c * 9 / 5 + 32))
    if model == "UM34C":
        frame[129] = _um34c_checksum(bytes(frame))
    else:
        struct.pack_into(">H", frame, 128, END_MARKER)
    return bytes(frame)


class UMMeter:
    """Poll a UM-series meter: write ``0xF0``, read one 130-byte frame, decode it.

    ``port`` is an open pyserial-like object (``write``, ``read(n)`` honouring its timeout,
    ``reset_input_buffer``, ``close``); :meth:`open` makes one from a device path.
    """

    def __init__(self, port, where: str = "meter"):
        self.port = port
        self.where = where

    @classmethod
    def open(cls, device: str, baud: int = 9600, timeout_s: float = 1.0) -> "UMMeter":
        import serial

        try:
            port = serial.Serial(device, baudrate=baud, timeout=timeout_s, write_timeout=timeout_s)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise PowerSourceError(f"um25c: cannot open serial port {device}: {exc}") from None
        return cls(port, where=device)

    def poll(self) -> UMFrame:
        import serial

        try:
            self.port.reset_input_buffer()
            self.port.write(POLL_COMMAND)
            frame = self.port.read(FRAME_BYTES)
        except (serial.SerialException, OSError) as exc:
            raise PowerSourceError(f"um25c: lost the meter on {self.where}: {exc}") from None
        if len(frame) < FRAME_BYTES:
            raise PowerSourceError(f"um25c: meter on {self.where} did not answer 0xF0 "
                                   f"(got {len(frame)} of {FRAME_BYTES} bytes before the timeout)")
        try:
            return UMFrame.decode(frame)
        except PowerSourceError as exc:
            raise PowerSourceError(f"um25c: {self.where}: {exc}") from None

    def close(self) -> None:
        try:
            self.port.close()
        except Exception:  # closing a port that already vanished is not an error
            pass
