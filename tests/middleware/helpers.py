"""Helpers for the middleware tests: a WebSocket handshake driven by hand, tiny apps."""

from __future__ import annotations

from typing import Any

from microweb.types import Message, Receive, Scope, Send


def websocket_scope(
    headers: list[tuple[bytes, bytes]] | None = None,
    *,
    denial: bool = True,
    scheme: str = "ws",
    path: str = "/ws",
) -> dict[str, Any]:
    return {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "scheme": scheme,
        "server": ("testserver", 80),
        "client": ("testclient", 50000),
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers or [(b"host", b"testserver")],
        "subprotocols": [],
        "extensions": {"websocket.http.response": {}} if denial else {},
    }


async def accepting_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Accept a handshake (and note the session it saw), or answer HTTP with ``ok``."""
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept", "headers": []})
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def handshake(app: Any, scope: dict[str, Any]) -> list[Message]:
    """Run one WebSocket handshake through ``app``; the messages it sent."""
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent
