"""WebSockets over a real uvicorn, with each of its WebSocket implementations.

Driven by the ``websockets`` client package. What uvicorn 0.54 does on
SIGTERM, read in its source and checked here: every open WebSocket is closed
by uvicorn itself with 1012 ("service restart"; the app receives
``websocket.disconnect`` 1012), before the app gets ``lifespan.shutdown``.
The App's own close with 1001 (tests/test_websockets.py) is for the
WebSockets still open when ``lifespan.shutdown`` arrives, which uvicorn
never leaves.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from .conftest import Server

IMPLEMENTATIONS = ["websockets-sansio", "wsproto"]


@pytest.fixture(params=IMPLEMENTATIONS)
def server(request: pytest.FixtureRequest, serve: Callable[..., Server]) -> Server:
    return serve("websocket_app:app", "--ws", request.param, "--timeout-graceful-shutdown", "1")


def ws_url(server: Server, path: str) -> str:
    return server.url.replace("http://", "ws://") + path


def wait_for_file(path: Path, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text():
            return path.read_text()
        time.sleep(0.02)
    raise AssertionError(f"{path.name} was not written within {timeout}s")


def closed_code(websocket: ClientConnection, *, skipping: bool = False) -> int | None:
    """The code of the close frame the server sends next (after any messages, if ``skipping``)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            websocket.recv(timeout=5)
        except ConnectionClosed as closed:
            frame = closed.rcvd
            return None if frame is None else frame.code
        if not skipping:
            raise AssertionError("a message came where a close was expected")
    raise AssertionError("the server did not close within 5s")


def test_text_binary_and_subprotocol(server: Server) -> None:
    with connect(ws_url(server, "/echo"), subprotocols=["other", "chat"]) as websocket:  # type: ignore[list-item]
        assert websocket.subprotocol == "chat"
        websocket.send("hello")
        assert websocket.recv(timeout=5) == "hello"
        websocket.send(b"\x00\x01")
        assert websocket.recv(timeout=5) == b"\x00\x01"


def test_json(server: Server) -> None:
    with connect(ws_url(server, "/json")) as websocket:
        websocket.send('{"a": [1, 2]}')
        assert websocket.recv(timeout=5) == '{"echo":{"a":[1,2]}}'
        websocket.send("{broken")
        assert closed_code(websocket) == 1007


@pytest.mark.parametrize("code", [1000, 4001])
def test_close_codes(server: Server, code: int) -> None:
    with connect(ws_url(server, f"/close/{code}")) as websocket:
        with pytest.raises(ConnectionClosed) as closed:
            websocket.recv(timeout=5)
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (code, "bye")


def test_an_error_after_accept_closes_1011(server: Server) -> None:
    with connect(ws_url(server, "/boom")) as websocket:
        assert closed_code(websocket) == 1011
    assert "RuntimeError: a bug" in server.stop()


def test_a_denied_handshake(server: Server) -> None:
    with pytest.raises(InvalidStatus) as denied:
        connect(ws_url(server, "/members"))
    assert denied.value.response.status_code == 403
    assert denied.value.response.body == b'{"detail":"members only"}'
    with pytest.raises(InvalidStatus) as invalid:
        connect(ws_url(server, "/close/x"))  # no route matches: closed before accept
    assert invalid.value.response.status_code == 403
    with connect(ws_url(server, "/members?token=secret")) as websocket:
        assert websocket.recv(timeout=5) == "welcome"


def test_a_client_that_vanishes_mid_feed_closes_the_generator(
    server: Server, tmp_path: Path
) -> None:
    marker = tmp_path / "feed"
    with connect(ws_url(server, f"/feed?marker={marker}")) as websocket:
        assert websocket.recv(timeout=5) == '{"tick":0}'
        websocket.close_socket()  # gone without a close frame
        assert wait_for_file(marker) == "closed"


def test_sigterm_closes_open_websockets(server: Server, tmp_path: Path) -> None:
    feed_marker, wait_marker = tmp_path / "feed", tmp_path / "wait"
    with (
        connect(ws_url(server, f"/feed?marker={feed_marker}")) as feed,
        connect(ws_url(server, f"/wait?marker={wait_marker}")) as waiting,
    ):
        assert feed.recv(timeout=5) == '{"tick":0}'
        waiting.send("still here")
        assert waiting.recv(timeout=5) == "still here"
        started = time.monotonic()
        server.process.terminate()
        assert closed_code(waiting) == 1012  # uvicorn's own close (module docstring)
        assert closed_code(feed, skipping=True) == 1012  # ticks may come first
    server.process.wait(10)
    assert time.monotonic() - started < 5
    assert wait_for_file(feed_marker) == "closed"
    assert wait_for_file(wait_marker) == "closed"
