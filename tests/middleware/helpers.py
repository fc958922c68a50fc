"""Helpers for the middleware tests: a WebSocket handshake driven by hand, an app to wrap."""

from __future__ import annotations

from typing import Any

from microweb.types import Message, Receive, Scope, Send


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
