"""What an HTTP request and a WebSocket both are: one connection, read from its scope.

``Request`` (``requests``) and ``WebSocket`` (``websockets``) share this base:
the URL, headers, query parameters, cookies, client address, path
parameters, per-connection state and ``url_for``. Each view is built lazily,
on first use, from the ASGI scope and kept; the headers stay raw
``(bytes, bytes)`` pairs in the scope underneath.

A connection is also a read-only ``Mapping`` of its scope (``conn["path"]``,
``len``, iteration, ``dict(conn)``), as Starlette's are: methods that read
``scope``, nothing stored. Unlike a mapping it compares and hashes by
identity: two requests with equal scopes are still two requests.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterator, KeysView, Mapping, ValuesView
from typing import Any

from microweb._context import app_context
from microweb._http.cookies import parse_cookie_header
from microweb.datastructures import URL, Address, Headers, QueryParams, State
from microweb.exceptions import HTTPException
from microweb.types import Scope

__all__ = ["HTTPConnection"]


class HTTPConnection:
    """The parts of an ASGI ``http`` or ``websocket`` connection both kinds share.

    Read as a mapping, it is its ASGI scope: ``request["path"]``, ``dict(websocket)``.
    """

    __slots__ = ("_cookies", "_headers", "_query_params", "_url", "scope")

    def __init__(self, scope: Scope) -> None:
        # Request.__init__ sets these same fields itself (perf): keep the two in step.
        self.scope = scope
        self._headers: Headers | None = None
        self._query_params: QueryParams | None = None
        self._cookies: dict[str, str] | None = None
        self._url: URL | None = None

    def __getitem__(self, key: str) -> Any:
        return self.scope[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.scope)

    def __len__(self) -> int:
        return len(self.scope)

    def __contains__(self, key: object) -> bool:
        return key in self.scope

    def get(self, key: str, default: Any = None) -> Any:
        return self.scope.get(key, default)

    def keys(self) -> KeysView[str]:
        return self.scope.keys()

    def values(self) -> ValuesView[Any]:
        return self.scope.values()

    def items(self) -> ItemsView[str, Any]:
        return self.scope.items()

    @property
    def url(self) -> URL:
        """The full URL the client asked for."""
        if self._url is None:
            self._url = URL(scope=self.scope)
        return self._url

    @property
    def base_url(self) -> URL:
        """The URL of the app's root (scheme, host and root path)."""
        root = self.scope.get("root_path", "")
        return self.url.replace(path=root.rstrip("/") + "/", query="", fragment="")

    @property
    def path_params(self) -> dict[str, Any]:
        """The converted path parameters of the matched route."""
        return self.scope.get("path_params", {})  # type: ignore[no-any-return]

    @property
    def query_params(self) -> QueryParams:
        """The query string's parameters; a query that is not UTF-8 answers 400."""
        if self._query_params is None:
            try:
                self._query_params = QueryParams(self.scope.get("query_string", b""))
            except UnicodeDecodeError:
                raise HTTPException(400, "Invalid UTF-8 in the query string") from None
        return self._query_params

    @property
    def headers(self) -> Headers:
        """Case-insensitive, multi-valued request headers."""
        if self._headers is None:
            self._headers = Headers(scope=self.scope)
        return self._headers

    @property
    def cookies(self) -> dict[str, str]:
        """The cookies the client sent, ``{name: value}``."""
        if self._cookies is None:
            header = self.headers.get("cookie")
            self._cookies = parse_cookie_header(header) if header else {}
        return self._cookies

    @property
    def client(self) -> Address | None:
        """The client's ``(host, port)``, or None when the server does not say."""
        client = self.scope.get("client")
        return None if client is None else Address(*client)

    @property
    def state(self) -> State:
        """Per-connection state; starts as a copy of what the lifespan stored."""
        return State(self.scope.setdefault("state", {}))

    def url_for(self, name: str, /, **path_params: Any) -> URL:
        """The absolute URL of the route called ``name``, built with ``path_params``."""
        context = app_context(self.scope)
        if context is None:
            raise RuntimeError("url_for needs the connection to come through an App")
        path = context.url_path_for(name, **path_params)
        return self.base_url.replace(path=self.base_url.path.rstrip("/") + path)


# Registered rather than subclassed: Request and WebSocket stay plain classes (no
# ABCMeta, so isinstance(x, Request) stays a plain type check) with plain methods.
Mapping.register(HTTPConnection)
