"""A route's dependencies, solved for one request: check everything, call, tear down.

SPEC.md "Typed request data" (``Depends``). The tree of ``Dependency``
objects is built when the route is added (``_params``); a ``Solver`` walks it
for one request in three steps:

1. the body is read and decoded once for the whole tree (``route_body``: the
   union of the handler's and its dependencies' body parameters, FastAPI's
   embedding rule applied to it); every binding of the tree (the handler's
   and each dependency's) reads its path, query, header, cookie values and
   takes its body values; the failures of all of them make one 422, and then
   nothing has been called;
2. the dependencies are called, deepest first, each once per request when
   ``use_cache`` (the default), with the Request, temporary Response and
   BackgroundTasks the handler gets (on a WebSocket route: the WebSocket); a
   generator dependency is run to its ``yield`` and kept;
3. ``teardown``, once the response is sent and its background tasks ran,
   resumes the kept generators in reverse order, throwing in the handler's
   exception if it raised; a teardown that raises is logged (logger
   ``microweb``), the response being already sent.

``app.dependency_overrides`` (the App's context in the scope, ``_context``) is
read per request, and only by routes with dependencies; an override is
compiled the first time it is met.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable, Generator
from typing import TYPE_CHECKING, Any

from microweb._body import BodyRead, BodyReader
from microweb._context import app_context
from microweb._dependency import Dependency
from microweb._params import Binding, Bound
from microweb._temporary import TemporaryResponse
from microweb._utils import callable_name
from microweb._validation import ErrorDict
from microweb.background import BackgroundTasks
from microweb.concurrency import run_in_threadpool
from microweb.exceptions import RequestValidationError
from microweb.requests import Request
from microweb.types import Receive, Scope
from microweb.websockets import WebSocket

if TYPE_CHECKING:
    from microweb._form import FormReader

__all__ = ["Solver"]

logger = logging.getLogger("microweb")

_NOTHING: Any = object()  # what ``next`` gives for a generator that ended without a yield


class Solver:
    """The dependencies of one request: their values, their cache, their teardowns."""

    __slots__ = (
        "body",
        "cache",
        "errors",
        "exits",
        "overrides",
        "read",
        "read_names",
        "receive",
        "request",
        "scope",
        "status_code",
        "tasks",
        "temporary",
        "values",
        "websocket",
    )

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        status_code: int,
        websocket: WebSocket | None = None,
    ) -> None:
        self.scope = scope
        self.websocket = websocket  # what a WebSocket route's bindings get as the connection
        self.receive = receive
        self.status_code = status_code  # what a temporary Response starts with
        context = app_context(scope)
        overrides = None if context is None else context.dependency_overrides
        self.overrides: dict[Callable[..., Any], Callable[..., Any]] | None = overrides or None
        self.request: Request | None = None
        self.temporary: TemporaryResponse | None = None
        self.tasks: BackgroundTasks | None = None
        self.values: dict[Binding, dict[str, Any]] = {}
        self.errors: list[ErrorDict] = []
        self.body: Any = None
        self.read: BodyRead | None = None  # the route's body, read (Binding.route_body)
        self.read_names: frozenset[str] = frozenset()
        self.cache: dict[Callable[..., Any], Any] = {}
        self.exits: list[tuple[Dependency, Generator[Any] | AsyncGenerator[Any]]] = []

    async def bind(self, binding: Binding) -> Bound:
        """The handler's arguments, its dependencies called, or a 422 for all that failed."""
        reader = binding.route_body
        if reader is not None:
            # One read and one decode of the body for the whole tree (its union).
            self.read = await reader.read(self._request())
            self.read_names = frozenset(param.name for param in reader.params)
            self.errors += self.read.errors
            self.body = self.read.value
        await self._read(binding)
        if self.errors:
            raise RequestValidationError(self.errors, body=self.body)
        kwargs = await self._arguments(binding)
        return Bound(kwargs, self.temporary, self.tasks, self.request)

    def _resolve(self, dependency: Dependency) -> Dependency:
        overrides = self.overrides
        if overrides is not None:
            other = overrides.get(dependency.call)
            if other is not None:
                return dependency.override(other)
        return dependency

    async def _read(self, binding: Binding) -> None:
        """Step 1: the values of ``binding`` and of its dependencies, deepest first."""
        if binding in self.values:
            return
        for _, dependency in binding.dependencies:
            await self._read(self._resolve(dependency).binding)
        kwargs: dict[str, Any] = {}
        if binding.fills:
            binding.fill(self.scope, kwargs, self.errors)
        if binding.body is not None:
            kwargs.update(await self._body_values(binding.body))
        self.values[binding] = kwargs

    async def _body_values(self, reader: BodyReader | FormReader) -> dict[str, Any]:
        """The body values of one binding, from the route's one read."""
        read = self.read
        names = [param.name for param in reader.params]
        if read is not None and self.read_names.issuperset(names):
            return {name: read.kwargs[name] for name in names if name in read.kwargs}
        # A form (each binding reads the request's one parsed form), or an
        # override (app.dependency_overrides) with body parameters the route
        # did not declare: its own reader reads them.
        own = await reader.read(self._request())
        self.errors += own.errors
        if self.body is None:
            self.body = own.value
        return own.kwargs

    async def _arguments(self, binding: Binding) -> dict[str, Any]:
        """Step 2: the keywords of ``binding``, its dependencies called."""
        kwargs = self.values[binding]
        for name, dependency in binding.dependencies:
            value = await self._call(self._resolve(dependency))
            if name is not None:
                kwargs[name] = value
        if binding.response_names:
            if self.temporary is None:
                self.temporary = TemporaryResponse(self.status_code)
            for name in binding.response_names:
                kwargs[name] = self.temporary
        if binding.background_names:
            if self.tasks is None:
                self.tasks = BackgroundTasks()
            for name in binding.background_names:
                kwargs[name] = self.tasks
        for name in binding.request_names:
            kwargs[name] = self._request()
        for name in binding.websocket_names:
            kwargs[name] = self._websocket(binding)
        return kwargs

    def _request(self) -> Request:
        if self.request is None:
            self.request = Request(self.scope, self.receive)
        return self.request

    def _websocket(self, binding: Binding) -> WebSocket:
        if self.websocket is None:  # an override met on an HTTP route
            names = ", ".join(repr(name) for name in binding.websocket_names)
            raise TypeError(f"parameter {names} wants a WebSocket, but this is an HTTP request")
        return self.websocket

    async def _call(self, dependency: Dependency) -> Any:
        fn = dependency.call
        if dependency.use_cache and fn in self.cache:
            return self.cache[fn]
        kwargs = await self._arguments(dependency.binding)
        mode = dependency.mode
        if mode == "async":
            value = await fn(**kwargs)
        elif mode == "sync":
            value = await run_in_threadpool(fn, **kwargs)
        elif mode == "generator":
            generator = fn(**kwargs)  # runs none of its code: no thread needed
            value = await run_in_threadpool(next, generator, _NOTHING)
            if value is _NOTHING:
                raise _no_yield(dependency)
            self.exits.append((dependency, generator))
        else:
            agenerator = fn(**kwargs)
            try:
                value = await agenerator.__anext__()
            except StopAsyncIteration:
                raise _no_yield(dependency) from None
            self.exits.append((dependency, agenerator))
        if dependency.use_cache:
            self.cache[fn] = value
        return value

    async def teardown(self, exc: BaseException | None) -> None:
        """Step 3: resume the generator dependencies, last set up first.

        ``exc`` (the handler's, or the 422's) is thrown in at ``yield``; what
        a teardown raises is logged, never raised: the response is sent.
        """
        while self.exits:
            dependency, generator = self.exits.pop()
            try:
                if isinstance(generator, Generator):
                    await run_in_threadpool(_finish, generator, exc)
                else:
                    await _afinish(generator, exc)
            except Exception:
                logger.exception(
                    "teardown of dependency %r of %s failed",
                    callable_name(dependency.call),
                    dependency.route,
                )


def _no_yield(dependency: Dependency) -> RuntimeError:
    return RuntimeError(
        f"dependency {callable_name(dependency.call)!r} of {dependency.route} ended without "
        "yielding a value; a generator dependency yields exactly one"
    )


def _finish(generator: Generator[Any], exc: BaseException | None) -> None:
    """Run a sync generator dependency past its ``yield`` (``exc`` thrown in, if any)."""
    try:
        if exc is None:
            next(generator)
        else:
            generator.throw(exc)
    except StopIteration:
        return
    except BaseException as raised:
        if raised is exc:
            return  # re-raised as it came: the handler's exception goes on anyway
        raise
    generator.close()
    raise RuntimeError("a generator dependency yielded twice; it yields exactly one value")


async def _afinish(generator: AsyncGenerator[Any], exc: BaseException | None) -> None:
    """``_finish`` for an async generator dependency."""
    try:
        if exc is None:
            await generator.__anext__()
        else:
            await generator.athrow(exc)
    except StopAsyncIteration:
        return
    except BaseException as raised:
        if raised is exc:
            return
        raise
    await generator.aclose()
    raise RuntimeError("a generator dependency yielded twice; it yields exactly one value")
