"""The README's first command serves examples.hello:app; check it answers for real."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from .conftest import Server


def test_hello_served_by_uvicorn(serve: Callable[..., Server], http: httpx.Client) -> None:
    server = serve("examples.hello:app")
    assert http.get(server.url + "/").json() == {"message": "Hello, World!"}
    assert http.get(server.url + "/items/3?q=x").json() == {"item_id": 3, "q": "x"}
    assert http.get(server.url + "/hello/Bo").text == "<h1>Hello, Bo!</h1>"
