"""The request a handler reads.

A ``Request`` wraps the ASGI scope and ``receive``; everything is parsed on
first use and kept, so a handler that never touches the headers, the query
or the body pays nothing for them. The body is read from ``receive`` once:
``body()`` keeps it for ``json()`` and ``form()``, while ``stream()`` hands
chunks over without keeping them (and then ``body()`` can no longer be had).

Limits (SPEC "Requests"; docs/reliability.md): what ``body()``, ``json()``
and a urlencoded ``form()`` buffer is bounded by the App's ``max_body_size``
and by the request's in-memory budget (``_memory``), both read from the
App's context in the scope (``_context``): a ``content-length`` over either
is refused before a byte is read, and a body without one (chunked) is
counted as it arrives and refused as soon as it passes, so the rest is never
read. A multipart ``form()`` is parsed as it arrives (``_multipart``): its
files are spooled to disk (early, rather than pass the budget) and its text
fields are charged to the same budget.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

import anyio
import orjson
from python_multipart.multipart import parse_options_header

from microweb import _json
from microweb._connection import HTTPConnection
from microweb._context import app_context
from microweb._memory import DEFAULT_BUDGET, MemoryBudget, over_budget
from microweb._multipart import FormLimits, parse_multipart, parse_urlencoded
from microweb._session import Session
from microweb.datastructures import FormData
from microweb.exceptions import HTTPException
from microweb.types import Message, Receive, Scope

__all__ = ["ClientDisconnect", "Request"]

_DIGITS = re.compile(r"[0-9]+")


class ClientDisconnect(HTTPException):
    """The client went away before the whole request body arrived.

    Raised by ``stream()``, ``body()``, ``json()`` and ``form()``. A handler
    may catch it to clean up; left alone it is an ``HTTPException`` (400),
    so the App answers it quietly (the server drops an answer to a client
    that is gone) instead of logging a server error.
    """

    def __init__(self) -> None:
        super().__init__(400, "The client disconnected before the request body was complete")


async def _receive_nothing() -> Message:
    raise RuntimeError("this Request was made without a receive channel")


class Request(HTTPConnection):
    """An HTTP request: method, URL, headers, query, cookies, body.

    Declare a handler parameter annotated ``Request`` to receive it::

        @app.get("/whoami")
        async def whoami(request: Request) -> dict[str, Any]:
            return {"agent": request.headers.get("user-agent"), "ip": request.client.host}
    """

    __slots__ = (
        "_body",
        "_budget",
        "_form",
        "_held",
        "_json",
        "_pending",
        "_receive",
        "_stream_consumed",
    )

    def __init__(self, scope: Scope, receive: Receive = _receive_nothing) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Request needs an 'http' scope, got {scope['type']!r}")
        # perf: the base's fields are set here rather than by super().__init__():
        # the call cost ~1,300 instructions a request (callgrind, POST /echo).
        self.scope = scope
        self._headers = self._query_params = self._cookies = self._url = None
        self._receive = receive
        self._body: bytes | None = None
        self._budget: MemoryBudget | None = None
        self._held = 0  # bytes of the body kept, until a budget object takes over
        self._json: Any = _UNSET
        self._form: FormData | None = None
        self._stream_consumed = False
        self._pending: list[Message] = []

    @property
    def method(self) -> str:
        return self.scope["method"]  # type: ignore[no-any-return]

    @property
    def receive(self) -> Receive:
        return self._receive

    async def stream(self) -> AsyncGenerator[bytes, None]:
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

    def _limits(self) -> tuple[int | None, int | None]:
        """``(max_body_size, request_memory_budget)`` of the App the request came through."""
        context = app_context(self.scope)
        if context is None:
            return None, DEFAULT_BUDGET
        return context.max_body_size, context.request_memory_budget

    def _memory(self) -> MemoryBudget:
        """This request's in-memory budget, as an object (made when a form needs one)."""
        if self._budget is None:
            self._budget = MemoryBudget(self._limits()[1])
            self._budget.used = self._held
        return self._budget

    def _body_limit(self) -> tuple[int | None, int | None, int | None]:
        """``(max_body_size, limit, budget)`` for a body kept in memory; ``limit`` the tighter.

        A ``content-length`` over the limit is refused here, before a byte is read.
        """
        max_body_size, budget = self._limits()
        # perf: the body's bytes are counted in an int; the budget object is
        # made only if a multipart form needs one (an echo handler never does).
        held = self._held if self._budget is None else self._budget.used
        room = None if budget is None else max(0, budget - held)
        # One comparison a chunk for both limits: the tighter one.
        if max_body_size is None or (room is not None and room < max_body_size):
            limit = room
        else:
            limit = max_body_size
        if max_body_size is not None and self._body is None:
            declared = self.headers.get("content-length")
            if declared is not None:
                if _DIGITS.fullmatch(declared) is None:
                    raise HTTPException(400, f"Invalid content-length header {declared!r}")
                # Compared as text first: int() refuses more than 4,300 digits.
                if len(declared) > len(str(limit)) or int(declared) > max_body_size:
                    shown = declared if len(declared) <= 40 else declared[:40] + "..."
                    raise _too_large(max_body_size, limit, budget, shown)
        return max_body_size, limit, budget

    def _hold(self, received: int) -> None:
        """Charge ``received`` bytes of body kept in memory to the request's budget."""
        if self._budget is None:
            self._held += received
        else:
            self._budget.charge(received)

    async def _bounded_stream(self) -> AsyncGenerator[bytes, None]:
        """``stream()`` for a body kept in memory: 413 past ``max_body_size`` or the budget."""
        max_body_size, limit, budget = self._body_limit()
        received = 0
        async with aclosing(self.stream()) as chunks:
            async for chunk in chunks:
                received += len(chunk)
                if limit is not None and received > limit:
                    raise _too_large(max_body_size, limit, budget, None)
                yield chunk
        self._hold(received)

    async def body(self) -> bytes:
        """The whole body (read once, then kept).

        Raises ``HTTPException`` 413 past the App's ``max_body_size`` and
        ``ClientDisconnect`` if the client leaves before the end.
        """
        if self._body is None:
            if self._stream_consumed:
                raise RuntimeError("the request body was already streamed")
            # perf: one loop over receive(), not stream() through _bounded_stream():
            # no async generator is made, or held across the wait for a second
            # message (granian sends every body in two). Under granian, 64
            # connections: POST /items 0.78x -> 0.9x raw (fewer objects outlive a
            # young GC collection, so fewer full ones). Callgrind, one-message body:
            # POST /echo 66,537 -> 67,369, with one code path instead of two.
            max_body_size, limit, budget = self._body_limit()
            self._stream_consumed = True
            chunks: list[bytes] = []
            received = 0
            while True:
                message = self._pending.pop(0) if self._pending else await self._receive()
                kind = message["type"]
                if kind == "http.request":
                    chunk = message.get("body", b"")
                    if chunk:
                        received += len(chunk)
                        if limit is not None and received > limit:
                            raise _too_large(max_body_size, limit, budget, None)
                        chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
                elif kind == "http.disconnect":
                    raise ClientDisconnect
            self._hold(received)
            # perf: a one-chunk body is taken as it is, uncopied.
            body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            self._body = body if type(body) is bytes else bytes(body)
        return self._body

    async def json(self) -> Any:
        """The body parsed as JSON, whatever the content type; invalid JSON answers 400."""
        if self._json is _UNSET:
            body = await self.body()
            try:
                self._json = _json.loads(body)
            except (orjson.JSONDecodeError, _json.TooDeep) as exc:
                raise HTTPException(400, f"Invalid JSON body: {exc}") from None
        return self._json

    async def form(
        self,
        max_files: int = 1000,
        max_fields: int = 1000,
        max_part_size: int = 1024 * 1024,
    ) -> FormData:
        """The body parsed as a form: urlencoded or ``multipart/form-data``.

        Text fields come as ``str``, files as ``UploadFile`` (kept in memory
        up to 1 MiB, then spooled to a temporary file). Parsed once and kept;
        the limits of the first call apply. Each limit past is an
        ``HTTPException``: more than ``max_files`` files or ``max_fields``
        text fields is a 400; a text field over ``max_part_size`` bytes is a
        413, as is a urlencoded body, or the text fields of a multipart body
        together, over the App's ``max_body_size`` (files are not counted:
        they go to disk). A malformed or truncated body, or text that is not
        UTF-8, is a 400; a body that is not a form is a 415. ::

            form = await request.form(max_files=1)
            upload = form["file"]
            data = await upload.read()

        The files are closed (and their temporary files removed) by
        ``close()`` when the response is done.
        """
        if self._form is None:
            # Checked first: a bad limit is the app's bug (ValueError), whatever was sent.
            limits = FormLimits(
                max_files, max_fields, max_part_size, self._limits()[0], self._memory()
            )
            content_type = self.headers.get("content-type")
            media_type, options = parse_options_header(content_type)
            if media_type == b"multipart/form-data":
                async with aclosing(self.stream()) as chunks:
                    self._form = await parse_multipart(chunks, options.get(b"boundary"), limits)
            elif media_type == b"application/x-www-form-urlencoded":
                # The whole body counts against max_body_size, as for body().
                async with aclosing(self._bounded_stream()) as chunks:
                    self._form = await parse_urlencoded(chunks, limits)
            elif content_type is None and not await self.body():
                # No content type and no body: a form with nothing in it.
                self._form = FormData()
            else:
                raise HTTPException(
                    415,
                    "Expected a form body (application/x-www-form-urlencoded or "
                    f"multipart/form-data), got content-type {content_type!r}",
                )
        return self._form

    async def close(self) -> None:
        """Close the files of the parsed form, removing their temporary files.

        Safe to call when no form was parsed, and more than once. The App
        calls it when the response is done.
        """
        if self._form is not None:
            await self._form.close()

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

    @property
    def session(self) -> dict[str, Any]:
        """The session dict ``SessionMiddleware`` keeps in a signed cookie."""
        if "session" not in self.scope:
            raise RuntimeError("request.session needs SessionMiddleware: install it on the App")
        session: dict[str, Any] = self.scope["session"]
        if type(session) is Session:
            session.mark_accessed()  # the answer now depends on the cookie: vary: Cookie
        return session


