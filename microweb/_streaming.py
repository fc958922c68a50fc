"""Responses whose body is sent over time, and the machinery they share.

Theory of operation
-------------------

A streamed body (``StreamingResponse`` here, ``FileResponse`` in ``_files``,
``EventSourceResponse`` in ``_sse``) is sent by ``run_stream``, which runs
the response's *producer* (the coroutine that sends the status line and the
chunks) in a cancel scope, with helpers beside it:

    run_stream (cancel scope)
    ├── producer            first chunk, then http.response.start, then the body
    ├── watcher             receive() until http.disconnect, then cancel the scope
    └── (SSE only) pinger   a keep-alive comment after `ping` seconds of silence

On asyncio the helpers are plain tasks, made only once the producer first
lets the event loop run (until then no disconnect can be seen and no ping
is due) and cancelled when it is done; on another anyio backend (trio) they
run in a task group. Either way they never outlive the stream.

Rules, each from SPEC.md "Streams" or the ASGI HTTP spec:

1. The producer pulls its first chunk *before* it sends
   ``http.response.start``. An exception raised before anything was sent is
   re-raised unchanged (never wrapped in an ExceptionGroup), so the App's
   error boundary answers it like any handler error.
2. An exception after the status line was sent is logged on the ``microweb``
   logger with its traceback, and the stream ends *without* a final
   ``more_body=False``: the server closes the connection and the client can
   tell the body was cut (a chunked body without its last chunk, or fewer
   bytes than ``content-length``).
3. The client leaving stops the producer. ``http.disconnect`` from
   ``receive()`` cancels the stream's scope, and so does an ``OSError`` from
   ``send()`` (ASGI HTTP spec 2.4: a server may raise it for a send after the
   client left). Uvicorn drops such sends silently, which is why the watcher
   is needed: only ``receive()`` tells it.
4. However the stream ends (done, cut, client gone, cancelled from outside),
   the body's iterator is closed, so a generator's ``finally`` always runs.
   Stopped at a ``yield``, it is closed by ``aclose()`` in a shielded scope
   and may await; stopped while it awaits, the cancellation is delivered
   right there (anyio's cancel scopes are level-triggered), so a ``finally``
   that must await shields itself (docs/streaming.md).
5. While it runs, the stream is in the App's ``StreamRegistry``
   (``microweb._shutdown``, found through ``scope["app"]``, duck-typed:
   responses never import the App).
   When the App receives ``lifespan.shutdown`` it sets its
   ``shutdown_event``, gives open streams a grace period to finish on their
   own, then cancels the ones still open the way a disconnect would.
   (uvicorn 0.54 sends ``lifespan.shutdown`` only once no response is open:
   it waits ``--timeout-graceful-shutdown`` seconds, then cancels the
   requests' tasks, which closes their iterators by rule 4.)

The watcher reads ``receive()``, so a streaming body must not read the
request body itself: read it in the handler, before returning the response.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Coroutine,
    Iterable,
    Mapping,
)
from typing import Any

import anyio

from microweb._http.fields import encode_header
from microweb._shutdown import StreamRegistry
from microweb._utils import describe, running_loop
from microweb.background import BackgroundTask
from microweb.concurrency import iterate_in_threadpool, run_in_threadpool
from microweb.responses import BODYLESS_STATUSES, HeadersInput, Response, _content_type
from microweb.types import Message, Receive, Scope, Send

__all__ = ["StreamingResponse", "Transmission", "run_stream"]

logger = logging.getLogger("microweb")

RawHeaders = list[tuple[bytes, bytes]]
Content = Iterable[Any] | AsyncIterable[Any]

_END: Any = object()


class _ClientGone(Exception):
    """A send failed because the client is gone (ASGI HTTP spec 2.4: OSError)."""


def _registry(scope: Scope) -> StreamRegistry | None:
    registry = getattr(scope.get("app"), "_stream_registry", None)
    return registry if isinstance(registry, StreamRegistry) else None


class Transmission:
    """One response on its way to the client: ``send`` plus how far it got.

    ``started`` turns true just before ``http.response.start`` is sent (rule 1
    above reads it), ``finished`` just before the final body message.

    A ``shared`` transmission (SSE) has a second sender, the pinger, and the
    two take turns, so that two sends never overlap and nothing follows the
    final message. The producer flags its own sends (``_sending``) and waits
    while a ping is out (``_pinging``, an event set when it is sent); the
    pinger sends only when neither is under way, since a producer held up in
    a send is not quiet. ``last_sent`` (``time.monotonic()``) tells the pinger
    how long the stream has been quiet.
    """

    __slots__ = ("_pinging", "_send", "_sending", "finished", "last_sent", "shared", "started")

    def __init__(self, send: Send, shared: bool = False) -> None:
        self._send = send
        self.shared = shared
        self.started = False
        self.finished = False
        self._sending = False
        self._pinging: anyio.Event | None = None
        self.last_sent = time.monotonic()

    async def start(self, status: int, headers: RawHeaders) -> None:
        """Send the status line and headers, unless they were sent already."""
        if self.shared:
            await self._wait_for_ping()
            if self.started:  # with a ping, while the first chunk was slow
                return
        self.started = True
        await self._deliver({"type": "http.response.start", "status": status, "headers": headers})

    async def body(self, chunk: bytes | memoryview) -> None:
        """Send one chunk of the body; more follows."""
        if self.shared:
            await self._wait_for_ping()
            if self.finished:
                return
        await self._deliver({"type": "http.response.body", "body": chunk, "more_body": True})

    async def pour(
        self,
        items: AsyncIterator[Any],
        encode: Callable[[Any], bytes | memoryview],
        as_is: type | None = None,
    ) -> None:
        """Send every item ``items`` still yields as a chunk of the body.

        Items of exactly the type ``as_is`` are sent as they are, the others
        ``encode``-d. An empty chunk says nothing, and costs a send: a lone
        producer skips it.
        """
        # perf: body() inlined, and encode() skipped for ready bytes: 64 chunks
        # cost 14.6 µs instead of 20.3, an SSE event ~0.15 µs less (in-process).
        send = self._send
        if not self.shared:  # the producer sends alone: no turns to take
            async for item in items:
                chunk = item if type(item) is as_is else encode(item)
                if chunk:
                    try:
                        await send(
                            {"type": "http.response.body", "body": chunk, "more_body": True}
                        )
                    except OSError as exc:  # the send's only: the iterator's errors are errors
                        raise _ClientGone from exc
            return
        monotonic = time.monotonic
        async for item in items:  # events: never empty
            chunk = item if type(item) is as_is else encode(item)
            while self._pinging is not None:
                await self._pinging.wait()
            self._sending = True
            try:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            except OSError as exc:
                raise _ClientGone from exc
            finally:
                self._sending = False
            self.last_sent = monotonic()

    async def end(self) -> None:
        """Send the final, empty body message: the body is complete."""
        if self.shared:
            await self._wait_for_ping()
        self.finished = True
        await self._deliver({"type": "http.response.body", "body": b"", "more_body": False})

    async def send_if_quiet(
        self, status: int, headers: RawHeaders, chunk: bytes, quiet: float
    ) -> None:
        """The pinger's send: ``chunk`` (a keep-alive) if nothing went out for ``quiet`` s.

        Nothing is sent after the final message, nor while the producer is
        sending. The status line goes first if it has not been sent.
        """
        if self.finished or self._sending or time.monotonic() - self.last_sent < quiet:
            return
        self._pinging = sent = anyio.Event()
        try:
            if not self.started:
                self.started = True
                await self._send(
                    {"type": "http.response.start", "status": status, "headers": headers}
                )
            await self._send({"type": "http.response.body", "body": chunk, "more_body": True})
            self.last_sent = time.monotonic()
        except OSError as exc:
            raise _ClientGone from exc
        finally:
            self._pinging = None
            sent.set()

    async def _wait_for_ping(self) -> None:
        while self._pinging is not None:
            await self._pinging.wait()

    async def _deliver(self, message: Message) -> None:
        """The producer's send: flagged and timed when shared."""
        # perf: a plain flag and no lock: an uncontended anyio.Lock cost ~1 µs an event.
        self._sending = True
        try:
            await self._send(message)
        except OSError as exc:
            raise _ClientGone from exc
        finally:
            self._sending = False
        if self.shared:
            self.last_sent = time.monotonic()


