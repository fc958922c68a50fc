"""Hostile uploads against a real uvicorn: memory stays within the per-request budget.

Eight clients at once each send a multipart form of many files just under
the 1 MiB spool threshold, the shape that used to keep every file in memory
(400 such files grew a server by 372 MiB). With the budget, the server's
peak RSS (VmHWM) may grow by at most 8 x the budget + 20 MiB.
"""

from __future__ import annotations

import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from server.conftest import Server

from .memory_app import BUDGET

HERE = Path(__file__).parent
MiB = 1024 * 1024
CLIENTS = 8
FILES = 40
FILE_SIZE = 1_000_000  # under the 1 MiB spool threshold: in memory unless the budget says no


def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def _form(boundary: str) -> bytes:
    content = os.urandom(FILE_SIZE)
    parts = [
        (
            f'--{boundary}\r\ncontent-disposition: form-data; name="f{n}"; '
            f'filename="f{n}.bin"\r\ncontent-type: application/octet-stream\r\n\r\n'
        ).encode()
        + content
        + b"\r\n"
        for n in range(FILES)
    ]
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


def test_eight_hostile_uploads_stay_within_the_budget() -> None:
    server = Server("memory_app:app", "--app-dir", str(HERE), "--http", "httptools")
    try:
        pid = server.process.pid
        boundary = secrets.token_hex(8)
        body = _form(boundary)
        headers = {"content-type": f"multipart/form-data; boundary={boundary}"}
        with httpx.Client(timeout=60) as client:
            assert client.get(server.url + "/probe").text == '"ok"'
            # Warm up: one upload, so what any first request loads is counted before.
            assert (
                client.post(server.url + "/upload", content=body, headers=headers).json() == FILES
            )
        before = _kib(pid, "VmRSS")

        def upload(_: int) -> int:
            with httpx.Client(timeout=60) as one:
                response = one.post(server.url + "/upload", content=body, headers=headers)
                return int(response.json())

        with ThreadPoolExecutor(CLIENTS) as pool:
            assert list(pool.map(upload, range(CLIENTS))) == [FILES] * CLIENTS
        grown = (_kib(pid, "VmHWM") - before) * 1024
        allowed = CLIENTS * BUDGET + 20 * MiB
        print(f"RSS grew {grown / MiB:.1f} MiB under {CLIENTS} uploads")
        assert grown <= allowed, f"RSS grew {grown / MiB:.1f} MiB, allowed {allowed / MiB:.0f}"
    finally:
        server.stop()
