"""Host (microweb.routing): host templates, matching, binding, precedence, url_path_for."""

from __future__ import annotations

from typing import Any

import pytest

from microweb import App, PlainTextResponse, Request, Router
from microweb.routing import Host, Mount, Route
from microweb.testclient import TestClient
from microweb.types import Receive, Scope, Send
from microweb.websockets import WebSocket


def tenant_router() -> Router:
    router = Router(default_response_class=PlainTextResponse)

    @router.get("/")
    def home(tenant: str) -> str:
        return f"home of {tenant}"

    @router.get("/items/{item_id:int}", name="item")
    def item(tenant: str, item_id: int, request: Request) -> str:
        return f"{tenant} {item_id} {sorted(request.path_params.items())}"

    @router.get("/plain")
    def plain() -> str:
        return "no host parameter taken"

    @router.get("/query")
    def query(q: str, tenant: str) -> str:
        return f"{tenant} {q}"

    return router


def site() -> App:
    app = App(
        routes=[
            Host("api.example.com", tenant_router_for_api(), name="api"),
            Host("{tenant}.example.com", tenant_router(), name="tenant"),
        ]
    )

    @app.get("/here")
    def here() -> str:
        return "route of the app"

    return app


def tenant_router_for_api() -> Router:
    router = Router()
    router.add_route("/", lambda: {"api": True}, name="root")
    return router


def get(app: Any, path: str, host: str) -> Any:
    return TestClient(app).get(path, headers={"host": host})


def test_host_parameters_bind_like_path_parameters() -> None:
    app = site()
    assert get(app, "/", "acme.example.com").text == "home of acme"
    assert (
        get(app, "/items/3", "acme.example.com").text
        == "acme 3 [('item_id', 3), ('tenant', 'acme')]"
    )
    assert get(app, "/plain", "acme.example.com").text == "no host parameter taken"
    assert get(app, "/query?q=x", "acme.example.com").text == "acme x"


def test_the_port_case_and_final_dot_of_the_host_header_are_ignored() -> None:
    app = site()
    assert get(app, "/", "ACME.Example.com:8000").text == "home of acme"
    assert get(app, "/", "acme.example.com.").text == "home of acme"


def test_hosts_are_tried_in_order_and_a_parameter_takes_one_label() -> None:
    app = site()
    assert get(app, "/", "api.example.com").json() == {"api": True}
    assert get(app, "/", "a.b.example.com").status_code == 404
    assert get(app, "/", "example.com").status_code == 404
    assert get(app, "/", "other.org").status_code == 404


def test_routes_of_the_app_win_over_hosts() -> None:
    assert get(site(), "/here", "acme.example.com").json() == "route of the app"


