"""What every middleware here needs: a header out of a raw list, ``vary``, a refusal.

Headers stay raw ``(bytes, bytes)`` pairs with lower-case names (ASGI spec:
servers lower-case request header names; microweb's responses send them so).

A refusal is one function for both kinds of scope. An HTTP request gets a
plain-text response. A WebSocket handshake gets the same response as a
denial (ASGI "Websocket Denial Response" extension) when the server offers
``websocket.http.response``, else ``websocket.close`` with 1008 (policy
violation) before accept, which the server turns into a 403.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from microweb.datastructures import URL
from microweb.types import Scope, Send

__all__ = ["RawHeaders", "add_vary", "get_header", "redirect_url", "send_plain"]

RawHeaders = list[tuple[bytes, bytes]]

POLICY_VIOLATION = 1008  # RFC 6455 §7.4.1


def get_header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    """The first value of the lower-case header ``name``, or None."""
    for key, value in headers:
        if key == name:
            return value
    return None


def add_vary(headers: RawHeaders, token: bytes) -> None:
    """Add ``token`` to ``vary`` (RFC 9110 §12.5.5), once, merged into a vary already there."""
    for index, (key, value) in enumerate(headers):
        if key == b"vary":
            tokens = [t.strip().lower() for t in value.split(b",")]
            if token.lower() in tokens or b"*" in tokens:
                return
            headers[index] = (key, value + b", " + token)
            return
    headers.append((b"vary", token))


def redirect_url(scope: Scope, *, scheme: str | None = None, hostname: str | None = None) -> str:
    """The request's URL, on ``hostname`` (default: its own) with ``scheme`` if given.

    A default port (80, 443) is dropped; the path and query are the request's,
    the path as the client sent it (``raw_path``: ``%2F`` stays ``%2F``).
    """
    url = URL(scope=scope)
    changes: dict[str, Any] = {}
    raw_path = scope.get("raw_path")
    if raw_path:
        changes["path"] = raw_path.decode("latin-1")
    if scheme is not None:
        changes["scheme"] = scheme
    if hostname is not None or url.port in (80, 443):
        port = None if url.port in (80, 443) else url.port
        changes["hostname"] = url.hostname if hostname is None else hostname
        changes["port"] = port
    return str(url.replace(**changes))


async def send_plain(
    scope: Scope,
    send: Send,
    status: int,
    text: str,
    headers: Iterable[tuple[bytes, bytes]] = (),
) -> None:
    """Answer ``status`` with ``text`` (or deny a WebSocket handshake, see the module)."""
    body = text.encode("utf-8")
    raw = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode("latin-1")),
        *headers,
    ]
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})
    elif "websocket.http.response" in scope.get("extensions", {}):
        await send({"type": "websocket.http.response.start", "status": status, "headers": raw})
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": POLICY_VIOLATION})
