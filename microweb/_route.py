"""``Route``: one path, its methods and its handler, as an immutable description.

Everything that follows from the route alone is decided and checked when it
is made: the compiled path (``_matcher``) and how each handler parameter is
bound (``_params``). A router compiles it into an endpoint of its own
(``_endpoint``); see ``routing`` for the router and the decorators.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from microweb._endpoint import Endpoint, compile_endpoint
from microweb._matcher import CompiledPath, Param, compile_path
from microweb._params import Binding, bind_endpoint, depends_list
from microweb._route_base import HOST_PARAMS, BaseRoute, PathEntry, path_for
from microweb.params import DependsMarker
from microweb.responses import Response
from microweb.types import Receive, Scope, Send

__all__ = ["Route", "check_response_class"]


def check_response_class(response_class: Any, where: str) -> None:
    if response_class is None:
        return
    if not (isinstance(response_class, type) and issubclass(response_class, Response)):
        raise TypeError(
            f"response_class of {where} must be a Response subclass, got {response_class!r}"
        )
    response_class.check_usable()  # a missing extra shows now, not on the first request


@dataclasses.dataclass(frozen=True, slots=True, init=False, repr=False, eq=False)
class Route(BaseRoute):
    """One path, its methods and its handler: an immutable description.

    ``Route(path, endpoint, *, methods=None, name=None, response_class=None,
    status_code=None, dependencies=None)``; methods default to ``["GET"]``, the name to the
    function's name. Pass routes to ``App(routes=[...])`` or
    ``Router(routes=[...])``, or let the decorators make them. A Route is
    also an ASGI app on its own, answering with its own ``response_class``
    (JSON without one) once ``scope["path_params"]`` holds its converted path
    values.

    Raises ``TypeError`` or ``ValueError`` naming the route for a bad path,
    endpoint, method list, response class or status code, and for a handler
    parameter that cannot be bound. Its attributes cannot be set.

    ``host_params`` are the parameters of a Host template above the route
    (``Host`` sets them): the handler may take them like path parameters.
    """

    path: str
    endpoint: Callable[..., Any]
    methods: frozenset[str]
    name: str
    response_class: type[Response] | None
    status_code: int | None
    compiled: CompiledPath  # the path, parsed and validated
    binding: Binding  # how each handler parameter is bound
    dependencies: tuple[DependsMarker, ...]  # run before the handler, values unused
    host_params: tuple[Param, ...]  # those of a Host above, bound like path parameters
    _own: Endpoint  # what answers when the Route is called as an ASGI app

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Iterable[str] | None = None,
        name: str | None = None,
        response_class: type[Response] | None = None,
        status_code: int | None = None,
        dependencies: Sequence[Any] | None = None,
        host_params: Sequence[Param] = (),
    ) -> None:
        if not isinstance(path, str):
            raise TypeError(f"the path of a route must be a str, got {path!r}")
        if not callable(endpoint):
            raise TypeError(f"the endpoint of route {path!r} must be callable, got {endpoint!r}")
        if isinstance(methods, str):
            raise TypeError(
                f"methods of route {path!r} must be a list, got the string {methods!r}"
            )
        methods = frozenset(m.upper() for m in (methods or ("GET",)))
        where = f"route {'/'.join(sorted(methods))} {path!r}"
        check_response_class(response_class, where)
        if status_code is not None and not (
            isinstance(status_code, int) and 100 <= status_code <= 599
        ):
            raise ValueError(
                f"status_code of {where} must be an int from 100 to 599, got {status_code!r}"
            )
        compiled = compile_path(path)
        checks = depends_list(dependencies, where)
        clash = {p.name for p in host_params} & {p.name for p in compiled.params}
        if clash:
            raise ValueError(f"{where}: {sorted(clash)} is both a host and a path parameter")
        binding = bind_endpoint(
            endpoint,
            {param.name: param.convertor for param in (*host_params, *compiled.params)},
            where,
            checks=checks,
            optional=frozenset(param.name for param in host_params),
        )
        init = object.__setattr__  # frozen: the one place the attributes are set
        init(self, "path", path)
        init(self, "endpoint", endpoint)
        init(self, "methods", methods)
        init(self, "name", name if name is not None else getattr(endpoint, "__name__", path))
        init(self, "response_class", response_class)
        init(self, "status_code", status_code)
        init(self, "compiled", compiled)
        init(self, "binding", binding)
        init(self, "dependencies", checks)
        init(self, "host_params", tuple(host_params))
        init(self, "_own", compile_endpoint(self, None))

    def url_path_for(self, name: str, /, **params: Any) -> str:
        """This route's path with ``params`` filled in, percent-quoted."""
        return path_for(self.name, self.compiled, name, params)

    def under(self, prefix: str, dependencies: Sequence[DependsMarker] = ()) -> Route:
        """This route under ``prefix``, ``dependencies`` run before its own."""
        if not (prefix or dependencies):
            return self
        return self._remade(prefix, (*dependencies, *self.dependencies), self.host_params)

    def under_host(self, params: Sequence[Param]) -> Route:
        """This route below a Host whose template has ``params``."""
        return self._remade("", self.dependencies, tuple(params)) if params else self

    def _remade(
        self, prefix: str, dependencies: Sequence[DependsMarker], host_params: Sequence[Param]
    ) -> Route:
        return Route(
            prefix + self.path,
            self.endpoint,
            methods=self.methods,
            name=self.name,
            response_class=self.response_class,
            status_code=self.status_code,
            dependencies=dependencies,
            host_params=host_params,
        )

    def compile(self, default_response_class: type[Response] | None) -> Sequence[PathEntry]:
        endpoint = compile_endpoint(self, default_response_class)
        if self.host_params:
            endpoint = _HostedEndpoint(endpoint)
        return (PathEntry(self.compiled, self.methods, endpoint),)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a request routed here (``scope["path_params"]`` already converted)."""
        await self._own(scope, receive, send)

    def __repr__(self) -> str:
        methods = ", ".join(sorted(self.methods))
        return f"Route({self.path!r}, methods=[{methods}], name={self.name!r})"


class _HostedEndpoint(Endpoint):
    """An endpoint below a Host: the host's values join the path parameters first."""

    __slots__ = ("inner",)

    def __init__(self, inner: Endpoint) -> None:
        super().__init__(inner.route, inner.effective_response_class)
        self.inner = inner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The router set this route's own values; the Host left its values apart.
        scope["path_params"] = {**scope[HOST_PARAMS], **scope["path_params"]}
        await self.inner(scope, receive, send)
