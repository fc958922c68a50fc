"""The request a handler reads.

A ``Request`` wraps the ASGI scope and ``receive``; everything is parsed on
first use and kept, so a handler that never touches the headers, the query
or the body pays nothing for them. The body is read from ``receive`` once:
``body()`` keeps it for ``json()``, while ``stream()`` hands chunks over
without keeping them (and then ``body()`` can no longer be had).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import orjson

from microweb._http import parse_cookie_header
from microweb.datastructures import URL, Address, Headers, QueryParams, State
from microweb.exceptions import HTTPException
from microweb.types import Message, Receive, Scope

__all__ = ["ClientDisconnect", "Request"]


class ClientDisconnect(Exception):
    """The client went away before the whole request body arrived."""


async def _receive_nothing() -> Message:
    raise RuntimeError("this Request was made without a receive channel")


class Request:
    """An HTTP request: method, URL, headers, query, cookies, body.

    Declare a handler parameter annotated ``Request`` to receive it::

        @app.get("/whoami")
        async def whoami(request: Request) -> dict[str, Any]:
            return {"agent": request.headers.get("user-agent"), "ip": request.client.host}
    """

    __slots__ = (
        "_body",
        "_cookies",
        "_headers",
        "_json",
        "_pending",
        "_query_params",
        "_receive",
        "_stream_consumed",
        "_url",
        "scope",
    )

    def __init__(self, scope: Scope, receive: Receive = _receive_nothing) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Request needs an 'http' scope, got {scope['type']!r}")
        self.scope = scope
        self._receive = receive
        self._headers: Headers | None = None
        self._query_params: QueryParams | None = None
        self._cookies: dict[str, str] | None = None
        self._url: URL | None = None
        self._body: bytes | None = None
        self._json: Any = _UNSET
        self._stream_consumed = False
        self._pending: list[Message] = []

    @property
    def method(self) -> str:
        return self.scope["method"]  # type: ignore[no-any-return]

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
        """Per-request state; starts as a copy of what the lifespan stored."""
        return State(self.scope.setdefault("state", {}))

    @property
    def receive(self) -> Receive:
        return self._receive

    def url_for(self, name: str, /, **path_params: Any) -> URL:
        """The absolute URL of the route called ``name``, built with ``path_params``."""
        app = self.scope.get("app")
        if app is None:
            raise RuntimeError("url_for needs the request to come through an App")
        path = app.url_path_for(name, **path_params)
        return self.base_url.replace(path=self.base_url.path.rstrip("/") + path)

    async def stream(self) -> AsyncIterator[bytes]:
        """The body as it arrives, chunk by chunk, without keeping it."""
        if self._body is not None:
            yield self._body
            return
        if self._stream_consumed:
            raise RuntimeError("the request body was already streamed")
        self._stream_consumed = True
        while True:
            message = self._pending.pop(0) if self._pending else await self._receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                if chunk:
                    yield chunk
                if not message.get("more_body", False):
                    return
            elif message["type"] == "http.disconnect":
                raise ClientDisconnect

    async def body(self) -> bytes:
        """The whole body (read once, then kept)."""
        if self._body is None:
            self._body = b"".join([chunk async for chunk in self.stream()])
        return self._body

    async def json(self) -> Any:
        """The body parsed as JSON, whatever the content type; invalid JSON answers 400."""
        if self._json is _UNSET:
            body = await self.body()
            try:
                self._json = orjson.loads(body)
            except orjson.JSONDecodeError as exc:
                raise HTTPException(400, f"Invalid JSON body: {exc}") from None
        return self._json

    async def is_disconnected(self) -> bool:
        """True once the client has gone (checked without waiting).

        A body chunk that arrives while checking is kept for ``stream()``.
        """
        if any(m["type"] == "http.disconnect" for m in self._pending):
            return True
        message: Message | None = None
        with anyio.CancelScope() as cancel_scope:
            cancel_scope.cancel()  # receive only what is already there
            message = await self._receive()
        if message is None:
            return False
        self._pending.append(message)
        return bool(message["type"] == "http.disconnect")


_UNSET: Any = object()
