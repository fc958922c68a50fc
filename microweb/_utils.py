"""Small helpers shared by several modules."""

from __future__ import annotations

import asyncio
import functools
import inspect
from typing import Any

from microweb.types import Scope


def unwrap_partial(obj: Any) -> Any:
    """The function inside any number of ``functools.partial`` layers."""
    while isinstance(obj, functools.partial):
        obj = obj.func
    return obj


def is_async_callable(obj: Any) -> bool:
    """True for an ``async def`` function, a partial of one, or an async ``__call__``."""
    obj = unwrap_partial(obj)
    return inspect.iscoroutinefunction(obj) or (
        callable(obj) and inspect.iscoroutinefunction(type(obj).__call__)
    )


def callable_name(obj: Any) -> str:
    """A function's qualified name for messages and logs (its repr when it has none)."""
    return getattr(obj, "__qualname__", None) or repr(obj)


def describe(scope: Scope) -> str:
    """``"GET /items/1"``: a request in a log line (``?`` for what the scope lacks)."""
    return f"{scope.get('method', '?')} {scope.get('path', '?')}"


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The asyncio event loop running now, or None (no loop, or another backend such as trio)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