def whole_body(message: Message, budget: int | None) -> bytes | None:
    """The body a request's first message holds whole, within ``budget``; else None.

    ``Request.body()``'s one-message case, for a route whose handler takes a
    typed body and no Request (``_endpoint.BodyEndpoint``), in an App without
    a ``max_body_size`` (so with no ``content-length`` to check before the
    first message is received). None (a body in several messages, past the
    budget, a disconnect): ``receive_body`` reads or refuses the rest.
    """
    if message["type"] == "http.request" and not message.get("more_body", False):
        body = message.get("body", b"")
        if budget is None or len(body) <= budget:
            return body if type(body) is bytes else bytes(body)
    return None


async def receive_body(scope: Scope, receive: Receive, first: Message | None = None) -> bytes:
    """The whole body of a request no Request object reads, by ``Request.body()``'s rules.

    ``first`` is a message already received (``whole_body`` said no). Nothing
    read here needs closing: no form is parsed.
    """
    request = Request(scope, receive)
    if first is not None:
        request._pending.append(first)
    return await request.body()


def _too_large(
    max_body_size: int | None, limit: int | None, budget: int | None, declared: str | None
) -> HTTPException:
    """The 413 for a body past ``limit``: whichever of the two limits it was."""
    if max_body_size is not None and limit == max_body_size:
        if declared is None:
            detail = f"the limit is max_body_size={max_body_size} bytes"
        else:
            detail = f"content-length {declared} exceeds max_body_size={max_body_size} bytes"
        return HTTPException(413, f"Request body too large: {detail}")
    return HTTPException(413, over_budget("The request body", budget))


_UNSET: Any = object()
