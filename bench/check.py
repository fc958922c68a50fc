"""The correctness check: a benchmark of a wrong answer is void.

Every app must answer every endpoint with the status, content type and body
``bench.endpoints`` describes: JSON compared parsed, bytes exactly, SSE by its
parsed events (comments such as keep-alive pings ignored). The content type is
compared exactly, media type and parameters; a charset parameter may differ
only where ``CHARSET_EXCEPTIONS`` says the framework cannot be told otherwise.

``verify()`` checks one app in-process and returns the problems found (empty
when the app is right); the HTTP benchmark checks the served app the same way
with ``compare()`` before loading it.
"""

from __future__ import annotations

import asyncio
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
    SSE_EVENTS,
    STREAM_BODY,
    WEBSOCKET_ECHO,
    WEBSOCKET_MESSAGES,
    file_content,
    sse_event,
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


def compare(
    app: str,
    target: Endpoint,
    status: int,
    content_type: str | None,
    body: bytes,
) -> list[str]:
    """What is wrong with one answer (empty when it is right)."""
    where = f"{app} {target.name}"
    if status != 200:
        return [f"{where}: status {status}, expected 200 (body {body[:200]!r})"]
    problems = []
    if not _same_content_type(app, target, content_type):
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


async def verify_endpoint(
    name: str, app: ASGIApp, target: Endpoint, state: dict[str, Any] | None = None
) -> list[str]:
    """Every problem with ``app``'s answer to ``target`` (empty when it is right)."""
    try:
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
        problems += await verify_endpoint(name, app, target, state)
    missing = await call(app, Request("GET", "/no/such/path"), state)
    if missing.status != 404:
        problems.append(f"{name} GET /no/such/path: status {missing.status}, expected 404")
    return problems


async def verify_websocket(
    name: str, app: ASGIApp, state: dict[str, Any] | None = None
) -> list[str]:
    """Every problem with ``app``'s WebSocket echo (``bench.endpoints``); empty when right.

    The app is driven as a server would: ``websocket.connect``, each message
    of ``WEBSOCKET_MESSAGES``, then ``websocket.disconnect``; it must accept,
    then send each message back, in order.
    """
    incoming: list[dict[str, Any]] = [{"type": "websocket.connect"}]
    incoming += [{"type": "websocket.receive", "text": text} for text in WEBSOCKET_MESSAGES]
    incoming.append({"type": "websocket.disconnect", "code": 1000})
    sent: list[dict[str, Any]] = []
    never = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        await never.wait()  # nothing more will come: the app should have returned
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": "ws",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "root_path": "",
        "path": WEBSOCKET_ECHO,
        "raw_path": WEBSOCKET_ECHO.encode(),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8000")],
        "subprotocols": [],
        "state": dict(state or {}),
        "extensions": {},
    }
    where = f"{name} WS {WEBSOCKET_ECHO}"
    try:
        await asyncio.wait_for(app(scope, receive, send), 5)
    except Exception as exc:  # any failure of the app is a failed check
        return [f"{where}: raised {type(exc).__name__}: {exc}"]
    kinds = [message["type"] for message in sent]
    if kinds[:1] != ["websocket.accept"]:
        return [f"{where}: sent {kinds[:3]}, expected 'websocket.accept' first"]
    echoed = [message.get("text") for message in sent[1:] if message["type"] == "websocket.send"]
    if echoed != WEBSOCKET_MESSAGES:
        return [f"{where}: echoed {echoed!r:.300}, expected {WEBSOCKET_MESSAGES!r:.300}"]
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
