"""Streamed bodies over HTTP: microweb beside Starlette, from the same run.

    python -m bench.streaming              # 5 s per figure
    python -m bench.streaming --quick      # 1 s per figure, 10 MiB for the memory run

Each framework is served by its own uvicorn (httptools, uvloop, one worker,
no access log) on 127.0.0.1, pinned to core 0 when ``taskset`` is there.
Three endpoints, the same in both apps:

- ``/file``    a 1 MiB file (``FileResponse``)
- ``/stream``  1 MiB made by an async generator, 64 chunks of 16 KiB
               (``StreamingResponse``)
- ``/big``     a 100 MiB file (``FileResponse``)

Every endpoint is first checked over HTTP (exact bytes). Then:

1. **throughput**: ``/file`` and ``/stream`` under load for ``--duration``
   seconds with ``--connections`` keep-alive connections, by ``wrk`` pinned to
   core 1 when it is installed, else by Python client processes; requests/s
   and MiB/s of body;
2. **memory**: 50 clients download ``/big`` at once (each reads as fast as it
   can); the server's VmRSS is sampled every 10 ms, before and during. A
   server that buffered the file would grow by gigabytes; a streaming one
   stays flat.

Bounded in time (every download has a timeout) and on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import FileResponse as StarletteFileResponse
from starlette.responses import StreamingResponse as StarletteStreamingResponse
from starlette.routing import Route

from microweb import App
from microweb.responses import FileResponse, StreamingResponse

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024
CHUNK = 16 * 1024
CHUNKS = 64  # 64 x 16 KiB = 1 MiB
STREAM_CHUNK = bytes(range(256)) * (CHUNK // 256)
FRAMEWORKS = ("microweb", "starlette")


# --- the apps (uvicorn --factory bench.streaming:<framework>_app) --------------------------


def _directory() -> Path:
    return Path(os.environ["BENCH_STREAMING_DIR"])


async def _chunks() -> AsyncIterator[bytes]:
    for _ in range(CHUNKS):
        yield STREAM_CHUNK


def microweb_app() -> App:
    app = App()
    small = FileResponse(_directory() / "small.bin")
    big = FileResponse(_directory() / "big.bin")

    @app.get("/file")
    async def file() -> FileResponse:
        return small

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        return StreamingResponse(_chunks(), media_type="application/octet-stream")

    @app.get("/big")
    async def get_big() -> FileResponse:
        return big

    return app


def starlette_app() -> Starlette:
    small, big = _directory() / "small.bin", _directory() / "big.bin"

    async def file(request: StarletteRequest) -> StarletteFileResponse:
        return StarletteFileResponse(small)

    async def stream(request: StarletteRequest) -> StarletteStreamingResponse:
        return StarletteStreamingResponse(_chunks(), media_type="application/octet-stream")

    async def get_big(request: StarletteRequest) -> StarletteFileResponse:
        return StarletteFileResponse(big)

    return Starlette(
        routes=[Route("/file", file), Route("/stream", stream), Route("/big", get_big)]
    )


# --- serving -------------------------------------------------------------------------------


def _pinned(core: int, command: list[str]) -> list[str]:
    if shutil.which("taskset") is None or (os.cpu_count() or 1) <= core:
        return command
    return ["taskset", "-c", str(core), *command]


def _free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


@dataclass
class Server:
    framework: str
    port: int
    process: subprocess.Popen[bytes]
    problems: list[str] = field(default_factory=list)

    def connection(self, timeout: float = 60) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(HOST, self.port, timeout=timeout)


@contextmanager
def serve(framework: str, directory: Path) -> Iterator[Server]:
    port = _free_port()
    command = _pinned(
        0,
        [
            sys.executable,
            *("-m", "uvicorn", "--factory", f"bench.streaming:{framework}_app"),
            *("--host", HOST, "--port", str(port), "--loop", "uvloop", "--http", "httptools"),
            *("--no-access-log", "--log-level", "warning"),
        ],
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BENCH_STREAMING_DIR": str(directory)}
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn serving {framework} did not start")
            try:
                with closing(socket.create_connection((HOST, port), timeout=1)):
                    break
            except OSError:
                time.sleep(0.05)
        yield Server(framework, port, process)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- clients --------------------------------------------------------------------------------


def download(server: Server, path: str, buffer: bytearray | None = None) -> int:
    """GET ``path`` on a fresh connection, reading into ``buffer``; returns the body size."""
    connection = server.connection()
    try:
        connection.request("GET", path)
        return _read(connection.getresponse(), buffer or bytearray(MiB))
    finally:
        connection.close()


def _read(response: http.client.HTTPResponse, buffer: bytearray) -> int:
    if response.status != 200:
        raise RuntimeError(f"status {response.status}")
    view, total = memoryview(buffer), 0
    while count := response.readinto(view):
        total += count
    return total


def _client_process(port: int, path: str, seconds: float, results: Any) -> None:
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    buffer, requests, received = bytearray(MiB), 0, 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        connection.request("GET", path)
        received += _read(connection.getresponse(), buffer)
        requests += 1
    connection.close()
    results.put((requests, received))


def load_python(
    server: Server, path: str, seconds: float, connections: int
) -> tuple[float, float]:
    """Requests/s and MiB/s from ``connections`` Python client processes."""
    results: Any = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=_client_process, args=(server.port, path, seconds, results))
        for _ in range(connections)
    ]
    for worker in workers:
        worker.start()
    totals = [results.get(timeout=seconds + 60) for _ in workers]
    for worker in workers:
        worker.join(10)
    requests = sum(t[0] for t in totals)
    received = sum(t[1] for t in totals)
    return requests / seconds, received / MiB / seconds


_UNITS = {"B": 1 / MiB, "KB": 1 / 1024, "MB": 1, "GB": 1024}


def load_wrk(server: Server, path: str, seconds: float, connections: int) -> tuple[float, float]:
    """Requests/s and MiB/s of body as ``wrk`` (pinned to core 1) measures them."""
    duration = f"-d{max(1, round(seconds))}s"
    url = f"http://{HOST}:{server.port}{path}"
    command = _pinned(1, ["wrk", "-t1", f"-c{connections}", duration, url])
    output = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 60, check=True
    ).stdout
    problems = re.findall(r"(Non-2xx or 3xx responses: \d+|Socket errors: .*)", output)
    if problems:
        # Reported, not fatal: on a shared machine a stall elsewhere shows up
        # here as timeouts. The figure is printed with the problem beside it.
        print(f"wrk, {server.framework} {path}: {'; '.join(problems)}", file=sys.stderr)
        server.problems.append(f"{path}: {'; '.join(problems)}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    amount, unit = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", output).groups()  # type: ignore[union-attr]
    return rps, float(amount) * _UNITS[unit]


# --- the memory run -------------------------------------------------------------------------


def memory_run(server: Server, clients: int, size: int) -> dict[str, float]:
    """Peak server RSS while ``clients`` download ``/big`` at once."""
    baseline = rss_kib(server.process.pid)
    peak = baseline
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, rss_kib(server.process.pid))
            time.sleep(0.01)

    sizes: list[int] = []
    errors: list[str] = []

    def client() -> None:
        try:
            sizes.append(download(server, "/big"))
        except Exception as exc:  # reported, not raised: a thread
            errors.append(f"{type(exc).__name__}: {exc}")

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    elapsed = time.monotonic() - start
    stop.set()
    sampler.join()
    if errors or sizes != [size] * clients:
        raise RuntimeError(f"{server.framework}: downloads failed: {errors[:3]}")
    return {
        "baseline_mib": baseline / 1024,
        "peak_mib": peak / 1024,
        "growth_mib": (peak - baseline) / 1024,
        "seconds": elapsed,
        "served_mib_per_s": clients * size / MiB / elapsed,
    }


# --- main -----------------------------------------------------------------------------------


def make_files(directory: Path, big_size: int) -> None:
    small = os.urandom(MiB)
    (directory / "small.bin").write_bytes(small)
    with (directory / "big.bin").open("wb") as big:
        block = os.urandom(MiB)
        for offset in range(0, big_size, MiB):
            big.write(block[: min(MiB, big_size - offset)])


def check(server: Server, directory: Path, big_size: int) -> None:
    """Exact bytes on every endpoint before any figure is taken."""
    for path, expected in [
        ("/file", (directory / "small.bin").read_bytes()),
        ("/stream", STREAM_CHUNK * CHUNKS),
    ]:
        connection = server.connection()
        connection.request("GET", path)
        body = connection.getresponse().read()
        connection.close()
        if body != expected:
            raise RuntimeError(f"{server.framework} {path}: wrong body ({len(body)} bytes)")
    if download(server, "/big") != big_size:
        raise RuntimeError(f"{server.framework} /big: wrong size")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per figure")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--clients", type=int, default=50, help="downloads at once (memory)")
    parser.add_argument("--big-mib", type=int, default=100)
    parser.add_argument("--quick", action="store_true", help="1 s per figure, a 10 MiB file")
    options = parser.parse_args(argv)
    if options.quick:
        options.duration, options.big_mib = 1.0, 10
    big_size = options.big_mib * MiB
    load: Callable[[Server, str, float, int], tuple[float, float]]
    if shutil.which("wrk"):
        load, client_name = load_wrk, "wrk -t1 (core 1)"
    else:
        load, client_name = load_python, "Python client processes"
    throughput: dict[tuple[str, str], tuple[float, float]] = {}
    memory: dict[str, dict[str, float]] = {}
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-streaming-") as name:
        directory = Path(name)
        make_files(directory, big_size)
        for framework in FRAMEWORKS:
            with serve(framework, directory) as server:
                check(server, directory, big_size)
                for path in ("/file", "/stream"):
                    load(server, path, min(1.0, options.duration), options.connections)  # warm-up
                    throughput[framework, path] = load(
                        server, path, options.duration, options.connections
                    )
                memory[framework] = memory_run(server, options.clients, big_size)
                problems += [f"{framework} {problem}" for problem in server.problems]

    seconds, connections = f"{options.duration:g} s", options.connections
    print(f"\nThroughput: {connections} connections, {seconds} each, {client_name}")
    print("| endpoint | " + " | ".join(f"{f} req/s | {f} MiB/s" for f in FRAMEWORKS) + " |")
    print("| --- |" + " --- | --- |" * len(FRAMEWORKS))
    for path, label in [("/file", "1 MiB file"), ("/stream", "1 MiB stream, 64 chunks")]:
        cells = " | ".join(
            f"{throughput[f, path][0]:,.0f} | {throughput[f, path][1]:,.0f}" for f in FRAMEWORKS
        )
        print(f"| {label} | {cells} |")
    size = f"{options.big_mib} MiB"
    print(f"\nServer memory: {options.clients} clients download a {size} file at once")
    print("| framework | RSS before (MiB) | peak RSS (MiB) | growth (MiB) | time (s) | MiB/s |")
    print("| --- | --- | --- | --- | --- | --- |")
    for framework in FRAMEWORKS:
        m = memory[framework]
        print(
            f"| {framework} | {m['baseline_mib']:.1f} | {m['peak_mib']:.1f} | "
            f"{m['growth_mib']:.1f} | {m['seconds']:.1f} | {m['served_mib_per_s']:,.0f} |"
        )
    if problems:
        print("\nProblems seen by the load generator (figures above include them):")
        for problem in problems:
            print(f"- {problem}")


if __name__ == "__main__":
    main()
