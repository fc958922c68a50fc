"""WebSockets (SPEC "WebSockets"): the connection, its routes, errors, feeds and shutdown."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
from asgi_helpers import WebSocketPeer, http_scope, websocket_scope

from microweb import App, HTTPException, Request, Router
from microweb.exceptions import WebSocketException
from microweb.routing import WebSocketRoute
from microweb.testclient import TestClient, WebSocketDenialResponse
from microweb.types import ASGIApp, Receive, Scope, Send
from microweb.websockets import (
    WebSocket,
    WebSocketClose,
    WebSocketDisconnect,
    WebSocketState,
)

DENIAL: dict[str, Any] = {"websocket.http.response": {}}


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """The machinery here is microweb's own: it runs on trio as on asyncio."""
    return str(request.param)


def make_app() -> App:
    app = App()

    @app.websocket("/echo")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        async for text in websocket.iter_text():
            await websocket.send_text(text)

    return app


# --- the connection -----------------------------------------------------------------


def test_text_bytes_and_json_round_trips() -> None:
    app = App()

    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text((await websocket.receive_text()).upper())
        await websocket.send_bytes((await websocket.receive_bytes())[::-1])
        await websocket.send_json({"got": await websocket.receive_json()})
        await websocket.send_json(await websocket.receive_json(mode="binary"), mode="binary")
        await websocket.close()

    with TestClient(app).websocket_connect("/ws") as session:
        session.send_text("hi")
        assert session.receive_text() == "HI"
        session.send_bytes(b"abc")
        assert session.receive_bytes() == b"cba"
        session.send_json([1, 2])
        assert session.receive_json() == {"got": [1, 2]}
        session.send_json({"a": 1}, mode="binary")
        assert session.receive_json(mode="binary") == {"a": 1}
        with pytest.raises(WebSocketDisconnect) as closed:
            session.receive_text()
        assert closed.value.code == 1000


def test_the_connection_reads_its_scope() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[dict[str, Any]]:
        yield {"db": "connected"}

    app = App(lifespan=lifespan)
    seen: dict[str, Any] = {}

    @app.websocket("/rooms/{room}", name="room")
    async def room(websocket: WebSocket, room: str) -> None:
        seen.update(
            url=str(websocket.url),
            agent=websocket.headers["user-agent"],
            query=dict(websocket.query_params),
            path_params=websocket.path_params,
            cookies=websocket.cookies,
            client=websocket.client,
            db=websocket.state.db,
            url_for=str(websocket.url_for("room", room="b")),
            scope_type=websocket.scope["type"],
        )
        await websocket.accept(subprotocol="chat", headers={"x-room": room})

    with (
        TestClient(app) as client,
        client.websocket_connect(
            "/rooms/a?x=1",
            subprotocols=["chat", "other"],
            headers={"user-agent": "tester", "cookie": "sid=42"},
        ) as session,
    ):
        assert session.accepted_subprotocol == "chat"
        assert (b"x-room", b"a") in session.extra_headers
    assert seen == {
        "url": "ws://testserver/rooms/a?x=1",
        "agent": "tester",
        "query": {"x": "1"},
        "path_params": {"room": "a"},
        "cookies": {"sid": "42"},
        "client": ("testclient", 50000),
        "db": "connected",
        "url_for": "ws://testserver/rooms/b",
        "scope_type": "websocket",
    }


def test_a_websocket_reads_as_a_mapping_of_its_scope() -> None:
    peer = WebSocketPeer()
    scope = websocket_scope("/ws", subprotocols=["chat"])
    websocket = WebSocket(scope, peer.receive, peer.send)
    assert websocket["subprotocols"] == ["chat"]
    assert dict(websocket) == scope
    assert len(websocket) == len(scope)
    assert set(websocket) == set(scope)


def test_iter_ends_quietly_and_receive_after_leaving_raises() -> None:
    app = App()
    events: list[Any] = []

    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        events.extend([text async for text in websocket.iter_text()])
        with pytest.raises(RuntimeError, match="client has disconnected"):
            await websocket.receive_text()
        events.append(websocket.client_state)

    with TestClient(app).websocket_connect("/ws") as session:
        session.send_text("a")
        session.send_text("b")
        session.close(1001)
    assert events == ["a", "b", WebSocketState.DISCONNECTED]


def test_receive_raises_websocket_disconnect_with_the_code() -> None:
    app = App()
    codes: list[int] = []

    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            await websocket.receive_bytes()
        except WebSocketDisconnect as exc:
            codes.append(exc.code)
            raise  # left alone, the App lets it pass quietly

    with TestClient(app).websocket_connect("/ws") as session:
        session.close(4000)
    assert codes == [4000]


