"""Memory under load: many large downloads, one large upload; the server's peak RSS growth.

Each test gets a fresh uvicorn (pinned to core 0) so that memory one test
freed but the allocator kept cannot hide the next test's growth. The server
is warmed up (a /json, a /file and a small upload), its VmRSS read as the
baseline, then a client process pinned to core 1 runs the test while a
thread samples the server's VmRSS from /proc every 10 ms; the figure is
peak minus baseline.

- download: 50 concurrent connections each fetch ``/bigfile`` (100 MiB
  through the framework's FileResponse) and read it as fast as they can;
  every client must receive exactly 100 MiB.
- upload: one multipart/form-data POST of a 50 MiB file to ``/upload``,
  which reads the form's file in 64 KiB pieces and answers its size.

The client side runs as ``python -m bench.memory --client download|upload``.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

from bench import apps as registry
from bench.endpoints import BIG_FILE_SIZE, big_file_path
from bench.servers import CLIENT_CORE, HOST, ROOT, RssSampler, Server, pinned, serve

MIB = 1024 * 1024
BOUNDARY = "microweb-bench-boundary-7MA4YWxkTrZu0gW"


# --- the client side ---------------------------------------------------------------


async def _download_one(port: int, path: str) -> tuple[int, int]:
    """(status, body bytes) of one GET, reading the body as fast as it comes."""
    reader, writer = await asyncio.open_connection(HOST, port, limit=MIB)
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
        status = int(head.split(None, 2)[1])
        size = 0
        if "transfer-encoding: chunked" in head:
            while (length := int((await reader.readline()).split(b";")[0], 16)) > 0:
                while length:
                    piece = await reader.read(min(length, MIB))
                    if not piece:
                        raise ConnectionError("connection closed inside a chunk")
                    size += len(piece)
                    length -= len(piece)
                await reader.readline()
        else:
            while piece := await reader.read(MIB):
                size += len(piece)
        return status, size
    finally:
        writer.close()


async def _download(port: int, path: str, clients: int) -> dict[str, Any]:
    start = time.perf_counter()
    results = await asyncio.gather(*(_download_one(port, path) for _ in range(clients)))
    return {
        "seconds": time.perf_counter() - start,
        "statuses": sorted({status for status, _ in results}),
        "sizes": sorted({size for _, size in results}),
    }


def _multipart(size: int) -> tuple[int, Iterator[bytes]]:
    head = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="file"; filename="upload.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    block = bytes(range(256)) * 4096  # 1 MiB with no CR LF runs that look like a boundary

    def parts() -> Iterator[bytes]:
        yield head
        left = size
        while left > 0:
            yield block[: min(left, len(block))]
            left -= len(block)
        yield tail

    return len(head) + size + len(tail), parts()


def upload(port: int, size: int) -> dict[str, Any]:
    length, body = _multipart(size)
    connection = http.client.HTTPConnection(HOST, port, timeout=120)
    start = time.perf_counter()
    connection.request(
        "POST",
        "/upload",
        body=body,
        headers={
            "content-type": f"multipart/form-data; boundary={BOUNDARY}",
            "content-length": str(length),
        },
    )
    response = connection.getresponse()
    answer = response.read()
    connection.close()
    return {
        "seconds": time.perf_counter() - start,
        "status": response.status,
        "answer": answer[:500].decode("utf-8", "replace"),
    }


def _client_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.memory --client")
    parser.add_argument("kind", choices=["download", "upload"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--path", default="/bigfile")
    parser.add_argument("--size", type=int, default=50 * MIB)
    args = parser.parse_args(argv)
    if args.kind == "download":
        result = asyncio.run(_download(args.port, args.path, args.clients))
    else:
        result = upload(args.port, args.size)
    print(json.dumps(result))


# --- the server side ---------------------------------------------------------------


def _client(server: Server, *args: str) -> dict[str, Any]:
    command = pinned(
        CLIENT_CORE,
        [sys.executable, "-m", "bench.memory", "--client", *args, "--port", str(server.port)],
    )
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"memory client failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _warm_up(server: Server) -> None:
    for path in ("/json", "/file"):
        connection = server.connection()
        connection.request("GET", path)
        connection.getresponse().read()
        connection.close()
    upload(server.port, 2 * MIB)  # past the 1 MiB spooling threshold
    time.sleep(0.3)


def download_test(app: str, clients: int) -> dict[str, Any]:
    with serve(app) as server:
        _warm_up(server)
        baseline = server.rss_kib()
        with RssSampler(server.pid) as rss:
            result = _client(server, "download", "--clients", str(clients))
        problems = []
        if result["statuses"] != [200] or result["sizes"] != [BIG_FILE_SIZE]:
            problems.append(
                f"{app} download: statuses {result['statuses']}, sizes {result['sizes']}, "
                f"expected [200] and [{BIG_FILE_SIZE}]"
            )
    total = clients * BIG_FILE_SIZE
    return {
        "baseline_rss_mib": baseline / 1024,
        "peak_rss_mib": rss.peak_kib / 1024,
        "growth_mib": (rss.peak_kib - baseline) / 1024,
        "seconds": result["seconds"],
        "throughput_mib_per_s": total / MIB / result["seconds"],
        "samples": rss.samples,
        "problems": problems,
    }


def upload_test(app: str, size: int) -> dict[str, Any]:
    with serve(app) as server:
        _warm_up(server)
        baseline = server.rss_kib()
        with RssSampler(server.pid) as rss:
            result = _client(server, "upload", "--size", str(size))
        problems = []
        expected = {"size": size}
        try:
            answer = json.loads(result["answer"])
        except ValueError:
            answer = result["answer"]
        if result["status"] != 200 or answer != expected:
            problems.append(
                f"{app} upload: {result['status']} {answer!r}, expected 200 {expected}"
            )
    return {
        "baseline_rss_mib": baseline / 1024,
        "peak_rss_mib": rss.peak_kib / 1024,
        "growth_mib": (rss.peak_kib - baseline) / 1024,
        "seconds": result["seconds"],
        "samples": rss.samples,
        "problems": problems,
    }


def run(names: list[str], quick: bool) -> dict[str, Any]:
    clients, size = (5, 5 * MIB) if quick else (50, 50 * MIB)
    big_file_path(create=True)
    downloads: dict[str, Any] = {}
    uploads: dict[str, Any] = {}
    for name in names:
        downloads[name] = download_test(name, clients)
        line = f"  {name:<11} {clients} x 100 MiB: +{downloads[name]['growth_mib']:.1f} MiB RSS"
        if name != "raw":  # the raw app parses no forms
            uploads[name] = upload_test(name, size)
            line += f"; {size // MIB} MiB upload: +{uploads[name]['growth_mib']:.1f} MiB RSS"
        print(line)
        for problem in downloads[name]["problems"] + uploads.get(name, {}).get("problems", []):
            print(f"    {problem}")
    return {
        "clients": clients,
        "download_mib": BIG_FILE_SIZE // MIB,
        "upload_mib": size // MIB,
        "download": downloads,
        "upload": uploads,
        "installed": [name for name in names if registry.installed(name)],
    }


if __name__ == "__main__":
    if sys.argv[1:2] == ["--client"]:
        _client_main(sys.argv[2:])
    else:
        raise SystemExit("run the memory benchmark with: python -m bench memory")
