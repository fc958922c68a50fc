"""A model class filled from named values: a form, the query string, headers or cookies.

SPEC.md "Typed request data": a structured type under ``Form()`` takes the
whole form, a model field per key (FastAPI's form models); a pydantic model
under ``Query()``, ``Header()`` or ``Cookie()`` takes the query string, the
headers or the cookies the same way (FastAPI's query, header and cookie
parameter models, pydantic only as there). ``ModelParam`` is compiled once
per route (``_params`` and ``_form`` import this module then: an app
without such a parameter never loads it) and fills one request's value from
the source's values, grouped by name (``grouped``):

- a list field gets every value of its key, any other field the first;
  a form's empty text and empty file parts count as missing;
- the keys no field names are passed too, so a model that forbids unknown
  fields (``extra="forbid"``, ``forbid_unknown_fields=True``) refuses them;
- a header model reads ``save_data`` from the ``save-data`` header (unless
  ``Header(convert_underscores=False)``), and its 422 names the header;
- an optional model (``Model | None = None``) none of whose keys was sent
  is the default.

Validation is msgspec's (laxly, our bool converter for text booleans, a
failure explained field by field as a JSON body's is, ``_body.explain``),
or pydantic's for pydantic models (its items are FastAPI's already).
"""

from __future__ import annotations

import functools
import inspect
import operator
import sys
import types
import typing
from collections.abc import Iterable
from typing import Any, Union

import msgspec
import msgspec.inspect

from microweb._body import explain, is_structured
from microweb._validation import Constraints, Converter, ErrorDict, item, scalar_converter
from microweb._values import unwrap_optional
from microweb.datastructures import UploadFile
from microweb.params import REQUIRED, Marker

__all__ = ["ModelParam", "empty_file", "grouped", "list_item", "model_classes", "model_param"]

_MANY_TYPES = (
    msgspec.inspect.ListType,
    msgspec.inspect.SetType,
    msgspec.inspect.FrozenSetType,
    msgspec.inspect.VarTupleType,
)
_MODEL_INFOS = (
    msgspec.inspect.StructType,
    msgspec.inspect.DataclassType,
    msgspec.inspect.TypedDictType,
)
# What a 422's location holds, in words (a form's errors are the body's).
_SOURCES = {"body": "form", "query": "query", "header": "header", "cookie": "cookie"}
_BOOL: Converter = scalar_converter(bool)  # type: ignore[assignment]  # bool has one


def empty_file(value: object) -> bool:
    """A file part a browser sends for a file input left empty: no name, no bytes."""
    return isinstance(value, UploadFile) and not value.filename and not value.size


def list_item(annotation: Any) -> tuple[Any, bool]:
    """``list[X]`` (or ``X | None`` of one) -> ``(X, True)``; anything else -> ``(it, False)``."""
    inner = unwrap_optional(annotation)[0]
    if inner is list or typing.get_origin(inner) is list:
        args = typing.get_args(inner)
        return (args[0] if args else Any), True
    return inner, False


def grouped(pairs: Iterable[tuple[str, Any]]) -> dict[str, list[Any]]:
    """``(name, value)`` pairs as each name's values, in the order sent."""
    values: dict[str, list[Any]] = {}
    for name, value in pairs:
        values.setdefault(name, []).append(value)
    return values


def _pydantic_model(annotation: Any) -> bool:
    # pydantic is optional: a model class means its module is already imported.
    pydantic = sys.modules.get("pydantic")
    return (
        pydantic is not None
        and isinstance(annotation, type)
        and issubclass(annotation, pydantic.BaseModel)
    )


def _attrs_class(annotation: Any) -> bool:
    attrs = sys.modules.get("attrs")
    return attrs is not None and isinstance(annotation, type) and bool(attrs.has(annotation))


def model_classes(annotation: Any) -> tuple[type, ...]:
    """The model classes of ``annotation``: a model, or a union of them, maybe ``| None``."""
    origin = typing.get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        members = tuple(arg for arg in typing.get_args(annotation) if arg is not type(None))
    else:
        members = (annotation,)
    if all(
        isinstance(member, type)
        and (is_structured(member) or _pydantic_model(member) or _attrs_class(member))
        for member in members
    ):
        return members
    return ()


