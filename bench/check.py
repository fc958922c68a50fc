"""The correctness check: a benchmark of a wrong answer is void.

Every app must answer every endpoint with the status, content type and body
``bench.endpoints`` describes: JSON compared parsed, bytes exactly, SSE by its
parsed events (comments such as keep-alive pings ignored). The content type is
compared exactly, media type and parameters; a charset parameter may differ
only where ``CHARSET_EXCEPTIONS`` says the framework cannot be told otherwise.

``verify()`` checks one app in-process and returns the problems found (empty
when the app is right); the HTTP benchmark checks the served app the same way
with ``compare()`` before loading it.

A conditional endpoint (``etag_of``) is made with ``If-None-Match`` set to
the ETag the app itself gave for that path: ``with_etag()`` builds that
request once the ETag is known (fetched first, in-process or over HTTP).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.driver import ASGIApp, Request, call
from bench.endpoints import (
    ECHO_PAYLOAD,
    ITEM_ID,
    ITEM_PAYLOAD,
    ITEM_QUERY,
    JSON_MESSAGE,
    LAST_ROUTE,
    OCTET_STREAM,
    PLAINTEXT,
    PUSH_MESSAGE,
    SSE_EVENTS,
    STATIC_FILES,
    STATIC_PREFIX,
    STREAM_BODY,
    WEBSOCKET_ECHO,
    WEBSOCKET_MESSAGES,
    WEBSOCKET_PUSH,
    file_content,
    sse_event,
    static_dir,
)

JSON_HEADERS = ((b"content-type", b"application/json"),)


@dataclass(frozen=True)
class Endpoint:
    """One benchmarked endpoint: the request made and the answer expected."""

    name: str  # as shown in the tables
    request: Request
    content_type: str
    kind: str  # how bodies compare: "text", "json", "bytes" or "sse"
    expected: Any  # the body: str, a JSON value, bytes, or a list of SSE events
    status: int = 200
    etag_of: str | None = None  # made with If-None-Match: the ETag of this path


def with_etag(target: Endpoint, etag: str) -> Endpoint:
    """``target`` with its ``If-None-Match`` header set to ``etag``."""
    request = dataclasses.replace(
        target.request, headers=(*target.request.headers, (b"if-none-match", etag.encode()))
    )
    return dataclasses.replace(target, request=request)


def static_endpoints() -> list[Endpoint]:
    """The files of ``/static/``, and the 304 for the small one."""
    folder = static_dir()
    found = [
        Endpoint(
            f"{STATIC_PREFIX}/{name}",
            Request("GET", f"{STATIC_PREFIX}/{name}"),
            OCTET_STREAM,
            "bytes",
            (folder / name).read_bytes(),
        )
        for name in STATIC_FILES
    ]
    small = found[0].name
    found.append(Endpoint(f"{small} 304", Request("GET", small), "", "empty", b"", 304, small))
    return found


def endpoints() -> list[Endpoint]:
    """The timed endpoints, in the order of the tables."""
    routed = f"/r{LAST_ROUTE}/items/{ITEM_ID}"
    return [
        Endpoint(
            "/plaintext",
            Request("GET", "/plaintext"),
            "text/plain; charset=utf-8",
            "text",
            PLAINTEXT,
        ),
        Endpoint("/json", Request("GET", "/json"), "application/json", "json", JSON_MESSAGE),
        Endpoint(
            "/items/5?q=",
            Request("GET", f"/items/{ITEM_ID}?q={ITEM_QUERY}"),
            "application/json",
            "json",
            {"item_id": ITEM_ID, "q": ITEM_QUERY},
        ),
        Endpoint(
            routed,
            Request("GET", routed),
            "application/json",
            "json",
            {"route": LAST_ROUTE, "item_id": str(ITEM_ID)},
        ),
        Endpoint(
            "POST /echo",
            Request("POST", "/echo", json.dumps(ECHO_PAYLOAD).encode(), JSON_HEADERS),
            "application/json",
            "json",
            ECHO_PAYLOAD,
        ),
        Endpoint(
            "POST /items",
            Request("POST", "/items", json.dumps(ITEM_PAYLOAD).encode(), JSON_HEADERS),
            "application/json",
            "json",
            ITEM_PAYLOAD,
        ),
        Endpoint("/file", Request("GET", "/file"), OCTET_STREAM, "bytes", file_content()),
        Endpoint(
            "/stream", Request("GET", "/stream"), OCTET_STREAM, "bytes", b"".join(STREAM_BODY)
        ),
        Endpoint(
            "/sse",
            Request("GET", "/sse"),
            "text/event-stream",
            "sse",
            [
                dict(zip(("event", "id", "data"), sse_event(i), strict=True))
                for i in range(SSE_EVENTS)
            ],
        ),
        *static_endpoints(),
    ]


def endpoint(name: str) -> Endpoint:
    """The endpoint called ``name`` (``/json``) or requested as ``name`` (``/items/5?q=hello``)."""
    for candidate in endpoints():
        if name in (candidate.name, candidate.request.target):
            return candidate
    known = ", ".join(e.name for e in endpoints())
    raise ValueError(f"unknown endpoint {name!r}; expected one of {known}")


# (app, endpoint name) -> why its content type may carry "; charset=utf-8" where
# the others do not. Every other framework here can be told the exact type.
CHARSET_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("microweb", "/sse"): "SPEC: a text/* media type gets '; charset=utf-8', and the "
    "response_class form (return the events) takes no headers",
    ("fastapi", "/sse"): "EventSourceResponse is text/event-stream, to which Starlette appends "
    "a charset; the yielding path operation takes no headers",
}


# (app, endpoint name) -> why the app is not asked that: its framework has no
# such feature. The app gets no figure there (a dash in the tables).
UNSUPPORTED: dict[tuple[str, str], str] = {
    ("litestar", "/static/4k.bin 304"): "Litestar's static files send an ETag but "
    "ignore If-None-Match: always a 200 with the whole file",
}


def supported(app: str, target: Endpoint) -> bool:
    """Whether ``app`` is asked ``target`` (see ``UNSUPPORTED``)."""
    return (app, target.name) not in UNSUPPORTED


def compare(
    app: str,
    target: Endpoint,
    status: int,
    content_type: str | None,
    body: bytes,
) -> list[str]:
    """What is wrong with one answer (empty when it is right)."""
    where = f"{app} {target.name}"
    if status != target.status:
        return [f"{where}: status {status}, expected {target.status} (body {body[:200]!r})"]
    problems = []
    # RFC 9110 §15.4.5: a 304 may carry the content type or not.
    if target.status != 304 and not _same_content_type(app, target, content_type):
        problems.append(
            f"{where}: content-type {content_type!r}, expected {target.content_type!r}"
        )
    try:
        got = _parse(target.kind, body)
    except ValueError as exc:
        problems.append(f"{where}: body does not parse as {target.kind}: {exc}")
        return problems
    if got != target.expected:
        shown = repr(got) if target.kind != "bytes" else f"{len(body)} bytes"
        expected = (
            repr(target.expected) if target.kind != "bytes" else f"{len(target.expected)} bytes"
        )
        problems.append(f"{where}: body {shown[:300]}, expected {expected[:300]}")
    return problems


async def concrete(
    app: ASGIApp, target: Endpoint, state: dict[str, Any] | None = None
) -> Endpoint:
    """``target`` as it is made to ``app``: with the ETag ``app`` gives, if it is conditional."""
    if target.etag_of is None:
        return target
    answer = await call(app, Request("GET", target.etag_of), state)
    etag = answer.header(b"etag")
    if answer.status != 200 or etag is None:
        raise LookupError(f"GET {target.etag_of} answered {answer.status} with no ETag")
    return with_etag(target, etag.decode("latin-1"))


async def verify_endpoint(
    name: str, app: ASGIApp, target: Endpoint, state: dict[str, Any] | None = None
) -> list[str]:
    """Every problem with ``app``'s answer to ``target`` (empty when it is right)."""
    try:
        target = await concrete(app, target, state)
        answer = await call(app, target.request, state)
    except Exception as exc:  # any failure of the app is a failed check
        return [f"{name} {target.name}: raised {type(exc).__name__}: {exc}"]
    problems = []
    if not answer.complete:
        problems.append(f"{name} {target.name}: the response never completed")
    content_type = answer.header(b"content-type")
    problems += compare(
        name,
        target,
        answer.status,
        content_type.decode("latin-1") if content_type is not None else None,
        answer.body,
    )
    return problems


