"""The App's error boundary for websocket scopes (SPEC "WebSockets", docs/websockets.md).

What an exception that escaped the router becomes depends on what was sent
so far, which the boundary watches (``WatchedConnection``, whose tracking
``receive`` and ``send`` the router gets). A handler registered for it
(looked up as for HTTP, ``_exception_handlers``: the status of an
``HTTPException``, then the class, then 500 for the unhandled) gets
``(websocket, exc)``: it may close the connection, send a denial response,
or return a ``Response``, sent as the denial where the handshake is still
open and the server offers ``websocket.http.response``; what it leaves open
is closed 1000. Without a handler:

- ``WebSocketException`` closes with its code (expected: never logged);
- before accept, an ``HTTPException`` is a denial response with its status
  and detail (else a close 1008), anything else is logged and a 500 denial
  (else a close 1011);
- after accept, an ``HTTPException`` closes 1008 with its detail, anything
  else 1011, no traceback sent (RFC 6455 §7.4.1).

A client that left (``WebSocketDisconnect``) is no error; only a test
client that asks (``ESCAPE_EXTENSION``) hears of it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from microweb._exception_handlers import (
    Handlers,
    call_handler,
    class_handler,
    handler_for,
    http_exception_response,
    log_unhandled,
)
from microweb._websocket_route import close_if_open
from microweb.exceptions import HTTPException, WebSocketException
from microweb.responses import Response
from microweb.types import ASGIApp, Receive, Scope, Send
from microweb.websockets import (
    ESCAPE_EXTENSION,
    WatchedConnection,
    WebSocketDisconnect,
    WebSocketState,
)

__all__ = ["WebSocketBoundary"]


class WebSocketBoundary:
    """An ASGI app for websocket scopes: ``app`` (the router), its exceptions answered.

    ``handlers`` is the App's registry (the same mapping: a handler added
    later applies); ``server_error`` makes the App's 500 response (its
    ``debug`` setting decides the body), sent as a denial.
    """

    __slots__ = ("_app", "_handlers", "_server_error")

    def __init__(
        self, app: ASGIApp, handlers: Handlers, server_error: Callable[[Exception], Response]
    ) -> None:
        self._app = app
        self._handlers = handlers
        self._server_error = server_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        connection = WatchedConnection(receive, send)
        try:
            await self._app(scope, connection.receive, connection.send)
        except WebSocketDisconnect as exc:
            if (escape := scope.get("extensions", {}).get(ESCAPE_EXTENSION)) is not None:
                escape["exception"] = exc
        except Exception as exc:
            await self._answer(scope, connection, exc)

    async def _answer(self, scope: Scope, connection: WatchedConnection, exc: Exception) -> None:
        if isinstance(exc, WebSocketException):
            handler = class_handler(self._handlers, exc)  # expected: never logged
        else:
            handler = handler_for(self._handlers, scope, exc)
        if handler is not None:
            websocket = connection.websocket(scope)
            try:
                result = await call_handler(handler, websocket, exc)
                if result is not None and not isinstance(result, Response):
                    raise TypeError(
                        f"exception handler {handler!r} returned {type(result).__name__}; "
                        "for a WebSocket it returns None or a Response"
                    )
            except WebSocketDisconnect:
                return  # the client left meanwhile
            except Exception as handler_exc:
                log_unhandled(scope, handler_exc)
                exc = handler_exc  # answered below as any unhandled error
            else:
                if result is None:
                    await close_if_open(websocket, 1000)
                    return
                if connection.may_deny(scope):
                    await connection.deny(scope, result)
                    return
                # A Response cannot be sent after accept: closed as without the handler.
        await self._close_for_error(scope, connection, exc)

    async def _close_for_error(
        self, scope: Scope, connection: WatchedConnection, exc: Exception
    ) -> None:
        """The default answer to ``exc`` (no handler), by what was sent so far."""
        if connection.sent not in (WebSocketState.CONNECTING, WebSocketState.CONNECTED):
            return  # closed, or a denial response under way: nothing more to say
        if isinstance(exc, WebSocketException):
            code, reason = exc.code, exc.reason
        elif connection.may_deny(scope):
            response = (
                http_exception_response(exc)
                if isinstance(exc, HTTPException)
                else self._server_error(exc)
            )
            await connection.deny(scope, response)
            return
        elif isinstance(exc, HTTPException):
            code, reason = 1008, _close_reason(exc.detail)  # RFC 6455: policy violation
        else:
            code, reason = 1011, ""  # RFC 6455: an unexpected condition; no traceback sent
        with contextlib.suppress(OSError):  # the client left: nobody to tell
            await connection.send({"type": "websocket.close", "code": code, "reason": reason})


def _close_reason(detail: Any) -> str:
    """``detail`` as a close reason: RFC 6455 §5.5 leaves it 123 bytes of UTF-8."""
    reason = detail if isinstance(detail, str) else ""
    encoded = reason.encode()
    if len(encoded) <= 123:
        return reason
    return encoded[:123].decode(errors="ignore")
