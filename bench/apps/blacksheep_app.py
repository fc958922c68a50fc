"""BlackSheep, the way its docs teach: ``app.router`` decorators and response helpers.

BlackSheep needs its startup (the ASGI lifespan) before it answers requests.
Its ``file()`` helper streams the file chunked (no content-length) and its
server-sent events use ``TextServerSentEvent`` so the text is not JSON-quoted.
``/static`` is ``app.serve_files``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from blacksheep import Application, FromJSON, Request, Response, json, text
from blacksheep.contents import StreamedContent
from blacksheep.server.responses import file as file_response
from blacksheep.server.routing import Router
from blacksheep.server.sse import ServerSentEventsResponse, TextServerSentEvent
from blacksheep.server.websocket import WebSocket, WebSocketDisconnectError

from bench.apps.item_models import ItemData
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


async def events() -> AsyncIterator[TextServerSentEvent]:
    for i in range(SSE_EVENTS):
        event, event_id, data = sse_event(i)
        yield TextServerSentEvent(data, event=event, id=event_id)


async def idle_events() -> AsyncIterator[TextServerSentEvent]:
    event, event_id, data = sse_event(0)
    yield TextServerSentEvent(data, event=event, id=event_id)
    await asyncio.sleep(IDLE_SECONDS)


def add_numbered_route(app: Application, number: int) -> None:
    @app.router.get(f"/r{number}/items/{{item_id}}")
    async def numbered(item_id: str) -> Response:
        return json({"route": number, "item_id": item_id})


def create_app(extra_routes: int = EXTRA_ROUTES) -> Application:
    # A router of its own: the default one is shared by every Application in the process.
    app = Application(router=Router())
    # Application() sets its logger to INFO, which logs every 404 (the check makes one).
    logging.getLogger("blacksheep.server").setLevel(logging.WARNING)
    for number in route_numbers(extra_routes):
        add_numbered_route(app, number)
    small_file = str(file_path())
    big_file = str(big_file_path())
    get, post = app.router.get, app.router.post

    @get("/plaintext")
    async def plaintext() -> Response:
        return text(PLAINTEXT)

    @get("/json")
    async def json_() -> Response:
        return json(JSON_MESSAGE)

    @get("/items/{int:item_id}")
    async def item(item_id: int, q: str | None = None) -> Response:
        return json({"item_id": item_id, "q": q})

    @post("/echo")
    async def echo(request: Request) -> Response:
        return json(await request.json())

    @post("/items")
    async def items(item: FromJSON[ItemData]) -> Response:
        return json(item.value)

    @get("/file")
    async def file() -> Response:
        return file_response(small_file, OCTET_STREAM)

    @get("/bigfile")
    async def bigfile() -> Response:
        return file_response(big_file, OCTET_STREAM)

    @get("/stream")
    async def stream() -> Response:
        return Response(200, None, StreamedContent(OCTET_STREAM.encode(), stream_body))

    @get("/sse")
    async def sse() -> Response:
        return ServerSentEventsResponse(events)

    @get(SSE_IDLE)
    async def sse_idle() -> Response:
        return ServerSentEventsResponse(idle_events)

    # Only the listed extensions are served (the default list is web files).
    app.serve_files(static_dir(), root_path=STATIC_PREFIX.lstrip("/"), extensions={".bin"})

    @post("/upload")
    async def upload(request: Request) -> Response:
        # Files past 1 MiB are spooled to disk; part.stream() reads the spooled file.
        files = await request.files("file")
        if not files:
            return text("the field 'file' must be a file", status=400)
        size = 0
        async for chunk in files[0].stream(64 * 1024):
            size += len(chunk)
        return json({"size": size})

    @app.router.ws(WEBSOCKET_ECHO)
    async def websocket_echo(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                await websocket.send_text(await websocket.receive_text())
        except WebSocketDisconnectError:
            pass

    @app.router.ws(WEBSOCKET_PUSH)
    async def websocket_push(websocket: WebSocket) -> None:
        n = websocket.query.get("n", [""])[0]
        await websocket.accept()
        for _ in range(int(n) if n.isdigit() else PUSH_DEFAULT):
            await websocket.send_text(PUSH_MESSAGE)
        await websocket.close()

    return app
