"""Calling an ASGI app in-process, as uvicorn would, without a socket.

``Request`` describes one request; ``call()`` makes it and returns the whole
answer (for the correctness check); ``Channel`` is the cheap receive/send
pair the timing loops reuse; ``lifespan()`` runs an app's startup and
shutdown around a block, since BlackSheep and Litestar answer nothing before
their startup.

The scope is what uvicorn's httptools protocol builds (ASGI spec_version
2.3, a copy of the lifespan state per request). ``receive`` gives the body
once, then, like uvicorn, waits until the response is complete and answers
``http.disconnect``: frameworks that watch for a disconnect while streaming
(Starlette before spec 2.4, Falcon's SSE) see what they would see under a
server, not a busy loop of empty requests.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

Scope = dict[str, Any]
Message = dict[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

SERVER = ("127.0.0.1", 8000)
CLIENT = ("127.0.0.1", 50000)
BASE_HEADERS = [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"microweb-bench")]


@dataclass(frozen=True)
class Request:
    """One request: method, path with an optional query, headers and body."""

    method: str
    target: str
    body: bytes = b""
    headers: tuple[tuple[bytes, bytes], ...] = ()

    def scope(self, state: dict[str, Any]) -> Scope:
        path, _, query = self.target.partition("?")
        headers = list(BASE_HEADERS) + list(self.headers)
        if self.body:
            headers.append((b"content-length", b"%d" % len(self.body)))
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "server": SERVER,
            "client": CLIENT,
            "scheme": "http",
            "root_path": "",
            "headers": headers,
            "state": dict(state),
            "method": self.method,
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
        }


@dataclass
class Answer:
    """What an app sent for one request."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    chunks: int  # body messages that carried bytes
    complete: bool  # the last body message had more_body False

    def header(self, name: bytes) -> bytes | None:
        """The first value of header ``name`` (lower-case), or None."""
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


class Channel:
    """A receive/send pair for one request at a time; ``reset()`` re-arms it.

    It keeps no messages (the timing loops must not pay for that); it only
    counts completed responses, so a loop can tell every request was answered.
    """

    def __init__(self, body: bytes = b"") -> None:
        self.body = body
        self.completed = 0
        self._request_given = False
        self._done = False
        self._waiter: asyncio.Future[None] | None = None

    def reset(self) -> None:
        self._request_given = False
        self._done = False
        self._waiter = None

    async def receive(self) -> Message:
        if not self._request_given:
            self._request_given = True
            return {"type": "http.request", "body": self.body, "more_body": False}
        if not self._done:
            # As uvicorn: the next message comes when the client goes, which
            # for us is when the response is complete.
            if self._waiter is None:
                self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            self._done = True
            self.completed += 1
            if self._waiter is not None and not self._waiter.done():
                self._waiter.set_result(None)


class RecordingChannel(Channel):
    """A ``Channel`` that keeps every message sent (for the correctness check)."""

    def __init__(self, body: bytes = b"") -> None:
        super().__init__(body)
        self.messages: list[Message] = []

    async def send(self, message: Message) -> None:
        self.messages.append(message)
        await super().send(message)


async def call(app: ASGIApp, request: Request, state: dict[str, Any] | None = None) -> Answer:
    """Make ``request`` to ``app`` and return everything it sent."""
    channel = RecordingChannel(request.body)
    await asyncio.wait_for(app(request.scope(state or {}), channel.receive, channel.send), 30)
    starts = [m for m in channel.messages if m["type"] == "http.response.start"]
    bodies = [m for m in channel.messages if m["type"] == "http.response.body"]
    if len(starts) != 1:
        raise AssertionError(f"{len(starts)} http.response.start messages for {request.target}")
    return Answer(
        status=starts[0]["status"],
        headers=[(bytes(k).lower(), bytes(v)) for k, v in starts[0].get("headers", [])],
        body=b"".join(bytes(m.get("body", b"")) for m in bodies),
        chunks=sum(1 for m in bodies if m.get("body")),
        complete=bool(bodies) and not bodies[-1].get("more_body", False),
    )


@dataclass
class _LifespanChannel:
    incoming: asyncio.Queue[Message] = field(default_factory=asyncio.Queue)
    outgoing: asyncio.Queue[Message] = field(default_factory=asyncio.Queue)

    async def receive(self) -> Message:
        return await self.incoming.get()

    async def send(self, message: Message) -> None:
        await self.outgoing.put(message)


@asynccontextmanager
async def lifespan(app: ASGIApp) -> AsyncIterator[dict[str, Any]]:
    """Run ``app``'s startup, yield its lifespan state, run its shutdown."""
    state: dict[str, Any] = {}
    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": state}
    channel = _LifespanChannel()
    task = asyncio.ensure_future(app(scope, channel.receive, channel.send))
    await channel.incoming.put({"type": "lifespan.startup"})
    reply = await _next_reply(channel, task)
    if reply["type"] != "lifespan.startup.complete":
        raise RuntimeError(f"lifespan startup failed: {reply}")
    try:
        yield state
    finally:
        await channel.incoming.put({"type": "lifespan.shutdown"})
        await _next_reply(channel, task)
        await asyncio.wait_for(task, 10)


async def _next_reply(channel: _LifespanChannel, task: asyncio.Future[None]) -> Message:
    getter: asyncio.Future[Message] = asyncio.ensure_future(channel.outgoing.get())
    waited: set[asyncio.Future[Any]] = {getter, task}
    done, _ = await asyncio.wait(waited, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    if getter in done:
        return getter.result()
    getter.cancel()
    if task in done:
        task.result()  # re-raise what the app raised
        raise RuntimeError("the app returned from the lifespan without answering")
    raise TimeoutError("no answer to a lifespan message in 30 s")
