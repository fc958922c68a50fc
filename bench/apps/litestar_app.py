"""Litestar, the way its docs teach: handler decorators and its response containers.

Litestar needs its startup (the ASGI lifespan) before it answers requests.
OpenAPI is off (it is built lazily and never asked for here, but this keeps the
app as small as the others). A POST handler answers 201 unless told: /echo, /items
and /upload say 200. ``/static`` is ``create_static_files_router``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

from litestar import Litestar, MediaType, WebSocket, get, post, websocket
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.params import Body
from litestar.response import File, ServerSentEvent, Stream
from litestar.response.sse import ServerSentEventMessage
from litestar.static_files import create_static_files_router

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


async def stream_body() -> AsyncIterator[bytes]:
    for chunk in STREAM_BODY:
        yield chunk


async def events() -> AsyncIterator[ServerSentEventMessage]:
    for i in range(SSE_EVENTS):
        event, event_id, data = sse_event(i)
        yield ServerSentEventMessage(data=data, event=event, id=event_id)


async def idle_events() -> AsyncIterator[ServerSentEventMessage]:
    event, event_id, data = sse_event(0)
    yield ServerSentEventMessage(data=data, event=event, id=event_id)
    await asyncio.sleep(IDLE_SECONDS)


def numbered_handler(number: int) -> HTTPRouteHandler:
    @get(f"/r{number}/items/{{item_id:str}}", name=f"numbered-{number}")
    async def numbered(item_id: str) -> dict[str, Any]:
        return {"route": number, "item_id": item_id}

    return numbered


def create_app(extra_routes: int = EXTRA_ROUTES) -> Litestar:
    small_file = file_path()
    big_file = big_file_path()

    @get("/plaintext", media_type=MediaType.TEXT)
    async def plaintext() -> str:
        return PLAINTEXT

    @get("/json")
    async def json() -> dict[str, str]:
        return JSON_MESSAGE

    @get("/items/{item_id:int}")
    async def item(item_id: int, q: str | None = None) -> dict[str, Any]:
        return {"item_id": item_id, "q": q}

    @post("/echo", status_code=200)
    async def echo(data: dict[str, Any]) -> dict[str, Any]:
        return data

    @post("/items", status_code=200)
    async def items(data: Item) -> Item:
        return data

    @get("/file")
    async def file() -> File:
        return File(small_file, media_type=OCTET_STREAM)

    @get("/bigfile")
    async def bigfile() -> File:
        return File(big_file, media_type=OCTET_STREAM)

    @get("/stream")
    async def stream() -> Stream:
        return Stream(stream_body(), media_type=OCTET_STREAM)

    @get("/sse")
    async def sse() -> ServerSentEvent:
        # The content-type given as a header: else Litestar appends a charset.
        return ServerSentEvent(events(), headers={"content-type": "text/event-stream"})

    @get(SSE_IDLE)
    async def sse_idle() -> ServerSentEvent:
        return ServerSentEvent(idle_events(), headers={"content-type": "text/event-stream"})

    # Litestar refuses bodies over 10 MB unless told: allow the 50 MiB upload.
    @post("/upload", status_code=200, request_max_body_size=100 * 1024 * 1024)
    async def upload(
        data: Annotated[UploadFile, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> dict[str, int]:
        size = 0
        while chunk := await data.read(64 * 1024):
            size += len(chunk)
        return {"size": size}

    handlers: list[HTTPRouteHandler] = [numbered_handler(n) for n in route_numbers(extra_routes)]
    handlers += [plaintext, json, item, echo, items, file, bigfile, stream, sse, sse_idle, upload]
    static = create_static_files_router(path=STATIC_PREFIX, directories=[static_dir()])
    return Litestar(
        route_handlers=[*handlers, websocket_echo, websocket_push, static], openapi_config=None
    )


@websocket(WEBSOCKET_ECHO)
async def websocket_echo(socket: WebSocket[Any, Any, Any]) -> None:
    await socket.accept()
    async for text in socket.iter_data(mode="text"):
        await socket.send_data(text, mode="text")


@websocket(WEBSOCKET_PUSH)
async def websocket_push(socket: WebSocket[Any, Any, Any], n: int = PUSH_DEFAULT) -> None:
    await socket.accept()
    for _ in range(n):
        await socket.send_data(PUSH_MESSAGE, mode="text")
    await socket.close()
