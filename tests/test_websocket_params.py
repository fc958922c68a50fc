"""WebSocket handlers bind their parameters as HTTP handlers do (SPEC "WebSockets").

Markers (Query, Path, Header, Cookie) and ``Depends`` go through the HTTP
binder; a binding failure denies the handshake; a generator dependency is
torn down when the handler ends, before the close; ``dependencies=`` of the
decorator, the router and the app run first. What needs an HTTP request is
refused when the route is added.
"""

import dataclasses
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

import anyio
import pytest
from asgi_helpers import WebSocketPeer, websocket_scope

from microweb import App, BackgroundTasks, HTTPException, Request, Response, Router
from microweb.exceptions import WebSocketException
from microweb.params import Body, Cookie, Depends, Header, Path, Query
from microweb.routing import WebSocketRoute
from microweb.testclient import TestClient, WebSocketDenialResponse
from microweb.websockets import WebSocket, WebSocketDisconnect


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """The machinery here is microweb's own: it runs on trio as on asyncio."""
    return str(request.param)


# --- markers --------------------------------------------------------------------------


def test_markers_bind_path_query_header_and_cookie_values() -> None:
    app = App()

    @app.websocket("/rooms/{room}")
    async def room(
        websocket: WebSocket,
        room: Annotated[str, Path(min_length=2)],
        limit: Annotated[int, Query(ge=1)] = 10,
        user_agent: Annotated[str | None, Header()] = None,
        session: Annotated[str | None, Cookie()] = None,
        tags: Annotated[list[str] | None, Query(alias="tag")] = None,
    ) -> None:
        await websocket.accept()
        await websocket.send_json([room, limit, user_agent, session, tags])

    client = TestClient(app, cookies={"session": "abc"})
    with client.websocket_connect(
        "/rooms/lobby?limit=3&tag=a&tag=b", headers={"user-agent": "tester"}
    ) as session:
        assert session.receive_json() == ["lobby", 3, "tester", "abc", ["a", "b"]]


def test_a_marker_constraint_that_fails_is_a_422_denial() -> None:
    app = App()

    @app.websocket("/ws")
    async def handler(websocket: WebSocket, limit: Annotated[int, Query(ge=1)]) -> None:
        raise AssertionError("not called")

    with (
        pytest.raises(WebSocketDenialResponse) as denied,
        TestClient(app).websocket_connect("/ws?limit=0"),
    ):
        pass
    assert denied.value.status_code == 422
    [item] = denied.value.json()["detail"]
    assert (item["type"], item["loc"]) == ("greater_than_equal", ["query", "limit"])
    assert denied.value.code == 1008  # a WebSocketDisconnect too: FastAPI's close code


