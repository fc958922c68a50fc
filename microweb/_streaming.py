"""Responses whose body is sent over time, and the machinery they share.

Theory of operation
-------------------

A streamed body (``StreamingResponse`` here, ``FileResponse`` in ``_files``,
``EventSourceResponse`` in ``_sse``) is sent by ``run_stream``, which runs
the response's *producer* (the coroutine that sends the status line and the
chunks) inside a task group next to a *disconnect watcher*:

    run_stream
    ├── producer            first chunk, then http.response.start, then the body
    ├── watcher             receive() until http.disconnect, then stop everything
    └── (SSE only) pinger   a keep-alive comment after `ping` seconds of silence

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
5. While it runs, the stream is in the App's ``StreamRegistry`` (found
   through ``scope["app"]``, duck-typed: responses never import the App).
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
import contextlib
import logging
import time
import weakref
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

from microweb.background import BackgroundTask
from microweb.concurrency import iterate_in_threadpool, run_in_threadpool
from microweb.datastructures import encode_header
from microweb.responses import BODYLESS_STATUSES, HeadersInput, Response, _content_type
from microweb.types import Message, Receive, Scope, Send

__all__ = ["StreamRegistry", "StreamingResponse", "Transmission", "run_stream"]

logger = logging.getLogger("microweb")

RawHeaders = list[tuple[bytes, bytes]]
Content = Iterable[Any] | AsyncIterable[Any]

_END: Any = object()


class _ClientGone(Exception):
    """A send failed because the client is gone (ASGI HTTP spec 2.4: OSError)."""


class StreamRegistry:
    """The streams an App has open, so that it can stop them when it shuts down.

    Owned by the App (``app._stream_registry``). A stream adds its outermost
    cancel scope while it runs and removes it when its body is closed.
    """

    def __init__(self) -> None:
        self._open: set[anyio.CancelScope] = set()
        self._changed: anyio.Event | None = None
        self._closing = False
        self._event = anyio.Event()
        self._event_loop: weakref.ref[asyncio.AbstractEventLoop] | None = None

    @property
    def shutdown_event(self) -> anyio.Event:
        """The App's ``shutdown_event``, for the event loop running now.

        An asyncio event belongs to the first loop that waits on it. A server
        runs one loop, but the TestClient without ``with`` starts one per
        request: a loop other than the last one gets a new event, set if the
        old one was.
        """
        loop = _running_loop()
        if loop is not None:
            known = None if self._event_loop is None else self._event_loop()
            if known is not loop:
                if known is not None:
                    fresh = anyio.Event()
                    if self._event.is_set():
                        fresh.set()
                    self._event = fresh
                self._event_loop = weakref.ref(loop)
        return self._event

    def reset(self) -> None:
        """Start a new server life (lifespan startup): a fresh, unset event."""
        self._closing = False
        self._event = anyio.Event()
        self._event_loop = None

    def add(self, scope: anyio.CancelScope) -> None:
        if self._closing:
            scope.cancel()  # opened after the grace period ran out
        self._open.add(scope)

    def discard(self, scope: anyio.CancelScope) -> None:
        self._open.discard(scope)
        if self._changed is not None:
            self._changed.set()

    def __len__(self) -> int:
        return len(self._open)

    async def _wait_until_empty(self) -> None:
        while self._open:
            self._changed = anyio.Event()
            await self._changed.wait()

    async def shutdown(self, grace_period: float) -> None:
        """Set ``shutdown_event``; after ``grace_period`` seconds stop what is still open.

        Returns as soon as no stream is open, and at most about two grace
        periods later: one for the streams to end on their own, one for the
        cancelled ones to close their iterators.
        """
        self.shutdown_event.set()
        with anyio.move_on_after(grace_period):
            await self._wait_until_empty()
        if not self._open:
            return
        self._closing = True
        for scope in list(self._open):
            scope.cancel()
        with anyio.move_on_after(grace_period):
            await self._wait_until_empty()
        if self._open:
            logger.warning(
                "%d stream(s) still closing after the shutdown grace period", len(self._open)
            )


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # no loop, or another backend (trio events are not loop-bound)
        return None


def _registry(scope: Scope) -> StreamRegistry | None:
    registry = getattr(scope.get("app"), "_stream_registry", None)
    return registry if isinstance(registry, StreamRegistry) else None


class Transmission:
    """One response on its way to the client: ``send`` plus how far it got.

    ``started`` turns true just before ``http.response.start`` is sent (rule 1
    above reads it), ``finished`` just before the final body message. With a
    ``lock`` (SSE: the pinger sends too), every message is sent under it, so
    two tasks never send at once and nothing follows the final message, and
    ``last_sent`` (``time.monotonic()``) tells the pinger how long it has
    been quiet.
    """

    __slots__ = ("_lock", "_send", "cancel_scope", "finished", "last_sent", "started")

    def __init__(self, send: Send, lock: bool = False) -> None:
        self._send = send
        # perf: fast_acquire skips the checkpoint an uncontended lock would yield
        # at: the pinger rarely holds it, and every event paid a loop turn.
        self._lock = anyio.Lock(fast_acquire=True) if lock else None
        self.cancel_scope = anyio.CancelScope()  # run_stream puts its own here
        self.started = False
        self.finished = False
        self.last_sent = time.monotonic()

    async def start(self, status: int, headers: RawHeaders) -> None:
        """Send the status line and headers, unless they were sent already."""
        message = {"type": "http.response.start", "status": status, "headers": headers}
        if self._lock is None:
            self.started = True
            await self._deliver(message)
            return
        async with self._lock:
            if not self.started:
                self.started = True
                await self._deliver(message)
                self.last_sent = time.monotonic()

    async def body(self, chunk: bytes | memoryview) -> None:
        """Send one chunk of the body; more follows."""
        message = {"type": "http.response.body", "body": chunk, "more_body": True}
        if self._lock is None:
            # perf: a lone producer needs no lock and no clock, and _deliver is
            # inlined: about 0.6 µs a chunk instead of 2.6 (in-process, 16 KiB).
            try:
                await self._send(message)
            except OSError as exc:
                raise _ClientGone from exc
            return
        async with self._lock:
            if not self.finished:
                await self._deliver(message)
                self.last_sent = time.monotonic()

    async def send_if_quiet(
        self, status: int, headers: RawHeaders, chunk: bytes, quiet: float
    ) -> None:
        """Send ``chunk`` (a keep-alive) unless something went out in the last ``quiet`` s.

        Checked under the lock, so a keep-alive never follows the final
        message nor lands right after a message sent while it waited. The
        status line goes first if it has not been sent.
        """
        async with self._lock or contextlib.nullcontext():
            if self.finished or time.monotonic() - self.last_sent < quiet:
                return
            if not self.started:
                self.started = True
                message = {"type": "http.response.start", "status": status, "headers": headers}
                await self._deliver(message)
            await self._deliver({"type": "http.response.body", "body": chunk, "more_body": True})
            self.last_sent = time.monotonic()

    async def end(self) -> None:
        """Send the final, empty body message: the body is complete."""
        message = {"type": "http.response.body", "body": b"", "more_body": False}
        if self._lock is None:
            self.finished = True
            await self._deliver(message)
            return
        async with self._lock:
            self.finished = True
            await self._deliver(message)

    async def _deliver(self, message: Message) -> None:
        try:
            await self._send(message)
        except OSError as exc:
            raise _ClientGone from exc


async def _watch_disconnect(
    receive: Receive, transmission: Transmission, own: anyio.CancelScope
) -> None:
    with own:
        # Request body messages still coming are skipped: the handler has returned.
        while (await receive())["type"] != "http.disconnect":
            pass
        # Servers answer http.disconnect once the body is complete, too: then
        # there is nothing left to stop.
        if not transmission.finished:
            transmission.cancel_scope.cancel()


async def _run_helper(
    helper: Callable[[Transmission], Coroutine[Any, Any, None]],
    transmission: Transmission,
    own: anyio.CancelScope,
) -> None:
    with own:
        try:
            await helper(transmission)
        except _ClientGone:
            transmission.cancel_scope.cancel()


def _describe(scope: Scope) -> str:
    return f"{scope.get('method', '?')} {scope.get('path', '?')}"


async def run_stream(
    scope: Scope,
    receive: Receive,
    send: Send,
    produce: Callable[[Transmission], Awaitable[None]],
    close: Callable[[], Awaitable[None] | None] | None = None,
    *,
    helper: Callable[[Transmission], Coroutine[Any, Any, None]] | None = None,
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
    stop: anyio.CancelScope | None = None
    transmission = Transmission(send, lock=helper is not None)
    # The helpers (watcher, pinger) get scopes of their own, so that ending
    # them when the body is done cancels nothing in this task. (Cancelling the
    # group's scope from here would throw a CancelledError through this frame
    # just to be swallowed again: slower, and it loses coverage.py's tracing
    # under CPython 3.11.)
    helpers = [anyio.CancelScope() for _ in range(1 if helper is None else 2)]
    try:
        async with anyio.create_task_group() as group:
            # A disconnect, a shutdown or a failed ping cancels the whole group.
            stop = transmission.cancel_scope = group.cancel_scope
            if registry is not None:
                registry.add(stop)
            group.start_soon(_watch_disconnect, receive, transmission, helpers[0])
            if helper is not None:
                group.start_soon(_run_helper, helper, transmission, helpers[1])
            try:
                await produce(transmission)
            except _ClientGone:
                pass
            except Exception as exc:
                error = exc
            for scope_ in helpers:
                scope_.cancel()
    finally:
        closing = None if close is None else close()
        if closing is not None:
            with anyio.CancelScope(shield=True):
                try:
                    await closing
                except Exception:
                    logger.exception("closing the body of %s raised", _describe(scope))
        if registry is not None and stop is not None:
            registry.discard(stop)
    if error is not None:
        if not transmission.started:
            raise error
        logger.error(
            "%s raised while streaming the response to %s; the response was cut",
            type(error).__name__,
            _describe(scope),
            exc_info=error,
        )


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
        if self.media_type is not None and not any(name == b"content-type" for name, _ in raw):
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
            iterator = aiter(self.body_iterator)
            await run_stream(
                scope,
                receive,
                send,
                lambda transmission: self._produce(iterator, transmission),
                lambda: _closing(iterator),
                helper=self._helper(),
            )
        if self.background is not None:
            await self.background()

    def _helper(self) -> Callable[[Transmission], Coroutine[Any, Any, None]] | None:
        """A task to run beside the producer (EventSourceResponse's pinger)."""
        return None

    async def _produce(self, iterator: AsyncIterator[Any], transmission: Transmission) -> None:
        item = await anext(iterator, _END)  # SPEC "Streams": the first chunk first
        first = None if item is _END else self.encode_chunk(item)
        await transmission.start(self.status_code, self.raw_headers)
        if first:
            await transmission.body(first)
        encode, body = self.encode_chunk, transmission.body  # perf: bound once
        async for item in iterator:
            chunk = encode(item)
            if chunk:  # an empty chunk says nothing, and costs a send
                await body(chunk)
        await transmission.end()


def _closing(iterator: AsyncIterator[Any]) -> Awaitable[None] | None:
    """``iterator.aclose()`` to await, or None when there is nothing to close.

    The user's async iterator, or iterate_in_threadpool's, whose own finally
    closes the sync iterator in a worker thread. (The producer always started
    it: its first step is pulling the first chunk.)
    """
    # perf: an async generator that ran to its end has nothing left to close:
    # no shielded scope, no await (a few µs a response).
    if getattr(iterator, "ag_frame", True) is None:
        return None
    aclose: Callable[[], Awaitable[None]] | None = getattr(iterator, "aclose", None)
    return None if aclose is None else aclose()
