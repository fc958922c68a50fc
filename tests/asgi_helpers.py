"""Shared test helpers: an ASGI scope builder and a one-request ``call_asgi``.

Test modules import these from here, never from one another (STYLE.md).
"""

from __future__ import annotations

from collections import deque
from typing import Any

import anyio

from microweb.types import ASGIApp, Message


def http_scope(
    method: str = "GET",
    path: str = "/",
    headers: list[tuple[bytes, bytes]] | None = None,
    extensions: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("testclient", 50000),
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers or [],
        "extensions": extensions or {},
    }


async def call_asgi(
    app: ASGIApp,
    method: str = "GET",
    headers: list[tuple[bytes, bytes]] | None = None,
    *,
    disconnect: anyio.Event | None = None,
    send_fails_after: int | None = None,
    extensions: dict[str, Any] | None = None,
    path: str = "/",
) -> list[Message]:
    """Call ``app`` with one request; return the messages it sent.

    ``receive`` gives an empty body, then waits for ``disconnect`` (forever
    if None). ``send`` raises OSError (ASGI spec 2.4) once ``send_fails_after``
    messages went through.
    """
    sent: list[Message] = []
    body_given = False
    never = anyio.Event()

    async def receive() -> Message:
        nonlocal body_given
        if not body_given:
            body_given = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await (disconnect or never).wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if send_fails_after is not None and len(sent) >= send_fails_after:
            raise OSError("the client is gone")
        sent.append(message)

    await app(http_scope(method, path, headers, extensions), receive, send)
    return sent


def websocket_scope(
    path: str = "/",
    query_string: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
    extensions: dict[str, Any] | None = None,
    subprotocols: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": "ws",
        "server": ("testserver", 80),
        "client": ("testclient", 50000),
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query_string,
        "headers": headers or [],
        "subprotocols": subprotocols or [],
        "extensions": {} if extensions is None else extensions,
    }


def handshake_scope(
    headers: list[tuple[bytes, bytes]] | None = None,
    *,
    denial: bool = True,
    scheme: str = "ws",
    path: str = "/ws",
) -> dict[str, Any]:
    """A handshake's scope for middleware tests; ``denial``: the server offers
    ``websocket.http.response``."""
    scope = websocket_scope(
        path,
        headers=headers or [(b"host", b"testserver")],
        extensions={"websocket.http.response": {}} if denial else {},
    )
    scope["scheme"] = scheme
    return scope


class WebSocketPeer:
    """The server's side of one raw websocket call, driven by a test on any anyio backend.

    ``push`` hands the app a message (``websocket.connect`` is queued
    already, or ``first``); ``next`` waits for the app's next message; ``sent``
    has them all. ``send`` raises OSError once ``gone`` is set (ASGI spec 2.4).
    """

    def __init__(self, first: Message | None = None) -> None:
        self._incoming: deque[Message] = deque([first or {"type": "websocket.connect"}])
        self._outgoing: deque[Message] = deque()
        self._arrived: anyio.Event | None = None
        self._left: anyio.Event | None = None
        self.sent: list[Message] = []
        self.gone = False

    def push(self, message: Message) -> None:
        self._incoming.append(message)
        if self._arrived is not None:
            self._arrived.set()

    async def receive(self) -> Message:
        while not self._incoming:
            self._arrived = anyio.Event()
            await self._arrived.wait()
        return self._incoming.popleft()

    async def send(self, message: Message) -> None:
        if self.gone:
            raise OSError("the client is gone")
        self.sent.append(message)
        self._outgoing.append(message)
        if self._left is not None:
            self._left.set()

    async def next(self) -> Message:
        with anyio.fail_after(5):
            while not self._outgoing:
                self._left = anyio.Event()
                await self._left.wait()
        return self._outgoing.popleft()
