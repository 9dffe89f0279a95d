"""Exceptions of the firmware link, one family under :class:`hearsep.errors.HearsepError`,
and the protocol's status codes (:class:`Status`), which a :class:`DeviceNack` carries.

This module imports nothing else from :mod:`firmware_bridge`; the message layer imports it.
"""

from __future__ import annotations

import enum

from hearsep.errors import HearsepError


class Status(enum.IntEnum):
    """Status byte of a reply (PROTOCOL.md section 3): 0 is an ACK, anything else a NACK."""

    OK = 0
    UNKNOWN_TYPE = 1   # no such request type
    BAD_VERSION = 2    # header version is not PROTOCOL_VERSION
    BAD_LENGTH = 3     # payload length wrong for the request type
    BAD_ARG = 4        # an argument is out of range (slot, program, volume, duration)
    BUSY = 5           # a capture is running
    NO_TRANSFER = 6    # PRESET_WRITE/COMMIT without a matching PRESET_BEGIN
    BAD_OFFSET = 7     # PRESET_WRITE beyond the bytes staged so far
    TOO_LARGE = 8      # preset larger than the device's store
    CRC_MISMATCH = 9   # staged preset does not match the CRC given at BEGIN/COMMIT
    INCOMPLETE = 10    # COMMIT before all bytes were written
    EMPTY_SLOT = 11    # PRESET_READ of a slot that holds no preset
    BAD_PRESET = 12    # staged preset refused by the device's content check; data: the reason, UTF-8


class BridgeError(HearsepError):
    """Base class: the link to a device failed or the device refused a request."""


class LinkError(BridgeError):
    """The port cannot be opened, was closed, or the transport failed."""


class LinkTimeout(BridgeError):
    """The device did not answer a request within the timeout, after all retries."""


class FrameError(BridgeError):
    """Bytes on the wire do not form a valid frame; ``kind`` names the check that failed."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


class DeviceNack(BridgeError):
    """The device answered a request with a non-zero status (a NACK).

    ``hint`` (e.g. the valid range of the refused argument) is appended to the message;
    ``data`` holds the reply bytes after the status byte.
    """

    def __init__(self, request: str, status: int, hint: str = "", data: bytes = b""):
        try:
            name = Status(status).name
        except ValueError:
            name = f"status {status}"
        super().__init__(f"device refused {request}: {name} ({status})" + (f"; {hint}" if hint else ""))
        self.status = status
        self.data = data


class RequestError(BridgeError):
    """A request argument or client setting is out of range; nothing was sent to the device."""


class ProtocolError(BridgeError):
    """The device sent a well-formed frame whose content makes no sense (wrong length, version)."""


class PresetError(BridgeError):
    """A preset blob is empty, too large, not UTF-8, or not a preset the host accepts (hearsep.fitting)."""
