"""JSON bodies bound to handler parameters: msgspec decodes, a walk explains failures.

SPEC.md "Typed request data". A ``BodyReader`` is built once per route from
the handler's body parameters:

- one parameter, not ``Body(embed=True)``: the whole body is that value, and
  a ``msgspec.json.Decoder`` of its type decodes it;
- several, or an embedded one: the body is an object with a key per
  parameter, decoded in one pass by a ``msgspec.Struct`` made for the route
  (``defstruct``; for three keys 0.8 µs against 4.2 µs for one untyped decode
  then a ``msgspec.convert`` per key).

Decoding is lax (``strict=False``: ``"50.5"`` is a float) and straight from
the bytes. msgspec stops at the first error and words it as text; SPEC asks
for every error, FastAPI-shaped, and forbids parsing that text. So a valid
body costs one decode and nothing else, and only a failed one pays for
``explain``: the body is decoded again untyped and walked along the type,
``msgspec.convert`` telling at each node whether the value there fits, until
the nodes that do not fit are leaves (a scalar, a missing key, a container of
the wrong kind), each of which becomes one 422 item with its full ``loc``.

A parameter whose type holds a pydantic model is pydantic's (``_pydantic``):
alone, pydantic reads the body's bytes itself; beside others, the route's
Struct keeps its key as ``msgspec.Raw`` and pydantic validates that. The
union of a handler's and its dependencies' body parameters is one reader
(``BodyReader.union``), so a route reads and decodes its body once.

The order of checks is FastAPI's: an empty body is a missing one; a body whose
content type is not JSON (``application/json`` or ``*/*+json``) is validated
as its text, so it fails as a string would; JSON that does not parse is
``json_invalid`` at its position as Python's ``json`` module reports it (the
stdlib runs only then, to word the error as FastAPI does). The JSON depth
limit (``_json.MAX_DEPTH``) and ``max_body_size`` hold as for ``request.json()``.
"""

from __future__ import annotations

import enum
import inspect
import json
import types
import typing
from typing import Any, Literal, NamedTuple, Union

import msgspec
import orjson

from microweb import _json
from microweb._models import custom_type, fields, is_model_class, is_pydantic_model, is_structured
from microweb._validation import Constraints, Converter, ErrorDict, choices, item, scalar_converter
from microweb.exceptions import HTTPException
from microweb.params import REQUIRED, Marker
from microweb.requests import Request
from microweb.types import Scope

__all__ = [
    "BodyParam",
    "BodyRead",
    "BodyReader",
    "body_param",
    "custom_type",
    "is_structured",
    "with_constraints",
]


def with_constraints(annotation: Any, constraints: dict[str, Any]) -> Any:
    """``annotation`` carrying a marker's constraints as msgspec's ``Meta``."""
    if not constraints:
        return annotation
    return typing.Annotated[annotation, msgspec.Meta(**constraints)]


class BodyParam(NamedTuple):
    """A handler parameter bound to the body (or to a key of it)."""

    name: str  # the handler's keyword
    key: str  # the body's key (the alias, else the name)
    annotation: Any  # the type decoded, constraints included
    required: bool
    default: Any


_JSON = b"application/json"
# msgspec raises UnicodeDecodeError, not DecodeError, for a JSON string that is
# not UTF-8 (a key is not checked): either way the body is not JSON.
_NOT_JSON = (msgspec.DecodeError, UnicodeDecodeError)


def _is_json(scope: Scope) -> bool:
    """Whether the request says its body is JSON: ``application/json`` or ``*/*+json``."""
    # perf: the raw header is read, no Headers view is built (about 1 µs).
    for name, value in scope["headers"]:
        if name == b"content-type":
            if value == _JSON:
                return True
            media = value.partition(b";")[0].strip().lower()
            kind, _, subtype = media.partition(b"/")
            return media == _JSON or (bool(kind) and subtype.endswith(b"+json"))
    return False


def _struct_field(param: BodyParam, raw: bool) -> tuple[str, Any] | tuple[str, Any, Any]:
    annotation = msgspec.Raw if raw else param.annotation
    if param.required:
        return param.name, annotation
    default = param.default
    if isinstance(default, (list, dict, set)):
        return param.name, annotation, msgspec.field(default_factory=default.copy)
    return param.name, annotation, default


class BodyRead(NamedTuple):
    """What reading one request's body gave: handler values, 422 items, the JSON value."""

    kwargs: dict[str, Any]
    errors: list[ErrorDict]
    request: Request  # the request the body was read from (the handler's, if it takes one)
    value: Any  # the decoded body (its text when it was not JSON), for RequestValidationError


