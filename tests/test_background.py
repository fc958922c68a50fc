from __future__ import annotations

import functools
import logging
import threading

import pytest

from microweb.background import BackgroundTask, BackgroundTasks

pytestmark = pytest.mark.anyio


async def test_sync_task_runs_in_a_worker_thread() -> None:
    seen: list[int] = []
    task = BackgroundTask(lambda: seen.append(threading.get_ident()))
    await task()
    assert seen
    assert seen != [threading.get_ident()]


async def test_async_task_is_awaited_with_arguments() -> None:
    seen: list[tuple[int, str]] = []

    async def record(n: int, *, word: str) -> None:
        seen.append((n, word))

    await BackgroundTask(record, 1, word="x")()
    await BackgroundTask(functools.partial(record, 2), word="y")()
    assert seen == [(1, "x"), (2, "y")]


async def test_failing_task_is_logged_with_its_name(caplog: pytest.LogCaptureFixture) -> None:
    async def send_email() -> None:
        raise ConnectionError("smtp down")

    with caplog.at_level(logging.ERROR, logger="microweb"):
        await BackgroundTask(send_email)()
    [record] = caplog.records
    assert record.name == "microweb"
    assert "send_email" in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], ConnectionError)


async def test_tasks_run_in_order_and_survive_failures(caplog: pytest.LogCaptureFixture) -> None:
    order: list[str] = []
    tasks = BackgroundTasks()
    tasks.add_task(order.append, "a")
    tasks.add_task(lambda: 1 / 0)
    tasks.add_task(order.append, "c")
    with caplog.at_level(logging.ERROR, logger="microweb"):
        await tasks()
    assert order == ["a", "c"]
    assert len(caplog.records) == 1
    assert isinstance(tasks, BackgroundTask)


async def test_background_tasks_from_a_list() -> None:
    order: list[int] = []
    await BackgroundTasks([BackgroundTask(order.append, 1), BackgroundTask(order.append, 2)])()
    assert order == [1, 2]


def test_non_callable_refused() -> None:
    with pytest.raises(TypeError, match="callable"):
        BackgroundTask("not a function")  # type: ignore[arg-type]