# What runs beside a producer (the SSE pinger), given its transmission.
Helper = Callable[[Transmission], Coroutine[Any, Any, None]]


async def _watch_disconnect(
    receive: Receive, transmission: Transmission, stop: anyio.CancelScope
) -> None:
    """Wait for ``http.disconnect``; if the body is not complete by then, stop the stream."""
    try:
        # Request body messages still coming are skipped: the handler has returned.
        while (await receive())["type"] != "http.disconnect":
            pass
    except Exception:  # a broken receive: nobody is listening any more
        logger.exception("receive() raised while watching for a disconnect")
    # Servers answer http.disconnect once the body is complete, too: then
    # there is nothing left to stop.
    if not transmission.finished:
        stop.cancel()


async def _run_helper(
    helper: Helper,
    transmission: Transmission,
    stop: anyio.CancelScope,
) -> None:
    """Run ``helper`` (the SSE pinger); if it fails, the stream stops."""
    try:
        await helper(transmission)
    except _ClientGone:
        stop.cancel()
    except Exception:
        logger.exception("a helper of a streamed response raised; the stream stops")
        stop.cancel()


async def _in_scope(coroutine: Coroutine[Any, Any, None], own: anyio.CancelScope) -> None:
    with own:
        await coroutine


def _helpers(
    receive: Receive, transmission: Transmission, stop: anyio.CancelScope, helper: Helper | None
) -> list[Coroutine[Any, Any, None]]:
    """What runs beside the producer: the disconnect watcher, and ``helper`` if any."""
    watcher = _watch_disconnect(receive, transmission, stop)
    return [watcher] if helper is None else [watcher, _run_helper(helper, transmission, stop)]


