"""Exception handlers for websocket scopes (SPEC "WebSockets", docs/websockets.md).

The App's websocket error boundary looks handlers up as the HTTP one does
(status, then class, then 500 for the unhandled); a handler gets
``(websocket, exc)`` and closes the connection, denies the handshake or
returns a Response, sent as the denial where one can still be sent.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio
import anyio.from_thread
import pytest
from asgi_helpers import WebSocketPeer, websocket_scope

from microweb import App, HTTPException, JSONResponse, PlainTextResponse, Response
from microweb.exceptions import RequestValidationError, WebSocketException
from microweb.testclient import TestClient, WebSocketDenialResponse
from microweb.websockets import WebSocket, WebSocketDisconnect, WebSocketState


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """The boundary is microweb's own: it runs on trio as on asyncio."""
    return str(request.param)


class Busy(Exception):
    pass


def busy_app(accept_first: bool) -> App:
    app = App()

    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        if accept_first:
            await websocket.accept()
        raise Busy("try later")

    return app


def test_a_class_handler_closes_the_socket_after_accept() -> None:
    app = busy_app(accept_first=True)
    seen: list[Any] = []

    @app.exception_handler(Busy)
    async def busy(websocket: WebSocket, exc: Busy) -> None:
        seen.append((websocket.application_state, websocket.client_state, str(exc)))
        await websocket.close(1013, "try again later")

    with TestClient(app).websocket_connect("/ws") as session:
        assert session.receive() == {
            "type": "websocket.close",
            "code": 1013,
            "reason": "try again later",
        }
    assert seen == [(WebSocketState.CONNECTED, WebSocketState.CONNECTED, "try later")]


def test_a_sync_handler_runs_in_a_thread_and_may_close() -> None:
    app = busy_app(accept_first=True)

    def busy(websocket: WebSocket, exc: Busy) -> None:
        anyio.from_thread.run(websocket.close, 1013)

    app.add_exception_handler(Busy, busy)
    with TestClient(app).websocket_connect("/ws") as session:
        assert session.receive() == {"type": "websocket.close", "code": 1013}


def test_handlers_given_to_the_app_apply() -> None:
    async def busy(websocket: WebSocket, exc: Busy) -> None:
        await websocket.close(1002, "foo")

    app = App(exception_handlers={Busy: busy})

    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        raise Busy

    with (
        pytest.raises(WebSocketDisconnect) as closed,
        TestClient(app).websocket_connect("/ws"),
    ):
        pass
    assert (closed.value.code, closed.value.reason) == (1002, "foo")


def test_a_response_returned_before_accept_is_the_denial() -> None:
    app = busy_app(accept_first=False)

    @app.exception_handler(Busy)
    async def busy(websocket: WebSocket, exc: Busy) -> Response:
        return PlainTextResponse("busy", status_code=503, headers={"retry-after": "5"})

    with (
        pytest.raises(WebSocketDenialResponse) as denied,
        TestClient(app).websocket_connect("/ws"),
    ):
        pass
    assert denied.value.status_code == 503
    assert denied.value.text == "busy"
    assert denied.value.headers["retry-after"] == "5"


@pytest.mark.anyio
async def test_a_response_without_the_extension_closes_as_without_a_handler() -> None:
    app = busy_app(accept_first=False)
    app.add_exception_handler(
        Busy, lambda websocket, exc: PlainTextResponse("busy", status_code=503)
    )
    peer = WebSocketPeer()
    await app(websocket_scope("/ws"), peer.receive, peer.send)
    assert peer.sent == [{"type": "websocket.close", "code": 1011, "reason": ""}]


def test_a_response_returned_after_accept_closes_as_without_a_handler() -> None:
    app = busy_app(accept_first=True)

    @app.exception_handler(Busy)
    async def busy(websocket: WebSocket, exc: Busy) -> Response:
        return PlainTextResponse("busy", status_code=503)

    with TestClient(app).websocket_connect("/ws") as session:
        assert session.receive() == {"type": "websocket.close", "code": 1011, "reason": ""}


@pytest.mark.parametrize("accept_first", [True, False])
def test_what_a_handler_leaves_open_is_closed_1000(accept_first: bool) -> None:
    app = busy_app(accept_first)
    noted: list[str] = []

    @app.exception_handler(Busy)
    async def busy(websocket: WebSocket, exc: Busy) -> None:
        noted.append(str(exc))

    if accept_first:
        with TestClient(app).websocket_connect("/ws") as session:
            assert session.receive() == {"type": "websocket.close", "code": 1000}
    else:
        with (
            pytest.raises(WebSocketDisconnect) as closed,
            TestClient(app).websocket_connect("/ws"),
        ):
            pass
        assert closed.value.code == 1000
    assert noted == ["try later"]


def test_a_handler_that_raises_closes_1011_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = busy_app(accept_first=True)

    @app.exception_handler(Busy)
    async def busy(websocket: WebSocket, exc: Busy) -> None:
        raise KeyError("handler bug")

    with (
        caplog.at_level(logging.ERROR, logger="microweb"),
        TestClient(app).websocket_connect("/ws") as session,
    ):
        assert session.receive() == {"type": "websocket.close", "code": 1011, "reason": ""}
    assert "unhandled KeyError" in caplog.text


