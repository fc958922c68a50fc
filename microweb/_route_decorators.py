"""The route decorators (``get``, ``post``... ``route``, ``websocket``, ``mount``), written once.

``RouteDecorators`` is shared by ``App`` and ``Router``: each supplies the
one ``add`` hook (and may re-root a path with ``_route_path``); every
decorator and ``add_route`` build the route and hand it to ``add``.
``RouteOptions`` types the keyword options they all take.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypedDict, TypeVar, cast

from microweb._mount import Mount
from microweb._route import Route
from microweb._route_base import BaseRoute
from microweb._websocket_route import WebSocketRoute
from microweb.responses import Response
from microweb.types import ASGIApp

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["RouteDecorators", "RouteOptions"]

F = TypeVar("F", bound=Callable[..., Any])


class RouteOptions(TypedDict, total=False):
    """The keyword options of ``route``, ``add_route`` and the verb decorators.

    ``name`` (the function's name by default) is for ``url_path_for``;
    ``response_class`` wraps what the function returns (else the router's or
    app's default); ``status_code`` replaces the class's default status;
    ``dependencies`` (``[Depends(check)]``) run first, their values unused;
    ``response_model`` converts the return value (SPEC "Typed request data");
    ``response_model_include``, ``response_model_exclude``,
    ``response_model_exclude_unset`` and ``response_model_by_alias`` choose
    which of its fields are sent, and under which names (FastAPI's options).
    ``tags``, ``summary``, ``description``, ``deprecated``,
    ``include_in_schema``, ``operation_id`` and ``responses`` document the
    operation in OpenAPI and change nothing at run time.
    """

    name: str | None
    response_class: type[Response] | None
    status_code: int | None
    dependencies: Sequence[Any] | None
    response_model: Any
    response_model_include: Collection[str] | None
    response_model_exclude: Collection[str] | None
    response_model_exclude_unset: bool
    response_model_by_alias: bool
    tags: Sequence[str] | None
    summary: str | None
    description: str | None
    deprecated: bool | None
    include_in_schema: bool
    operation_id: str | None
    responses: Mapping[int | str, Mapping[str, Any]] | None


class _Verb(Protocol):
    """``get``, ``post``... as called on an App or a Router."""

    __name__: str

    def __call__(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]: ...


def _verb(method: str, summary: str) -> _Verb:
    """The decorator method for one HTTP method; see ``RouteDecorators.route``."""

    def decorator(
        self: RouteDecorators, path: str, **options: Unpack[RouteOptions]
    ) -> Callable[[F], F]:
        return self._decorator(method.lower(), path, [method], options)

    decorator.__name__ = method.lower()
    decorator.__qualname__ = f"RouteDecorators.{method.lower()}"
    decorator.__doc__ = (
        f"Decorator: {summary}.\n\nThe options (``response_class``, ``status_code``, "
        "``name``, ``dependencies``, ``response_model``, ``tags``...) are ``RouteOptions``, "
        "as for ``route``; the function is returned unchanged."
    )
    # Stored on the class, a function is a method: mypy is told what it is on an instance.
    return cast(_Verb, decorator)


class RouteDecorators(abc.ABC):
    """The route decorators and ``add_route``, shared by ``App`` and ``Router``.

    Each class supplies ``add``, the one hook: what adding a route means there.
    """

    __slots__ = ()
    _owner: ClassVar[str] = "app"  # what a mistake's message calls the object: app.get()

    @abc.abstractmethod
    def add(self, route: BaseRoute) -> None:
        """Add ``route`` as it is (its path already holds any prefix)."""

    def _route_path(self, path: str) -> str:
        """The full path of a route added at ``path``."""
        if not path.startswith("/"):
            raise ValueError(f"route path {path!r} must start with '/'")
        return path

    def add_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Iterable[str] | None = None,
        **options: Unpack[RouteOptions],
    ) -> Route:
        """Add ``endpoint`` for ``path`` and ``methods`` (GET by default); return the Route.

        The options are ``RouteOptions``. A Router puts its prefix in front of ``path``.
        """
        route = Route(self._route_path(path), endpoint, methods=methods, **options)
        self.add(route)
        return route

    def route(
        self,
        path: str,
        methods: Iterable[str] | None = None,
        **options: Unpack[RouteOptions],
    ) -> Callable[[F], F]:
        """Decorator: register the function for ``path`` and ``methods``; returns it unchanged.

        The options are ``RouteOptions``: ``response_class``, ``status_code``,
        ``name`` (for ``url_path_for``), ``dependencies``, ``response_model``,
        and the OpenAPI ones (``tags``, ``summary``...)::

            @app.route("/items/{item_id:int}", methods=["GET", "PUT"])
            async def item(item_id: int, request: Request) -> dict[str, Any]: ...

        Raises ``TypeError`` when used without a path (``@app.route``).
        """
        return self._decorator("route", path, methods, options)

    get = _verb("GET", "handle GET (and so HEAD) requests to ``path``")
    post = _verb("POST", "handle POST requests to ``path``")
    put = _verb("PUT", "handle PUT requests to ``path``")
    patch = _verb("PATCH", "handle PATCH requests to ``path``")
    delete = _verb("DELETE", "handle DELETE requests to ``path``")
    head = _verb("HEAD", "handle HEAD requests to ``path`` (instead of the GET route)")
    options = _verb("OPTIONS", "handle OPTIONS requests to ``path`` (instead of the 204)")

    def add_websocket_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        name: str | None = None,
        dependencies: Sequence[Any] | None = None,
    ) -> WebSocketRoute:
        """Add the WebSocket handler ``endpoint`` for ``path``; return the WebSocketRoute.

        A Router puts its prefix in front of ``path``.
        """
        route = WebSocketRoute(
            self._route_path(path), endpoint, name=name, dependencies=dependencies
        )
        self.add(route)
        return route

    def mount(self, path: str, app: ASGIApp, name: str | None = None) -> Mount:
        """Answer every path under ``path`` with the ASGI ``app``; return the Mount.

        ``name`` is a namespace for ``url_path_for``: ``("static", path=...)``,
        ``"api:item"``. A Router puts its prefix in front of ``path``.
        """
        mount = Mount(self._route_path(path), app, name=name)
        self.add(mount)
        return mount

    def websocket(
        self, path: str, *, name: str | None = None, dependencies: Sequence[Any] | None = None
    ) -> Callable[[F], F]:
        """Decorator: register the function as the WebSocket handler of ``path``.

        The function is returned unchanged; ``name`` (its name by default) is
        for ``url_path_for``; ``dependencies`` (``[Depends(check)]``) run
        before it, their values unused::

            @app.websocket("/rooms/{room}")
            async def room(websocket: WebSocket, room: str) -> None:
                await websocket.accept()
                await websocket.send_text(f"welcome to {room}")
        """
        self._check_path("websocket", path)

        def register(endpoint: F) -> F:
            self.add_websocket_route(path, endpoint, name=name, dependencies=dependencies)
            return endpoint

        return register

    def websocket_route(self, path: str, name: str | None = None) -> Callable[[F], F]:
        """Decorator: Starlette's and FastAPI's name for ``websocket(path, name=name)``.

        The handler's parameters bind as for ``websocket``: the one annotated
        ``WebSocket`` gets the connection.
        """
        self._check_path("websocket_route", path)
        return self.websocket(path, name=name)

    def _check_path(self, called: str, path: Any) -> None:
        if not isinstance(path, str):
            owner = self._owner
            if callable(path):
                # ``@app.get`` over a function, without the parentheses.
                raise TypeError(
                    f"{owner}.{called}() got the function {path!r} instead of a path; "
                    f'write @{owner}.{called}("/path") with the path in parentheses'
                )
            raise TypeError(f"the path of a route must be a str, got {path!r}")

    def _decorator(
        self,
        called: str,
        path: str,
        methods: Iterable[str] | None,
        options: RouteOptions,
    ) -> Callable[[F], F]:
        self._check_path(called, path)

        def register(endpoint: F) -> F:
            self.add_route(path, endpoint, methods=methods, **options)
            return endpoint

        return register