class BodyReader:
    """Reads, decodes and checks one route's JSON body into the handler's keywords."""

    __slots__ = ("decoder", "embedded", "params", "pydantic", "shape", "whole")

    def __init__(self, params: list[BodyParam], embed: bool) -> None:
        self.params = tuple(params)
        self.embedded = embed or len(params) > 1
        # The parameters whose type holds a pydantic model: pydantic validates them.
        self.pydantic: dict[str, Any] = {}
        for param in params:
            cls = custom_type(param.annotation)
            if is_pydantic_model(cls):
                from microweb._pydantic import PydanticBody  # pydantic, only for its models

                self.pydantic[param.name] = PydanticBody(param.annotation)
            elif cls is not None:
                raise TypeError(
                    f"{cls.__name__} is no type JSON decodes into; use a dataclass, TypedDict, "
                    "NamedTuple, msgspec.Struct, attrs class or pydantic model (and lists, "
                    "dicts, unions of them)"
                )
        # The one pydantic parameter that is the whole body, if that is the case.
        self.whole: Any = None if self.embedded else self.pydantic.get(params[0].name)
        if self.embedded:
            # perf: one Struct decodes every key in one pass (0.8 µs for three
            # keys, against 4.2 µs for an untyped decode then a convert per key);
            # a pydantic parameter's key is kept as raw JSON, for pydantic.
            self.shape: Any = msgspec.defstruct(
                "Body",
                [_struct_field(param, param.name in self.pydantic) for param in params],
                kw_only=True,
                rename={param.name: param.key for param in params},
            )
        else:
            self.shape = params[0].annotation
        # perf: built once per route; it decodes and validates straight from the bytes.
        self.decoder = msgspec.json.Decoder(self.shape, strict=False)

    @classmethod
    def union(cls, readers: list[BodyReader]) -> BodyReader:
        """One reader for the body parameters of several (a handler's and its dependencies').

        FastAPI's rule over the union: a name declared twice is one parameter
        (its type must agree); more than one name, or an embedded one, makes
        the body an object of keys.
        """
        params: dict[str, BodyParam] = {}
        for reader in readers:
            for param in reader.params:
                seen = params.setdefault(param.name, param)
                if seen.annotation != param.annotation:
                    raise TypeError(
                        f"the body parameter {param.name!r} is declared twice, as "
                        f"{seen.annotation!r} and as {param.annotation!r}; give both one type"
                    )
        return cls(list(params.values()), any(reader.embedded for reader in readers))

    async def read(self, request: Request) -> BodyRead:
        """Read and decode the body of ``request`` into handler values or 422 items."""
        kwargs: dict[str, Any] = {}
        errors: list[ErrorDict] = []
        value = self.decode(await request.body(), request.scope, kwargs, errors)
        return BodyRead(kwargs, errors, request, value)

    def decode(
        self, body: bytes, scope: Scope, kwargs: dict[str, Any], errors: list[ErrorDict]
    ) -> Any:
        """Decode ``body`` into ``kwargs`` (422 items into ``errors``); the JSON value.

        A body nested past ``_json.MAX_DEPTH`` is a 400 (``HTTPException``).
        """
        if not body:
            self._missing(kwargs, errors)
            return None
        if not _is_json(scope):
            text = body.decode("utf-8", "replace")
            errors.extend(self._explain(text))
            return text
        if len(body) > 2 * _json.MAX_DEPTH:  # perf: a shorter one cannot nest too deep
            _check_depth(body)
        try:
            if self.whole is not None:
                return self._validate_whole(body, kwargs, errors)
            value = self.decoder.decode(body)
        except msgspec.ValidationError:
            return self._refused(body, errors)
        except _NOT_JSON:
            errors.append(_json_invalid(body))
            return None
        except RecursionError:
            raise _too_deep() from None
        if self.embedded:
            for param in self.params:
                kwargs[param.name] = getattr(value, param.name)
            if self.pydantic:
                self._validate_keys(kwargs, errors)
        else:
            kwargs[self.params[0].name] = value
        return value

    def _validate_whole(self, body: bytes, kwargs: dict[str, Any], errors: list[ErrorDict]) -> Any:
        """The body as one pydantic parameter: pydantic reads the bytes and finds every error."""
        count = len(errors)
        value = self.whole.validate(body, ["body"], errors)
        if len(errors) == count:
            kwargs[self.params[0].name] = value
            return value
        try:
            return msgspec.json.decode(body)  # the document, for RequestValidationError.body
        except _NOT_JSON:
            return None  # NaN or Infinity, which pydantic reads and msgspec does not

    def _validate_keys(self, kwargs: dict[str, Any], errors: list[ErrorDict]) -> None:
        """The embedded pydantic parameters, kept as raw JSON by the decoder, validated."""
        for param in self.params:
            raw = kwargs[param.name]
            if isinstance(raw, msgspec.Raw):  # else the key was missing: its default stays
                body = self.pydantic[param.name]
                kwargs[param.name] = body.validate(bytes(raw), ["body", param.key], errors)

    def _refused(self, body: bytes, errors: list[ErrorDict]) -> Any:
        """The slow path: the body did not fit; find every reason (see the module's doc)."""
        try:
            # The typed decoder stops at the first misfit, maybe before a syntax
            # error further on: JSON that does not parse is reported as such.
            document = msgspec.json.decode(body)
        except _NOT_JSON:
            errors.append(_json_invalid(body))
            return None
        except RecursionError:  # nested past msgspec's limit (and orjson's 1,024)
            raise _too_deep() from None
        try:
            errors.extend(self._explain(document))
        except RecursionError:
            # A recursive model and a document nested nearly to MAX_DEPTH: the
            # walk (a few frames a level) ran out of stack; one item says it all.
            message = "Value error, the input does not fit (nested too deep to explain)"
            errors.append(item("value_error", ["body"], message, document))
        return document

    def _missing(self, kwargs: dict[str, Any], errors: list[ErrorDict]) -> None:
        for param in self.params:
            if not param.required:
                default = param.default
                kwargs[param.name] = default.copy() if isinstance(default, list) else default
            elif self.embedded:
                errors.append(item("missing", ["body", param.key], "Field required", None))
            else:
                errors.append(item("missing", ["body"], "Field required", None))

    def _explain(self, document: Any) -> list[ErrorDict]:
        if self.whole is not None:
            return self.whole.explain(document, ["body"])  # type: ignore[no-any-return]
        if not self.embedded:
            return explain(document, self.shape, ["body"])
        errors: list[ErrorDict] = []
        for param in self.params:
            # FastAPI's rule: a body that is no object lacks every key.
            if isinstance(document, dict) and param.key in document:
                loc = ["body", param.key]
                body = self.pydantic.get(param.name)
                if body is not None:
                    errors += body.explain(document[param.key], loc)
                else:
                    errors += explain(document[param.key], param.annotation, loc)
            elif param.required:
                errors.append(item("missing", ["body", param.key], "Field required", None))
        return errors


