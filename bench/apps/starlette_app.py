"""Starlette, the way its docs teach: ``Route`` objects and ``request -> Response`` endpoints.

``/items`` validates with msgspec by hand (Starlette validates nothing).
Starlette has no server-sent events of its own: ``/sse`` writes the wire format
into a ``StreamingResponse`` (the content-type given as a header, so Starlette
does not append a charset). ``/static`` is a mounted ``StaticFiles``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import msgspec
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

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
    sse_wire,
    static_dir,
)

Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]


async def stream_body() -> AsyncIterator[bytes]:
    for chunk in STREAM_BODY:
        yield chunk


async def events() -> AsyncIterator[bytes]:
    for i in range(SSE_EVENTS):
        yield sse_wire(i)


async def idle_events() -> AsyncIterator[bytes]:
    yield sse_wire(0)
    await asyncio.sleep(IDLE_SECONDS)


def numbered_endpoint(number: int) -> Endpoint:
    async def numbered(request: Request) -> Response:
        return JSONResponse({"route": number, "item_id": request.path_params["item_id"]})

    return numbered


def create_app(extra_routes: int = EXTRA_ROUTES) -> Starlette:
    small_file = file_path()
    big_file = big_file_path()

    async def plaintext(request: Request) -> Response:
        return PlainTextResponse(PLAINTEXT)

    async def json(request: Request) -> Response:
        return JSONResponse(JSON_MESSAGE)

    async def item(request: Request) -> Response:
        item_id = request.path_params["item_id"]
        return JSONResponse({"item_id": item_id, "q": request.query_params.get("q")})

    async def echo(request: Request) -> Response:
        return JSONResponse(await request.json())

    item_decoder = msgspec.json.Decoder(Item)

    async def items(request: Request) -> Response:
        # Starlette has no body validation: msgspec by hand, as its users do.
        try:
            item = item_decoder.decode(await request.body())
        except msgspec.DecodeError as exc:  # a ValidationError too
            return PlainTextResponse(str(exc), status_code=422)
        return Response(msgspec.json.encode(item), media_type="application/json")

    async def file(request: Request) -> Response:
        return FileResponse(small_file)

    async def bigfile(request: Request) -> Response:
        return FileResponse(big_file)

    async def stream(request: Request) -> Response:
        return StreamingResponse(stream_body(), media_type=OCTET_STREAM)

    async def sse(request: Request) -> Response:
        headers = {"content-type": "text/event-stream", "cache-control": "no-cache"}
        return StreamingResponse(events(), headers=headers)

    async def sse_idle(request: Request) -> Response:
        headers = {"content-type": "text/event-stream", "cache-control": "no-cache"}
        return StreamingResponse(idle_events(), headers=headers)

    async def upload(request: Request) -> Response:
        async with request.form() as form:
            uploaded = form["file"]
            if not isinstance(uploaded, UploadFile):
                return PlainTextResponse("the field 'file' must be a file", status_code=400)
            size = 0
            while chunk := await uploaded.read(64 * 1024):
                size += len(chunk)
        return JSONResponse({"size": size})

    routes: list[BaseRoute] = [
        Route(f"/r{number}/items/{{item_id}}", numbered_endpoint(number))
        for number in route_numbers(extra_routes)
    ]
    routes += [
        Route("/plaintext", plaintext),
        Route("/json", json),
        Route("/items/{item_id:int}", item),
        Route("/echo", echo, methods=["POST"]),
        Route("/items", items, methods=["POST"]),
        Route("/file", file),
        Route("/bigfile", bigfile),
        Route("/stream", stream),
        Route("/sse", sse),
        Route(SSE_IDLE, sse_idle),
        Route("/upload", upload, methods=["POST"]),
        WebSocketRoute(WEBSOCKET_ECHO, websocket_echo),
        WebSocketRoute(WEBSOCKET_PUSH, websocket_push),
        Mount(STATIC_PREFIX, StaticFiles(directory=static_dir())),
    ]
    return Starlette(routes=routes)


async def websocket_echo(websocket: WebSocket) -> None:
    await websocket.accept()
    async for text in websocket.iter_text():
        await websocket.send_text(text)


async def websocket_push(websocket: WebSocket) -> None:
    n = websocket.query_params.get("n", "")
    await websocket.accept()
    for _ in range(int(n) if n.isdigit() else PUSH_DEFAULT):
        await websocket.send_text(PUSH_MESSAGE)
    await websocket.close()
