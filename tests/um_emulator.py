"""A RuiDeng UM-series meter on a pseudo-terminal: answers each 0xF0 with a 130-byte frame.

``mode``: "ok" (valid frames at ``voltage_v``/``current_a``), "silent" (never answers),
"garbage" (130 bytes with a bad model id), "disconnect_after=N" behaviour via ``answers``:
after that many answers the master side is closed (the meter walks away mid-run).
"""

from __future__ import annotations

import os
import threading

from hearsep.profiling.um_meter import FRAME_BYTES, encode_frame


class PtyMeter:
    def __init__(self, model: str = "UM25C", voltage_v: float = 5.1, current_a: float = 0.45,
                 mode: str = "ok", answers: int | None = None):
        self.model, self.voltage_v, self.current_a, self.mode, self.answers = model, voltage_v, current_a, mode, answers
        self.master, slave = os.openpty()
        self.port = os.ttyname(slave)
        self._slave = slave
        self.polls = 0
        self._stopped = False
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        import termios
        import tty

        tty.setraw(self._slave)  # no echo, no line discipline: bytes pass as they are
        attrs = termios.tcgetattr(self._slave)
        termios.tcsetattr(self._slave, termios.TCSANOW, attrs)
        self._thread.start()
        return self

    def _serve(self):
        while True:
            try:
                b = os.read(self.master, 1)
            except OSError:
                return
            if not b or self._stopped:
                return
            if b != b"\xf0":
                continue
            self.polls += 1
            if self.mode == "silent":
                continue
            if self.answers is not None and self.polls > self.answers:
                os.close(self.master)
                return
            frame = (b"\x12\x34" + bytes(FRAME_BYTES - 2)) if self.mode == "garbage" else \
                encode_frame(self.model, self.voltage_v, self.current_a)
            os.write(self.master, frame)

    def __exit__(self, *exc):
        # The serving thread must be gone before the master fd is closed: a later PtyMeter's
        # openpty() reuses the fd number, and a thread still reading it would answer that meter's
        # polls (a "silent" meter then seemed to answer). Closing the slave ends its read (EIO).
        self._stopped = True
        for fd in (self._slave, self.master):
            try:
                os.close(fd)
            except OSError:
                pass
            self._thread.join(timeout=1.0)
