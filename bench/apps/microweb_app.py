"""microweb, written the way its docs teach: decorators and plain return values.

``/static`` is a mounted ``StaticFiles``; ``/ws/push`` takes ``n`` as a typed
query parameter beside its ``WebSocket``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bench.apps.item_models import Item
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
from microweb import App, HTTPException, Request
from microweb.datastructures import UploadFile
from microweb.responses import (
    EventSourceResponse,
    FileResponse,
    PlainTextResponse,
    ServerSentEvent,
    StreamingResponse,
)
from microweb.staticfiles import StaticFiles
from microweb.websockets import WebSocket


async def stream_body() -> AsyncIterator[bytes]:
    for chunk in STREAM_BODY:
        yield chunk


async def events() -> AsyncIterator[ServerSentEvent]:
    for i in range(SSE_EVENTS):
        event, event_id, data = sse_event(i)
        yield ServerSentEvent(data=data, event=event, id=event_id)


async def idle_events() -> AsyncIterator[ServerSentEvent]:
    event, event_id, data = sse_event(0)
    yield ServerSentEvent(data=data, event=event, id=event_id)
    await asyncio.sleep(IDLE_SECONDS)


def add_numbered_route(app: App, number: int) -> None:
    @app.get(f"/r{number}/items/{{item_id}}")
    async def numbered(item_id: str) -> dict[str, Any]:
        return {"route": number, "item_id": item_id}


def create_app(extra_routes: int = EXTRA_ROUTES) -> App:
    app = App()
    for number in route_numbers(extra_routes):
        add_numbered_route(app, number)
    small_file = file_path()
    big_file = big_file_path()

    @app.get("/plaintext", response_class=PlainTextResponse)
    async def plaintext() -> str:
        return PLAINTEXT

    @app.get("/json")
    async def json() -> dict[str, str]:
        return JSON_MESSAGE

    @app.websocket(WEBSOCKET_ECHO)
    async def websocket_echo(websocket: WebSocket) -> None:
        await websocket.accept()
        async for text in websocket.iter_text():
            await websocket.send_text(text)

    @app.websocket(WEBSOCKET_PUSH)
    async def websocket_push(websocket: WebSocket, n: int = PUSH_DEFAULT) -> None:
        await websocket.accept()
        for _ in range(n):
            await websocket.send_text(PUSH_MESSAGE)
        await websocket.close()

    @app.get("/items/{item_id:int}")
    async def item(item_id: int, q: str | None = None) -> dict[str, Any]:
        return {"item_id": item_id, "q": q}

    @app.post("/echo")
    async def echo(request: Request) -> Any:
        return await request.json()

    @app.post("/items")
    async def items(item: Item) -> Item:
        return item

    @app.get("/file", response_class=FileResponse)
    async def file() -> Path:
        return small_file

    @app.get("/bigfile", response_class=FileResponse)
    async def bigfile() -> Path:
        return big_file

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        return StreamingResponse(stream_body(), media_type=OCTET_STREAM)

    @app.get("/sse", response_class=EventSourceResponse)
    async def sse() -> AsyncIterator[ServerSentEvent]:
        return events()

    @app.get(SSE_IDLE, response_class=EventSourceResponse)
    async def sse_idle() -> AsyncIterator[ServerSentEvent]:
        return idle_events()

    app.mount(STATIC_PREFIX, StaticFiles(directory=static_dir()))

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, int]:
        form = await request.form()
        upload = form["file"]
        if not isinstance(upload, UploadFile):
            raise HTTPException(400, "the field 'file' must be a file")
        size = 0
        while chunk := await upload.read(64 * 1024):
            size += len(chunk)
        return {"size": size}

    return app
