"""``Session``: the dict behind ``request.session``, which remembers being read.

``SessionMiddleware`` puts one in ``scope["session"]``; ``request.session``
marks it read, and a response whose content may depend on the session then
carries ``vary: Cookie`` (a shared cache must not serve it to another user).
"""

from __future__ import annotations

from typing import Any

__all__ = ["Session"]


class Session(dict[str, Any]):
    """A session: a dict of JSON values, with ``accessed`` set once the app read it."""

    __slots__ = ("accessed",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.accessed = False

    def mark_accessed(self) -> None:
        """Note that the app read the session (Starlette's ``request.session`` calls it)."""
        self.accessed = True
