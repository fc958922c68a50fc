"""examples/chat.py and examples/broadcast.py, in-process, with each broadcaster.

The chat tests run twice: with the in-memory broadcaster and with the Redis
one against a real redis-server the fixture starts (tests/conftest.py). A
slow client is made by a middleware that holds back the app's messages to
it until the test lets them go: its queue fills while the others go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Iterator

import anyio
import pytest
from conftest import RedisServer

from examples.broadcast import (
    MemoryBroadcaster,
    RedisBroadcaster,
    SubscriberTooSlow,
    Subscription,
    create_broadcaster,
)
from examples.chat import create_app
from microweb import App
from microweb.testclient import TestClient
from microweb.types import Message, Receive, Scope, Send
from microweb.websockets import WebSocketDisconnect

QUEUE = 2


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> str | None:
    """The Redis URL to give the chat app, or None for the in-memory broadcaster."""
    if request.param == "memory":
        return None
    url: str = request.getfixturevalue("redis_url")
    return url


class HoldBack:
    """Middleware: the room's messages to a client named ``slow`` wait until ``release``."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.released = threading.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket" or scope["query_string"] != b"name=slow":
            await self.app(scope, receive, send)
            return

        async def held_send(message: Message) -> None:
            if '"type": "message"' in message.get("text", ""):
                while not self.released.is_set():  # bounded by the test's own release
                    await anyio.sleep(0.01)
            await send(message)

        await self.app(scope, receive, held_send)


def online(client: TestClient) -> list[str]:
    """The first event of the /online feed."""
    with client.stream("GET", "/online") as response:
        lines = response.iter_lines()
        assert next(lines) == "event: online"
        data = next(lines)
    assert data.startswith("data: ")
    names: list[str] = json.loads(data.removeprefix("data: "))
    return names


@pytest.fixture
def chat(backend: str | None) -> Iterator[tuple[App, TestClient]]:
    app = create_app(backend, queue_size=QUEUE)
    with TestClient(app) as client:
        yield app, client


def test_page_and_whoami(chat: tuple[App, TestClient]) -> None:
    _, client = chat
    page = client.get("/")
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert 'new EventSource("/online")' in page.text
    assert "/ws?name=" in page.text
    assert isinstance(client.get("/whoami").json()["pid"], int)


def test_messages_reach_every_client(chat: tuple[App, TestClient]) -> None:
    _, client = chat
    with (
        client.websocket_connect("/ws?name=ada") as ada,
        client.websocket_connect("/ws") as bob,
    ):
        assert ada.receive_json()["type"] == "welcome"
        bob.send_text("bob")  # no name in the URL: the first message is the name
        welcome = bob.receive_json()
        assert (welcome["type"], welcome["name"]) == ("welcome", "bob")
        ada.send_text("  hello  ")
        bob.send_text("hi ada")
        expected = [
            {"type": "message", "name": "ada", "text": "hello"},
            {"type": "message", "name": "bob", "text": "hi ada"},
        ]
        for websocket in (ada, bob):
            assert [websocket.receive_json(), websocket.receive_json()] == expected


def test_a_name_is_needed(chat: tuple[App, TestClient]) -> None:
    _, client = chat
    with client.websocket_connect("/ws") as websocket:
        websocket.send_text("   ")
        with pytest.raises(WebSocketDisconnect) as closed:
            websocket.receive_text()
    assert closed.value.code == 1008


def test_presence_feed(chat: tuple[App, TestClient]) -> None:
    _, client = chat
    assert online(client) == []
    with client.websocket_connect("/ws?name=ada") as ada:
        ada.receive_json()
        assert online(client) == ["ada"]
        with (
            client.websocket_connect("/ws?name=bob") as bob,
            client.stream("GET", "/online") as feed,
        ):
            bob.receive_json()
            lines = feed.iter_lines()
            assert next(lines) == "event: online"
            assert next(lines) == 'data: ["ada","bob"]'
            bob.close()
            # The feed follows the leave (a join event may come first, by timing).
            for line in lines:
                if line == 'data: ["ada"]':
                    break
        assert online(client) == ["ada"]
    assert online(client) == []


def test_a_client_that_falls_behind_is_closed_1013(backend: str | None) -> None:
    app = create_app(backend, queue_size=QUEUE)
    held = HoldBack(app)
    with (
        TestClient(held) as client,
        client.websocket_connect("/ws?name=slow") as slow,
        client.websocket_connect("/ws?name=ada") as ada,
    ):
        assert slow.receive_json()["type"] == "welcome"
        assert ada.receive_json()["type"] == "welcome"
        sent = [f"message {n}" for n in range(QUEUE + 4)]
        for text in sent:
            ada.send_text(text)
            assert ada.receive_json()["text"] == text  # the fast client keeps up
        held.released.set()
        received = []
        with pytest.raises(WebSocketDisconnect) as closed:  # noqa: PT012 - reads until closed
            while True:
                received.append(slow.receive_json()["text"])
        assert (closed.value.code, closed.value.reason) == (1013, "too slow: try again later")
        # What it got first is what was queued (one held back plus a full queue).
        assert 1 <= len(received) <= QUEUE + 1
        assert received == sent[: len(received)]
        ada.send_text("still here")
        assert ada.receive_json()["text"] == "still here"
        assert online(client) == ["ada"]