class _Beside:
    """A stream's helpers as asyncio tasks, started when the producer first waits.

    A client can only be seen leaving (and a ping is only due) once the
    producer lets the event loop run, so the tasks are made by a callback
    that runs then; a stream sent without ever waiting never makes them.
    """

    __slots__ = ("_handle", "_tasks")

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        helpers: Callable[[], list[Coroutine[Any, Any, None]]],
    ) -> None:
        self._tasks: list[asyncio.Task[None]] = []
        self._handle = loop.call_soon(self._start, loop, helpers)

    def _start(
        self,
        loop: asyncio.AbstractEventLoop,
        helpers: Callable[[], list[Coroutine[Any, Any, None]]],
    ) -> None:
        self._tasks = [loop.create_task(coroutine) for coroutine in helpers()]

    def cancel(self) -> None:
        self._handle.cancel()
        for task in self._tasks:
            task.cancel()


_asyncio_cancel_scope: type[anyio.CancelScope] | None = None


def _cancel_scope(loop: asyncio.AbstractEventLoop | None) -> anyio.CancelScope:
    """A new ``anyio.CancelScope`` for the backend running now (``loop``: asyncio's)."""
    global _asyncio_cancel_scope
    if loop is None:
        return anyio.CancelScope()
    if _asyncio_cancel_scope is None:
        _asyncio_cancel_scope = type(anyio.CancelScope())
    # perf: anyio.CancelScope() asks sniffio for the backend each time; asyncio's
    # own scope class, made directly, saves ~1 µs a stream.
    return _asyncio_cancel_scope()


