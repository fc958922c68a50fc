"""What a router compiles a route into: call modes, coercion, the temporary Response."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import msgspec
import pytest
from asgi_helpers import call_asgi

from microweb import App, BackgroundTasks, Response, Router
from microweb._endpoint import BindingEndpoint, Endpoint
from microweb._json import dumps
from microweb.background import BackgroundTask
from microweb.responses import HTMLResponse, JSONResponse, PlainTextResponse, StreamingResponse
from microweb.routing import Route
from microweb.testclient import TestClient


def test_returning_the_temporary_response_sends_it_once() -> None:
    app = App()
    done: list[str] = []

    @app.post("/login", status_code=201)
    def login(response: Response) -> Response:
        response.headers["x-trace"] = "t1"
        response.set_cookie("session", "abc")
        response.background = BackgroundTask(done.append, "audit")
        return response  # as FastAPI allows

    @app.post("/logout")
    def logout(response: Response) -> Response:
        response.status_code = 202
        response.delete_cookie("session")
        return response

    client = TestClient(app)
    r = client.post("/login")
    assert (r.status_code, r.content) == (201, b"")  # the route's status, an empty body
    assert r.headers.get_list("set-cookie") == ["session=abc; Path=/; SameSite=Lax"]
    assert r.headers.get_list("x-trace") == ["t1"]
    assert r.headers.get_list("content-length") == ["0"]
    assert done == ["audit"]
    r = client.post("/logout")
    assert (r.status_code, r.content) == (202, b"")  # the status it set
    assert len(r.headers.get_list("set-cookie")) == 1


def test_returning_the_temporary_response_with_a_bodyless_status() -> None:
    app = App()

    @app.delete("/x")
    def remove(response: Response) -> Response:
        response.status_code = 204
        return response

    r = TestClient(app).delete("/x")
    assert (r.status_code, r.content) == (204, b"")
    assert "content-length" not in r.headers


def test_a_route_in_two_apps_answers_with_each_apps_class() -> None:
    def page() -> str:
        return "<p>hi</p>"

    route = Route("/page", page)
    html_app = App(default_response_class=HTMLResponse, routes=[route])
    text_app = App(default_response_class=PlainTextResponse, routes=[route])
    assert route.response_class is None  # nothing a router does changes the route
    assert TestClient(html_app).get("/page").headers["content-type"].startswith("text/html")
    assert TestClient(text_app).get("/page").headers["content-type"].startswith("text/plain")
    assert [r.route for r in html_app.routes] == [route]


def test_a_router_included_twice_keeps_each_includers_default() -> None:
    shared = Router(prefix="/s")

    @shared.get("/x")
    def x() -> str:
        return "<b>x</b>"

    html_app = App(default_response_class=HTMLResponse)
    html_app.include_router(shared)
    json_app = App()
    json_app.include_router(shared)
    assert TestClient(html_app).get("/s/x").headers["content-type"].startswith("text/html")
    assert TestClient(json_app).get("/s/x").json() == "<b>x</b>"
    assert [r.effective_response_class for r in shared.routes] == [JSONResponse]


def test_route_is_an_asgi_app_on_its_own() -> None:
    def item(item_id: int, q: str = "") -> str:
        return f"{item_id} {q}"

    def routed(route: Route) -> TestClient:
        async def app(scope: Any, receive: Any, send: Any) -> None:
            scope["path_params"] = {"item_id": 5}  # what a router would have put there
            await route(scope, receive, send)

        return TestClient(app)

    r = routed(Route("/items/{item_id:int}", item, response_class=PlainTextResponse)).get("/?q=a")
    assert (r.headers["content-type"], r.text) == ("text/plain; charset=utf-8", "5 a")
    assert routed(Route("/items/{item_id:int}", item)).get("/?q=a").json() == "5 a"


def test_the_binding_kind_is_decided_when_compiled() -> None:
    app = App()

    @app.get("/a/{x}")
    async def direct(x: str) -> str:
        return x

    @app.get("/b/{x}")
    async def bound(x: str, tasks: BackgroundTasks) -> str:
        return x

    kinds = {r.path: type(r) for r in app.routes}
    assert kinds == {"/a/{x}": Endpoint, "/b/{x}": BindingEndpoint}


def test_call_modes() -> None:
    app = App()

    @app.get("/async")
    async def async_handler() -> str:
        return "a"

    @app.get("/sync")
    def sync_handler() -> str:
        return "s"

    @app.get("/gen", response_class=StreamingResponse)
    def gen() -> Iterator[str]:
        yield "g"

    modes = {r.path: (r.is_async, r.makes_generator) for r in app.routes}
    assert modes == {"/async": (True, False), "/sync": (False, False), "/gen": (False, True)}
    client = TestClient(app)
    assert [client.get(p).text for p in ("/async", "/sync", "/gen")] == ['"a"', '"s"', "g"]


def _refusal(
    caplog: pytest.LogCaptureFixture, handler: Callable[..., Any], **route: Any
) -> BaseException:
    """The error logged for the 500 that ``handler``'s return value causes."""
    app = App()
    app.add_route("/x", handler, **route)
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="microweb"):
        response = TestClient(app).get("/x")
    assert response.status_code == 500
    [error] = [r.exc_info[1] for r in caplog.records if r.exc_info and r.exc_info[1]]
    assert error.__cause__ is None
    assert error.__suppress_context__  # one clear error, not the encoder's chain
    return error


