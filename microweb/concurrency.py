"""Run blocking code without blocking the event loop.

Sync handlers, sync background tasks and sync iterators given to a streaming
response all go through these two helpers, so there is exactly one place that
decides how microweb uses worker threads (anyio's default thread limiter).
"""

from __future__ import annotations

import functools
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


def _next(iterator: Iterator[T]) -> T:
    try:
        return next(iterator)
    except StopIteration:
        raise _Exhausted from None


async def iterate_in_threadpool(iterable: Iterable[T]) -> AsyncIterator[T]:
    """Iterate a sync iterable, drawing each item in a worker thread.

    The loop never runs the iterator's code itself, so a slow or blocking
    generator cannot stall other requests. If the consumer stops early, the
    iterator's ``close()`` (a generator's ``finally``) runs in a thread too.
    """
    iterator = iter(iterable)
    try:
        while True:
            try:
                item = await anyio.to_thread.run_sync(_next, iterator)
            except _Exhausted:
                return
            yield item
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(close)