@pytest.mark.anyio
async def test_wrong_call_orders_are_runtime_errors() -> None:
    peer = WebSocketPeer()
    websocket = WebSocket(websocket_scope(), peer.receive, peer.send)
    with pytest.raises(RuntimeError, match="before the WebSocket is accepted"):
        await websocket.send_text("too early")
    with pytest.raises(RuntimeError, match="call accept"):
        await websocket.receive_text()
    with pytest.raises(RuntimeError, match="extension"):
        await websocket.send_denial_response(WebSocketClose())
    await websocket.accept()
    assert websocket.application_state is WebSocketState.CONNECTED
    with pytest.raises(RuntimeError, match="cannot accept"):
        await websocket.accept()
    await websocket.close(4001, "bye")
    assert peer.sent[-1] == {"type": "websocket.close", "code": 4001, "reason": "bye"}
    with pytest.raises(RuntimeError, match="closed by the application"):
        await websocket.receive_text()
    with pytest.raises(RuntimeError, match="already closed"):
        await websocket.send_text("too late")


@pytest.mark.anyio
async def test_receive_before_accept_is_an_error_not_a_hang() -> None:
    peer = WebSocketPeer()
    websocket = WebSocket(websocket_scope(), peer.receive, peer.send)
    assert (await websocket.receive())["type"] == "websocket.connect"
    with pytest.raises(RuntimeError, match="call accept"):
        await websocket.receive()


@pytest.mark.anyio
async def test_a_send_after_the_client_left_is_a_disconnect() -> None:
    peer = WebSocketPeer()
    websocket = WebSocket(websocket_scope(), peer.receive, peer.send)
    await websocket.accept()
    peer.gone = True
    with pytest.raises(WebSocketDisconnect) as gone:
        await websocket.send_text("anyone?")
    assert gone.value.code == 1006
    assert websocket.application_state is WebSocketState.DISCONNECTED


class _CountedStates:
    """``WebSocketState`` as a module sees it, counting the lookups of its members."""

    def __init__(self) -> None:
        self.lookups = 0

    def __getattr__(self, name: str) -> Any:
        self.lookups += 1
        return getattr(WebSocketState, name)


@pytest.mark.anyio
async def test_messages_once_accepted_look_up_no_enum_member(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """perf: on Python 3.11 a ``WebSocketState.X`` lookup is 7x a global's (the enum's
    metaclass ``__getattr__``): the per-message paths read a module constant instead."""
    import microweb.websockets as module

    peer = WebSocketPeer()
    websocket = WebSocket(websocket_scope(), peer.receive, peer.send)
    await websocket.accept()
    counted = _CountedStates()
    monkeypatch.setattr(module, "WebSocketState", counted)
    for text in ("one", "two"):
        peer.push({"type": "websocket.receive", "text": text})
    peer.push({"type": "websocket.receive", "bytes": b"three"})
    peer.push({"type": "websocket.receive", "text": "raw"})
    assert [await websocket.receive_text(), await websocket.receive_text()] == ["one", "two"]
    assert await websocket.receive_bytes() == b"three"
    assert (await websocket.receive())["text"] == "raw"
    await websocket.send_text("four")
    await websocket.send_bytes(b"five")
    await websocket.send_json({"six": 6})
    await websocket.send({"type": "websocket.send", "text": "seven"})
    assert counted.lookups == 0
    assert [m.get("text", m.get("bytes")) for m in peer.sent[1:]] == [
        "four",
        b"five",
        '{"six":6}',
        "seven",
    ]


def test_websocket_needs_a_websocket_scope() -> None:
    peer = WebSocketPeer()
    with pytest.raises(ValueError, match="'websocket' scope, got 'http'"):
        WebSocket(http_scope(), peer.receive, peer.send)


@pytest.mark.anyio
async def test_json_modes_are_checked() -> None:
    peer = WebSocketPeer()
    websocket = WebSocket(websocket_scope(), peer.receive, peer.send)
    await websocket.accept()
    with pytest.raises(ValueError, match="mode must be 'text' or 'binary', got 'xml'"):
        await websocket.send_json({}, mode="xml")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="got 'yaml'"):
        await websocket.receive_json(mode="yaml")  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_a_bad_json_mode_is_also_the_runtime_error_starlette_raises() -> None:
    peer = WebSocketPeer()
    websocket = WebSocket(websocket_scope(), peer.receive, peer.send)
    await websocket.accept()
    with pytest.raises(RuntimeError, match="mode must be 'text' or 'binary', got 'xml'"):
        await websocket.send_json({}, mode="xml")  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="got 'xml'"):
        await websocket.receive_json(mode="xml")  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="got 'xml'"):
        websocket.iter_json(mode="xml")  # type: ignore[arg-type]
    assert peer.sent == [{"type": "websocket.accept", "subprotocol": None, "headers": []}]


