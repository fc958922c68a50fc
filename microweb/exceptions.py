"""Exceptions a handler raises to answer with an HTTP error or to close a WebSocket.

Exception
├── HTTPException                 answered as {"detail": ...} with its status
│   └── RequestValidationError    422: a parameter was missing or unconvertible
└── WebSocketException            closes the WebSocket with its code
"""

from __future__ import annotations

import http
from collections.abc import Mapping
from typing import Any

__all__ = ["HTTPException", "RequestValidationError", "WebSocketException"]


class HTTPException(Exception):
    """Stop handling and answer ``{"detail": detail}`` with ``status_code`` and ``headers``.

    Without ``detail`` the status's reason phrase is used::

        raise HTTPException(404)                       # {"detail": "Not Found"}
        raise HTTPException(401, "Log in first", headers={"www-authenticate": "Bearer"})

    ``app.exception_handler(HTTPException)`` or ``app.exception_handler(404)``
    replaces the default answer.
    """

    def __init__(
        self,
        status_code: int,
        detail: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if detail is None:
            try:
                detail = http.HTTPStatus(status_code).phrase
            except ValueError:
                detail = ""
        super().__init__(status_code, detail)
        self.status_code = status_code
        self.detail = detail
        self.headers = headers

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, detail={self.detail!r})"


class RequestValidationError(HTTPException):
    """422 listing what was wrong with the request, one item per value.

    Each item is shaped as FastAPI writes it (SPEC "Typed request data")::

        {"type": "missing", "loc": ["query", "limit"], "msg": "Field required", "input": None}

    plus ``"ctx"`` for a failed constraint. ``errors()`` gives the items and
    ``body`` the decoded JSON body, when the route reads one (else None);
    ``app.exception_handler(RequestValidationError)`` can reshape the answer.
    """

    def __init__(self, errors: list[dict[str, Any]], *, body: Any = None) -> None:
        super().__init__(422, errors)
        self._errors = errors
        self.body = body

    def errors(self) -> list[dict[str, Any]]:
        """The items of the 422's ``detail``."""
        return self._errors


class WebSocketException(Exception):
    """Stop a WebSocket handler and close the connection with ``code`` and ``reason``.

    Before the handshake was accepted, the close refuses it (the server
    answers 403)::

        raise WebSocketException(1008, "a token is required")

    ``code`` is a WebSocket close code (RFC 6455 §7.4: 1000 to 4999).
    """

    def __init__(self, code: int, reason: str | None = None) -> None:
        if isinstance(code, bool) or not isinstance(code, int) or not 1000 <= code <= 4999:
            raise ValueError(
                f"a WebSocket close code must be an int from 1000 to 4999, got {code!r}"
            )
        super().__init__(code, reason)
        self.code = code
        self.reason = reason or ""

    def __str__(self) -> str:
        return f"{self.code}: {self.reason}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, reason={self.reason!r})"
