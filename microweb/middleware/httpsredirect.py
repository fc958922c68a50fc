"""HTTPSRedirectMiddleware: every ``http``/``ws`` request is sent to ``https``/``wss``.

307 keeps the method and body (RFC 9110 §15.4.8), so a POST is repeated as a
POST. The path and query are kept as the client sent them; the port is
dropped when it is a default one (80 or 443), which also takes ``:80`` off
a plain-HTTP Host. A WebSocket handshake gets a 307 denial response where
the server offers ``websocket.http.response``, else close 1008.
"""

from __future__ import annotations

from microweb.middleware._asgi import redirect_url, send_plain
from microweb.types import ASGIApp, Receive, Scope, Send

__all__ = ["HTTPSRedirectMiddleware"]

_SECURE = {"http": "https", "ws": "wss"}


class HTTPSRedirectMiddleware:
    """Redirect plain ``http`` and ``ws`` requests to ``https`` and ``wss`` (307)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and scope.get("scheme") in _SECURE:
            location = redirect_url(scope, scheme=_SECURE[scope["scheme"]])
            await send_plain(scope, send, 307, "", [(b"location", location.encode("latin-1"))])
            return
        await self.app(scope, receive, send)
