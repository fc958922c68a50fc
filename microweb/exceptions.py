"""Exceptions a handler raises to answer with an HTTP error.

Exception
└── HTTPException                 answered as {"detail": ...} with its status
    └── RequestValidationError    422: a parameter was missing or unconvertible
"""

from __future__ import annotations

import http
from collections.abc import Mapping
from typing import Any

__all__ = ["HTTPException", "RequestValidationError"]


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
    """422 with one entry per bad parameter: ``{"loc": [...], "msg": ..., "type": ...}``."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(422, errors)
        self.errors = errors
