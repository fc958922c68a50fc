"""examples/chat.py on a real uvicorn with two workers that share a real redis-server.

Each worker says its PID in the welcome message; the test opens WebSockets
(the ``websockets`` client package) until two of them landed on different
workers (bounded), then shows a message sent to one worker reaches the
client of the other, and the online feed of either lists both clients.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from .conftest import Server

ATTEMPTS = 40


@pytest.fixture
def workers(
    serve: Callable[..., Server], redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> Server:
    monkeypatch.setenv("CHAT_REDIS_URL", redis_url)  # the server inherits the environment
    return serve("examples.chat:app", "--workers", "2", "--timeout-graceful-shutdown", "1")


def join(stack: ExitStack, server: Server, name: str) -> tuple[ClientConnection, int]:
    """A WebSocket to the room as ``name`` (closed with ``stack``), and its worker's PID."""
    url = server.url.replace("http://", "ws://") + f"/ws?name={name}"
    deadline = time.monotonic() + 10
    while True:  # the workers may still be starting: uvicorn's parent holds the socket
        try:
            websocket = stack.enter_context(connect(url, open_timeout=5))
            break
        except (OSError, TimeoutError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    welcome = json.loads(websocket.recv(timeout=5))
    assert (welcome["type"], welcome["name"]) == ("welcome", name)
    return websocket, welcome["pid"]


def online_now(server: Server) -> list[str]:
    with (
        httpx.Client(timeout=5) as client,
        client.stream("GET", server.url + "/online") as response,
    ):
        lines = response.iter_lines()
        assert next(lines) == "event: online"
        names: list[str] = json.loads(next(lines).removeprefix("data: "))
        return names


Joined = tuple[ClientConnection, int]


@pytest.fixture
def two_workers(workers: Server) -> Iterator[tuple[Joined, Joined]]:
    """Two clients connected to different workers, each with its worker's PID."""
    with ExitStack() as stack:
        first = join(stack, workers, "ada")
        for attempt in range(ATTEMPTS):
            with ExitStack() as attempt_stack:
                other = join(attempt_stack, workers, "bob")
                if other[1] != first[1]:
                    stack.enter_context(attempt_stack.pop_all())
                    yield first, other
                    return
            time.sleep(0.05 * attempt)  # a busy worker's turn passes
        pytest.fail(f"{ATTEMPTS} connections all reached worker {first[1]}")


def test_two_workers_share_the_room(workers: Server, two_workers: tuple[Joined, Joined]) -> None:
    (ada, ada_pid), (bob, bob_pid) = two_workers
    ada.send("hello from one worker")
    expected = {"type": "message", "name": "ada", "text": "hello from one worker"}
    assert json.loads(bob.recv(timeout=5)) == expected
    assert json.loads(ada.recv(timeout=5)) == expected
    bob.send("and back")
    assert json.loads(ada.recv(timeout=5))["text"] == "and back"
    assert json.loads(bob.recv(timeout=5))["text"] == "and back"

    # Who is online spans the workers too, whichever one answers the feed.
    assert httpx.get(workers.url + "/whoami", timeout=5).json()["pid"] in {ada_pid, bob_pid}
    assert online_now(workers) == ["ada", "bob"]
    bob.close()
    deadline = time.monotonic() + 5
    while online_now(workers) != ["ada"]:
        assert time.monotonic() < deadline, "bob is still listed 5s after leaving"
        time.sleep(0.05)