def test_a_handler_taking_only_the_websocket_reaches_the_path_parameters() -> None:
    # The path parameters are in websocket.path_params: no ValueError when added.
    app = App()

    @app.websocket("/rooms/{room}")
    async def room(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(websocket.path_params["room"])

    with TestClient(app).websocket_connect("/rooms/lobby") as session:
        assert session.receive_text() == "lobby"


def test_an_unannotated_websocket_parameter_with_markers_beside_it() -> None:
    app = App()

    @app.websocket("/ws")
    async def handler(websocket, n: Annotated[int, Query()] = 1) -> None:  # type: ignore[no-untyped-def]
        await websocket.accept()
        await websocket.send_json(n * 2)

    with TestClient(app).websocket_connect("/ws?n=4") as session:
        assert session.receive_json() == 8


# --- Depends --------------------------------------------------------------------------


def test_dependencies_sync_async_cached_and_taking_the_websocket() -> None:
    app = App()
    calls: list[str] = []

    def token(token: Annotated[str, Query()]) -> str:
        calls.append("token")
        return token

    async def user(websocket: WebSocket, token: Annotated[str, Depends(token)]) -> str:
        calls.append("user")
        return f"{token}@{websocket.url.path}"

    @app.websocket("/ws")
    async def handler(
        websocket: WebSocket,
        who: Annotated[str, Depends(user)],
        again: Annotated[str, Depends(token)],
    ) -> None:
        await websocket.accept()
        await websocket.send_json([who, again])

    with TestClient(app).websocket_connect("/ws?token=t1") as session:
        assert session.receive_json() == ["t1@/ws", "t1"]
    assert calls == ["token", "user"]  # use_cache: one call of token per connection


def test_a_dependency_may_accept_and_the_handler_find_it_accepted() -> None:
    app = App()

    async def accepted(websocket: WebSocket) -> WebSocket:
        await websocket.accept(subprotocol="chat")
        return websocket

    @app.websocket("/ws")
    async def handler(websocket: Annotated[WebSocket, Depends(accepted)]) -> None:
        await websocket.send_text("hi")

    with TestClient(app).websocket_connect("/ws", subprotocols=["chat"]) as session:
        assert session.accepted_subprotocol == "chat"
        assert session.receive_text() == "hi"


def test_generator_dependencies_are_torn_down_when_the_handler_ends() -> None:
    app = App()
    events: list[str] = []

    def resource() -> Iterator[str]:
        events.append("sync up")
        yield "sync"
        events.append("sync down")

    async def connection() -> AsyncIterator[str]:
        events.append("async up")
        try:
            yield "async"
        finally:
            events.append("async down")

    @app.websocket("/ws")
    async def handler(
        websocket: WebSocket,
        a: Annotated[str, Depends(resource)],
        b: Annotated[str, Depends(connection)],
    ) -> None:
        await websocket.accept()
        events.append(f"handler {a} {b}")
        await websocket.send_text("done")

    with TestClient(app).websocket_connect("/ws") as session:
        assert session.receive_text() == "done"
        assert session.receive() == {"type": "websocket.close", "code": 1000}
        # The close comes after the teardown: it has run by now.
        assert events == ["sync up", "async up", "handler sync async", "async down", "sync down"]


def test_the_handlers_exception_is_thrown_in_at_yield() -> None:
    app = App()
    seen: list[str] = []

    async def guarded() -> AsyncIterator[None]:
        try:
            yield
        except WebSocketException as exc:
            seen.append(f"saw {exc.code}")
            raise

    @app.websocket("/ws")
    async def handler(websocket: WebSocket, _: Annotated[None, Depends(guarded)]) -> None:
        await websocket.accept()
        raise WebSocketException(4001, "go away")

    with TestClient(app).websocket_connect("/ws") as session:
        assert session.receive() == {"type": "websocket.close", "code": 4001, "reason": "go away"}
    assert seen == ["saw 4001"]


def test_a_dependency_that_fails_to_bind_denies_the_handshake() -> None:
    app = App()
    called: list[str] = []

    def needs_header(x_token: Annotated[str, Header()]) -> str:
        return x_token

    async def setup() -> AsyncIterator[None]:
        called.append("setup")
        yield

    @app.websocket("/ws")
    async def handler(
        websocket: WebSocket,
        _: Annotated[None, Depends(setup)],
        token: Annotated[str, Depends(needs_header)],
    ) -> None:
        raise AssertionError("not called")

    with (
        pytest.raises(WebSocketDenialResponse) as denied,
        TestClient(app).websocket_connect("/ws"),
    ):
        pass
    assert denied.value.status_code == 422
    assert denied.value.json()["detail"][0]["loc"] == ["header", "x-token"]
    assert called == []  # every value is checked before any dependency is called


@pytest.mark.anyio
async def test_a_dependency_that_fails_to_bind_closes_1008_without_the_extension() -> None:
    app = App()

    def needs(q: int) -> int:
        return q

    @app.websocket("/ws")
    async def handler(websocket: WebSocket, q: Annotated[int, Depends(needs)]) -> None:
        raise AssertionError("not called")

    peer = WebSocketPeer()
    await app(websocket_scope("/ws"), peer.receive, peer.send)
    assert peer.sent == [{"type": "websocket.close", "code": 1008, "reason": ""}]


def test_exceptions_raised_in_dependencies() -> None:
    app = App()

    def auth(token: str | None = None) -> str:
        if token is None:
            raise HTTPException(401, "a token is required")
        if token != "secret":
            raise WebSocketException(4003, "wrong token")
        return token

    @app.websocket("/ws")
    async def handler(websocket: WebSocket, token: Annotated[str, Depends(auth)]) -> None:
        await websocket.accept()

    client = TestClient(app)
    with pytest.raises(WebSocketDenialResponse) as denied, client.websocket_connect("/ws"):
        pass
    assert (denied.value.status_code, denied.value.json()) == (
        401,
        {"detail": "a token is required"},
    )
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        client.websocket_connect("/ws?token=guess"),
    ):
        pass
    assert (closed.value.code, closed.value.reason) == (4003, "wrong token")
    with client.websocket_connect("/ws?token=secret"):
        pass


def test_dependency_overrides_apply() -> None:
    app = App()

    async def real() -> str:
        return "real"

    @app.websocket("/ws")
    async def handler(websocket: WebSocket, value: Annotated[str, Depends(real)]) -> None:
        await websocket.accept()
        await websocket.send_text(value)

    app.dependency_overrides[real] = lambda: "override"
    with TestClient(app).websocket_connect("/ws") as session:
        assert session.receive_text() == "override"


def test_route_router_include_and_app_dependencies_run_outermost_first() -> None:
    order: list[str] = []

    def mark(name: str) -> Any:
        def check() -> None:
            order.append(name)

        return Depends(check)

    app = App(dependencies=[mark("app")])
    router = Router(prefix="/r", dependencies=[mark("router")])

    @router.websocket("/ws", dependencies=[mark("route")])
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()

    app.include_router(router, dependencies=[mark("include")])
    app.add_websocket_route("/plain", handler, dependencies=[mark("plain")])
    app.add(WebSocketRoute("/object", handler, dependencies=[mark("object")]))
    client = TestClient(app)
    for path in ("/r/ws", "/plain", "/object"):
        with client.websocket_connect(path):
            pass
    assert order == ["app", "include", "router", "route", "app", "plain", "app", "object"]


