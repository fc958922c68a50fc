"""The machinery every streamed response shares: ``run_stream`` and ``Transmission``.

Theory of operation
-------------------

A streamed body (``StreamingResponse``, ``FileResponse``,
``EventSourceResponse``) is sent by ``run_stream``, which runs the
response's *producer* (the coroutine that sends the status line and the
chunks) in a cancel scope, with helpers beside it:

    run_stream (cancel scope)
    ├── producer            first chunk, then http.response.start, then the body
    ├── watcher             receive() until http.disconnect, then cancel the scope
    └── (SSE only) pinger   a keep-alive comment after `ping` seconds of silence

On asyncio, ``run_stream`` takes the producer's first step itself (a
``send(None)`` to its coroutine). Until the producer first lets the event
loop run, no disconnect can be seen, no shutdown can begin and no ping is
due, so a producer that never waits (a body from memory, a server whose
sends never block) runs without the scope or the helpers. One that waits
gets them then: the scope is entered late, where it would have been,
around any scope the producer holds open (``_late_scope``); the helpers
are plain tasks, cancelled and awaited when the producer is done; the
producer goes on from where it waited. On another anyio backend (trio) the
scope is entered first and the helpers run in a task group. Either way they have
ended before ``run_stream`` returns: they never outlive the stream, and the
response's background task never runs beside them.

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
5. While it runs (once it has waited: before, nothing can end it), the
   stream is in the App's ``StreamRegistry``
   (``microweb._shutdown``), which the App's context in the scope carries
   (``microweb._context``: responses never import the App). When the App receives
   ``lifespan.shutdown`` it sets its ``shutdown_event``, gives open streams a
   grace period to finish on their own, then cancels the ones still open the
   way a disconnect would. (uvicorn 0.54 sends ``lifespan.shutdown`` only
   once no response is open: it waits ``--timeout-graceful-shutdown``
   seconds, then cancels the requests' tasks, which closes their iterators
   by rule 4.)

The watcher reads ``receive()``, so a streaming body must not read the
request body itself: read it in the handler, before returning the response.
"""

from __future__ import annotations

import asyncio
import logging
import time
import types
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Generator
from typing import Any

import anyio

from microweb._context import app_context
from microweb._utils import describe
from microweb.responses._base import STREAMED, RawHeaders, Response
from microweb.responses._late_scope import enter_late, innermost_scope, late_entry
from microweb.types import Message, Receive, Scope, Send

__all__ = ["Helper", "StreamingBase", "Transmission", "run_stream"]

logger = logging.getLogger("microweb")


class _ClientGone(Exception):
    """A send failed because the client is gone (ASGI HTTP spec 2.4: OSError)."""


