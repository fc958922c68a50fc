"""Falcon (ASGI), the way its docs teach: resource classes with ``on_get``/``on_post``.

Falcon has no FileResponse: ``/file`` sets ``resp.stream`` to an async file
reader (the file read in a worker thread, in the 8 KiB blocks Falcon asks for,
as its own static routes do) and ``resp.content_length`` from its stat.
Server-sent events are Falcon's own ``resp.sse``. JSON goes through Falcon's
default media handler. ``/static`` is ``add_static_route``; the WebSockets are
resources with ``on_websocket``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import anyio.to_thread
import falcon
import falcon.asgi
import msgspec
from falcon.asgi import Request, Response, SSEvent, WebSocket

from bench.apps import item_models
from bench.endpoints import (
    EXTRA_ROUTES,
    IDLE_SECONDS,
    JSON_MESSAGE,
    OCTET_STREAM,
    PLAINTEXT,
    PUSH_DEFAULT,
    PUSH_MESSAGE,
    SSE_EVENTS,
    SSE_IDLE,
    STATIC_PREFIX,
    STREAM_BODY,
    WEBSOCKET_ECHO,
    WEBSOCKET_PUSH,
    big_file_path,
    file_path,
    route_numbers,
    sse_event,
    static_dir,
)


async def stream_body() -> AsyncIterator[bytes]:
    for chunk in STREAM_BODY:
        yield chunk


async def events() -> AsyncIterator[SSEvent]:
    for i in range(SSE_EVENTS):
        event, event_id, data = sse_event(i)
        yield SSEvent(text=data, event=event, event_id=event_id)


async def idle_events() -> AsyncIterator[SSEvent]:
    event, event_id, data = sse_event(0)
    yield SSEvent(text=data, event=event, event_id=event_id)
    await asyncio.sleep(IDLE_SECONDS)


class Numbered:
    def __init__(self, number: int) -> None:
        self.number = number

    async def on_get(self, req: Request, resp: Response, item_id: str) -> None:
        resp.media = {"route": self.number, "item_id": item_id}


class Plaintext:
    async def on_get(self, req: Request, resp: Response) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = PLAINTEXT


class Json:
    async def on_get(self, req: Request, resp: Response) -> None:
        resp.media = JSON_MESSAGE


class Item:
    async def on_get(self, req: Request, resp: Response, item_id: int) -> None:
        resp.media = {"item_id": item_id, "q": req.get_param("q")}


class Echo:
    async def on_post(self, req: Request, resp: Response) -> None:
        resp.media = await req.get_media()


class Items:
    """``/items``: Falcon validates nothing by itself; msgspec, as its docs suggest."""

    def __init__(self) -> None:
        self.decoder = msgspec.json.Decoder(item_models.Item)

    async def on_post(self, req: Request, resp: Response) -> None:
        try:
            item = self.decoder.decode(await req.stream.read())
        except msgspec.DecodeError as exc:  # a ValidationError too
            raise falcon.HTTPUnprocessableEntity(description=str(exc)) from None
        resp.data = msgspec.json.encode(item)
        resp.content_type = falcon.MEDIA_JSON


class AsyncFileReader:
    """What ``resp.stream`` reads: ``await read(size)`` and ``await close()``."""

    def __init__(self, path: Path) -> None:
        self.file = open(path, "rb")  # noqa: SIM115 (closed by Falcon through close())
        self.size = os.fstat(self.file.fileno()).st_size

    async def read(self, size: int = -1) -> bytes:
        return await anyio.to_thread.run_sync(self.file.read, size)

    async def close(self) -> None:
        self.file.close()


class File:
    def __init__(self, path: Path) -> None:
        self.path = path

    async def on_get(self, req: Request, resp: Response) -> None:
        reader = AsyncFileReader(self.path)
        resp.content_length = reader.size
        resp.content_type = OCTET_STREAM
        resp.stream = reader  # type: ignore[assignment]  # Falcon's reader is async-iterable


class Stream:
    async def on_get(self, req: Request, resp: Response) -> None:
        resp.content_type = OCTET_STREAM
        resp.stream = stream_body()


class Sse:
    async def on_get(self, req: Request, resp: Response) -> None:
        resp.sse = events()


class SseIdle:
    async def on_get(self, req: Request, resp: Response) -> None:
        resp.sse = idle_events()


class WebSocketEcho:
    async def on_websocket(self, req: Request, ws: WebSocket) -> None:
        await ws.accept()
        try:
            while True:
                await ws.send_text(await ws.receive_text())
        except falcon.WebSocketDisconnected:
            pass


class WebSocketPush:
    async def on_websocket(self, req: Request, ws: WebSocket) -> None:
        n = req.get_param_as_int("n", default=PUSH_DEFAULT)
        await ws.accept()
        for _ in range(n):
            await ws.send_text(PUSH_MESSAGE)
        await ws.close()


class Upload:
    async def on_post(self, req: Request, resp: Response) -> None:
        form = await req.get_media()
        size = 0
        async for part in form:
            if part.name == "file":
                async for chunk in part.stream:
                    size += len(chunk)
        resp.media = {"size": size}


def create_app(extra_routes: int = EXTRA_ROUTES) -> falcon.asgi.App[Request, Response]:
    app = falcon.asgi.App()
    for number in route_numbers(extra_routes):
        app.add_route(f"/r{number}/items/{{item_id}}", Numbered(number))
    app.add_route("/plaintext", Plaintext())
    app.add_route("/json", Json())
    app.add_route("/items/{item_id:int}", Item())
    app.add_route("/echo", Echo())
    app.add_route("/items", Items())
    app.add_route("/file", File(file_path()))
    app.add_route("/bigfile", File(big_file_path()))
    app.add_route("/stream", Stream())
    app.add_route("/sse", Sse())
    app.add_route(SSE_IDLE, SseIdle())
    app.add_route("/upload", Upload())
    app.add_route(WEBSOCKET_ECHO, WebSocketEcho())
    app.add_route(WEBSOCKET_PUSH, WebSocketPush())
    app.add_static_route(STATIC_PREFIX, static_dir())
    return app