@pytest.mark.parametrize(
    ("sent", "code"),
    [({"bytes": b"x"}, 1003), ({"text": "{not json"}, 1007)],
)
def test_a_frame_of_the_wrong_kind_closes_with_its_code(sent: dict[str, Any], code: int) -> None:
    app = App()

    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_json()

    with TestClient(app).websocket_connect("/ws") as session:
        session.send({"type": "websocket.receive", **sent})
        with pytest.raises(WebSocketDisconnect) as closed:
            session.receive_text()
        assert closed.value.code == code


def test_a_denial_response_sent_by_the_handler() -> None:
    app = App()

    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        await websocket.send_denial_response(httpx_free_response())

    with (
        pytest.raises(WebSocketDenialResponse) as denied,
        TestClient(app).websocket_connect("/ws"),
    ):
        pass
    response = denied.value
    assert isinstance(response, httpx.Response)
    assert isinstance(response, WebSocketDisconnect)
    assert response.status_code == 401
    assert response.text == "log in first"


def httpx_free_response() -> Any:
    from microweb.responses import PlainTextResponse

    return PlainTextResponse("log in first", status_code=401)


@pytest.mark.anyio
async def test_websocket_close_is_an_asgi_app() -> None:
    peer = WebSocketPeer()
    await WebSocketClose(4004, "no")(websocket_scope(), peer.receive, peer.send)
    assert peer.sent == [{"type": "websocket.close", "code": 4004, "reason": "no"}]


# --- routes -----------------------------------------------------------------------------


def test_one_path_may_have_http_methods_and_a_websocket() -> None:
    app = make_app()

    @app.get("/echo")
    async def page() -> str:
        return "the page"

    client = TestClient(app)
    assert client.get("/echo").json() == "the page"
    with client.websocket_connect("/echo") as session:
        session.send_text("x")
        assert session.receive_text() == "x"


def test_http_to_a_websocket_only_path_is_404() -> None:
    client = TestClient(make_app())
    assert client.get("/echo").status_code == 404
    assert client.options("/echo").status_code == 404
    assert client.get("/echo/").status_code == 404  # no slash redirect to it either


def test_a_websocket_with_no_route_is_closed_before_accept() -> None:
    app = make_app()

    @app.get("/page")
    async def page() -> str:
        return "http only"

    client = TestClient(app)
    for path in ("/nowhere", "/page"):
        with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect(path):
            pass
        assert closed.value.code == 1000


def test_router_prefixes_include_router_and_url_path_for() -> None:
    router = Router(prefix="/chat")

    @router.websocket("/rooms/{room:int}", name="room")
    async def room(websocket: WebSocket, room: int) -> None:
        await websocket.accept()
        await websocket.send_json({"room": room})

    app = App()
    app.include_router(router, prefix="/v1")
    assert app.url_path_for("room", room=3) == "/v1/chat/rooms/3"
    assert [r.path for r in app.router.websocket_routes] == ["/v1/chat/rooms/{room:int}"]
    with TestClient(app).websocket_connect("/v1/chat/rooms/3") as session:
        assert session.receive_json() == {"room": 3}


