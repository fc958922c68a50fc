"""Shared test helpers: an ASGI scope builder and a one-request ``call_asgi``.

Test modules import these from here, never from one another (STYLE.md).
"""

from __future__ import annotations

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


def websocket_scope(
    headers: list[tuple[bytes, bytes]] | None = None,
    *,
    denial: bool = True,
    scheme: str = "ws",
    path: str = "/ws",
) -> dict[str, Any]:
    """A handshake's scope; ``denial``: the server offers ``websocket.http.response``."""
    scope = http_scope("GET", path, headers or [(b"host", b"testserver")])
    del scope["method"], scope["http_version"]
    scope.update(type="websocket", scheme=scheme, subprotocols=[])
    scope["extensions"] = {"websocket.http.response": {}} if denial else {}
    return scope


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