def _too_deep() -> HTTPException:
    return HTTPException(400, f"Invalid JSON body: {_json.TooDeep()}")


def _check_depth(body: bytes) -> None:
    # perf: the same cheap screen as _json.loads; only a long (the caller
    # checked), bracket-heavy body is parsed once more to measure its depth.
    if body.count(b"[") + body.count(b"{") > _json.MAX_DEPTH:
        try:
            _json.loads(body)
        except _json.TooDeep:
            raise _too_deep() from None
        except orjson.JSONDecodeError:
            pass  # msgspec words it (or stops at its own recursion limit)


def _json_invalid(body: bytes) -> ErrorDict:
    """FastAPI's item for JSON that does not parse (worded by the stdlib, as FastAPI's is)."""
    position, reason = 0, "Invalid JSON"
    try:
        json.loads(body)
    except json.JSONDecodeError as exc:
        position, reason = exc.pos, exc.msg
    except (ValueError, RecursionError):
        pass
    return item("json_invalid", ["body", position], "JSON decode error", {}, {"error": reason})


# --- explaining a value that does not fit ------------------------------------------

_MODEL_MESSAGE = "Input should be a valid dictionary or object to extract fields from"
_KIND_ERRORS: dict[Any, tuple[str, str]] = {
    str: ("string_type", "Input should be a valid string"),
    int: ("int_type", "Input should be a valid integer"),
    float: ("float_type", "Input should be a valid number"),
    bool: ("bool_type", "Input should be a valid boolean"),
    type(None): ("none_required", "Input should be None"),
    list: ("list_type", "Input should be a valid list"),
    set: ("set_type", "Input should be a valid set"),
    frozenset: ("frozen_set_type", "Input should be a valid frozenset"),
    tuple: ("tuple_type", "Input should be a valid tuple"),
    dict: ("dict_type", "Input should be a valid dictionary"),
}


_SCALAR_BOOL: Converter = scalar_converter(bool)  # type: ignore[assignment]


def _fits(value: Any, annotation: Any) -> bool:
    try:
        msgspec.convert(value, annotation, strict=False)
    except msgspec.ValidationError:
        return False
    return True


def explain(value: Any, annotation: Any, loc: list[Any]) -> list[ErrorDict]:
    """The 422 items for ``value`` (decoded JSON) where ``annotation`` is expected."""
    if _fits(value, annotation):
        return []
    errors = _explain_node(value, annotation, loc)
    # The walk knows every way msgspec refuses a value but one it does not
    # model (an option such as forbid_unknown_fields): a generic item then.
    return errors or [item("value_error", loc, "Value error, the input does not fit", value)]


