"""Transport layer: open a pyserial port by URL and feed its bytes into a framing protocol.

Following pyserial's ``serial.threaded``: a :class:`serial.threaded.ReaderThread` reads the port
and calls :meth:`FramedProtocol.data_received`; subclasses override only :meth:`handle_frame`.
"""

from __future__ import annotations

import serial
import serial.threaded

from firmware_bridge.errors import LinkError
from firmware_bridge.framing import Frame, FrameReader

DEFAULT_BAUDRATE = 921_600


def open_port(url: str, baudrate: int = DEFAULT_BAUDRATE) -> serial.SerialBase:
    """Open ``url`` (a device path, ``loop://``, ``socket://host:port``...) raw, 8N1, no flow control."""
    try:
        port = serial.serial_for_url(url, baudrate=baudrate, timeout=1, write_timeout=2)
    except (serial.SerialException, ValueError, OSError) as exc:
        raise LinkError(f"cannot open {url}: {exc}") from None
    try:
        port.reset_input_buffer()
    except (serial.SerialException, OSError, AttributeError):
        pass
    return port


class FramedProtocol(serial.threaded.Protocol):
    """Bytes in, frames out. Override :meth:`handle_frame` (called on the reader thread)."""

    def __init__(self) -> None:
        self.reader = FrameReader()
        self.rx_bytes = 0
        self.transport = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.rx_bytes += len(data)
        for frame in self.reader.feed(data):
            self.handle_frame(frame)

    def handle_frame(self, frame: Frame) -> None:
        raise NotImplementedError
