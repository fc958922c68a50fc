"""Exception handlers: which one answers an exception, calling it, and the defaults.

The App keeps ``{exception class or HTTP status: handler}`` (SPEC "Errors");
both of its error boundaries, HTTP's (``applications``) and the websocket
one (``_ws_boundary``), look a handler up here in the same order: for an
``HTTPException`` the handler of its status, then of its class; for anything
else the handler of its class or a base class, else the error is logged as
unhandled and the ``500`` handler, if any, answers it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from microweb._utils import describe, is_async_callable
from microweb.concurrency import run_in_threadpool
from microweb.exceptions import HTTPException
from microweb.requests import Request
from microweb.responses import BODYLESS_STATUSES, JSONResponse, Response
from microweb.types import Scope
from microweb.websockets import WebSocket

__all__ = [
    "ExceptionHandler",
    "Handlers",
    "call_handler",
    "class_handler",
    "handler_for",
    "http_exception_response",
    "log_unhandled",
]

logger = logging.getLogger("microweb")

HTTPExceptionHandler = Callable[[Request, Any], Response | Awaitable[Response]]
# A WebSocket's handler may also close the connection itself and return None.
WebSocketExceptionHandler = Callable[
    [WebSocket, Any], Awaitable[Response | None] | Response | None
]
ExceptionHandler = HTTPExceptionHandler | WebSocketExceptionHandler
#: What the App registered: ``{exception class or HTTP status: handler}``.
Handlers = Mapping[type[Exception] | int, ExceptionHandler]


def class_handler(handlers: Handlers, exc: Exception) -> ExceptionHandler | None:
    """The handler registered for the class of ``exc`` or its nearest base class."""
    for cls in type(exc).__mro__:
        handler = handlers.get(cls)
        if handler is not None:
            return handler
    return None


def handler_for(handlers: Handlers, scope: Scope, exc: Exception) -> ExceptionHandler | None:
    """The handler registered for ``exc``, in the boundary's order; None: the default.

    An ``HTTPException`` looks for its status first, then its class; any
    other exception for its class, else it is logged as unhandled and the
    500 handler (if any) answers it.
    """
    if isinstance(exc, HTTPException):
        return handlers.get(exc.status_code) or class_handler(handlers, exc)
    handler = class_handler(handlers, exc)
    if handler is None:
        log_unhandled(scope, exc)
        handler = handlers.get(500)
    return handler


async def call_handler(handler: ExceptionHandler, connection: Any, exc: Exception) -> Any:
    """Call an exception handler, awaited or in a worker thread."""
    if is_async_callable(handler):
        return await handler(connection, exc)  # type: ignore[misc]  # async: awaitable
    return await run_in_threadpool(handler, connection, exc)


def http_exception_response(exc: HTTPException) -> Response:
    """The default answer to an ``HTTPException``: ``{"detail": ...}`` with its status."""
    if exc.status_code in BODYLESS_STATUSES:
        return Response(status_code=exc.status_code, headers=exc.headers)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)


def log_unhandled(scope: Scope, exc: Exception) -> None:
    logger.error("unhandled %s in %s", type(exc).__name__, describe(scope), exc_info=exc)
