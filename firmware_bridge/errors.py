"""Exceptions of the firmware link, one family under :class:`hearsep.errors.HearsepError`."""

from __future__ import annotations

from hearsep.errors import HearsepError


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
    """The device answered a request with a non-zero status (a NACK)."""

    def __init__(self, request: str, status: int):
        from firmware_bridge.messages import Status

        try:
            name = Status(status).name
        except ValueError:
            name = f"status {status}"
        super().__init__(f"device refused {request}: {name} ({status})")
        self.status = status


class ProtocolError(BridgeError):
    """The device sent a well-formed frame whose content makes no sense (wrong length, version)."""


class PresetError(BridgeError):
    """A preset blob is too large, not UTF-8, or not valid TOML."""
