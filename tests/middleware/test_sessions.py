"""SessionMiddleware: request.session in a signed cookie, Starlette's format, key rotation."""

from __future__ import annotations

import json
import time
from base64 import b64encode
from typing import Any

import itsdangerous
import pytest
from asgi_helpers import handshake_scope, http_scope

from microweb import App, Request
from microweb.middleware import Middleware, SessionMiddleware
from microweb.responses import PlainTextResponse, Response
from microweb.testclient import TestClient
from microweb.types import Message, Receive, Scope, Send
from middleware.helpers import handshake


def make_app(**options: Any) -> App:
    options.setdefault("secret_key", "k1")
    app = App(middleware=[Middleware(SessionMiddleware, **options)])

    @app.get("/")
    def read(request: Request) -> dict[str, Any]:
        return request.session

    @app.post("/set/{key}/{value}")
    def write(request: Request, key: str, value: str) -> dict[str, Any]:
        request.session[key] = value
        return request.session

    @app.post("/clear")
    def clear(request: Request) -> dict[str, Any]:
        request.session.clear()
        return request.session

    @app.post("/append/{value}")
    def append(request: Request, value: str) -> dict[str, Any]:
        request.session["list"].append(value)  # a change inside: no __setitem__ on the session
        return request.session

    @app.get("/untouched")
    def untouched() -> str:
        return "no session here"

    return app


def test_a_read_sends_no_cookie_and_varies_by_cookie() -> None:
    client = TestClient(make_app())
    client.cookies.set("session", starlette_cookie({"user": "ada"}, "k1"))
    response = client.get("/")
    assert response.json() == {"user": "ada"}
    assert "set-cookie" not in response.headers  # unchanged: nothing to write
    assert response.headers["vary"] == "Cookie"  # but the answer depends on it
    untouched = client.get("/untouched")
    assert "vary" not in untouched.headers
    assert "set-cookie" not in untouched.headers


def test_a_change_inside_a_value_is_written() -> None:
    client = TestClient(make_app())
    client.cookies.set("session", starlette_cookie({"list": ["a"]}, "k1"))
    response = client.post("/append/b")
    assert response.json() == {"list": ["a", "b"]}
    assert response.headers["set-cookie"].startswith("session=")
    later = TestClient(make_app())
    later.cookies.set("session", response.cookies["session"])
    assert later.get("/").json() == {"list": ["a", "b"]}


def test_a_vary_the_app_set_is_kept() -> None:
    app = App(middleware=[Middleware(SessionMiddleware, secret_key="k1")])

    @app.get("/")
    def read(request: Request) -> Response:
        return PlainTextResponse(str(request.session), headers={"vary": "Accept-Language"})

    response = TestClient(app).get("/")
    assert response.headers.get_list("vary") == ["Accept-Language", "Cookie"]


def test_a_session_round_trips_and_is_cleared() -> None:
    client = TestClient(make_app())
    assert client.get("/").json() == {}
    assert "set-cookie" not in client.get("/").headers
    response = client.post("/set/user/ada")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("session=")
    # Starlette's SessionMiddleware writes the same header.
    assert cookie.endswith("; path=/; Max-Age=1209600; httponly; samesite=lax")
    assert client.get("/").json() == {"user": "ada"}
    cleared = client.post("/clear")
    assert "expires=Thu, 01 Jan 1970 00:00:00 GMT" in cleared.headers["set-cookie"]
    assert client.get("/").json() == {}


def test_cookie_attributes() -> None:
    client = TestClient(
        make_app(
            session_cookie="sid",
            max_age=None,
            path="/app",
            same_site="strict",
            https_only=True,
            domain="example.com",
        ),
        base_url="https://testserver",
    )
    cookie = client.post("/set/a/b").headers["set-cookie"]
    assert cookie.startswith("sid=")
    assert cookie.endswith("; path=/app; httponly; samesite=strict; secure; domain=example.com")


