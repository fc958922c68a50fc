"""Routes and routers: from a request path to the handler that answers it.

A ``Route`` is one path template, its methods and its handler, with
everything decided when it is made: the compiled path, how each handler
parameter is bound (``_params``), whether the handler is async. Its response
class is settled when it joins a router: the route's own ``response_class``,
else its router's default, else (at ``include_router``) the including
router's default, up to the app's.

A ``Router`` keeps one ``_PathEntry`` per distinct path in a ``Matcher``
(a dict for static paths, a segment tree for the rest: the cost of a match
does not grow with the number of routes), and answers:

- no path matches: 404 (after trying the path with/without a trailing slash
  when ``redirect_slashes``: a 307 to the one that exists);
- the path matches, the method does not: 405 with ``allow``; OPTIONS without
  an OPTIONS route: 204 with ``allow``; HEAD without a HEAD route: the GET
  route, whose response then sends no body.

404 and 405 are raised as ``HTTPException`` so the app's exception handlers
(by status code too) can replace them.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

from microweb._matcher import CompiledPath, Matcher, compile_path
from microweb._params import Binding, TemporaryResponse, bind_endpoint
from microweb._utils import is_async_callable, unwrap_partial
from microweb.concurrency import run_in_threadpool
from microweb.datastructures import URL, encode_header
from microweb.exceptions import HTTPException
from microweb.responses import JSONResponse, RedirectResponse, Response
from microweb.types import Receive, Scope, Send

__all__ = ["Route", "Router"]

F = TypeVar("F", bound=Callable[..., Any])

# SPEC "Return-value coercion" 3: None with these statuses gives an empty body.
_EMPTY_FOR_NONE = (204, 304)
_URL_SAFE = "/:@!$&'()*+,;=~"


def _check_response_class(response_class: Any, where: str) -> None:
    if response_class is not None and not (
        isinstance(response_class, type) and issubclass(response_class, Response)
    ):
        raise TypeError(
            f"response_class of {where} must be a Response subclass, got {response_class!r}"
        )


class Route:
    """One path, its methods and its handler.

    ``Route(path, endpoint, *, methods=None, name=None, response_class=None,
    status_code=None)``; methods default to ``["GET"]``. Pass routes to
    ``App(routes=[...])`` or ``Router(routes=[...])``, or let the decorators
    make them.
    """

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Iterable[str] | None = None,
        name: str | None = None,
        response_class: type[Response] | None = None,
        status_code: int | None = None,
    ) -> None:
        if not callable(endpoint):
            raise TypeError(f"the endpoint of route {path!r} must be callable, got {endpoint!r}")
        if isinstance(methods, str):
            raise TypeError(
                f"methods of route {path!r} must be a list, got the string {methods!r}"
            )
        self.methods = frozenset(m.upper() for m in (methods or ("GET",)))
        where = f"route {'/'.join(sorted(self.methods))} {path!r}"
        _check_response_class(response_class, where)
        if status_code is not None and not (
            isinstance(status_code, int) and 100 <= status_code <= 599
        ):
            raise ValueError(
                f"status_code of {where} must be an int from 100 to 599, got {status_code!r}"
            )
        self.path = path
        self.compiled: CompiledPath = compile_path(path)
        self.endpoint = endpoint
        self.name = name if name is not None else getattr(endpoint, "__name__", path)
        self.response_class = response_class
        self.status_code = status_code
        self._temporary_status = status_code or 200  # a temporary Response starts with it
        self.param_names = tuple(p.name for p in self.compiled.params)
        self.binding: Binding = bind_endpoint(
            endpoint, {p.name: p.convertor for p in self.compiled.params}, where
        )
        self.is_async = is_async_callable(endpoint)
        # perf: calling a generator function (sync or async) runs none of its
        # code, so it is called right here: no await, no worker-thread hop.
        self.makes_generator = _is_generator_function(endpoint)
        self._make_response: Callable[[Any], Response] = JSONResponse
        self.use_response_class(response_class or JSONResponse)

    def use_response_class(self, response_class: type[Response]) -> None:
        """Settle the class that wraps the handler's non-Response return values."""
        # perf: the class and status are bound once; coercion is one call.
        status_code = self.status_code
        if status_code is None:
            self._make_response = response_class
        elif status_code in _EMPTY_FOR_NONE:

            def make_response(content: Any) -> Response:
                if content is None:  # SPEC: None with 204/304 gives an empty body
                    return Response(status_code=status_code)
                return response_class(content, status_code=status_code)

            self._make_response = make_response
        else:
            self._make_response = lambda content: response_class(content, status_code=status_code)
        self.effective_response_class = response_class

    def copy_with(self, prefix: str, response_class: type[Response] | None) -> Route:
        """This route under ``prefix``, with ``response_class`` unless it has its own."""
        return Route(
            prefix + self.path,
            self.endpoint,
            methods=self.methods,
            name=self.name,
            response_class=self.response_class or response_class,
            status_code=self.status_code,
        )

    def url_path_for(self, **params: Any) -> str:
        """This route's path with ``params`` filled in, percent-quoted."""
        return quote(self.compiled.format(**params), safe=_URL_SAFE)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a request routed here (``scope["path_params"]`` already converted)."""
        binding = self.binding
        request = None
        if binding.passthrough:
            # perf: a handler taking just its path parameters needs no binding.
            kwargs: dict[str, Any] = scope["path_params"]
            temporary = tasks = None
        else:
            kwargs, temporary, tasks = binding.bind(scope, receive, self._temporary_status)
            if binding.needs_request:
                request = kwargs[binding.request_names[0]]
        try:
            if self.is_async:
                result = await self.endpoint(**kwargs)
            elif self.makes_generator:
                result = self.endpoint(**kwargs)
            else:
                result = await run_in_threadpool(self.endpoint, **kwargs)
            # SPEC "Return-value coercion": a Response passes; the rest meets the class.
            if temporary is None:
                response = result if isinstance(result, Response) else self._make_response(result)
                await response(scope, receive, send)
            else:
                await self._coerce_with(result, temporary)(scope, receive, send)
                if temporary.background is not None:
                    await temporary.background()
            if tasks is not None:
                await tasks()
        finally:
            if request is not None:
                # SPEC "Requests": an uploaded form's temporary files go when the
                # response is done (after background tasks, which may still read them).
                await request.close()

    def _coerce_with(self, result: Any, temporary: TemporaryResponse) -> Response:
        """Coercion when the handler asked for a temporary Response: merge it in."""
        if isinstance(result, Response):
            if temporary.raw_headers:
                # The handler may return a shared object: merge into a copy.
                merged = copy.copy(result)
                merged.raw_headers = _merge_headers(result.raw_headers, temporary.raw_headers)
                return merged
            return result
        status_code = temporary.status_code if temporary.status_set else self.status_code
        if result is None and status_code in _EMPTY_FOR_NONE:
            response = Response(status_code=status_code)
        elif status_code is None:
            response = self.effective_response_class(result)
        else:
            response = self.effective_response_class(result, status_code=status_code)
        if temporary.raw_headers:
            response.raw_headers = _merge_headers(response.raw_headers, temporary.raw_headers)
        return response

    def __repr__(self) -> str:
        methods = ", ".join(sorted(self.methods))
        return f"Route({self.path!r}, methods=[{methods}], name={self.name!r})"


def _is_generator_function(endpoint: Any) -> bool:
    target = unwrap_partial(endpoint)
    return inspect.isasyncgenfunction(target) or inspect.isgeneratorfunction(target)


def _merge_headers(
    own: list[tuple[bytes, bytes]], extra: list[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    """``own`` plus what ``extra`` adds: names ``own`` lacks, and every cookie."""
    present = {name for name, _ in own}
    return own + [(n, v) for n, v in extra if n == b"set-cookie" or n not in present]


class _PathEntry:
    """Every route of one path, by method, and the ``allow`` header they make."""

    __slots__ = ("allow", "explicit", "lookup")

    def __init__(self) -> None:
        self.explicit: dict[str, Route] = {}
        self.lookup: dict[str, Route] = {}
        self.allow = b""

    def add(self, route: Route) -> None:
        for method in route.methods:
            if method in self.explicit:
                raise ValueError(
                    f"duplicate route: {method} {route.path!r} is already handled by "
                    f"{self.explicit[method].endpoint!r}"
                )
        for method in route.methods:
            self.explicit[method] = route
        self.lookup = dict(self.explicit)
        if "GET" in self.explicit and "HEAD" not in self.explicit:
            self.lookup["HEAD"] = self.explicit["GET"]  # an explicit HEAD route wins
        methods = set(self.lookup) | {"OPTIONS"}
        self.allow = encode_header("allow", ", ".join(sorted(methods)))[1]


def _join(prefix: str, where: str) -> str:
    if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
        raise ValueError(f"{where} {prefix!r} must start with '/' and not end with '/'")
    return prefix


class Router:
    """A group of routes with an optional path prefix and default response class.

    Define routes with the decorators (``@router.get("/items/{item_id}")``),
    then ``app.include_router(router)``. Routes added to the router after it
    was included are not seen by the app: include it last.
    """

    def __init__(
        self,
        prefix: str = "",
        default_response_class: type[Response] | None = None,
        routes: Sequence[Route] | None = None,
        *,
        redirect_slashes: bool = True,
    ) -> None:
        self.prefix = _join(prefix, "router prefix")
        _check_response_class(default_response_class, "Router")
        self.default_response_class = default_response_class
        self.redirect_slashes = redirect_slashes
        self.routes: list[Route] = []
        self._matcher: Matcher[_PathEntry] = Matcher()
        self._by_name: dict[str, Route] = {}
        for route in routes or ():
            if not isinstance(route, Route):
                raise TypeError(f"routes must be Route objects, got {route!r}")
            self.add(route.copy_with(self.prefix, None) if self.prefix else route)

    # --- building -------------------------------------------------------------

    def add(self, route: Route) -> None:
        """Add a ``Route`` as it is (its path already holds any prefix)."""
        route.use_response_class(
            route.response_class or self.default_response_class or JSONResponse
        )
        entry = self._matcher.get(route.compiled)
        if entry is None:
            entry = _PathEntry()
            entry.add(route)
            self._matcher.add(route.compiled, entry)
        else:
            entry.add(route)
        self.routes.append(route)
        self._by_name.setdefault(route.name, route)

    def add_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Iterable[str] | None = None,
        name: str | None = None,
        response_class: type[Response] | None = None,
        status_code: int | None = None,
    ) -> Route:
        """Add ``endpoint`` for ``path`` (under this router's prefix) and return the Route."""
        route = Route(
            self._prefixed(path),
            endpoint,
            methods=methods,
            name=name,
            response_class=response_class,
            status_code=status_code,
        )
        self.add(route)
        return route

    def _prefixed(self, path: str) -> str:
        if path == "" and self.prefix:
            return self.prefix
        if not path.startswith("/"):
            raise ValueError(f"route path {path!r} must start with '/'")
        return self.prefix + path

    def route(
        self,
        path: str,
        methods: Iterable[str] | None = None,
        *,
        name: str | None = None,
        response_class: type[Response] | None = None,
        status_code: int | None = None,
    ) -> Callable[[F], F]:
        """Decorator: register the function for ``path`` and ``methods``; returns it unchanged."""

        def register(endpoint: F) -> F:
            self.add_route(
                path,
                endpoint,
                methods=methods,
                name=name,
                response_class=response_class,
                status_code=status_code,
            )
            return endpoint

        return register

    def get(
        self,
        path: str,
        *,
        response_class: type[Response] | None = None,
        status_code: int | None = None,
        name: str | None = None,
    ) -> Callable[[F], F]:
        """Decorator: handle GET (and so HEAD) requests to ``path``."""
        return self.route(
            path, ["GET"], name=name, response_class=response_class, status_code=status_code
        )

    def post(
        self,
        path: str,
        *,
        response_class: type[Response] | None = None,
        status_code: int | None = None,
        name: str | None = None,
    ) -> Callable[[F], F]:
        """Decorator: handle POST requests to ``path``."""
        return self.route(
            path, ["POST"], name=name, response_class=response_class, status_code=status_code
        )

    def put(
        self,
        path: str,
        *,
        response_class: type[Response] | None = None,
        status_code: int | None = None,
        name: str | None = None,
    ) -> Callable[[F], F]:
        """Decorator: handle PUT requests to ``path``."""
        return self.route(
            path, ["PUT"], name=name, response_class=response_class, status_code=status_code
        )

    def patch(
        self,
        path: str,
        *,
        response_class: type[Response] | None = None,
        status_code: int | None = None,
        name: str | None = None,
    ) -> Callable[[F], F]:
        """Decorator: handle PATCH requests to ``path``."""
        return self.route(
            path, ["PATCH"], name=name, response_class=response_class, status_code=status_code
        )

    def delete(
        self,
        path: str,
        *,
        response_class: type[Response] | None = None,
        status_code: int | None = None,
        name: str | None = None,
    ) -> Callable[[F], F]:
        """Decorator: handle DELETE requests to ``path``."""
        return self.route(
            path, ["DELETE"], name=name, response_class=response_class, status_code=status_code
        )

    def head(
        self,
        path: str,
        *,
        response_class: type[Response] | None = None,
        status_code: int | None = None,
        name: str | None = None,
    ) -> Callable[[F], F]:
        """Decorator: handle HEAD requests to ``path`` (instead of the GET route)."""
        return self.route(
            path, ["HEAD"], name=name, response_class=response_class, status_code=status_code
        )

    def options(
        self,
        path: str,
        *,
        response_class: type[Response] | None = None,
        status_code: int | None = None,
        name: str | None = None,
    ) -> Callable[[F], F]:
        """Decorator: handle OPTIONS requests to ``path`` (instead of the automatic 204)."""
        return self.route(
            path, ["OPTIONS"], name=name, response_class=response_class, status_code=status_code
        )

    def include_router(self, router: Router, prefix: str = "") -> None:
        """Add every route of ``router`` under ``prefix`` (in front of the router's own)."""
        if not isinstance(router, Router):
            raise TypeError(f"include_router expects a Router, got {router!r}")
        prefix = _join(self.prefix + prefix, "include prefix")
        for route in router.routes:
            self.add(route.copy_with(prefix, router.default_response_class))

    def url_path_for(self, name: str, /, **params: Any) -> str:
        """The path of the route called ``name`` with ``params`` filled in."""
        route = self._by_name.get(name)
        if route is None:
            raise ValueError(f"no route is named {name!r}")
        return route.url_path_for(**params)

    # --- answering ----------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        root_path = scope.get("root_path")
        if root_path and path.startswith(root_path):
            path = path[len(root_path) :] or "/"
        values: list[Any] = []
        entry = self._matcher.match_static(path)
        if entry is None:
            found = self._matcher.match(path)
            if found is None:
                await self._not_found(scope, receive, send, path)
                return
            entry, values = found
        route = entry.lookup.get(scope["method"])
        if route is None:
            if scope["method"] == "OPTIONS":
                await Response(status_code=204, headers=[("allow", entry.allow.decode())])(
                    scope, receive, send
                )
                return
            raise HTTPException(405, headers={"allow": entry.allow.decode()})
        scope["path_params"] = dict(zip(route.param_names, values, strict=True)) if values else {}
        await route(scope, receive, send)

    async def _not_found(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        if self.redirect_slashes and path != "/":
            other = path[:-1] if path.endswith("/") else path + "/"
            if self._matcher.match(other) is not None:
                mount = scope["path"][: len(scope["path"]) - len(path)]  # the root_path part
                target = quote(mount + other, safe=_URL_SAFE)
                url = URL(scope=scope).replace(path=target)
                await RedirectResponse(str(url))(scope, receive, send)
                return
        raise HTTPException(404)
