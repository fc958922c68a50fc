"""The floor: a hand-written ASGI app that does the same work, correctly.

No framework: a dict of static paths, a hand-parsed ``/items/{int}`` and
``/r{N}/items/{id}``, orjson for JSON. It still does what a correct server
app must: 404 and 405, the request body read to its end, a 400 for bad JSON,
a query string parsed, files read in 64 KiB chunks without ever blocking
the event loop on the disk, and the lifespan protocol answered.

Files: a chunk the page cache holds is read on the loop (Linux's preadv2
with RWF_NOWAIT, which answers EAGAIN rather than wait for the disk), any
other in a worker thread. That is what microweb's FileResponse does, so
the floor stays a floor; the frameworks here make one thread hop a chunk.

``/static/<name>`` is the least a correct static handler does: a name with no
separator or dot segment, one thread hop to open and stat the file, a strong
ETag from the stat (mtime and size), a 304 when ``If-None-Match`` lists it,
else the file as ``/file`` sends it.

``POST /items`` decodes with a ``msgspec.json.Decoder`` of the same Struct
the microweb app's handler takes and encodes it back: issue 21's "raw ASGI
doing the same msgspec decode", so microweb/raw on that row is that ratio.

WebSockets: ``/ws/echo`` and ``/ws/push?n=N`` speak the ASGI messages by hand.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import anyio
import anyio.to_thread
import msgspec
import orjson

from bench.apps.item_models import Item
from bench.endpoints import (
    EXTRA_ROUTES,
    IDLE_SECONDS,
    JSON_MESSAGE,
    OCTET_STREAM,
    PLAINTEXT,
    PUSH_MESSAGE,
    SSE_EVENTS,
    SSE_IDLE,
    STATIC_PREFIX,
    STREAM_BODY,
    WEBSOCKET_ECHO,
    WEBSOCKET_PUSH,
    big_file_path,
    file_path,
    push_count,
    route_numbers,
    sse_wire,
    static_dir,
)

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Handler = Callable[[Scope, Receive, Send], Awaitable[None]]

CHUNK_SIZE = 64 * 1024
TEXT_PLAIN = b"text/plain; charset=utf-8"
APPLICATION_JSON = b"application/json"


async def send_body(send: Send, status: int, content_type: bytes, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", b"%d" % len(body)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionError("client disconnected")
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


NOWAIT = getattr(os, "RWF_NOWAIT", None) if hasattr(os, "preadv") else None


def read_cached(fd: int, offset: int, size: int) -> bytes | None:
    """The bytes at ``offset`` if the page cache has them (None: read in a thread)."""
    if NOWAIT is None:
        return None
    buffer = bytearray(size)
    try:
        count = os.preadv(fd, [buffer], offset, NOWAIT)
    except OSError:
        return None
    return bytes(buffer[:count]) if count else None


async def send_file(path: os.PathLike[str], send: Send) -> None:
    fd = await anyio.to_thread.run_sync(os.open, path, os.O_RDONLY)
    try:
        await send_open_file(fd, os.fstat(fd).st_size, send, [])
    finally:
        os.close(fd)


async def send_open_file(
    fd: int, size: int, send: Send, headers: list[tuple[bytes, bytes]]
) -> None:
    """The file ``fd`` of ``size`` bytes as a 200 with ``headers`` (the caller closes ``fd``)."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", OCTET_STREAM.encode()),
                (b"content-length", b"%d" % size),
                *headers,
            ],
        }
    )
    offset = 0
    while offset < size:
        wanted = min(CHUNK_SIZE, size - offset)
        chunk = read_cached(fd, offset, wanted)
        if chunk is None:
            chunk = await anyio.to_thread.run_sync(os.pread, fd, wanted, offset)
        if not chunk:
            raise RuntimeError("the file shrank while being sent")
        offset += len(chunk)
        await send({"type": "http.response.body", "body": chunk, "more_body": offset < size})