def test_websocket_route_objects_and_add_websocket_route() -> None:
    async def hello(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hello")

    route = WebSocketRoute("/hello", hello)
    assert repr(route) == "WebSocketRoute('/hello', name='hello')"
    app = App(routes=[route])
    app.add_websocket_route("/again", hello, name="again")
    client = TestClient(app)
    for path in ("/hello", "/again"):
        with client.websocket_connect(path) as session:
            assert session.receive_text() == "hello"
    with pytest.raises(AttributeError):
        route.path = "/other"  # type: ignore[misc]


def test_websocket_route_is_the_starlette_name_of_websocket() -> None:
    app, router = App(), Router(prefix="/r")

    @app.websocket_route("/ws", name="top")
    @router.websocket_route("/ws")
    async def hello(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(websocket.url.path)

    app.include_router(router)
    assert app.url_path_for("top") == "/ws"
    assert app.url_path_for("hello") == "/r/ws"
    client = TestClient(app)
    for path in ("/ws", "/r/ws"):
        with client.websocket_connect(path) as session:
            assert session.receive_text() == path
    with pytest.raises(TypeError, match=r"app\.websocket_route\(\) got the function"):
        app.websocket_route(hello)  # type: ignore[arg-type]


def test_bad_websocket_routes_are_refused_when_added() -> None:
    app = App()

    def sync_handler(websocket: WebSocket) -> None: ...

    async def takes_request(websocket: WebSocket, request: Request) -> None: ...

    async def handler(websocket: WebSocket) -> None: ...

    with pytest.raises(TypeError, match="must be an 'async def' function"):
        app.add_websocket_route("/sync", sync_handler)
    with pytest.raises(TypeError, match="takes a Request, Response or BackgroundTasks"):
        app.add_websocket_route("/request", takes_request)
    with pytest.raises(TypeError, match="got the function"):
        app.websocket(handler)  # type: ignore[arg-type]
    app.add_websocket_route("/ws", handler)
    with pytest.raises(ValueError, match="duplicate route: WebSocket '/ws'"):
        app.add_websocket_route("/ws", handler)


def test_an_unannotated_websocket_parameter_gets_the_connection() -> None:
    app = App()

    @app.websocket("/ws")
    async def handler(websocket, n: int = 2):  # type: ignore[no-untyped-def]
        await websocket.accept()
        await websocket.send_json(n * 2)

    with TestClient(app).websocket_connect("/ws?n=5") as session:
        assert session.receive_json() == 10


# --- errors -----------------------------------------------------------------------------


def test_a_binding_failure_is_a_422_denial() -> None:
    app = App()

    @app.websocket("/ws/{n:int}")
    async def handler(websocket: WebSocket, n: int, q: int) -> None:
        await websocket.accept()

    with (
        pytest.raises(WebSocketDenialResponse) as denied,
        TestClient(app).websocket_connect("/ws/1?q=x"),
    ):
        pass
    assert denied.value.status_code == 422
    assert denied.value.json()["detail"][0]["loc"] == ["query", "q"]


@pytest.mark.anyio
async def test_a_binding_failure_without_the_extension_closes_1008() -> None:
    app = App()

    @app.websocket("/ws")
    async def handler(websocket: WebSocket, q: int) -> None:
        raise AssertionError("not called")

    peer = WebSocketPeer()
    await app(websocket_scope("/ws"), peer.receive, peer.send)
    assert peer.sent == [{"type": "websocket.close", "code": 1008, "reason": ""}]


def test_an_http_exception_before_accept_is_a_denial() -> None:
    app = App()

    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        raise HTTPException(403, "members only", headers={"x-why": "members"})

    with (
        pytest.raises(WebSocketDenialResponse) as denied,
        TestClient(app).websocket_connect("/ws"),
    ):
        pass
    assert denied.value.status_code == 403
    assert denied.value.json() == {"detail": "members only"}
    assert denied.value.headers["x-why"] == "members"


def test_websocket_exception_closes_with_its_code() -> None:
    app = App()

    @app.websocket("/before")
    async def before(websocket: WebSocket) -> None:
        raise WebSocketException(4003, "no token")

    @app.websocket("/after")
    async def after(websocket: WebSocket) -> None:
        await websocket.accept()
        raise WebSocketException(4009, "bad move")

    client = TestClient(app)
    with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect("/before"):
        pass
    assert (closed.value.code, closed.value.reason) == (4003, "no token")
    with client.websocket_connect("/after") as session:
        with pytest.raises(WebSocketDisconnect) as closed:
            session.receive_text()
        assert (closed.value.code, closed.value.reason) == (4009, "bad move")


def test_websocket_exception_checks_its_code() -> None:
    with pytest.raises(ValueError, match="1000 to 4999, got 99"):
        WebSocketException(99)
    assert repr(WebSocketException(1008)) == "WebSocketException(code=1008, reason='')"


def test_an_error_after_accept_closes_1011_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = App()

    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        raise KeyError("secret detail")

    with (
        caplog.at_level(logging.ERROR, logger="microweb"),
        TestClient(app).websocket_connect("/ws") as session,
    ):
        with pytest.raises(WebSocketDisconnect) as closed:
            session.receive_text()
        assert closed.value.code == 1011
        assert "secret" not in closed.value.reason
    assert "unhandled KeyError" in caplog.text


def test_an_error_before_accept_is_a_500_denial(caplog: pytest.LogCaptureFixture) -> None:
    app = App()

    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        raise ZeroDivisionError

    with (
        caplog.at_level(logging.ERROR, logger="microweb"),
        pytest.raises(WebSocketDenialResponse) as denied,
        TestClient(app).websocket_connect("/ws"),
    ):
        pass
    assert denied.value.status_code == 500
    assert denied.value.text == "Internal Server Error"
    assert "unhandled ZeroDivisionError" in caplog.text


@pytest.mark.anyio
async def test_an_error_before_accept_without_the_extension_closes() -> None:
    app = App()

    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        raise ZeroDivisionError

    peer = WebSocketPeer()
    await app(websocket_scope("/ws"), peer.receive, peer.send)
    assert peer.sent == [{"type": "websocket.close", "code": 1011, "reason": ""}]


def test_a_handler_that_returns_gets_close_1000() -> None:
    app = App()

    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("bye")

    with TestClient(app).websocket_connect("/ws") as session:
        assert session.receive_text() == "bye"
        with pytest.raises(WebSocketDisconnect) as closed:
            session.receive_text()
        assert closed.value.code == 1000


# --- feeds ------------------------------------------------------------------------------


def test_a_feed_sends_what_it_yields_then_closes() -> None:
    app = App()

    @app.websocket("/feed/{n:int}")
    async def feed(n: int) -> AsyncIterator[Any]:
        yield "text"
        yield b"bytes"
        yield {"n": n}

    with TestClient(app).websocket_connect("/feed/7") as session:
        assert session.receive_text() == "text"
        assert session.receive_bytes() == b"bytes"
        assert session.receive_json() == {"n": 7}
        with pytest.raises(WebSocketDisconnect) as closed:
            session.receive_text()
        assert closed.value.code == 1000


def test_a_feed_taking_the_websocket_accepts_itself() -> None:
    app = App()

    @app.websocket("/feed")
    async def feed(websocket: WebSocket) -> AsyncIterator[str]:
        await websocket.accept(subprotocol="v2")
        async for text in websocket.iter_text():
            yield text * 2

    with TestClient(app).websocket_connect("/feed", subprotocols=["v2"]) as session:
        assert session.accepted_subprotocol == "v2"
        session.send_text("ab")
        assert session.receive_text() == "abab"


def test_an_empty_feed_is_accepted_then_closed() -> None:
    app = App()

    @app.websocket("/feed")
    async def feed(websocket: WebSocket) -> AsyncIterator[str]:
        return
        yield  # an async generator

    with (
        TestClient(app).websocket_connect("/feed") as session,
        pytest.raises(WebSocketDisconnect),
    ):
        session.receive_text()


@pytest.mark.anyio
async def test_a_client_that_leaves_closes_the_feed_between_yields() -> None:
    app = App()
    finished = anyio.Event()

    @app.websocket("/feed")
    async def feed() -> AsyncIterator[str]:
        try:
            yield "first"
            await anyio.sleep_forever()  # between yields: only the watcher can stop it
            yield "never"
        finally:
            finished.set()

    peer = WebSocketPeer()
    async with anyio.create_task_group() as group:
        group.start_soon(app, websocket_scope("/feed"), peer.receive, peer.send)
        assert (await peer.next())["type"] == "websocket.accept"
        assert (await peer.next())["text"] == "first"
        peer.push({"type": "websocket.receive", "text": "ignored"})
        peer.push({"type": "websocket.disconnect", "code": 1001})
        with anyio.fail_after(5):
            await finished.wait()
    assert peer.sent[-1]["text"] == "first"  # nothing sent to a client that left


def test_a_feed_that_raises_closes_1011(caplog: pytest.LogCaptureFixture) -> None:
    app = App()

    @app.websocket("/feed")
    async def feed() -> AsyncIterator[str]:
        yield "one"
        raise ValueError("broken feed")

    with (
        caplog.at_level(logging.ERROR, logger="microweb"),
        TestClient(app).websocket_connect("/feed") as session,
    ):
        assert session.receive_text() == "one"
        with pytest.raises(WebSocketDisconnect) as closed:
            session.receive_text()
        assert closed.value.code == 1011
    assert "unhandled ValueError" in caplog.text


# --- the App: middleware, lifespan, shutdown -------------------------------------------


def test_middleware_sees_websocket_scopes() -> None:
    seen: list[str] = []

    class Recorder:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            seen.append(scope["type"])
            await self.app(scope, receive, send)

    app = make_app()
    app.add_middleware(Recorder)
    with TestClient(app).websocket_connect("/echo") as session:
        session.send_text("through")
        assert session.receive_text() == "through"
    assert seen == ["websocket"]


@pytest.mark.anyio
async def test_open_websockets_are_closed_1001_on_shutdown() -> None:
    app = App()
    app.shutdown_grace_period = 0.05
    finished = anyio.Event()

    @app.websocket("/chat")
    async def chat(websocket: WebSocket) -> None:
        await websocket.accept()
        async for text in websocket.iter_text():
            await websocket.send_text(text)

    @app.websocket("/feed")
    async def feed() -> AsyncIterator[str]:
        try:
            while True:
                yield "tick"
                await anyio.sleep(10)
        finally:
            finished.set()

    lifespan = WebSocketPeer(first={"type": "lifespan.startup"})  # a queue serves lifespan too
    chat_peer, feed_peer = WebSocketPeer(), WebSocketPeer()
    async with anyio.create_task_group() as group:
        lifespan_scope = {"type": "lifespan", "state": {}}
        group.start_soon(app, lifespan_scope, lifespan.receive, lifespan.send)
        assert (await lifespan.next())["type"] == "lifespan.startup.complete"
        group.start_soon(app, websocket_scope("/chat"), chat_peer.receive, chat_peer.send)
        group.start_soon(app, websocket_scope("/feed"), feed_peer.receive, feed_peer.send)
        assert (await chat_peer.next())["type"] == "websocket.accept"
        assert (await feed_peer.next())["type"] == "websocket.accept"
        assert (await feed_peer.next())["text"] == "tick"
        lifespan.push({"type": "lifespan.shutdown"})
        assert (await chat_peer.next()) == {"type": "websocket.close", "code": 1001}
        assert (await feed_peer.next()) == {"type": "websocket.close", "code": 1001}
        assert (await lifespan.next())["type"] == "lifespan.shutdown.complete"
    assert finished.is_set()


# --- the TestClient's session -------------------------------------------------------------


def test_the_session_raises_what_the_app_raised() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        raise RuntimeError("app bug")

    with (
        pytest.raises(RuntimeError, match="app bug"),
        TestClient(app).websocket_connect("/") as session,
    ):
        session.receive_text()


def escaping_app() -> App:
    """A handler that lets the client's leaving escape, as FastAPI's tutorials write it."""
    app = App()

    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        while True:
            await websocket.send_text(await websocket.receive_text())

    return app


def echo_once(client: TestClient) -> None:
    """One exchange, then leave the block with the connection open."""
    with client.websocket_connect("/ws") as session:
        session.send_text("a")
        assert session.receive_text() == "a"


def test_leaving_the_session_raises_the_disconnect_the_handler_let_escape() -> None:
    with pytest.raises(WebSocketDisconnect) as left:
        echo_once(TestClient(escaping_app()))
    assert left.value.code == 1000


def test_an_escaped_disconnect_is_not_raised_when_asked_not_to() -> None:
    echo_once(TestClient(escaping_app(), raise_server_exceptions=False))


def test_an_escaped_disconnect_hides_no_error_of_the_block() -> None:
    with (
        pytest.raises(LookupError, match="the test's own"),
        TestClient(escaping_app()).websocket_connect("/ws"),
    ):
        raise LookupError("the test's own")


@pytest.mark.anyio
async def test_a_server_hears_nothing_of_a_disconnect_that_escaped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    peer = WebSocketPeer()
    peer.push({"type": "websocket.disconnect", "code": 1001})
    scope = websocket_scope("/ws")
    with caplog.at_level(logging.DEBUG, logger="microweb"):
        await escaping_app()(scope, peer.receive, peer.send)  # returns: no error
    assert peer.sent == [{"type": "websocket.accept", "subprotocol": None, "headers": []}]
    assert scope["extensions"] == {}
    assert caplog.text == ""


def test_the_session_checks_the_app_message_order() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "websocket.send", "text": "before accept"})

    with (
        pytest.raises(RuntimeError, match=r"unexpected ASGI message 'websocket\.send'"),
        TestClient(app).websocket_connect("/"),
    ):
        pass