def test_a_handler_returning_something_else_is_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = busy_app(accept_first=False)
    app.add_exception_handler(Busy, lambda websocket, exc: "not a response")  # type: ignore[arg-type]
    with (
        caplog.at_level(logging.ERROR, logger="microweb"),
        pytest.raises(WebSocketDenialResponse) as denied,
        TestClient(app).websocket_connect("/ws"),
    ):
        pass
    assert denied.value.status_code == 500
    assert "returned str; for a WebSocket it returns None or a Response" in caplog.text


def test_an_http_exception_uses_its_status_handler_then_its_class_handler() -> None:
    app = App()

    @app.websocket("/ws/{status:int}")
    async def handler(websocket: WebSocket, status: int) -> None:
        raise HTTPException(status, "nope")

    @app.exception_handler(401)
    async def unauthorised(websocket: WebSocket, exc: HTTPException) -> Response:
        return JSONResponse({"login": str(websocket.url.path)}, status_code=401)

    @app.exception_handler(HTTPException)
    async def any_http(websocket: WebSocket, exc: HTTPException) -> Response:
        return JSONResponse({"status": exc.status_code}, status_code=exc.status_code)

    client = TestClient(app)
    with pytest.raises(WebSocketDenialResponse) as denied, client.websocket_connect("/ws/401"):
        pass
    assert (denied.value.status_code, denied.value.json()) == (401, {"login": "/ws/401"})
    with pytest.raises(WebSocketDenialResponse) as denied, client.websocket_connect("/ws/403"):
        pass
    assert (denied.value.status_code, denied.value.json()) == (403, {"status": 403})


def test_a_validation_handler_reshapes_binding_failures() -> None:
    app = App()

    @app.websocket("/ws")
    async def handler(websocket: WebSocket, n: int) -> None:
        raise AssertionError("not called")

    @app.exception_handler(RequestValidationError)
    async def invalid(websocket: WebSocket, exc: RequestValidationError) -> None:
        await websocket.close(4422, exc.errors()[0]["loc"][-1])

    with (
        pytest.raises(WebSocketDisconnect) as closed,
        TestClient(app).websocket_connect("/ws?n=x"),
    ):
        pass
    assert (closed.value.code, closed.value.reason) == (4422, "n")


def test_the_500_handler_gets_unhandled_errors_and_they_are_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = busy_app(accept_first=False)

    @app.exception_handler(500)
    async def server_error(websocket: WebSocket, exc: Exception) -> Response:
        return PlainTextResponse("sorry", status_code=500)

    with (
        caplog.at_level(logging.ERROR, logger="microweb"),
        pytest.raises(WebSocketDenialResponse) as denied,
        TestClient(app).websocket_connect("/ws"),
    ):
        pass
    assert (denied.value.status_code, denied.value.text) == (500, "sorry")
    assert "unhandled Busy" in caplog.text


def test_a_websocket_exception_handler_replaces_the_close() -> None:
    app = App()

    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        raise WebSocketException(1008, "policy")

    @app.exception_handler(WebSocketException)
    async def reshaped(websocket: WebSocket, exc: WebSocketException) -> None:
        await websocket.close(4000 + exc.code - 1000, exc.reason.upper())

    with TestClient(app).websocket_connect("/ws") as session:
        assert session.receive() == {"type": "websocket.close", "code": 4008, "reason": "POLICY"}


def test_a_disconnect_never_reaches_a_handler() -> None:
    app = App()
    called: list[Exception] = []

    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.receive_text()  # the client leaves: WebSocketDisconnect

    @app.exception_handler(Exception)
    async def everything(websocket: WebSocket, exc: Exception) -> None:
        called.append(exc)

    with TestClient(app).websocket_connect("/ws") as session:
        session.close(1001)
    assert called == []


@pytest.mark.anyio
async def test_a_handler_after_the_client_left_is_quiet() -> None:
    app = App()

    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        raise Busy

    @app.exception_handler(Busy)
    async def busy(websocket: WebSocket, exc: Busy) -> None:
        peer.gone = True
        await websocket.send_text("too late")  # OSError from the server: a disconnect

    peer = WebSocketPeer()
    with anyio.fail_after(5):
        await app(websocket_scope("/ws"), peer.receive, peer.send)
    assert peer.sent == [{"type": "websocket.accept", "subprotocol": None, "headers": []}]


@pytest.mark.anyio
async def test_the_handlers_websocket_knows_what_the_client_did() -> None:
    app = App()
    states: list[WebSocketState] = []

    @app.websocket("/ws")
    async def handler(websocket: WebSocket) -> None:
        await websocket.accept()
        async for _ in websocket.iter_text():
            pass
        raise Busy  # after the client left

    @app.exception_handler(Busy)
    async def busy(websocket: WebSocket, exc: Busy) -> None:
        states.append(websocket.client_state)

    peer = WebSocketPeer()
    peer.push({"type": "websocket.disconnect", "code": 1000})
    with anyio.fail_after(5):
        await app(websocket_scope("/ws"), peer.receive, peer.send)
    assert states == [WebSocketState.DISCONNECTED]
    assert [m["type"] for m in peer.sent] == ["websocket.accept"]  # nobody to close for
