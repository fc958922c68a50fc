from __future__ import annotations

import base64
import subprocess
import sys
import threading
from typing import TYPE_CHECKING, Any

import anyio
import httpx
import pytest

from microweb import App
from microweb.testclient import TestClient
from microweb.websockets import WebSocket

if TYPE_CHECKING:
    from microweb.types import Message, Receive, Scope, Send


async def respond(send: Send, body: bytes = b"ok", status: int = 200) -> None:
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": body})


def recording_app(scopes: list[Scope]) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        scopes.append(scope)
        await respond(send)

    return app


# Scope


def test_scope() -> None:
    scopes: list[Scope] = []
    client = TestClient(recording_app(scopes), root_path="/api")
    client.get("/api/caf%C3%A9/a%2Fb?x=1&y=%20", headers={"X-Custom": "Yes"})
    scope = scopes[0]
    assert scope["type"] == "http"
    assert scope["asgi"] == {"version": "3.0", "spec_version": "2.4"}
    assert scope["http_version"] == "1.1"
    assert scope["method"] == "GET"
    assert scope["scheme"] == "http"
    assert scope["server"] == ("testserver", 80)
    assert scope["client"] == ("testclient", 50000)
    assert scope["root_path"] == "/api"
    assert scope["path"] == "/api/café/a/b"
    assert scope["raw_path"] == b"/api/caf%C3%A9/a%2Fb"
    assert scope["query_string"] == b"x=1&y=%20"
    assert (b"host", b"testserver") in scope["headers"]
    assert (b"x-custom", b"Yes") in scope["headers"]
    assert all(name == name.lower() for name, _ in scope["headers"])
    assert scope["state"] == {}
    assert scope["extensions"] == {}


@pytest.mark.parametrize(
    ("base_url", "scheme", "server"),
    [
        ("http://testserver", "http", ("testserver", 80)),
        ("https://example.org", "https", ("example.org", 443)),
        ("http://example.org:8080", "http", ("example.org", 8080)),
    ],
)
def test_scheme_and_server_come_from_the_url(
    base_url: str, scheme: str, server: tuple[str, int]
) -> None:
    scopes: list[Scope] = []
    TestClient(recording_app(scopes), base_url=base_url).post("/")
    assert (scopes[0]["method"], scopes[0]["scheme"], scopes[0]["server"]) == (
        "POST",
        scheme,
        server,
    )


def test_client_options_reach_the_app() -> None:
    scopes: list[Scope] = []
    client = TestClient(recording_app(scopes), headers={"X-Default": "1"}, cookies={"a": "b"})
    client.get("/")
    headers = dict(scopes[0]["headers"])
    assert (headers[b"x-default"], headers[b"cookie"]) == (b"1", b"a=b")


def test_redirects_are_followed_by_default() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/old":
            headers = [(b"location", b"/new")]
            await send({"type": "http.response.start", "status": 307, "headers": headers})
            await send({"type": "http.response.body"})
        else:
            await respond(send, b"new")

    assert TestClient(app).get("/old").text == "new"
    assert TestClient(app, follow_redirects=False).get("/old").status_code == 307


# Request body


def body_recording_app(messages: list[Message]) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            messages.append(await receive())
            if not messages[-1]["more_body"]:
                break
        await respond(send)

    return app


def test_request_body_streams_in_chunks() -> None:
    messages: list[Message] = []
    TestClient(body_recording_app(messages)).post("/", content=iter([b"ab", b"", b"cd"]))
    assert messages == [
        {"type": "http.request", "body": b"ab", "more_body": True},
        {"type": "http.request", "body": b"cd", "more_body": False},
    ]


def test_empty_body_is_one_message() -> None:
    messages: list[Message] = []
    TestClient(body_recording_app(messages)).get("/")
    assert messages == [{"type": "http.request", "body": b"", "more_body": False}]


def test_receive_blocks_after_the_body_until_the_response_completes() -> None:
    events: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200})
        with anyio.move_on_after(0.05):
            await receive()
            events.append("returned early")  # pragma: no cover
        await send({"type": "http.response.body", "body": b"done"})
        events.append((await receive())["type"])

    assert TestClient(app).get("/").text == "done"
    assert events == ["http.disconnect"]


# Streaming and disconnect


def test_response_streams_while_the_app_is_running() -> None:
    first_chunk_seen = threading.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        # A transport that buffered the body would never let the test see the
        # first chunk; fail_after turns that into an error instead of a hang.
        with anyio.fail_after(5):
            while not first_chunk_seen.is_set():
                await anyio.sleep(0.001)
        await send({"type": "http.response.body", "body": b"second"})

    with TestClient(app).stream("GET", "/") as response:
        chunks = response.iter_bytes()
        assert next(chunks) == b"first"
        first_chunk_seen.set()
        assert list(chunks) == [b"second"]


