from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from microweb.concurrency import iterate_in_threadpool, run_in_threadpool

pytestmark = pytest.mark.anyio


async def test_run_in_threadpool_runs_off_the_loop_thread() -> None:
    loop_thread = threading.get_ident()

    def work(a: int, *, b: int) -> tuple[int, int]:
        return a + b, threading.get_ident()

    total, thread = await run_in_threadpool(work, 1, b=2)
    assert total == 3
    assert thread != loop_thread
    assert await run_in_threadpool(sum, [1, 2, 3]) == 6


async def test_run_in_threadpool_propagates_exceptions() -> None:
    def fail() -> None:
        raise KeyError("nope")

    with pytest.raises(KeyError, match="nope"):
        await run_in_threadpool(fail)


async def test_iterate_in_threadpool_draws_items_in_worker_threads() -> None:
    loop_thread = threading.get_ident()
    threads: list[int] = []

    def gen() -> Iterator[int]:
        for i in range(3):
            threads.append(threading.get_ident())
            yield i

    assert [i async for i in iterate_in_threadpool(gen())] == [0, 1, 2]
    assert threads
    assert loop_thread not in threads


async def test_iterate_in_threadpool_closes_the_generator_when_stopped_early() -> None:
    closed = threading.Event()

    def gen() -> Iterator[int]:
        try:
            yield from range(100)
        finally:
            closed.set()

    iterator = iterate_in_threadpool(gen())
    assert await iterator.__anext__() == 0
    await iterator.aclose()  # type: ignore[attr-defined]
    assert closed.is_set()


async def test_iterate_in_threadpool_plain_iterable() -> None:
    assert [x async for x in iterate_in_threadpool([b"a", b"b"])] == [b"a", b"b"]


def test_a_native_cancel_while_next_runs_still_closes_the_generator() -> None:
    # uvicorn cancels a request's task with task.cancel() when its graceful
    # shutdown times out; that may land while a worker thread is inside next().
    import asyncio

    inside = threading.Event()
    closed = threading.Event()

    def numbers() -> Iterator[int]:
        try:
            while True:
                inside.set()
                threading.Event().wait(0.2)  # blocking work inside next()
                yield 1
        finally:
            closed.set()

    async def consume() -> None:
        async for _ in iterate_in_threadpool(numbers()):
            pass

    async def main() -> None:
        task = asyncio.get_running_loop().create_task(consume())
        while not inside.is_set():
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert closed.wait(5), "the generator's finally did not run"