def _explain_node(value: Any, annotation: Any, loc: list[Any]) -> list[ErrorDict]:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        inner = args[0]
        if not _fits(value, inner):
            return explain(value, inner, loc)
        given = {}
        for meta in args[1:]:
            if isinstance(meta, msgspec.Meta):
                given.update(_meta_constraints(meta))
        constraints = Constraints(given, floats=inner is float)
        failure = constraints.check(msgspec.convert(value, inner, strict=False))
        if failure is None:
            return []
        kind, message, ctx = failure
        return [item(kind, loc, message, value, ctx)]
    if origin is Union or origin is types.UnionType:
        members = [arg for arg in args if arg is not type(None)]
        return explain(value, members[0], loc) if members else []
    if origin is Literal:
        expected = choices(list(args))
        return [
            item(
                "literal_error", loc, f"Input should be {expected}", value, {"expected": expected}
            )
        ]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        expected = choices([member.value for member in annotation])
        return [item("enum", loc, f"Input should be {expected}", value, {"expected": expected})]
    if is_model_class(annotation):
        return _explain_model(value, annotation, loc)
    container = origin or annotation
    if container in (list, set, frozenset, tuple, dict):
        return _explain_container(value, container, args, loc)
    return [_leaf(value, annotation, loc)]


def _explain_container(
    value: Any, container: Any, args: tuple[Any, ...], loc: list[Any]
) -> list[ErrorDict]:
    if container is dict:
        if not isinstance(value, dict):
            kind, message = _KIND_ERRORS[dict]
            return [item(kind, loc, message, value)]
        value_type = args[1] if len(args) == 2 else Any
        errors: list[ErrorDict] = []
        for key, member in value.items():
            errors += explain(member, value_type, [*loc, key])
        return errors
    if not isinstance(value, list):
        kind, message = _KIND_ERRORS[container]
        return [item(kind, loc, message, value)]
    if container is tuple and args and args[-1] is not Ellipsis:
        if len(value) != len(args):
            return [item("tuple_type", loc, f"Tuple should have {len(args)} items", value)]
        members = list(args)
    else:
        members = [args[0] if args else Any] * len(value)
    errors = []
    for index, (member, member_type) in enumerate(zip(value, members, strict=True)):
        errors += explain(member, member_type, [*loc, index])
    return errors


def _explain_model(value: Any, cls: type, loc: list[Any]) -> list[ErrorDict]:
    array_like = (issubclass(cls, tuple) and not issubclass(cls, msgspec.Struct)) or (
        issubclass(cls, msgspec.Struct) and cls.__struct_config__.array_like
    )
    found = fields(cls)
    errors: list[ErrorDict] = []
    if array_like:
        if not isinstance(value, list):
            return [item("list_type", loc, "Input should be a valid list", value)]
        for index, (_, hint, required) in enumerate(found):
            if index < len(value):
                errors += explain(value[index], hint, [*loc, index])
            elif required:
                errors.append(item("missing", [*loc, index], "Field required", value))
        return errors
    if not isinstance(value, dict):
        return [item("model_attributes_type", loc, _MODEL_MESSAGE, value)]
    for key, hint, required in found:
        if key in value:
            errors += explain(value[key], hint, [*loc, key])
        elif required:
            errors.append(item("missing", [*loc, key], "Field required", value))
    return errors


def _leaf(value: Any, annotation: Any, loc: list[Any]) -> ErrorDict:
    if annotation is bool and isinstance(value, int):
        return item("bool_parsing", loc, _SCALAR_BOOL.message, value)
    if isinstance(value, str) and annotation is not str:
        converter = scalar_converter(annotation)
        if converter is not None:
            return item(converter.error_type, loc, converter.message, value)
    if annotation is int and isinstance(value, float):
        message = "Input should be a valid integer, got a number with a fractional part"
        return item("int_from_float", loc, message, value)
    known = _KIND_ERRORS.get(annotation)
    if known is not None:
        return item(known[0], loc, known[1], value)
    converter = scalar_converter(annotation)
    if converter is not None:
        return item(converter.error_type, loc, converter.message, value)
    name = getattr(annotation, "__name__", repr(annotation))
    return item("value_error", loc, f"Value error, expected {name}", value)


def _meta_constraints(meta: msgspec.Meta) -> dict[str, Any]:
    names = ("gt", "ge", "lt", "le", "multiple_of", "min_length", "max_length", "pattern")
    return {name: getattr(meta, name) for name in names if getattr(meta, name) is not None}


def body_param(
    name: str, annotation: Any, marker: Marker | None, default: Any, where: str
) -> BodyParam:
    """A parameter the JSON body (or its key ``marker.alias or name``) fills."""
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