def test_the_session_runs_on_the_clients_portal() -> None:
    app = make_app()
    with TestClient(app) as client:
        for word in ("one", "two"):
            with client.websocket_connect("/echo") as session:
                session.send_text(word)
                assert session.receive_text() == word


def test_an_http_exception_after_accept_closes_1008_with_its_detail() -> None:
    app = App()

    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        raise HTTPException(400, "é" * 100)  # 200 bytes: cut to the 123 a close allows

    with TestClient(app).websocket_connect("/ws") as session:
        with pytest.raises(WebSocketDisconnect) as closed:
            session.receive_text()
        assert closed.value.code == 1008
        assert closed.value.reason == "é" * 61


@pytest.mark.anyio
async def test_a_router_answers_websocket_scopes_on_its_own() -> None:
    router = Router()

    @router.websocket("/ws/{n:int}")
    async def handler(websocket: WebSocket, n: int) -> None:
        await websocket.accept()
        await websocket.send_json(n)

    peer = WebSocketPeer()
    await router(websocket_scope("/ws/4"), peer.receive, peer.send)
    assert peer.sent == [
        {"type": "websocket.accept", "subprotocol": None, "headers": []},
        {"type": "websocket.send", "text": "4"},
        {"type": "websocket.close", "code": 1000},
    ]
    missing = WebSocketPeer()
    await router(websocket_scope("/elsewhere"), missing.receive, missing.send)
    assert missing.sent == [{"type": "websocket.close", "code": 1000}]


