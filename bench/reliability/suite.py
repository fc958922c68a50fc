"""The load and fault checks, each against a fresh uvicorn on 127.0.0.1.

Every loop is bounded in count and time and stops by itself; the only
address ever contacted is the loopback server this module starts. A check
returns rows for the Markdown table: what was done, the figure, and whether
it held.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
APP = "bench.reliability.app:app"
HOST = "127.0.0.1"


@dataclass
class Scale:
    """How hard each check pushes; ``quick`` is a smoke run of the same checks."""

    load_seconds: int = 10
    connections: int = 256
    sse_clients: int = 1000
    sse_seconds: float = 30.0
    sse_ping: float = 0.5
    kills: int = 1000
    raises: int = 10_000
    background: int = 1000
    concurrency: int = 50

    @classmethod
    def quick(cls) -> Scale:
        return cls(
            load_seconds=3,
            sse_clients=200,
            sse_seconds=4.0,
            kills=100,
            raises=1000,
            background=100,
        )


@dataclass
class Row:
    check: str
    figure: str
    ok: bool


@dataclass
class Server:
    """uvicorn serving the reliability app, with its own TMPDIR and a log file."""

    process: subprocess.Popen[bytes]
    port: int
    tmpdir: Path
    log: Path
    url: str = field(init=False)

    def __post_init__(self) -> None:
        self.url = f"http://{HOST}:{self.port}"

    def debug(self) -> dict[str, Any]:
        answer = httpx.get(self.url + "/debug", timeout=10)
        answer.raise_for_status()
        data: dict[str, Any] = answer.json()
        return data

    def rss_kib(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        found = re.search(r"VmRSS:\s+(\d+)", status)
        return int(found.group(1)) if found else 0

    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))

    def temp_files(self) -> int:
        """Files in the server's TMPDIR, named or not.

        ``tempfile.TemporaryFile`` on Linux opens with O_TMPFILE: the file has
        no name in the folder, only an open descriptor pointing into it. So
        count both the names and the descriptors that point there.
        """
        named = sum(1 for _ in self.tmpdir.rglob("*"))
        unnamed = 0
        folder = f"/proc/{self.process.pid}/fd"
        for fd in os.listdir(folder):
            with contextlib.suppress(OSError):
                target = os.readlink(f"{folder}/{fd}")
                unnamed += target.startswith(str(self.tmpdir)) and "(deleted)" in target
        return named + unnamed

    def healthy(self) -> bool:
        try:
            return httpx.get(self.url + "/", timeout=5).text == "ok"
        except httpx.HTTPError:
            return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def serve(workdir: Path) -> Iterator[Server]:
    """Start uvicorn; always stop it (SIGTERM, then SIGKILL after 10 s)."""
    port = free_port()
    tmpdir = Path(tempfile.mkdtemp(prefix="tmp-", dir=workdir))
    log = workdir / f"uvicorn-{port}.log"
    env = {**os.environ, "TMPDIR": str(tmpdir), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "uvicorn", APP, "--host", HOST, "--port", str(port)]
    command += ["--log-level", "warning", "--backlog", "4096", "--timeout-keep-alive", "30"]
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    server = Server(process, port, tmpdir, log)
    try:
        deadline = time.monotonic() + 20
        while not server.healthy():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start:\n{log.read_text()}")
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def settle(server: Server, baseline: dict[str, Any], seconds: float = 10.0) -> dict[str, Any]:
    """/debug once the open streams and tasks are back to the baseline (or time is up)."""
    deadline = time.monotonic() + seconds
    while True:
        now = server.debug()
        back = (
            now["streams_open"] == 0
            and now["sse_clients"] == 0
            and now["tasks"] <= baseline["tasks"]
            and now["fds"] <= baseline["fds"]
        )
        if back or time.monotonic() > deadline:
            return now
        time.sleep(0.2)


# --- 1. held load -----------------------------------------------------------------------


def check_load(server: Server, scale: Scale) -> list[Row]:
    seconds, connections = scale.load_seconds, scale.connections
    if shutil.which("wrk"):
        command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
        output = subprocess.run(
            [*command, server.url + "/"],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
            check=True,
        ).stdout
        rate = float(_find(r"Requests/sec:\s+([\d.]+)", output))
        total = int(_find(r"(\d+) requests in", output))
        socket_errors = re.search(r"Socket errors:.*", output)
        non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
        p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
        errors = (
            0 if socket_errors is None else sum(map(int, re.findall(r"\d+", socket_errors[0])))
        )
        errors += 0 if non_2xx is None else int(non_2xx.group(1))
        tool = "wrk"
    else:
        total, errors, rate = asyncio.run(_python_load(server.url, connections, seconds))
        p99, tool = None, "httpx"
    figure = f"{total:,} requests in {seconds} s ({rate:,.0f}/s, {tool}), {errors} errors" + (
        f", p99 {p99.group(1)}" if p99 else ""
    )
    return [Row(f"{connections} concurrent connections held {seconds} s", figure, errors == 0)]


def _find(pattern: str, text: str) -> str:
    found = re.search(pattern, text)
    if found is None:
        raise RuntimeError(f"no {pattern!r} in wrk's output:\n{text}")
    return found.group(1)


async def _python_load(url: str, connections: int, seconds: float) -> tuple[int, int, float]:
    limits = httpx.Limits(max_connections=connections)
    done = errors = 0
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10) as client:

        async def worker() -> None:
            nonlocal done, errors
            while time.monotonic() < deadline:
                try:
                    ok = (await client.get("/")).status_code == 200
                except httpx.HTTPError:
                    ok = False
                done += 1
                errors += not ok

        await asyncio.gather(*(worker() for _ in range(connections)))
    return done, errors, done / seconds


# --- 2. many SSE clients ------------------------------------------------------------------


async def _sse_client(port: int, ping: float, hold: float, ready: asyncio.Event) -> int:
    """Connect, wait until every client is connected, then count pings for ``hold`` s."""
    reader, writer = await asyncio.open_connection(HOST, port)
    pings = 0
    try:
        writer.write(f"GET /sse?ping={ping} HTTP/1.1\r\nhost: bench\r\n\r\n".encode())
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        if not head.startswith(b"HTTP/1.1 200"):
            return -1
        await ready.wait()
        deadline = asyncio.get_running_loop().time() + hold
        while (left := deadline - asyncio.get_running_loop().time()) > 0:
            try:
                chunk = await asyncio.wait_for(reader.read(4096), left)
            except asyncio.TimeoutError:
                break
            if not chunk:
                break
            pings += chunk.count(b": ping")
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    return pings


async def _sse_run(server: Server, scale: Scale) -> tuple[list[int], list[int], float]:
    ready = asyncio.Event()
    begin = time.monotonic()
    clients = [
        asyncio.create_task(_sse_client(server.port, scale.sse_ping, scale.sse_seconds, ready))
        for _ in range(scale.sse_clients)
    ]
    # Every stream is open once the app counts them all (bounded wait).
    while time.monotonic() - begin < 60:
        opened = (await asyncio.to_thread(server.debug))["sse_clients"]
        if opened >= scale.sse_clients:
            break
        await asyncio.sleep(0.2)
    connect_time = time.monotonic() - begin
    ready.set()
    rss: list[int] = []
    while not all(client.done() for client in clients):
        rss.append(server.rss_kib())
        await asyncio.sleep(1.0)
    return [client.result() for client in clients], rss, connect_time


def check_sse(server: Server, scale: Scale) -> list[Row]:
    before = server.debug()
    idle_mib = server.rss_kib() / 1024
    pings, rss, connect_time = asyncio.run(_sse_run(server, scale))
    after = settle(server, before)
    expected = int(scale.sse_seconds / scale.sse_ping) - 2  # slack for the edges
    receiving = sum(count >= expected for count in pings)
    connected = sum(count >= 0 for count in pings)
    rss_mib = [kib / 1024 for kib in rss]
    # Flat: the second half of the hold adds under 5 % over the first sample.
    flat = bool(rss_mib) and max(rss_mib) <= rss_mib[0] * 1.05 + 1
    return [
        Row(
            f"{scale.sse_clients:,} SSE clients held {scale.sse_seconds:g} s "
            f"(ping every {scale.sse_ping:g} s)",
            f"{connected:,} connected in {connect_time:.1f} s; {receiving:,} got ≥ {expected} "
            f"pings (min {min(pings)}, max {max(pings)})",
            receiving == scale.sse_clients,
        ),
        Row(
            "server RSS during the SSE hold",
            f"idle {idle_mib:.1f} MiB; all connected {rss_mib[0]:.1f} → end {rss_mib[-1]:.1f}"
            f" MiB (max {max(rss_mib):.1f}, {len(rss_mib)} samples, one a second)"
            if rss_mib
            else "no sample",
            flat,
        ),
        Row(
            "SSE generators closed after the clients left",
            f"{after['sse_clients']} still open; tasks {before['tasks']} → {after['tasks']}",
            after["sse_clients"] == 0 and after["tasks"] <= before["tasks"],
        ),
    ]


# --- 3. clients killed mid-stream and mid-upload ------------------------------------------------


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with an RST, as a killed client's kernel would: SO_LINGER with a zero timeout."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _kill_mid_stream(port: int) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(b"GET /stream HTTP/1.1\r\nhost: bench\r\n\r\n")
    await reader.readuntil(b"\r\n\r\n")
    await reader.readexactly(4096)  # the stream is flowing
    _reset(writer)


BOUNDARY = "reliabilityboundary"


async def _kill_mid_upload(port: int, path: str) -> None:
    """Promise 3 MiB (past the 1 MiB spool threshold), send half, vanish."""
    _, writer = await asyncio.open_connection(HOST, port)
    head = (
        f"--{BOUNDARY}\r\ncontent-disposition: form-data; name=f; filename=a.bin\r\n"
        "content-type: application/octet-stream\r\n\r\n"
    ).encode()
    length = len(head) + 3 * 1024 * 1024
    writer.write(
        f"POST {path} HTTP/1.1\r\nhost: bench\r\ncontent-length: {length}\r\n"
        f"content-type: multipart/form-data; boundary={BOUNDARY}\r\n\r\n".encode()
    )
    writer.write(head + b"x" * (1536 * 1024))
    await writer.drain()
    await asyncio.sleep(0.05)  # let the server read (and spool) some of it
    _reset(writer)


async def _kill_run(server: Server, kills: int, concurrency: int) -> tuple[int, int, int]:
    """Kill ``kills`` clients; return client-side errors and the peak temp files and fds seen."""
    port = server.port
    limit = asyncio.Semaphore(concurrency)
    failures = peak_temp = peak_fds = 0
    finished = asyncio.Event()

    async def sample() -> None:
        # Shows the check is not vacuous: uploads did spool to disk meanwhile.
        nonlocal peak_temp, peak_fds
        while not finished.is_set():
            peak_temp = max(peak_temp, server.temp_files())
            with contextlib.suppress(OSError):
                peak_fds = max(peak_fds, server.open_fds())
            await asyncio.sleep(0.005)

    async def one(index: int) -> None:
        nonlocal failures
        async with limit:
            try:
                if index % 3 == 0:
                    await asyncio.wait_for(_kill_mid_stream(port), 10)
                else:
                    await asyncio.wait_for(
                        _kill_mid_upload(port, "/form" if index % 3 == 1 else "/upload"), 10
                    )
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
                failures += 1

    sampler = asyncio.create_task(sample())
    await asyncio.gather(*(one(i) for i in range(kills)))
    finished.set()
    await sampler
    return failures, peak_temp, peak_fds


def check_kills(server: Server, scale: Scale) -> list[Row]:
    before = server.debug()
    fds_before, tmp_before = server.open_fds(), server.temp_files()
    begin = time.monotonic()
    failures, peak_temp, peak_fds = asyncio.run(_kill_run(server, scale.kills, scale.concurrency))
    elapsed = time.monotonic() - begin
    after = settle(server, before)
    fds_after, tmp_after = server.open_fds(), server.temp_files()
    leaks = {
        "tasks": after["tasks"] - before["tasks"],
        "fds": fds_after - fds_before,
        "temp files": tmp_after - tmp_before,
        "streams": after["streams_open"],
    }
    return [
        Row(
            f"{scale.kills:,} clients killed (RST) mid-stream and mid-upload",
            f"in {elapsed:.1f} s, {failures} client-side errors; tasks {before['tasks']}"
            f" → {after['tasks']}, fds {fds_before} → {fds_after} (peak {peak_fds}), "
            f"temp files {tmp_before} → {tmp_after} (peak {peak_temp}), "
            f"streams open after {after['streams_open']}",
            all(value <= 0 for value in leaks.values()) and server.healthy(),
        )
    ]


# --- 4. a handler that raises, 5. failing background tasks ---------------------------------------


async def _hammer(url: str, path: str, count: int, concurrency: int) -> dict[int, int]:
    statuses: dict[int, int] = {}
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        limit = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with limit:
                try:
                    status = (await client.get(path)).status_code
                except httpx.HTTPError:
                    status = 0
                statuses[status] = statuses.get(status, 0) + 1

        await asyncio.gather(*(one() for _ in range(count)))
    return statuses


def check_raises(server: Server, scale: Scale) -> list[Row]:
    fds_before = server.open_fds()
    begin = time.monotonic()
    statuses = asyncio.run(_hammer(server.url, "/raise", scale.raises, scale.concurrency))
    elapsed = time.monotonic() - begin
    healthy = server.healthy()
    body = httpx.get(server.url + "/raise", timeout=5).text
    fds_after = server.open_fds()
    others = sum(statuses.values()) - statuses.get(500, 0)
    return [
        Row(
            f"handler raising {scale.raises:,} times",
            f"{statuses.get(500, 0):,} x 500 in {elapsed:.1f} s, other {others}; "
            f"body {body!r}; fds {fds_before} → {fds_after}; healthy after: {healthy}",
            statuses == {500: scale.raises} and healthy and body == "Internal Server Error",
        )
    ]


def check_background(server: Server, scale: Scale) -> list[Row]:
    before = server.debug()
    statuses = asyncio.run(_hammer(server.url, "/background", scale.background, scale.concurrency))
    deadline = time.monotonic() + 10
    while True:
        after = server.debug()
        ran = after["background_ok"] - before["background_ok"]
        if ran >= scale.background or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    failed = after["background_failed"] - before["background_failed"]
    logged = server.log.read_text(errors="replace").count("background task fail raised")
    return [
        Row(
            f"{scale.background:,} requests, each with a failing then a working background task",
            f"{statuses.get(200, 0):,} x 200; {failed:,} failed, {ran:,} later tasks ran; "
            f"{logged:,} failures logged",
            statuses == {200: scale.background}
            and ran == failed == scale.background
            and logged == scale.background,
        )
    ]


CHECKS = {
    "load": check_load,
    "sse": check_sse,
    "kills": check_kills,
    "raises": check_raises,
    "background": check_background,
}
