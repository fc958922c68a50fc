"""What the layers below the App need of it, as one typed value.

A response, a request or a stream never imports the App (imports point one
way) and never reaches into it by attribute name. The App hands down one
``AppContext`` instead: it puts it in every scope it handles, under
``CONTEXT``, and the inner layers read it with ``app_context(scope)``:

- ``streams``: the ``StreamRegistry`` a stream joins while it runs, so the
  App can end open streams on ``lifespan.shutdown``;
- ``max_body_size`` and ``request_memory_budget``: the limits ``Request``
  applies to what it reads (SPEC "Requests"; docs/reliability.md);
- ``url_path_for``: the App's, for ``request.url_for``;
- ``dependency_overrides``: the App's dict (the same object), read by routes
  with dependencies;
- ``answer_error``: the App's error boundary as a call, for a route whose
  generator dependencies must see the error response sent before their
  teardown (SPEC "Typed request data", ``Depends``).

A scope that did not come through an App has no context: a response called
on its own streams without a registry, a ``Request`` made by hand reads with
the default limits.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from microweb._memory import DEFAULT_BUDGET
from microweb._shutdown import StreamRegistry
from microweb.types import Receive, Scope, Send

__all__ = ["CONTEXT", "AppContext", "ErrorAnswer", "app_context"]

#: The error boundary: answers ``exc`` as the App would (logged 500, handlers...).
ErrorAnswer = Callable[[Scope, Receive, Send, Exception], Awaitable[None]]

#: The scope key the App's context travels under.
CONTEXT = "microweb.context"


class AppContext:
    """The App's settings and services that requests, responses and streams use."""

    __slots__ = (
        "answer_error",
        "dependency_overrides",
        "max_body_size",
        "request_memory_budget",
        "streams",
        "url_path_for",
    )

    def __init__(
        self,
        url_path_for: Callable[..., str],
        *,
        max_body_size: int | None = None,
        request_memory_budget: int | None = DEFAULT_BUDGET,
        answer_error: ErrorAnswer | None = None,
    ) -> None:
        self.streams = StreamRegistry()
        self.answer_error = answer_error
        self.url_path_for = url_path_for
        self.max_body_size = max_body_size
        self.request_memory_budget = request_memory_budget
        #: ``app.dependency_overrides``: the App hands out this very dict.
        self.dependency_overrides: dict[Callable[..., Any], Callable[..., Any]] = {}


def app_context(scope: Scope) -> AppContext | None:
    """The context of the App that ``scope`` came through, or None."""
    context: Any = scope.get(CONTEXT)
    return context if isinstance(context, AppContext) else None
