"""Handler signature -> binder, once per route.

``inspect`` and ``typing.get_type_hints`` run here, when a route is added, and
nowhere else. Each handler parameter is classified by the rules of SPEC.md
("Handler parameters", "Typed request data"), first match wins:

1. annotated ``Request`` (or a subclass)  -> the request
2. annotated ``Response``                 -> a temporary response to set status/headers/cookies on
3. annotated ``BackgroundTasks``          -> tasks run after the response is sent
4. a marker (``microweb.params``)         -> its source: path, query, header, cookie, body
5. named like a path parameter            -> the converted path value
6. unannotated and named ``request``      -> the request
7. a structured type (``_body``)          -> the JSON body (or its key, beside other body params)
8. anything else                          -> the query parameter of that name

A marker is ``Annotated[T, Query(...)]`` or the default (``x: int = Query(1)``).

A path value has the type its convertor gives (``{id:int}`` gives an int);
the annotation must agree with it (SPEC "Typed request data", Coercion): no
annotation, ``Any``, ``object``, a base class of that type, ``float`` or
``complex`` for an int (the numeric tower), or a union holding one of those.
Only the ``str`` convertor (``{id}``) converts by the annotation instead.
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
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import replace as dataclass_replace
from typing import Any, NamedTuple, Union

from microweb._body import BodyParam, BodyRead, BodyReader, is_structured, with_constraints
from microweb._convertors import Convertor
from microweb._http.cookies import parse_cookie_header
from microweb._temporary import TemporaryResponse
from microweb._utils import callable_name, unwrap_partial
from microweb._validation import (
    REFUSED,
    SCALAR_TYPES,
    Constraints,
    Converter,
    ErrorDict,
    Refused,
    item,
    scalar_converter,
)
from microweb.background import BackgroundTasks
from microweb.datastructures import parse_query_string
from microweb.exceptions import HTTPException, RequestValidationError
from microweb.params import REQUIRED, BodyMarker, HeaderMarker, Marker
from microweb.requests import Request
from microweb.responses import Response
from microweb.types import Receive, Scope

__all__ = ["Binding", "Bound", "bind_endpoint", "type_hints"]


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    """``X | None`` -> ``(X, True)``; anything else -> ``(annotation, False)``."""
    origin = typing.get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(annotation)) == 2:
            return args[0], True
    return annotation, False


# --- binding --------------------------------------------------------------------


@dataclass(frozen=True)
class _ValueParam:
    """A path, query, header or cookie parameter: where it comes from, how it converts."""

    name: str  # the handler's keyword
    location: str  # "path", "query", "header" or "cookie"
    converter: Converter | None  # None: pass the value as it is
    many: bool = False  # list[X]: every value of the key
    required: bool = True
    default: Any = None
    key: str = ""  # the name as sent (the alias, the header's name); "" for ``name``
    constraints: Constraints | None = None

    @property
    def sent_as(self) -> str:
        return self.key or self.name


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
        values: tuple[_ValueParam, ...],
        path_names_direct: bool,
        extra_path_names: tuple[str, ...] = (),
        body: BodyReader | None = None,
    ) -> None:
        self.request_names = request_names
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
        self.body = body
        # perf: a handler that takes exactly the path parameters, unconverted,
        # gets the router's dict as its kwargs: no per-request binding at all.
        self.passthrough = path_names_direct and not (
            request_names or response_names or background_names or self.query or body
        )

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
        for param in self.path:
            _convert_into(kwargs, errors, param, path_params[param.name])
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
                _bind_query(kwargs, errors, param, pairs)
        if self.from_headers:
            self._bind_headers(scope, kwargs, errors)
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

    async def bind_with_body(self, scope: Scope, receive: Receive, status_code: int) -> Bound:
        """``bind`` for a route with a typed JSON body, read first."""
        reader: BodyReader = self.body  # type: ignore[assignment]  # set for such routes
        read = await reader.read(Request(scope, receive))
        return self.bind(scope, receive, status_code, read)

    def _bind_headers(self, scope: Scope, kwargs: dict[str, Any], errors: list[ErrorDict]) -> None:
        raw: list[tuple[bytes, bytes]] = scope.get("headers", [])
        for param in self.headers:
            name = param.sent_as.encode("latin-1")
            found = [value.decode("latin-1") for key, value in raw if key == name]
            _bind_found(kwargs, errors, param, found)
        if self.cookies:
            # RFC 9113 §8.2.3: HTTP/2 may split the cookie header; joined, it is one.
            header = "; ".join(value.decode("latin-1") for key, value in raw if key == b"cookie")
            cookies = parse_cookie_header(header) if header else {}
            for param in self.cookies:
                value = cookies.get(param.sent_as)
                _bind_found(kwargs, errors, param, [] if value is None else [value])


def _refusal(param: _ValueParam, converter: Converter, exc: Exception, raw: Any) -> ErrorDict:
    """The 422 item for a value ``converter`` refused with ``exc``."""
    loc = [param.location, param.sent_as]
    if isinstance(exc, Refused):
        return item(exc.error_type, loc, exc.message, raw)
    return item(converter.error_type, loc, converter.message, raw, converter.ctx)


def _check(
    kwargs: dict[str, Any], errors: list[ErrorDict], param: _ValueParam, value: Any, raw: Any
) -> None:
    """Keep ``value`` if it meets the parameter's constraints, else report the first it breaks."""
    constraints = param.constraints
    failure = None if constraints is None else constraints.check(value)
    if failure is None:
        kwargs[param.name] = value
    else:
        kind, message, ctx = failure
        errors.append(item(kind, [param.location, param.sent_as], message, raw, ctx))


