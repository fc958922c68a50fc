"""StreamingResponse and the machinery every stream shares (microweb.responses._stream).

Most tests go through the TestClient; the ones that must see the raw ASGI
messages (no final ``more_body=False`` after an error, nothing sent before an
early error, an ``OSError`` from ``send``, lifespan shutdown) call the app
with ``call_asgi``, which test_files.py and test_sse.py use too.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any

import anyio
import pytest
from asgi_helpers import call_asgi, http_scope

from microweb import App, HTTPException, Request
from microweb._shutdown import StreamRegistry
from microweb.background import BackgroundTask
from microweb.responses import EventSourceResponse, StreamingResponse
from microweb.responses._stream import Transmission
from microweb.testclient import TestClient
from microweb.types import Message, Receive, Scope, Send


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """The raw ASGI tests of streams run on asyncio (helper tasks) and trio (a task group)."""
    return str(request.param)


# --- a raw ASGI caller ---------------------------------------------------------------


def body_of(messages: list[Message]) -> bytes:
    return b"".join(bytes(m.get("body", b"")) for m in messages[1:])


# --- content and framing --------------------------------------------------------------


def test_async_iterable_of_str_bytes_and_memoryview() -> None:
    async def chunks() -> AsyncIterator[Any]:
        yield "é"
        yield b"b"
        yield memoryview(b"mv")
        yield bytearray(b"ba")
        yield b""  # skipped

    response = StreamingResponse(chunks(), media_type="text/plain")
    r = TestClient(response).get("/")
    assert r.status_code == 200
    assert r.content == "é".encode() + b"bmvba"
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert "content-length" not in r.headers


def test_sync_iterator_is_drained_in_a_worker_thread() -> None:
    threads: list[int] = []

    def chunks() -> Iterator[bytes]:
        for n in range(3):
            threads.append(threading.get_ident())
            yield b"%d" % n

    loop_thread: list[int] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        loop_thread.append(threading.get_ident())
        await StreamingResponse(chunks())(scope, receive, send)

    assert TestClient(app).get("/").content == b"012"
    assert len(threads) == 3
    assert loop_thread[0] not in threads


def test_a_list_and_a_single_str_or_bytes() -> None:
    assert TestClient(StreamingResponse(["a", "b"])).get("/").content == b"ab"
    assert TestClient(StreamingResponse("whole")).get("/").content == b"whole"
    assert TestClient(StreamingResponse(b"whole")).get("/").content == b"whole"


def test_charset_encodes_str_chunks() -> None:
    class Latin1Stream(StreamingResponse):
        charset = "latin-1"

    r = TestClient(Latin1Stream(["é"], media_type="text/plain")).get("/")
    assert r.content == b"\xe9"
    assert r.headers["content-type"] == "text/plain; charset=latin-1"


def test_multibyte_memoryview_is_sent_as_its_bytes() -> None:
    import array

    view = memoryview(array.array("H", [1, 2]))
    assert StreamingResponse([]).encode_chunk(view) == view.tobytes()


def test_content_must_be_iterable() -> None:
    with pytest.raises(TypeError, match="int"):
        StreamingResponse(42)  # type: ignore[arg-type]


def test_given_headers_and_content_length_are_kept() -> None:
    response = StreamingResponse(
        [b"abc"], status_code=201, headers={"content-length": "3", "x-a": "1"}
    )
    assert response.headers["x-a"] == "1"
    assert "content-type" not in response.headers
    r = TestClient(response).get("/")
    assert r.status_code == 201
    assert r.headers["content-length"] == "3"
    assert r.content == b"abc"


def test_header_list_and_injection_refused() -> None:
    response = StreamingResponse([], headers=[("x-a", "1"), ("x-a", "2")])
    assert response.headers.getlist("x-a") == ["1", "2"]
    with pytest.raises(ValueError, match="CR, LF"):
        StreamingResponse([], headers={"x-a": "1\r\nx-b: 2"})


def test_empty_iterable_sends_an_empty_body() -> None:
    async def nothing() -> AsyncIterator[bytes]:
        return
        yield b""  # pragma: no cover

    r = TestClient(StreamingResponse(nothing())).get("/")
    assert r.status_code == 200
    assert r.content == b""


def test_chunks_arrive_one_by_one_as_the_client_reads() -> None:
    produced: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        for n in range(5):
            produced.append(n)
            yield b"%d" % n

    with TestClient(StreamingResponse(chunks())).stream("GET", "/") as r:
        received = []
        for chunk in r.iter_bytes():
            received.append(chunk)
            # The app is at most a chunk or two ahead of the reader: not buffered.
            assert len(produced) - len(received) <= 2
    assert received == [b"0", b"1", b"2", b"3", b"4"]


# --- HEAD and bodyless statuses ------------------------------------------------------------


def test_head_sends_headers_and_never_starts_the_generator() -> None:
    started = []

    async def chunks() -> AsyncIterator[bytes]:
        started.append(True)  # pragma: no cover
        yield b"x"  # pragma: no cover

    generator = chunks()
    r = TestClient(StreamingResponse(generator, media_type="text/plain")).head("/")
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert started == []

    async def pull() -> None:
        with pytest.raises(StopAsyncIteration):  # closed, so it never starts now
            await anext(generator)

    anyio.run(pull)
    assert started == []


def test_head_through_a_get_route_closes_a_sync_generator_unstarted() -> None:
    app = App()
    generators: list[Iterator[bytes]] = []
    ran = []

    @app.get("/", response_class=StreamingResponse)
    def stream() -> Iterator[bytes]:
        def chunks() -> Iterator[bytes]:
            ran.append(True)  # pragma: no cover
            yield b"x"  # pragma: no cover

        generators.append(chunks())
        return generators[0]

    r = TestClient(app).head("/")
    assert r.status_code == 200
    assert r.content == b""
    assert ran == []
    assert inspect.getgeneratorstate(generators[0]) == inspect.GEN_CLOSED  # type: ignore[arg-type]


def test_head_closes_an_iterator_object_in_a_worker_thread() -> None:
    closed: list[int] = []

    class Chunks:
        def __iter__(self) -> Chunks:
            return self

        def __next__(self) -> bytes:  # pragma: no cover
            raise StopIteration

        def close(self) -> None:
            closed.append(threading.get_ident())

    TestClient(StreamingResponse(Chunks())).head("/")
    assert closed
    assert closed[0] != threading.get_ident()


@pytest.mark.anyio
async def test_bodyless_status_sends_no_body() -> None:
    messages = await call_asgi(StreamingResponse([b"x"], status_code=204))
    assert messages[0]["status"] == 204
    assert body_of(messages) == b""


# --- errors -----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_exception_before_the_first_chunk_is_raised_with_nothing_sent() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        raise LookupError("no data")
        yield b""  # pragma: no cover

    sent: list[Message] = []
    with pytest.raises(LookupError, match="no data"):
        sent = await call_asgi(StreamingResponse(chunks()))
    assert sent == []


@pytest.mark.anyio
async def test_a_bad_first_chunk_is_raised_with_nothing_sent() -> None:
    with pytest.raises(TypeError, match="chunks must be str, bytes or memoryview, not int"):
        await call_asgi(StreamingResponse([1]))


def test_early_errors_become_error_responses_in_an_app(caplog: pytest.LogCaptureFixture) -> None:
    app = App()

    @app.get("/missing", response_class=StreamingResponse)
    async def missing() -> AsyncIterator[bytes]:
        async def chunks() -> AsyncIterator[bytes]:
            raise HTTPException(404, "no such stream")
            yield b""  # pragma: no cover

        return chunks()

    @app.get("/broken", response_class=StreamingResponse)
    def broken() -> Iterator[bytes]:
        def chunks() -> Iterator[bytes]:
            raise RuntimeError("boom")
            yield b""  # pragma: no cover

        return chunks()

    client = TestClient(app)
    r = client.get("/missing")
    assert r.status_code == 404
    assert r.json() == {"detail": "no such stream"}
    with caplog.at_level(logging.ERROR, logger="microweb"):
        r = client.get("/broken")
    assert r.status_code == 500
    assert r.text == "Internal Server Error"
    assert any(record.exc_info and record.exc_info[0] is RuntimeError for record in caplog.records)


@pytest.mark.anyio
async def test_later_exception_cuts_the_stream_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"first"
        yield b"second"
        raise LookupError("gone wrong")

    with caplog.at_level(logging.ERROR, logger="microweb"):
        messages = await call_asgi(StreamingResponse(chunks()))
    assert messages[0]["type"] == "http.response.start"
    assert [m["body"] for m in messages[1:]] == [b"first", b"second"]
    # No clean end: every body message says more is coming.
    assert all(m["more_body"] for m in messages[1:])
    [record] = caplog.records
    assert record.name == "microweb"
    assert "LookupError" in record.getMessage()
    assert record.exc_info is not None
    assert record.exc_info[0] is LookupError


def test_later_exception_in_an_app_cuts_the_body(caplog: pytest.LogCaptureFixture) -> None:
    app = App()

    @app.get("/", response_class=StreamingResponse)
    def stream() -> Iterator[str]:
        def chunks() -> Iterator[str]:
            yield "partial"
            raise RuntimeError("late")

        return chunks()

    with caplog.at_level(logging.ERROR, logger="microweb"):
        r = TestClient(app).get("/")
    assert r.status_code == 200
    assert r.content == b"partial"
    assert [record.exc_info[0] for record in caplog.records if record.exc_info] == [RuntimeError]


@pytest.mark.anyio
async def test_an_error_while_closing_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"x"
        finally:
            raise RuntimeError("finally failed")

    with caplog.at_level(logging.ERROR, logger="microweb"):
        # The client is gone while the generator waits at a yield: aclose() raises.
        await call_asgi(StreamingResponse(chunks()), send_fails_after=2)
    [record] = caplog.records
    assert "closing the body of GET /" in record.getMessage()
    assert record.exc_info is not None


# --- disconnects ---------------------------------------------------------------------------


def test_client_disconnect_closes_an_async_generator() -> None:
    closed = threading.Event()

    async def endless() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"tick"
                await anyio.sleep(0.01)
        finally:
            closed.set()

    with TestClient(StreamingResponse(endless())).stream("GET", "/") as r:
        chunks = r.iter_bytes()
        assert next(chunks) == b"tick"
        assert next(chunks) == b"tick"
    assert closed.wait(1)


def test_client_disconnect_closes_a_sync_generator() -> None:
    closed = threading.Event()

    def endless() -> Iterator[bytes]:
        try:
            while True:
                yield b"tick"
                time.sleep(0.01)
        finally:
            closed.set()

    with TestClient(StreamingResponse(endless())).stream("GET", "/") as r:
        assert next(r.iter_bytes()) == b"tick"
    assert closed.wait(1)


@pytest.mark.anyio
async def test_disconnect_stops_a_generator_waiting_between_chunks() -> None:
    closed = anyio.Event()

    async def slow() -> AsyncIterator[bytes]:
        try:
            yield b"first"
            await anyio.sleep(60)  # pragma: no cover
            yield b"never"  # pragma: no cover
        finally:
            closed.set()

    disconnect = anyio.Event()
    with anyio.fail_after(2):
        async with anyio.create_task_group() as group:
            group.start_soon(_set_after, disconnect, 0.05)
            messages = await call_asgi(StreamingResponse(slow()), disconnect=disconnect)
    assert closed.is_set()
    assert [m["body"] for m in messages[1:]] == [b"first"]


@pytest.mark.anyio
async def test_disconnect_before_the_first_chunk_sends_nothing() -> None:
    async def slow() -> AsyncIterator[bytes]:
        await anyio.sleep(60)  # pragma: no cover
        yield b"never"  # pragma: no cover

    disconnect = anyio.Event()
    disconnect.set()
    with anyio.fail_after(2):
        assert await call_asgi(StreamingResponse(slow()), disconnect=disconnect) == []


async def _set_after(event: anyio.Event, delay: float) -> None:
    await anyio.sleep(delay)
    event.set()


@pytest.mark.anyio
async def test_a_generator_stopped_at_a_yield_may_await_in_its_finally() -> None:
    closed = anyio.Event()

    async def endless() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"x"
        finally:
            await anyio.sleep(0.01)  # aclose() runs shielded
            closed.set()

    with anyio.fail_after(2):
        await call_asgi(StreamingResponse(endless()), send_fails_after=3)
    assert closed.is_set()


@pytest.mark.anyio
async def test_oserror_from_send_is_a_disconnect(caplog: pytest.LogCaptureFixture) -> None:
    closed = anyio.Event()

    async def endless() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"x"
        finally:
            closed.set()

    with caplog.at_level(logging.ERROR, logger="microweb"), anyio.fail_after(2):
        # receive() never reports the disconnect: only send() does.
        messages = await call_asgi(StreamingResponse(endless()), send_fails_after=3)
    assert len(messages) == 3
    assert closed.is_set()
    assert caplog.records == []


# --- background -----------------------------------------------------------------------------


def test_background_runs_after_the_stream() -> None:
    events: list[str] = []

    async def chunks() -> AsyncIterator[bytes]:
        events.append("body")
        yield b"x"

    response = StreamingResponse(chunks(), background=BackgroundTask(events.append, "task"))
    TestClient(response).get("/")
    assert events == ["body", "task"]


def test_background_runs_after_a_disconnect_too() -> None:
    done = threading.Event()

    async def endless() -> AsyncIterator[bytes]:
        while True:
            yield b"x"
            await anyio.sleep(0.01)

    response = StreamingResponse(endless(), background=BackgroundTask(done.set))
    with TestClient(response).stream("GET", "/") as r:
        next(r.iter_bytes())
    assert done.is_set()


# --- through the App ------------------------------------------------------------------------


def test_returned_directly_or_through_response_class() -> None:
    app = App()

    @app.get("/direct")
    async def direct() -> StreamingResponse:
        return StreamingResponse(iter(["a", "b"]), media_type="text/plain")

    @app.get("/coerced", response_class=StreamingResponse, status_code=202)
    async def coerced(request: Request) -> Iterator[str]:
        return iter(["a", "b"])

    client = TestClient(app)
    assert client.get("/direct").text == "ab"
    r = client.get("/coerced")
    assert r.status_code == 202
    assert r.text == "ab"


# --- shutdown ----------------------------------------------------------------------------------


class LifespanDriver:
    """Drives an App's lifespan: ``startup()``, then ``shutdown()``."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.to_app, self._from_test = anyio.create_memory_object_stream[Message](1)
        self._to_test, self.from_app = anyio.create_memory_object_stream[Message](1)

    async def run(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        await self.app(scope, self._from_test.receive, self._to_test.send)

    async def startup(self) -> None:
        await self.to_app.send({"type": "lifespan.startup"})
        assert (await self.from_app.receive())["type"] == "lifespan.startup.complete"

    async def shutdown(self) -> None:
        await self.to_app.send({"type": "lifespan.shutdown"})
        assert (await self.from_app.receive())["type"] == "lifespan.shutdown.complete"
        for stream in (self.to_app, self._from_test, self._to_test, self.from_app):
            stream.close()


def _endless_app(closed: anyio.Event, grace: float = 0.2) -> App:
    app = App()
    app.shutdown_grace_period = grace

    @app.get("/", response_class=StreamingResponse)
    async def endless() -> AsyncIterator[bytes]:
        async def chunks() -> AsyncIterator[bytes]:
            try:
                while True:
                    yield b"x"
                    await anyio.sleep(0.01)
            finally:
                # Stopped while it awaits, a generator is cancelled: a finally
                # that must await shields itself (docs/streaming.md).
                with anyio.CancelScope(shield=True):
                    await anyio.sleep(0)
                closed.set()

        return chunks()

    return app


@pytest.mark.anyio
async def test_lifespan_shutdown_stops_open_streams_within_the_grace_period() -> None:
    closed = anyio.Event()
    app = _endless_app(closed)
    lifespan = LifespanDriver(app)
    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(lifespan.run)
            await lifespan.startup()
            assert not app.shutdown_event.is_set()
            streams: list[list[Message]] = []

            async def stream() -> None:
                # A client that never leaves, on a server that never says so.
                streams.append(await call_asgi(app))

            group.start_soon(stream)
            await anyio.sleep(0.05)
            assert len(app._context.streams) == 1
            started = anyio.current_time()
            await lifespan.shutdown()
            took = anyio.current_time() - started
    assert app.shutdown_event.is_set()
    assert closed.is_set()
    assert len(app._context.streams) == 0
    assert 0.15 < took < 1.0
    [messages] = streams
    assert messages[0]["status"] == 200
    assert all(m.get("more_body") for m in messages[1:])  # cut, not completed


@pytest.mark.anyio
async def test_shutdown_event_lets_a_stream_say_goodbye() -> None:
    app = App()
    app.shutdown_grace_period = 5

    @app.get("/", response_class=StreamingResponse)
    async def polite() -> AsyncIterator[str]:
        async def chunks() -> AsyncIterator[str]:
            while not app.shutdown_event.is_set():
                yield "tick\n"
                with anyio.move_on_after(1):
                    await app.shutdown_event.wait()
            yield "bye\n"

        return chunks()

    lifespan = LifespanDriver(app)
    streams: list[list[Message]] = []

    async def stream() -> None:
        streams.append(await call_asgi(app))

    with anyio.fail_after(3):
        async with anyio.create_task_group() as group:
            group.start_soon(lifespan.run)
            await lifespan.startup()
            group.start_soon(stream)
            await anyio.sleep(0.05)
            await lifespan.shutdown()  # well before the 5 s grace period
    [messages] = streams
    assert body_of(messages) == b"tick\nbye\n"
    assert messages[-1]["more_body"] is False


@pytest.mark.anyio
async def test_lifespan_shutdown_without_open_streams_is_immediate() -> None:
    app = App()
    app.shutdown_grace_period = 10
    lifespan = LifespanDriver(app)
    with anyio.fail_after(2):
        async with anyio.create_task_group() as group:
            group.start_soon(lifespan.run)
            await lifespan.startup()
            await lifespan.shutdown()
    assert app.shutdown_event.is_set()


def test_testclient_lifespan_shutdown_sets_the_event_and_a_new_startup_clears_it() -> None:
    app = App()
    with TestClient(app):
        assert not app.shutdown_event.is_set()
    assert app.shutdown_event.is_set()
    with TestClient(app):
        assert not app.shutdown_event.is_set()


def test_shutdown_event_works_on_each_testclient_loop() -> None:
    app = App()

    @app.get("/", response_class=StreamingResponse)
    async def wait_a_little() -> AsyncIterator[bytes]:
        async def chunks() -> AsyncIterator[bytes]:
            with anyio.move_on_after(0.01):
                await app.shutdown_event.wait()
            yield b"ok"

        return chunks()

    client = TestClient(app)  # no `with`: a new event loop per request
    assert [client.get("/").content for _ in range(3)] == [b"ok"] * 3


def test_a_set_shutdown_event_stays_set_on_a_new_loop() -> None:
    app = App()
    with TestClient(app):
        pass  # startup, then shutdown: the event is set

    @app.get("/", response_class=StreamingResponse)
    async def state() -> Iterator[str]:
        return iter(["set" if app.shutdown_event.is_set() else "unset"])

    # Each request of a TestClient without `with` runs on its own loop.
    client = TestClient(app)
    assert [client.get("/").text for _ in range(2)] == ["set", "set"]


@pytest.mark.anyio
async def test_transmission_sends_nothing_after_the_end() -> None:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    transmission = Transmission(send, shared=True)
    await transmission.start(200, [])
    await transmission.start(500, [])  # once only
    await transmission.end()
    await transmission.body(b"late ping")  # dropped
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert sent[0]["status"] == 200
    await transmission.send_if_quiet(200, [], b"ping", 0)  # finished: dropped
    assert len(sent) == 2


@pytest.mark.anyio
async def test_send_if_quiet_starts_the_response_and_respects_recent_messages() -> None:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    transmission = Transmission(send)
    await transmission.send_if_quiet(200, [], b"ping", 0)
    assert [m.get("body") for m in sent] == [None, b"ping"]  # the status line first
    await transmission.send_if_quiet(200, [], b"ping", 60)  # sent just now: quiet
    assert len(sent) == 2


@pytest.mark.anyio
@pytest.mark.parametrize("step", ["start", "body", "pour", "end"])
async def test_the_producer_waits_while_a_ping_is_out(step: str) -> None:
    sent: list[Any] = []
    ping_out, release = anyio.Event(), anyio.Event()

    async def send(message: Message) -> None:
        if message.get("body") == b"ping":
            ping_out.set()
            await release.wait()  # the ping is held up in the server
        sent.append(message.get("body", "status line"))

    async def one() -> AsyncIterator[bytes]:
        yield b"x"

    transmission = Transmission(send, shared=True)
    steps: dict[str, Callable[[], Coroutine[Any, Any, None]]] = {
        "start": lambda: transmission.start(200, []),
        "body": lambda: transmission.body(b"x"),
        "pour": lambda: transmission.pour(one(), lambda item: item),
        "end": transmission.end,
    }
    async with anyio.create_task_group() as group:
        group.start_soon(transmission.send_if_quiet, 200, [], b"ping", 0)
        await ping_out.wait()
        group.start_soon(steps[step])
        await anyio.wait_all_tasks_blocked()
        assert sent == ["status line"]  # the pinger's; the producer's step waits
        release.set()
    after = {"start": [], "body": [b"x"], "pour": [b"x"], "end": [b""]}[step]
    assert sent == ["status line", b"ping", *after]


@pytest.mark.anyio
async def test_no_ping_while_the_producer_is_held_up_in_a_send() -> None:
    sent: list[Any] = []
    sending, release = anyio.Event(), anyio.Event()

    async def send(message: Message) -> None:
        if message.get("body") == b"event":
            sending.set()
            await release.wait()  # a slow client: the server's buffer is full
        sent.append(message.get("body", "status line"))

    transmission = Transmission(send, shared=True)
    await transmission.start(200, [])
    async with anyio.create_task_group() as group:
        group.start_soon(transmission.body, b"event")
        await sending.wait()
        await transmission.send_if_quiet(200, [], b"ping", 0)  # not quiet: sending
        release.set()
    assert sent == ["status line", b"event"]


@pytest.mark.anyio
@pytest.mark.parametrize("fails_after", [0, 1, 2])
async def test_a_send_failing_at_any_message_is_a_disconnect(fails_after: int) -> None:
    closed = anyio.Event()

    async def chunks() -> AsyncIterator[bytes]:
        try:
            yield b"a"
            yield b"b"
            yield b"c"
        finally:
            closed.set()

    # The status line, the first chunk, a later chunk: OSError (ASGI spec 2.4)
    # ends the stream quietly and closes the generator.
    messages = await call_asgi(StreamingResponse(chunks()), send_fails_after=fails_after)
    assert len(messages) == fails_after
    assert closed.is_set()


@pytest.mark.anyio
async def test_a_receive_that_raises_stops_the_stream(caplog: pytest.LogCaptureFixture) -> None:
    closed = anyio.Event()
    calls = 0

    async def endless() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"x"
                await anyio.sleep(0.01)
        finally:
            closed.set()

    async def receive() -> Message:
        nonlocal calls
        calls += 1
        if calls == 1:
            return {"type": "http.request", "body": b"", "more_body": False}
        raise RuntimeError("receive broke")

    async def send(message: Message) -> None:
        pass

    with anyio.fail_after(2):
        await StreamingResponse(endless())(http_scope(), receive, send)
    assert closed.is_set()
    assert "receive() raised while watching for a disconnect" in caplog.text


def test_an_async_iterator_without_aclose() -> None:
    class Countdown:
        def __init__(self) -> None:
            self.left = 3

        def __aiter__(self) -> Countdown:
            return self

        async def __anext__(self) -> bytes:
            if not self.left:
                raise StopAsyncIteration
            self.left -= 1
            return b"%d" % self.left

    assert TestClient(StreamingResponse(Countdown())).get("/").content == b"210"
    assert TestClient(StreamingResponse(Countdown())).head("/").content == b""


@pytest.mark.anyio
async def test_registry_cancels_streams_that_open_after_the_grace_period() -> None:
    registry = StreamRegistry()
    stuck = anyio.CancelScope()
    registry.add(stuck)
    with anyio.fail_after(2):
        await registry.shutdown(0.01)  # logs that one is still closing
    assert stuck.cancel_called
    late = anyio.CancelScope()
    registry.add(late)
    assert late.cancel_called
    registry.discard(stuck)
    registry.discard(late)
    assert len(registry) == 0
    registry.reset()
    assert not registry.shutdown_event.is_set()


# --- regressions ---------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])  # helper tasks are asyncio's
@pytest.mark.parametrize("response_class", [StreamingResponse, EventSourceResponse])
@pytest.mark.parametrize("client_leaves", [False, True])
async def test_helper_tasks_have_ended_when_the_background_task_starts(
    response_class: type[StreamingResponse], client_leaves: bool
) -> None:
    before = asyncio.all_tasks()
    gone = anyio.Event()
    left_pending: list[asyncio.Task[Any]] = []

    async def chunks() -> AsyncIterator[str]:
        yield "a"
        await anyio.sleep(0.01)  # the loop runs: the watcher (and the pinger) start
        if client_leaves:
            gone.set()
            await anyio.sleep(10)  # stopped here by the disconnect
        yield "b"

    async def inspect_tasks() -> None:
        current = asyncio.current_task()
        left_pending.extend(
            task
            for task in asyncio.all_tasks() - before
            if task is not current and not task.done()
        )

    response = response_class(chunks(), background=BackgroundTask(inspect_tasks))
    with anyio.fail_after(5):
        await call_asgi(response, disconnect=gone)
    assert left_pending == []


@pytest.mark.anyio
async def test_a_scope_without_a_method_is_answered_as_a_get() -> None:
    response = StreamingResponse(iter([b"a", b"b"]))

    async def without_method(scope: Scope, receive: Receive, send: Send) -> None:
        del scope["method"]
        await response(scope, receive, send)

    messages = await call_asgi(without_method)
    assert messages[0]["status"] == 200
    assert body_of(messages) == b"ab"


# --- a producer that waits inside cancel scopes of its own -----------------------------
# On asyncio the stream's scope is entered only once the producer first waits
# (responses/_late_scope.py); these producers first wait inside scopes they opened.


async def _call_and_leave(app: Any) -> list[Message]:
    """``call_asgi(app)``, the client leaving after 0.05 s; 2 s at most in all."""
    disconnect = anyio.Event()
    with anyio.fail_after(2):
        async with anyio.create_task_group() as group:
            group.start_soon(_set_after, disconnect, 0.05)
            messages = await call_asgi(app, disconnect=disconnect)
    return messages


@pytest.mark.anyio
async def test_disconnect_stops_a_generator_waiting_inside_its_own_scope(
    caplog: pytest.LogCaptureFixture,
) -> None:
    closed = anyio.Event()

    async def chunks() -> AsyncIterator[bytes]:
        try:
            yield b"first"
            with anyio.move_on_after(60):  # the first wait: inside a scope of its own
                await anyio.sleep(60)
            yield b"never"  # pragma: no cover
        finally:
            closed.set()

    with caplog.at_level(logging.ERROR, logger="microweb"):
        messages = await _call_and_leave(StreamingResponse(chunks()))
    assert closed.is_set()
    assert [m["body"] for m in messages[1:]] == [b"first"]
    assert caplog.records == []


@pytest.mark.anyio
async def test_a_shield_in_the_generator_holds_off_the_disconnect_until_it_ends() -> None:
    shielded_done, closed = anyio.Event(), anyio.Event()

    async def chunks() -> AsyncIterator[bytes]:
        try:
            yield b"first"
            with anyio.CancelScope(shield=True):  # the disconnect comes in here
                await anyio.sleep(0.2)
                shielded_done.set()
            await anyio.sleep(60)  # cancelled: the stream was stopped meanwhile
            yield b"never"  # pragma: no cover
        finally:
            closed.set()

    messages = await _call_and_leave(StreamingResponse(chunks()))
    assert shielded_done.is_set()
    assert closed.is_set()
    assert [m["body"] for m in messages[1:]] == [b"first"]


@pytest.mark.anyio
async def test_a_stopped_generator_is_cancelled_again_at_each_wait() -> None:
    caught, closed = anyio.Event(), anyio.Event()

    async def chunks() -> AsyncIterator[bytes]:
        try:
            with anyio.CancelScope():
                try:
                    await anyio.sleep(60)  # the first wait, before any chunk
                except anyio.get_cancelled_exc_class():
                    caught.set()
                    await anyio.sleep(60)  # cancelled again (level-triggered)
                    raise  # pragma: no cover
            yield b"never"  # pragma: no cover
        finally:
            closed.set()

    messages = await _call_and_leave(StreamingResponse(chunks()))
    assert caught.is_set()
    assert closed.is_set()
    assert messages == []


@pytest.mark.anyio
async def test_shutdown_stops_a_generator_waiting_inside_a_task_group_of_its_own() -> None:
    closed = anyio.Event()

    async def chunks() -> AsyncIterator[bytes]:
        try:
            yield b"first"
            async with anyio.create_task_group() as group:
                group.start_soon(anyio.sleep, 60)
            yield b"never"  # pragma: no cover
        finally:
            closed.set()

    app = App()

    @app.get("/")
    async def endless() -> StreamingResponse:
        return StreamingResponse(chunks())

    registry = app._context.streams
    sent: list[list[Message]] = []
    with anyio.fail_after(3):
        async with anyio.create_task_group() as group:
            group.start_soon(lambda: _collect(sent, call_asgi(app)))
            await anyio.sleep(0.05)
            assert len(registry) == 1
            await registry.shutdown(0.05)  # the App's own lifespan.shutdown step
    assert closed.is_set()
    assert len(registry) == 0
    assert body_of(sent[0]) == b"first"


async def _collect(into: list[list[Message]], call: Coroutine[Any, Any, list[Message]]) -> None:
    into.append(await call)


@pytest.mark.anyio
async def test_the_callers_scopes_are_as_they_were_after_a_stream() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"a"
        with anyio.move_on_after(0.01):
            await anyio.sleep(60)
        yield b"b"

    with anyio.fail_after(2), anyio.CancelScope() as outer:
        messages = await call_asgi(StreamingResponse(chunks()))
        await anyio.sleep(0)  # a checkpoint: nothing is left cancelled in here
    assert not outer.cancel_called
    assert body_of(messages) == b"ab"


def test_late_entry_only_on_the_anyio_release_the_tests_cover() -> None:
    from microweb.responses import _late_scope

    assert _late_scope._tested_anyio("4.16.0")
    assert _late_scope._tested_anyio("4.5")
    assert not _late_scope._tested_anyio("5.0.0")
    assert not _late_scope._tested_anyio("3.7.1")
    assert not _late_scope._tested_anyio("")
    # The anyio installed here is one of them: streams take the late path in these tests.
    assert _late_scope._tested_anyio(_late_scope._anyio_version())
