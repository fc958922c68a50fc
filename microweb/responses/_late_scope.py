"""Entering a stream's cancel scope late, as if it had been entered first (asyncio only).

Theory of operation
-------------------

A stream's producer runs in an anyio cancel scope so that a disconnect or a
shutdown can stop it (``_stream.run_stream``). Entering and leaving that
scope costs about 2 µs on asyncio, most of a short stream's fixed cost,
and buys nothing for a producer that never lets the event loop run: nothing
can cancel it then. So ``run_stream`` takes the producer's first step
without the scope, and only if the producer then waits does it enter the
scope, here, before the producer goes on.

The scope must then sit where it would have been: around the producer's own
cancel scopes. anyio on asyncio keeps, per task, its innermost scope (a
``TaskState`` in ``_task_states``); each scope knows its parent, its child
scopes and the tasks it holds directly. ``innermost_scope`` reads the task's
innermost scope before the first step; ``enter_late`` compares it after:

- the same scope (the usual case: the producer holds no scope of its own
  while it waits): the scope is entered the ordinary way, ``__enter__``;
- a scope opened by the producer (it waits inside ``move_on_after``, a task
  group, a shield...): the scope is put between the one found before and
  the outermost of the producer's, as ``__enter__`` before them would have
  done. Cancelling it reaches the producer's scopes as their parent
  (shields respected, delivered again while the producer keeps waiting);
  when the producer leaves its scopes, this one is the task's innermost
  again and is left the ordinary way, ``__exit__``.

These are anyio's private structures: ``late_entry()`` is False when the
installed anyio lacks any of them, or is not of the major release the tests
cover (4), and ``run_stream`` then enters the scope before the first step,
as it always did.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
from typing import Any

import anyio

__all__ = ["enter_late", "innermost_scope", "late_entry"]

# What enter_late sets or reads on anyio's asyncio CancelScope.
_NEEDED = {
    "_active",
    "_cancelling_at_enter",
    "_child_scopes",
    "_host_task",
    "_parent_scope",
    "_tasks",
}
_task_states: Any = None
_late_entry: bool | None = None


def late_entry() -> bool:
    """True when the installed anyio has what ``enter_late`` reads and sets.

    Found on the first call, on asyncio: anyio's asyncio backend is imported
    then, not when microweb is.
    """
    global _late_entry, _task_states
    if _late_entry is None:
        if not _tested_anyio(_anyio_version()):
            _late_entry = False
            return False
        try:
            from anyio._backends import _asyncio as backend
        except ImportError:  # pragma: no cover - another anyio
            _late_entry = False
            return False
        _task_states = getattr(backend, "_task_states", None)
        slots = getattr(getattr(backend, "CancelScope", None), "__slots__", ())
        _late_entry = _task_states is not None and _NEEDED.issubset(slots)
    return _late_entry


def _anyio_version() -> str:
    try:
        return importlib.metadata.version("anyio")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - a vendored anyio
        return ""


def _tested_anyio(version: str) -> bool:
    """Whether ``version`` is a major release whose private structures the tests cover (4).

    A later major may keep the names ``_NEEDED`` lists and change what they mean:
    there streams enter their scope first, as before.
    """
    return version.split(".", 1)[0] == "4"


def innermost_scope(task: asyncio.Task[Any]) -> Any:
    """``task``'s innermost anyio cancel scope now (None: it has none)."""
    state = _task_states.get(task)
    return None if state is None else state.cancel_scope


def enter_late(scope: anyio.CancelScope, task: asyncio.Task[Any], outer: Any) -> None:
    """Enter ``scope`` in ``task`` as if before the scopes opened since ``outer`` was innermost.

    ``outer`` is what ``innermost_scope(task)`` said then. ``scope`` is left
    with ``scope.__exit__`` once the producer has left its own scopes.
    """
    inner = innermost_scope(task)
    if inner is outer:  # the producer holds no scope of its own: enter as usual
        scope.__enter__()
        return
    late: Any = scope
    first = inner  # the outermost of the producer's open scopes
    while first._parent_scope is not outer:
        first = first._parent_scope
        if first is None:
            raise RuntimeError("the producer left a cancel scope it had not entered")
    late._host_task = task
    late._active = True
    late._cancelling_at_enter = first._cancelling_at_enter  # no loop turn since then
    late._parent_scope = outer
    if outer is not None:
        outer._child_scopes.remove(first)
        outer._child_scopes.add(late)
    first._parent_scope = late
    late._child_scopes.add(first)
