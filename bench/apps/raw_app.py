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
"""

from __future__ import annotations

import os
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
    JSON_MESSAGE,
    OCTET_STREAM,
    PLAINTEXT,
    SSE_EVENTS,
    STREAM_BODY,
    WEBSOCKET_ECHO,
    big_file_path,
    file_path,
    route_numbers,
    sse_wire,
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
        size = os.fstat(fd).st_size
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", OCTET_STREAM.encode()),
                    (b"content-length", b"%d" % size),
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
                raise RuntimeError(f"{path} shrank while being sent")
            offset += len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": offset < size})
    finally:
        os.close(fd)


def create_app(extra_routes: int = EXTRA_ROUTES) -> Handler:
    numbered = frozenset(route_numbers(extra_routes))
    plaintext_body = PLAINTEXT.encode()
    small_file = file_path()
    big_file = big_file_path()

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

    static: dict[str, dict[str, Handler]] = {
        "/plaintext": {"GET": plaintext},
        "/json": {"GET": json},
        "/echo": {"POST": echo},
        "/items": {"POST": items},
        "/file": {"GET": file},
        "/bigfile": {"GET": bigfile},
        "/stream": {"GET": stream},
        "/sse": {"GET": sse},
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


async def lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
