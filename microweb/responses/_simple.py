"""The responses whose body is made in memory at once: JSON, HTML, text, redirects."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from microweb import _json
from microweb._http.urls import URL_SAFE
from microweb.background import BackgroundTask
from microweb.responses._base import HeadersInput, Response

__all__ = [
    "HTMLResponse",
    "JSONResponse",
    "ORJSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "UJSONResponse",
]


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

    # perf: the encoder itself, not a method calling it (one frame less a response).
    render = staticmethod(_json.dumps)  # type: ignore[assignment]


class ORJSONResponse(JSONResponse):
    """orjson's own output, with non-str dict keys and numpy arrays allowed.

    Unlike JSONResponse, NaN and Infinity become ``null`` (orjson's choice).
    """

    def render(self, content: Any) -> bytes:
        return _json.dumps_orjson(content)


class UJSONResponse(JSONResponse):
    """JSON made by ujson (``ensure_ascii=False``): ``pip install 'microweb-asgi[ujson]'``."""

    @classmethod
    def check_usable(cls) -> None:
        _ujson()

    def render(self, content: Any) -> bytes:
        result: str = _ujson().dumps(content, ensure_ascii=False)
        return result.encode("utf-8")


def _ujson() -> Any:
    try:
        import ujson
    except ImportError:
        raise ImportError(
            "UJSONResponse needs the ujson package: pip install 'microweb-asgi[ujson]'"
        ) from None
    return ujson


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