def _convert_into(
    kwargs: dict[str, Any], errors: list[ErrorDict], param: _ValueParam, raw: str
) -> None:
    converter = param.converter
    if converter is None:
        value: Any = raw
    else:
        try:
            value = converter.convert(raw)
        except REFUSED as exc:
            errors.append(_refusal(param, converter, exc, raw))
            return
    if param.constraints is None:  # perf: the usual unconstrained value costs no call
        kwargs[param.name] = value
    else:
        _check(kwargs, errors, param, value, raw)


def _bind_many(
    kwargs: dict[str, Any], errors: list[ErrorDict], param: _ValueParam, raw_values: list[str]
) -> None:
    if not raw_values:
        _missing(kwargs, errors, param)
        return
    converter = param.converter
    if converter is None:
        _check(kwargs, errors, param, raw_values, raw_values)
        return
    converted = []
    for raw in raw_values:
        try:
            converted.append(converter.convert(raw))
        except REFUSED as exc:
            errors.append(_refusal(param, converter, exc, raw))
            return
    _check(kwargs, errors, param, converted, raw_values)


def _bind_found(
    kwargs: dict[str, Any], errors: list[ErrorDict], param: _ValueParam, found: list[str]
) -> None:
    """Bind a header or cookie parameter to the values found under its name."""
    if param.many:
        _bind_many(kwargs, errors, param, found)
    elif found:
        _convert_into(kwargs, errors, param, found[0])
    else:
        _missing(kwargs, errors, param)


def _bind_query(
    kwargs: dict[str, Any],
    errors: list[ErrorDict],
    param: _ValueParam,
    pairs: list[tuple[str, str]],
) -> None:
    name = param.sent_as
    if param.many:
        _bind_many(kwargs, errors, param, [value for key, value in pairs if key == name])
        return
    for key, value in pairs:
        if key == name:  # a repeated key: the first value counts
            _convert_into(kwargs, errors, param, value)
            return
    _missing(kwargs, errors, param)


def _missing(kwargs: dict[str, Any], errors: list[ErrorDict], param: _ValueParam) -> None:
    if param.required:
        errors.append(item("missing", [param.location, param.sent_as], "Field required", None))
    elif isinstance(param.default, list):
        kwargs[param.name] = list(param.default)  # never hand out the shared default
    else:
        kwargs[param.name] = param.default


def type_hints(endpoint: Callable[..., Any], where: str) -> dict[str, Any]:
    target = unwrap_partial(endpoint)
    if not (inspect.isfunction(target) or inspect.ismethod(target)) and callable(target):
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
    floats = _unwrap_optional(annotation)[0] is float
    try:
        constraints = Constraints(marker.constraints(), floats=floats)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"parameter {name!r} of {where}: {exc}; fix {marker!r}") from None
    return constraints or None


def bind_endpoint(
    endpoint: Callable[..., Any],
    path_params: dict[str, Convertor[Any]],
    where: str,
) -> Binding:
    """Work out, once, how to call ``endpoint`` for a route.

    ``path_params`` maps each path parameter's name to its convertor;
    ``where`` names the route in error messages.
    """
    where = f"handler {callable_name(endpoint)!r} of {where}"
    try:
        signature = inspect.signature(endpoint)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"cannot read the signature of {where}: {exc}") from exc
    hints = type_hints(endpoint, where)

    request_names: list[str] = []
    response_names: list[str] = []
    background_names: list[str] = []
    values: list[_ValueParam] = []
    body_params: list[BodyParam] = []
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
        annotation, marker, default = _split_marker(
            hints.get(name, inspect.Parameter.empty), parameter, where
        )
        constraints = _constraints(marker, annotation, name, where)
        source = None if marker is None else marker.source
        if source is None and isinstance(annotation, type) and issubclass(annotation, Request):
            request_names.append(name)
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
            param = _path_param(name, annotation, path_params[name], where)
            values.append(dataclass_replace(param, constraints=constraints))
        elif source is None and name == "request" and annotation is inspect.Parameter.empty:
            request_names.append(name)  # SPEC: an unannotated ``request`` is the Request
        elif source == "body" or (source is None and is_structured(annotation)):
            if isinstance(marker, BodyMarker) and marker.embed:
                embed = True
            body_params.append(_body_param(name, annotation, marker, default, where))
        else:
            values.append(_value_param(name, annotation, marker, default, constraints, where))

    bound_path = {v.name for v in values if v.location == "path"}
    unreached = [n for n in path_params if n not in bound_path]
    if unreached and not (request_names or takes_kwargs):
        names = ", ".join(repr(n) for n in unreached)
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
    body = None
    if body_params:
        try:
            body = BodyReader(body_params, embed)
        except (TypeError, ValueError) as exc:
            names = ", ".join(repr(p.name) for p in body_params)
            raise TypeError(
                f"body parameter {names} of {where} cannot be decoded from JSON: {exc}"
            ) from None
    return Binding(
        request_names=tuple(request_names),
        response_names=tuple(response_names),
        background_names=tuple(background_names),
        values=tuple(values),
        path_names_direct=direct and body is None,
        extra_path_names=tuple(unreached) if takes_kwargs else (),
        body=body,
    )


