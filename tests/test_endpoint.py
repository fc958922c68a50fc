"""What a router compiles a route into: call modes, coercion, the temporary Response."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any

import msgspec
import pytest
from asgi_helpers import call_asgi, http_scope

from microweb import App, BackgroundTasks, Request, Response, Router
from microweb._endpoint import BindingEndpoint, BodyEndpoint, Endpoint
from microweb._json import dumps
from microweb.background import BackgroundTask
from microweb.params import Form
from microweb.responses import HTMLResponse, JSONResponse, PlainTextResponse, StreamingResponse
from microweb.routing import Route
from microweb.testclient import TestClient
from microweb.types import Message


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


# --- a typed body without a Request: BodyEndpoint, held to BindingEndpoint's answers ---


class Order(msgspec.Struct):
    name: str
    price: float
    tags: list[str] = []
    note: str | None = None


def order_app(**limits: Any) -> App:
    """The same handler twice: ``/fast`` takes the typed-body path, ``/general`` cannot."""
    app = App(**limits)

    @app.post("/fast")
    async def fast(order: Order, q: int = 0) -> Order:
        return order

    @app.post("/general")
    async def general(order: Order, request: Request, q: int = 0) -> Order:
        return order

    return app


PATHS = ["/fast", "/general"]
JSON_TYPE = {"content-type": "application/json"}


def test_a_typed_body_alone_is_answered_without_a_request() -> None:
    kinds = {r.path: type(r) for r in order_app().routes}
    assert kinds == {"/fast": BodyEndpoint, "/general": BindingEndpoint}
    app = App()

    @app.post("/tasks")
    async def with_tasks(order: Order, tasks: BackgroundTasks) -> str:
        return order.name

    @app.post("/form")
    async def with_form(name: Annotated[str, Form()]) -> str:
        return name

    assert {type(r) for r in app.routes} == {BindingEndpoint}


@pytest.mark.parametrize("path", PATHS)
def test_a_valid_body_and_query(path: str) -> None:
    client = TestClient(order_app())
    r = client.post(f"{path}?q=3", content=b'{"name":"a","price":"1.5"}', headers=JSON_TYPE)
    assert (r.status_code, r.content) == (200, b'{"name":"a","price":1.5,"tags":[],"note":null}')
    chunked = client.post(path, content=iter([b'{"name":"a",', b'"price":2}']), headers=JSON_TYPE)
    assert "content-length" not in chunked.request.headers
    assert chunked.json() == {"name": "a", "price": 2.0, "tags": [], "note": None}


@pytest.mark.parametrize("path", PATHS)
def test_the_422_of_a_query_value_and_the_body_together(path: str) -> None:
    r = TestClient(order_app()).post(
        f"{path}?q=x", content=b'{"name":1,"tags":[2]}', headers=JSON_TYPE
    )
    assert r.status_code == 422
    assert r.json() == {
        "detail": [
            {
                "type": "int_parsing",
                "loc": ["query", "q"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "input": "x",
            },
            {
                "type": "string_type",
                "loc": ["body", "name"],
                "msg": "Input should be a valid string",
                "input": 1,
            },
            {
                "type": "missing",
                "loc": ["body", "price"],
                "msg": "Field required",
                "input": {"name": 1, "tags": [2]},
            },
            {
                "type": "string_type",
                "loc": ["body", "tags", 0],
                "msg": "Input should be a valid string",
                "input": 2,
            },
        ]
    }


@pytest.mark.parametrize("path", PATHS)
def test_the_422_of_an_empty_body_json_that_does_not_parse_and_text(path: str) -> None:
    client = TestClient(order_app())
    assert client.post(path, headers=JSON_TYPE).json() == {
        "detail": [{"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}]
    }
    assert client.post(path, content=b'{"name": ', headers=JSON_TYPE).json() == {
        "detail": [
            {
                "type": "json_invalid",
                "loc": ["body", 9],
                "msg": "JSON decode error",
                "input": {},
                "ctx": {"error": "Expecting value"},
            }
        ]
    }
    text = client.post(
        path, content=b'{"name":"a","price":1}', headers={"content-type": "text/plain"}
    )
    assert (text.status_code, text.json()) == (
        422,
        {
            "detail": [
                {
                    "type": "model_attributes_type",
                    "loc": ["body"],
                    "msg": "Input should be a valid dictionary or object to extract fields from",
                    "input": '{"name":"a","price":1}',
                }
            ]
        },
    )


@pytest.mark.parametrize("path", PATHS)
def test_the_json_depth_limit_is_400(path: str) -> None:
    deep = b'{"name":"a","price":1,"tags":' + b"[" * 600 + b"]" * 600 + b"}"
    r = TestClient(order_app()).post(path, content=deep, headers=JSON_TYPE)
    assert (r.status_code, r.json()) == (
        400,
        {"detail": "Invalid JSON body: JSON nested deeper than 512 levels"},
    )


BODY = b'{"name":"a","price":1}'  # 22 bytes


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("limits", "detail"),
    [
        ({"max_body_size": 10}, "Request body too large: the limit is max_body_size=10 bytes"),
        (
            {"request_memory_budget": 10},
            "The request body would pass the request's in-memory budget of 10 bytes "
            "(App(request_memory_budget=...))",
        ),
    ],
)
def test_a_body_past_a_limit_is_413_sent_whole_or_chunked(
    path: str, limits: dict[str, int], detail: str
) -> None:
    client = TestClient(order_app(**limits))
    chunked = client.post(path, content=iter([BODY[:8], BODY[8:]]), headers=JSON_TYPE)
    assert (chunked.status_code, chunked.json()) == (413, {"detail": detail})
    declared = client.post(path, content=BODY, headers=JSON_TYPE)
    if "max_body_size" in limits:  # refused by its content-length, before it is read
        detail = "Request body too large: content-length 22 exceeds max_body_size=10 bytes"
    assert (declared.status_code, declared.json()) == (413, {"detail": detail})
    assert TestClient(order_app(max_body_size=22, request_memory_budget=22)).post(
        path, content=BODY, headers=JSON_TYPE
    ).json() == {"name": "a", "price": 1.0, "tags": [], "note": None}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.anyio
async def test_a_body_in_one_message_past_a_limit_without_content_length(path: str) -> None:
    sent = await send_body(order_app(max_body_size=10), path, [BODY])
    assert sent[0]["status"] == 413
    assert msgspec.json.decode(sent[1]["body"]) == {
        "detail": "Request body too large: the limit is max_body_size=10 bytes"
    }
    within = await send_body(order_app(request_memory_budget=22), path, [BODY])
    assert within[0]["status"] == 200


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.anyio
async def test_a_bad_content_length_is_400_before_a_byte_is_read(path: str) -> None:
    received: list[Message] = []
    sent = await send_body(
        order_app(max_body_size=100), path, [BODY], [(b"content-length", b"1e3")], received
    )
    assert sent[0]["status"] == 400
    assert msgspec.json.decode(sent[1]["body"]) == {
        "detail": "Invalid content-length header '1e3'"
    }
    assert received == []


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.anyio
async def test_a_client_that_leaves_mid_body_gets_no_answer(
    path: str, caplog: pytest.LogCaptureFixture
) -> None:
    # ClientDisconnect: the App answers nothing to a client that is gone, and logs nothing.
    with caplog.at_level(logging.WARNING, logger="microweb"):
        assert await send_body(order_app(), path, [BODY[:8]], then_disconnect=True) == []
    assert caplog.records == []


@pytest.mark.anyio
async def test_a_typed_body_outside_an_app_is_read_by_request_rules() -> None:
    router = Router()

    @router.post("/fast")
    async def fast(order: Order) -> Order:
        return order

    assert [type(r) for r in router.routes] == [BodyEndpoint]
    bodies: list[list[Any]] = [[BODY], [BODY[:8], BODY[8:]], [bytearray(BODY)]]
    for chunks in bodies:
        sent = await send_body(router, "/fast", chunks)
        assert sent[1]["body"] == b'{"name":"a","price":1.0,"tags":[],"note":null}'


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.anyio
async def test_a_body_as_a_bytearray_or_after_an_empty_message(path: str) -> None:
    expected = b'{"name":"a","price":1.0,"tags":[],"note":null}'
    bodies: list[list[Any]] = [[bytearray(BODY)], [b"", BODY], [memoryview(BODY)]]
    for chunks in bodies:
        sent = await send_body(order_app(), path, chunks)
        assert (sent[0]["status"], sent[1]["body"]) == (200, expected)


async def send_body(
    app: App | Router,
    path: str,
    chunks: list[bytes],
    headers: list[tuple[bytes, bytes]] | None = None,
    received: list[Message] | None = None,
    *,
    then_disconnect: bool = False,
) -> list[Message]:
    """Call ``app`` with ``chunks`` as the body (the last one ends it, or a disconnect follows)."""
    messages: list[Message] = [
        {"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks
    ]
    if then_disconnect:
        messages.append({"type": "http.disconnect"})
    else:
        messages[-1]["more_body"] = False

    async def receive() -> Message:
        message = messages.pop(0) if messages else {"type": "http.disconnect"}
        if received is not None:
            received.append(message)
        return message

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = http_scope("POST", path, [(b"content-type", b"application/json"), *(headers or [])])
    await app(scope, receive, send)
    return sent
