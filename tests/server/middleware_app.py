"""The middleware served by uvicorn in tests/server/test_middleware_server.py.

``/stream`` sends chunk k+1 only once the test has called ``/ack/k``, which
it does after reading and decompressing chunk k: a chunk held back by the
compression would never be acknowledged (the stream then says ``late`` after
a bounded wait instead of hanging). ``SESSION_KEYS`` (comma-separated) are
the SessionMiddleware's keys, newest first.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import anyio

from microweb import App, Request
from microweb.middleware import CompressionMiddleware, Middleware, SessionMiddleware
from microweb.responses import StreamingResponse

CHUNKS = 4
ACK_TIMEOUT = 5.0

app = App(
    middleware=[
        Middleware(CompressionMiddleware, minimum_size=0),
        Middleware(SessionMiddleware, secret_key=os.environ.get("SESSION_KEYS", "k").split(",")),
    ]
)
acks: dict[int, anyio.Event] = {}


def ack_event(index: int) -> anyio.Event:
    return acks.setdefault(index, anyio.Event())


@app.get("/stream")
def stream() -> StreamingResponse:
    async def chunks() -> AsyncIterator[str]:
        acks.clear()
        for index in range(CHUNKS):
            yield f"chunk {index};"
            with anyio.move_on_after(ACK_TIMEOUT) as waited:
                await ack_event(index).wait()
            if waited.cancelled_caught:
                yield "late"
                return

    return StreamingResponse(chunks(), media_type="text/plain")


@app.post("/ack/{index}")
def ack(index: int) -> str:
    ack_event(index).set()
    return "ok"


@app.get("/session")
def read_session(request: Request) -> dict[str, Any]:
    return request.session


@app.post("/session/{value}")
def write_session(request: Request, value: str) -> dict[str, Any]:
    request.session["value"] = value
    return request.session
