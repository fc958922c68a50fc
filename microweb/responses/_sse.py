"""Server-Sent Events: ``EventSourceResponse`` and ``ServerSentEvent``.

Theory of operation
-------------------

An event stream (WHATWG HTML, "Server-sent events", §9.2) is a
``text/event-stream`` body of UTF-8 lines. A field line is ``name: value``;
a blank line dispatches the event built so far; a line starting with ``:``
is a comment the browser ignores. So an event is framed as::

    : comment line(s)
    id: 42
    event: tick
    retry: 3000
    data: first line
    data: second line
    <blank line>

The parser splits lines on CR, LF and CRLF alike, so a value holding one
would start a new field: ``data`` is split into several ``data:`` lines (the
browser joins them back with LF), a comment into several comment lines, and
``event`` or ``id`` holding CR or LF is refused with ValueError (so is an
``id`` holding NUL, which browsers ignore). The parser drops one space after
the colon, which the framing always writes, so a value's own leading space
survives.

``EventSourceResponse`` is a ``StreamingResponse`` whose chunks are events:
each item of the iterable (a ``ServerSentEvent``, a dict of its fields, or a
str of data) is framed into one chunk. The shared rules of
``responses._stream`` apply (first event before the status line, errors,
disconnects, shutdown). Beside the producer runs a *pinger*: after ``ping``
seconds without a message it sends a ``: ping`` comment, so proxies and
browsers keep an idle connection open. The first ping comes ``ping`` seconds
after the request if no event came by then; the status line goes out with
it, so a slow first event never leaves the client without an answer.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterable, Iterable, Mapping
from typing import Any, NoReturn

import anyio

from microweb import _json
from microweb.background import BackgroundTask
from microweb.responses._base import HeadersInput
from microweb.responses._stream import Helper, Transmission
from microweb.responses._streaming import StreamingResponse

__all__ = ["EventSourceResponse", "ServerSentEvent"]

# WHATWG §9.2.5: end-of-line = CRLF / CR / LF. (str.splitlines would also split
# on characters the event-stream parser keeps, such as U+2028.)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_PING = b": ping\n\n"
_FIELDS = frozenset({"data", "event", "id", "retry", "comment"})


def _lines(prefix: str, text: str) -> str:
    if "\n" not in text and "\r" not in text:
        return f"{prefix}{text}\n"
    return "".join(f"{prefix}{line}\n" for line in _LINE_BREAK.split(text))


class ServerSentEvent:
    """One event of an event stream.

    ``ServerSentEvent(data=None, event=None, id=None, retry=None, comment=None)``

    - ``data``: a str is sent as it is (several lines become several
      ``data:`` lines); anything else is sent as compact JSON.
    - ``event``: the event type (``addEventListener(type, ...)`` in the
      browser; without one it is a ``message``).
    - ``id``: sets the browser's last event ID, sent back in the
      ``Last-Event-ID`` header when it reconnects.
    - ``retry``: the reconnection delay the browser should use, in
      milliseconds (a non-negative int).
    - ``comment``: a comment line, ignored by browsers.

    Raises ValueError for an ``event`` or ``id`` holding CR or LF, an ``id``
    holding NUL, or a negative ``retry``; TypeError for a ``retry`` that is
    not an int.
    """

    __slots__ = ("comment", "data", "event", "id", "retry")

    def __init__(
        self,
        data: Any = None,
        event: str | None = None,
        id: str | None = None,
        retry: int | None = None,
        comment: str | None = None,
    ) -> None:
        # perf: the checks inline, the calls only to raise: ~10% less.
        if event is not None and (not isinstance(event, str) or "\n" in event or "\r" in event):
            _refuse_line("event", event)
        if id is not None and (not isinstance(id, str) or "\n" in id or "\r" in id or "\0" in id):
            _refuse_line("id", id)
        if retry is not None:
            if not isinstance(retry, int) or isinstance(retry, bool):
                raise TypeError(f"retry must be an int of milliseconds, got {retry!r}")
            if retry < 0:
                raise ValueError(f"retry must not be negative, got {retry!r}")
        if comment is not None and not isinstance(comment, str):
            raise TypeError(f"comment must be a str, got {comment!r}")
        self.data = data
        self.event = event
        self.id = id
        self.retry = retry
        self.comment = comment

    def encode(self) -> bytes:
        """The event framed for the wire, ending with its blank line."""
        # perf: f-strings growing one str, not a list to join: ~15% less.
        text = "" if self.comment is None else _lines(": ", self.comment)
        if self.id is not None:
            text = f"{text}id: {self.id}\n"
        if self.event is not None:
            text = f"{text}event: {self.event}\n"
        if self.retry is not None:
            text = f"{text}retry: {self.retry}\n"
        data = self.data
        if data is None:
            return f"{text}\n".encode()
        if isinstance(data, str):
            if "\n" in data or "\r" in data:
                return f"{text}{_lines('data: ', data)}\n".encode()
            return f"{text}data: {data}\n\n".encode()  # perf: one line, no call
        # Compact JSON never holds a raw line break: one data line.
        return f"{text}data: {_json.dumps(data).decode()}\n\n".encode()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ServerSentEvent):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    __hash__ = None  # type: ignore[assignment]  # mutable, like a dataclass with eq

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={getattr(self, name)!r}"
            for name in ("data", "event", "id", "retry", "comment")
            if getattr(self, name) is not None
        )
        return f"ServerSentEvent({fields})"


def _refuse_line(name: str, value: Any) -> NoReturn:
    if not isinstance(value, str):
        raise TypeError(f"a server-sent event {name} must be a str, got {value!r}")
    if "\r" in value or "\n" in value:
        raise ValueError(f"a server-sent event {name} may not contain CR or LF: {value!r}")
    raise ValueError(f"a server-sent event {name} may not contain NUL: {value!r}")


def encode_event(item: Any) -> bytes:
    """Frame one item of an event stream: a ServerSentEvent, a dict of its fields, or data."""
    if isinstance(item, ServerSentEvent):
        return item.encode()
    if isinstance(item, str):
        # perf: the most common item skips building an event object.
        return f"{_lines('data: ', item)}\n".encode()
    if isinstance(item, Mapping):
        unknown = set(item) - _FIELDS
        if unknown:
            raise ValueError(
                f"unknown server-sent event field(s) {sorted(unknown)!r}; "
                "expected data, event, id, retry or comment"
            )
        return ServerSentEvent(**item).encode()
    raise TypeError(
        f"an event stream yields ServerSentEvent, dict or str items, not {type(item).__name__}"
    )


class EventSourceResponse(StreamingResponse):
    """A ``text/event-stream`` of Server-Sent Events, for the browser's ``EventSource``.

    ``content`` is an async (or sync) iterable of events: ``ServerSentEvent``
    objects, dicts of their fields (``{"event": "tick", "data": {...}, "id":
    "7"}``), or plain strings of data::

        async def clock():
            while True:
                yield {"event": "tick", "data": {"now": time.time()}}
                await anyio.sleep(1)

        @app.get("/clock")
        async def ticks() -> EventSourceResponse:
            return EventSourceResponse(clock())

    Every ``ping`` seconds of silence (``None``: never) a comment keeps the
    connection open; if no event came within ``ping`` seconds of the request,
    the status line goes out with the first ping. The headers say
    ``cache-control: no-cache`` and ``x-accel-buffering: no`` (nginx must not
    buffer the stream) unless given. The browser's reconnection carries the
    last ``id`` it saw in the ``Last-Event-ID`` request header
    (``request.headers.get("last-event-id")``). When the client disconnects,
    the generator is closed.
    """

    media_type = "text/event-stream"
    _as_is = None  # every item is an event to frame, bytes included

    def __init__(
        self,
        content: Iterable[Any] | AsyncIterable[Any],
        status_code: int = 200,
        headers: HeadersInput | None = None,
        ping: float | None = 15,
        background: BackgroundTask | None = None,
    ) -> None:
        if ping is not None and (
            isinstance(ping, bool) or not isinstance(ping, (int, float)) or not ping > 0
        ):
            raise ValueError(f"ping must be a positive number of seconds or None, got {ping!r}")
        self.ping = ping
        super().__init__(content, status_code=status_code, headers=headers, background=background)
        present = {name for name, _ in self.raw_headers}
        if b"cache-control" not in present:
            self.raw_headers.append((b"cache-control", b"no-cache"))
        if b"x-accel-buffering" not in present:
            self.raw_headers.append((b"x-accel-buffering", b"no"))

    # perf: the framing function itself, not a method calling it.
    encode_chunk = staticmethod(encode_event)  # type: ignore[assignment]

    def _helper(self) -> Helper | None:
        ping = self.ping
        if ping is None:
            return None
        return lambda transmission: self._keep_alive(transmission, ping)

    async def _keep_alive(self, transmission: Transmission, ping: float) -> None:
        """Send a ping comment whenever ``ping`` seconds passed without a message."""
        while not transmission.finished:
            delay = transmission.last_sent + ping - time.monotonic()
            if delay <= 0:
                # With the status line, if the first event is slow in coming.
                await transmission.send_if_quiet(self.status_code, self.raw_headers, _PING, ping)
                # Sent, or the producer is held up in a send: look again in `ping` s.
                delay = ping
            await anyio.sleep(delay)