async def verify(name: str, app: ASGIApp, state: dict[str, Any] | None = None) -> list[str]:
    """Every problem with ``app``'s answers to the timed endpoints, and a 404 for no route."""
    problems: list[str] = []
    for target in endpoints():
        if supported(name, target):
            problems += await verify_endpoint(name, app, target, state)
    missing = await call(app, Request("GET", "/no/such/path"), state)
    if missing.status != 404:
        problems.append(f"{name} GET /no/such/path: status {missing.status}, expected 404")
    return problems


def websocket_scope(target: str, state: dict[str, Any] | None = None) -> dict[str, Any]:
    """The scope of a WebSocket handshake for ``target`` (a path with an optional query)."""
    path, _, query = target.partition("?")
    return {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": "ws",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": [(b"host", b"127.0.0.1:8000")],
        "subprotocols": [],
        "state": dict(state or {}),
        "extensions": {},
    }


async def _session(
    app: ASGIApp, target: str, incoming: list[dict[str, Any]], state: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """What ``app`` sends for a WebSocket at ``target`` given ``incoming``, then silence.

    As one client that waits for each answer: a text message is delivered
    only once every text before it was answered (Falcon reads ahead, and
    would see the disconnect at the end before it echoed anything).
    """
    incoming = [{"type": "websocket.connect"}, *incoming]
    sent: list[dict[str, Any]] = []
    changed = asyncio.Event()
    delivered = 0

    def replies() -> int:
        return sum(1 for message in sent if message["type"] == "websocket.send")

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        while replies() < delivered and not (sent and sent[-1]["type"] == "websocket.close"):
            changed.clear()
            await changed.wait()
        if incoming:
            message = incoming.pop(0)
            delivered += message["type"] == "websocket.receive"
            return message
        while not sent or sent[-1]["type"] != "websocket.close":
            changed.clear()  # as a server: the client leaves once the app has closed
            await changed.wait()
        return {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        changed.set()

    await asyncio.wait_for(app(websocket_scope(target, state), receive, send), 5)
    return sent


async def verify_websocket(
    name: str, app: ASGIApp, state: dict[str, Any] | None = None
) -> list[str]:
    """Every problem with ``app``'s WebSocket echo (``bench.endpoints``); empty when right.

    The app is driven as a server would: ``websocket.connect``, each message
    of ``WEBSOCKET_MESSAGES``, then ``websocket.disconnect``; it must accept,
    then send each message back, in order.
    """
    incoming: list[dict[str, Any]] = [
        {"type": "websocket.receive", "text": text} for text in WEBSOCKET_MESSAGES
    ]
    incoming.append({"type": "websocket.disconnect", "code": 1000})
    where = f"{name} WS {WEBSOCKET_ECHO}"
    try:
        sent = await _session(app, WEBSOCKET_ECHO, incoming, state)
    except Exception as exc:  # any failure of the app is a failed check
        return [f"{where}: raised {type(exc).__name__}: {exc}"]
    kinds = [message["type"] for message in sent]
    if kinds[:1] != ["websocket.accept"]:
        return [f"{where}: sent {kinds[:3]}, expected 'websocket.accept' first"]
    echoed = [message.get("text") for message in sent[1:] if message["type"] == "websocket.send"]
    if echoed != WEBSOCKET_MESSAGES:
        return [f"{where}: echoed {echoed!r:.300}, expected {WEBSOCKET_MESSAGES!r:.300}"]
    return []


async def verify_push(
    name: str, app: ASGIApp, state: dict[str, Any] | None = None, count: int = 25
) -> list[str]:
    """Every problem with ``app``'s ``/ws/push?n=count``: accept, ``count`` texts, close 1000."""
    target = f"{WEBSOCKET_PUSH}?n={count}"
    where = f"{name} WS {target}"
    try:
        sent = await _session(app, target, [], state)
    except Exception as exc:  # any failure of the app is a failed check
        return [f"{where}: raised {type(exc).__name__}: {exc}"]
    expected = [
        ("websocket.accept", None),
        *[("websocket.send", PUSH_MESSAGE)] * count,
        ("websocket.close", None),
    ]
    got = [(m["type"], m.get("text")) for m in sent]
    if got != expected:
        return [f"{where}: sent {got!r:.300}, expected {expected!r:.300}"]
    if sent[-1].get("code", 1000) != 1000:
        return [f"{where}: closed with {sent[-1].get('code')}, expected 1000"]
    return []


def _same_content_type(app: str, target: Endpoint, got: str | None) -> bool:
    if got is None:
        return False
    normal = _normalise(got)
    if normal == _normalise(target.content_type):
        return True
    if (app, target.name) in CHARSET_EXCEPTIONS:
        return _strip_charset(normal) == _strip_charset(_normalise(target.content_type))
    return False


def _normalise(content_type: str) -> str:
    return ";".join(part.strip().lower() for part in content_type.split(";") if part.strip())


def _strip_charset(content_type: str) -> str:
    return ";".join(p for p in content_type.split(";") if not p.startswith("charset="))


def _parse(kind: str, body: bytes) -> Any:
    parsers: dict[str, Callable[[bytes], Any]] = {
        "text": lambda b: b.decode("utf-8"),
        "json": json.loads,
        "bytes": lambda b: b,
        "empty": lambda b: b,
        "sse": parse_sse,
    }
    return parsers[kind](body)


def parse_sse(body: bytes) -> list[dict[str, str]]:
    """The events of a text/event-stream body, as the HTML standard's parser sees them.

    Each event is a dict of the fields it set (``event``, ``id``, ``data``,
    ``retry``); comments are dropped, and so are blocks with no field (the
    dispatch of an event with no data line does nothing in a browser).
    """
    events: list[dict[str, str]] = []
    text = body.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    for block in text.split("\n\n"):
        event: dict[str, str] = {}
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data" and "data" in event:
                event["data"] += "\n" + value
            else:
                event[name] = value
        if "data" in event:
            events.append(event)
    return events