class Transmission:
    """One response on its way to the client: ``send`` plus how far it got.

    ``started`` turns true just before ``http.response.start`` is sent (rule 1
    above reads it), ``finished`` just before the final body message. Every
    message goes out through ``_transmit`` (``pour`` has it inlined, for
    speed), where an ``OSError`` from ``send`` becomes ``_ClientGone`` (rule 3).

    A ``shared`` transmission (SSE) has a second sender, the pinger, and the
    two take turns around ``_transmit``, so that two sends never overlap and
    nothing follows the final message. The producer flags its own sends
    (``_sending``) and waits while a ping is out (``_pinging``, an event set
    when it is sent); the pinger sends only when neither is under way, since
    a producer held up in a send is not quiet. ``last_sent``
    (``time.monotonic()``) tells the pinger how long the stream has been quiet.
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

    async def _transmit(self, message: Message) -> None:
        """Send ``message``; an OSError from ``send`` means the client left."""
        try:
            await self._send(message)
        except OSError as exc:  # the send's only: a producer's own OSError is an error
            raise _ClientGone from exc

    async def start(self, status: int, headers: RawHeaders) -> None:
        """Send the status line and headers, unless they were sent already."""
        message = {"type": "http.response.start", "status": status, "headers": headers}
        if not self.shared:
            self.started = True
            # perf: _transmit inlined for a lone producer, here and in body() and end(),
            # a coroutine call less each (with run_stream's _produce_in gone and the
            # first chunk's encode skipped: /stream 341,202 against 347,144).
            try:
                await self._send(message)
            except OSError as exc:  # as in _transmit
                raise _ClientGone from exc
            return
        # perf: the producer waits for a ping inline, not in a call (a ping is rarely out).
        while self._pinging is not None:
            await self._pinging.wait()
        if not self.started:  # it is, with a ping, if the first chunk was slow
            self.started = True
            await self._take_turn(message)

    async def body(self, chunk: bytes | memoryview) -> None:
        """Send one chunk of the body; more follows."""
        message = {"type": "http.response.body", "body": chunk, "more_body": True}
        if not self.shared:
            try:
                await self._send(message)
            except OSError as exc:  # as in _transmit
                raise _ClientGone from exc
            return
        while self._pinging is not None:
            await self._pinging.wait()
        if not self.finished:
            await self._take_turn(message)

    async def pour(
        self,
        items: AsyncIterator[Any],
        encode: Callable[[Any], bytes | memoryview],
        as_is: type | None = None,
        first: bytes | memoryview = b"",
        end: bool = False,
    ) -> None:
        """Send ``first``, then every item ``items`` still yields, as chunks of the body.

        Items of exactly the type ``as_is`` are sent as they are, the others
        ``encode``-d. An empty chunk says nothing, and costs a send: a lone
        producer skips it. ``end``: then send the final message (as ``end()``).
        """
        # perf: encode() skipped for ready bytes (64 chunks: 14.6 µs instead of 20.3),
        # and _transmit inlined (with _take_turn when shared): a call a chunk cost
        # 1,280 instructions (/stream 438,761 against 356,467), one loop for both
        # cases 170 (365,566). The first chunk and the end sent here by a lone
        # producer: two calls less (with StreamingResponse's ABC check skipped for
        # an async generator, /stream 337,397 against 341,202).
        send = self._send
        if not self.shared:  # the producer sends alone: no turns to take
            try:
                if first:
                    await send({"type": "http.response.body", "body": first, "more_body": True})
            except OSError as exc:  # as in _transmit
                raise _ClientGone from exc
            async for item in items:
                chunk = item if type(item) is as_is else encode(item)
                if chunk:
                    try:
                        await send(
                            {"type": "http.response.body", "body": chunk, "more_body": True}
                        )
                    except OSError as exc:  # as in _transmit
                        raise _ClientGone from exc
            if end:
                self.finished = True
                try:
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                except OSError as exc:  # as in _transmit
                    raise _ClientGone from exc
            return
        if first:
            await self.body(first)
        monotonic = time.monotonic
        async for item in items:  # events: never empty
            chunk = item if type(item) is as_is else encode(item)
            while self._pinging is not None:
                await self._pinging.wait()
            self._sending = True
            try:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            except OSError as exc:  # as in _transmit
                raise _ClientGone from exc
            finally:
                self._sending = False
            self.last_sent = monotonic()
        if end:
            await self.end()

    async def end(self) -> None:
        """Send the final, empty body message: the body is complete."""
        message = {"type": "http.response.body", "body": b"", "more_body": False}
        if not self.shared:
            self.finished = True
            try:
                await self._send(message)
            except OSError as exc:  # as in _transmit
                raise _ClientGone from exc
            return
        while self._pinging is not None:
            await self._pinging.wait()
        self.finished = True
        await self._take_turn(message)

    async def send_if_quiet(
        self, status: int, headers: RawHeaders, chunk: bytes, quiet: float
    ) -> None:
        """The pinger's turn: ``chunk`` (a keep-alive) if nothing went out for ``quiet`` s.

        Nothing is sent after the final message, nor while the producer is
        sending. The status line goes first if it has not been sent.
        """
        if self.finished or self._sending or time.monotonic() - self.last_sent < quiet:
            return
        self._pinging = sent = anyio.Event()
        try:
            if not self.started:
                self.started = True
                await self._transmit(
                    {"type": "http.response.start", "status": status, "headers": headers}
                )
            await self._transmit({"type": "http.response.body", "body": chunk, "more_body": True})
            self.last_sent = time.monotonic()
        finally:
            self._pinging = None
            sent.set()

    async def _take_turn(self, message: Message) -> None:
        """The producer's turn when shared: flagged (the pinger keeps off) and timed."""
        # perf: a plain flag and no lock: an uncontended anyio.Lock cost ~1 µs an event.
        self._sending = True
        try:
            await self._transmit(message)
        finally:
            self._sending = False
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


