"""Serving a benchmark app with uvicorn or granian on 127.0.0.1, pinned to one core.

``serve(app, server=...)`` starts the app's factory (``bench.apps.<app>:create_app``)
under ``taskset -c 0`` (the load generator gets the other core), waits until it
answers HTTP, and stops it (SIGTERM, then SIGKILL after 10 s) when the block
ends. The two servers are set up to match, one worker each, no access log:

- **uvicorn**: ``--loop uvloop --http httptools --workers 1``; the app runs in
  the process uvicorn starts.
- **granian** (its ASGI interface, which runs the lifespan): ``--workers 1
  --runtime-mode st --runtime-threads 1 --blocking-threads 1 --loop uvloop
  --http 1``: one worker process with one single-threaded Rust runtime and
  one Python thread running the app on uvloop, HTTP/1.1 only (what uvicorn
  speaks). Granian's main process only supervises: the worker it starts
  runs the app, inherits the core it is pinned to, and is what
  ``Server.pid`` names, so the CPU time and RSS read are the worker's.

``RssSampler`` reads the server's VmRSS from /proc in a thread.
"""

from __future__ import annotations

import http.client
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import apps as registry

HOST = "127.0.0.1"  # loopback only: the machine's rules, and the point of the test
SERVERS = ("uvicorn", "granian")
SERVER_CORE = 0
CLIENT_CORE = 1
ROOT = Path(__file__).resolve().parent.parent


def pinned(core: int, command: list[str]) -> list[str]:
    """``command`` under ``taskset -c core`` when there is a core to pin to."""
    if shutil.which("taskset") is None or (os.cpu_count() or 1) <= core:
        return command
    return ["taskset", "-c", str(core), *command]


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def installed(server: str) -> bool:
    """Whether ``server`` (one of ``SERVERS``) is importable here."""
    return importlib.util.find_spec(server) is not None


def command(server: str, app: str, port: int) -> list[str]:
    """The command that serves ``app`` on ``port`` with ``server``, one worker."""
    where = ["--host", HOST, "--port", str(port)]
    if server == "uvicorn":
        return [
            *(sys.executable, "-m", "uvicorn", "--factory", registry.factory(app), *where),
            *("--loop", "uvloop", "--http", "httptools", "--workers", "1"),
            *("--no-access-log", "--log-level", "warning"),
        ]
    if server == "granian":
        return [
            *(sys.executable, "-m", "granian", "--interface", "asgi", "--factory", *where),
            *("--workers", "1", "--runtime-mode", "st", "--runtime-threads", "1"),
            *("--blocking-threads", "1", "--loop", "uvloop", "--http", "1"),
            *("--no-access-log", "--log-level", "warning", registry.factory(app)),
        ]
    raise ValueError(f"unknown server {server!r}; expected one of {', '.join(SERVERS)}")


@dataclass
class Server:
    app: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    kind: str = "uvicorn"  # one of SERVERS
    pid: int = 0  # the process that runs the app (granian's worker), known once it answers

    def connection(self, timeout: float = 30) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(HOST, self.port, timeout=timeout)

    def rss_kib(self) -> int:
        return read_rss_kib(self.pid)

    def thread_cpu(self) -> dict[int, int]:
        """On-CPU ns so far of each thread of the process that runs the app (``thread_cpu``)."""
        return thread_cpu(self.pid)

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    def errors(self) -> str:
        """What the server logged (warnings and errors only: the log level is warning)."""
        return self.log.read_text(errors="replace")


@contextmanager
def serve(
    app: str, port: int | None = None, core: int = SERVER_CORE, server: str = "uvicorn"
) -> Iterator[Server]:
    """``app`` served by ``server`` (uvicorn or granian) on 127.0.0.1, pinned to ``core``."""
    port = port or free_port()
    argv = pinned(core, command(server, app, port))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "0"}
    log_name = f"{server}-{app}-"
    with tempfile.NamedTemporaryFile(prefix=log_name, suffix=".log", delete=False) as log:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=log)
    served = Server(app, port, process, Path(log.name), server)
    try:
        _wait_until_up(served)
        yield served
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(server: Server, timeout: float = 60) -> None:
    """Wait until ``server`` answers ``GET /plaintext``; then set ``server.pid``.

    An accepted connection is not enough: granian's main process listens
    before its worker has built the app.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.kind} serving {server.app} exited:\n{server.errors()[-3000:]}"
            )
        connection = server.connection(timeout=max(deadline - time.monotonic(), 0.1))
        try:
            connection.request("GET", "/plaintext")
            connection.getresponse().read()
        except (OSError, http.client.HTTPException):
            time.sleep(0.05)
            continue
        finally:
            connection.close()
        server.pid = _app_process(server)
        return
    raise TimeoutError(f"{server.kind} serving {server.app} did not answer in {timeout} s")


def _app_process(server: Server) -> int:
    """The pid of the process that runs the app: granian's one worker, else the server's."""
    pid = server.process.pid
    if server.kind != "granian":
        return pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    if len(children) != 1:
        raise RuntimeError(f"granian serving {server.app}: {len(children)} workers, not 1")
    return int(children[0])


def thread_cpu(pid: int) -> dict[int, int]:
    """Thread id -> nanoseconds on a CPU so far, for each live thread of process ``pid``.

    From ``/proc/<pid>/task/<tid>/schedstat`` (ns), not the clock ticks of
    ``/proc/<pid>/stat`` (10 ms: too coarse for a round of a second or for a
    few WebSocket messages). Read it before and after, and take ``cpu_used``.
    """
    found = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return {}
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as stat:
                found[int(tid)] = int(stat.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass  # the thread ended meanwhile
    return found


def cpu_used(before: dict[int, int], after: dict[int, int]) -> float:
    """Seconds of CPU the threads used between two ``thread_cpu`` readings.

    Counted thread by thread, over the threads alive at the end: a worker
    thread that ended in between (an idle pool thread retiring) takes away
    none of the others' time, and had little of its own to add.
    """
    return sum(ns - before.get(tid, 0) for tid, ns in after.items()) / 1e9


def machine_busy(window: float = 0.5) -> float:
    """The share of all cores' time spent busy over ``window`` seconds (from /proc/stat)."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
        idle = values[3] + values[4]  # idle + iowait
        return sum(values) - idle, sum(values)

    busy_before, total_before = sample()
    time.sleep(window)
    busy_after, total_after = sample()
    return (busy_after - busy_before) / max(total_after - total_before, 1)


def wait_for_quiet(threshold: float = 0.1, max_wait: float = 120.0) -> float:
    """Wait (at most ``max_wait`` s) until the machine is idle; returns the seconds waited.

    Call it while the benchmark itself is idle: whatever keeps the machine
    busier than ``threshold`` then is someone else's work, which would take
    the cores a measurement pins.
    """
    start = time.monotonic()
    while machine_busy() > threshold and time.monotonic() - start < max_wait:
        time.sleep(1.5)
    return time.monotonic() - start


def read_rss_kib(pid: int) -> int:
    """The VmRSS of process ``pid`` in KiB (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


class RssSampler:
    """The peak VmRSS of a process while the block runs, sampled every ``interval`` s."""

    def __init__(self, pid: int, interval: float = 0.01) -> None:
        self.pid = pid
        self.interval = interval
        self.peak_kib = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self.peak_kib = read_rss_kib(self.pid)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_kib = max(self.peak_kib, read_rss_kib(self.pid))

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, read_rss_kib(self.pid))
            self.samples += 1
            self._stop.wait(self.interval)
