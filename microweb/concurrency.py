"""Run blocking code without blocking the event loop.

Sync handlers, sync background tasks and sync iterators given to a streaming
response all go through these two helpers, so there is exactly one place that
decides how microweb uses worker threads (anyio's default thread limiter).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import ParamSpec, TypeVar

import anyio.to_thread

__all__ = ["iterate_in_threadpool", "run_in_threadpool"]

P = ParamSpec("P")
T = TypeVar("T")


async def run_in_threadpool(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Call ``func(*args, **kwargs)`` in a worker thread and await its result."""
    if kwargs:
        # anyio forwards positional arguments only.
        return await anyio.to_thread.run_sync(functools.partial(func, *args, **kwargs))
    return await anyio.to_thread.run_sync(func, *args)


class _Exhausted(Exception):
    """Raised in place of StopIteration, which cannot cross a Future."""


def _next(iterator: Iterator[T], turn: threading.Lock) -> T:
    with turn:
        try:
            return next(iterator)
        except StopIteration:
            raise _Exhausted from None


def _close(close: Callable[[], object], turn: threading.Lock) -> None:
    # Waits for a next() still running in another worker thread: a generator
    # closed while it executes raises ValueError and never runs its finally.
    with turn:
        close()


async def iterate_in_threadpool(iterable: Iterable[T]) -> AsyncIterator[T]:
    """Iterate a sync iterable, drawing each item in a worker thread.

    The loop never runs the iterator's code itself, so a slow or blocking
    generator cannot stall other requests. If the consumer stops early, the
    iterator's ``close()`` (a generator's ``finally``) runs in a thread too,
    once any ``next()`` still under way has returned: a native
    ``task.cancel()`` (uvicorn's, at the end of its graceful shutdown) can
    stop the await while the worker thread is still inside the generator.
    """
    iterator = iter(iterable)
    turn = threading.Lock()  # one of next() and close() at a time
    try:
        while True:
            try:
                item = await anyio.to_thread.run_sync(_next, iterator, turn)
            except _Exhausted:
                return
            yield item
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(_close, close, turn)