@pytest.mark.anyio
async def test_the_state_machines_refuse_what_the_server_would() -> None:
    peer = WebSocketPeer(first={"type": "websocket.receive", "text": "too soon"})
    websocket = WebSocket(websocket_scope(), peer.receive, peer.send)
    with pytest.raises(RuntimeError, match=r"expected ASGI message 'websocket\.connect'"):
        await websocket.receive()

    peer = WebSocketPeer()
    websocket = WebSocket(websocket_scope(extensions=DENIAL), peer.receive, peer.send)
    await websocket.accept()
    with pytest.raises(RuntimeError, match="cannot send a denial response"):
        await websocket.send_denial_response(WebSocketClose())
    with pytest.raises(RuntimeError, match=r"cannot send 'websocket\.accept' on an accepted"):
        await websocket.send({"type": "websocket.accept"})
    peer.push({"type": "websocket.http.request"})
    with pytest.raises(RuntimeError, match=r"expected ASGI message 'websocket\.receive'"):
        await websocket.receive()


@pytest.mark.anyio
async def test_a_denial_response_is_checked_message_by_message() -> None:
    peer = WebSocketPeer()
    websocket = WebSocket(websocket_scope(extensions=DENIAL), peer.receive, peer.send)
    await websocket.send({"type": "websocket.http.response.start", "status": 403})
    assert websocket.application_state is WebSocketState.RESPONSE
    with pytest.raises(RuntimeError, match="during a denial response"):
        await websocket.send({"type": "websocket.close"})
    await websocket.send({"type": "websocket.http.response.body", "body": b"no"})
    assert websocket.application_state.name == "DISCONNECTED"

    bare = WebSocket(websocket_scope(), peer.receive, peer.send)
    with pytest.raises(RuntimeError, match="extension"):
        await bare.send({"type": "websocket.http.response.start", "status": 403})


