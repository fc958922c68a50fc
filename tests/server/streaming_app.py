"""Streams, files and events served by uvicorn in tests/server/test_streaming_server.py.

Generators that must prove they were closed write "closed" to the file named
by their ``marker`` query parameter in their ``finally``.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio

from microweb import App
from microweb.responses import EventSourceResponse, FileResponse, StreamingResponse

MiB = 1024 * 1024


def make_data(size: int = 10 * MiB) -> bytes:
    """The bytes of the big file: the same on every call, and not compressible."""
    return random.Random(6).randbytes(size)


served: dict[str, FileResponse] = {}


@asynccontextmanager
async def lifespan(app: App) -> AsyncIterator[None]:
    # The big file lives as long as the server: written at startup, removed at shutdown.
    with tempfile.TemporaryDirectory(prefix="microweb-streaming-") as directory:
        path = Path(directory) / "big.bin"
        path.write_bytes(make_data())
        served["big"] = FileResponse(path, filename="big.bin")
        yield


app = App(lifespan=lifespan)


def _mark(marker: str) -> None:
    if marker:
        Path(marker).write_text("closed")


@app.get("/chunks", response_class=StreamingResponse)
async def chunks(n: int = 5, delay: float = 0.3) -> AsyncIterator[str]:
    async def body() -> AsyncIterator[str]:
        for index in range(n):
            if index:
                await anyio.sleep(delay)
            yield f"{index} {time.time():.3f}\n"

    return body()


@app.get("/sync-chunks", response_class=StreamingResponse)
def sync_chunks(n: int = 5, delay: float = 0.3) -> Iterator[str]:
    def body() -> Iterator[str]:
        for index in range(n):
            if index:
                time.sleep(delay)  # in a worker thread, never on the loop
            yield f"{index} {time.time():.3f}\n"

    return body()


@app.get("/endless", response_class=EventSourceResponse)
async def endless(marker: str = "", interval: float = 0.2) -> AsyncIterator[dict[str, str]]:
    async def events() -> AsyncIterator[dict[str, str]]:
        number = 0
        try:
            while True:
                yield {"event": "tick", "id": str(number), "data": str(number)}
                number += 1
                await anyio.sleep(interval)
        finally:
            _mark(marker)

    return events()


@app.get("/sync-endless", response_class=StreamingResponse)
def sync_endless(marker: str = "") -> Iterator[bytes]:
    def body() -> Iterator[bytes]:
        try:
            while True:
                yield b"x" * 1024
                time.sleep(0.05)
        finally:
            _mark(marker)

    return body()


@app.get("/big")
async def big() -> FileResponse:
    return served["big"]


@app.get("/pid")
def pid() -> int:
    return os.getpid()