def test_closing_early_sends_disconnect_and_drops_the_final_send() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        await receive()  # the empty request body
        seen.append((await receive())["type"])
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        seen.append("finished")

    with TestClient(app).stream("GET", "/") as response:
        assert next(response.iter_bytes()) == b"partial"
    assert seen == ["http.disconnect", "finished"]


def test_continuing_the_body_after_close_raises_oserror_in_the_app() -> None:
    errors: list[OSError] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"a", "more_body": True})
        await receive()
        await receive()  # http.disconnect
        try:
            await send({"type": "http.response.body", "body": b"b", "more_body": True})
        except OSError as exc:
            errors.append(exc)

    with TestClient(app).stream("GET", "/") as response:
        assert next(response.iter_bytes()) == b"a"
    assert len(errors) == 1


def test_endless_stream_that_ignores_disconnect_is_stopped_on_close() -> None:
    cleaned_up = threading.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200})
        try:
            while True:
                tick = {"type": "http.response.body", "body": b"data: tick\n\n", "more_body": True}
                await send(tick)
        finally:
            cleaned_up.set()

    with TestClient(app).stream("GET", "/") as response:
        lines = response.iter_lines()
        assert [next(lines) for _ in range(4)] == ["data: tick", "", "data: tick", ""]
        assert not cleaned_up.is_set()
    assert cleaned_up.is_set()


def test_call_returns_after_the_app_returns() -> None:
    background_done = threading.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await respond(send)
        await anyio.sleep(0.05)
        background_done.set()

    assert TestClient(app).get("/").text == "ok"
    assert background_done.is_set()


# Errors


class Boom(Exception):
    pass


def failing_app(where: str) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if where != "before start":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"so far", "more_body": True})
        if where == "after body":
            await send({"type": "http.response.body", "body": b""})
        raise Boom(where)

    return app


@pytest.mark.parametrize("where", ["before start", "mid body", "after body"])
def test_app_exceptions_are_raised_in_the_test(where: str) -> None:
    with pytest.raises(Boom, match=where):
        TestClient(failing_app(where)).get("/")


def test_the_same_exception_object_is_raised() -> None:
    raised: list[Exception] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raised.append(Boom())
        raise raised[0]

    with pytest.raises(Boom) as excinfo:
        TestClient(app).get("/")
    assert excinfo.value is raised[0]


def test_exception_before_start_becomes_a_500() -> None:
    response = TestClient(failing_app("before start"), raise_server_exceptions=False).get("/")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "Internal Server Error"


def test_exception_after_start_cuts_the_body_short() -> None:
    response = TestClient(failing_app("mid body"), raise_server_exceptions=False).get("/")
    assert (response.status_code, response.content) == (200, b"so far")


async def silent_app(scope: Scope, receive: Receive, send: Send) -> None:
    pass


def test_app_without_a_response_raises() -> None:
    with pytest.raises(RuntimeError, match=r"returned without sending 'http\.response\.start'"):
        TestClient(silent_app).get("/")


def test_app_without_a_response_becomes_a_500() -> None:
    assert TestClient(silent_app, raise_server_exceptions=False).get("/").status_code == 500


@pytest.mark.parametrize(
    ("messages", "error"),
    [
        ([{"type": "http.response.body"}], "expected 'http.response.start', got"),
        (
            [{"type": "http.response.start", "status": 200}] * 2,
            "'http.response.start' after 'http.response.start'",
        ),
        (
            [{"type": "http.response.start", "status": 200}, {"type": "http.response.body"}] * 2,
            "'http.response.start' after the response completed",
        ),
    ],
)
def test_out_of_order_messages_are_rejected(messages: list[Message], error: str) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        for message in messages:
            await send(message)

    with pytest.raises(RuntimeError, match=error):
        TestClient(app).get("/")


def test_response_status_must_be_an_int() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": "200"})

    with pytest.raises(TypeError, match="response status must be an int, got '200'"):
        TestClient(app).get("/")


# Lifespan


def lifespan_app(events: list[str], fail: str = "") -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            events.append(f"request {scope['state']}")
            scope["state"]["request"] = True  # must not leak into other requests
            await respond(send)
            return
        while True:
            phase = (await receive())["type"].removeprefix("lifespan.")
            events.append(phase)
            if phase == fail:
                await send({"type": f"lifespan.{phase}.failed", "message": "no database"})
                return
            if phase == "startup":
                scope["state"]["db"] = "connected"
            await send({"type": f"lifespan.{phase}.complete"})
            if phase == "shutdown":
                return

    return app


def test_lifespan_runs_around_the_block_and_shares_its_state() -> None:
    events: list[str] = []
    with TestClient(lifespan_app(events)) as client:
        assert events == ["startup"]
        client.get("/")
        client.get("/")
    assert events == [
        "startup",
        "request {'db': 'connected'}",
        "request {'db': 'connected'}",
        "shutdown",
    ]


def test_one_portal_serves_the_whole_block() -> None:
    threads: set[int] = set()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        threads.add(threading.get_ident())
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
        else:
            await respond(send)

    with TestClient(app) as client:
        client.get("/")
        with client.stream("GET", "/") as response:
            response.read()
    assert len(threads) == 1
    assert threading.get_ident() not in threads