async def run_stream(
    scope: Scope,
    receive: Receive,
    send: Send,
    produce: Callable[[Transmission], Awaitable[None]],
    close: Callable[[], Awaitable[None] | None] | None = None,
    *,
    helper: Helper | None = None,
) -> None:
    """Run ``produce`` until it returns, fails, the client leaves or the App shuts down.

    ``close`` is called afterwards in every case; what it returns (if not
    None) is awaited shielded from cancellation.
    ``helper`` (the SSE pinger) runs beside the producer and is cancelled with
    it. See the module docstring for the rules. Raises what ``produce``
    raised if nothing had been sent yet.
    """
    error: Exception | None = None
    registry = _registry(scope)
    transmission = Transmission(send, shared=helper is not None)
    # A disconnect, a shutdown or a failed ping cancels this scope.
    loop = running_loop()
    stop = _cancel_scope(loop)

    try:
        with stop:
            if registry is not None:
                registry.add(stop)
            if loop is not None:
                # perf: plain asyncio tasks, made only if the producer waits:
                # an anyio task group cost ~20 µs a stream, these ~3 (0.7 unmade).
                helpers = functools.partial(_helpers, receive, transmission, stop, helper)
                beside = _Beside(loop, helpers)
                try:
                    error = await _produce_in(produce, transmission)
                finally:
                    beside.cancel()
            else:  # another anyio backend (trio): a task group, same rules
                async with anyio.create_task_group() as group:
                    # The helpers get scopes of their own, so that ending them
                    # cancels nothing in this task.
                    coroutines = _helpers(receive, transmission, stop, helper)
                    owns = [anyio.CancelScope() for _ in coroutines]
                    for coroutine, own in zip(coroutines, owns, strict=True):
                        group.start_soon(_in_scope, coroutine, own)
                    error = await _produce_in(produce, transmission)
                    for own in owns:
                        own.cancel()
    finally:
        closing = None if close is None else close()
        if closing is not None:
            with anyio.CancelScope(shield=True):
                try:
                    await closing
                except Exception:
                    logger.exception("closing the body of %s raised", describe(scope))
        if registry is not None:
            registry.discard(stop)
    if error is not None:
        if not transmission.started:
            raise error
        logger.error(
            "%s raised while streaming the response to %s; the response was cut",
            type(error).__name__,
            describe(scope),
            exc_info=error,
        )


async def _produce_in(
    produce: Callable[[Transmission], Awaitable[None]], transmission: Transmission
) -> Exception | None:
    """Await ``produce``; return what it raised (None when done or the client left)."""
    try:
        await produce(transmission)
    except _ClientGone:
        pass
    except Exception as exc:
        return exc
    return None


class StreamingBase(Response):
    """What the streamed responses share: headers without a computed content-length.

    Not public: ``StreamingResponse``, ``FileResponse`` and
    ``EventSourceResponse`` derive from it.
    """

    def init_headers(self, headers: HeadersInput | None = None) -> None:
        """Set ``raw_headers`` from ``headers`` plus ``content-type``; never a content-length.

        The length of a stream is not known in advance: a ``content-length``
        is sent only when given (or, for a file, from its size).
        """
        raw: RawHeaders = []
        if headers:
            items = headers.items() if isinstance(headers, Mapping) else headers
            raw = [encode_header(name, value) for name, value in items]
            if any(name == b"content-type" for name, _ in raw):
                self.raw_headers = raw
                return
        if self.media_type is not None:
            raw.append((b"content-type", _content_type(self.media_type, self.charset)))
        self.raw_headers = raw


async def _close_unstarted(content: Any) -> None:
    """Close what the user gave without iterating it (HEAD, or a bodyless status)."""
    aclose = getattr(content, "aclose", None)
    if aclose is not None:
        await aclose()
        return
    close = getattr(content, "close", None)
    if close is not None:
        # A never-started generator runs no code here; another iterator's
        # close() might block, so it goes to a worker thread like its items.
        await run_in_threadpool(close)


