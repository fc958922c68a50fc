"""Every example app runs and answers as its docstring says."""

from __future__ import annotations

from microweb.responses import ORJSONResponse
from microweb.testclient import TestClient


def test_hello() -> None:
    from examples.hello import app

    client = TestClient(app)
    assert client.get("/").json() == {"message": "Hello, World!"}
    assert client.get("/items/42?q=shoes").json() == {"item_id": 42, "q": "shoes"}
    assert client.get("/items/42").json() == {"item_id": 42, "q": None}
    r = client.get("/hello/Ada%20<3")
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.text == "<h1>Hello, Ada &lt;3!</h1>"


def test_hello_orjson_variant() -> None:
    from examples.hello import orjson_app

    client = TestClient(orjson_app)
    assert client.get("/items/7").json() == {"item_id": 7, "q": None}
    index = next(r for r in orjson_app.routes if r.path == "/")
    assert index.effective_response_class is ORJSONResponse
    assert client.get("/hello/x").headers["content-type"] == "text/html; charset=utf-8"
