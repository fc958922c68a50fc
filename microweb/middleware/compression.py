"""Response compression: a content coding chosen by ``Accept-Encoding``, streams kept live.

Theory of operation.

Negotiation (RFC 9110 §12.5.3). ``Accept-Encoding`` lists codings with
q-values; a coding's weight is its own q, else the q of ``*``, else it is
not acceptable; ``q=0`` refuses. Of the codings we offer, the highest q
wins, ties going by the order of ``encodings``. ``identity`` (no coding) is
acceptable unless refused; given with a q higher than every coding's, it
wins. No ``Accept-Encoding`` at all: identity (the safe reading for old
clients, the RFC allows it).

What is compressed. A response passes untouched when it has a
``content-encoding`` already, is a 206 (its byte ranges count the
representation as it is, RFC 9110 §14.2), a 204 or 304 (no body), answers
a HEAD, has an excluded media type (``text/event-stream``: SSE is already
small and must never be held), or is one message shorter than
``minimum_size`` bytes.

Streams are never buffered. A body of one message (``more_body`` false) is
compressed whole and its ``content-length`` corrected. A streamed body is
compressed message by message, each flushed (``Z_SYNC_FLUSH`` for gzip,
brotli's flush, zstd's ``FLUSH_BLOCK``), so every chunk the app sends
reaches the client at once; its ``content-length`` is removed (the server
then uses chunked encoding). Starlette's GZipMiddleware holds small chunks
back until its buffer fills (Kludex/starlette#2753); this does not.

Headers. Every response that was compressed, or would have been had the
client accepted a coding, gets ``vary: accept-encoding`` (a body under
``minimum_size`` does not: its bytes do not depend on the header). A
compressed one gets ``content-encoding``, and a strong ETag is made weak
(``"x"`` -> ``W/"x"``): the compressed bytes are another representation
(RFC 9110 §8.8.1), and a weak ETag still serves ``If-None-Match``. The ASGI
``http.response.pathsend`` extension is hidden
from the app when a coding was chosen, so a file comes as body messages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

from microweb.middleware._asgi import RawHeaders, add_vary, get_header
from microweb.middleware._codecs import Encoder, available
from microweb.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CompressionMiddleware", "negotiate"]

_UNTOUCHED_STATUSES = frozenset({204, 206, 304})
_PATHSEND = "http.response.pathsend"


def _weights(accept_encoding: str) -> dict[str, float]:
    """``"gzip;q=0.5, br"`` -> ``{"gzip": 0.5, "br": 1.0}`` (a bad q counts as 0)."""
    weights: dict[str, float] = {}
    for item in accept_encoding.split(","):
        name, _, params = item.partition(";")
        name = name.strip().lower()
        if not name:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
                if not 0.0 <= q <= 1.0:
                    q = 0.0
        weights["gzip" if name == "x-gzip" else name] = q  # RFC 9110 §8.4.1.3
    return weights


def negotiate(accept_encoding: str, offered: Sequence[str]) -> str | None:
    """The coding of ``offered`` to use for ``accept_encoding``, or None for identity."""
    weights = _weights(accept_encoding)
    star = weights.get("*", 0.0)
    best: str | None = None
    best_q = 0.0
    for name in offered:
        q = weights.get(name, star)
        if q > best_q:
            best, best_q = name, q
    if best is not None and weights.get("identity", 0.0) > best_q:
        return None
    return best


class CompressionMiddleware:
    """Compress responses with zstd, brotli or gzip, whichever the client prefers.

    ::

        app = App(middleware=[Middleware(CompressionMiddleware, minimum_size=1000)])

    ``encodings`` are the codings offered, in order of preference on a tie
    (a coding whose library is not installed is left out); a body sent in
    one message under ``minimum_size`` bytes is sent as it is;
    ``exclude_media_types`` are never compressed. See the module for the rules.
    """

    def __init__(
        self,
        app: ASGIApp,
        minimum_size: int = 500,
        encodings: Sequence[str] = ("zstd", "br", "gzip"),
        *,
        exclude_media_types: Sequence[str] = ("text/event-stream",),
    ) -> None:
        if isinstance(minimum_size, bool) or not isinstance(minimum_size, int) or minimum_size < 0:
            raise ValueError(f"minimum_size must be a non-negative int, got {minimum_size!r}")
        if isinstance(encodings, str):
            raise TypeError(f"encodings must be a list of coding names, got {encodings!r}")
        self.app = app
        self.minimum_size = minimum_size
        self._encoders: dict[str, Callable[[], Encoder]] = available(tuple(encodings))
        self._excluded = tuple(t.lower().encode("latin-1") for t in exclude_media_types)
        # perf: clients send a handful of distinct Accept-Encoding values;
        # negotiate each once (the parse is ~10x the cost of a cache hit).
        self._choose = lru_cache(maxsize=64)(self._negotiate)

    def _negotiate(self, accept_encoding: bytes) -> str | None:
        return negotiate(accept_encoding.decode("latin-1"), tuple(self._encoders))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "HEAD":
            await self.app(scope, receive, send)
            return
        accept = get_header(scope["headers"], b"accept-encoding")
        coding = None if accept is None else self._choose(accept)
        if coding is None:
            await self.app(scope, receive, _VaryOnly(self, send).send)
            return
        extensions = scope.get("extensions")
        if extensions and _PATHSEND in extensions:
            kept = {name: value for name, value in extensions.items() if name != _PATHSEND}
            scope = {**scope, "extensions": kept}
        responder = _Compressing(self, send, coding, self._encoders[coding])
        await self.app(scope, receive, responder.send)

    def compressible(self, start: Message) -> bool:
        """Whether a response with this ``http.response.start`` may be compressed."""
        if start["status"] in _UNTOUCHED_STATUSES:
            return False
        headers = start.get("headers", ())
        if get_header(headers, b"content-encoding") is not None:
            return False
        media_type = get_header(headers, b"content-type")
        if media_type is not None:
            media_type = media_type.partition(b";")[0].strip().lower()
            if media_type in self._excluded:
                return False
        return True


class _VaryOnly:
    """Identity was chosen: a response that could have been compressed still says ``vary``."""

    __slots__ = ("_middleware", "_send")

    def __init__(self, middleware: CompressionMiddleware, send: Send) -> None:
        self._middleware = middleware
        self._send = send

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start" and self._middleware.compressible(message):
            headers = list(message.get("headers", ()))
            add_vary(headers, b"Accept-Encoding")
            message["headers"] = headers
        await self._send(message)


class _Compressing:
    """One response on its way through: start held until the first body message decides."""

    __slots__ = ("_coding", "_encoder", "_factory", "_middleware", "_send", "_start", "_state")

    def __init__(
        self,
        middleware: CompressionMiddleware,
        send: Send,
        coding: str,
        factory: Callable[[], Encoder],
    ) -> None:
        self._middleware = middleware
        self._send = send
        self._coding = coding.encode("latin-1")
        self._factory = factory
        self._encoder: Encoder | None = None
        self._start: Message | None = None
        self._state = "start"  # start -> held -> compressing | passing

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            if self._middleware.compressible(message):
                self._start = message
                self._state = "held"
                return
            self._state = "passing"
            await self._send(message)
        elif kind != "http.response.body" or self._state == "passing":
            await self._send(message)
        elif self._state == "held":
            await self._first_body(message)
        else:
            await self._more_body(message)

    async def _first_body(self, message: Message) -> None:
        start = self._start
        assert start is not None  # set with the "held" state
        body = message.get("body", b"")
        more = message.get("more_body", False)
        if not more and len(body) < self._middleware.minimum_size:
            # Too small to compress whatever was accepted: no vary, as Starlette.
            self._state = "passing"
            await self._send(start)
            await self._send(message)
            return
        headers: RawHeaders = list(start.get("headers", ()))
        add_vary(headers, b"Accept-Encoding")
        self._state = "compressing"
        self._encoder = encoder = self._factory()
        headers = [
            (name, _weak(value) if name == b"etag" else value)
            for name, value in headers
            if name != b"content-length"
        ]
        headers.append((b"content-encoding", self._coding))
        if more:
            data = encoder.chunk(body) if body else b""
        else:
            data = encoder.last(body)
            headers.append((b"content-length", str(len(data)).encode("latin-1")))
        await self._send({**start, "headers": headers})
        await self._send({"type": "http.response.body", "body": data, "more_body": more})

    async def _more_body(self, message: Message) -> None:
        encoder = self._encoder
        assert encoder is not None  # set with the "compressing" state
        body = message.get("body", b"")
        if message.get("more_body", False):
            if body:
                await self._send(
                    {"type": "http.response.body", "body": encoder.chunk(body), "more_body": True}
                )
            return
        await self._send({"type": "http.response.body", "body": encoder.last(body)})


def _weak(etag: bytes) -> bytes:
    """RFC 9110 §8.8.3: ``"x"`` -> ``W/"x"``; a weak ETag stays as it is."""
    return etag if etag.startswith(b"W/") else b"W/" + etag
