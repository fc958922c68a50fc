"""Handler signature -> binder, once per route.

``inspect`` and ``typing.get_type_hints`` run here, when a route is added, and
nowhere else. Each handler parameter is classified by the rules of SPEC.md
("Handler parameters"), first match wins:

1. annotated ``Request`` (or a subclass)  -> the request
2. annotated ``Response``                 -> a temporary response to set status/headers/cookies on
3. annotated ``BackgroundTasks``          -> tasks run after the response is sent
4. named like a path parameter            -> the converted path value
5. unannotated and named ``request``      -> the request
6. anything else                          -> the query parameter of that name

A path value has the type its convertor gives (``{id:int}`` gives an int);
the annotation must agree with it (SPEC "Typed request data", Coercion): no
annotation, ``Any``, ``object``, a base class of that type, ``float`` or
``complex`` for an int (the numeric tower), or a union holding one of those.
Only the ``str`` convertor (``{id}``) converts by the annotation instead.
Query values are converted by the annotation (str when there is none).

A value that is missing or does not convert is collected (``_error`` builds
each item), and all of them are answered together by one 422 listing each
with its location. A parameter that can be bound to nothing (a type no query
string can carry, positional-only, a path parameter the handler cannot reach,
an annotation that disagrees with the path convertor) is a TypeError or
ValueError when the route is added.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import inspect
import math
import re
import types
import typing
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, Union

from microweb._convertors import Convertor
from microweb._utils import callable_name, unwrap_partial
from microweb.background import BackgroundTasks
from microweb.datastructures import parse_query_string
from microweb.exceptions import HTTPException, RequestValidationError
from microweb.requests import Request
from microweb.responses import Response
from microweb.types import Receive, Scope

__all__ = [
    "Binding",
    "Bound",
    "ErrorDict",
    "TemporaryResponse",
    "bind_endpoint",
    "bind_websocket_endpoint",
]

ErrorDict = dict[str, Any]

# The query-string grammar of numbers: a sign, an exponent, inf and nan are
# allowed (the path convertors' grammar, in _convertors, is unsigned digits).
_SIGNED_INT = re.compile(r"[+-]?[0-9]+")
_SIGNED_FLOAT = re.compile(
    r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:inf(?:inity)?|nan)", re.I
)
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


class TemporaryResponse(Response):
    """The ``Response`` a handler may ask for, to set status, headers, cookies, background.

    Its ``status_code`` only applies when the handler set it.
    """

    def __init__(self, status_code: int) -> None:
        self._status_code = status_code
        self.status_set = False
        self.background = None
        self.raw_headers = []

    @property
    def status_code(self) -> int:
        return self._status_code

    @status_code.setter
    def status_code(self, value: int) -> None:
        self._status_code = value
        self.status_set = True


# --- value converters ----------------------------------------------------------
# Each is (convert, error type, error message); convert raises ValueError (or
# ArithmeticError/TypeError, as Decimal and friends do; KeyError for an Enum
# or Literal choice) for a value it refuses.

_REFUSED = (ValueError, ArithmeticError, TypeError, KeyError)


class _Refused(ValueError):
    """A refusal with its own error type and message (over the converter's usual ones)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


@dataclass(frozen=True)
class _Converter:
    convert: Callable[[str], Any]
    error_type: str
    message: str


def _to_int(value: str) -> int:
    if _SIGNED_INT.fullmatch(value) is None:
        raise ValueError(value)
    return int(value)


def _to_float(value: str) -> float:
    if _SIGNED_FLOAT.fullmatch(value) is None:
        raise ValueError(value)
    number = float(value)
    # nan, inf and what overflows to inf (1e999) could not be sent back as JSON.
    if not math.isfinite(number):
        raise _Refused("finite_number", "Input should be a finite number")
    return number


def _to_bool(value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(value)


def _choices(values: list[Any]) -> str:
    quoted = [repr(v) for v in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _enum_converter(cls: type[enum.Enum]) -> _Converter:
    by_text = {str(member.value): member for member in cls}

    def convert(value: str) -> enum.Enum:
        return by_text[value]

    return _Converter(convert, "enum", f"Input should be {_choices(list(by_text))}")


def _literal_converter(choices: tuple[Any, ...]) -> _Converter:
    by_text = {str(choice): choice for choice in choices}

    def convert(value: str) -> Any:
        return by_text[value]

    return _Converter(convert, "literal_error", f"Input should be {_choices(list(by_text))}")


_SCALARS: dict[Any, _Converter] = {
    str: _Converter(str, "string_type", "Input should be a valid string"),
    int: _Converter(
        _to_int,
        "int_parsing",
        "Input should be a valid integer, unable to parse string as an integer",
    ),
    float: _Converter(
        _to_float,
        "float_parsing",
        "Input should be a valid number, unable to parse string as a number",
    ),
    bool: _Converter(
        _to_bool, "bool_parsing", "Input should be a valid boolean, unable to interpret input"
    ),
    uuid.UUID: _Converter(uuid.UUID, "uuid_parsing", "Input should be a valid UUID"),
    decimal.Decimal: _Converter(
        decimal.Decimal, "decimal_parsing", "Input should be a valid decimal"
    ),
    datetime.datetime: _Converter(
        datetime.datetime.fromisoformat, "datetime_parsing", "Input should be a valid datetime"
    ),
    datetime.date: _Converter(
        datetime.date.fromisoformat, "date_parsing", "Input should be a valid date"
    ),
}
_QUERY_TYPES = "str, int, float, bool, UUID, Decimal, date, datetime, an Enum, a Literal"


def _scalar_converter(annotation: Any) -> _Converter | None:
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return _enum_converter(annotation)
    if typing.get_origin(annotation) is Literal:
        return _literal_converter(typing.get_args(annotation))
    return None


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
    """A path or query parameter: where it comes from and how it converts."""

    name: str
    location: str  # "path" or "query"
    converter: _Converter | None  # None: pass the value as it is
    many: bool = False  # list[X]: every value of the query key
    required: bool = True
    default: Any = None


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
    ) -> None:
        self.request_names = request_names
        self.response_names = response_names
        self.background_names = background_names
        self.values = values
        self.extra_path_names = extra_path_names  # unnamed path params for **kwargs
        self.query = tuple(v for v in values if v.location == "query")
        self.path = tuple(v for v in values if v.location == "path")
        # perf: a handler that takes exactly the path parameters, unconverted,
        # gets the router's dict as its kwargs: no per-request binding at all.
        self.passthrough = path_names_direct and not (
            request_names or response_names or background_names or self.query
        )

    def bind(self, scope: Scope, receive: Receive, status_code: int) -> Bound:
        """Fill the endpoint's arguments for one request, or raise a 422/400.

        ``status_code`` is what a temporary Response starts with.
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
        if errors:
            raise RequestValidationError(errors)
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
        request = None
        if self.request_names:
            request = Request(scope, receive)
            for name in self.request_names:
                kwargs[name] = request
        return Bound(kwargs, temporary, tasks, request)


def _error(param: _ValueParam, message: str, error_type: str) -> ErrorDict:
    """One item of a 422's ``detail`` (SPEC "Handler parameters"), for ``param``."""
    return {"loc": [param.location, param.name], "msg": message, "type": error_type}


def _refusal(param: _ValueParam, converter: _Converter, exc: Exception) -> ErrorDict:
    """The 422 item for a value ``converter`` refused with ``exc``."""
    if isinstance(exc, _Refused):
        return _error(param, exc.message, exc.error_type)
    return _error(param, converter.message, converter.error_type)


def _convert_into(
    kwargs: dict[str, Any], errors: list[ErrorDict], param: _ValueParam, raw: str
) -> None:
    converter = param.converter
    if converter is None:
        kwargs[param.name] = raw
        return
    try:
        kwargs[param.name] = converter.convert(raw)
    except _REFUSED as exc:
        errors.append(_refusal(param, converter, exc))


def _bind_query(
    kwargs: dict[str, Any],
    errors: list[ErrorDict],
    param: _ValueParam,
    pairs: list[tuple[str, str]],
) -> None:
    name = param.name
    if param.many:
        raw_values = [value for key, value in pairs if key == name]
        if not raw_values:
            _missing(kwargs, errors, param)
            return
        converter = param.converter
        if converter is None:
            kwargs[param.name] = raw_values
            return
        converted = []
        for raw in raw_values:
            try:
                converted.append(converter.convert(raw))
            except _REFUSED as exc:
                errors.append(_refusal(param, converter, exc))
                return
        kwargs[param.name] = converted
        return
    for key, value in pairs:
        if key == name:  # a repeated key: the first value counts
            _convert_into(kwargs, errors, param, value)
            return
    _missing(kwargs, errors, param)


def _missing(kwargs: dict[str, Any], errors: list[ErrorDict], param: _ValueParam) -> None:
    if param.required:
        errors.append(_error(param, "Field required", "missing"))
    elif isinstance(param.default, list):
        kwargs[param.name] = list(param.default)  # never hand out the shared default
    else:
        kwargs[param.name] = param.default


def _type_hints(endpoint: Callable[..., Any], where: str) -> dict[str, Any]:
    target = unwrap_partial(endpoint)
    if not (inspect.isfunction(target) or inspect.ismethod(target)) and callable(target):
        target = type(target).__call__
    try:
        return typing.get_type_hints(target)
    except Exception as exc:  # NameError for an annotation that cannot be resolved
        raise TypeError(
            f"cannot resolve the annotations of {where}: {exc}; "
            "define the annotated types at module level"
        ) from exc


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
    hints = _type_hints(endpoint, where)

    request_names: list[str] = []
    response_names: list[str] = []
    background_names: list[str] = []
    values: list[_ValueParam] = []
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
        annotation = hints.get(name, inspect.Parameter.empty)
        if isinstance(annotation, type) and issubclass(annotation, Request):
            request_names.append(name)
        elif annotation is Response:
            response_names.append(name)
        elif isinstance(annotation, type) and issubclass(annotation, BackgroundTasks):
            background_names.append(name)
        elif name in path_params:
            values.append(_path_param(name, annotation, path_params[name], where))
        elif name == "request" and annotation is inspect.Parameter.empty:
            request_names.append(name)  # SPEC: an unannotated ``request`` is the Request
        else:
            values.append(_query_param(name, annotation, parameter.default, where))

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
        and all(v.location == "path" and v.converter is None for v in values)
        and not takes_kwargs
    )
    return Binding(
        request_names=tuple(request_names),
        response_names=tuple(response_names),
        background_names=tuple(background_names),
        values=tuple(values),
        path_names_direct=direct,
        extra_path_names=tuple(unreached) if takes_kwargs else (),
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
    converter = _scalar_converter(_unwrap_optional(annotation)[0])
    if converter is None:
        raise TypeError(
            f"path parameter {name!r} of {where} is annotated {annotation!r}, "
            f"which a path segment cannot carry; use one of {_QUERY_TYPES}"
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


def _query_param(name: str, annotation: Any, default: Any, where: str) -> _ValueParam:
    required = default is inspect.Parameter.empty
    default = None if required else default
    if annotation is inspect.Parameter.empty or annotation is Any:
        return _ValueParam(name, "query", None, required=required, default=default)
    inner, _ = _unwrap_optional(annotation)
    many = inner is list or typing.get_origin(inner) is list
    if many:
        args = typing.get_args(inner)
        inner = args[0] if args else str
    converter = _scalar_converter(inner)
    if converter is None:
        raise TypeError(
            f"parameter {name!r} of {where} is annotated {annotation!r}, "
            f"which a query string cannot carry; use one of {_QUERY_TYPES}, "
            "or a list of one, or annotate it Request, Response or BackgroundTasks"
        )
    if inner is str:
        converter = None  # perf: nothing to convert
    return _ValueParam(name, "query", converter, many=many, required=required, default=default)


def bind_websocket_endpoint(
    endpoint: Callable[..., Any],
    path_params: dict[str, Convertor[Any]],
    where: str,
    websocket_type: type,
) -> tuple[tuple[str, ...], Binding]:
    """``bind_endpoint`` for a WebSocket handler: ``(websocket names, binding of the rest)``.

    A parameter annotated ``websocket_type`` (or a subclass), or unannotated
    and named ``websocket``, gets the connection; the others are bound as
    for HTTP, from the path and the query string. A handler that asks for a
    ``Request``, a ``Response`` or ``BackgroundTasks`` is a TypeError: a
    WebSocket has none of them.
    """
    described = f"handler {callable_name(endpoint)!r} of {where}"
    try:
        signature = inspect.signature(endpoint)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"cannot read the signature of {described}: {exc}") from exc
    hints = _type_hints(endpoint, described)
    names = tuple(
        name
        for name, parameter in signature.parameters.items()
        if (isinstance(hints.get(name), type) and issubclass(hints[name], websocket_type))
        or (name == "websocket" and name not in hints)
    )
    target: Callable[..., Any] = endpoint
    if names:
        # The rest of the signature, as a stand-in bind_endpoint reads like the handler.
        def target(**kwargs: Any) -> None: ...

        target.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[p for p in signature.parameters.values() if p.name not in names]
        )
        target.__annotations__ = {k: v for k, v in hints.items() if k not in names}
        target.__qualname__ = callable_name(endpoint)
    binding = bind_endpoint(target, path_params, where)
    if binding.request_names or binding.response_names or binding.background_names:
        raise TypeError(
            f"{described} takes a Request, Response or BackgroundTasks, which a WebSocket "
            "handler cannot have; take a WebSocket instead"
        )
    return names, binding