def test_returning_a_generator_names_the_streaming_classes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def numbers() -> Any:
        return (n for n in range(3))

    async def events() -> Any:
        async def gen() -> AsyncIterator[str]:
            yield "x"

        return gen()

    for handler in (numbers, events):
        message = str(_refusal(caplog, handler))
        assert "returned a " in message
        assert "JSONResponse cannot send" in message
        assert "response_class=StreamingResponse" in message
        assert "EventSourceResponse" in message
        assert repr(handler.__qualname__) in message


def test_returning_an_unawaited_coroutine_says_which_call(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def load_item() -> dict[str, int]:
        return {"id": 1}

    async def handler() -> Any:
        return load_item()  # forgot the await

    message = str(_refusal(caplog, handler))
    assert "returned the coroutine" in message
    assert "load_item" in message
    assert "return await" in message


def test_returning_an_unencodable_value_names_its_type_and_the_class(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Thing:
        pass

    async def handler() -> Any:
        return Thing()

    error = _refusal(caplog, handler, response_class=PlainTextResponse)
    assert isinstance(error, TypeError)
    assert "returned Thing, which PlainTextResponse cannot send" in str(error)
    nan = _refusal(caplog, lambda: {"x": float("nan")})
    assert isinstance(nan, ValueError)
    assert "JSONResponse cannot send" in str(nan)


@pytest.mark.anyio
@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_a_returned_value_is_sent_as_its_response_class_would_send_it(method: str) -> None:
    app = App()

    @app.get("/text/{word}", response_class=PlainTextResponse, status_code=201)
    async def text(word: str) -> str:
        return word * 3

    @app.get("/made/{word}")
    async def made(word: str) -> Response:
        return PlainTextResponse(word * 3, status_code=201)

    @app.get("/json")
    async def json() -> dict[str, Any]:
        return {"a": [1, None, "é"]}

    @app.get("/json-made")
    async def json_made() -> Response:
        return JSONResponse({"a": [1, None, "é"]})

    def answer(path: str) -> Any:
        return call_asgi(app, method, path=path)

    assert await answer("/text/ab") == await answer("/made/ab")
    assert await answer("/json") == await answer("/json-made")


class Box(msgspec.Struct):
    width: float
    label: str | None = None


class Crate(msgspec.Struct):
    boxes: list[Box]


def test_a_struct_return_type_is_sent_as_jsonresponse_sends_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = App()

    @app.get("/box")
    async def box(width: float, label: str | None = None) -> Box:
        return Box(width, label)

    @app.get("/crate", response_model=Crate, status_code=201)
    async def crate() -> Any:
        return {"boxes": [{"width": 1e16, "label": "big"}], "hidden": True}

    @app.get("/other")
    async def other() -> Box:
        return {"width": 1.5, "more": [1e-7]}  # type: ignore[return-value]

    client = TestClient(app)
    for width, label in [(2.5, None), (1e16, "x"), (5e-5, "é\u2028"), (1e-7, None)]:
        response = client.get("/box", params={"width": width, "label": label or []})
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.content == dumps(Box(width, label))
    created = client.get("/crate")
    assert (created.status_code, created.content) == (
        201,
        b'{"boxes":[{"width":1e+16,"label":"big"}]}',
    )
    assert client.get("/other").content == b'{"width":1.5,"more":[1e-07]}'
    nan = _refusal(caplog, box_of(float("nan")))
    assert isinstance(nan, ValueError)
    assert "returned Box, which JSONResponse cannot send" in str(nan)


def box_of(width: float) -> Callable[[], Box]:
    def handler() -> Box:
        return Box(width)

    return handler