def test_nothing_is_left_behind_when_clients_leave(chat: tuple[App, TestClient]) -> None:
    app, client = chat

    async def count_tasks() -> int:  # runs on the app's event loop
        return len(asyncio.all_tasks())

    app.add_route("/tasks", count_tasks)

    def tasks() -> int:
        count: int = client.get("/tasks").json()
        return count

    before = tasks()
    with (
        client.websocket_connect("/ws?name=ada") as ada,
        client.websocket_connect("/ws?name=bob") as bob,
    ):
        ada.receive_json()
        bob.receive_json()
        ada.send_text("bye")
        assert bob.receive_json()["text"] == "bye"
        assert app.state.broadcaster.subscriber_count == 2
        assert tasks() > before
    assert app.state.broadcaster.subscriber_count == 0
    assert tasks() == before
    assert online(client) == []


# --- the broadcaster on its own ---------------------------------------------------------


def test_create_broadcaster_picks_by_url() -> None:
    assert isinstance(create_broadcaster(None), MemoryBroadcaster)
    assert isinstance(create_broadcaster(""), MemoryBroadcaster)
    redis = create_broadcaster("redis://127.0.0.1:1/0", queue_size=5)
    assert isinstance(redis, RedisBroadcaster)
    with pytest.raises(ValueError, match="queue_size must be a positive int, got 0"):
        MemoryBroadcaster(queue_size=0)
    with pytest.raises(ValueError, match="presence_ttl must be at least 3 seconds, got 1"):
        RedisBroadcaster("redis://127.0.0.1:1/0", presence_ttl=1)


@pytest.mark.anyio
async def test_a_full_queue_drops_the_subscriber() -> None:
    subscription = Subscription("room", 2)
    for text in ("a", "b", "c", "d"):
        subscription.deliver(text)
    assert subscription.overflowed
    with pytest.raises(SubscriberTooSlow, match="'room' fell behind"):
        assert [text async for text in subscription] == ["a", "b"]
    subscription.close()


@pytest.mark.anyio
async def test_redis_broadcasters_share_messages_and_presence(redis_url: str) -> None:
    first = RedisBroadcaster(redis_url, prefix="t:")
    second = RedisBroadcaster(redis_url, prefix="t:")
    async with first, second:
        async with first.subscribe("room") as messages, second.member("ada"):
            await second.publish("room", "hello")
            with anyio.fail_after(5):
                assert await messages.__anext__() == "hello"
            assert await first.online() == ["ada"]
            async with first.member("bob"), first.member("ada"):
                assert await second.online() == ["ada", "bob"]
            assert await second.online() == ["ada"]
        assert await first.online() == []
        async with second.member("carol"):
            assert await first.online() == ["carol"]
        # A worker that dies without cleaning up drops out once its key expires.
        async with second.member("dead"):
            assert second._redis is not None
            await second._redis.delete(second._alive_key(second.worker))
            assert await first.online() == []
    assert first.subscriber_count == second.subscriber_count == 0


@pytest.mark.anyio
async def test_a_redis_broadcaster_that_stops_takes_its_members_along(redis_url: str) -> None:
    watcher = RedisBroadcaster(redis_url, prefix="t:")
    async with watcher:
        worker = RedisBroadcaster(redis_url, prefix="t:")
        async with watcher.subscribe("presence") as changes:
            async with worker:
                await worker.join("m1", "ada")
                with anyio.fail_after(5):
                    assert await changes.__anext__() == "join"
                assert await watcher.online() == ["ada"]
            with anyio.fail_after(5):
                assert await changes.__anext__() == "leave"
        assert await watcher.online() == []
        with pytest.raises(RuntimeError, match="not started"):
            await worker.publish("room", "late")


@pytest.mark.anyio
async def test_a_redis_restart_is_survived(redis_server: RedisServer) -> None:
    from redis.exceptions import ConnectionError as RedisConnectionError

    url = redis_server.url
    first = RedisBroadcaster(url, presence_ttl=3, retry_delay=0.05)
    second = RedisBroadcaster(url, presence_ttl=3, retry_delay=0.05)
    async with first, second, first.subscribe("room") as messages, second.member("ada"):
        await anyio.to_thread.run_sync(redis_server.stop)
        await anyio.to_thread.run_sync(redis_server.start)  # empty: the hash is gone
        with anyio.fail_after(10):
            while True:  # pub/sub comes back once the reader has subscribed again
                with contextlib.suppress(RedisConnectionError):  # a pooled, dead connection
                    await second.publish("room", "back")
                with anyio.move_on_after(0.2):
                    assert await messages.__anext__() == "back"
                    break
            while True:  # the heartbeat lists its members again
                with contextlib.suppress(RedisConnectionError):
                    if await first.online() == ["ada"]:
                        break
                await anyio.sleep(0.1)
