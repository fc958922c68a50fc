"""TrustedHostMiddleware: answer only for the host names the app is deployed under.

A Host header the app does not expect is how cache poisoning and password
reset links to an attacker's site begin (the app builds absolute URLs from
it). Patterns are exact names or ``*.example.com`` (any name ending in
``.example.com``, not ``example.com`` itself); ``*`` alone allows any host.
The port is not part of the match. A malformed Host (``_http.urls.is_host``)
or a missing one is refused like a host not listed: 400, or for a WebSocket
handshake a 400 denial response (close 1008 where the server offers none).

With ``www_redirect`` a request for ``example.com`` when only
``www.example.com`` is allowed is redirected there (307, path and query kept).
"""

from __future__ import annotations

from collections.abc import Sequence

from microweb._http.urls import is_host
from microweb.middleware._asgi import get_header, redirect_url, send_plain
from microweb.types import ASGIApp, Receive, Scope, Send

__all__ = ["TrustedHostMiddleware"]


def _split_host(host: str) -> str:
    """``"Example.com:8000"`` -> ``"example.com"``; ``"[::1]:80"`` -> ``"[::1]"``."""
    if host.startswith("["):
        return host[: host.find("]") + 1].lower()
    return host.partition(":")[0].lower()


class TrustedHostMiddleware:
    """Refuse requests whose Host header is not one of ``allowed_hosts`` (400).

    ::

        app = App(middleware=[
            Middleware(TrustedHostMiddleware, allowed_hosts=["example.com", "*.example.com"]),
        ])
    """

    def __init__(
        self,
        app: ASGIApp,
        allowed_hosts: Sequence[str] = ("*",),
        www_redirect: bool = True,
    ) -> None:
        if isinstance(allowed_hosts, str) or not isinstance(allowed_hosts, Sequence):
            raise TypeError(f"allowed_hosts must be a list of host names, got {allowed_hosts!r}")
        for pattern in allowed_hosts:
            if (
                not isinstance(pattern, str)
                or "*" in pattern[1:]
                or (pattern.startswith("*") and pattern != "*" and not pattern.startswith("*."))
            ):
                raise ValueError(
                    f"invalid allowed host {pattern!r}: a wildcard is '*' alone or a "
                    "'*.' prefix, as in '*.example.com'"
                )
        self.app = app
        self.allowed_hosts = list(allowed_hosts)  # as given, as Starlette keeps them
        self._allow_any = "*" in allowed_hosts
        self._names = frozenset(h.lower() for h in allowed_hosts if not h.startswith("*"))
        self._suffixes = tuple(h[1:].lower() for h in allowed_hosts if h.startswith("*."))
        self.www_redirect = www_redirect

    def is_allowed(self, host: str) -> bool:
        """Whether the host name ``host`` (no port, lower case) is allowed."""
        return host in self._names or host.endswith(self._suffixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if self._allow_any or (kind != "http" and kind != "websocket"):
            await self.app(scope, receive, send)
            return
        raw = get_header(scope["headers"], b"host")
        value = "" if raw is None else raw.decode("latin-1")
        host = _split_host(value) if is_host(value) else ""
        if host and self.is_allowed(host):
            await self.app(scope, receive, send)
            return
        if (
            kind == "http"
            and self.www_redirect
            and host
            and not host.startswith("www.")
            and self.is_allowed("www." + host)
        ):
            location = redirect_url(scope, hostname="www." + host)
            await send_plain(scope, send, 307, "", [(b"location", location.encode("latin-1"))])
            return
        await send_plain(scope, send, 400, "Invalid host header")