def starlette_cookie(session: dict[str, Any], key: str, timestamp: int | None = None) -> str:
    """A cookie made the way Starlette's SessionMiddleware makes one."""

    class Signer(itsdangerous.TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) if timestamp is None else timestamp

    data = b64encode(json.dumps(session).encode("utf-8"))
    return Signer(key).sign(data).decode("utf-8")


def test_reads_a_cookie_signed_the_starlette_way() -> None:
    client = TestClient(make_app())
    client.cookies.set("session", starlette_cookie({"user": "ada"}, "k1"))
    assert client.get("/").json() == {"user": "ada"}


@pytest.mark.parametrize(
    "cookie",
    [
        starlette_cookie({"user": "ada"}, "another key"),  # tampered: a signature we did not make
        starlette_cookie({"user": "ada"}, "k1", timestamp=int(time.time()) - 100),  # expired
        starlette_cookie({"user": "ada"}, "k1")[:-2] + "xx",  # signature broken
        "garbage",
        itsdangerous.TimestampSigner("k1").sign(b"!!notbase64").decode(),
        itsdangerous.TimestampSigner("k1").sign(b64encode(b"[1, 2]")).decode(),  # not an object
        itsdangerous.TimestampSigner("k1").sign(b64encode(b"{bad json")).decode(),
        itsdangerous.TimestampSigner("k1").sign(b64encode(b"\xff\xfe")).decode(),
    ],
    # Names, not the cookies: signed ones hold the time, and pytest-xdist's workers
    # must collect the same test ids.
    ids=[
        "tampered",
        "expired",
        "broken",
        "garbage",
        "not-base64",
        "not-object",
        "bad-json",
        "not-utf8",
    ],
)
def test_a_bad_cookie_is_an_empty_session_and_is_deleted(cookie: str) -> None:
    client = TestClient(make_app(max_age=10))
    client.cookies.set("session", cookie)
    response = client.get("/")
    assert response.status_code == 200
    assert response.json() == {}
    assert "expires=Thu, 01 Jan 1970 00:00:00 GMT" in response.headers["set-cookie"]


def test_key_rotation_first_signs_all_verify() -> None:
    old = TestClient(make_app(secret_key="old"))
    cookie = old.post("/set/user/ada").cookies["session"]
    rotated = TestClient(make_app(secret_key=["new", "old"]))
    rotated.cookies.set("session", cookie)
    assert rotated.get("/").json() == {"user": "ada"}
    resigned = rotated.post("/set/n/1").cookies["session"]
    only_new = TestClient(make_app(secret_key=["new"]))
    only_new.cookies.set("session", resigned)
    assert only_new.get("/").json() == {"user": "ada", "n": "1"}
    dropped = TestClient(make_app(secret_key=["newer"]))
    dropped.cookies.set("session", resigned)
    assert dropped.get("/").json() == {}


def test_request_session_without_the_middleware_says_so() -> None:
    async def receive() -> Message:
        return {"type": "http.disconnect"}  # pragma: no cover - never read

    with pytest.raises(RuntimeError, match="needs SessionMiddleware: install it on the App"):
        Request(http_scope(), receive).session  # noqa: B018


@pytest.mark.anyio
async def test_websockets_get_the_session() -> None:
    seen: list[Any] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["session"])
        await send({"type": "websocket.accept"})

    middleware = SessionMiddleware(app, secret_key="k1")
    cookie = b"session=" + starlette_cookie({"user": "ada"}, "k1").encode()
    sent = await handshake(middleware, handshake_scope([(b"cookie", cookie)]))
    assert seen == [{"user": "ada"}]
    assert sent == [{"type": "websocket.accept"}]


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="secret_key must be a non-empty str or a list"):
        SessionMiddleware(make_app(), secret_key=[])
    with pytest.raises(ValueError, match="samesite must be 'lax', 'strict' or 'none'"):
        SessionMiddleware(make_app(), secret_key="k", same_site="sometimes")
    with pytest.raises(TypeError, match="max_age must be an int \\(seconds\\) or None, got '1'"):
        SessionMiddleware(make_app(), secret_key="k", max_age="1")  # type: ignore[arg-type]