def open_regular(path: str) -> tuple[int, os.stat_result] | None:
    """An open fd and the stat of the regular file at ``path`` (None: no such file)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    result = os.fstat(fd)
    if not stat.S_ISREG(result.st_mode):
        os.close(fd)
        return None
    return fd, result


def etag_matches(if_none_match: bytes, etag: bytes) -> bool:
    """RFC 9110 §13.1.2: weak comparison against a list of entity tags, or ``*``."""
    if if_none_match.strip() == b"*":
        return True
    return any(tag.strip().removeprefix(b"W/") == etag for tag in if_none_match.split(b","))


async def send_static(scope: Scope, send: Send, folder: str) -> None:
    name: str = scope["path"][len(STATIC_PREFIX) + 1 :]
    if not name or name[0] == "." or "/" in name or "\\" in name or "\0" in name:
        await send_body(send, 404, TEXT_PLAIN, b"Not Found")
        return
    found = await anyio.to_thread.run_sync(open_regular, os.path.join(folder, name))
    if found is None:
        await send_body(send, 404, TEXT_PLAIN, b"Not Found")
        return
    fd, result = found
    try:
        etag = b'"%x-%x"' % (result.st_mtime_ns, result.st_size)
        for key, value in scope["headers"]:
            if key == b"if-none-match" and etag_matches(value, etag):
                headers = [(b"etag", etag)]
                await send({"type": "http.response.start", "status": 304, "headers": headers})
                await send({"type": "http.response.body", "body": b""})
                return
        await send_open_file(fd, result.st_size, send, [(b"etag", etag)])
    finally:
        os.close(fd)


def create_app(extra_routes: int = EXTRA_ROUTES) -> Handler:
    numbered = frozenset(route_numbers(extra_routes))
    plaintext_body = PLAINTEXT.encode()
    small_file = file_path()
    big_file = big_file_path()
    static_folder = str(static_dir())

    async def plaintext(scope: Scope, receive: Receive, send: Send) -> None:
        await send_body(send, 200, TEXT_PLAIN, plaintext_body)

    async def json(scope: Scope, receive: Receive, send: Send) -> None:
        await send_body(send, 200, APPLICATION_JSON, orjson.dumps(JSON_MESSAGE))

    async def echo(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            payload = orjson.loads(await read_body(receive))
        except orjson.JSONDecodeError:
            await send_body(send, 400, TEXT_PLAIN, b"invalid JSON")
            return
        await send_body(send, 200, APPLICATION_JSON, orjson.dumps(payload))

    item_decoder = msgspec.json.Decoder(Item)

    async def items(scope: Scope, receive: Receive, send: Send) -> None:
        try:
            item = item_decoder.decode(await read_body(receive))
        except msgspec.DecodeError:  # a ValidationError too
            await send_body(send, 422, TEXT_PLAIN, b"invalid item")
            return
        await send_body(send, 200, APPLICATION_JSON, msgspec.json.encode(item))

    async def file(scope: Scope, receive: Receive, send: Send) -> None:
        await send_file(small_file, send)

    async def bigfile(scope: Scope, receive: Receive, send: Send) -> None:
        await send_file(big_file, send)

    async def stream(scope: Scope, receive: Receive, send: Send) -> None:
        start = {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", OCTET_STREAM.encode())],
        }
        await send(start)
        for chunk in STREAM_BODY:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def sse(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for i in range(SSE_EVENTS):
            await send({"type": "http.response.body", "body": sse_wire(i), "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def sse_idle(scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": sse_wire(0), "more_body": True})
        # Until the client leaves (the server then answers receive()), bounded.
        with anyio.move_on_after(IDLE_SECONDS):
            while (await receive())["type"] != "http.disconnect":
                pass
            return
        await send({"type": "http.response.body", "body": b""})

    static: dict[str, dict[str, Handler]] = {
        "/plaintext": {"GET": plaintext},
        "/json": {"GET": json},
        "/echo": {"POST": echo},
        "/items": {"POST": items},
        "/file": {"GET": file},
        "/bigfile": {"GET": bigfile},
        "/stream": {"GET": stream},
        "/sse": {"GET": sse},
        SSE_IDLE: {"GET": sse_idle},
    }

    async def item(scope: Scope, receive: Receive, send: Send, item_id: str) -> None:
        if not item_id.isdigit():  # {item_id:int}: no match is a 404
            await send_body(send, 404, TEXT_PLAIN, b"Not Found")
            return
        query = dict(parse_qsl(scope["query_string"].decode("latin-1")))
        body = orjson.dumps({"item_id": int(item_id), "q": query.get("q")})
        await send_body(send, 200, APPLICATION_JSON, body)

    async def routed(
        scope: Scope, receive: Receive, send: Send, number: int, item_id: str
    ) -> None:
        body = orjson.dumps({"route": number, "item_id": item_id})
        await send_body(send, 200, APPLICATION_JSON, body)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # one comparison, as before there were WebSockets
            if scope["type"] == "lifespan":
                await lifespan(receive, send)
            elif scope["path"] == WEBSOCKET_ECHO:
                await websocket_echo(receive, send)
            elif scope["path"] == WEBSOCKET_PUSH:
                await websocket_push(scope, receive, send)
            else:
                await send({"type": "websocket.close", "code": 1000})
            return
        path: str = scope["path"]
        method: str = scope["method"]
        methods = static.get(path)
        if methods is not None:
            handler = methods.get(method)
            if handler is None:
                await send_body(send, 405, TEXT_PLAIN, b"Method Not Allowed")
                return
            await handler(scope, receive, send)
            return
        if path.startswith(STATIC_PREFIX + "/"):
            if method in ("GET", "HEAD"):
                await send_static(scope, send, static_folder)
            else:
                await send_body(send, 405, TEXT_PLAIN, b"Method Not Allowed")
            return
        parts = path.split("/")
        if method == "GET" and len(parts) == 3 and parts[1] == "items" and parts[2]:
            await item(scope, receive, send, parts[2])
            return
        if (
            method == "GET"
            and len(parts) == 4
            and parts[2] == "items"
            and parts[3]
            and parts[1][:1] == "r"
            and parts[1][1:].isdigit()
            and int(parts[1][1:]) in numbered
        ):
            await routed(scope, receive, send, int(parts[1][1:]), parts[3])
            return
        await send_body(send, 404, TEXT_PLAIN, b"Not Found")

    return app


async def websocket_echo(receive: Receive, send: Send) -> None:
    """Accept, then send each text message back until the client closes."""
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send({"type": "websocket.send", "text": message.get("text") or ""})


async def websocket_push(scope: Scope, receive: Receive, send: Send) -> None:
    """Accept, send N texts, close with 1000."""
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    for _ in range(push_count(scope["query_string"])):
        await send({"type": "websocket.send", "text": PUSH_MESSAGE})
    await send({"type": "websocket.close", "code": 1000})


async def lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