def test_receive_of_the_wrong_kind_in_the_test_session() -> None:
    app = App()

    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_bytes(b"binary")
        await websocket.send_text("text")
        await websocket.receive_text()

    with TestClient(app).websocket_connect("/ws") as session:
        with pytest.raises(TypeError, match="expected a text message"):
            session.receive_text()
        with pytest.raises(TypeError, match="expected a binary message"):
            session.receive_bytes()
        session.send_json({"x": 1}, mode="binary")  # binary where text is expected: 1003
        assert session.receive()["code"] == 1003


def test_iter_bytes_and_iter_json_end_when_the_client_closes() -> None:
    app = App()
    got: list[Any] = []

    @app.websocket("/bytes")
    async def as_bytes(websocket: WebSocket) -> None:
        await websocket.accept()
        got.extend([data async for data in websocket.iter_bytes()])

    @app.websocket("/json")
    async def as_json(websocket: WebSocket) -> None:
        await websocket.accept()
        got.extend([data async for data in websocket.iter_json(mode="binary")])

    client = TestClient(app)
    with client.websocket_connect("/bytes") as session:
        session.send_bytes(b"\x00")
    with client.websocket_connect("/json") as session:
        session.send_json({"k": [1]}, mode="binary")
    assert got == [b"\x00", {"k": [1]}]


@dataclasses.dataclass
class Item:
    name: str


def test_a_websocket_handler_taking_a_body_is_refused_when_added() -> None:
    app = App()
    with pytest.raises(TypeError, match="takes a request body"):

        @app.websocket("/items")
        async def items(websocket: WebSocket, item: Item) -> None:
            await websocket.accept()


# --- found by Starlette's tests (docs/websockets.md) -----------------------------------


@pytest.mark.anyio
async def test_close_after_the_client_left_sends_nothing() -> None:
    peer = WebSocketPeer()
    websocket = WebSocket(websocket_scope(), peer.receive, peer.send)
    await websocket.accept()
    peer.push({"type": "websocket.disconnect", "code": 1001})
    assert [text async for text in websocket.iter_text()] == []
    peer.gone = True  # a server may refuse anything after the disconnect
    await websocket.close()  # a `finally: await websocket.close()` stays quiet
    assert websocket.application_state is WebSocketState.DISCONNECTED
    assert [m["type"] for m in peer.sent] == ["websocket.accept"]


def test_accept_takes_raw_header_pairs() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive, send)
        with pytest.raises(ValueError, match="invalid header value"):
            await WebSocket(scope, receive, send).accept(headers=[(b"x-bad", b"a\r\nb")])
        websocket.client_state = WebSocketState.CONNECTED  # the first one received connect
        await websocket.accept(headers=[(b"x-raw", b"bytes"), ("x-text", "str")])
        await websocket.close()

    with TestClient(app).websocket_connect("/") as session:
        assert session.extra_headers == [(b"x-raw", b"bytes"), (b"x-text", b"str")]


