"""The JACK audio server from outside: start a dummy-driver server, list, connect and query ports.

Talks to JACK through the command-line clients of Debian's ``jackd2`` package (``jackd``,
``jack_wait``, ``jack_lsp``, ``jack_connect``), so no extra Python package is needed. The server
is chosen by name through ``$JACK_DEFAULT_SERVER`` (libjack reads it), which lets tests run a
private server beside any other.

Facts this relies on (jackd(1), jack_lsp(1)):

- ``jackd --no-realtime -a e -d dummy -r RATE -p FRAMES`` runs without audio hardware or D-Bus;
  ``-a e`` ignores clients' requests to connect themselves to other clients' ports, so
  PortAudio's automatic ``system:*`` connections are not made and the caller wires the ports;
- ``jack_wait -w -t SECONDS`` returns once the server answers;
- ``jack_lsp -l PORT`` prints the port's latency ranges in frames: ``port capture latency`` (input
  to this port from the source) and ``port playback latency`` (from this port to the sink).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time

from hearsep.errors import LiveAudioError

_TIMEOUT_S = 10.0


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise LiveAudioError(f"{name} not found; install the Debian package jackd2 (apt-get install jackd2)")
    return path


def _run(args: list[str], env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=_TIMEOUT_S, env=env)


def jack_available() -> bool:
    """Whether the JACK server and its command-line clients are installed."""
    return all(shutil.which(t) for t in ("jackd", "jack_wait", "jack_lsp", "jack_connect"))


def server_running(server: str | None = None) -> bool:
    """Whether the JACK server (``server``, else ``$JACK_DEFAULT_SERVER`` or the default) answers."""
    if shutil.which("jack_wait") is None:
        return False
    return _run([_tool("jack_wait"), "-c"], env=_env(server)).stdout.strip() == "running"


def _env(server: str | None) -> dict | None:
    if server is None:
        return None
    env = dict(os.environ)
    env["JACK_DEFAULT_SERVER"] = server
    return env


def ports() -> list[str]:
    """Every port of the current server, in registration order."""
    out = _run([_tool("jack_lsp")])
    if out.returncode != 0:
        raise LiveAudioError("the JACK server is not running (jack_lsp could not connect)")
    return [line.strip() for line in out.stdout.splitlines() if line.strip()]


def connect(source: str, destination: str) -> None:
    """Connect output port ``source`` to input port ``destination`` (already connected is fine)."""
    out = _run([_tool("jack_connect"), source, destination])
    if out.returncode != 0 and "already" not in (out.stderr + out.stdout).lower():
        raise LiveAudioError(f"cannot connect JACK ports {source} -> {destination}: "
                             f"{(out.stderr or out.stdout).strip().splitlines()[-1:] or 'no reason given'}")


def disconnect(source: str, destination: str) -> None:
    """Undo a connection (absent is fine)."""
    _run([_tool("jack_disconnect"), source, destination])


def connections(port: str) -> list[str]:
    """The ports connected to ``port``."""
    out = _run([_tool("jack_lsp"), "-c", port])
    lines = out.stdout.splitlines()
    return [line.strip() for line in lines[1:] if line.startswith((" ", "\t"))]


def port_latency_frames(port: str) -> dict[str, tuple[int, int]]:
    """``{"capture": (min, max), "playback": (min, max)}``: the port's latency ranges in frames."""
    out = _run([_tool("jack_lsp"), "-l", port]).stdout
    result = {}
    for kind in ("capture", "playback"):
        m = re.search(rf"port {kind} latency = \[ (\d+) (\d+) \]", out)
        result[kind] = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    return result


class JackServer:
    """A private JACK server with the dummy driver, as a context manager.

    ``JackServer(rate_hz=16000, period_frames=32, name="hearsep-test")``: starts ``jackd`` with
    autoconnect requests ignored, waits until it answers, and points ``$JACK_DEFAULT_SERVER`` (of
    this process, hence its children and PortAudio initialised afterwards) at it; on exit stops the
    server and restores the variable. The dummy driver's clock is the system clock; its capture
    ports deliver silence and its playback ports discard what they get.
    """

    def __init__(self, rate_hz: int = 16000, period_frames: int = 32, name: str | None = None):
        self.rate_hz, self.period_frames = int(rate_hz), int(period_frames)
        self.name = name or f"hearsep-{os.getpid()}-{self.rate_hz}"
        self.process: subprocess.Popen | None = None
        self._previous: str | None = None

    def start(self) -> "JackServer":
        jackd = _tool("jackd")
        # jackd logs every xrun: a file, not a pipe that could fill up and stall the server
        self._log = tempfile.TemporaryFile("w+")
        self.process = subprocess.Popen(
            [jackd, "-n", self.name, "--no-realtime", "-a", "e", "-d", "dummy",
             "-r", str(self.rate_hz), "-p", str(self.period_frames)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._log)
        waited = _run([_tool("jack_wait"), "-w", "-t", str(int(_TIMEOUT_S))], env=_env(self.name))
        if waited.returncode != 0 or self.process.poll() is not None:
            reason = self._stop_and_read()
            raise LiveAudioError(f"jackd did not start ({reason or waited.stdout.strip() or 'no reason given'})")
        self._previous = os.environ.get("JACK_DEFAULT_SERVER")
        os.environ["JACK_DEFAULT_SERVER"] = self.name
        return self

    def _stop_and_read(self) -> str:
        if self.process is None:
            return ""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.seek(0)
        err = self._log.read()
        self._log.close()
        self.process = None
        return " ".join(err.strip().splitlines()[-1:])

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s) and restore ``$JACK_DEFAULT_SERVER``.

        PortAudio, if this process loaded it, is terminated first (it must not outlive its server)."""
        from hearsep.live.portaudio import release_portaudio

        release_portaudio()
        self._stop_and_read()
        if self._previous is None:
            os.environ.pop("JACK_DEFAULT_SERVER", None)
        else:
            os.environ["JACK_DEFAULT_SERVER"] = self._previous
        # the server removes its socket asynchronously; give libjack a moment before a restart
        time.sleep(0.05)

    def __enter__(self) -> "JackServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
