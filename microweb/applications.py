"""The App: routes, the error boundary, lifespan and middleware, as one ASGI app.

A request's way through (the stack is built once, on the first call)::

    App.__call__             puts the app in scope["app"] (and its context, see below)
      user middleware        plain ASGI, the first given is the outermost
      App._dispatch          lifespan -> _lifespan; http -> _http; websocket -> _websocket
        App._http            the error boundary: any exception below becomes a response
        App._websocket       the websocket one (_ws_boundary): a denial response or a close code
          Router             match, 404/405/OPTIONS/HEAD
            Endpoint         bind arguments, call the handler, coerce, send (per route, compiled)

The error boundary (SPEC "Errors") answers an exception that escaped the
router, in this order: a handler registered for its status code (for an
``HTTPException``), a handler registered for its class or a base class, the
default for an ``HTTPException`` (``{"detail": ...}`` as JSON), else a logged
500. An App without middleware takes the router's and a plain endpoint's steps
itself (``Router.resolve``, then ``Endpoint.direct``'s handler and messages):
two coroutine frames fewer. There the scope gets ``scope["app"]`` and the
App's context (``_context``) only once something other than microweb's own
steps may read it: a Response to call, another kind of endpoint, an error
to answer. A handler that takes only its path values never sees the scope.

Everything below the boundary sends nothing before it raises (streams
pull their first chunk before the status line), so the boundary can always
answer; if a response had started after all, the server refuses the second
start and the error is logged.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import anyio

from microweb._context import CONTEXT, AppContext
from microweb._endpoint import Endpoint
from microweb._exception_handlers import (
    ExceptionHandler,
    call_handler,
    handler_for,
    http_exception_response,
    log_unhandled,
)
from microweb._memory import DEFAULT_BUDGET
from microweb._route_base import BaseRoute
from microweb._route_decorators import RouteDecorators
from microweb._utils import describe
from microweb._ws_boundary import WebSocketBoundary
from microweb.datastructures import State
from microweb.exceptions import HTTPException
from microweb.requests import ClientDisconnect, Request
from microweb.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
)
from microweb.routing import Router
from microweb.types import ASGIApp, Receive, Scope, Send

__all__ = ["App"]

logger = logging.getLogger("microweb")

F = TypeVar("F", bound=Callable[..., Any])
Lifespan = Callable[[Any], AbstractAsyncContextManager[Mapping[str, Any] | None]]
MiddlewareSpec = tuple[Callable[..., ASGIApp], Mapping[str, Any]]


class App(RouteDecorators):
    """A microweb application: an ASGI app that routes requests to handlers.

    ::

        app = App()

        @app.get("/items/{item_id:int}")
        async def read_item(item_id: int, q: str | None = None) -> dict[str, Any]:
            return {"item_id": item_id, "q": q}

    ``default_response_class`` wraps what handlers return (JSON unless told
    otherwise); ``middleware`` is a list of ``(MiddlewareClass, options)``,
    outermost first; ``exception_handlers`` maps exception classes or status
    codes to ``(request, exc) -> Response``; ``lifespan`` is an async context
    manager factory ``(app) -> ...`` run around the server's life;
    ``max_body_size`` bounds the request bodies read into memory (413 past it);
    ``dependencies`` (``[Depends(check)]``) run before every handler, values unused.

    OpenAPI (SPEC "OpenAPI"): ``title``, ``version`` and ``description`` head
    the document ``openapi()`` builds; it is served at ``openapi_url`` and a
    Swagger UI page at ``docs_url`` (``None`` turns either off; without the
    document there is no page), which loads Swagger UI from ``docs_js_url``
    and ``docs_css_url`` (``None``: jsDelivr's ``swagger-ui-dist@5``). The two
    answer only where no route or mount of the app does.

    On ``lifespan.shutdown`` the App sets ``shutdown_event``, waits up to
    ``shutdown_grace_period`` seconds for open streams to end on their own,
    then stops and closes those still open (see ``shutdown_event``).
    """

    #: Seconds open streams get to end by themselves once the server shuts down.
    shutdown_grace_period: float = 1.0

    def __init__(
        self,
        *,
        default_response_class: type[Response] = JSONResponse,
        routes: Sequence[BaseRoute] | None = None,
        middleware: Sequence[MiddlewareSpec | Callable[..., ASGIApp]] | None = None,
        exception_handlers: Mapping[type[Exception] | int, ExceptionHandler] | None = None,
        lifespan: Lifespan | None = None,
        debug: bool = False,
        redirect_slashes: bool = True,
        max_body_size: int | None = None,
        request_memory_budget: int | None = DEFAULT_BUDGET,
        dependencies: Sequence[Any] | None = None,
        title: str = "microweb",
        version: str = "0.1.0",
        description: str | None = None,
        openapi_url: str | None = "/openapi.json",
        docs_url: str | None = "/docs",
        docs_js_url: str | None = None,
        docs_css_url: str | None = None,
    ) -> None:
        _check_limit("max_body_size", max_body_size)
        for option, text in (("title", title), ("version", version)):
            if not isinstance(text, str):
                raise TypeError(f"{option} must be a str, got {text!r}")
        for option, url in (("openapi_url", openapi_url), ("docs_url", docs_url)):
            if url is not None and not (isinstance(url, str) and url.startswith("/")):
                raise ValueError(f"{option} must be a path starting with '/' or None, got {url!r}")
        _check_limit("request_memory_budget", request_memory_budget)
        self.router = Router(
            default_response_class=default_response_class,
            routes=routes,
            redirect_slashes=redirect_slashes,
            dependencies=dependencies,
        )
        self.default_response_class = default_response_class
        self.debug = debug
        # What requests, responses and streams need of the App (see _context).
        self._context = AppContext(
            self.url_path_for,
            max_body_size=max_body_size,
            request_memory_budget=request_memory_budget,
            answer_error=self._answer_error,
        )
        self.lifespan_context = lifespan
        self.state = State()
        #: ``{dependency: replacement}``: each ``Depends(dependency)`` calls the
        #: replacement instead (tests); read per request, set it whenever.
        self._middleware: list[MiddlewareSpec] = [_middleware_spec(m) for m in middleware or ()]
        self._exception_handlers: dict[type[Exception] | int, ExceptionHandler] = {}
        for key, handler in (exception_handlers or {}).items():
            self.add_exception_handler(key, handler)
        # The websocket error boundary reads this very dict: later handlers apply.
        self._websocket = WebSocketBoundary(
            self.router, self._exception_handlers, self._server_error
        )
        self._stack: ASGIApp | None = None
        # The stack is built and holds no middleware: App.__call__ answers HTTP itself.
        self._bare = False
        self.title = title
        self.version = version
        self.description = description
        self.openapi_url = openapi_url
        self.docs_url = docs_url if openapi_url is not None else None
        self.docs_js_url = docs_js_url
        self.docs_css_url = docs_css_url
        self._openapi: dict[str, Any] | None = None
        # perf: served from the router's not-found path, so no request of
        # another route pays for them, and a user's route or mount there wins.
        if openapi_url is not None:
            self.router.fallback[openapi_url] = self._serve_openapi
        if self.docs_url is not None:
            self.router.fallback[self.docs_url] = self._serve_docs

    @property
    def dependency_overrides(self) -> dict[Callable[..., Any], Callable[..., Any]]:
        """Replacements for dependencies, ``{original: replacement}`` (for tests).

        Read on every request by routes with dependencies, so an override set
        after the routes were added applies.
        """
        return self._context.dependency_overrides

    @dependency_overrides.setter
    def dependency_overrides(
        self, overrides: dict[Callable[..., Any], Callable[..., Any]]
    ) -> None:
        self._context.dependency_overrides = overrides

    @property
    def max_body_size(self) -> int | None:
        """The most bytes ``body()``, ``json()`` and a urlencoded ``form()`` read (413 past it)."""
        return self._context.max_body_size

    @max_body_size.setter
    def max_body_size(self, value: int | None) -> None:
        _check_limit("max_body_size", value)
        self._context.max_body_size = value

    @property
    def request_memory_budget(self) -> int | None:
        """The most bytes one request may make microweb hold in memory (docs/reliability.md).

        Bodies read whole and form text count against it (413 past it);
        uploaded files move to disk early rather than pass it. None: no budget.
        """
        return self._context.request_memory_budget

    @request_memory_budget.setter
    def request_memory_budget(self, value: int | None) -> None:
        _check_limit("request_memory_budget", value)
        self._context.request_memory_budget = value

    @property
    def shutdown_event(self) -> anyio.Event:
        """An ``anyio.Event`` set when the App receives ``lifespan.shutdown``.

        It is set before the grace period starts, so a streaming generator
        that watches it can send a last event and end cleanly::

            async def events():
                while not app.shutdown_event.is_set():
                    yield {"data": "tick"}
                    with anyio.move_on_after(1):
                        await app.shutdown_event.wait()
                yield {"event": "bye", "data": "server shutting down"}

        Streams still open after ``shutdown_grace_period`` seconds are stopped
        and their generators closed. Each lifespan startup makes a new event;
        read the attribute when you need it rather than keeping the event.
        """
        return self._context.streams.shutdown_event

    # --- routes -----------------------------------------------------------------
    # The decorators (get, post... route) and add_route come from RouteDecorators.

    @property
    def routes(self) -> list[Endpoint]:
        """What the app answers with, in the order added; see ``Router.routes``."""
        return self.router.routes

    def add(self, route: BaseRoute) -> None:
        """Add a ``Route`` as it is."""
        self.router.add(route)

    def include_router(
        self,
        router: Router,
        prefix: str = "",
        *,
        dependencies: Sequence[Any] | None = None,
        tags: Sequence[str] | None = None,
    ) -> None:
        """Add every route of ``router`` under ``prefix``; see ``Router.include_router``."""
        self.router.include_router(router, prefix, dependencies=dependencies, tags=tags)

    def url_path_for(self, name: str, /, **params: Any) -> str:
        """The path of the route called ``name`` with ``params`` filled in::

            app.url_path_for("read_item", item_id=5)  # "/items/5"

        Raises ``ValueError`` for an unknown name, or a missing, extra or
        unconvertible parameter.
        """
        return self.router.url_path_for(name, **params)

    # --- OpenAPI ----------------------------------------------------------------

    def openapi(self) -> dict[str, Any]:
        """The app's OpenAPI 3.1 document (a dict), built on the first call and kept.

        Routes added after the first call are not in it. Raises ``ValueError``
        when two operations would share an ``operationId`` (route names).
        """
        if self._openapi is None:
            # Imported here: ``import microweb`` never loads the openapi package.
            from microweb.openapi import get_openapi

            self._openapi = get_openapi(
                title=self.title,
                version=self.version,
                description=self.description,
                routes=[*self.router.routes, *self.router.mounts],
            )
        return self._openapi

    async def _serve_openapi(self, scope: Scope, receive: Receive, send: Send) -> None:
        _only_get(scope)
        document = self.openapi()
        root_path = scope.get("root_path", "")
        if root_path and "servers" not in document:
            # Behind a proxy or under a mount: "Try it out" must call the full path.
            document = {**document, "servers": [{"url": root_path}]}
        await JSONResponse(document)(scope, receive, send)

    async def _serve_docs(self, scope: Scope, receive: Receive, send: Send) -> None:
        from microweb.openapi import SWAGGER_CSS_URL, SWAGGER_JS_URL, swagger_ui_html

        _only_get(scope)
        page = swagger_ui_html(
            openapi_url=scope.get("root_path", "") + str(self.openapi_url),
            title=f"{self.title} - Swagger UI",
            js_url=self.docs_js_url or SWAGGER_JS_URL,
            css_url=self.docs_css_url or SWAGGER_CSS_URL,
        )
        await HTMLResponse(page)(scope, receive, send)

    # --- errors -----------------------------------------------------------------

    def add_exception_handler(self, key: type[Exception] | int, handler: ExceptionHandler) -> None:
        """Answer exceptions of class ``key`` (or HTTP status ``key``) with ``handler``."""
        if isinstance(key, int):
            if not 400 <= key <= 599:
                raise ValueError(f"exception handler status must be 400 to 599, got {key!r}")
        elif not (isinstance(key, type) and issubclass(key, Exception)):
            raise TypeError(
                f"exception handler key must be an exception class or a status, got {key!r}"
            )
        if not callable(handler):
            raise TypeError(f"exception handler for {key!r} must be callable, got {handler!r}")
        self._exception_handlers[key] = handler

    def exception_handler(self, key: type[Exception] | int) -> Callable[[F], F]:
        """Decorator form of ``add_exception_handler``::

        @app.exception_handler(404)
        async def not_found(request: Request, exc: HTTPException) -> Response:
            return HTMLResponse("<h1>Nothing here</h1>", status_code=404)
        """

        def register(handler: F) -> F:
            self.add_exception_handler(key, handler)
            return handler

        return register

    async def _error_response(self, scope: Scope, receive: Receive, exc: Exception) -> Response:
        handler = handler_for(self._exception_handlers, scope, exc)
        if handler is None:
            if isinstance(exc, HTTPException):
                return http_exception_response(exc)
            return self._server_error(exc)
        try:
            result = await call_handler(handler, Request(scope, receive), exc)
            if not isinstance(result, Response):
                raise TypeError(
                    f"exception handler {handler!r} returned {type(result).__name__}, "
                    "not a Response"
                )
        except Exception as handler_exc:
            log_unhandled(scope, handler_exc)
            return self._server_error(handler_exc)
        return result

    def _server_error(self, exc: Exception) -> Response:
        if self.debug:
            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            return PlainTextResponse(f"Internal Server Error\n\n{text}", status_code=500)
        return PlainTextResponse("Internal Server Error", status_code=500)

    # --- middleware ---------------------------------------------------------------

    def add_middleware(self, middleware_class: Callable[..., ASGIApp], **options: Any) -> None:
        """Wrap the app in ``middleware_class(app, **options)``; the last added is outermost."""
        if self._stack is not None:
            raise RuntimeError("cannot add middleware after the app has started")
        self._middleware.insert(0, _middleware_spec((middleware_class, options)))

    def _build_stack(self) -> ASGIApp:
        app: ASGIApp = self._dispatch
        for cls, options in reversed(self._middleware):
            app = cls(app, **options)
        return app

    # --- ASGI -----------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # perf: one attribute says both "started" and "no middleware" (callgrind,
        # POST /items: 65,540 -> 65,480 instructions).
        if not self._bare or scope["type"] != "http":
            if self._stack is None:
                self._stack = self._build_stack()
                self._bare = not self._middleware
            scope["app"] = self
            scope[CONTEXT] = self._context
            await self._stack(scope, receive, send)
            return
        # perf: with no middleware, the error boundary runs right here (the
        # same as _http, two coroutine frames fewer: about 0.15 µs a request),
        # and so does the router's __call__ (a plain call to find the
        # endpoint instead of a coroutine frame: 1,800 instructions of 30,400).
        router = self.router
        try:
            endpoint = router.resolve(scope)
            if endpoint is None or not endpoint.direct:
                scope["app"] = self
                scope[CONTEXT] = self._context
                if endpoint is None:
                    await router.answer_unresolved(scope, receive, send)
                else:
                    await endpoint(scope, receive, send)
                return
            # perf: the endpoint's steps (``Endpoint.__call__``) taken here: no
            # coroutine frame for it (callgrind, /plaintext: 21,440 -> 20,470
            # instructions), and the handler's call written out here (-> 20,140).
            call = endpoint.call
            result = await (call(**scope["path_params"]) if endpoint.takes_values else call())
            messages = endpoint.messages(result, scope)
            if messages is not None:
                # perf: only the router and the messages read the scope, so it never
                # gets the app and its context: two dict writes (20,140 -> 19,280).
                await send(messages[0])
                await send(messages[1])
                return
            scope["app"] = self
            scope[CONTEXT] = self._context
            await endpoint.response_for(result)(scope, receive, send)
        except Exception as exc:
            scope["app"] = self
            scope[CONTEXT] = self._context
            await self._answer_error(scope, receive, send, exc)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        else:
            raise RuntimeError(f"unsupported ASGI scope type {kind!r}")

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The error boundary: any exception from the router becomes a response."""
        try:
            await self.router(scope, receive, send)
        except Exception as exc:
            await self._answer_error(scope, receive, send, exc)

    async def _answer_error(
        self, scope: Scope, receive: Receive, send: Send, exc: Exception
    ) -> None:
        if isinstance(exc, ClientDisconnect):
            return  # the client is gone: nobody to answer, nothing to log
        response = await self._error_response(scope, receive, exc)
        try:
            await response(scope, receive, send)
        except Exception:
            # Most likely the response had started: the server refuses a
            # second start. The client sees a cut connection.
            logger.exception("could not send the error response for %s", describe(scope))

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False
        await receive()  # lifespan.startup
        self._context.streams.reset()
        try:
            if self.lifespan_context is None:
                await send({"type": "lifespan.startup.complete"})
                started = True
                await receive()  # lifespan.shutdown
                await self._context.streams.shutdown(self.shutdown_grace_period)
            else:
                async with self.lifespan_context(self) as state:
                    if state is not None:
                        if "state" not in scope:
                            raise RuntimeError(
                                "the lifespan yielded state but the server does not support it"
                            )
                        scope["state"].update(state)
                    await send({"type": "lifespan.startup.complete"})
                    started = True
                    await receive()  # lifespan.shutdown
                    # Streams end while what the lifespan set up is still there.
                    await self._context.streams.shutdown(self.shutdown_grace_period)
        except Exception as exc:
            phase = "shutdown" if started else "startup"
            logger.exception("lifespan %s failed", phase)
            await send(
                {"type": f"lifespan.{phase}.failed", "message": f"{type(exc).__name__}: {exc}"}
            )
            return
        await send({"type": "lifespan.shutdown.complete"})


def _only_get(scope: Scope) -> None:
    """The document and the docs page answer GET and HEAD; anything else is a 405."""
    if scope["method"] not in ("GET", "HEAD"):
        raise HTTPException(405, headers={"allow": "GET, HEAD"})


def _check_limit(name: str, value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ValueError(f"{name} must be a non-negative int or None, got {value!r}")


def _middleware_spec(item: Any) -> MiddlewareSpec:
    """Normalise ``Cls``, ``(Cls,)`` or ``(Cls, options)`` to ``(Cls, options)``.

    A ``microweb.middleware.Middleware(Cls, *args, **kwargs)`` is callable as
    ``(app) -> Cls(app, *args, **kwargs)``, so it goes as ``(item, {})``.
    """
    if callable(item) and not isinstance(item, tuple):
        return item, {}
    if isinstance(item, tuple) and 1 <= len(item) <= 2 and callable(item[0]):
        options = item[1] if len(item) == 2 else {}
        if isinstance(options, Mapping):
            return item[0], options
    raise TypeError(
        f"middleware must be a class, a Middleware or a (class, options) tuple, got {item!r}"
    )
