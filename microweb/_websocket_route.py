"""``WebSocketRoute``, what a router compiles it into, and the feed that runs a generator.

A ``WebSocketRoute`` is an immutable description, like ``routing.Route``;
each router that holds it files a ``WebSocketEntry`` for its path, whose
``WebSocketEndpoint`` answers one websocket scope routed to it (SPEC
"WebSockets"), deciding per route, once, what it can:

- the binding: path and query parameters as for HTTP (``_params``); a
  parameter annotated ``WebSocket`` gets the connection. A value that does not
  bind raises the ``RequestValidationError`` the App's websocket boundary
  turns into a 422 denial (or close 1008) before accept;
- the call mode: an ``async def`` handler is awaited; an async generator
  function is a *feed*.

Then, per connection:

1. The handler runs in a cancel scope that sits in the App's
   ``StreamRegistry`` (``_context``) like a stream: on ``lifespan.shutdown``,
   once the grace period has passed, it is cancelled and the connection is
   closed with 1001 ("going away").
2. A handler that returns leaving the connection open gets a close 1000;
   one that never accepted refuses the handshake the same way.
3. A feed: each yielded value is sent (``str`` as text, ``bytes`` as binary,
   anything else as JSON text), accepting first unless the handler did, and
   the connection is closed 1000 when the generator ends. Without a
   ``WebSocket`` parameter the handler cannot ``receive``, so a watcher
   does: on ``websocket.disconnect`` it cancels the feed, which stops the
   generator where it waits (between yields too); with one, the handler owns
   ``receive``. Either way the generator is closed (its ``finally`` runs).

Exceptions are not answered here: they travel up to the App's websocket
error boundary (``App._websocket``), which knows what was already sent.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
from collections.abc import AsyncGenerator, Callable, Coroutine, Sequence
from typing import Any, NamedTuple

import anyio
from anyio.abc import TaskGroup

from microweb._context import app_context
from microweb._convertors import Convertor
from microweb._dependency import depends_list
from microweb._depends import Solver
from microweb._matcher import CompiledPath, compile_path
from microweb._params import Binding, bind_endpoint, type_hints
from microweb._route_base import BaseRoute, path_for
from microweb._utils import callable_name, is_async_callable, unwrap_partial
from microweb.params import DependsMarker
from microweb.responses import Response
from microweb.types import Receive, Scope, Send
from microweb.websockets import WebSocket, WebSocketDisconnect, WebSocketState

__all__ = ["WebSocketEndpoint", "WebSocketEntry", "WebSocketRoute", "close_if_open"]

#: RFC 6455 §7.4.1: the endpoint is going away (the server is shutting down).
GOING_AWAY = 1001


def _check_handler(endpoint: Callable[..., Any], where: str) -> bool:
    """True for an async generator function (a feed), False for an ``async def`` handler.

    Raises ``TypeError`` for anything else: a WebSocket handler awaits.
    """
    if inspect.isasyncgenfunction(unwrap_partial(endpoint)):
        return True
    if is_async_callable(endpoint):
        return False
    raise TypeError(
        f"the handler {callable_name(endpoint)!r} of {where} must be an 'async def' "
        "function or an async generator function"
    )


def bind_websocket_endpoint(
    endpoint: Callable[..., Any],
    path_params: dict[str, Convertor[Any]],
    where: str,
    checks: Sequence[DependsMarker] = (),
) -> Binding:
    """``bind_endpoint`` for a WebSocket handler: the HTTP binder, with a WebSocket's limits.

    A parameter annotated ``WebSocket`` (or a subclass; unannotated and named
    ``websocket`` too) gets the connection, in the handler and in its
    dependencies; the others are bound as for HTTP: path, query, header and
    cookie values, markers and ``Depends``. Anything that needs an HTTP
    request (a ``Request``, ``Response`` or ``BackgroundTasks``, a body,
    form or file), in the handler or a dependency, is a TypeError.
    """
    described = f"handler {callable_name(endpoint)!r} of {where}"
    try:
        signature = inspect.signature(endpoint)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"cannot read the signature of {described}: {exc}") from exc
    target: Callable[..., Any] = endpoint
    parameter = signature.parameters.get("websocket")
    if parameter is not None and parameter.annotation is inspect.Parameter.empty:
        # The same handler, its ``websocket`` annotated: what bind_endpoint reads.
        hints = type_hints(endpoint, described)

        def target(**kwargs: Any) -> None: ...

        target.__signature__ = signature  # type: ignore[attr-defined]
        target.__annotations__ = {**hints, "websocket": WebSocket}
        target.__qualname__ = callable_name(endpoint)
    binding = bind_endpoint(target, path_params, where, checks=checks)
    for found in binding.tree():
        if found.request_names or found.response_names or found.background_names:
            names = (*found.request_names, *found.response_names, *found.background_names)
            raise TypeError(
                f"{described} takes a Request, Response or BackgroundTasks ({names[0]!r}, "
                "in it or a dependency), which a WebSocket has none of; take a WebSocket "
                "instead"
            )
        if found.body is not None:
            raise TypeError(
                f"{described} takes a request body (in it or a dependency), which a "
                "WebSocket handshake has none of; read messages with "
                "websocket.receive_json() instead"
            )
    return binding


@dataclasses.dataclass(frozen=True, slots=True, init=False, repr=False, eq=False)
class WebSocketRoute(BaseRoute):
    """One path and its WebSocket handler: an immutable description.

    ``WebSocketRoute(path, endpoint, name=None, dependencies=None)``; the name
    defaults to the function's name. The handler is an ``async def`` function
    (or an async generator function: a feed, SPEC "WebSockets") taking a
    parameter annotated ``WebSocket`` and path, query, header and cookie
    parameters and ``Depends``, bound as for ``Route``; ``dependencies``
    (``[Depends(check)]``) run first, their values unused. It is also an
    ASGI app on its own, once ``scope["path_params"]`` holds its converted
    path values.

    Raises ``TypeError`` or ``ValueError`` naming the route for a bad path,
    handler, or a parameter that cannot be bound.
    """

    path: str
    endpoint: Callable[..., Any]
    name: str
    compiled: CompiledPath
    binding: Binding  # how each handler parameter is bound
    dependencies: tuple[DependsMarker, ...]  # run before the handler, values unused
    is_feed: bool  # an async generator function: what it yields is sent
    _own: WebSocketEndpoint

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        name: str | None = None,
        *,
        dependencies: Sequence[Any] | None = None,
    ) -> None:
        if not isinstance(path, str):
            raise TypeError(f"the path of a route must be a str, got {path!r}")
        where = f"WebSocket route {path!r}"
        if not callable(endpoint):
            raise TypeError(f"the endpoint of {where} must be callable, got {endpoint!r}")
        is_feed = _check_handler(endpoint, where)
        compiled = compile_path(path)
        checks = depends_list(dependencies, where)
        binding = bind_websocket_endpoint(
            endpoint, {param.name: param.convertor for param in compiled.params}, where, checks
        )
        init = object.__setattr__  # frozen: the one place the attributes are set
        init(self, "path", path)
        init(self, "endpoint", endpoint)
        init(self, "name", name if name is not None else getattr(endpoint, "__name__", path))
        init(self, "compiled", compiled)
        init(self, "binding", binding)
        init(self, "dependencies", checks)
        init(self, "is_feed", is_feed)
        init(self, "_own", WebSocketEndpoint(self))

    def url_path_for(self, name: str, /, **params: Any) -> str:
        """This route's path with ``params`` filled in, percent-quoted."""
        return path_for(self.name, self.compiled, name, params)

    def under(self, prefix: str, dependencies: Sequence[DependsMarker] = ()) -> WebSocketRoute:
        """This route under ``prefix``, ``dependencies`` run before its own."""
        if not (prefix or dependencies):
            return self
        return WebSocketRoute(
            prefix + self.path,
            self.endpoint,
            name=self.name,
            dependencies=(*dependencies, *self.dependencies),
        )

    def compile(self, default_response_class: type[Response] | None) -> Sequence[WebSocketEntry]:
        return (WebSocketEntry(self.compiled, WebSocketEndpoint(self)),)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a websocket scope routed here (``scope["path_params"]`` already converted)."""
        await self._own(scope, receive, send)

    def __repr__(self) -> str:
        return f"WebSocketRoute({self.path!r}, name={self.name!r})"


class WebSocketEntry(NamedTuple):
    """What a compiled WebSocket route asks its router to file: ``app`` answers on ``path``."""

    path: CompiledPath
    app: WebSocketEndpoint


class WebSocketEndpoint:
    """A ``WebSocketRoute`` compiled for one router: an ASGI app for its websocket scopes."""

    __slots__ = ("binding", "is_feed", "param_names", "route", "websocket_names")

    def __init__(self, route: WebSocketRoute) -> None:
        self.route = route
        self.binding: Binding = route.binding
        self.websocket_names = route.binding.websocket_names  # the handler's own
        self.param_names = tuple(param.name for param in route.compiled.params)
        self.is_feed = route.is_feed

    @property
    def path(self) -> str:
        return self.route.path

    @property
    def name(self) -> str:
        return self.route.name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive, send)
        if self.binding.dependencies:
            await self._with_dependencies(scope, receive, websocket)
            return
        kwargs = self.binding.bind(scope, receive, 200).kwargs
        # A binding with WebSocket names is never a passthrough: kwargs is its own dict.
        for name in self.websocket_names:
            kwargs[name] = websocket
        await close_if_open(websocket, await self._run(scope, kwargs, websocket))

    async def _with_dependencies(
        self, scope: Scope, receive: Receive, websocket: WebSocket
    ) -> None:
        """``__call__`` for a route with dependencies: solved first, torn down when it ends.

        As for HTTP (``_depends``): every value is checked before any
        dependency is called (a failure is the 422 denial); the generator
        dependencies resume when the handler has ended, before the close.
        """
        solver = Solver(scope, receive, 200, websocket)
        try:
            kwargs = (await solver.bind(self.binding)).kwargs
            code = await self._run(scope, kwargs, websocket)
        except BaseException as exc:
            await solver.teardown(exc)
            raise
        await solver.teardown(None)
        await close_if_open(websocket, code)

    async def _run(self, scope: Scope, kwargs: dict[str, Any], websocket: WebSocket) -> int:
        """Run the handler, stopped on shutdown; the close code for what it leaves open."""
        context = app_context(scope)
        registry = None if context is None else context.streams
        with anyio.CancelScope() as stop:
            if registry is not None:
                registry.add(stop)
            try:
                if self.is_feed:
                    await self._feed(self.route.endpoint(**kwargs), websocket)
                else:
                    await self.route.endpoint(**kwargs)
            finally:
                if registry is not None:
                    registry.discard(stop)
        return GOING_AWAY if stop.cancelled_caught else 1000

    async def _feed(self, generator: AsyncGenerator[Any, None], websocket: WebSocket) -> None:
        try:
            if self.websocket_names:
                await _pump(generator, websocket)  # the handler owns receive
            else:
                if websocket.application_state is WebSocketState.CONNECTING:
                    await websocket.accept()  # unless a dependency did
                await _watched(_pump(generator, websocket), websocket)
        finally:
            with anyio.CancelScope(shield=True):
                await generator.aclose()
        if websocket.application_state is WebSocketState.CONNECTING:
            await websocket.accept()  # a feed that yielded nothing is still accepted

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.route!r}>"


async def _pump(generator: AsyncGenerator[Any, None], websocket: WebSocket) -> None:
    """Send what ``generator`` yields, accepting before the first value unless it did."""
    connecting = WebSocketState.CONNECTING  # perf: one enum lookup, not one an item (3.11)
    async for item in generator:
        if websocket.application_state is connecting:
            await websocket.accept()
        if isinstance(item, str):
            await websocket.send_text(item)
        elif isinstance(item, (bytes, bytearray, memoryview)):
            await websocket.send_bytes(bytes(item))
        else:
            await websocket.send_json(item)


async def _watched(feed: Coroutine[Any, Any, None], websocket: WebSocket) -> None:
    """Run ``feed`` until it ends or the client leaves, whichever comes first."""
    error: Exception | None = None

    async def run_feed(group: TaskGroup) -> None:
        nonlocal error
        try:
            await feed
        except Exception as exc:  # re-raised below, never wrapped in an ExceptionGroup
            error = exc
        group.cancel_scope.cancel()  # the watcher is not needed any more

    async def watch(gone: anyio.CancelScope) -> None:
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass  # a feed has no use for what the client sends
        gone.cancel()

    with anyio.CancelScope() as gone:
        async with anyio.create_task_group() as group:
            group.start_soon(watch, gone)
            await run_feed(group)
    if error is not None:
        raise error


async def close_if_open(websocket: WebSocket, code: int) -> None:
    """Close with ``code`` what is still open (accepted or not) while the client is there."""
    if (
        websocket.application_state in (WebSocketState.CONNECTING, WebSocketState.CONNECTED)
        and websocket.client_state is not WebSocketState.DISCONNECTED
    ):
        with contextlib.suppress(WebSocketDisconnect):  # gone meanwhile: nobody to tell
            await websocket.close(code)