async def _end_helpers(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel the helper tasks and wait until they have ended, even in a cancelled scope."""
    for task in tasks:
        task.cancel()
    with anyio.CancelScope(shield=True):
        await asyncio.wait(tasks)


_asyncio_cancel_scope: type[anyio.CancelScope] | None = None


def _cancel_scope(on_asyncio: bool) -> anyio.CancelScope:
    """A new ``anyio.CancelScope`` for the backend running now."""
    global _asyncio_cancel_scope
    if not on_asyncio:
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
    produce: Callable[[Transmission], Coroutine[Any, Any, None]],
    close: Callable[[], Awaitable[None] | None] | None = None,
    *,
    helper: Helper | None = None,
) -> None:
    """Run ``produce`` until it returns, fails, the client leaves or the App shuts down.

    ``close`` is called afterwards in every case; what it returns (if not
    None) is awaited shielded from cancellation.
    ``helper`` (the SSE pinger) runs beside the producer and ends with it.
    See the module docstring for the rules. Raises what ``produce`` raised
    if nothing had been sent yet.
    """
    error: Exception | None = None
    context = app_context(scope)
    registry = None if context is None else context.streams
    transmission = Transmission(send, shared=helper is not None)
    try:
        # perf: the asyncio task, which tells the backend too: ~200 ns less than
        # running_loop() and then current_task() (/stream 321,098 against 321,689).
        task: Any = asyncio.current_task()
    except RuntimeError:  # no asyncio loop: another anyio backend (trio)
        task = None
    # A disconnect, a shutdown or a failed ping cancels this scope.
    stop: anyio.CancelScope | None = None

    try:
        if task is not None and late_entry():
            # perf: the producer's first step is taken here, by hand, outside the
            # scope; the scope is entered (late, _late_scope.py) and the helpers
            # (plain asyncio tasks) made only if it waits. Entering the scope
            # first cost ~2 µs (/stream 321,689 instructions against 337,397), a
            # deferred callback making the helpers 4,600 (351,738 against 347,144),
            # an anyio task group for them ~20 µs.
            outer = innermost_scope(task)
            producing = produce(transmission)
            try:
                try:
                    waiting_on = producing.send(None)
                except StopIteration:
                    pass  # done without letting the loop run: nothing could stop it
                else:
                    stop = _cancel_scope(True)
                    enter_late(stop, task, outer)
                    try:
                        if registry is not None:
                            registry.add(stop)
                        helpers = _helpers(receive, transmission, stop, helper)
                        loop = task.get_loop()
                        tasks = [loop.create_task(c) for c in helpers]
                        try:
                            await _resume(producing, waiting_on)
                        finally:
                            await _end_helpers(tasks)
                    except BaseException as exc:  # as a with statement would
                        if not stop.__exit__(type(exc), exc, exc.__traceback__):
                            raise
                    else:
                        stop.__exit__(None, None, None)
            except _ClientGone:
                pass
            except Exception as exc:  # as in _produce_in
                error = exc
        else:  # trio (or an anyio without what _late_scope needs): a task group
            stop = _cancel_scope(task is not None)
            with stop:
                if registry is not None:
                    registry.add(stop)
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
        if registry is not None and stop is not None:
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


@types.coroutine
def _resume(coroutine: Coroutine[Any, Any, None], waiting_on: Any) -> Generator[Any, Any, None]:
    """Await ``coroutine``, which stopped where it gave ``waiting_on`` to the event loop."""
    while True:
        try:
            value = yield waiting_on
        except GeneratorExit:
            coroutine.close()
            raise
        except BaseException as exc:  # thrown in while it waited (a cancellation)
            step: Callable[[Any], Any] = coroutine.throw
            value = exc
        else:
            if value is None:  # how asyncio's tasks always resume
                # From here on it is awaited as usual (a types.coroutine may
                # yield from a coroutine).
                yield from coroutine
                return
            step = coroutine.send
        try:
            waiting_on = step(value)
        except StopIteration:
            return


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
    """What the streamed responses share: a body sent over time, never held.

    Not public: ``StreamingResponse``, ``FileResponse`` and
    ``EventSourceResponse`` derive from it, and are built by
    ``Response.__init__`` like any response. Their ``body`` is ``STREAMED``,
    so ``init_headers`` sends a ``content-length`` only when given (a file
    adds its size).
    """

    def render(self, content: Any) -> memoryview:
        """No body in memory: ``STREAMED`` (what is sent comes from the producer)."""
        return STREAMED