def test_a_feed_with_a_generator_dependency() -> None:
    app = App()
    events: list[str] = []

    async def source() -> AsyncIterator[list[int]]:
        events.append("open")
        yield [1, 2]
        events.append("closed")

    @app.websocket("/feed")
    async def feed(numbers: Annotated[list[int], Depends(source)]) -> AsyncIterator[int]:
        for n in numbers:
            yield n

    with TestClient(app).websocket_connect("/feed") as session:
        assert [session.receive_json(), session.receive_json()] == [1, 2]
        assert session.receive() == {"type": "websocket.close", "code": 1000}
    assert events == ["open", "closed"]


@pytest.mark.anyio
async def test_a_client_that_leaves_a_feed_tears_its_dependency_down() -> None:
    app = App()
    torn_down = anyio.Event()

    async def resource() -> AsyncIterator[str]:
        try:
            yield "r"
        finally:
            torn_down.set()

    @app.websocket("/feed")
    async def feed(r: Annotated[str, Depends(resource)]) -> AsyncIterator[str]:
        yield r
        await anyio.sleep_forever()

    peer = WebSocketPeer()
    async with anyio.create_task_group() as group:
        group.start_soon(app, websocket_scope("/feed"), peer.receive, peer.send)
        assert (await peer.next())["type"] == "websocket.accept"
        assert (await peer.next())["text"] == "r"
        peer.push({"type": "websocket.disconnect", "code": 1001})
        with anyio.fail_after(5):
            await torn_down.wait()


@pytest.mark.anyio
async def test_shutdown_closes_1001_after_the_dependencies_are_torn_down() -> None:
    app = App()
    app.shutdown_grace_period = 0.05
    events: list[str] = []

    async def resource() -> AsyncIterator[None]:
        yield
        events.append("torn down")

    @app.websocket("/chat")
    async def chat(websocket: WebSocket, _: Annotated[None, Depends(resource)]) -> None:
        await websocket.accept()
        async for _text in websocket.iter_text():
            pass

    lifespan = WebSocketPeer(first={"type": "lifespan.startup"})
    peer = WebSocketPeer()
    async with anyio.create_task_group() as group:
        group.start_soon(app, {"type": "lifespan", "state": {}}, lifespan.receive, lifespan.send)
        assert (await lifespan.next())["type"] == "lifespan.startup.complete"
        group.start_soon(app, websocket_scope("/chat"), peer.receive, peer.send)
        assert (await peer.next())["type"] == "websocket.accept"
        lifespan.push({"type": "lifespan.shutdown"})
        assert (await peer.next()) == {"type": "websocket.close", "code": 1001}
        assert events == ["torn down"]
        assert (await lifespan.next())["type"] == "lifespan.shutdown.complete"


# --- refused when the route is added ------------------------------------------------------


@dataclasses.dataclass
class Item:
    name: str


def test_what_needs_an_http_request_is_refused_when_added() -> None:
    app = App()

    async def body_marker(websocket: WebSocket, item: Annotated[Item, Body()]) -> None: ...

    def wants_request(request: Request) -> None: ...

    async def via_dependency(
        websocket: WebSocket, _: Annotated[None, Depends(wants_request)]
    ) -> None: ...

    def wants_tasks(tasks: BackgroundTasks) -> None: ...

    async def takes_nothing(websocket: WebSocket) -> None: ...

    def wants_body(item: Item) -> None: ...

    async def takes_response(websocket: WebSocket, response: Response) -> None: ...

    with pytest.raises(TypeError, match="takes a request body"):
        app.add_websocket_route("/body", body_marker)
    with pytest.raises(TypeError, match=r"takes a Request.*\('request', in it or a dependency\)"):
        app.add_websocket_route("/request", via_dependency)
    with pytest.raises(TypeError, match="'tasks'"):
        app.add_websocket_route("/tasks", takes_nothing, dependencies=[Depends(wants_tasks)])
    with pytest.raises(TypeError, match="takes a request body"):
        app.add_websocket_route("/dep-body", takes_nothing, dependencies=[Depends(wants_body)])
    with pytest.raises(TypeError, match="'response'"):
        app.add_websocket_route("/response", takes_response)


def test_an_http_route_taking_a_websocket_is_refused_when_added() -> None:
    async def ws_dependency(websocket: WebSocket) -> None: ...

    async def handler(_: Annotated[None, Depends(ws_dependency)]) -> None: ...

    with pytest.raises(TypeError, match="is a WebSocket, which only a WebSocket route has"):
        App().add_route("/x", handler)
