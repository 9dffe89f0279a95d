"""The JACK audio server from outside: start a dummy-driver server, list, connect and query ports.

Talks to JACK through the command-line clients of Debian's ``jackd2`` package (``jackd``,
``jack_wait``, ``jack_lsp``, ``jack_connect``), so no extra Python package is needed. The server
is chosen by name through ``$JACK_DEFAULT_SERVER`` (libjack reads it), which lets tests run a
private server beside any other.

Facts this relies on (jackd(1), jack_lsp(1)):

- ``jackd --no-realtime -a e -d dummy -r RATE -p FRAMES`` runs without audio hardware or D-Bus;
  ``-a e`` ignores clients' requests to connect themselves to other clients' ports, so
  PortAudio's automatic ``system:*`` connections are not made and the caller wires the ports;
- ``jackd -R -P PRIORITY ...`` runs the server's cycle thread with ``SCHED_FIFO`` at ``PRIORITY``
  and gives every client's process thread (through libjack: PortAudio's callback thread) FIFO
  at ``PRIORITY - 1``; where the caller may not use ``SCHED_FIFO`` jackd logs "Cannot use
  real-time scheduling" and runs on without it, so the policy is read back from the threads
  (:func:`thread_scheduling`), not assumed;
- ``jackd -S`` (synchronous mode) makes the server wait for the clients within the cycle: a late
  client is an xrun in the cycle it is late, not in the next one;
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


def thread_scheduling(tid: int) -> dict:
    """``{"policy": "SCHED_FIFO" | "SCHED_OTHER" | ..., "priority": int, "cpus": [int, ...]}`` of
    thread (or process) ``tid``, Linux ``sched_getscheduler(2)``/``sched_getaffinity(2)``;
    ``{}`` where the thread is gone or the platform has no such calls."""
    names = {getattr(os, n): n for n in ("SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_IDLE")
             if hasattr(os, n)}
    try:
        policy = os.sched_getscheduler(tid)
        return {"policy": names.get(policy, str(policy)), "priority": os.sched_getparam(tid).sched_priority,
                "cpus": sorted(os.sched_getaffinity(tid))}
    except (AttributeError, OSError):
        return {}


def realtime_allowed() -> bool:
    """Whether this process may put a thread under ``SCHED_FIFO`` (root or ``CAP_SYS_NICE`` or an
    ``RLIMIT_RTPRIO`` above 0, and, in a container, a real-time CPU share): tried on a throwaway
    thread, so nothing in this process changes."""
    if not hasattr(os, "sched_setscheduler"):
        return False
    import threading

    result = []

    def attempt():
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
            result.append(True)
        except OSError:
            result.append(False)

    t = threading.Thread(target=attempt, name="hearsep-rt-probe")
    t.start()
    t.join()
    return bool(result and result[0])


class JackServer:
    """A private JACK server with the dummy driver, as a context manager.

    ``JackServer(rate_hz=16000, period_frames=32, name="hearsep-test")``: starts ``jackd`` with
    autoconnect requests ignored, waits until it answers, and points ``$JACK_DEFAULT_SERVER`` (of
    this process, hence its children and PortAudio initialised afterwards) at it; on exit stops the
    server and restores the variable. The dummy driver's clock is the system clock; its capture
    ports deliver silence and its playback ports discard what they get.

    ``realtime``: ``False`` (default) runs ``--no-realtime``; ``True`` asks for ``-R -P priority``
    (server cycle thread at ``priority``, clients' process threads at ``priority - 1``, FIFO);
    ``None`` asks for it where :func:`realtime_allowed`. After :meth:`start`,
    :attr:`realtime_active` says whether the server's threads really run ``SCHED_FIFO`` (jackd
    falls back silently where it may not). ``sync``: synchronous mode (``-S``). ``nperiods`` is
    not a dummy-driver option: its buffering is one period each way.
    """

    def __init__(self, rate_hz: int = 16000, period_frames: int = 32, name: str | None = None, *,
                 realtime: bool | None = False, priority: int = 70, sync: bool = False):
        self.rate_hz, self.period_frames = int(rate_hz), int(period_frames)
        self.name = name or f"hearsep-{os.getpid()}-{self.rate_hz}"
        self.realtime_requested = realtime_allowed() if realtime is None else bool(realtime)
        self.priority, self.sync = int(priority), bool(sync)
        self.realtime_active = False
        self.process: subprocess.Popen | None = None
        self._previous: str | None = None

    @property
    def flags(self) -> list[str]:
        """The server's options before the driver's (``-d dummy ...``)."""
        mode = ["-R", "-P", str(self.priority)] if self.realtime_requested else ["--no-realtime"]
        return mode + (["-S"] if self.sync else []) + ["-a", "e"]

    def thread_policies(self) -> dict[int, dict]:
        """:func:`thread_scheduling` of each of the server's threads, by thread id."""
        if self.process is None:
            return {}
        try:
            tids = [int(t) for t in os.listdir(f"/proc/{self.process.pid}/task")]
        except OSError:
            return {}
        return {tid: info for tid in tids if (info := thread_scheduling(tid))}

    def describe(self) -> str:
        """One line: the server's scheduling as asked for and as found."""
        if not self.realtime_requested:
            mode = "not real-time (--no-realtime)"
        elif self.realtime_active:
            mode = f"real-time (SCHED_FIFO, server priority {self.priority})"
        else:
            mode = "real-time asked for (-R) but NOT granted: the server runs SCHED_OTHER"
        return f"jackd {mode}{', synchronous (-S)' if self.sync else ', asynchronous'}"

    def start(self) -> "JackServer":
        jackd = _tool("jackd")
        # jackd logs every xrun: a file, not a pipe that could fill up and stall the server
        self._log = tempfile.TemporaryFile("w+")
        self.process = subprocess.Popen(
            [jackd, "-n", self.name, *self.flags, "-d", "dummy",
             "-r", str(self.rate_hz), "-p", str(self.period_frames)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self._log)
        waited = _run([_tool("jack_wait"), "-w", "-t", str(int(_TIMEOUT_S))], env=_env(self.name))
        if waited.returncode != 0 or self.process.poll() is not None:
            reason = self._stop_and_read()
            raise LiveAudioError(f"jackd did not start ({reason or waited.stdout.strip() or 'no reason given'})")
        self._previous = os.environ.get("JACK_DEFAULT_SERVER")
        os.environ["JACK_DEFAULT_SERVER"] = self.name
        self.realtime_active = any(t.get("policy") in ("SCHED_FIFO", "SCHED_RR")
                                   for t in self.thread_policies().values())
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
