"""``Route``: one path, its methods and its handler, as an immutable description.

Everything that follows from the route alone is decided and checked when it
is made: the compiled path (``_matcher``) and how each handler parameter is
bound (``_params``). A router compiles it into an endpoint of its own
(``_endpoint``); see ``routing`` for the router and the decorators.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

from microweb._dependency import depends_list
from microweb._endpoint import Endpoint, compile_endpoint, effective_response_class
from microweb._matcher import CompiledPath, Param, compile_path
from microweb._params import Binding, bind_endpoint
from microweb._response_model import DumpOptions
from microweb._route_base import HOST_PARAMS, BaseRoute, PathEntry, path_for
from microweb.params import DependsMarker
from microweb.responses import Response
from microweb.types import Receive, Scope, Send

__all__ = ["Route", "check_response_class", "check_tags"]


def check_response_class(response_class: Any, where: str) -> None:
    if response_class is None:
        return
    if not (isinstance(response_class, type) and issubclass(response_class, Response)):
        raise TypeError(
            f"response_class of {where} must be a Response subclass, got {response_class!r}"
        )
    response_class.check_usable()  # a missing extra shows now, not on the first request


def check_tags(tags: Any, where: str) -> tuple[str, ...]:
    """``tags`` (a list of str, or None) as a tuple; a TypeError names ``where`` otherwise."""
    if tags is None:
        return ()
    if isinstance(tags, str) or not all(isinstance(tag, str) for tag in tags):
        raise TypeError(f"tags of {where} must be a list of str, got {tags!r}")
    return tuple(tags)


def _check_doc(where: str, **given: Any) -> None:
    """The OpenAPI options of a route: str or None, ``deprecated`` a bool or None."""
    for option, value in given.items():
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{option} of {where} must be a str, got {value!r}")


def _check_responses(responses: Any, where: str) -> dict[int | str, dict[str, Any]]:
    """``responses={404: {"description": ...}}``: OpenAPI Response Objects by status."""
    if responses is None:
        return {}
    if not isinstance(responses, Mapping):
        raise TypeError(f"responses of {where} must be a dict, got {responses!r}")
    checked: dict[int | str, dict[str, Any]] = {}
    for status, response in responses.items():
        # OpenAPI: a status code, a range such as "4XX", or "default".
        text = str(status)
        if not (
            (isinstance(status, int) and 100 <= status <= 599)
            or text == "default"
            or (len(text) == 3 and text[0] in "12345" and (text.isdigit() or text[1:] == "XX"))
        ):
            raise ValueError(f"responses of {where}: {status!r} is not a status code")
        if not isinstance(response, Mapping):
            raise TypeError(f"responses of {where}: the answer for {status!r} must be a dict")
        checked[status] = dict(response)
    return checked


@dataclasses.dataclass(frozen=True, slots=True, init=False, repr=False, eq=False)
class Route(BaseRoute):
    """One path, its methods and its handler: an immutable description.

    ``Route(path, endpoint, *, methods=None, name=None, response_class=None,
    status_code=None, dependencies=None, response_model=None,
    response_model_include=None, response_model_exclude=None,
    response_model_exclude_unset=False, response_model_by_alias=True, tags=None,
    summary=None, description=None, deprecated=None, include_in_schema=True,
    operation_id=None, responses=None)``; methods default to ``["GET"]``, the
    name to the function's name. ``response_model`` converts what the handler
    returns (SPEC "Typed request data"), the ``response_model_*`` options say
    which of its fields are sent (``_response_model.DumpOptions``); ``tags`` to
    ``responses`` document the operation in OpenAPI and change nothing at run
    time. Pass routes to ``App(routes=[...])`` or ``Router(routes=[...])``,
    or let the decorators make them. A Route is also an ASGI app on its own,
    answering with its own ``response_class`` (JSON without one) once
    ``scope["path_params"]`` holds its converted path values.

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
    response_model: Any  # what the return value is converted through (None: as returned)
    response_model_include: frozenset[str] | None  # the fields sent (None: all)
    response_model_exclude: frozenset[str] | None  # the fields never sent
    response_model_exclude_unset: bool  # leave out the fields the value did not set
    response_model_by_alias: bool  # a pydantic model's aliases as keys
    # OpenAPI only (SPEC "OpenAPI"): read when the document is built, never per request.
    tags: tuple[str, ...]
    summary: str | None
    description: str | None
    deprecated: bool
    include_in_schema: bool
    operation_id: str | None
    responses: dict[int | str, dict[str, Any]]
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
        response_model: Any = None,
        response_model_include: Collection[str] | None = None,
        response_model_exclude: Collection[str] | None = None,
        response_model_exclude_unset: bool = False,
        response_model_by_alias: bool = True,
        tags: Sequence[str] | None = None,
        summary: str | None = None,
        description: str | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        operation_id: str | None = None,
        responses: Mapping[int | str, Mapping[str, Any]] | None = None,
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
        _check_doc(where, summary=summary, description=description, operation_id=operation_id)
        for option, flag in (("deprecated", deprecated), ("include_in_schema", include_in_schema)):
            if flag is not None and not isinstance(flag, bool):
                raise TypeError(f"{option} of {where} must be a bool, got {flag!r}")
        dump = DumpOptions.checked(
            where,
            response_model_include,
            response_model_exclude,
            response_model_exclude_unset,
            response_model_by_alias,
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
        for found in binding.tree():
            if found.websocket_names:
                raise TypeError(
                    f"parameter {found.websocket_names[0]!r} of {where} (or of a dependency) "
                    "is a WebSocket, which only a WebSocket route has; register the handler "
                    "with @app.websocket, or take a Request"
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
        init(self, "response_model", response_model)
        init(self, "response_model_include", dump.include)
        init(self, "response_model_exclude", dump.exclude)
        init(self, "response_model_exclude_unset", dump.exclude_unset)
        init(self, "response_model_by_alias", dump.by_alias)
        init(self, "tags", check_tags(tags, where))
        init(self, "summary", summary)
        init(self, "description", description)
        init(self, "deprecated", bool(deprecated))
        init(self, "include_in_schema", include_in_schema)
        init(self, "operation_id", operation_id)
        init(self, "responses", _check_responses(responses, where))
        init(self, "host_params", tuple(host_params))
        init(self, "_own", compile_endpoint(self, None))

    def url_path_for(self, name: str, /, **params: Any) -> str:
        """This route's path with ``params`` filled in, percent-quoted."""
        return path_for(self.name, self.compiled, name, params)

    def under(
        self,
        prefix: str,
        dependencies: Sequence[DependsMarker] = (),
        tags: Sequence[str] = (),
    ) -> Route:
        """This route under ``prefix``; ``dependencies`` run before its own, ``tags`` first."""
        if not (prefix or dependencies or tags):
            return self
        tags = [*tags, *(tag for tag in self.tags if tag not in tags)]
        return self._remade(prefix, (*dependencies, *self.dependencies), self.host_params, tags)

    def under_host(self, params: Sequence[Param]) -> Route:
        """This route below a Host whose template has ``params``."""
        if not params:
            return self
        return self._remade("", self.dependencies, tuple(params), self.tags)

    def _remade(
        self,
        prefix: str,
        dependencies: Sequence[DependsMarker],
        host_params: Sequence[Param],
        tags: Sequence[str],
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
            response_model=self.response_model,
            response_model_include=self.response_model_include,
            response_model_exclude=self.response_model_exclude,
            response_model_exclude_unset=self.response_model_exclude_unset,
            response_model_by_alias=self.response_model_by_alias,
            tags=tags,
            summary=self.summary,
            description=self.description,
            deprecated=self.deprecated,
            include_in_schema=self.include_in_schema,
            operation_id=self.operation_id,
            responses=self.responses,
        )

    def compile(self, default_response_class: type[Response] | None) -> Sequence[PathEntry]:
        own = self._own
        if effective_response_class(self, default_response_class) is own.effective_response_class:
            # perf: the class is all a router changes, so the Route's own endpoint
            # serves when it is the same: one endpoint a route, not two (tracked
            # objects a route 46 -> 40, for each full GC collection to visit).
            endpoint = own
        else:
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
