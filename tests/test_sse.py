"""EventSourceResponse and ServerSentEvent (microweb.responses._sse).

The framing is checked against a parser written from the WHATWG HTML
"Server-sent events" interpretation rules (§9.2.6), the one browsers run.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest
from asgi_helpers import call_asgi
from hypothesis import given
from hypothesis import strategies as st

from microweb import App, HTTPException, Request
from microweb.background import BackgroundTask
from microweb.responses import EventSourceResponse, ServerSentEvent, StreamingResponse
from microweb.responses._sse import encode_event
from microweb.responses._stream import Transmission
from microweb.testclient import TestClient
from microweb.types import Message


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """The raw ASGI tests of streams run on asyncio (helper tasks) and trio (a task group)."""
    return str(request.param)


def parse_event_stream(text: str) -> list[dict[str, str]]:
    """Dispatched events as a browser sees them: type, data and last event id."""
    events: list[dict[str, str]] = []
    data, event_type, last_id = "", "", ""
    for line in re.split(r"\r\n|\r|\n", text):
        if line == "":
            if data:
                events.append({"type": event_type or "message", "data": data[:-1], "id": last_id})
            data, event_type = "", ""
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "data":
            data += value + "\n"
        elif field == "event":
            event_type = value
        elif field == "id" and "\0" not in value:
            last_id = value
    return events


# --- framing -------------------------------------------------------------------------


def test_dict_event_framing() -> None:
    frame = encode_event({"event": "update", "data": "hi", "id": "1", "retry": 3000})
    assert frame == b"id: 1\nevent: update\nretry: 3000\ndata: hi\n\n"


def test_str_item_is_the_data() -> None:
    assert encode_event("hello") == b"data: hello\n\n"
    assert encode_event("") == b"data: \n\n"


def test_non_str_data_is_json() -> None:
    assert ServerSentEvent({"a": [1, "é"]}).encode() == 'data: {"a":[1,"é"]}\n\n'.encode()
    assert ServerSentEvent(3).encode() == b"data: 3\n\n"
    assert ServerSentEvent([None, True]).encode() == b"data: [null,true]\n\n"
    with pytest.raises(TypeError, match="object"):
        ServerSentEvent(object()).encode()


def test_multi_line_data_becomes_several_data_lines() -> None:
    frame = ServerSentEvent("one\ntwo\r\nthree\rfour").encode()
    assert frame == b"data: one\ndata: two\ndata: three\ndata: four\n\n"
    assert parse_event_stream(frame.decode()) == [
        {"type": "message", "data": "one\ntwo\nthree\nfour", "id": ""}
    ]


def test_line_separator_characters_the_parser_keeps_are_not_split() -> None:
    frame = ServerSentEvent("a\u2028b\x0bc").encode()
    assert frame == "data: a\u2028b\x0bc\n\n".encode()


def test_comments_and_leading_spaces() -> None:
    frame = ServerSentEvent(" padded", comment="note\nsecond").encode()
    assert frame == b": note\n: second\ndata:  padded\n\n"
    assert parse_event_stream(frame.decode())[0]["data"] == " padded"
    assert ServerSentEvent(comment="just a comment").encode() == b": just a comment\n\n"
    assert parse_event_stream(": just a comment\n\n") == []


def test_empty_id_resets_and_empty_event_is_a_blank_line() -> None:
    assert ServerSentEvent(id="").encode() == b"id: \n\n"
    assert ServerSentEvent().encode() == b"\n"


@pytest.mark.parametrize(
    ("fields", "error", "match"),
    [
        ({"event": "a\nb"}, ValueError, "event may not contain CR or LF"),
        ({"event": "a\rb"}, ValueError, "event may not contain CR or LF"),
        ({"id": "1\n2"}, ValueError, "id may not contain CR or LF"),
        ({"id": "1\x002"}, ValueError, "NUL"),
        ({"retry": -1}, ValueError, "negative"),
        ({"retry": 1.5}, TypeError, "int"),
        ({"retry": True}, TypeError, "int"),
        ({"event": 3}, TypeError, "event must be a str"),
        ({"comment": 3}, TypeError, "comment must be a str"),
    ],
)
def test_bad_fields_are_refused(
    fields: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        ServerSentEvent(**fields)
    with pytest.raises(error, match=match):
        encode_event(fields)


def test_unknown_items_and_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown server-sent event field"):
        encode_event({"data": "x", "name": "y"})
    with pytest.raises(TypeError, match="not bytes"):
        encode_event(b"raw")
    with pytest.raises(TypeError, match="not int"):
        encode_event(5)


def test_event_equality_and_repr() -> None:
    assert ServerSentEvent("a", event="e") == ServerSentEvent("a", event="e")
    assert ServerSentEvent("a") != ServerSentEvent("b")
    assert ServerSentEvent("a").__eq__("a") is NotImplemented
    assert repr(ServerSentEvent("a", id="1")) == "ServerSentEvent(data='a', id='1')"


_line_text = st.text(st.characters(codec="utf-8", exclude_characters="\r\n"))


@given(
    data=st.text(st.characters(codec="utf-8")).filter(bool),
    event=_line_text.filter(bool),
    event_id=_line_text.filter(lambda s: "\0" not in s),
)
def test_what_a_browser_parses_is_what_was_sent(data: str, event: str, event_id: str) -> None:
    frame = ServerSentEvent(data, event=event, id=event_id).encode().decode("utf-8")
    expected_data = re.sub(r"\r\n|\r", "\n", data)
    assert parse_event_stream(frame) == [{"type": event, "data": expected_data, "id": event_id}]


# --- the response ----------------------------------------------------------------------


def test_headers() -> None:
    response = EventSourceResponse(iter([]))
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    assert "content-length" not in response.headers
    assert isinstance(response, StreamingResponse)
    given = EventSourceResponse(iter([]), headers={"cache-control": "no-store"})
    assert given.headers.getlist("cache-control") == ["no-store"]


@pytest.mark.parametrize("ping", [0, -1, "15", True])
def test_bad_ping_refused(ping: Any) -> None:
    with pytest.raises(ValueError, match="ping must be a positive number"):
        EventSourceResponse(iter([]), ping=ping)


def test_a_stream_of_mixed_items() -> None:
    async def events() -> AsyncIterator[Any]:
        yield "plain"
        yield {"event": "json", "data": {"n": 1}}
        yield ServerSentEvent("obj", id="7")

    r = TestClient(EventSourceResponse(events())).get("/")
    assert r.status_code == 200
    assert parse_event_stream(r.text) == [
        {"type": "message", "data": "plain", "id": ""},
        {"type": "json", "data": '{"n":1}', "id": ""},
        {"type": "message", "data": "obj", "id": "7"},
    ]


def test_sync_generator_of_events_runs_in_a_worker_thread() -> None:
    threads: list[int] = []

    def events() -> Iterator[str]:
        threads.append(threading.get_ident())
        yield "a"

    assert TestClient(EventSourceResponse(events())).get("/").text == "data: a\n\n"
    assert threads[0] != threading.get_ident()


@pytest.mark.anyio
async def test_pings_fill_the_silence_between_events() -> None:
    async def slow() -> AsyncIterator[str]:
        yield "first"
        await anyio.sleep(0.35)
        yield "second"

    messages = await call_asgi(EventSourceResponse(slow(), ping=0.1))
    bodies = [m["body"] for m in messages[1:]]
    assert bodies[0] == b"data: first\n\n"
    assert bodies[-2] == b"data: second\n\n"
    assert 2 <= bodies.count(b": ping\n\n") <= 3
    assert bodies.index(b"data: second\n\n") == len(bodies) - 2
    assert messages[-1]["more_body"] is False


@pytest.mark.anyio
async def test_a_slow_first_event_gets_the_status_line_and_a_ping_first() -> None:
    stamps: list[tuple[float, Message]] = []
    start = anyio.current_time()

    async def slow() -> AsyncIterator[str]:
        await anyio.sleep(0.25)
        yield "late"

    async def app(scope: Any, receive: Any, send: Any) -> None:
        async def stamped(message: Message) -> None:
            stamps.append((anyio.current_time() - start, message))
            await send(message)

        await EventSourceResponse(slow(), ping=0.1)(scope, receive, stamped)

    await call_asgi(app)
    (t_start, start_message), (_, ping_message) = stamps[0], stamps[1]
    assert start_message["type"] == "http.response.start"
    assert ping_message["body"] == b": ping\n\n"
    assert 0.09 < t_start < 0.2  # after one ping interval, not at the first event
    (t_event, event), (_, final) = stamps[-2], stamps[-1]
    assert event["body"] == b"data: late\n\n"
    assert t_event >= 0.25
    assert final["more_body"] is False
    pings = [m for _, m in stamps[1:-2]]
    assert pings
    assert all(m["body"] == b": ping\n\n" for m in pings)


@pytest.mark.anyio
async def test_after_the_first_ping_an_error_cuts_the_stream(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def failing() -> AsyncIterator[str]:
        await anyio.sleep(0.2)
        raise LookupError("late failure")
        yield "never"  # pragma: no cover

    with caplog.at_level(logging.ERROR, logger="microweb"):
        messages = await call_asgi(EventSourceResponse(failing(), ping=0.05))
    assert messages[0]["status"] == 200
    assert all(m["more_body"] for m in messages[1:])
    assert [r.exc_info[0] for r in caplog.records if r.exc_info] == [LookupError]


@pytest.mark.anyio
async def test_without_ping_nothing_is_sent_until_the_first_event() -> None:
    async def slow() -> AsyncIterator[str]:
        await anyio.sleep(0.2)
        yield "only"

    messages = await call_asgi(EventSourceResponse(slow(), ping=None))
    assert [m.get("body") for m in messages[1:]] == [b"data: only\n\n", b""]


@pytest.mark.anyio
async def test_error_before_the_first_event_is_raised_with_nothing_sent() -> None:
    async def failing() -> AsyncIterator[str]:
        raise LookupError("early")
        yield "never"  # pragma: no cover

    with pytest.raises(LookupError, match="early"):
        await call_asgi(EventSourceResponse(failing()))

    with pytest.raises(ValueError, match="CR or LF"):
        await call_asgi(EventSourceResponse(iter([{"event": "bad\n"}])))


def test_http_exception_before_the_first_event_in_an_app() -> None:
    app = App()

    @app.get("/events", response_class=EventSourceResponse)
    async def events() -> AsyncIterator[str]:
        async def gen() -> AsyncIterator[str]:
            raise HTTPException(403, "not yours")
            yield "never"  # pragma: no cover

        return gen()

    r = TestClient(app).get("/events")
    assert r.status_code == 403
    assert r.json() == {"detail": "not yours"}


def test_disconnect_closes_the_generator() -> None:
    closed = threading.Event()

    async def endless() -> AsyncIterator[dict[str, Any]]:
        number = 0
        try:
            while True:
                yield {"id": str(number), "data": number}
                number += 1
                await anyio.sleep(0.01)
        finally:
            closed.set()

    with TestClient(EventSourceResponse(endless())).stream("GET", "/") as r:
        lines = r.iter_lines()
        assert next(lines) == "id: 0"
        assert next(lines) == "data: 0"
    assert closed.wait(1)


def test_last_event_id_is_read_from_the_request_headers() -> None:
    app = App()

    @app.get("/events", response_class=EventSourceResponse)
    async def events(request: Request) -> Iterator[ServerSentEvent]:
        last = int(request.headers.get("last-event-id", "-1"))
        return iter([ServerSentEvent(str(n), id=str(n)) for n in range(last + 1, last + 3)])

    client = TestClient(app)
    assert [e["id"] for e in parse_event_stream(client.get("/events").text)] == ["0", "1"]
    resumed = client.get("/events", headers={"Last-Event-ID": "41"})
    assert [e["id"] for e in parse_event_stream(resumed.text)] == ["42", "43"]


def test_same_bytes_returned_directly_or_through_response_class() -> None:
    app = App()

    def events() -> Iterator[dict[str, Any]]:
        yield {"event": "a", "data": {"x": 1}, "id": "1"}
        yield {"data": "two\nlines"}

    @app.get("/direct")
    async def direct() -> EventSourceResponse:
        return EventSourceResponse(events())

    @app.get("/coerced", response_class=EventSourceResponse)
    async def coerced() -> Iterator[dict[str, Any]]:
        return events()

    client = TestClient(app)
    direct_response, coerced_response = client.get("/direct"), client.get("/coerced")
    assert direct_response.content == coerced_response.content
    assert direct_response.headers == coerced_response.headers


def test_head_sends_headers_without_starting_the_generator() -> None:
    app = App()
    started: list[bool] = []

    @app.get("/events", response_class=EventSourceResponse)
    async def events() -> AsyncIterator[str]:
        async def gen() -> AsyncIterator[str]:
            started.append(True)  # pragma: no cover
            yield "x"  # pragma: no cover

        return gen()

    r = TestClient(app).head("/events")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert r.content == b""
    assert started == []


def test_background_runs_after_the_stream() -> None:
    order: list[str] = []

    def events() -> Iterator[str]:
        order.append("events")
        yield "x"

    response = EventSourceResponse(events(), background=BackgroundTask(order.append, "task"))
    TestClient(response).get("/")
    assert order == ["events", "task"]


def test_pinger_stops_when_the_stream_ends() -> None:
    # A stream that ends quickly with a short ping leaves no pinger behind.
    start = time.monotonic()
    r = TestClient(EventSourceResponse(iter(["a"]), ping=0.01)).get("/")
    assert r.text == "data: a\n\n"
    assert time.monotonic() - start < 1


def test_given_x_accel_buffering_wins() -> None:
    response = EventSourceResponse(iter([]), headers={"x-accel-buffering": "yes"})
    assert response.headers.getlist("x-accel-buffering") == ["yes"]


@pytest.mark.anyio
async def test_a_failing_ping_is_a_disconnect() -> None:
    closed = anyio.Event()

    async def slow() -> AsyncIterator[str]:
        try:
            await anyio.sleep(60)
            yield "never"  # pragma: no cover
        finally:
            closed.set()

    with anyio.fail_after(2):
        # The status line and one ping go through, the next ping finds the client gone.
        messages = await call_asgi(EventSourceResponse(slow(), ping=0.02), send_fails_after=2)
    assert [m.get("body") for m in messages[1:]] == [b": ping\n\n"]
    assert closed.is_set()


@pytest.mark.anyio
async def test_the_pinger_returns_once_the_stream_is_finished() -> None:
    async def send(message: Message) -> None:
        pass

    transmission = Transmission(send, shared=True)
    await transmission.end()
    with anyio.fail_after(1):
        await EventSourceResponse(iter([]))._keep_alive(transmission, 0.01)


@pytest.mark.anyio
async def test_a_failing_event_send_is_a_disconnect() -> None:
    closed = anyio.Event()

    async def ticks() -> AsyncIterator[str]:
        try:
            for n in range(10):
                yield str(n)
        finally:
            closed.set()

    messages = await call_asgi(EventSourceResponse(ticks()), send_fails_after=3)
    assert [m.get("body") for m in messages[1:]] == [b"data: 0\n\n", b"data: 1\n\n"]
    assert closed.is_set()


@pytest.mark.anyio
async def test_a_pinger_that_raises_stops_the_stream(caplog: pytest.LogCaptureFixture) -> None:
    class BrokenPinger(EventSourceResponse):
        async def _keep_alive(self, transmission: Transmission, ping: float) -> None:
            raise RuntimeError("the pinger broke")

    closed = anyio.Event()

    async def endless() -> AsyncIterator[str]:
        try:
            while True:
                yield "tick"
                await anyio.sleep(0.01)
        finally:
            closed.set()

    with anyio.fail_after(2):
        await call_asgi(BrokenPinger(endless()))
    assert closed.is_set()
    assert "a helper of a streamed response raised" in caplog.text
