"""CORS: the Fetch standard's CORS protocol (https://fetch.spec.whatwg.org/#http-cors-protocol).

Theory of operation. A request without ``Origin`` is none of CORS's business
and passes untouched (save ``vary``, below). Otherwise:

- A **preflight** (``OPTIONS`` with ``Origin`` and
  ``Access-Control-Request-Method``, Fetch §3.2.2) is answered here and never
  reaches the app: 200 with the ``access-control-allow-*`` headers when the
  origin, the method and every requested header are allowed, else 400 naming
  what was refused. ``access-control-request-private-network: true`` (Private
  Network Access) gets ``access-control-allow-private-network: true`` when
  ``allow_private_network`` is set, else a 400 naming ``private-network``.
- Any other request from an allowed origin goes to the app, and its
  response gets ``access-control-allow-origin``, ``-allow-credentials`` and
  ``-expose-headers`` (Fetch §3.2.3). An origin that is not allowed gets no
  CORS headers: the browser hides the response from the page.
- ``access-control-allow-origin: *`` is sent only when every origin is
  allowed without credentials; otherwise the origin is echoed, and then
  the answer depends on ``Origin``, so every response says ``vary: origin``
  (Fetch §3.2.5 "CORS protocol and HTTP caches"), those without ``Origin``
  too: a cache must not hand one origin's answer to another.
- A WebSocket handshake is not covered by CORS, and browsers send ``Origin``
  on it: one whose ``Origin`` is present and not allowed is denied (403)
  before the app sees it; one without ``Origin`` (not a browser) passes.

With credentials, ``*`` in ``allow_methods`` or ``allow_headers`` is not a
wildcard for the browser (Fetch §3.2.3), so the preflight never sends ``*``:
it lists every standard method, and echoes the headers that were asked for.
Header names and ``vary`` tokens are spelled as Starlette spells them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from microweb.middleware._asgi import RawHeaders, add_vary, get_header, send_plain
from microweb.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CORSMiddleware"]

ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
# Fetch §2.2.2: CORS-safelisted request-headers, allowed without being listed.
SAFELISTED_HEADERS = ("Accept", "Accept-Language", "Content-Language", "Content-Type")


def _strings(name: str, value: object) -> tuple[str, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(f"{name} must be a list of strings, got {value!r}")
    for item in value:
        if not isinstance(item, str):
            raise TypeError(f"{name} must be a list of strings, got {item!r} in it")
    return tuple(value)


class CORSMiddleware:
    """Answer CORS preflights and add CORS headers to responses (Fetch standard).

    ::

        app = App(middleware=[
            Middleware(CORSMiddleware, allow_origins=["https://example.com"],
                       allow_methods=["GET", "POST"], allow_credentials=True),
        ])

    ``allow_origins`` lists exact origins (``"*"``: any); ``allow_origin_regex``
    allows the origins it matches whole; ``allow_methods`` and
    ``allow_headers`` say what a preflight may ask for (``"*"``: anything);
    ``expose_headers`` lists the response headers a page may read;
    ``max_age`` is how long a browser may keep a preflight's answer.
    """

    def __init__(
        self,
        app: ASGIApp,
        allow_origins: Sequence[str] = (),
        allow_methods: Sequence[str] = ("GET",),
        allow_headers: Sequence[str] = (),
        allow_credentials: bool = False,
        allow_origin_regex: str | None = None,
        allow_private_network: bool = False,
        expose_headers: Sequence[str] = (),
        max_age: int = 600,
    ) -> None:
        origins = _strings("allow_origins", allow_origins)
        methods = _strings("allow_methods", allow_methods)
        headers = _strings("allow_headers", allow_headers)
        exposed = _strings("expose_headers", expose_headers)
        if isinstance(max_age, bool) or not isinstance(max_age, int) or max_age < 0:
            raise ValueError(f"max_age must be a non-negative int, got {max_age!r}")
        self.app = app
        self.allow_all_origins = "*" in origins
        self.allow_origins = frozenset(origins)
        self.allow_origin_regex = (
            None if allow_origin_regex is None else re.compile(allow_origin_regex)
        )
        self.allow_all_methods = "*" in methods
        self.allow_methods = frozenset(m.upper() for m in methods)
        self.allow_all_headers = "*" in headers
        self.allow_headers = frozenset(h.lower() for h in (*SAFELISTED_HEADERS, *headers))
        self.allow_credentials = allow_credentials
        self.allow_private_network = allow_private_network
        # The answer depends on the origin unless it is "*" for everyone.
        self.varies = not (self.allow_all_origins and not allow_credentials)

        # Built once: the headers every allowed simple response and preflight gets.
        simple: RawHeaders = []
        if allow_credentials:
            simple.append((b"access-control-allow-credentials", b"true"))
        if exposed:
            simple.append((b"access-control-expose-headers", ", ".join(exposed).encode()))
        self._simple = simple
        self._replaced = {b"access-control-allow-origin"} | {name for name, _ in simple}
        preflight: RawHeaders = [(b"access-control-max-age", str(max_age).encode())]
        if allow_credentials:
            preflight.append((b"access-control-allow-credentials", b"true"))
        # Spelled as Starlette spells them, so tests written for it hold.
        listed = ALL_METHODS if self.allow_all_methods else sorted(self.allow_methods)
        preflight.append((b"access-control-allow-methods", ", ".join(listed).encode()))
        if not self.allow_all_headers:
            listed = sorted({*SAFELISTED_HEADERS, *(h for h in headers if h != "*")})
            preflight.append((b"access-control-allow-headers", ", ".join(listed).encode()))
        self._preflight = preflight

    def is_allowed_origin(self, origin: str) -> bool:
        """Whether ``origin`` is listed, matched by the regex, or any origin is allowed."""
        if self.allow_all_origins or origin in self.allow_origins:
            return True
        return self.allow_origin_regex is not None and bool(
            self.allow_origin_regex.fullmatch(origin)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        raw_origin = get_header(scope["headers"], b"origin")
        if kind == "websocket":
            if raw_origin is not None and not self.is_allowed_origin(raw_origin.decode("latin-1")):
                await send_plain(scope, send, 403, "Disallowed WebSocket origin")
                return
            await self.app(scope, receive, send)
            return
        if raw_origin is None:
            if not self.varies:
                await self.app(scope, receive, send)
                return
            await self.app(scope, receive, self._vary_only(send))
            return
        origin = raw_origin.decode("latin-1")
        if scope["method"] == "OPTIONS":
            requested = get_header(scope["headers"], b"access-control-request-method")
            if requested is not None:
                await self._preflight_response(scope, send, origin, requested.decode("latin-1"))
                return
        await self.app(scope, receive, self._with_cors_headers(send, origin))

    def _allow_origin_value(self, origin: str) -> bytes:
        return origin.encode("latin-1") if self.varies else b"*"

    async def _preflight_response(
        self, scope: Scope, send: Send, origin: str, method: str
    ) -> None:
        asked = get_header(scope["headers"], b"access-control-request-headers")
        asked_headers = (
            [h.strip().lower() for h in asked.decode("latin-1").split(",") if h.strip()]
            if asked
            else []
        )
        refused = []
        if not self.is_allowed_origin(origin):
            refused.append("origin")
        if not (self.allow_all_methods or method in self.allow_methods):
            refused.append("method")
        if not self.allow_all_headers and not self.allow_headers.issuperset(asked_headers):
            refused.append("headers")
        private_network = (
            get_header(scope["headers"], b"access-control-request-private-network") == b"true"
        )
        if private_network and not self.allow_private_network:
            refused.append("private-network")
        headers: RawHeaders = []
        if self.varies:
            headers.append((b"vary", b"Origin"))
        if refused:
            await send_plain(scope, send, 400, f"Disallowed CORS {', '.join(refused)}", headers)
            return
        headers.append((b"access-control-allow-origin", self._allow_origin_value(origin)))
        headers += self._preflight
        if self.allow_all_headers and asked:
            # With credentials "*" is no wildcard (Fetch §3.2.3): echo what was asked.
            headers.append((b"access-control-allow-headers", asked))
        if private_network:
            headers.append((b"access-control-allow-private-network", b"true"))
        await send_plain(scope, send, 200, "OK", headers)

    def _vary_only(self, send: Send) -> Send:
        async def send_with_vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                add_vary(headers, b"Origin")
                message["headers"] = headers
            await send(message)

        return send_with_vary

    def _with_cors_headers(self, send: Send, origin: str) -> Send:
        allowed = self.is_allowed_origin(origin)

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if allowed:
                    # Ours replace any the app set: one answer, not two.
                    replaced = self._replaced
                    headers = [pair for pair in headers if pair[0] not in replaced]
                    value = self._allow_origin_value(origin)
                    headers.append((b"access-control-allow-origin", value))
                    headers += self._simple
                if self.varies:
                    add_vary(headers, b"Origin")
                message["headers"] = headers
            await send(message)

        return send_with_cors
