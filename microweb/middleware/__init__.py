"""Middleware: ``Middleware`` for ``App(middleware=[...])`` and the ones microweb ships.

Every middleware here is a plain ASGI app wrapping another (no task group,
no re-streaming): CORS, compression (zstd, br, gzip), trusted hosts, the
HTTPS redirect and signed-cookie sessions. They take the arguments of
Starlette's classes of the same names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from microweb.middleware.compression import CompressionMiddleware
from microweb.middleware.cors import CORSMiddleware
from microweb.middleware.gzip import GZipMiddleware
from microweb.middleware.httpsredirect import HTTPSRedirectMiddleware
from microweb.middleware.sessions import SessionMiddleware
from microweb.middleware.trustedhost import TrustedHostMiddleware
from microweb.types import ASGIApp

__all__ = [
    "CORSMiddleware",
    "CompressionMiddleware",
    "GZipMiddleware",
    "HTTPSRedirectMiddleware",
    "Middleware",
    "SessionMiddleware",
    "TrustedHostMiddleware",
]


class Middleware:
    """A middleware class and its arguments, for ``App(middleware=[...])``::

        app = App(middleware=[
            Middleware(CORSMiddleware, allow_origins=["https://example.com"]),
            Middleware(GZipMiddleware, minimum_size=1000),
        ])

    The first in the list is the outermost. Calling it with an app builds the
    middleware, ``cls(app, *args, **kwargs)``; it unpacks as
    ``cls, args, kwargs`` as Starlette's ``Middleware`` does.
    """

    __slots__ = ("args", "cls", "kwargs")

    def __init__(self, cls: Callable[..., ASGIApp], *args: Any, **kwargs: Any) -> None:
        if not callable(cls):
            raise TypeError(f"Middleware needs a middleware class, got {cls!r}")
        self.cls = cls
        self.args = args
        self.kwargs = kwargs

    def __call__(self, app: ASGIApp) -> ASGIApp:
        return self.cls(app, *self.args, **self.kwargs)

    def __iter__(self) -> Iterator[Any]:
        return iter((self.cls, self.args, self.kwargs))

    def __repr__(self) -> str:
        arguments = [getattr(self.cls, "__name__", repr(self.cls))]
        arguments += [repr(a) for a in self.args]
        arguments += [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"Middleware({', '.join(arguments)})"
