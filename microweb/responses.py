"""The response class hierarchy. Every response is an ASGI app.

A response is built once (body rendered, header pairs encoded) and can then
answer any number of requests: ``__call__`` reads the request's scope but
never changes the object, so a module-level ``Response`` may be returned from
many handlers.

    Response                  bytes or str as they are
    ├── JSONResponse          compact JSON, byte-identical to the stdlib's (orjson underneath)
    │   ├── ORJSONResponse    orjson's own output, numpy and non-str keys allowed
    │   └── UJSONResponse     ujson (the ``microweb[ujson]`` extra)
    ├── HTMLResponse          text/html
    ├── PlainTextResponse     text/plain
    └── RedirectResponse      a ``location`` and no body (307 by default)
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any, Literal
from urllib.parse import quote

from microweb import _json
from microweb._http.cookies import set_cookie_value
from microweb._http.fields import encode_header
from microweb._http.urls import URL_SAFE
from microweb.background import BackgroundTask
from microweb.datastructures import MutableHeaders
from microweb.types import Receive, Scope, Send

__all__ = [
    "HTMLResponse",
    "JSONResponse",
    "ORJSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "UJSONResponse",
]

HeadersInput = Mapping[str, str] | Iterable[tuple[str, str]]

# RFC 9110 §6.4.1: 1xx, 204 and 304 responses carry no content.
BODYLESS_STATUSES = frozenset({*range(100, 200), 204, 304})
_CONTENT_TYPES: dict[tuple[str, str], bytes] = {}
_NOTHING: frozenset[bytes] = frozenset()
_SIZES = [b"%d" % n for n in range(1024)]


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


class Response:
    """A complete response with its body in memory.

    ``Response(content=None, status_code=200, headers=None, media_type=None,
    background=None)``: ``content`` is str (encoded with ``charset``), bytes
    or memoryview; ``headers`` a mapping or a list of ``(name, value)`` pairs;
    ``background`` runs after the body has been sent.
    """

    media_type: str | None = None
    charset: str = "utf-8"

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
        if content is None:
            return b""
        if isinstance(content, (bytes, memoryview)):
            return content
        if isinstance(content, str):
            return content.encode(self.charset)
        raise TypeError(
            f"{type(self).__name__} content must be str, bytes, memoryview or None, "
            f"not {type(content).__name__}"
        )

    def init_headers(self, headers: HeadersInput | None = None) -> None:
        """Set ``raw_headers`` from ``headers`` plus content-length and content-type."""
        raw: list[tuple[bytes, bytes]] = []
        given: frozenset[bytes] | set[bytes] = _NOTHING
        if headers:
            items = headers.items() if isinstance(headers, Mapping) else headers
            raw = [encode_header(name, value) for name, value in items]
            given = {name for name, _ in raw}
        body = getattr(self, "body", None)
        if (
            body is not None
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
        await send(
            {
                "type": "http.response.start",
                "status": self.status_code,
                "headers": self.raw_headers,
            }
        )
        if scope["method"] == "HEAD" or self.status_code in BODYLESS_STATUSES:
            await send({"type": "http.response.body", "body": b""})
        else:
            await send({"type": "http.response.body", "body": self.body})
        if self.background is not None:
            await self.background()


class HTMLResponse(Response):
    """An HTML page: ``text/html; charset=utf-8``."""

    media_type = "text/html"


class PlainTextResponse(Response):
    """Plain text: ``text/plain; charset=utf-8``."""

    media_type = "text/plain"


class JSONResponse(Response):
    """Compact JSON of any JSON value and of the extended types (see the JSON docs).

    Byte-identical to ``json.dumps(content, ensure_ascii=False,
    allow_nan=False, separators=(",", ":"))`` for plain values, made by
    orjson. NaN and Infinity raise ValueError; an unknown type raises
    TypeError naming it.
    """

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return _json.dumps(content)


class ORJSONResponse(JSONResponse):
    """orjson's own output, with non-str dict keys and numpy arrays allowed.

    Unlike JSONResponse, NaN and Infinity become ``null`` (orjson's choice).
    """

    def render(self, content: Any) -> bytes:
        return _json.dumps_orjson(content)


class UJSONResponse(JSONResponse):
    """JSON made by ujson (``ensure_ascii=False``); needs ``pip install 'microweb[ujson]'``."""

    def render(self, content: Any) -> bytes:
        try:
            import ujson
        except ImportError:
            raise ImportError(
                "UJSONResponse needs the ujson package: pip install 'microweb[ujson]'"
            ) from None
        result: str = ujson.dumps(content, ensure_ascii=False)
        return result.encode("utf-8")


class RedirectResponse(Response):
    """Send the client to ``url`` (307 Temporary Redirect unless told otherwise).

    The URL is percent-quoted for the ``location`` header, keeping the
    characters that give a URL its structure, so a CR or LF in it is quoted,
    never able to start a new header.
    """

    def __init__(
        self,
        url: str | Any,
        status_code: int = 307,
        headers: HeadersInput | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        super().__init__(
            content=b"", status_code=status_code, headers=headers, background=background
        )
        # Replaces a location given in ``headers``: the URL argument wins.
        self.headers["location"] = quote(str(url), safe=URL_SAFE)


# The streamed responses live in private modules (_streaming, _files, _sse),
# which import Response from here: these imports must stay at the bottom.
from microweb._files import FileResponse  # noqa: E402
from microweb._paths import safe_path  # noqa: E402
from microweb._sse import EventSourceResponse, ServerSentEvent  # noqa: E402
from microweb._streaming import StreamingResponse  # noqa: E402

__all__ += [
    "EventSourceResponse",
    "FileResponse",
    "ServerSentEvent",
    "StreamingResponse",
    "safe_path",
]