def _body_param(
    name: str, annotation: Any, marker: Marker | None, default: Any, where: str
) -> BodyParam:
    if annotation is inspect.Parameter.empty:
        annotation = Any
    required = default is inspect.Parameter.empty or default is REQUIRED
    constraints = {} if marker is None else marker.constraints()
    key = marker.alias if marker is not None and marker.alias else name
    return BodyParam(
        name,
        key,
        with_constraints(annotation, constraints),
        required,
        None if required else default,
    )


# PEP 484's numeric tower: an int is acceptable where a float or complex is expected.
_NUMERIC_TOWER: dict[type, tuple[type, ...]] = {int: (float, complex), float: (complex,)}


def _path_param(name: str, annotation: Any, convertor: Convertor[Any], where: str) -> _ValueParam:
    if convertor.name != "str":
        # A typed convertor ({id:int}) already gave the value its type; the
        # annotation only has to agree with it.
        value_type = convertor.value_type
        if not _accepts(annotation, value_type):
            raise TypeError(
                f"path parameter {name!r} of {where} is annotated {_type_name(annotation)}, "
                f"but its converter {{{name}:{convertor.name}}} gives {value_type.__name__}; "
                f"annotate it {value_type.__name__}, or write {{{name}}} to convert by the "
                "annotation"
            )
        return _ValueParam(name, "path", None)
    if annotation in (inspect.Parameter.empty, str, Any):
        return _ValueParam(name, "path", None)
    # The str convertor matched any segment: the annotation converts it.
    converter = scalar_converter(_unwrap_optional(annotation)[0])
    if converter is None:
        raise TypeError(
            f"path parameter {name!r} of {where} is annotated {annotation!r}, "
            f"which a path segment cannot carry; use one of {SCALAR_TYPES}"
        )
    return _ValueParam(name, "path", converter)


def _accepts(annotation: Any, value_type: type) -> bool:
    """True when a handler annotated ``annotation`` may receive a ``value_type``."""
    if annotation in (inspect.Parameter.empty, Any):
        return True
    origin = typing.get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        return any(_accepts(arg, value_type) for arg in typing.get_args(annotation))
    # origin: list[int], Literal[...] are no classes, whatever isinstance says on 3.10.
    return (
        origin is None
        and isinstance(annotation, type)
        and (
            issubclass(value_type, annotation) or annotation in _NUMERIC_TOWER.get(value_type, ())
        )
    )


def _type_name(annotation: Any) -> str:
    return annotation.__name__ if isinstance(annotation, type) else repr(annotation)


_CARRIER = {"query": "a query string", "header": "a header", "cookie": "a cookie"}


def _sent_as(name: str, marker: Marker | None) -> str:
    """The key a query, header or cookie parameter is sent under ("" when it is ``name``)."""
    if marker is None:
        return ""
    if marker.alias:
        return marker.alias.lower() if isinstance(marker, HeaderMarker) else marker.alias
    if isinstance(marker, HeaderMarker):
        return name.replace("_", "-").lower() if marker.convert_underscores else name.lower()
    return ""


def _value_param(
    name: str,
    annotation: Any,
    marker: Marker | None,
    default: Any,
    constraints: Constraints | None,
    where: str,
) -> _ValueParam:
    location = "query" if marker is None else marker.source
    key = _sent_as(name, marker)
    required = default is inspect.Parameter.empty or default is REQUIRED
    default = None if required else default
    if annotation is inspect.Parameter.empty or annotation is Any:
        return _ValueParam(
            name,
            location,
            None,
            required=required,
            default=default,
            key=key,
            constraints=constraints,
        )
    inner, _ = _unwrap_optional(annotation)
    many = inner is list or typing.get_origin(inner) is list
    if many:
        args = typing.get_args(inner)
        inner = args[0] if args else str
    converter = scalar_converter(inner)
    if converter is None:
        raise TypeError(
            f"parameter {name!r} of {where} is annotated {annotation!r}, "
            f"which {_CARRIER[location]} cannot carry; use one of {SCALAR_TYPES}, "
            "or a list of one, or annotate it Request, Response or BackgroundTasks"
        )
    if inner is str:
        converter = None  # perf: nothing to convert
    return _ValueParam(
        name,
        location,
        converter,
        many=many,
        required=required,
        default=default,
        key=key,
        constraints=constraints,
    )
