"""Streams, files and events through a real uvicorn on 127.0.0.1 (see streaming_app.py)."""

from __future__ import annotations

import hashlib
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from conftest import require_program

from .conftest import Server
from .streaming_app import MiB, make_data

DATA = make_data()


def wait_for(path: Path, timeout: float) -> float:
    """Seconds until ``path`` holds "closed"; fails after ``timeout``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if path.exists() and path.read_text() == "closed":
            return time.monotonic() - start
        time.sleep(0.01)
    pytest.fail(f"the generator's finally did not run within {timeout}s")


@pytest.mark.parametrize("route", ["/chunks", "/sync-chunks"])
def test_chunks_arrive_as_they_are_made(
    serve: Callable[..., Server], http: httpx.Client, route: str
) -> None:
    server = serve("streaming_app:app")
    arrivals: list[tuple[float, bytes]] = []
    with http.stream("GET", f"{server.url}{route}?n=5&delay=0.3") as response:
        assert response.status_code == 200
        assert "content-length" not in response.headers
        assert response.headers["transfer-encoding"] == "chunked"
        for chunk in response.iter_raw():
            arrivals.append((time.time(), chunk))
    lines = b"".join(chunk for _, chunk in arrivals).decode().splitlines()
    assert [line.split()[0] for line in lines] == ["0", "1", "2", "3", "4"]
    # Each chunk came on its own, before the server even made the next one.
    assert len(arrivals) == 5
    made = [float(line.split()[1]) for line in lines]
    for index, (arrived, chunk) in enumerate(arrivals):
        assert chunk.decode().strip() == lines[index]
        if index < 4:
            assert arrived < made[index + 1]
    assert arrivals[-1][0] - arrivals[0][0] > 1.0


@pytest.mark.parametrize("route", ["/endless", "/sync-endless"])
def test_client_disconnect_closes_the_generator_within_a_second(
    serve: Callable[..., Server], http: httpx.Client, tmp_path: Path, route: str
) -> None:
    server = serve("streaming_app:app")
    marker = tmp_path / "marker"
    with http.stream("GET", f"{server.url}{route}", params={"marker": str(marker)}) as response:
        assert response.status_code == 200
        chunks = response.iter_raw()  # kept: a dropped iterator closes the response
        next(chunks)
        time.sleep(0.3)
        next(chunks)
        assert not marker.exists()
    assert wait_for(marker, timeout=1.0) < 1.0
    # The server is fine afterwards.
    assert http.get(f"{server.url}/pid").status_code == 200


@pytest.mark.parametrize("route", ["/endless", "/sync-endless"])
def test_sigterm_with_open_streams_exits_promptly_and_runs_every_finally(
    serve: Callable[..., Server], tmp_path: Path, route: str
) -> None:
    # uvicorn 0.54 waits for open responses on shutdown until
    # --timeout-graceful-shutdown, then cancels them (docs/streaming.md). A sync
    # generator is then usually inside next() in a worker thread: its finally
    # must run all the same.
    server = serve("streaming_app:app", "--timeout-graceful-shutdown", "1")
    markers = [tmp_path / f"marker-{n}" for n in range(5)]
    started = [threading.Event() for _ in markers]
    ended: list[str] = []

    def listen(marker: Path, first: threading.Event) -> None:
        try:
            with httpx.stream(
                "GET", f"{server.url}{route}", params={"marker": str(marker)}, timeout=10
            ) as response:
                for _ in response.iter_raw():
                    first.set()
            ended.append("clean end")
        except httpx.HTTPError as exc:
            ended.append(type(exc).__name__)

    listeners = [
        threading.Thread(target=listen, args=(marker, first), daemon=True)
        for marker, first in zip(markers, started, strict=True)
    ]
    for listener in listeners:
        listener.start()
    assert all(first.wait(5) for first in started)
    start = time.monotonic()
    server.process.terminate()
    server.process.wait(timeout=10)
    elapsed = time.monotonic() - start
    for listener in listeners:
        listener.join(5)
    assert elapsed < 5, f"uvicorn took {elapsed:.1f}s to exit:\n{server.stop()}"
    closed = [marker.exists() and marker.read_text() == "closed" for marker in markers]
    assert all(closed), f"finally ran in {sum(closed)} of {len(markers)}:\n{server.stop()}"
    # Each stream was cut, not ended as if it were complete.
    assert len(ended) == len(markers)
    assert set(ended) <= {"RemoteProtocolError", "ReadError"}


def test_ten_mib_file_whole_and_in_ranges(
    serve: Callable[..., Server], http: httpx.Client
) -> None:
    server = serve("streaming_app:app")
    url = f"{server.url}/big"
    whole = http.get(url)
    assert whole.status_code == 200
    assert whole.headers["content-length"] == str(10 * MiB)
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-disposition"] == 'attachment; filename="big.bin"'
    assert hashlib.sha256(whole.content).digest() == hashlib.sha256(DATA).digest()

    for first, last in [(0, 0), (0, 65535), (65535, 65536), (3 * MiB + 7, 7 * MiB - 3)]:
        part = http.get(url, headers={"range": f"bytes={first}-{last}"})
        assert part.status_code == 206
        assert part.headers["content-range"] == f"bytes {first}-{last}/{10 * MiB}"
        assert part.content == DATA[first : last + 1]
    tail = http.get(url, headers={"range": "bytes=-1000"})
    assert tail.content == DATA[-1000:]
    assert http.get(url, headers={"range": f"bytes={10 * MiB}-"}).status_code == 416

    several = http.get(url, headers={"range": "bytes=10-19, 5000000-5000009, -5"})
    assert several.status_code == 206
    media_type, _, boundary = several.headers["content-type"].partition("; boundary=")
    assert media_type == "multipart/byteranges"
    assert several.headers["content-length"] == str(len(several.content))
    parts = several.content.split(f"--{boundary}".encode())
    assert parts[0] == b""
    assert parts[-1] == b"--\r\n"
    bodies = [part.split(b"\r\n\r\n", 1)[1][:-2] for part in parts[1:-1]]
    assert bodies == [DATA[10:20], DATA[5000000:5000010], DATA[-5:]]

    etag = whole.headers["etag"]
    assert http.get(url, headers={"if-none-match": etag}).status_code == 304
    fresh = http.get(url, headers={"range": "bytes=0-9", "if-range": etag})
    assert fresh.status_code == 206
    stale = http.get(url, headers={"range": "bytes=0-9", "if-range": '"stale"'})
    assert stale.status_code == 200
    assert len(stale.content) == 10 * MiB
    head = http.head(url, headers={"range": "bytes=0-9"})
    assert head.status_code == 200
    assert head.headers["content-length"] == str(10 * MiB)


@pytest.fixture
def curl() -> str:
    return require_program("curl", "scripts/install installs Debian's curl")


def test_curl_downloads_a_range_and_resumes(
    serve: Callable[..., Server], curl: str, tmp_path: Path
) -> None:
    server = serve("streaming_app:app")
    url = f"{server.url}/big"

    def run(*args: str) -> None:
        subprocess.run([curl, "--silent", "--show-error", "--fail", *args], check=True, timeout=30)

    part = tmp_path / "part"
    run("--range", "1000-1999999", "--output", str(part), url)
    assert part.read_bytes() == DATA[1000:2000000]

    # A download cut after 3 MiB and 5 bytes, then resumed: curl asks for the rest.
    resumed = tmp_path / "resumed"
    resumed.write_bytes(DATA[: 3 * MiB + 5])
    run("--continue-at", "-", "--output", str(resumed), url)
    assert hashlib.sha256(resumed.read_bytes()).digest() == hashlib.sha256(DATA).digest()
