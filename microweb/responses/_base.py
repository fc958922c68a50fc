"""``Response``: the base of every response, and what they all share.

A response is built once (body rendered, header pairs encoded) and can then
answer any number of requests: ``__call__`` reads the request's scope but
never changes the object, so a module-level ``Response`` may be returned from
many handlers.

Every response class, streamed ones included, is built by
``Response.__init__``: status, media type and background are set there,
``render`` makes the body, and ``init_headers`` (the one routine that builds
headers) adds ``content-length`` and ``content-type``. A streamed response
holds no body (its ``body`` is ``STREAMED``), so it gets no computed
``content-length``. Every answer without a body (HEAD, a bodyless status, a
file's 304, 412 or 416) goes out through ``send_empty``.

A route's return value need not become a Response object at all:
``content_messages`` (decided when the route is added) gives, for a class
that makes and sends its responses as ``Response`` itself does, a
``ContentMessages`` that renders the value and makes the two messages such a
response would send.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

from microweb._http.cookies import set_cookie_value
from microweb._http.fields import encode_header
from microweb.background import BackgroundTask
from microweb.datastructures import MutableHeaders
from microweb.types import Message, Receive, Scope, Send

__all__ = [
    "BODYLESS_STATUSES",
    "STREAMED",
    "ContentMessages",
    "HeadersInput",
    "RawHeaders",
    "Response",
    "content_messages",
    "send_empty",
]

HeadersInput = Mapping[str, str] | Iterable[tuple[str, str]]
RawHeaders = list[tuple[bytes, bytes]]

# RFC 9110 §6.4.1: 1xx, 204 and 304 responses carry no content.
BODYLESS_STATUSES = frozenset({*range(100, 200), 204, 304})
_CONTENT_TYPES: dict[tuple[str, str], bytes] = {}
_NOTHING: frozenset[bytes] = frozenset()
_SIZES = [b"%d" % n for n in range(1024)]

# The ``body`` of a streamed response, whose bytes are sent over time and never
# held: empty, and never counted for a content-length.
# perf: an identity test on the body, not a class attribute (~270 instructions).
STREAMED = memoryview(b"")


def _content_type(media_type: str, charset: str) -> bytes:
    """The ``content-type`` value for a media type, with a charset for text/*."""
    # perf: one dict hit per response instead of string checks and encoding.
    value = _CONTENT_TYPES.get((media_type, charset))
    if value is None:
        text = media_type
        lowered = media_type.lower()
        if lowered.startswith("text/") and "charset=" not in lowered:
            text = f"{media_type}; charset={charset}"
        value = encode_header("content-type", text)[1]
        _CONTENT_TYPES[(media_type, charset)] = value
    return value


async def send_empty(send: Send, status: int, headers: RawHeaders) -> None:
    """Send the status line with ``headers``, then an empty, final body."""
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


class Response:
    """A complete response with its body in memory.

    ``Response(content=None, status_code=200, headers=None, media_type=None,
    background=None)``: ``content`` is str (encoded with ``charset``), bytes
    or memoryview; ``headers`` a mapping or a list of ``(name, value)`` pairs;
    ``background`` runs after the body has been sent.
    """

    media_type: str | None = None
    charset: str = "utf-8"

    @classmethod
    def check_usable(cls) -> None:
        """Raise ImportError, naming the extra to install, if this class cannot work here.

        Routers and the App call it when a route or a default names the class,
        so a missing optional dependency shows when the app is defined, not on
        the first request. A subclass that needs one overrides it.
        """

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: HeadersInput | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.status_code = status_code
        if media_type is not None:
            self.media_type = media_type
        self.background = background
        self.body: bytes | memoryview = self.render(content)
        self.init_headers(headers)

    def render(self, content: Any) -> bytes | memoryview:
        """Turn ``content`` into the body bytes."""
        # perf: str, what handlers return most, is checked first.
        if isinstance(content, str):
            return content.encode(self.charset)
        if content is None:
            return b""
        if isinstance(content, (bytes, memoryview)):
            return content
        raise TypeError(
            f"{type(self).__name__} content must be str, bytes, memoryview or None, "
            f"not {type(content).__name__}"
        )

    def init_headers(self, headers: HeadersInput | None = None) -> None:
        """Set ``raw_headers``: ``headers``, then ``content-length`` and ``content-type``.

        ``content-length`` is the size of ``body``, unless given, or the
        status carries no content, or the body is ``STREAMED`` (a length not
        known in advance is sent only when given; FileResponse adds its own).
        ``content-type`` is ``media_type`` (``charset`` added to a text/*
        type that names none), unless given.
        """
        raw: RawHeaders = []
        given: frozenset[bytes] | set[bytes] = _NOTHING
        if headers:
            items = headers.items() if isinstance(headers, Mapping) else headers
            raw = [encode_header(name, value) for name, value in items]
            given = {name for name, _ in raw}
        body = self.body
        if (
            body is not STREAMED
            and self.status_code not in BODYLESS_STATUSES
            and b"content-length" not in given
        ):
            # perf: type() is, not isinstance(): bytes is by far the common body.
            size = len(body) if type(body) is bytes else memoryview(body).nbytes
            # perf: small sizes come from a table rather than b"%d" (25 ns saved).
            raw.append((b"content-length", _SIZES[size] if size < 1024 else b"%d" % size))
        media_type = self.media_type
        if media_type is not None and b"content-type" not in given:
            # perf: the cache hit inline, the function call only on a miss.
            content_type = _CONTENT_TYPES.get((media_type, self.charset))
            if content_type is None:
                content_type = _content_type(media_type, self.charset)
            raw.append((b"content-type", content_type))
        self.raw_headers = raw

    @property
    def headers(self) -> MutableHeaders:
        """A case-insensitive, multi-valued view that edits ``raw_headers`` in place."""
        return MutableHeaders(raw=self.raw_headers)

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: int | None = None,
        expires: datetime.datetime | str | int | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
        partitioned: bool = False,
    ) -> None:
        """Append a ``set-cookie`` header (RFC 6265 §4.1).

        ``expires`` is a datetime (naive means UTC), an HTTP-date string, or
        seconds from now. ``samesite`` is lax, strict or none (any case), or
        None to leave the attribute out. ``partitioned`` (CHIPS) needs
        ``secure=True``. Raises ValueError for a name that is not a token,
        an attribute holding ``;``, CR or LF, or an unknown ``samesite``.
        """
        cookie = set_cookie_value(
            key,
            value,
            max_age=max_age,
            expires=expires,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
            partitioned=partitioned,
        )
        self.raw_headers.append(encode_header("set-cookie", cookie))

    def delete_cookie(
        self,
        key: str,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
    ) -> None:
        """Tell the client to drop cookie ``key`` (empty value, expired, ``Max-Age=0``)."""
        self.set_cookie(
            key,
            max_age=0,
            expires="Thu, 01 Jan 1970 00:00:00 GMT",
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A scope without a method is answered as a GET.
        if scope.get("method") == "HEAD" or self.status_code in BODYLESS_STATUSES:
            await send_empty(send, self.status_code, self.raw_headers)
        else:
            await send(
                {
                    "type": "http.response.start",
                    "status": self.status_code,
                    "headers": self.raw_headers,
                }
            )
            await send({"type": "http.response.body", "body": self.body})
        if self.background is not None:
            await self.background()


#: Renders a handler's value and makes the start and body messages for a scope.
ContentMessages = Callable[[Any, Scope], tuple[Message, Message]]


def content_messages(response_class: type[Response], status: int) -> ContentMessages | None:
    """The start and body messages of ``response_class(content, status_code=status)``.

    Made once per route: the returned call renders ``content`` with the
    class's ``render`` and makes the messages that response would send, the
    same bytes, headers in the same order (``init_headers``'s
    ``content-length`` then ``content-type``; for HEAD an empty body, as
    ``__call__``), without the Response object. tests/test_responses.py holds
    the two ways equal.

    None (the route makes and calls a Response) for a status without a body,
    a class without a media type, or a class with an ``__init__``,
    ``init_headers`` or ``__call__`` of its own, or a ``render`` not of
    microweb's (which may read or set more of the response than its class
    attributes).
    """
    if (
        status in BODYLESS_STATUSES
        or response_class.media_type is None
        or response_class.__init__ is not Response.__init__
        or response_class.init_headers is not Response.init_headers
        or response_class.__call__ is not Response.__call__
    ):
        return None
    renderer = next(cls for cls in response_class.__mro__ if "render" in vars(cls))
    if not renderer.__module__.startswith("microweb."):
        return None
    # Rendering reads only the class's attributes: one response made now lends its render.
    render = response_class(status_code=status).render
    content_type = (
        b"content-type",
        _content_type(response_class.media_type, response_class.charset),
    )

    def messages(content: Any, scope: Scope) -> tuple[Message, Message]:
        body = render(content)
        size = len(body) if type(body) is bytes else memoryview(body).nbytes
        length = _SIZES[size] if size < 1024 else b"%d" % size
        start = {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-length", length), content_type],
        }
        if scope.get("method") == "HEAD":
            body = b""
        return start, {"type": "http.response.body", "body": body}

    return messages