def test_no_lifespan_outside_a_with_block() -> None:
    events: list[str] = []
    TestClient(lifespan_app(events)).get("/")
    assert events == ["request {}"]


@pytest.mark.parametrize("phase", ["startup", "shutdown"])
def test_failed_lifespan_phase_raises(phase: str) -> None:
    with (
        pytest.raises(RuntimeError, match=f"lifespan {phase} failed: no database"),
        TestClient(lifespan_app([], fail=phase)),
    ):
        pass


def test_app_without_lifespan_support_still_serves_requests() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"unsupported scope type {scope['type']!r}")
        await respond(send)

    with TestClient(app) as client:
        assert client.get("/").text == "ok"


def test_lifespan_crash_after_startup_is_raised_on_exit() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        raise Boom("shutdown crashed")

    with pytest.raises(Boom, match="shutdown crashed"), TestClient(app):
        pass


def test_unexpected_lifespan_message_raises() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "lifespan.shutdown.complete"})

    with pytest.raises(RuntimeError, match=r"'lifespan\.shutdown\.complete' during startup"):
        TestClient(app).__enter__()


def test_client_is_an_httpx_client() -> None:
    assert isinstance(TestClient(silent_app), httpx.Client)


def test_without_httpx_the_import_error_names_the_extra() -> None:
    # A fresh interpreter where httpx cannot be imported (None in sys.modules).
    probe = (
        "import sys\n"
        "sys.modules['httpx'] = None\n"
        "try:\n"
        "    import microweb.testclient\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
        "    print(exc.__cause__ is None and exc.__suppress_context__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    message, chained = done.stdout.splitlines()
    assert "pip install 'microweb-asgi[test]'" in message
    assert chained == "True"  # one clear error, not a chained traceback


def test_requests_say_testclient_as_their_user_agent_unless_told_otherwise() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        agent = dict(scope["headers"]).get(b"user-agent", b"")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": agent})

    assert TestClient(app).get("/").text == "testclient"
    assert TestClient(app, headers={"User-Agent": "mine"}).get("/").text == "mine"
    assert TestClient(app).get("/", headers={"user-agent": "once"}).text == "once"


# WebSocket sessions outside `with`


def test_websocket_sessions_open_together_share_one_event_loop() -> None:
    # A chat room: a handler sends to another session's WebSocket, an HTTP
    # request to every member. Outside `with TestClient(app)` each session
    # used to run on an event loop (a thread) of its own; a send into another
    # loop's stream did not wake its reader, and the test waited forever.
    app = App()
    threads: list[int] = []
    members: list[WebSocket] = []

    async def say(text: str) -> None:
        for member in members:
            await member.send_text(text)

    @app.websocket("/room")
    async def room(websocket: WebSocket) -> None:
        threads.append(threading.get_ident())
        members.append(websocket)
        await websocket.accept()
        async for text in websocket.iter_text():
            await say(text)
        members.remove(websocket)

    @app.post("/say")
    async def shout(text: str) -> None:
        threads.append(threading.get_ident())
        await say(text)

    client = TestClient(app)
    running = threading.active_count()
    with client.websocket_connect("/room") as first, client.websocket_connect("/room") as second:
        assert threads[0] == threads[1]  # checked before anything that could hang
        second.send_text("hi")
        assert (first.receive_text(), second.receive_text()) == ("hi", "hi")
        assert client.post("/say", params={"text": "all"}).status_code == 200
        assert threads[2] == threads[0]
        assert (first.receive_text(), second.receive_text()) == ("all", "all")
    assert threading.active_count() == running  # the last one out stopped the portal


def test_websocket_handshake_carries_what_a_browser_sends() -> None:
    app = App()

    @app.websocket("/headers")
    async def headers(websocket: WebSocket) -> None:
        await websocket.accept(subprotocol=websocket.scope["subprotocols"][0])
        await websocket.send_json(dict(websocket.headers))
        await websocket.close()

    client = TestClient(app)
    with client.websocket_connect("/headers", subprotocols=["chat", "v2"]) as websocket:
        sent = websocket.receive_json()
    assert sent["connection"] == "upgrade"
    assert sent["upgrade"] == "websocket"
    assert sent["sec-websocket-version"] == "13"
    assert sent["sec-websocket-protocol"] == "chat, v2"
    assert len(base64.b64decode(sent["sec-websocket-key"], validate=True)) == 16
    assert sent["user-agent"] == "testclient"
    # Each handshake has its own key; a test's own header wins over the default.
    with client.websocket_connect(
        "/headers", subprotocols=["x"], headers={"Upgrade": "WebSocket"}
    ) as websocket:
        again = websocket.receive_json()
    assert again["sec-websocket-key"] != sent["sec-websocket-key"]
    assert again["upgrade"] == "WebSocket"
    assert again["sec-websocket-protocol"] == "x"
