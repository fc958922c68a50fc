"""Mount (microweb._mount) and app.mount: prefixes, root_path, names, websockets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from microweb import App, PlainTextResponse, Router
from microweb.routing import Mount, Route
from microweb.staticfiles import StaticFiles
from microweb.testclient import TestClient
from microweb.types import Receive, Scope, Send
from microweb.websockets import WebSocket


def echo_scope(tag: str) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        text = f"{tag} {scope['path']} {scope['root_path']}"
        await PlainTextResponse(text)(scope, receive, send)

    return app


def test_mounted_app_gets_full_path_and_extended_root_path() -> None:
    app = App()
    app.mount("/sub", echo_scope("sub"))
    client = TestClient(app)
    assert client.get("/sub/a/b").text == "sub /sub/a/b /sub"
    assert client.get("/sub").text == "sub /sub /sub"
    assert TestClient(app, root_path="/api").get("/api/sub/x").text == "sub /api/sub/x /api/sub"


def test_segment_boundary_and_routes_first() -> None:
    app = App()
    app.mount("/static", echo_scope("static"))

    @app.get("/static/special")
    def special() -> str:
        return "route"

    client = TestClient(app)
    assert client.get("/staticfile").status_code == 404
    assert client.get("/static/special").json() == "route"
    assert client.get("/static/other").text.startswith("static")


def test_longest_prefix_wins_whatever_the_order() -> None:
    app = App()
    app.mount("/a", echo_scope("short"))
    app.mount("/a/b", echo_scope("long"))
    client = TestClient(app)
    assert client.get("/a/b/c").text.startswith("long")
    assert client.get("/a/bc").text.startswith("short")
    assert client.get("/a/x").text.startswith("short")


def test_mounted_app_keeps_its_own_404_and_response_class() -> None:
    inner = App(default_response_class=PlainTextResponse)

    @inner.get("/item/{item_id:int}", name="item")
    def item(item_id: int) -> str:
        return f"item {item_id}"

    @inner.exception_handler(404)
    def missing(request: Any, exc: Exception) -> PlainTextResponse:
        return PlainTextResponse("inner missing", status_code=404)

    app = App()
    app.mount("/api", inner, name="api")
    client = TestClient(app)
    r = client.get("/api/item/3")
    assert r.text == "item 3"
    assert r.headers["content-type"].startswith("text/plain")
    r = client.get("/api/nothing")
    assert r.status_code == 404
    assert r.text == "inner missing"
    assert client.post("/api/item/3").status_code == 405
    assert app.url_path_for("api:item", item_id=3) == "/api/item/3"


def test_url_path_for_through_mounts(tmp_path: Path) -> None:
    (tmp_path / "app.css").write_text("css")
    api = Router(routes=[Route("/items/{id:int}", lambda id: id, name="item")])
    app = App(
        routes=[
            Mount("/static", StaticFiles(directory=tmp_path), name="static"),
            Mount("/v1", routes=[Mount("/api", api, name="api")], name="v1"),
        ]
    )
    assert app.url_path_for("static", path="/app.css") == "/static/app.css"
    assert app.url_path_for("static", path="app.css") == "/static/app.css"
    assert app.url_path_for("v1:api:item", id=3) == "/v1/api/items/3"
    with pytest.raises(ValueError, match="no route is named 'v1:nope'"):
        app.url_path_for("v1:nope")
    with pytest.raises(ValueError, match="no route is named 'other:item'"):
        app.url_path_for("other:item")
    client = TestClient(app)
    assert client.get("/static/app.css").text == "css"
    assert client.get("/v1/api/items/3").json() == 3


def test_router_mount_and_include_keep_the_prefix() -> None:
    router = Router(prefix="/r")
    router.mount("/m", echo_scope("m"), name="m")
    app = App()
    app.include_router(router, prefix="/p")
    assert TestClient(app).get("/p/r/m/x").text == "m /p/r/m/x /p/r/m"
    assert app.url_path_for("m", path="x") == "/p/r/m/x"


def test_websocket_through_a_mount() -> None:
    inner = App()

    @inner.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(websocket.scope["root_path"])
        await websocket.close()

    app = App()
    app.mount("/inner", inner)
    with TestClient(app).websocket_connect("/inner/ws") as session:
        assert session.receive_text() == "/inner"


def test_mount_validation() -> None:
    with pytest.raises(ValueError, match="must start with '/'"):
        Mount("static", echo_scope("x"))
    with pytest.raises(ValueError, match="must start with '/'"):
        Mount("/static/", echo_scope("x"))
    with pytest.raises(ValueError, match="parameters"):
        Mount("/{tenant}", echo_scope("x"))
    with pytest.raises(TypeError, match="not both or neither"):
        Mount("/x")
    with pytest.raises(TypeError, match="must be an ASGI app"):
        Mount("/x", app=42)  # type: ignore[arg-type]
    assert "Mount('/x'" in repr(Mount("/x", echo_scope("x"), name="x"))


def test_url_path_for_keeps_the_inner_parameter_error() -> None:
    inner = App()
    inner.add_route("/items/{id:int}", lambda id: id, name="item")
    app = App()
    app.mount("/api", inner, name="api")
    with pytest.raises(ValueError, match="id"):
        app.url_path_for("api:item")
    with pytest.raises(ValueError, match="no route is named 'api'"):
        app.url_path_for("api")  # a mount of an App is named with "api:route"
