from __future__ import annotations

import re
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from microweb import App, Request, Router
from microweb.responses import (
    HTMLResponse,
    JSONResponse,
    ORJSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from microweb.routing import Route
from microweb.testclient import TestClient


def test_decorators_register_and_return_the_function_unchanged() -> None:
    app = App()

    async def handler() -> str:
        return "x"

    for decorator in (app.get, app.post, app.put, app.patch, app.delete, app.options):
        assert decorator("/" + decorator.__name__)(handler) is handler
    assert app.route("/r", methods=["GET", "POST"])(handler) is handler
    client = TestClient(app)
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
        assert client.request(method, "/" + method.lower()).json() == "x"
    assert client.post("/r").json() == "x"


def test_static_and_converted_path_parameters() -> None:
    app = App()

    @app.get("/items/{item_id}")
    def as_str(item_id: str) -> dict[str, Any]:
        return {"id": item_id, "type": type(item_id).__name__}

    @app.get("/ints/{n:int}")
    def as_int(n: int) -> dict[str, Any]:
        return {"n": n, "type": type(n).__name__}

    @app.get("/floats/{x:float}")
    def as_float(x: float) -> float:
        return x

    @app.get("/uuids/{u:uuid}")
    def as_uuid(u: uuid.UUID) -> str:
        return f"{type(u).__name__}:{u}"

    @app.get("/files/{p:path}")
    def as_path(p: str) -> str:
        return p

    client = TestClient(app)
    assert client.get("/items/abc").json() == {"id": "abc", "type": "str"}
    assert client.get("/items/a%20b").json() == {"id": "a b", "type": "str"}
    assert client.get("/ints/42").json() == {"n": 42, "type": "int"}
    assert client.get("/ints/x").status_code == 404
    assert client.get("/floats/2.5").json() == 2.5
    u = uuid.uuid4()
    assert client.get(f"/uuids/{u}").json() == f"UUID:{u}"
    assert client.get("/files/a/b/c.txt").json() == "a/b/c.txt"


def test_annotation_converts_a_plain_path_parameter() -> None:
    app = App()

    @app.get("/items/{item_id}")
    def read(item_id: int) -> int:
        return item_id * 2

    client = TestClient(app)
    assert client.get("/items/21").json() == 42
    r = client.get("/items/abc")
    assert r.status_code == 422
    assert r.json() == {
        "detail": [
            {
                "loc": ["path", "item_id"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "type": "int_parsing",
                "input": "abc",
            }
        ]
    }


def test_static_segment_wins_over_parameter() -> None:
    app = App()

    @app.get("/users/{name}")
    def user(name: str) -> str:
        return f"user {name}"

    @app.get("/users/me")
    def me() -> str:
        return "me"

    client = TestClient(app)
    assert client.get("/users/me").json() == "me"
    assert client.get("/users/bob").json() == "user bob"


def test_not_found_is_404_json() -> None:
    r = TestClient(App()).get("/nowhere")
    assert r.status_code == 404
    assert r.json() == {"detail": "Not Found"}


def test_method_not_allowed_is_405_with_allow() -> None:
    app = App()

    @app.get("/x")
    def get_x() -> str:
        return "x"

    @app.post("/x")
    def post_x() -> str:
        return "x"

    r = TestClient(app).delete("/x")
    assert r.status_code == 405
    assert r.json() == {"detail": "Method Not Allowed"}
    assert r.headers["allow"] == "GET, HEAD, OPTIONS, POST"


def test_head_runs_the_get_handler_and_sends_no_body() -> None:
    app = App()
    calls: list[str] = []

    @app.get("/doc", response_class=PlainTextResponse)
    def doc() -> str:
        calls.append("get")
        return "hello world"

    client = TestClient(app)
    r = client.head("/doc")
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["content-length"] == "11"
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert calls == ["get"]


def test_explicit_head_route_wins_in_either_order() -> None:
    app = App()

    @app.head("/a")
    def head_a() -> Response:
        return Response(headers={"x-from": "head"})

    @app.get("/a")
    def get_a() -> Response:
        return Response(headers={"x-from": "get"})

    @app.get("/b")
    def get_b() -> Response:
        return Response(headers={"x-from": "get"})

    @app.head("/b")
    def head_b() -> Response:
        return Response(headers={"x-from": "head"})

    client = TestClient(app)
    assert client.head("/a").headers["x-from"] == "head"
    assert client.head("/b").headers["x-from"] == "head"
    assert client.get("/b").headers["x-from"] == "get"


def test_options_without_route_is_204_with_allow() -> None:
    app = App()

    @app.post("/form")
    def form() -> None:
        return None

    r = TestClient(app).options("/form")
    assert r.status_code == 204
    assert r.content == b""
    assert r.headers["allow"] == "OPTIONS, POST"
    assert TestClient(app).options("/missing").status_code == 404


def test_explicit_options_route() -> None:
    app = App()

    @app.options("/x")
    def opts() -> Response:
        return Response(status_code=200, headers={"allow": "custom"})

    assert TestClient(app).options("/x").headers["allow"] == "custom"


def test_redirect_slashes_both_ways_keeping_the_query() -> None:
    app = App()

    @app.get("/items")
    def items() -> str:
        return "items"

    @app.get("/folder/")
    def folder() -> str:
        return "folder"

    client = TestClient(app, follow_redirects=False)
    r = client.get("/items/?page=2")
    assert r.status_code == 307
    assert r.headers["location"] == "/items?page=2"  # relative: RFC 9110 §10.2.2
    r = client.get("/folder")
    assert r.status_code == 307
    assert r.headers["location"] == "/folder/"
    assert TestClient(app).get("/items/").json() == "items"
    assert client.get("/").status_code == 404


def test_redirect_slashes_off() -> None:
    app = App(redirect_slashes=False)

    @app.get("/items")
    def items() -> str:
        return "items"

    assert TestClient(app, follow_redirects=False).get("/items/").status_code == 404


def test_root_path_is_stripped_for_matching() -> None:
    app = App()

    @app.get("/items/{item_id}")
    def item(item_id: str, request: Request) -> dict[str, str]:
        return {"id": item_id, "url": str(request.url)}

    client = TestClient(app, root_path="/api")
    assert client.get("/api/items/3").json() == {
        "id": "3",
        "url": "http://testserver/api/items/3",
    }


# --- definition-time errors ------------------------------------------------------


def test_duplicate_route_names_the_path() -> None:
    app = App()

    @app.get("/dup/{x}")
    def first(x: str) -> str:
        return x

    with pytest.raises(ValueError, match=r"duplicate route: GET '/dup/\{y\}'"):

        @app.get("/dup/{y}")
        def second(y: str) -> str:
            return y

    @app.post("/dup/{y}")  # another method on the same path is fine
    def third(y: str) -> str:
        return y


def test_unknown_converter_is_a_definition_error() -> None:
    app = App()
    with pytest.raises(
        ValueError, match=r"unknown path converter 'integer' in '/items/\{id:integer\}'"
    ):

        @app.get("/items/{id:integer}")
        def handler(id: int) -> int:
            return id


def test_unreachable_path_parameter_is_a_definition_error() -> None:
    app = App()
    with pytest.raises(ValueError, match=r"'item_id'.*'/items/\{item_id\}'.*take a Request"):

        @app.get("/items/{item_id}")
        def handler() -> str:
            return "x"

    @app.get("/ok/{item_id}")
    def with_request(request: Request) -> Any:
        return request.path_params

    @app.get("/kw/{item_id}")
    def with_kwargs(**kwargs: Any) -> Any:
        return kwargs

    client = TestClient(app)
    assert client.get("/ok/7").json() == {"item_id": "7"}
    assert client.get("/kw/8").json() == {"item_id": "8"}


def test_unbindable_parameter_is_a_definition_error() -> None:
    app = App()
    with pytest.raises(TypeError, match=r"parameter 'payload'.*query string cannot carry"):

        @app.get("/x")
        def handler(payload: dict[str, int]) -> None:
            return None


def test_positional_only_parameter_is_a_definition_error() -> None:
    app = App()

    def handler(a: str, /) -> str:
        return a

    with pytest.raises(TypeError, match="positional-only"):
        app.add_route("/x", handler)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"response_class": dict}, TypeError, "Response subclass"),
        ({"status_code": 99}, ValueError, "100 to 599"),
        ({"methods": "GET"}, TypeError, "must be a list"),
    ],
)
def test_route_argument_validation(kwargs: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        Route("/x", lambda: None, **kwargs)


def test_path_must_start_with_slash() -> None:
    with pytest.raises(ValueError, match="must start with '/'"):
        App().add_route("x", lambda: None)


def test_non_callable_endpoint() -> None:
    with pytest.raises(TypeError, match="callable"):
        Route("/x", "nope")  # type: ignore[arg-type]


# --- routers ---------------------------------------------------------------------


def test_include_router_prefixes_compose() -> None:
    api = Router(prefix="/api")

    @api.get("/x")
    def x() -> str:
        return "x"

    @api.get("")
    def root() -> str:
        return "api root"

    app = App()
    app.include_router(api, prefix="/v2")
    client = TestClient(app)
    assert client.get("/v2/api/x").json() == "x"
    assert client.get("/v2/api").json() == "api root"
    assert client.get("/api/x").status_code == 404


def test_nested_routers() -> None:
    inner = Router(prefix="/inner")

    @inner.get("/leaf/{n:int}")
    def leaf(n: int) -> int:
        return n

    outer = Router(prefix="/outer")
    outer.include_router(inner)
    app = App()
    app.include_router(outer, prefix="/top")
    assert TestClient(app).get("/top/outer/inner/leaf/5").json() == 5
    assert app.url_path_for("leaf", n=5) == "/top/outer/inner/leaf/5"


def test_router_prefix_validation() -> None:
    with pytest.raises(ValueError, match="must start with '/'"):
        Router(prefix="api")
    with pytest.raises(ValueError, match="not end with '/'"):
        Router(prefix="/api/")
    with pytest.raises(TypeError, match="Router"):
        App().include_router("nope")  # type: ignore[arg-type]


def test_response_class_precedence_route_router_app() -> None:
    html = Router(default_response_class=HTMLResponse)

    @html.get("/router-default")
    def router_default() -> str:
        return "<p>router</p>"

    @html.get("/route-own", response_class=PlainTextResponse)
    def route_own() -> str:
        return "route"

    plain = Router()

    @plain.get("/app-default")
    def app_default() -> dict[str, int]:
        return {"a": 1}

    app = App(default_response_class=ORJSONResponse)
    app.include_router(html)
    app.include_router(plain)

    @app.get("/direct")
    def direct() -> dict[int, str]:
        return {1: "orjson allows int keys"}

    client = TestClient(app)
    assert client.get("/router-default").headers["content-type"].startswith("text/html")
    assert client.get("/route-own").headers["content-type"].startswith("text/plain")
    assert client.get("/app-default").json() == {"a": 1}
    assert client.get("/direct").json() == {"1": "orjson allows int keys"}
    [route] = [r for r in app.routes if r.path == "/app-default"]
    assert route.effective_response_class is ORJSONResponse


def test_nested_router_default_beats_outer_default() -> None:
    inner = Router(default_response_class=PlainTextResponse)

    @inner.get("/t")
    def t() -> str:
        return "text"

    outer = Router(default_response_class=HTMLResponse)
    outer.include_router(inner)
    app = App()
    app.include_router(outer)
    assert TestClient(app).get("/t").headers["content-type"].startswith("text/plain")


def test_routes_given_to_app_and_router() -> None:
    def hello() -> str:
        return "hi"

    def echo(word: str) -> str:
        return word

    router = Router(prefix="/r", routes=[Route("/echo/{word}", echo)])
    app = App(routes=[Route("/hello", hello, methods=["GET", "POST"], name="greet")])
    app.include_router(router)
    client = TestClient(app)
    assert client.get("/hello").json() == "hi"
    assert client.post("/hello").json() == "hi"
    assert client.get("/r/echo/yo").json() == "yo"
    assert app.url_path_for("greet") == "/hello"
    with pytest.raises(TypeError, match="Route objects"):
        Router(routes=["nope"])  # type: ignore[list-item]


def test_url_path_for() -> None:
    app = App()

    @app.get("/items/{item_id:int}/files/{p:path}", name="file")
    def file(item_id: int, p: str) -> str:
        return p

    @app.get("/users/{name}")
    def user(name: str) -> str:
        return name

    assert app.url_path_for("file", item_id=3, p="a/b.txt") == "/items/3/files/a/b.txt"
    assert app.url_path_for("user", name="al ice") == "/users/al%20ice"
    with pytest.raises(ValueError, match="no route is named 'nope'"):
        app.url_path_for("nope")
    with pytest.raises(ValueError, match="name"):
        app.url_path_for("user")


def test_sync_handlers_run_in_a_worker_thread() -> None:
    app = App()
    loop_thread: list[int] = []

    @app.get("/sync")
    def sync_handler() -> bool:
        return threading.get_ident() != loop_thread[0]

    @app.get("/async")
    async def async_handler() -> int:
        loop_thread.append(threading.get_ident())
        return 1

    with TestClient(app) as client:  # one portal, so one event-loop thread
        client.get("/async")
        assert client.get("/sync").json() is True


# --- return-value coercion --------------------------------------------------------


def test_coercion_uses_the_class_first_argument() -> None:
    app = App()

    @app.get("/json")
    def as_json() -> dict[str, list[int]]:
        return {"a": [1, 2]}

    @app.get("/html", response_class=HTMLResponse)
    def as_html() -> str:
        return "<b>hi</b>"

    @app.get("/redirect", response_class=RedirectResponse)
    def as_redirect() -> str:
        return "/json"

    @app.get("/moved", response_class=RedirectResponse, status_code=301)
    def moved() -> str:
        return "/json"

    @app.get("/created", status_code=201)
    def created() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/none")
    def none() -> None:
        return None

    client = TestClient(app, follow_redirects=False)
    assert client.get("/json").content == b'{"a":[1,2]}'
    r = client.get("/html")
    assert (r.text, r.headers["content-type"]) == ("<b>hi</b>", "text/html; charset=utf-8")
    r = client.get("/redirect")
    assert (r.status_code, r.headers["location"]) == (307, "/json")
    assert client.get("/moved").status_code == 301
    r = client.get("/created")
    assert (r.status_code, r.json()) == (201, {"ok": True})
    assert client.get("/none").content == b"null"


@pytest.mark.parametrize("status", [204, 304])
def test_none_with_bodyless_status_is_empty(status: int) -> None:
    app = App()

    @app.delete("/x", status_code=status)
    def remove() -> None:
        return None

    r = TestClient(app).delete("/x")
    assert r.status_code == status
    assert r.content == b""
    assert "content-type" not in r.headers
    assert "content-length" not in r.headers


def test_returned_response_is_sent_as_is() -> None:
    app = App(default_response_class=HTMLResponse)
    shared = PlainTextResponse("shared", status_code=202, headers={"x-a": "1"})

    @app.get("/x", status_code=201)
    def handler() -> Response:
        return shared

    r = TestClient(app).get("/x")
    assert (r.status_code, r.text, r.headers["x-a"]) == (202, "shared", "1")
    assert r.headers["content-type"] == "text/plain; charset=utf-8"


def test_json_response_default_is_class_default_status() -> None:
    app = App()

    @app.post("/x")
    def handler() -> JSONResponse:
        return JSONResponse({"a": 1}, status_code=202)

    assert TestClient(app).post("/x").status_code == 202


def test_generator_handlers_are_called_on_the_loop() -> None:
    app = App()

    @app.get("/agen", response_class=StreamingResponse)
    async def agen() -> AsyncIterator[str]:
        yield "a"
        yield "b"

    @app.get("/gen", response_class=StreamingResponse)
    def gen() -> Iterator[str]:
        yield "c"

    routes = {r.path: r for r in app.routes}
    assert routes["/agen"].makes_generator
    assert routes["/gen"].makes_generator
    assert not routes["/agen"].is_async
    client = TestClient(app)
    assert client.get("/agen").text == "ab"
    assert client.get("/gen").text == "c"


# --- routes are immutable descriptions; the decorators are methods ------------------


def test_a_route_cannot_be_changed() -> None:
    route = Route("/x", lambda: None)
    with pytest.raises(AttributeError, match="cannot assign to field 'response_class'"):
        route.response_class = HTMLResponse  # type: ignore[misc]
    with pytest.raises(AttributeError, match="cannot delete field 'path'"):
        del route.path
    App(default_response_class=HTMLResponse, routes=[route])
    assert route.response_class is None


def test_app_decorators_are_methods_of_the_class() -> None:
    import inspect
    import pydoc
    import re

    text = re.sub(".\b", "", pydoc.render_doc(App))  # help(App), without the bold
    for name in ("get", "post", "put", "patch", "delete", "head", "options", "route"):
        assert inspect.isfunction(getattr(App, name)), name
        assert f" {name}(self" in text, name
    for name in ("add_route", "include_router", "url_path_for"):
        assert inspect.isfunction(getattr(App, name)), name
    assert "get" not in vars(App())


@pytest.mark.parametrize("owner", [App, Router])
@pytest.mark.parametrize(
    "decorator", ["get", "post", "put", "patch", "delete", "head", "options", "route"]
)
def test_decorator_without_parentheses_is_a_type_error(owner: type[Any], decorator: str) -> None:
    target = owner()

    def handler() -> str:
        return "x"

    name = "router" if owner is Router else "app"
    with pytest.raises(TypeError, match=rf'write @{name}\.{decorator}\("/path"\)'):
        getattr(target, decorator)(handler)
    assert target.routes == []


def test_root_path_is_stripped_at_a_segment_boundary_only() -> None:
    app = App()

    @app.get("/products")
    def products() -> str:
        return "all products"

    @app.get("/")
    def home() -> str:
        return "home"

    client = TestClient(app, root_path="/product")
    assert client.get("/products").json() == "all products"
    assert client.get("/product").json() == "home"
    assert client.get("/product/").json() == "home"
    assert client.get("/product/products").json() == "all products"


def test_slash_redirect_with_root_path_at_a_segment_boundary_only() -> None:
    app = App()

    @app.get("/products")
    def products() -> str:
        return "all products"

    @app.get("/items")
    def items() -> str:
        return "items"

    client = TestClient(app, root_path="/product", follow_redirects=False)
    r = client.get("/products/")
    assert r.status_code == 307
    assert r.headers["location"] == "/products"
    r = client.get("/product/items/")
    assert r.status_code == 307
    assert r.headers["location"] == "/product/items"


def test_the_slash_redirect_is_relative_whatever_the_host() -> None:
    # RFC 9110 §10.2.2: a relative location never names the host the client sent.
    app = App()

    @app.get("/items")
    async def items() -> str:
        return "items"

    @app.get("/{rest:path}/edit")
    async def edit(rest: str) -> str:
        return rest

    client = TestClient(app, follow_redirects=False)
    for host in ("evil.example", "[", "a:99999", ""):
        r = client.get("/items/?a=%2F%2Fx", headers={"host": host})
        assert r.status_code == 307
        assert r.headers["location"] == "/items?a=%2F%2Fx"
    # A path starting with // must not become a network-path reference.
    r = client.get("/%2Fevil.example/edit/")
    assert r.headers["location"] == "/%2Fevil.example/edit"


# --- route options: response_model and the OpenAPI fields (stored, checked) ------------


def test_route_keeps_its_openapi_options_through_include_router() -> None:
    inner = Router(prefix="/items", tags=["items"])

    @inner.get(
        "/{item_id}",
        tags=["read"],
        summary="Read an item",
        description="Longer text",
        deprecated=True,
        include_in_schema=False,
        operation_id="read_item",
        responses={404: {"description": "No such item"}, "4XX": {"description": "Bad"}},
        response_model=dict,
    )
    def read(item_id: str) -> dict[str, str]:
        return {"id": item_id}

    app = App()
    app.include_router(inner, prefix="/v1", tags=["v1"])
    (endpoint,) = [e for e in app.router.routes if e.path == "/v1/items/{item_id}"]
    route = endpoint.route
    assert route.tags == ("v1", "items", "read")
    assert route.summary == "Read an item"
    assert route.description == "Longer text"
    assert route.deprecated is True
    assert route.include_in_schema is False
    assert route.operation_id == "read_item"
    assert route.responses == {404: {"description": "No such item"}, "4XX": {"description": "Bad"}}
    assert route.response_model is dict
    # The defaults document nothing.
    plain = Route("/", read)
    assert (plain.tags, plain.summary, plain.deprecated, plain.include_in_schema) == (
        (),
        None,
        False,
        True,
    )
    assert plain.responses == {}
    assert plain.response_model is None


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"tags": "items"}, TypeError, "tags of route GET '/' must be a list of str"),
        ({"tags": ["a", 1]}, TypeError, "must be a list of str"),
        ({"summary": 3}, TypeError, "summary of route GET '/' must be a str"),
        ({"operation_id": b"x"}, TypeError, "operation_id of route GET '/' must be a str"),
        ({"deprecated": "yes"}, TypeError, "deprecated of route GET '/' must be a bool"),
        ({"include_in_schema": 0}, TypeError, "include_in_schema of route GET '/'"),
        ({"responses": [404]}, TypeError, "responses of route GET '/' must be a dict"),
        ({"responses": {700: {}}}, ValueError, "700 is not a status code"),
        ({"responses": {"6XX": {}}}, ValueError, "'6XX' is not a status code"),
        ({"responses": {404: "missing"}}, TypeError, "the answer for 404 must be a dict"),
    ],
)
def test_route_refuses_bad_openapi_options(
    options: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        Route("/", lambda: None, **options)


def test_router_tags_must_be_a_list() -> None:
    with pytest.raises(TypeError, match="tags of Router must be a list of str"):
        Router(tags="items")
    with pytest.raises(TypeError, match="tags of include_router must be a list of str"):
        App().include_router(Router(), tags="x")
