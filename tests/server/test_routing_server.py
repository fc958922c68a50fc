"""The route-table rules, through a real uvicorn process and httpx."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from .conftest import Server


@pytest.fixture
def server(serve: Callable[..., Server]) -> Server:
    return serve("routing_app:app")


def test_static_and_parametrised_routes(server: Server, http: httpx.Client) -> None:
    assert http.get(server.url + "/").json() == {"hello": "world"}
    r = http.get(server.url + "/items/5", params={"q": "x", "limit": "3"})
    assert r.json() == {"item_id": 5, "q": "x", "limit": 3}
    assert r.headers["content-type"] == "application/json"
    assert http.get(server.url + "/users/me").text == '"me"'
    assert http.get(server.url + "/users/bob").json() == "user bob"
    assert (
        http.get(server.url + "/uuid/00000000-0000-0000-0000-00000000000a").json()
        == "0" * 31 + "a"
    )
    r = http.get(server.url + "/files/a/b/c%20d.txt")
    assert (r.text, r.headers["content-type"]) == ("a/b/c d.txt", "text/plain; charset=utf-8")
    assert http.get(server.url + "/v1/api/ping").text == "pong"


def test_not_found_and_unconvertible(server: Server, http: httpx.Client) -> None:
    r = http.get(server.url + "/nowhere")
    assert (r.status_code, r.json()) == (404, {"detail": "Not Found"})
    assert http.get(server.url + "/items/abc").status_code == 404
    r = http.get(server.url + "/items/5?limit=many")
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "limit"]


def test_method_not_allowed(server: Server, http: httpx.Client) -> None:
    r = http.put(server.url + "/items/5")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, HEAD, OPTIONS, POST"
    r = http.post(server.url + "/items/5")
    assert (r.status_code, r.json()) == (201, {"created": 5})


def test_head_and_options(server: Server, http: httpx.Client) -> None:
    get = http.get(server.url + "/page")
    head = http.head(server.url + "/page")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"] == "13"
    assert head.headers["content-type"] == "text/html; charset=utf-8"
    r = http.options(server.url + "/items/1")
    assert (r.status_code, r.content) == (204, b"")
    assert r.headers["allow"] == "GET, HEAD, OPTIONS, POST"


def test_redirects(server: Server, http: httpx.Client) -> None:
    r = http.get(server.url + "/slash?x=1")
    assert r.status_code == 307
    assert r.headers["location"] == "/slash/?x=1"  # relative (RFC 9110 §10.2.2)
    r = http.get(server.url + "/go")
    assert (r.status_code, r.headers["location"]) == (307, "/page")


def test_no_content_and_errors(server: Server, http: httpx.Client) -> None:
    r = http.delete(server.url + "/things/3")
    assert (r.status_code, r.content) == (204, b"")
    r = http.get(server.url + "/teapot")
    assert (r.status_code, r.json(), r.headers["x-tea"]) == (
        418,
        {"detail": "I'm a Teapot"},
        "earl grey",
    )
    r = http.get(server.url + "/crash")
    assert (r.status_code, r.text) == (500, "Internal Server Error")
    assert "secret" not in r.text
    output = server.stop()
    assert "RuntimeError: internal secret" in output  # the traceback went to the log