def _kinds(node: Any) -> list[Any]:
    """The msgspec type ``node`` and, for a union, its members."""
    return list(node.types) if isinstance(node, msgspec.inspect.UnionType) else [node]


class ModelParam:
    """A model (or a union of models) filled from one source's values, a field per key.

    ``location`` is the 422's first ``loc`` item (``"body"`` for a form);
    ``headers`` reads each field from a header (``save_data`` from
    ``save-data`` when ``convert_underscores``).
    """

    __slots__ = (
        "adapter",
        "blank_is_missing",
        "booleans",
        "default",
        "fields",
        "location",
        "name",
        "required",
        "sent_names",
        "target",
    )

    def __init__(
        self,
        name: str,
        models: tuple[type, ...],
        *,
        required: bool,
        default: Any,
        discriminator: str | None,
        where: str,
        location: str = "body",
        headers: bool = False,
        convert_underscores: bool = True,
    ) -> None:
        self.name = name
        self.required = required
        self.default = default
        self.location = location
        self.blank_is_missing = location == "body"  # a form's rule (FastAPI's)
        self.target: Any = functools.reduce(operator.or_, models)
        fields: dict[str, bool] = {}  # the key of each field of every model: a list?
        booleans: set[str] = set()  # keys that take our bool converter
        self.adapter: Any = None  # pydantic's TypeAdapter, for pydantic models
        shown = " | ".join(model.__name__ for model in models)
        source = _SOURCES[location]
        problem = f"parameter {name!r} of {where} is a {source} model of type {shown}"
        if any(_pydantic_model(model) for model in models):
            if not all(_pydantic_model(model) for model in models):
                raise TypeError(f"{problem}; a union is of pydantic models or of none")
            for model in models:
                for field, info in model.model_fields.items():  # type: ignore[attr-defined]
                    key = info.alias or field
                    fields[key] = fields.get(key, False) or list_item(info.annotation)[1]
            self.adapter = _pydantic_adapter(self.target, discriminator, problem)
        else:
            if discriminator is not None:
                raise TypeError(
                    f"{problem}; discriminator= is for pydantic models (a msgspec.Struct "
                    "union is told apart by its tag_field)"
                )
            for model in models:
                _msgspec_fields(
                    model,
                    fields,
                    booleans,
                    f"{problem}, which has no named fields to fill from a {source}",
                )
            try:
                msgspec.json.Decoder(self.target)
            except TypeError as exc:
                raise TypeError(f"{problem}, which msgspec cannot decode: {exc}") from None
        # Each field's key, as the source names it (a header's name is lower case).
        self.sent_names = {
            key: (key.replace("_", "-") if convert_underscores else key).lower()
            if headers
            else key
            for key in fields
        }
        self.fields = tuple((key, self.sent_names[key], many) for key, many in fields.items())
        self.booleans = frozenset(booleans)

    def _values(self, source: dict[str, list[Any]]) -> dict[str, Any]:
        """The source as the model's input: a list per list field, else the first value."""
        data: dict[str, Any] = {}
        for key, sent_as, many in self.fields:
            found = source.get(sent_as)
            if not found:
                continue
            if many:
                # A form's list keeps its blank texts, drops its empty file parts.
                values = found
                if self.blank_is_missing:
                    values = [v for v in found if not empty_file(v)]
                if values:
                    data[key] = list(values)
            elif not (self.blank_is_missing and (found[0] == "" or empty_file(found[0]))):
                data[key] = found[0]
        # The other keys too, so a model that forbids unknown fields can say so.
        taken = set(self.sent_names.values())
        for sent_as, values in source.items():
            if sent_as not in taken:
                data[sent_as] = values[0] if len(values) == 1 else values
        for key in self.booleans & data.keys():
            # The one converter set: "on", "yes" and friends are booleans here too.
            data[key] = _as_bool(data[key])
        return data

    def fill(
        self, source: dict[str, list[Any]], kwargs: dict[str, Any], errors: list[ErrorDict]
    ) -> None:
        """Put the model built from ``source`` in ``kwargs``, or its 422 items in ``errors``."""
        if not self.required and not any(sent_as in source for _, sent_as, _ in self.fields):
            kwargs[self.name] = self.default  # an optional model nobody sent
            return
        data = self._values(source)
        if self.adapter is not None:
            found = _validate_pydantic(self.adapter, data, self.name, kwargs, self.location)
        else:
            try:
                kwargs[self.name] = msgspec.convert(data, self.target, strict=False)
                return
            except msgspec.ValidationError:
                found = explain(data, self.target, [self.location])
        for error in found:  # a header's 422 names the header, as sent
            loc = error["loc"]
            if len(loc) > 1 and loc[1] in self.sent_names:
                loc[1] = self.sent_names[loc[1]]
        errors += found