def test_status_names_the_websocket_close_codes() -> None:
    from microweb import status

    assert status.WS_1000_NORMAL_CLOSURE == 1000
    assert status.WS_1008_POLICY_VIOLATION == 1008
    assert status.WS_1013_TRY_AGAIN_LATER == 1013
    names = [name for name in vars(status) if name.startswith("WS_")]
    assert len(names) == 15
    assert all(name.startswith(f"WS_{getattr(status, name)}_") for name in names)
    assert not set(names) & set(status.__all__)  # __all__ keeps the HTTP statuses


def test_leaving_the_session_cancels_an_app_that_ignores_the_disconnect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from microweb._websocket_session import WebSocketTestSession

    monkeypatch.setattr(WebSocketTestSession, "grace_period", 0.05)
    app = App()
    events: list[str] = []

    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            await anyio.sleep_forever()  # never receives: the disconnect goes unread
        finally:
            events.append("finally")

    with TestClient(app).websocket_connect("/ws"):
        pass  # leaving returns (no hang) once the grace period has passed
    assert events == ["finally"]


# --- shutdown and feed clean-up, on both backends (SPEC "WebSockets") ------------------


def lifespan_peer() -> tuple[WebSocketPeer, dict[str, Any]]:
    """A server's lifespan side (a queue serves it as well as a websocket) and its scope."""
    return WebSocketPeer(first={"type": "lifespan.startup"}), {"type": "lifespan", "state": {}}


@pytest.mark.anyio
async def test_a_feed_that_owns_receive_is_closed_1001_on_shutdown_and_its_finally_runs() -> None:
    app = App()
    app.shutdown_grace_period = 0.05
    finished = anyio.Event()

    @app.websocket("/feed")
    async def feed(websocket: WebSocket) -> AsyncIterator[str]:
        await websocket.accept(subprotocol="ticks")
        try:
            while True:
                yield "tick"
                await websocket.receive_text()  # waits here when shutdown comes
        finally:
            finished.set()

    lifespan, lifespan_scope = lifespan_peer()
    peer = WebSocketPeer()
    async with anyio.create_task_group() as group:
        group.start_soon(app, lifespan_scope, lifespan.receive, lifespan.send)
        assert (await lifespan.next())["type"] == "lifespan.startup.complete"
        group.start_soon(app, websocket_scope("/feed"), peer.receive, peer.send)
        assert (await peer.next())["subprotocol"] == "ticks"
        assert (await peer.next())["text"] == "tick"
        lifespan.push({"type": "lifespan.shutdown"})
        assert (await peer.next()) == {"type": "websocket.close", "code": 1001}
        assert (await lifespan.next())["type"] == "lifespan.shutdown.complete"
    assert finished.is_set()


@pytest.mark.anyio
async def test_a_handler_that_ends_within_the_grace_period_closes_as_it_likes() -> None:
    app = App()
    app.shutdown_grace_period = 5  # never reached: the handler ends first

    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        await app.shutdown_event.wait()
        await websocket.send_text("bye")
        await websocket.close(4000, "shutting down")

    lifespan, lifespan_scope = lifespan_peer()
    peer = WebSocketPeer()
    async with anyio.create_task_group() as group:
        group.start_soon(app, lifespan_scope, lifespan.receive, lifespan.send)
        assert (await lifespan.next())["type"] == "lifespan.startup.complete"
        group.start_soon(app, websocket_scope("/ws"), peer.receive, peer.send)
        assert (await peer.next())["type"] == "websocket.accept"
        lifespan.push({"type": "lifespan.shutdown"})
        with anyio.fail_after(2):
            assert (await peer.next())["text"] == "bye"
            assert (await peer.next())["code"] == 4000
            assert (await lifespan.next())["type"] == "lifespan.shutdown.complete"


@pytest.mark.anyio
async def test_a_feeds_finally_runs_when_it_raises_and_it_closes_1011(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = App()
    finished: list[str] = []

    @app.websocket("/feed")
    async def feed() -> AsyncIterator[str]:
        try:
            yield "one"
            raise ValueError("broken feed")
        finally:
            finished.append("finally")

    peer = WebSocketPeer()
    with caplog.at_level(logging.ERROR, logger="microweb"), anyio.fail_after(5):
        await app(websocket_scope("/feed"), peer.receive, peer.send)
    assert [m["type"] for m in peer.sent] == [
        "websocket.accept",
        "websocket.send",
        "websocket.close",
    ]
    assert peer.sent[-1]["code"] == 1011
    assert finished == ["finally"]
