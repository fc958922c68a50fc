"""The app the reliability suite serves: one endpoint per kind of abuse.

Serve it with ``uvicorn bench.reliability.app:app``. ``/debug`` reports what
the suite counts before and after each fault (tasks, open files, temporary
files, streams still open), so a leak shows as a difference.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator
from typing import Any

from microweb import App, BackgroundTasks, Request
from microweb.responses import (
    EventSourceResponse,
    JSONResponse,
    PlainTextResponse,
    StreamingResponse,
)

app = App(default_response_class=PlainTextResponse)

counters = {"streams_open": 0, "background_ok": 0, "background_failed": 0, "sse_clients": 0}


@app.get("/")
async def index() -> str:
    return "ok"


@app.post("/upload")
async def upload(request: Request) -> str:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
    return str(size)


@app.post("/form")
async def form(request: Request) -> str:
    data = await request.form()
    return str(len(data))


@app.get("/sse")
async def sse(ping: float = 1.0) -> EventSourceResponse:
    async def events() -> AsyncIterator[dict[str, Any]]:
        counters["sse_clients"] += 1
        try:
            await asyncio.Event().wait()  # nothing to say: only pings flow
            yield {"data": "never"}
        finally:
            counters["sse_clients"] -= 1

    return EventSourceResponse(events(), ping=ping)


@app.get("/stream")
async def stream() -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        counters["streams_open"] += 1
        try:
            while True:
                yield b"x" * 1024
                await asyncio.sleep(0.01)
        finally:
            counters["streams_open"] -= 1

    return StreamingResponse(chunks(), media_type="application/octet-stream")


@app.get("/raise")
async def raise_() -> str:
    raise RuntimeError("boom")


def fail() -> None:
    counters["background_failed"] += 1
    raise RuntimeError("background task failed")


def succeed() -> None:
    counters["background_ok"] += 1


@app.get("/background")
async def background(tasks: BackgroundTasks) -> str:
    tasks.add_task(fail)
    tasks.add_task(succeed)
    return "sent"


@app.get("/debug", response_class=JSONResponse)
async def debug() -> dict[str, Any]:
    tmp = tempfile.gettempdir()
    return {
        "pid": os.getpid(),
        "tasks": len(asyncio.all_tasks()),
        "fds": len(os.listdir("/proc/self/fd")),
        "tmp_files": len(os.listdir(tmp)),
        "tmpdir": tmp,
        **counters,
    }
