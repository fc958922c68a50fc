"""SessionMiddleware: ``request.session``, a dict kept in a signed cookie.

The cookie is Starlette's format, so a session made by a Starlette app reads
here and back: the session as JSON, base64-encoded, signed with
itsdangerous' ``TimestampSigner`` (HMAC-SHA1 over a key derived from the
secret, plus the signing time; the ``microweb[sessions]`` extra). A kept,
audited signing library rather than our own HMAC code, and the port comes free.

The cookie is signed, not encrypted: the client can read the session (keep
secrets out of it) but cannot change it. A cookie that is tampered with,
older than ``max_age``, signed with a key no longer listed, or not base64
JSON of an object reads as an empty session, never an error.

Key rotation: ``secret_key`` may be a list; the first key signs, every key
verifies, so a new key goes first and an old one is dropped once the
sessions it signed have expired.

The cookie is set when the session changed (compared as JSON, so a change
inside a nested list counts too) and deleted when a session that came with a
cookie, or with one that did not verify, is emptied; a request that leaves the
session as it was gets no ``set-cookie`` (Starlette 1.x's rule: its
``max_age`` then counts from the last change, not the last visit). A
response of an app that read ``request.session`` carries ``vary: Cookie``.
WebSocket scopes get ``scope["session"]`` too (read only: a handshake's
answer cannot set the cookie here).
"""

from __future__ import annotations

import binascii
import json
from base64 import b64decode, b64encode
from collections.abc import Sequence
from typing import Any

from microweb._http.cookies import parse_cookie_header, set_cookie_value
from microweb._session import Session
from microweb.middleware._asgi import get_header
from microweb.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SessionMiddleware"]


def _signer(secret_key: str | Sequence[str]) -> Any:
    try:
        import itsdangerous
    except ImportError as exc:  # pragma: no cover - the extra is installed for tests
        raise RuntimeError(
            "SessionMiddleware needs itsdangerous: pip install 'microweb-asgi[sessions]'"
        ) from exc
    keys = [secret_key] if isinstance(secret_key, str) else list(secret_key)
    if not keys or not all(isinstance(k, str) and k for k in keys):
        raise ValueError(
            f"secret_key must be a non-empty str or a list of them, got {secret_key!r}"
        )
    # itsdangerous signs with the last key of a list and verifies with them all.
    return itsdangerous.TimestampSigner(keys[::-1])


class SessionMiddleware:
    """Keep ``request.session`` (a JSON-able dict) in a signed cookie.

    ::

        app = App(middleware=[Middleware(SessionMiddleware, secret_key=os.environ["SECRET"])])

        @app.post("/login")
        async def login(request: Request) -> dict[str, str]:
            request.session["user"] = "ada"
            return {"ok": "yes"}

    ``max_age`` is in seconds (None: the cookie lasts the browser session and
    a signature never expires); ``https_only`` marks the cookie ``Secure``;
    ``same_site`` is lax, strict or none.
    """

    def __init__(
        self,
        app: ASGIApp,
        secret_key: str | Sequence[str],
        session_cookie: str = "session",
        max_age: int | None = 14 * 24 * 60 * 60,
        path: str = "/",
        same_site: str = "lax",
        https_only: bool = False,
        domain: str | None = None,
    ) -> None:
        if max_age is not None and (isinstance(max_age, bool) or not isinstance(max_age, int)):
            raise TypeError(f"max_age must be an int (seconds) or None, got {max_age!r}")
        self.app = app
        self.signer = _signer(secret_key)
        self.session_cookie = session_cookie
        self.max_age = max_age
        # Checked by microweb's cookie writer: a bad name, path, domain or
        # same_site raises here, not on the first response.
        set_cookie_value(
            session_cookie,
            "v",
            max_age=max_age,
            expires=None,
            path=path,
            domain=domain,
            secure=https_only,
            httponly=True,
            samesite=same_site,
            partitioned=False,
        )
        # perf: the attributes are the same on every response: written once.
        # Spelled as Starlette's SessionMiddleware spells them (attribute names
        # are case-insensitive, RFC 6265 §5.2), so a port changes no header.
        # A signed value is base64 and ".", which a cookie holds unquoted.
        flags = f"httponly; samesite={same_site.lower()}"
        if https_only:
            flags += "; secure"
        if domain is not None:
            flags += f"; domain={domain}"
        max_age_attribute = "" if max_age is None else f"Max-Age={max_age}; "
        self._prefix = f"{session_cookie}=".encode("latin-1")
        self._attributes = f"; path={path}; {max_age_attribute}{flags}".encode("latin-1")
        self._delete = (
            f"{session_cookie}=null; path={path}; expires=Thu, 01 Jan 1970 00:00:00 GMT; {flags}"
        ).encode("latin-1")

    def load(self, cookie: str) -> tuple[dict[str, Any], str | None]:
        """The session in a cookie's value and its JSON text.

        ``({}, None)`` if the cookie is not one we signed, or expired, or not
        a JSON object.
        """
        import itsdangerous

        try:
            data = self.signer.unsign(cookie.encode("latin-1"), max_age=self.max_age)
            text = b64decode(data, validate=True).decode("utf-8")
            session = json.loads(text)
        except (itsdangerous.BadSignature, binascii.Error, ValueError, UnicodeError):
            return {}, None
        return (session, text) if isinstance(session, dict) else ({}, None)

    def dump(self, session: dict[str, Any], text: str | None = None) -> str:
        """A signed cookie value holding ``session`` (whose JSON is ``text``, when known)."""
        if text is None:
            text = json.dumps(session)
        return str(self.signer.sign(b64encode(text.encode("utf-8"))).decode("latin-1"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        header = get_header(scope["headers"], b"cookie")
        cookie = None
        if header is not None:
            cookie = parse_cookie_header(header.decode("latin-1")).get(self.session_cookie)
        loaded, original = self.load(cookie) if cookie else ({}, None)
        scope["session"] = Session(loaded)
        if kind == "websocket":
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                session = scope["session"]
                added: list[tuple[bytes, bytes]] = []
                if getattr(session, "accessed", True):  # an app may put a plain dict there
                    added.append((b"vary", b"Cookie"))
                if session:
                    text = json.dumps(session)
                    if text != original:
                        cookie_value = self.dump(session, text).encode("latin-1")
                        added.append(
                            (b"set-cookie", self._prefix + cookie_value + self._attributes)
                        )
                elif cookie:
                    added.append((b"set-cookie", self._delete))
                if added:
                    message["headers"] = [*message.get("headers", ()), *added]
            await send(message)

        await self.app(scope, receive, send_with_cookie)
