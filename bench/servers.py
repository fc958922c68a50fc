"""Serving a benchmark app with uvicorn on 127.0.0.1, pinned to one core.

``serve()`` starts ``uvicorn --factory bench.apps.<app>:create_app`` with
httptools and uvloop, one worker, no access log, under ``taskset -c 0`` (the
load generator gets the other core), waits until it accepts connections,
and stops it (SIGTERM, then SIGKILL after 10 s) when the block ends.
``RssSampler`` reads the server's VmRSS from /proc in a thread.
"""

from __future__ import annotations

import http.client
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


@dataclass
class Server:
    app: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def connection(self, timeout: float = 30) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(HOST, self.port, timeout=timeout)

    def rss_kib(self) -> int:
        return read_rss_kib(self.process.pid)

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    def errors(self) -> str:
        """What the server logged (warnings and errors only: the log level is warning)."""
        return self.log.read_text(errors="replace")


@contextmanager
def serve(app: str, port: int | None = None, core: int = SERVER_CORE) -> Iterator[Server]:
    port = port or free_port()
    command = pinned(
        core,
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            registry.factory(app),
            "--host",
            HOST,
            "--port",
            str(port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--workers",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "0"}
    with tempfile.NamedTemporaryFile(prefix=f"uvicorn-{app}-", suffix=".log", delete=False) as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    server = Server(app, port, process, Path(log.name))
    try:
        _wait_until_up(server)
        yield server
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
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"uvicorn serving {server.app} exited:\n{server.errors()[-3000:]}")
        try:
            with closing(socket.create_connection((HOST, server.port), timeout=1)):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"uvicorn serving {server.app} did not accept connections in {timeout} s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` and all its threads so far (0 once gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    # Fields 14 and 15 of proc(5) (utime, stime); fields[0] here is field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
