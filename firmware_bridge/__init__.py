"""firmware_bridge: a robust serial link to hearing-aid firmware.

Layers, each testable with plain bytes (see PROTOCOL.md for the wire format):

    transport (pyserial URL, pty)  ->  framing (COBS + CRC-32 frames)  ->  messages (typed
    requests, replies, events)  ->  client API (:class:`Client`)

The device side exists three times: :class:`~firmware_bridge.device.DeviceModel` (bytes in,
bytes out), :class:`~firmware_bridge.emulator.Emulator` (that model behind a real pty, with
paced output, telemetry, capture audio and the host's preset validation at commit: the reference
validator) and the C99 reference in ``firmware/`` (framing, size and CRC checks only).
"""

from firmware_bridge.client import Capture, Client, PushResult
from firmware_bridge.device import DeviceConfig, DeviceModel
from firmware_bridge.emulator import Emulator
from firmware_bridge.errors import (BridgeError, DeviceNack, FrameError, LinkError, LinkTimeout, PresetError,
                                    ProtocolError, RequestError)
from firmware_bridge.framing import Frame, FrameReader
from firmware_bridge.messages import MsgType, Status

__all__ = ["BridgeError", "Capture", "Client", "DeviceConfig", "DeviceModel", "DeviceNack", "Emulator", "Frame",
           "FrameError", "FrameReader", "LinkError", "LinkTimeout", "MsgType", "PresetError", "ProtocolError",
           "PushResult", "RequestError", "Status"]