class StreamingResponse(StreamingBase):
    """A body sent chunk by chunk as an iterable produces it.

    ``content`` is an async iterable, or a sync one (drained in a worker
    thread, so a blocking generator never stalls the event loop), of ``str``
    (encoded with ``charset``), ``bytes`` or ``memoryview`` chunks::

        async def numbers():
            for n in range(3):
                yield f"{n}\\n"
                await anyio.sleep(1)

        return StreamingResponse(numbers(), media_type="text/plain")

    The first chunk is pulled before the status line is sent, so an exception
    raised before it becomes an ordinary error response; a later one is logged
    and cuts the stream. When the client disconnects (or the App shuts down),
    iteration stops and the iterator is closed (a generator's ``finally``
    runs). A HEAD request gets the headers and the generator is closed
    without being started. ``background`` runs when the stream has ended. No
    ``content-length`` is sent unless given. A stream answers one request.
    """

    def __init__(
        self,
        content: Content,
        status_code: int = 200,
        headers: HeadersInput | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.status_code = status_code
        if media_type is not None:
            self.media_type = media_type
        self.background = background
        if isinstance(content, (str, bytes, memoryview)):
            content = (content,)  # one chunk, not one chunk per character
        self._content: Any = content
        if isinstance(content, AsyncIterable):
            self.body_iterator: AsyncIterable[Any] = content
        elif isinstance(content, Iterable):
            self.body_iterator = iterate_in_threadpool(content)
        else:
            raise TypeError(
                f"{type(self).__name__} content must be an iterable or an async iterable, "
                f"not {type(content).__name__}"
            )
        self.init_headers(headers)

    _as_is: type | None = bytes  # items sent without encode_chunk()
    _iterator: AsyncIterator[Any]  # set when the response is called

    def encode_chunk(self, chunk: Any) -> bytes | memoryview:
        """One item of the iterable as body bytes (str is encoded with ``charset``)."""
        # perf: an exact type check first: bytes is by far the common chunk.
        if type(chunk) is bytes:
            return chunk
        if isinstance(chunk, str):
            return chunk.encode(self.charset)
        if isinstance(chunk, (bytes, bytearray)):
            return bytes(chunk)
        if isinstance(chunk, memoryview):
            # A multi-byte or multi-dimensional view: servers count len(), so send plain bytes.
            return chunk if chunk.nbytes == len(chunk) else chunk.tobytes()
        raise TypeError(
            f"{type(self).__name__} chunks must be str, bytes or memoryview, "
            f"not {type(chunk).__name__}"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "HEAD" or self.status_code in BODYLESS_STATUSES:
            await _close_unstarted(self._content)
            start = {"type": "http.response.start", "status": self.status_code}
            await send({**start, "headers": self.raw_headers})
            await send({"type": "http.response.body", "body": b""})
        else:
            # perf: bound methods, not two lambdas a request (a stream answers once).
            self._iterator = aiter(self.body_iterator)
            await run_stream(
                scope, receive, send, self._produce, self._close, helper=self._helper()
            )
        if self.background is not None:
            await self.background()

    def _helper(self) -> Helper | None:
        """A task to run beside the producer (EventSourceResponse's pinger)."""
        return None

    async def _produce(self, transmission: Transmission) -> None:
        iterator = self._iterator
        item = await anext(iterator, _END)  # SPEC "Streams": the first chunk first
        first = None if item is _END else self.encode_chunk(item)
        await transmission.start(self.status_code, self.raw_headers)
        if first:
            await transmission.body(first)
        await transmission.pour(iterator, self.encode_chunk, self._as_is)
        await transmission.end()

    def _close(self) -> Awaitable[None] | None:
        """``aclose()`` of the iterator to await, or None when there is nothing to close.

        The user's async iterator, or iterate_in_threadpool's, whose own finally
        closes the sync iterator in a worker thread. (The producer always started
        it: its first step is pulling the first chunk.)
        """
        iterator = self._iterator
        # perf: an async generator that ran to its end has nothing left to close:
        # no shielded scope, no await (a few µs a response).
        if getattr(iterator, "ag_frame", True) is None:
            return None
        aclose: Callable[[], Awaitable[None]] | None = getattr(iterator, "aclose", None)
        return None if aclose is None else aclose()
