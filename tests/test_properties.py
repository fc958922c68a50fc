"""Property tests: round-trips hold and no input makes the app answer 500.

Example counts are bounded so CI stays quick; raise them locally for a
deeper search.
"""

from __future__ import annotations

import string
import uuid
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microweb import App, Request, Response
from microweb._http.cookies import parse_cookie_header
from microweb.responses import PlainTextResponse
from microweb.testclient import TestClient

# Cookie names are RFC 9110 tokens; values any printable Latin-1 text.
TOKEN = st.text(string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~", min_size=1, max_size=20)
COOKIE_VALUE = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=40
)


@settings(max_examples=300, deadline=None)
@given(TOKEN, COOKIE_VALUE)
def test_set_cookie_parses_back(name: str, value: str) -> None:
    response = Response()
    response.set_cookie(name, value)
    header = response.headers["set-cookie"]
    pair = header.split("; Path=/")[0]  # the name=value part, as a browser sends it back
    assert parse_cookie_header(pair) == {name: value}


@settings(max_examples=300, deadline=None)
@given(TOKEN, st.text(max_size=20))
def test_any_str_cookie_value_round_trips_through_an_ascii_header(name: str, value: str) -> None:
    # Non-ASCII (U+2603, emoji, surrogates aside) is written as escaped UTF-8 bytes.
    response = Response()
    try:
        response.set_cookie(name, value)
    except UnicodeEncodeError:  # a lone surrogate has no UTF-8: refused, never sent
        assert any("\ud800" <= c <= "\udfff" for c in value)
        return
    header = response.headers["set-cookie"]
    assert header.isascii()
    assert parse_cookie_header(header.split("; Path=/")[0]) == {name: value}


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(TOKEN, COOKIE_VALUE.filter(lambda v: ";" not in v), max_size=5))
def test_cookie_header_parses_into_request_cookies(cookies: dict[str, str]) -> None:
    """Cookies set by set_cookie and sent back together reach request.cookies intact."""
    sender = Response()
    for name, value in cookies.items():
        sender.set_cookie(name, value)
    sent = "; ".join(h.split("; Path=/")[0] for h in sender.headers.getlist("set-cookie"))

    app = App()

    @app.get("/")
    def echo(request: Request) -> dict[str, str]:
        return request.cookies

    answer = TestClient(app).get("/", headers={"cookie": sent.encode("latin-1").decode("latin-1")})
    assert answer.json() == cookies


SEGMENT = st.text(st.characters(exclude_characters="/\x00", exclude_categories=["Cs"]), min_size=1)


def url_app() -> App:
    app = App()

    @app.get("/users/{name}/files/{p:path}", name="file")
    async def file(name: str, p: str) -> list[str]:
        return [name, p]

    @app.get("/items/{n:int}/{x:float}/{u:uuid}", name="typed")
    async def typed(n: int, x: float, u: uuid.UUID) -> list[Any]:
        return [n, x, str(u)]

    return app


URL_APP = url_app()
URL_CLIENT = TestClient(URL_APP)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SEGMENT, st.lists(SEGMENT, max_size=3).map("/".join))
def test_url_path_for_matches_the_same_route(name: str, path: str) -> None:
    url = URL_APP.url_path_for("file", name=name, p=path)
    # httpx would normalise dot segments; send the raw target as a browser would not.
    if any(part in {".", ".."} for part in url.split("/")):
        return
    answer = URL_CLIENT.get(httpx.URL(url))
    assert answer.status_code == 200, url
    assert answer.json() == [name, path]


@settings(max_examples=150, deadline=None)
@given(
    st.integers(min_value=0, max_value=10**30),
    st.floats(min_value=0, max_value=1e15, allow_nan=False),
    st.uuids(),
)
def test_url_path_for_typed_round_trip(n: int, x: float, u: uuid.UUID) -> None:
    url = URL_APP.url_path_for("typed", n=n, x=x, u=u)
    assert URL_CLIENT.get(url).json() == [n, x, str(u)]


def robust_app() -> App:
    app = App()

    @app.get("/")
    def index() -> str:
        return "ok"

    @app.get("/items/{item_id:int}")
    def item(item_id: int, q: str | None = None, limit: int = 10, tags: list[str] = []) -> Any:  # noqa: B006
        return {"item_id": item_id, "q": q, "limit": limit, "tags": tags}

    @app.get("/users/{name}")
    def user(name: str, active: bool = True) -> Any:
        return [name, active]

    @app.get("/files/{p:path}", response_class=PlainTextResponse)
    def files(p: str) -> str:
        return p

    @app.post("/echo")
    async def echo(request: Request) -> Any:
        return await request.json()

    return app


ROBUST_CLIENT = TestClient(robust_app(), raise_server_exceptions=True)
RAW_BYTES = st.binary(max_size=40).map(lambda b: quote(b, safe="/?&=%+"))


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["/", "/items/", "/users/", "/files/", "/echo", "/nope/"]),
    RAW_BYTES,
    RAW_BYTES,
    st.sampled_from(["GET", "HEAD", "POST", "PUT", "OPTIONS", "DELETE"]),
)
def test_no_path_or_query_gives_a_500(prefix: str, path: str, query: str, method: str) -> None:
    url = prefix + path.lstrip("/") + "?" + query
    answer = ROBUST_CLIENT.request(method, url)
    assert answer.status_code < 500, (method, url, answer.text)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.sampled_from(["application/json", "text/plain", ""]))
def test_no_body_gives_a_500(body: bytes, content_type: str) -> None:
    headers = {"content-type": content_type} if content_type else {}
    answer = ROBUST_CLIENT.post("/echo", content=body, headers=headers)
    assert answer.status_code in (200, 400), answer.text


@pytest.mark.parametrize(
    "raw_path",
    [b"/items/%ff", b"/users/%C0%AF", b"/files/../../etc/passwd", b"/%00", b"/users/a%2Fb"],
)
def test_odd_raw_paths(raw_path: bytes) -> None:
    answer = ROBUST_CLIENT.get(httpx.URL(raw_path.decode()))
    assert answer.status_code < 500