def _msgspec_fields(
    model: type, fields: dict[str, bool], booleans: set[str], problem: str
) -> None:
    """Add the keys of ``model`` (a list? a bool?) to ``fields`` and ``booleans``."""
    info = msgspec.inspect.type_info(model)
    if not isinstance(info, _MODEL_INFOS) or getattr(info, "array_like", False):
        raise TypeError(
            f"{problem}; use a dataclass, TypedDict, msgspec.Struct, attrs or pydantic class"
        )
    tag_field = getattr(info, "tag_field", None)
    if tag_field is not None:
        fields.setdefault(tag_field, False)
    for field in info.fields:
        kinds = _kinds(field.type)
        key = field.encode_name
        fields[key] = fields.get(key, False) or any(isinstance(k, _MANY_TYPES) for k in kinds)
        items = [i for k in kinds if isinstance(k, _MANY_TYPES) for i in _kinds(k.item_type)]
        if any(isinstance(k, msgspec.inspect.BoolType) for k in kinds + items):
            booleans.add(key)


def _pydantic_adapter(target: Any, discriminator: str | None, problem: str) -> Any:
    pydantic = sys.modules["pydantic"]
    if discriminator is not None:
        target = typing.Annotated[target, pydantic.Field(discriminator=discriminator)]
    try:
        return pydantic.TypeAdapter(target)
    except pydantic.PydanticUserError as exc:
        raise TypeError(f"{problem}: {exc}") from None


def _validate_pydantic(
    adapter: Any, data: dict[str, Any], name: str, kwargs: dict[str, Any], location: str
) -> list[ErrorDict]:
    """Validate ``data`` by pydantic; its errors as 422 items (they are FastAPI's already)."""
    pydantic = sys.modules["pydantic"]
    try:
        kwargs[name] = adapter.validate_python(data)
    except pydantic.ValidationError as exc:
        errors = []
        for error in exc.errors(include_url=False):
            ctx = error.get("ctx")
            if ctx is not None:
                # An exception in ctx is written as FastAPI's encoder writes it: {}.
                ctx = {k: {} if isinstance(v, Exception) else v for k, v in ctx.items()}
            loc = [location, *error["loc"]]
            errors.append(item(error["type"], loc, error["msg"], error["input"], ctx))
        return errors
    return []


def _as_bool(value: Any) -> Any:
    """A text value as a bool where the converter takes it; anything else as it is."""
    if isinstance(value, list):
        return [_as_bool(v) for v in value]
    if isinstance(value, str):
        try:
            return _BOOL.convert(value)
        except ValueError:
            pass  # left for msgspec to refuse, and explain to word
    return value


def model_param(
    name: str,
    annotation: Any,
    marker: Marker | None,
    default: Any,
    constraints: Constraints | None,
    where: str,
) -> ModelParam:
    """A model under ``Query()``, ``Header()`` or ``Cookie()``: its whole source, by field."""
    assert marker is not None  # _is_model is asked for a marked parameter only
    if constraints is not None:
        raise TypeError(
            f"parameter {name!r} of {where} is a {marker.source} model: constraints belong on "
            f"its fields, not on {marker!r}"
        )
    required = default is inspect.Parameter.empty or default is REQUIRED
    return ModelParam(
        name,
        model_classes(annotation),
        required=required,
        default=None if required else default,
        discriminator=None,
        where=where,
        location=marker.source,
        headers=marker.source == "header",
        convert_underscores=getattr(marker, "convert_underscores", True),
    )
