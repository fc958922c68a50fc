"""Path, query, header and cookie parameters: compiled once per route, bound per request.

SPEC.md "Typed request data". The binder (``_params``) classifies a handler's
parameters; each that a path segment, the query string, a header or a cookie
carries becomes a ``ValueParam`` here (``path_param``, ``value_param``), with
its converter (``_validation``) and constraints decided when the route is
added. Per request, ``convert_into``, ``bind_query`` and ``bind_found`` put
the converted value in the handler's kwargs or a 422 item in the errors.
"""

from __future__ import annotations

import inspect
import types
import typing
from dataclasses import dataclass
from typing import Any, Union

from microweb._convertors import Convertor
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
from microweb.datastructures import UploadFile
from microweb.params import REQUIRED, HeaderMarker, Marker

__all__ = [
    "ValueParam",
    "bind_found",
    "bind_query",
    "convert_into",
    "is_upload",
    "path_param",
    "unwrap_optional",
    "value_param",
]


def unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    """``X | None`` -> ``(X, True)``; anything else -> ``(annotation, False)``."""
    origin = typing.get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(annotation)) == 2:
            return args[0], True
    return annotation, False


def is_upload(annotation: Any) -> bool:
    """True for ``UploadFile``, ``list[UploadFile]``, either ``| None``: a file, marker or not."""
    inner = unwrap_optional(annotation)[0]
    if inner is list or typing.get_origin(inner) is list:
        args = typing.get_args(inner)
        inner = args[0] if args else None
    return isinstance(inner, type) and issubclass(inner, UploadFile)


@dataclass(frozen=True)
class ValueParam:
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


def _refusal(param: ValueParam, converter: Converter, exc: Exception, raw: Any) -> ErrorDict:
    """The 422 item for a value ``converter`` refused with ``exc``."""
    loc = [param.location, param.sent_as]
    if isinstance(exc, Refused):
        return item(exc.error_type, loc, exc.message, raw)
    return item(converter.error_type, loc, converter.message, raw, converter.ctx)


def _check(
    kwargs: dict[str, Any], errors: list[ErrorDict], param: ValueParam, value: Any, raw: Any
) -> None:
    """Keep ``value`` if it meets the parameter's constraints, else report the first it breaks."""
    constraints = param.constraints
    failure = None if constraints is None else constraints.check(value)
    if failure is None:
        kwargs[param.name] = value
    else:
        kind, message, ctx = failure
        errors.append(item(kind, [param.location, param.sent_as], message, raw, ctx))


def convert_into(
    kwargs: dict[str, Any], errors: list[ErrorDict], param: ValueParam, raw: str
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
    kwargs: dict[str, Any], errors: list[ErrorDict], param: ValueParam, raw_values: list[str]
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


def bind_found(
    kwargs: dict[str, Any], errors: list[ErrorDict], param: ValueParam, found: list[str]
) -> None:
    """Bind a header or cookie parameter to the values found under its name."""
    if param.many:
        _bind_many(kwargs, errors, param, found)
    elif found:
        convert_into(kwargs, errors, param, found[0])
    else:
        _missing(kwargs, errors, param)


def bind_query(
    kwargs: dict[str, Any],
    errors: list[ErrorDict],
    param: ValueParam,
    pairs: list[tuple[str, str]],
) -> None:
    name = param.sent_as
    if param.many:
        _bind_many(kwargs, errors, param, [value for key, value in pairs if key == name])
        return
    for key, value in pairs:
        if key == name:  # a repeated key: the first value counts
            convert_into(kwargs, errors, param, value)
            return
    _missing(kwargs, errors, param)


def _missing(kwargs: dict[str, Any], errors: list[ErrorDict], param: ValueParam) -> None:
    if param.required:
        errors.append(item("missing", [param.location, param.sent_as], "Field required", None))
    elif isinstance(param.default, list):
        kwargs[param.name] = list(param.default)  # never hand out the shared default
    else:
        kwargs[param.name] = param.default


_NUMERIC_TOWER: dict[type, tuple[type, ...]] = {int: (float, complex), float: (complex,)}


def path_param(name: str, annotation: Any, convertor: Convertor[Any], where: str) -> ValueParam:
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
        return ValueParam(name, "path", None)
    if annotation in (inspect.Parameter.empty, str, Any):
        return ValueParam(name, "path", None)
    # The str convertor matched any segment: the annotation converts it.
    converter = scalar_converter(unwrap_optional(annotation)[0])
    if converter is None:
        raise TypeError(
            f"path parameter {name!r} of {where} is annotated {annotation!r}, "
            f"which a path segment cannot carry; use one of {SCALAR_TYPES}"
        )
    return ValueParam(name, "path", converter)


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


_CARRIER = {
    "query": "a query string",
    "header": "a header",
    "cookie": "a cookie",
    "form": "a form field",
}


def _sent_as(name: str, marker: Marker | None) -> str:
    """The key a query, header or cookie parameter is sent under ("" when it is ``name``)."""
    if marker is None:
        return ""
    if marker.alias:
        return marker.alias.lower() if isinstance(marker, HeaderMarker) else marker.alias
    if isinstance(marker, HeaderMarker):
        return name.replace("_", "-").lower() if marker.convert_underscores else name.lower()
    return ""


def value_param(
    name: str,
    annotation: Any,
    marker: Marker | None,
    default: Any,
    constraints: Constraints | None,
    where: str,
) -> ValueParam:
    location = "query" if marker is None else marker.source
    key = _sent_as(name, marker)
    required = default is inspect.Parameter.empty or default is REQUIRED
    default = None if required else default
    if annotation is inspect.Parameter.empty or annotation is Any:
        return ValueParam(
            name,
            location,
            None,
            required=required,
            default=default,
            key=key,
            constraints=constraints,
        )
    inner, _ = unwrap_optional(annotation)
    many = inner is list or typing.get_origin(inner) is list
    if many:
        args = typing.get_args(inner)
        inner = args[0] if args else str
    converter = scalar_converter(inner)
    if converter is None:
        raise TypeError(
            f"parameter {name!r} of {where} is annotated {annotation!r}, "
            f"which {_CARRIER[location]} cannot carry; use one of {SCALAR_TYPES}, "
            "or a list of one, annotate it Request, Response or BackgroundTasks, "
            "or give it a value with Depends(...)"
        )
    if inner is str:
        converter = None  # perf: nothing to convert
    return ValueParam(
        name,
        location,
        converter,
        many=many,
        required=required,
        default=default,
        key=key,
        constraints=constraints,
    )
