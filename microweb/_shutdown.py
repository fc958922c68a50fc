"""The streams an App has open, so that its shutdown can end them in bounded time.

The App owns one ``StreamRegistry`` for its life. A stream registers its
outermost cancel scope while it runs (``responses._stream.run_stream``) and
removes it once its body is closed; the registry knows nothing of streams
beyond those scopes. On ``lifespan.shutdown`` the App calls ``shutdown``:
``shutdown_event`` is set (a generator watching it can say goodbye), the
open streams get a grace period to end on their own, then the ones still
open are cancelled the way a client disconnect would cancel them.
"""

from __future__ import annotations

import asyncio
import logging
import weakref

import anyio

from microweb._utils import running_loop

__all__ = ["StreamRegistry"]

logger = logging.getLogger("microweb")


class StreamRegistry:
    """The streams an App has open, so that it can stop them when it shuts down.

    Owned by the App's context (``_context.AppContext.streams``). A stream adds its outermost
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
        old one was. (Trio's events are not bound to a loop.)
        """
        loop = running_loop()
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
