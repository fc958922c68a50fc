"""What every benchmark app must answer, and the data files it serves.

This module is the contract the apps in ``bench/apps/`` implement and
``bench/check.py`` holds them to. It imports nothing but the standard library,
so an app module can import it without pulling in the harness.

Endpoints (every app registers the 1,000 ``/r{N}/items/{item_id}`` routes
first, so ``/r999/items/5`` is the last route registered):

    GET  /plaintext              "Hello, World!" as text/plain; charset=utf-8
    GET  /json                   {"message": "Hello, World!"}
    GET  /items/{item_id:int}?q= {"item_id": 5, "q": "hello"}
    GET  /r{N}/items/{item_id}   {"route": N, "item_id": "5"} (item_id stays a str)
    POST /echo                   the JSON object posted, back
    POST /items                  ITEM_PAYLOAD validated against a 10-field model
                                 (a nested object, a nested list of objects,
                                 optional fields) the framework's usual way,
                                 and the model sent back as JSON
    GET  /file                   a 1 MiB file through the framework's FileResponse
    GET  /stream                 1 MiB as 64 chunks of 16 KiB from an async generator
    GET  /sse                    100 server-sent events "tick" with ids 0..99
    GET  /static/4k.bin          4 KiB and 1 MiB files (``static_dir()``) through the
    GET  /static/1m.bin          framework's own static-files app, with an ETag
    GET  /static/4k.bin          with ``If-None-Match: <the ETag the app gave>``: 304

two WebSocket endpoints, checked by ``bench.check.verify_websocket`` and
timed by ``bench.websocket_load``:

    WS   /ws/echo                each text message sent back, until the client closes
    WS   /ws/push?n=N            N text messages PUSH_MESSAGE, then a close (1000)

and, for the memory benchmarks only (not timed, not in the correctness table):

    GET  /bigfile                a 100 MiB file through FileResponse
    POST /upload                 a multipart form with one file field "file":
                                 {"size": <bytes in the file>}
    GET  /sse/idle               one event "ready", then nothing until the client
                                 leaves (or IDLE_SECONDS pass): an idle SSE client
"""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path

PLAINTEXT = "Hello, World!"
JSON_MESSAGE = {"message": "Hello, World!"}
ITEM_ID = 5
ITEM_QUERY = "hello"
EXTRA_ROUTES = 1000
LAST_ROUTE = 999
ECHO_PAYLOAD = {
    "name": "widget",
    "price": 9.99,
    "tags": ["red", "small", "sale"],
    "stock": {"warehouse": 12, "shop": 3},
    "active": True,
    "discount": None,
}
# POST /items: every field of the model, its two optional ones included.
ITEM_PAYLOAD = {
    "id": 42,
    "name": "widget",
    "price": 9.99,
    "quantity": 3,
    "in_stock": True,
    "tags": ["red", "small", "sale"],
    "dimensions": {"width": 2.5, "height": 1.0, "depth": 0.5},
    "variants": [
        {"sku": "w-1", "color": "red", "price": 9.99},
        {"sku": "w-2", "color": "blue", "price": 10.49},
    ],
    "description": None,
    "discount": 0.1,
}

FILE_SIZE = 1024 * 1024
STREAM_CHUNKS = 64
STREAM_CHUNK_SIZE = FILE_SIZE // STREAM_CHUNKS
SSE_EVENTS = 100
BIG_FILE_SIZE = 100 * 1024 * 1024
OCTET_STREAM = "application/octet-stream"
WEBSOCKET_ECHO = "/ws/echo"
WEBSOCKET_MESSAGES = ["hello", "", "héllo wörld", "x" * 4096]
WEBSOCKET_PUSH = "/ws/push"
PUSH_MESSAGE = "tick"
PUSH_DEFAULT = 10  # /ws/push without ?n=
STATIC_PREFIX = "/static"
# name -> size of the files under static_dir(), served at /static/<name>.
STATIC_FILES = {"4k.bin": 4 * 1024, "1m.bin": FILE_SIZE}
SSE_IDLE = "/sse/idle"
IDLE_SECONDS = 120.0  # an idle SSE stream ends by itself after this: nothing runs unbounded

# The body of /stream: 64 distinct 16 KiB chunks, built once at import so the
# handlers time the streaming machinery, not the making of bytes.
STREAM_BODY = [bytes([65 + i % 26]) * STREAM_CHUNK_SIZE for i in range(STREAM_CHUNKS)]


def route_numbers(count: int) -> list[int]:
    """The N of ``count`` routes ``/r{N}/items/{item_id}``, 999 always last.

    ``route_numbers(10)`` is 0..8 then 999, so ``/r999/items/5`` exists (and is
    the last registered) whatever the count.
    """
    if count <= 0:
        return []
    return [*[i for i in range(count) if i != LAST_ROUTE][: count - 1], LAST_ROUTE]


def sse_event(i: int) -> tuple[str, str, str]:
    """The i-th event as ``(event, id, data)``."""
    return "tick", str(i), f"tick {i}"


def push_count(query_string: bytes) -> int:
    """The N of ``/ws/push?n=N`` (``PUSH_DEFAULT`` when absent or not a number)."""
    for pair in query_string.split(b"&"):
        name, _, value = pair.partition(b"=")
        if name == b"n" and value.isdigit():
            return int(value)
    return PUSH_DEFAULT


def sse_wire(i: int) -> bytes:
    """The i-th event in the text/event-stream format (for apps that write it by hand)."""
    event, event_id, data = sse_event(i)
    return f"event: {event}\nid: {event_id}\ndata: {data}\n\n".encode()


# --- data files ----------------------------------------------------------------------


def data_dir() -> Path:
    """Where the served files live: ``$MICROWEB_BENCH_DATA`` or a temp folder."""
    where = os.environ.get("MICROWEB_BENCH_DATA")
    return Path(where) if where else Path(tempfile.gettempdir()) / "microweb-bench-data"


def file_path() -> Path:
    """The 1 MiB file of ``/file`` (made on first use, deterministic content)."""
    path = data_dir() / "file-1mib.bin"
    if not path.exists() or path.stat().st_size != FILE_SIZE:
        _write_atomically(path, random.Random(7).randbytes(FILE_SIZE))
    return path


def file_content() -> bytes:
    return file_path().read_bytes()


def static_dir() -> Path:
    """The folder of ``/static/`` (made on first use: ``STATIC_FILES``, deterministic content)."""
    folder = data_dir() / "static"
    for number, (name, size) in enumerate(STATIC_FILES.items()):
        path = folder / name
        if not path.exists() or path.stat().st_size != size:
            _write_atomically(path, random.Random(20 + number).randbytes(size))
    return folder


def big_file_path(create: bool = False) -> Path:
    """The 100 MiB file of ``/bigfile``; made only when ``create`` (the memory benchmark)."""
    path = data_dir() / "file-100mib.bin"
    if create and (not path.exists() or path.stat().st_size != BIG_FILE_SIZE):
        block = random.Random(11).randbytes(1024 * 1024)
        tmp = path.with_suffix(".tmp")
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            for _ in range(BIG_FILE_SIZE // len(block)):
                fh.write(block)
        tmp.replace(path)
    return path


def _write_atomically(path: Path, content: bytes) -> None:
    # Several servers may start at once: never let one read a half-written file.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name)
    with os.fdopen(fd, "wb") as fh:
        fh.write(content)
    os.replace(tmp, path)
