"""Routes and routers: from a request path to the handler that answers it.

Theory of operation
-------------------
A route is an immutable description. ``Route`` holds a path, its methods, its
handler and what derives from those alone, validated when it is made: the
compiled path and how each handler parameter is bound (``_params``). Nothing
a router does changes it, so one Route may sit in any number of routers.

A router *compiles* each route it is given into objects of its own, with
what the router decides: for a ``Route``, an ``Endpoint`` (``_endpoint``)
with the response class settled (the route's own, else its router's
default, else, at ``include_router``, the including router's default, up to
the app's). The router files what ``compile`` returns:

- a ``PathEntry``: an app answering some methods on one path. The router
  keeps one ``_MethodTable`` per distinct path in a ``Matcher`` (a dict for
  static paths, a segment tree for the rest: the cost of a match does not
  grow with the number of routes);
- a ``WebSocketEntry``: the app answering websocket scopes on one path. A
  ``WebSocketRoute`` (``_websocket_route``, re-exported here) compiles to
  one, holding a ``WebSocketEndpoint``; it sits in the same ``_MethodTable``
  as the path's HTTP methods, so one path may have both.

That is the whole interface a router uses, ``BaseRoute`` (``_route_base``): a ``name`` (for
``url_path_for``), ``url_path_for``, ``under(prefix)`` (the same route
re-rooted, for ``include_router``) and ``compile``. A ``Mount``
(``_mount``, re-exported here) compiles to a ``MountEntry``: a prefix and
the ASGI app below it, which the router tries only when no path matched,
longest prefix first; its name is a namespace for ``url_path_for``
(``"api:item"``) (SPEC "Static files, mounting and templates"). A ``Host``
(``_host``, re-exported here) compiles to a ``HostEntry``: a host template
and the app for that host, tried after the mounts, in the order added.

A router answers:

- no path matches: 404 (after trying the path with/without a trailing slash
  when ``redirect_slashes``: a 307 to the one that exists);
- the path matches, the method does not: 405 with ``allow``; OPTIONS without
  an OPTIONS route: 204 with ``allow``; HEAD without a HEAD route: the GET
  route, whose response then sends no body.

The common case is a plain call, ``resolve`` (an App without middleware
makes it itself); the rest above is ``answer_unresolved``. 404 and 405 are
raised as ``HTTPException`` so the app's exception handlers (by status
code too) can replace them. A websocket scope whose path has no
WebSocket route is closed before accept (the server answers 403); an HTTP
request to a path that has only a WebSocket route is a 404. A ``root_path`` (ASGI: where the app is
mounted) is taken off the front of the path only at a segment boundary:
root_path ``/product`` leaves ``/products`` as it is.

The decorators (``get``, ``post``... ``route``) and ``add_route`` are written
once, on ``RouteDecorators`` (``_route_decorators``), which ``App`` and
``Router`` share: each supplies the one ``add`` hook.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_from_bytes

from microweb._dependency import depends_list
from microweb._endpoint import Endpoint
from microweb._host import Host, HostEntry
from microweb._http.urls import PATH_SAFE, QUERY_SAFE
from microweb._matcher import Matcher, Param
from microweb._mount import Mount, MountEntry
from microweb._route import Route, check_response_class, check_tags
from microweb._route_base import BaseRoute, PathEntry
from microweb._route_decorators import RouteDecorators, RouteOptions
from microweb._websocket_route import WebSocketEndpoint, WebSocketEntry, WebSocketRoute
from microweb.datastructures import encode_header
from microweb.exceptions import HTTPException
from microweb.params import DependsMarker
from microweb.responses import RedirectResponse, Response
from microweb.types import ASGIApp, Receive, Scope, Send
from microweb.websockets import WebSocketClose

if TYPE_CHECKING:
    pass

__all__ = ["Host", "Mount", "Route", "RouteOptions", "Router", "WebSocketRoute"]


def _depending(
    route: BaseRoute, checks: tuple[DependsMarker, ...], tags: tuple[str, ...] = ()
) -> BaseRoute:
    """``route`` with ``checks`` run before its own dependencies, ``tags`` before its own."""
    if isinstance(route, Route):
        return route.under("", checks, tags)
    if not checks:
        return route  # tags document HTTP operations only
    if not isinstance(route, WebSocketRoute):
        raise TypeError(
            f"dependencies= cannot apply to {route!r}: only HTTP and WebSocket routes take "
            "dependencies"
        )
    return route.under("", checks)


class _MethodTable:
    """Every endpoint of one path, by method, and the ``allow`` header they make."""

    __slots__ = ("allow", "explicit", "lookup", "websocket")

    def __init__(self) -> None:
        self.explicit: dict[str, Endpoint] = {}
        self.lookup: dict[str, Endpoint] = {}
        self.allow = b""
        self.websocket: WebSocketEndpoint | None = None

    def add_websocket(self, entry: WebSocketEntry) -> None:
        if self.websocket is not None:
            raise ValueError(
                f"duplicate route: WebSocket {entry.path.template!r} is already handled by "
                f"{self.websocket.route.endpoint!r}"
            )
        self.websocket = entry.app

    def add(self, entry: PathEntry) -> None:
        for method in entry.methods:
            if method in self.explicit:
                raise ValueError(
                    f"duplicate route: {method} {entry.path.template!r} is already handled by "
                    f"{self.explicit[method].route.endpoint!r}"
                )
        for method in entry.methods:
            self.explicit[method] = entry.app
        self.lookup = dict(self.explicit)
        if "GET" in self.explicit and "HEAD" not in self.explicit:
            self.lookup["HEAD"] = self.explicit["GET"]  # an explicit HEAD route wins
        methods = set(self.lookup) | {"OPTIONS"}
        self.allow = encode_header("allow", ", ".join(sorted(methods)))[1]


def _join(prefix: str, where: str) -> str:
    if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
        raise ValueError(f"{where} {prefix!r} must start with '/' and not end with '/'")
    return prefix


def _without_root(path: str, root_path: str) -> str:
    """``path`` with ``root_path`` taken off its front, at a segment boundary only."""
    if path.startswith(root_path) and path[len(root_path) : len(root_path) + 1] in ("", "/"):
        return path[len(root_path) :] or "/"
    return path  # a server that keeps root_path out of path, or /products for /product


def _relative_location(scope: Scope, path: str, other: str) -> str:
    """The ``location`` of the slash redirect from ``path`` to ``other``: a relative URL.

    RFC 9110 §10.2.2 allows a relative reference. It keeps the client on the
    host and scheme it used (no Host header copied into the answer, a
    malformed one included, and no https lost behind a proxy).
    """
    # What _without_root took off the front: the root_path, or nothing.
    root = scope["path"][: len(scope["path"]) - len(path)]
    target = quote(root + other, safe=PATH_SAFE)
    if target.startswith("//"):
        # "//host/..." would be a network-path reference to another site: the
        # request came as /%2Fhost/..., and so does the way back.
        target = "/%2F" + target[2:]
    query: bytes = scope.get("query_string", b"")
    if query:
        target += "?" + quote_from_bytes(query, safe=QUERY_SAFE)
    return target


# --- the router -------------------------------------------------------------------------


class Router(RouteDecorators):
    """A group of routes with an optional path prefix and default response class.

    Define routes with the decorators (``@router.get("/items/{item_id}")``),
    then ``app.include_router(router)``. Routes added to the router after it
    was included are not seen by the app: include it last.
    """

    _owner = "router"

    def __init__(
        self,
        prefix: str = "",
        default_response_class: type[Response] | None = None,
        routes: Sequence[BaseRoute] | None = None,
        *,
        redirect_slashes: bool = True,
        dependencies: Sequence[Any] | None = None,
        tags: Sequence[str] | None = None,
    ) -> None:
        self.prefix = _join(prefix, "router prefix")
        #: Run before the handler of every route this router files, values unused.
        self.dependencies = depends_list(dependencies, "Router")
        #: OpenAPI tags put before each route's own (documentation only).
        self.tags = check_tags(tags, "Router")
        check_response_class(default_response_class, "Router")
        self.default_response_class = default_response_class
        self.redirect_slashes = redirect_slashes
        #: What this router answers with, in the order added: one Endpoint per
        #: Route (its ``route``, ``path``, ``effective_response_class``...).
        self.routes: list[Endpoint] = []
        #: The WebSocket routes, compiled, in the order added (``route``, ``path``, ``name``).
        self.websocket_routes: list[WebSocketEndpoint] = []
        # Each route as added (prefix included), with the default response
        # class its routers decided: what include_router compiles again.
        self._added: list[tuple[BaseRoute, type[Response] | None]] = []
        self._matcher: Matcher[_MethodTable] = Matcher()
        self._mounts: list[MountEntry] = []  # longest prefix first
        self._hosts: list[HostEntry] = []  # in the order added
        #: ``{path: app}``: answers for an exact path that no route or mount
        #: took (the App's OpenAPI document and docs page): never shadows one.
        self.fallback: dict[str, ASGIApp] = {}
        self._by_name: dict[str, BaseRoute] = {}
        for route in routes or ():
            if not isinstance(route, BaseRoute):
                raise TypeError(f"routes must be Route objects, got {route!r}")
            self.add(route.under(self.prefix))

    # --- building -------------------------------------------------------------

    def add(self, route: BaseRoute) -> None:
        """Add ``route`` as it is (its path already holds any prefix)."""
        self._file(route, None)

    def _route_path(self, path: str) -> str:
        if path == "" and self.prefix:
            return self.prefix
        return self.prefix + super()._route_path(path)

    def _file(self, route: BaseRoute, response_class: type[Response] | None) -> None:
        """Compile ``route`` with the default class given (else this router's) and file it."""
        response_class = response_class or self.default_response_class
        route = _depending(route, self.dependencies, self.tags)
        for entry in route.compile(response_class):
            if isinstance(entry, MountEntry):
                self._mounts.append(entry)
                self._mounts.sort(key=lambda mounted: len(mounted.prefix), reverse=True)
                continue
            if isinstance(entry, HostEntry):
                self._hosts.append(entry)
                continue
            table = self._matcher.get(entry.path)
            fresh = table is None
            if table is None:
                table = _MethodTable()
            if isinstance(entry, WebSocketEntry):
                table.add_websocket(entry)
                self.websocket_routes.append(entry.app)
            else:
                table.add(entry)
                self.routes.append(entry.app)
            if fresh:
                self._matcher.add(entry.path, table)
        self._added.append((route, response_class))
        if route.name or not isinstance(route, (Mount, Host)):
            self._by_name.setdefault(route.name, route)

    def include_router(
        self,
        router: Router,
        prefix: str = "",
        *,
        dependencies: Sequence[Any] | None = None,
        tags: Sequence[str] | None = None,
    ) -> None:
        """Add every route of ``router`` under ``prefix`` (in front of the router's own).

        A route without a response class of its own keeps the one ``router``
        gave it, else takes this router's default. ``dependencies`` run before
        those the routes have (this router's run first of all); ``tags`` (OpenAPI)
        go before the routes' own.
        """
        if not isinstance(router, Router):
            raise TypeError(f"include_router expects a Router, got {router!r}")
        prefix = _join(self.prefix + prefix, "include prefix")
        checks = depends_list(dependencies, "include_router")
        extra_tags = check_tags(tags, "include_router")
        for route, response_class in router._added:
            self._file(_depending(route.under(prefix), checks, extra_tags), response_class)

    def with_host_params(self, params: Sequence[Param]) -> Router:
        """A copy of this router whose HTTP routes bind ``params`` of a Host above it.

        ``Host`` calls it; the routes are those added so far.
        """
        hosted = Router(redirect_slashes=self.redirect_slashes)
        for route, response_class in self._added:
            if isinstance(route, Route):
                route = route.under_host(params)
            hosted._file(route, response_class)
        return hosted

    @property
    def mounts(self) -> list[MountEntry]:
        """The mounts this router tries when no path matched, longest prefix first."""
        return list(self._mounts)

    def url_path_for(self, name: str, /, **params: Any) -> str:
        """The path of the route called ``name`` with ``params`` filled in.

        Raises ``ValueError`` for an unknown name, or a missing, extra or
        unconvertible parameter.
        """
        # "api:item": the route "item" inside the mount named "api".
        route = self._by_name.get(name) or self._by_name.get(name.partition(":")[0])
        if route is None:
            raise ValueError(f"no route is named {name!r}")
        return route.url_path_for(name, **params)

    # --- answering ----------------------------------------------------------------

    def resolve(self, scope: Scope) -> Endpoint | None:
        """The endpoint of an HTTP request's path and method, ``scope["path_params"]`` set.

        None: ``answer_unresolved`` answers (no path or method matched, a websocket).
        """
        path = scope["path"]
        # perf: subscripts in a try, not dict.get calls (a try costs nothing on
        # Python 3.11 until it raises; callgrind, POST /items: 65,480 -> 65,260).
        try:
            root_path = scope["root_path"]
        except KeyError:  # ASGI: optional
            root_path = ""
        if root_path:
            path = _without_root(path, root_path)
        values: list[Any] | None = None
        table = self._matcher.match_static(path)
        if table is None:
            found = self._matcher.match(path)
            if found is None:
                return None
            table, values = found
        try:
            endpoint = table.lookup[scope["method"]]
        except KeyError:  # not a method of the path's, or a websocket scope (no method)
            return None
        scope["path_params"] = (
            dict(zip(endpoint.param_names, values, strict=True)) if values else {}
        )
        return endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self.resolve(scope)
        if endpoint is None:
            await self.answer_unresolved(scope, receive, send)
        else:
            await endpoint(scope, receive, send)

    async def answer_unresolved(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a scope ``resolve`` gave no endpoint for (it matches again: no hot path)."""
        path = scope["path"]
        root_path = scope.get("root_path")
        if root_path:
            path = _without_root(path, root_path)
        found = self._matcher.match(path)
        if found is None:
            await self._not_found(scope, receive, send, path)
            return
        table, values = found
        if "method" not in scope:
            await self._websocket(scope, receive, send, table, values)
            return
        if not table.lookup:
            raise HTTPException(404)  # the path has only a WebSocket route
        if scope["method"] == "OPTIONS":
            await Response(status_code=204, headers=[("allow", table.allow.decode())])(
                scope, receive, send
            )
            return
        raise HTTPException(405, headers={"allow": table.allow.decode()})

    async def _websocket(
        self, scope: Scope, receive: Receive, send: Send, table: _MethodTable, values: list[Any]
    ) -> None:
        """A websocket scope whose path matched ``table``."""
        endpoint = table.websocket
        if endpoint is None or scope["type"] != "websocket":
            await WebSocketClose()(scope, receive, send)  # the server answers 403
            return
        scope["path_params"] = (
            dict(zip(endpoint.param_names, values, strict=True)) if values else {}
        )
        await endpoint(scope, receive, send)

    async def _not_found(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        for prefix, app in self._mounts:
            if path.startswith(prefix) and path[len(prefix) : len(prefix) + 1] in ("", "/"):
                # ASGI: the mounted app gets the whole path, and the prefix in root_path.
                root = scope["path"][: len(scope["path"]) - len(path)]
                await app({**scope, "root_path": root + prefix}, receive, send)
                return
        for host in self._hosts:
            hosted = host.scope_for(scope)
            if hosted is not None:
                await host.app(hosted, receive, send)
                return
        if scope["type"] == "websocket":
            await WebSocketClose()(scope, receive, send)  # the server answers 403
            return
        fallback = self.fallback.get(path)
        if fallback is not None:
            await fallback(scope, receive, send)
            return
        if self.redirect_slashes and path != "/":
            other = path[:-1] if path.endswith("/") else path + "/"
            found = self._matcher.match(other)
            if found is not None and found[0].lookup:
                await RedirectResponse(_relative_location(scope, path, other))(
                    scope, receive, send
                )
                return
        raise HTTPException(404)
