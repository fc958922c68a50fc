"""Handler signature -> binder, once per route.

``inspect`` and ``typing.get_type_hints`` run here, when a route is added, and
nowhere else. Each handler parameter is classified by the rules of SPEC.md
("Handler parameters", "Typed request data"), first match wins:

1. annotated ``Request`` (or a subclass)  -> the request (``WebSocket``: the connection)
2. annotated ``Response``                 -> a temporary response to set status/headers/cookies on
3. annotated ``BackgroundTasks``          -> tasks run after the response is sent
4. a marker (``microweb.params``)         -> its source: path, query, header, cookie, body,
                                             form, file (forms and files: ``_form``)
5. named like a path parameter            -> the converted path value
6. unannotated and named ``request``      -> the request
7. annotated ``UploadFile`` (or a list)   -> a file of the form (``_form``)
8. a structured type (``_body``)          -> the JSON body (or its key, beside other body params)
9. anything else                          -> the query parameter of that name

A marker is ``Annotated[T, Query(...)]`` or the default (``x: int = Query(1)``).
A ``Depends`` parameter comes before all of these: it is compiled by
``_dependency``, its callable bound by these same rules.

A path value has the type its convertor gives (``{id:int}`` gives an int);
the annotation must agree with it (SPEC "Typed request data", Coercion): no
annotation, ``Any``, ``object``, a base class of that type, ``float`` or
``complex`` for an int (the numeric tower), or a union holding one of those.
Only the ``str`` convertor (``{id}``) converts by the annotation instead.
How such a value parameter is compiled and bound is ``_values``.
Query, header and cookie values are converted by the annotation (str when
there is none), all by the one converter set of ``_validation``, then
checked against the marker's constraints.

A value that is missing, does not convert or breaks a constraint is collected
(``_validation.item`` builds each item), and all of them, the body's
included, are answered together by one ``RequestValidationError`` (422). A
parameter that can be bound to nothing (a type no query string can carry,
positional-only, a path parameter the handler cannot reach, an annotation that
disagrees with the path convertor, a bad constraint, a marker given twice) is
a TypeError or ValueError naming the route and the parameter when the route
is added.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace as dataclass_replace
from typing import TYPE_CHECKING, Any, NamedTuple

from microweb._body import (
    BodyParam,
    BodyRead,
    BodyReader,
    body_param,
    is_structured,
)
from microweb._convertors import Convertor
from microweb._dependency import Dependency, depends_marker, route_body
from microweb._http.cookies import parse_cookie_header
from microweb._models import is_pydantic_model
from microweb._temporary import TemporaryResponse
from microweb._utils import callable_name, unwrap_partial
from microweb._validation import Constraints, ErrorDict
from microweb._values import (
    ValueParam,
    bind_found,
    bind_query,
    convert_into,
    is_upload,
    path_param,
    unwrap_optional,
    value_param,
)
from microweb.background import BackgroundTasks
from microweb.datastructures import parse_query_string
from microweb.exceptions import HTTPException, RequestValidationError
from microweb.params import BodyMarker, DependsMarker, Marker
from microweb.requests import Request
from microweb.responses import Response
from microweb.types import Receive, Scope
from microweb.websockets import WebSocket

if TYPE_CHECKING:
    from microweb._form import FormReader
    from microweb._param_models import ModelParam

__all__ = ["Binding", "Bound", "bind_endpoint", "type_hints"]


# --- binding --------------------------------------------------------------------


class Bound(NamedTuple):
    """What ``Binding.bind`` made for one request."""

    kwargs: dict[str, Any]  # the handler's arguments
    response: TemporaryResponse | None  # the temporary Response, when the handler takes one
    tasks: BackgroundTasks | None  # the BackgroundTasks, when the handler takes them
    request: Request | None  # the Request, when the handler takes it (closed after the response)


class Binding:
    """How to call one endpoint: what to build, and which arguments to fill."""

    def __init__(
        self,
        *,
        request_names: tuple[str, ...],
        response_names: tuple[str, ...],
        background_names: tuple[str, ...],
        values: tuple[ValueParam, ...],
        path_names_direct: bool,
        extra_path_names: tuple[str, ...] = (),
        body: BodyReader | FormReader | None = None,
        dependencies: tuple[tuple[str | None, Dependency], ...] = (),
        reached: frozenset[str] = frozenset(),
        websocket_names: tuple[str, ...] = (),
        route_body: BodyReader | None = None,
        models: tuple[ModelParam, ...] = (),
    ) -> None:
        self.request_names = request_names
        self.websocket_names = websocket_names  # a WebSocket route's connection
        self.response_names = response_names
        self.background_names = background_names
        self.values = values
        self.extra_path_names = extra_path_names  # unnamed path params for **kwargs
        self.query = tuple(v for v in values if v.location == "query")
        self.path = tuple(v for v in values if v.location == "path")
        self.headers = tuple(v for v in values if v.location == "header")
        self.cookies = tuple(v for v in values if v.location == "cookie")
        # perf: one test per request for a handler reading no header or cookie.
        self.from_headers = bool(self.headers or self.cookies)
        self.body = body  # its own body parameters
        # A handler's: the body parameters of it and its dependencies, read once.
        self.route_body = route_body
        # Each Depends parameter (None: a route-level check whose value is unused).
        self.dependencies = dependencies
        self.reached = reached  # the path parameters it or its dependencies take
        self.models = models  # query, header and cookie models (``_param_models``)
        # perf: a binding without values skips ``fill`` (a handler taking just a Request).
        self.fills = bool(values or extra_path_names or models)
        # perf: a handler that takes exactly the path parameters, unconverted,
        # gets the router's dict as its kwargs: no per-request binding at all.
        self.passthrough = path_names_direct and not (
            request_names
            or response_names
            or background_names
            or websocket_names
            or self.query
            or body
            or dependencies
            or models
        )

    def tree(self) -> Iterator[Binding]:
        """This binding and those of its dependencies, all the way down."""
        yield self
        for _, dependency in self.dependencies:
            yield from dependency.binding.tree()

    def bind(
        self, scope: Scope, receive: Receive, status_code: int, read: BodyRead | None = None
    ) -> Bound:
        """Fill the endpoint's arguments for one request, or raise a 422/400.

        ``status_code`` is what a temporary Response starts with. A route with
        a typed body binds through ``bind_with_body``, which passes what it
        read as ``read``: its values and errors join the others.
        """
        path_params: dict[str, Any] = scope["path_params"]
        if self.passthrough:
            return Bound(path_params, None, None, None)
        kwargs: dict[str, Any] = {}
        errors: list[ErrorDict] = []
        if self.fills:
            self.fill(scope, kwargs, errors)
        request = None
        if read is not None:
            request = read.request
            kwargs.update(read.kwargs)
            errors += read.errors
        if errors:
            raise RequestValidationError(errors, body=None if read is None else read.value)
        temporary = None
        if self.response_names:
            temporary = TemporaryResponse(status_code)
            for name in self.response_names:
                kwargs[name] = temporary
        tasks = None
        if self.background_names:
            tasks = BackgroundTasks()
            for name in self.background_names:
                kwargs[name] = tasks
        if self.request_names:
            if request is None:
                request = Request(scope, receive)
            for name in self.request_names:
                kwargs[name] = request
        return Bound(kwargs, temporary, tasks, request)

    def fill(self, scope: Scope, kwargs: dict[str, Any], errors: list[ErrorDict]) -> None:
        """Put the path, query, header and cookie values in ``kwargs``, failures in ``errors``."""
        path_params: dict[str, Any] = scope["path_params"]
        for param in self.path:
            convert_into(kwargs, errors, param, path_params[param.name])
        for name in self.extra_path_names:
            kwargs[name] = path_params[name]
        if self.query:
            query_string = scope.get("query_string", b"")
            try:
                # perf: the pairs are scanned directly; no QueryParams is built (0.4 µs).
                pairs = parse_query_string(query_string.decode("utf-8")) if query_string else []
            except UnicodeDecodeError:
                raise HTTPException(400, "Invalid UTF-8 in the query string") from None
            for param in self.query:
                bind_query(kwargs, errors, param, pairs)
        if self.from_headers:
            self._bind_headers(scope, kwargs, errors)
        if self.models:
            self._bind_models(scope, kwargs, errors)

    async def bind_with_body(self, scope: Scope, receive: Receive, status_code: int) -> Bound:
        """``bind`` for a route with a typed JSON body or a form, read first."""
        reader: BodyReader | FormReader = self.body  # type: ignore[assignment]  # set for such routes
        request = Request(scope, receive)
        try:
            return self.bind(scope, receive, status_code, await reader.read(request))
        except BaseException:
            await request.close()  # a 422 before the handler: the form's files go now
            raise

    def _bind_headers(self, scope: Scope, kwargs: dict[str, Any], errors: list[ErrorDict]) -> None:
        raw: list[tuple[bytes, bytes]] = scope.get("headers", [])
        for param in self.headers:
            name = param.sent_as.encode("latin-1")
            found = [value.decode("latin-1") for key, value in raw if key == name]
            bind_found(kwargs, errors, param, found)
        if self.cookies:
            # RFC 9113 §8.2.3: HTTP/2 may split the cookie header; joined, it is one.
            header = "; ".join(value.decode("latin-1") for key, value in raw if key == b"cookie")
            cookies = parse_cookie_header(header) if header else {}
            for param in self.cookies:
                value = cookies.get(param.sent_as)
                bind_found(kwargs, errors, param, [] if value is None else [value])

    def _bind_models(self, scope: Scope, kwargs: dict[str, Any], errors: list[ErrorDict]) -> None:
        """Fill the query, header and cookie models, each from its whole source."""
        from microweb._param_models import grouped  # loaded with the route's first model

        raw: list[tuple[bytes, bytes]] = scope.get("headers", [])
        for model in self.models:
            if model.location == "query":
                query_string = scope.get("query_string", b"")
                try:
                    text = query_string.decode("utf-8")
                except UnicodeDecodeError:
                    raise HTTPException(400, "Invalid UTF-8 in the query string") from None
                source = grouped(parse_query_string(text))
            elif model.location == "header":
                source = grouped((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw)
            else:
                header = "; ".join(v.decode("latin-1") for k, v in raw if k == b"cookie")
                cookies = parse_cookie_header(header) if header else {}
                source = {name: [value] for name, value in cookies.items()}
            model.fill(source, kwargs, errors)


def type_hints(endpoint: Callable[..., Any], where: str) -> dict[str, Any]:
    target = unwrap_partial(endpoint)
    if inspect.isclass(target):
        target = target.__init__  # a class called as a dependency: its constructor's hints
    elif not (inspect.isfunction(target) or inspect.ismethod(target)) and callable(target):
        target = type(target).__call__
    try:
        return typing.get_type_hints(target, include_extras=True)
    except Exception as exc:  # NameError for an annotation that cannot be resolved
        raise TypeError(
            f"cannot resolve the annotations of {where}: {exc}; "
            "define the annotated types at module level"
        ) from exc


def _split_marker(
    annotation: Any, parameter: inspect.Parameter, where: str
) -> tuple[Any, Marker | None, Any]:
    """``(type, marker or None, default)`` of one parameter; ``Annotated`` is unwrapped."""
    name = parameter.name
    markers: list[Marker] = []
    if typing.get_origin(annotation) is typing.Annotated:
        markers += [meta for meta in annotation.__metadata__ if isinstance(meta, Marker)]
        annotation = typing.get_args(annotation)[0]
    default = parameter.default
    if isinstance(default, Marker):
        markers.append(default)
        default = inspect.Parameter.empty
    if len(markers) > 1:
        raise TypeError(
            f"parameter {name!r} of {where} has two markers, {markers[0]!r} and "
            f"{markers[1]!r}; keep one"
        )
    marker = markers[0] if markers else None
    if marker is not None and not marker.required:
        if default is not inspect.Parameter.empty:
            raise TypeError(
                f"parameter {name!r} of {where} has a default in {marker!r} and another "
                f"after '='; give it once"
            )
        default = marker.default
    return annotation, marker, default


def _constraints(
    marker: Marker | None, annotation: Any, name: str, where: str
) -> Constraints | None:
    if marker is None:
        return None
    floats = unwrap_optional(annotation)[0] is float
    try:
        constraints = Constraints(marker.constraints(), floats=floats)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"parameter {name!r} of {where}: {exc}; fix {marker!r}") from None
    return constraints or None


def bind_endpoint(
    endpoint: Callable[..., Any],
    path_params: dict[str, Convertor[Any]],
    where: str,
    *,
    checks: Sequence[DependsMarker] = (),
    chain: tuple[Callable[..., Any], ...] = (),
    optional: frozenset[str] = frozenset(),
) -> Binding:
    """Work out, once, how to call ``endpoint`` for a route.

    ``path_params`` maps each path parameter's name to its convertor;
    ``where`` names the route in error messages; ``checks`` are the route's
    ``dependencies=[Depends(...)]``, run before the handler, values unused.
    ``chain`` is set when ``endpoint`` is itself a dependency: the
    dependencies that led to it, the handler first. ``optional`` names path
    parameters the handler may leave out (those of a Host above the route).
    """
    route = where
    role = "dependency" if chain else "handler"
    where = f"{role} {callable_name(endpoint)!r} of {where}"
    trail = chain or (endpoint,)  # what leads to a dependency of this endpoint
    dependencies: list[tuple[str | None, Dependency]] = [
        (None, Dependency(check, path_params, route, trail, bind_endpoint)) for check in checks
    ]
    try:
        signature = inspect.signature(endpoint)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"cannot read the signature of {where}: {exc}") from exc
    hints = type_hints(endpoint, where)

    request_names: list[str] = []
    websocket_names: list[str] = []
    response_names: list[str] = []
    background_names: list[str] = []
    values: list[ValueParam] = []
    body_params: list[BodyParam] = []
    form_fields: list[tuple[str, Any, Marker | None, Any, Constraints | None]] = []
    models: list[ModelParam] = []
    embed = False
    takes_kwargs = False
    for name, parameter in signature.parameters.items():
        if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            continue
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            takes_kwargs = True
            continue
        if parameter.kind is inspect.Parameter.POSITIONAL_ONLY:
            raise TypeError(
                f"parameter {name!r} of {where} is positional-only; "
                "handlers are called with keyword arguments"
            )
        depends = depends_marker(hints.get(name), parameter, where)
        if depends is not None:
            dependency = Dependency(depends, path_params, route, trail, bind_endpoint)
            dependencies.append((name, dependency))
            continue
        annotation, marker, default = _split_marker(
            hints.get(name, inspect.Parameter.empty), parameter, where
        )
        constraints = _constraints(marker, annotation, name, where)
        source = None if marker is None else marker.source
        if source is None and isinstance(annotation, type) and issubclass(annotation, Request):
            request_names.append(name)
        elif source is None and isinstance(annotation, type) and issubclass(annotation, WebSocket):
            websocket_names.append(name)
        elif source is None and annotation is Response:
            response_names.append(name)
        elif (
            source is None
            and isinstance(annotation, type)
            and issubclass(annotation, BackgroundTasks)
        ):
            background_names.append(name)
        elif source == "path" or (source is None and name in path_params):
            if name not in path_params:
                raise ValueError(
                    f"parameter {name!r} of {where} is marked Path() but the path has no "
                    f"{{{name}}}; add it to the path or use Query()"
                )
            param = path_param(name, annotation, path_params[name], where)
            values.append(dataclass_replace(param, constraints=constraints))
        elif source is None and name == "request" and annotation is inspect.Parameter.empty:
            request_names.append(name)  # SPEC: an unannotated ``request`` is the Request
        elif source in ("query", "header", "cookie") and _is_model(annotation):
            from microweb._param_models import model_param  # only for such a route

            models.append(model_param(name, annotation, marker, default, constraints, where))
        elif source in ("form", "file") or (source is None and is_upload(annotation)):
            form_fields.append((name, annotation, marker, default, constraints))
        elif source == "body" or (source is None and is_structured(annotation)):
            if isinstance(marker, BodyMarker) and marker.embed:
                embed = True
            body_params.append(body_param(name, annotation, marker, default, where))
        else:
            values.append(value_param(name, annotation, marker, default, constraints, where))

    reached = {v.name for v in values if v.location == "path"}
    for _, dependency in dependencies:
        reached |= dependency.binding.reached
    unreached = [n for n in path_params if n not in reached]
    required = [n for n in unreached if n not in optional]
    if required and not (request_names or websocket_names or takes_kwargs or chain):
        names = ", ".join(repr(n) for n in required)
        raise ValueError(
            f"path parameter {names} of {where} is not a parameter of the handler; "
            "add it to the signature or take a Request"
        )
    direct = (
        not unreached
        and all(
            v.location == "path" and v.converter is None and v.constraints is None for v in values
        )
        and not takes_kwargs
    )
    body: BodyReader | FormReader | None = None
    if form_fields:
        # perf: _form is loaded by the first route that reads a form, so an app
        # with none keeps its footprint (loading it costs /plaintext 30
        # instructions a request, callgrind: the method cache's layout).
        from microweb._form import FormReader, form_param

        params = [form_param(*field, where) for field in form_fields]
        body = FormReader(params, [p.name for p in body_params], where)
    elif body_params:
        try:
            body = BodyReader(body_params, embed)
        except (TypeError, ValueError) as exc:
            names = ", ".join(repr(p.name) for p in body_params)
            raise TypeError(
                f"body parameter {names} of {where} cannot be decoded from JSON: {exc}"
            ) from None
    whole = None if chain else route_body(body, dependencies, where)
    return Binding(
        request_names=tuple(request_names),
        response_names=tuple(response_names),
        background_names=tuple(background_names),
        values=tuple(values),
        path_names_direct=direct and body is None,
        extra_path_names=tuple(unreached) if takes_kwargs else (),
        body=body,
        dependencies=tuple(dependencies),
        reached=frozenset(reached),
        websocket_names=tuple(websocket_names),
        route_body=whole,
        models=tuple(models),
    )


def _is_model(annotation: Any) -> bool:
    """A pydantic model, or a union of them (maybe ``| None``): a query, header or cookie model.

    FastAPI's rule: only a pydantic model fills from the query string, the
    headers or the cookies; another structured type there stays a definition
    error (a form takes any model class, ``_form``).
    """
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    members = typing.get_args(annotation) if union else (annotation,)
    members = tuple(m for m in members if m is not type(None))
    return bool(members) and all(is_pydantic_model(member) for member in members)


# PEP 484's numeric tower: an int is acceptable where a float or complex is expected.