def test_mounts_are_tried_before_hosts() -> None:
    async def mounted(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("mounted")(scope, receive, send)

    app = App(routes=[Host("{tenant}.example.com", tenant_router()), Mount("/m", mounted)])
    assert get(app, "/m/x", "acme.example.com").text == "mounted"
    assert get(app, "/", "acme.example.com").text == "home of acme"


def test_a_missing_host_header_matches_no_host() -> None:
    from microweb._host import host_of

    assert host_of({"headers": []}) == ""
    assert host_of({"headers": [(b"host", b"[::1]:8000")]}) == "[::1]"
    app = App(routes=[Host("{tenant}.example.com", tenant_router())])
    assert get(app, "/", "").status_code == 404


def test_convertors_check_the_host_values() -> None:
    async def echo(scope: Scope, receive: Receive, send: Send) -> None:
        text = repr(scope["path_params"]) + " " + scope["root_path"]
        await PlainTextResponse(text)(scope, receive, send)

    app = App(routes=[Host("api-v{version:int}.example.com", echo)])
    assert get(app, "/x", "api-v2.example.com").text == "{'version': 2} "
    assert get(app, "/x", "api-vx.example.com").status_code == 404


def test_any_asgi_app_and_an_app_below_see_the_host_values_in_scope() -> None:
    inner = App()
    seen: dict[str, Any] = {}

    @inner.get("/")
    def root() -> str:
        return "inner"

    async def look(scope: Scope, receive: Receive, send: Send) -> None:
        seen.update(scope["path_params"])
        await inner(scope, receive, send)

    app = App(routes=[Host("{tenant}.example.com", look)])
    assert get(app, "/", "acme.example.com").json() == "inner"
    assert seen == {"tenant": "acme"}


def test_routes_argument_builds_a_router() -> None:
    def hello(tenant: str) -> str:
        return f"hello {tenant}"

    app = App(routes=[Host("{tenant}.example.com", routes=[Route("/", hello)])])
    assert get(app, "/", "x.example.com").json() == "hello x"


def test_the_user_router_is_not_changed() -> None:
    router = tenant_router()
    App(routes=[Host("{tenant}.example.com", router)])
    # The Router as the user holds it still answers without a Host above it.
    scope_app = App()
    scope_app.include_router(router)
    assert TestClient(scope_app).get("/plain").text == "no host parameter taken"


def test_url_path_for_through_a_host() -> None:
    app = site()
    assert app.url_path_for("tenant:item", item_id=3) == "/items/3"
    assert app.url_path_for("tenant:item", item_id=3, tenant="acme") == "/items/3"
    assert app.url_path_for("tenant", tenant="acme") == "/"
    assert app.url_path_for("api:root") == "/"
    with pytest.raises(ValueError, match="no route is named 'tenant:nothing'"):
        app.url_path_for("tenant:nothing")
    with pytest.raises(ValueError, match="missing path parameter"):
        app.url_path_for("tenant:item")


def test_a_port_in_the_template_is_ignored_when_matching() -> None:
    app = App(routes=[Host("{tenant}.example.com:3600", tenant_router())])
    assert get(app, "/", "acme.example.com").text == "home of acme"
    assert get(app, "/", "acme.example.com:5600").text == "home of acme"


def test_host_for_builds_the_host_name() -> None:
    host = Host("{tenant}.Example.com", tenant_router())
    assert host.host_for(tenant="acme") == "acme.example.com"
    assert Host("example.com:3600", tenant_router()).host_for() == "example.com:3600"
    with pytest.raises(ValueError, match="missing path parameter 'tenant'"):
        host.host_for()


def test_url_for_in_a_request_below_a_host_uses_that_host() -> None:
    router = Router()

    @router.get("/items/{n:int}", name="item")
    def item(request: Request, n: int) -> str:
        return str(request.url_for("t:item", n=n + 1))

    app = App(routes=[Host("{tenant}.example.com", router, name="t")])
    assert get(app, "/items/1", "acme.example.com").json() == "http://acme.example.com/items/2"


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        (("example.com/x", None), {}, ValueError, "must be a host name"),
        (("example.com:8o", None), {}, ValueError, "must be a host name"),
        ((b"example.com", None), {}, TypeError, "must be a str"),
        (("", None), {}, ValueError, "must be a host name"),
        (("{rest:path}.example.com", None), {}, ValueError, "cannot span labels"),
        (("{x:nope}.example.com", None), {}, ValueError, "unknown path converter"),
        (("example.com",), {}, TypeError, "takes an app or routes"),
        (("example.com", 3), {}, TypeError, "must be an ASGI app"),
    ],
)
def test_bad_hosts_are_refused(
    args: tuple[Any, ...], kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        Host(*args, **kwargs)


def test_a_host_parameter_named_like_a_path_parameter_is_refused() -> None:
    router = Router()
    router.add_route("/{tenant}", lambda tenant: tenant)
    with pytest.raises(ValueError, match="both a host and a path parameter"):
        Host("{tenant}.example.com", router)


def test_a_host_cannot_go_under_a_prefix() -> None:
    with pytest.raises(ValueError, match="cannot go under the prefix"):
        Router(prefix="/x", routes=[Host("example.com", tenant_router())])


def test_a_websocket_route_below_a_host_answers_with_its_own_path_params() -> None:
    router = Router()

    @router.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json(websocket.scope["path_params"])
        await websocket.close()

    app = App(routes=[Host("{tenant}.example.com", router)])
    client = TestClient(app)
    with client.websocket_connect("/ws", headers={"host": "acme.example.com"}) as session:
        assert session.receive_json() == {}
