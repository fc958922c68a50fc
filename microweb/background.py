"""Work that runs after the response has been sent.

A response awaits its ``background`` once the last body byte is out. A task
that raises is logged (logger ``microweb``, with the task's name and the
traceback) and swallowed: the client already has its answer, and the tasks
after it still run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, ParamSpec

from microweb._utils import callable_name, is_async_callable
from microweb.concurrency import run_in_threadpool

__all__ = ["BackgroundTask", "BackgroundTasks"]

P = ParamSpec("P")
logger = logging.getLogger("microweb")


class BackgroundTask:
    """One call to make after the response: ``BackgroundTask(send_email, to, subject=s)``.

    Async functions are awaited on the event loop; plain functions run in a
    worker thread so they cannot block other requests.
    """

    def __init__(self, func: Callable[P, Any], *args: P.args, **kwargs: P.kwargs) -> None:
        if not callable(func):
            raise TypeError(f"BackgroundTask expects a callable, got {func!r}")
        self.func = func
        self.args = args
        self.kwargs = kwargs
        self.is_async = is_async_callable(func)

    async def __call__(self) -> None:
        try:
            if self.is_async:
                await self.func(*self.args, **self.kwargs)
            else:
                await run_in_threadpool(self.func, *self.args, **self.kwargs)
        except Exception:
            logger.exception("background task %s raised", callable_name(self.func))


class BackgroundTasks(BackgroundTask):
    """Several background calls, run one after another in the order added.

    Declare a handler parameter annotated ``BackgroundTasks`` to receive one::

        @app.post("/signup")
        async def signup(email: str, tasks: BackgroundTasks) -> dict[str, str]:
            tasks.add_task(send_welcome, email)
            return {"status": "ok"}
    """

    def __init__(self, tasks: list[BackgroundTask] | None = None) -> None:
        self.tasks: list[BackgroundTask] = list(tasks) if tasks else []

    def add_task(self, func: Callable[P, Any], *args: P.args, **kwargs: P.kwargs) -> None:
        """Queue ``func(*args, **kwargs)`` to run after the response."""
        self.tasks.append(BackgroundTask(func, *args, **kwargs))

    async def __call__(self) -> None:
        # Each task logs its own failure, so one failing task never stops the rest.
        for task in self.tasks:
            await task()
