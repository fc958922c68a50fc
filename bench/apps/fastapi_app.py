"""FastAPI, the way its docs teach: decorators, typed parameters, return values.

``/echo`` takes ``dict[str, Any] = Body()`` (validated by pydantic as a dict,
no model); ``/sse`` uses FastAPI's own ``EventSourceResponse`` with a yielding
path operation and ``raw_data`` (so the text is not JSON-quoted). ``/static``
is Starlette's ``StaticFiles`` mounted, as FastAPI's docs teach.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import Body, FastAPI, UploadFile, WebSocket
from fastapi.responses import FileResponse, PlainTextResponse, StreamingResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

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


class Dimensions(BaseModel):
    width: float
    height: float
    depth: float


class Variant(BaseModel):
    sku: str
    color: str
    price: float


class Item(BaseModel):
    id: int
    name: str
    price: float
    quantity: int
    in_stock: bool
    tags: list[str]
    dimensions: Dimensions
    variants: list[Variant]
    description: str | None = None
    discount: float | None = None


async def stream_body() -> AsyncIterator[bytes]:
    for chunk in STREAM_BODY:
        yield chunk


def add_numbered_route(app: FastAPI, number: int) -> None:
    @app.get(f"/r{number}/items/{{item_id}}")
    async def numbered(item_id: str) -> dict[str, Any]:
        return {"route": number, "item_id": item_id}


def create_app(extra_routes: int = EXTRA_ROUTES) -> FastAPI:
    app = FastAPI()
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

    @app.get("/items/{item_id}")
    async def item(item_id: int, q: str | None = None) -> dict[str, Any]:
        return {"item_id": item_id, "q": q}

    @app.post("/echo")
    async def echo(payload: dict[str, Any] = Body()) -> dict[str, Any]:  # noqa: B008
        return payload

    @app.post("/items")
    async def items(item: Item) -> Item:
        return item

    @app.get("/file")
    async def file() -> FileResponse:
        return FileResponse(small_file)

    @app.get("/bigfile")
    async def bigfile() -> FileResponse:
        return FileResponse(big_file)

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        return StreamingResponse(stream_body(), media_type=OCTET_STREAM)

    @app.get("/sse", response_class=EventSourceResponse)
    async def sse() -> AsyncIterator[ServerSentEvent]:
        for i in range(SSE_EVENTS):
            event, event_id, data = sse_event(i)
            yield ServerSentEvent(raw_data=data, event=event, id=event_id)

    @app.get(SSE_IDLE, response_class=EventSourceResponse)
    async def sse_idle() -> AsyncIterator[ServerSentEvent]:
        event, event_id, data = sse_event(0)
        yield ServerSentEvent(raw_data=data, event=event, id=event_id)
        await asyncio.sleep(IDLE_SECONDS)

    app.mount(STATIC_PREFIX, StaticFiles(directory=static_dir()))

    @app.post("/upload")
    async def upload(file: UploadFile) -> dict[str, int]:
        size = 0
        while chunk := await file.read(64 * 1024):
            size += len(chunk)
        return {"size": size}

    return app
