"""The in-memory budget of one request (SPEC "Requests"; docs/reliability.md).

Everything a request makes microweb hold in memory is charged to one
budget, so a hostile client cannot grow the server past it whatever it
sends: the body ``body()``/``json()`` keeps, the text fields of a form, and
the files of a multipart form while they are still in memory. What would
pass the budget either moves to disk (a file spool rolls over early) or is
refused with 413 (bytes that must stay in memory).

The limit comes from ``App(request_memory_budget=...)`` (16 MiB unless
told otherwise; None: no budget). The budget is made with the request and
never shared between requests.
"""

from __future__ import annotations

__all__ = ["DEFAULT_BUDGET", "MemoryBudget", "over_budget"]

DEFAULT_BUDGET = 16 * 1024 * 1024


class MemoryBudget:
    """Bytes one request may hold in memory; ``charge`` before holding, ``release`` after."""

    __slots__ = ("limit", "used")

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.used = 0

    def charge(self, size: int) -> bool:
        """Take ``size`` bytes from the budget; False (nothing taken) if that would pass it."""
        if self.limit is not None and self.used + size > self.limit:
            return False
        self.used += size
        return True

    def room(self) -> int | None:
        """How many more bytes fit (None: no limit)."""
        return None if self.limit is None else max(0, self.limit - self.used)

    def release(self, size: int) -> None:
        """Give back ``size`` bytes no longer held in memory."""
        self.used = max(0, self.used - size)

    def refusal(self, what: str) -> str:
        """The 413 message for ``what`` that did not fit."""
        return over_budget(what, self.limit)


def over_budget(what: str, limit: int | None) -> str:
    """The 413 message for ``what`` that did not fit in a budget of ``limit`` bytes."""
    return (
        f"{what} would pass the request's in-memory budget of {limit} bytes "
        "(App(request_memory_budget=...))"
    )
