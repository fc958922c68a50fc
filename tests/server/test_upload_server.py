"""A 50 MiB upload through a real uvicorn: exact bytes, and the server's memory stays flat."""

from __future__ import annotations

import hashlib
import os
import random
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from .conftest import Server

MiB = 1024 * 1024
BOUNDARY = "microweb-upload-boundary-5f3a"


def rss(pid: int) -> int:
    """The resident memory of process ``pid`` in bytes (Linux /proc)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")  # pragma: no cover


class PeakSampler:
    """Samples a process's resident memory in a thread; ``peak`` is the highest seen."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = rss(pid)
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss(self.pid))
            self.samples += 1
            time.sleep(0.002)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss(self.pid))


def multipart_body(size: int, digest: hashlib._Hash, seed: int = 50) -> Iterator[bytes]:
    """A multipart body holding one text field and a ``size``-byte file, made as it is sent."""
    yield (
        f"--{BOUNDARY}\r\n"
        'content-disposition: form-data; name="note"\r\n\r\n'
        "fifty mebibytes\r\n"
        f"--{BOUNDARY}\r\n"
        'content-disposition: form-data; name="file"; filename="big.bin"\r\n'
        "content-type: application/octet-stream\r\n\r\n"
    ).encode()
    rng = random.Random(seed)
    left = size
    while left:
        chunk = rng.randbytes(min(64 * 1024, left))
        digest.update(chunk)
        left -= len(chunk)
        yield chunk
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def upload(http: httpx.Client, server: Server, size: int) -> tuple[httpx.Response, str]:
    digest = hashlib.sha256()
    response = http.post(
        server.url + "/upload",
        content=multipart_body(size, digest),
        headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
        timeout=60.0,
    )
    return response, digest.hexdigest()


@pytest.fixture
def server(serve: Callable[..., Server]) -> Server:
    return serve("upload_app:app")


def test_50_mib_upload_arrives_whole_and_memory_stays_flat(
    server: Server, http: httpx.Client
) -> None:
    pid = http.get(server.url + "/pid").json()
    assert pid == server.process.pid
    # Warm up: imports, the worker threads, a spool rolled to disk.
    response, _ = upload(http, server, 3 * MiB)
    assert response.status_code == 200
    time.sleep(0.2)
    baseline = rss(pid)

    with PeakSampler(pid) as sampler:
        response, sha256 = upload(http, server, 50 * MiB)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "filename": "big.bin",
        "size": 50 * MiB,
        "sha256": sha256,
        "fields": {"note": "fifty mebibytes"},
        "closed": True,
    }
    growth = sampler.peak - baseline
    print(
        f"\n50 MiB upload through uvicorn: server RSS {baseline / MiB:.1f} MiB before, "
        f"{sampler.peak / MiB:.1f} MiB at peak ({sampler.samples} samples): "
        f"grew {growth / MiB:.2f} MiB"
    )
    assert growth < 10 * MiB
    # The App's max_body_size (1 MiB here) bounds buffered bodies, not spooled files.


def test_truncated_upload_is_400_over_a_real_socket(server: Server, http: httpx.Client) -> None:
    body = (
        f"--{BOUNDARY}\r\n"
        'content-disposition: form-data; name="file"; filename="f"\r\n\r\n'
        "not finished"
    ).encode()
    response = http.post(
        server.url + "/upload",
        content=body,
        headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Truncated multipart body: it ended before the closing boundary"
    }


def open_temp_files(pid: int) -> set[str]:
    """The temporary files process ``pid`` holds open, as ``"fd -> path"`` (Linux /proc)."""
    found = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:  # closed meanwhile
            continue
        if target.startswith(tempfile.gettempdir()):
            found.add(f"{fd} -> {target}")
    return found


def test_client_leaving_mid_upload_is_quiet_and_leaks_nothing(
    server: Server, http: httpx.Client
) -> None:
    pid = http.get(server.url + "/pid").json()
    # The server's stdout and stderr may be temporary files too (see conftest).
    before = open_temp_files(pid)
    head = (
        "POST /upload HTTP/1.1\r\n"
        f"host: 127.0.0.1:{server.port}\r\n"
        f"content-type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"content-length: {20 * MiB}\r\n\r\n"
        f"--{BOUNDARY}\r\n"
        'content-disposition: form-data; name="file"; filename="f"\r\n\r\n'
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(head + b"x" * (3 * MiB))  # past the spool: on disk by now
        deadline = time.monotonic() + 5
        while open_temp_files(pid) == before and time.monotonic() < deadline:
            time.sleep(0.01)
        assert open_temp_files(pid) != before, "the upload never reached the disk"
    # The handler sees ClientDisconnect...
    while http.get(server.url + "/disconnects").json() == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert http.get(server.url + "/disconnects").json() == 1
    # ...the half-received file is gone, the server still answers...
    assert open_temp_files(pid) == before
    response, sha256 = upload(http, server, 10)
    assert response.json()["sha256"] == sha256
    # ...and nothing was logged as an error.
    output = server.stop()
    assert "Traceback" not in output
    assert "ERROR" not in output


def test_a_typed_upload_through_uvicorn(server: Server, http: httpx.Client) -> None:
    # File and Form parameters over a real socket: a 3 MiB file (spooled to
    # disk) and a text field; the file is closed once the response is sent.
    digest = hashlib.sha256()
    response = http.post(
        server.url + "/typed-upload",
        content=multipart_body(3 * MiB, digest),
        headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
        timeout=60.0,
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "filename": "big.bin",
        "size": 3 * MiB,
        "sha256": digest.hexdigest(),
        "note": "fifty mebibytes",
    }
    assert http.get(server.url + "/typed-upload/closed").json() == [True]
    # The form field missing: FastAPI's 422.
    response = http.post(server.url + "/typed-upload", files={"file": ("f", b"data")})
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"type": "missing", "loc": ["body", "note"], "msg": "Field required", "input": None}
        ]
    }
