"""WebSockets served by uvicorn in tests/server/test_websockets_server.py.

Handlers that must prove they were stopped write "closed" to the file named
by their ``marker`` query parameter in their ``finally``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio

from microweb import App, HTTPException
from microweb.websockets import WebSocket

app = App()


@app.websocket("/echo")
async def echo(websocket: WebSocket) -> None:
    offered = websocket.scope.get("subprotocols", [])
    await websocket.accept(subprotocol="chat" if "chat" in offered else None)
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") is not None:
            await websocket.send_text(message["text"])
        else:
            await websocket.send_bytes(message["bytes"])


@app.websocket("/json")
async def json(websocket: WebSocket) -> None:
    await websocket.accept()
    async for data in websocket.iter_json():
        await websocket.send_json({"echo": data})


@app.websocket("/close/{code:int}")
async def close(websocket: WebSocket, code: int) -> None:
    await websocket.accept()
    await websocket.close(code, "bye")


@app.websocket("/members")
async def members(websocket: WebSocket, token: str | None = None) -> None:
    if token != "secret":
        raise HTTPException(403, "members only")
    await websocket.accept()
    await websocket.send_text("welcome")


@app.websocket("/boom")
async def boom(websocket: WebSocket) -> None:
    await websocket.accept()
    raise RuntimeError("a bug")


@app.websocket("/feed")
async def feed(marker: str) -> AsyncIterator[Any]:
    try:
        n = 0
        while True:
            yield {"tick": n}
            n += 1
            await anyio.sleep(0.05)
    finally:
        Path(marker).write_text("closed")


@app.websocket("/wait")
async def wait(websocket: WebSocket, marker: str) -> None:
    await websocket.accept()
    try:
        async for text in websocket.iter_text():
            await websocket.send_text(text)
    finally:
        Path(marker).write_text("closed")
