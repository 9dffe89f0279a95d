"""A real JACK server (dummy driver) for the live tests: started once per session, stopped at the end.

Tests that use ``jack_server`` skip, with the reason, only where jackd is not installed (CI
installs Debian's jackd2, see .ci/run). The server has a private name (``$JACK_DEFAULT_SERVER``
points at it while it runs), so it never meets another JACK server on the machine. It runs
``--no-realtime`` wherever the tests run (CI containers often may not use ``SCHED_FIFO``), so the
tests meet the same server everywhere; the real-time server (``jackd -R``, what the soak uses) has
its own tests in test_live_jack.py, which skip, or check the fallback, where real-time is refused.
"""

from __future__ import annotations

import os

import pytest

#: the issue's conditions: 16 kHz, 32-frame (2 ms) periods
RATE_HZ, PERIOD_FRAMES = 16000, 32


def _skip_without_jack():
    from hearsep.live.jack import jack_available

    if not jack_available():
        pytest.skip("jackd is not installed (Debian: apt-get install jackd2); .ci/run installs it")


@pytest.fixture(scope="session")
def jack_server():
    """A running JACK dummy server at 16 kHz / 32 frames; yields the :class:`JackServer`."""
    _skip_without_jack()
    from hearsep.live.jack import JackServer

    with JackServer(RATE_HZ, PERIOD_FRAMES, name=f"hearsep-test-{os.getpid()}", realtime=False) as server:
        yield server


@pytest.fixture()
def jack_server_48k(jack_server):
    """A second server at 48 kHz / 96 frames (2 ms), the current one while the test runs."""
    from hearsep.live.jack import JackServer

    with JackServer(48000, 96, name=f"hearsep-test-{os.getpid()}-48k") as server:
        yield server
    # back on the session server: PortAudio re-initialises on its next use (hearsep.live refreshes)
