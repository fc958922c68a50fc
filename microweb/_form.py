"""Form fields and files bound to handler parameters: ``Form()`` and ``File()``.

SPEC.md "Typed request data". The binder (``_params``) hands every parameter
that a form carries to ``form_param`` when the route is added (importing this
module then: an app that reads no form never loads it); the route's
``FormReader`` then reads one request's form (``Request.form()``, parsed once
and kept; its files are closed when the response is done) and fills the
handler's keywords. A parameter is one of three kinds:

- a field (``Form()`` on a scalar or a list of scalars): the values sent
  under its name, converted and constrained by the query parameters' one
  converter set (``_values``, ``_validation``);
- a file (``File()``, or an annotation ``UploadFile`` / ``list[UploadFile]``
  without a marker): the ``UploadFile`` objects, or their bytes;
- a form model (``Form()`` on a dataclass, TypedDict, ``msgspec.Struct``,
  attrs or pydantic class): the whole form, a model field per key, lists from
  repeated keys, converted laxly by msgspec (pydantic validates its own
  models); a failure is explained field by field as a JSON body's is
  (``_body.explain``).

The rules are FastAPI's, so its clients and tests keep working: a 422 puts
form and file errors under ``["body", name]``; an empty text field, and an
empty file part (what a browser sends for a file input left empty), count as
missing; a body that is not a form (neither urlencoded nor multipart) has no
fields, so the required ones are missing (422), never a 415; a form that does
not parse is a 400 (``_multipart``). A handler takes a form or a JSON body,
never both: that is a TypeError when the route is added.
"""

from __future__ import annotations

import functools
import inspect
import operator
import os
import sys
import types
import typing
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Union

import msgspec
import msgspec.inspect

from microweb._body import BodyRead, explain, is_structured
from microweb._validation import (
    Constraints,
    Converter,
    ErrorDict,
    item,
    scalar_converter,
    shorten,
)
from microweb._values import ValueParam, bind_found, is_upload, unwrap_optional, value_param
from microweb.datastructures import FormData, UploadFile
from microweb.params import REQUIRED, FileMarker, Marker
from microweb.requests import Request
from microweb.types import Scope

__all__ = ["FormParam", "FormReader", "form_param"]

_FORM_MEDIA_TYPES = (b"application/x-www-form-urlencoded", b"multipart/form-data")


def _is_form(scope: Scope) -> bool:
    """Whether the request's content type is a form's (urlencoded or multipart)."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            return value.partition(b";")[0].strip().lower() in _FORM_MEDIA_TYPES
    return False


def _empty_file(value: object) -> bool:
    """A file part a browser sends for a file input left empty: no name, no bytes."""
    return isinstance(value, UploadFile) and not value.filename and not value.size


def _many(annotation: Any) -> tuple[Any, bool]:
    """``list[X]`` (or ``X | None`` of one) -> ``(X, True)``; anything else -> ``(it, False)``."""
    inner = unwrap_optional(annotation)[0]
    if inner is list or typing.get_origin(inner) is list:
        args = typing.get_args(inner)
        return (args[0] if args else Any), True
    return inner, False


class FormParam:
    """A handler parameter a form carries; ``bind`` puts its value or 422 items in place."""

    __slots__ = ("key", "name")

    def __init__(self, name: str, key: str) -> None:
        self.name = name  # the handler's keyword
        self.key = key  # the form's key (the alias, else the name)

    async def bind(self, form: FormData, kwargs: dict[str, Any], errors: list[ErrorDict]) -> None:
        raise NotImplementedError


class _Field(FormParam):
    """``Form()`` on a scalar or a list of scalars: converted as a query parameter is."""

    __slots__ = ("item_type", "value")

    def __init__(self, value: ValueParam, item_type: Any) -> None:
        super().__init__(value.name, value.sent_as)
        self.value = value
        self.item_type = item_type  # what one value converts to (for a file sent instead)

    async def bind(self, form: FormData, kwargs: dict[str, Any], errors: list[ErrorDict]) -> None:
        found = form.getlist(self.key)
        if not self.value.many:
            # The first value counts; empty, it is missing (FastAPI's rule for forms).
            found = found[:1] if found and found[0] != "" else []
        texts: list[str] = []
        for value in found:
            if isinstance(value, UploadFile):
                if not _empty_file(value):
                    errors += explain(value, self.item_type, ["body", self.key])
                    return
            else:
                texts.append(value)
        bind_found(kwargs, errors, self.value, texts)


class _File(FormParam):
    """``File()``: the ``UploadFile`` objects sent under the key, or their bytes."""

    __slots__ = ("as_bytes", "constraints", "default", "many", "required")

    def __init__(
        self,
        name: str,
        key: str,
        *,
        many: bool,
        as_bytes: bool,
        required: bool,
        default: Any,
        constraints: Constraints | None,
    ) -> None:
        super().__init__(name, key)
        self.many = many
        self.as_bytes = as_bytes
        self.required = required
        self.default = default
        self.constraints = constraints

    async def bind(self, form: FormData, kwargs: dict[str, Any], errors: list[ErrorDict]) -> None:
        loc = ["body", self.key]
        found = [v for v in form.getlist(self.key) if v != "" and not _empty_file(v)]
        if not self.many:
            found = found[:1]
        if not found:
            if self.required:
                errors.append(item("missing", loc, "Field required", None))
            else:
                default = self.default
                kwargs[self.name] = list(default) if isinstance(default, list) else default
            return
        values: list[Any] = []
        for value in found:
            if isinstance(value, UploadFile):
                values.append(await _content(value) if self.as_bytes else value)
            elif self.as_bytes:
                values.append(value.encode())  # a text field where a file was expected
            else:
                message = f"Value error, Expected UploadFile, received: {type(value)}"
                errors.append(item("value_error", loc, message, value, {"error": {}}))
                return
        result = values if self.many else values[0]
        failure = None if self.constraints is None else self.constraints.check(result)
        if failure is None:
            kwargs[self.name] = result
        else:
            kind, message, ctx = failure
            shown = [getattr(v, "filename", v) for v in found]
            errors.append(item(kind, loc, message, shorten(shown), ctx))


async def _content(upload: UploadFile) -> bytes:
    """The bytes of ``upload``, leaving its position where it was (another may read it)."""
    position = await upload.seek(0, os.SEEK_CUR)
    try:
        await upload.seek(0)
        return await upload.read()
    finally:
        await upload.seek(position)


# --- form models -------------------------------------------------------------------

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
_BOOL: Converter = scalar_converter(bool)  # type: ignore[assignment]  # bool has one


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


def _kinds(node: Any) -> list[Any]:
    """The msgspec type ``node`` and, for a union, its members."""
    return list(node.types) if isinstance(node, msgspec.inspect.UnionType) else [node]


class _Model(FormParam):
    """``Form()`` on a model class, or a union of them: the whole form, a model field per key."""

    __slots__ = ("adapter", "booleans", "default", "fields", "required", "target")

    def __init__(
        self,
        name: str,
        models: tuple[type, ...],
        *,
        required: bool,
        default: Any,
        discriminator: str | None,
        where: str,
    ) -> None:
        super().__init__(name, name)
        self.required = required
        self.default = default
        self.target: Any = functools.reduce(operator.or_, models)
        fields: dict[str, bool] = {}  # the key of each field of every model: a list?
        booleans: set[str] = set()  # keys that take our bool converter
        self.adapter: Any = None  # pydantic's TypeAdapter, for pydantic models
        shown = " | ".join(model.__name__ for model in models)
        problem = f"parameter {name!r} of {where} is a form model of type {shown}"
        if any(_pydantic_model(model) for model in models):
            if not all(_pydantic_model(model) for model in models):
                raise TypeError(f"{problem}; a union is of pydantic models or of none")
            for model in models:
                for field, info in model.model_fields.items():  # type: ignore[attr-defined]
                    key = info.alias or field
                    fields[key] = fields.get(key, False) or _many(info.annotation)[1]
            self.adapter = _pydantic_adapter(self.target, discriminator, problem)
        else:
            if discriminator is not None:
                raise TypeError(
                    f"{problem}; discriminator= is for pydantic models (a msgspec.Struct "
                    "union is told apart by its tag_field)"
                )
            for model in models:
                _msgspec_fields(model, fields, booleans, problem)
            try:
                msgspec.json.Decoder(self.target)
            except TypeError as exc:
                raise TypeError(f"{problem}, which msgspec cannot decode: {exc}") from None
        self.fields = tuple(fields.items())
        self.booleans = frozenset(booleans)

    def _values(self, form: FormData) -> dict[str, Any]:
        """The form as the model's input: a list per list field, else the first value."""
        data: dict[str, Any] = {}
        keys = set()
        for key, many in self.fields:
            keys.add(key)
            if many:
                values = [v for v in form.getlist(key) if not _empty_file(v)]
                if values:
                    data[key] = values
            else:
                value = form.get(key)
                if value is not None and value != "" and not _empty_file(value):
                    data[key] = value
        # The other keys too, so a model that forbids unknown fields can say so.
        for key in form:
            if key not in keys:
                values = form.getlist(key)
                data[key] = values[0] if len(values) == 1 else values
        for key in self.booleans & data.keys():
            # The one converter set: "on", "yes" and friends are booleans here too.
            data[key] = _as_bool(data[key])
        return data

    async def bind(self, form: FormData, kwargs: dict[str, Any], errors: list[ErrorDict]) -> None:
        if not self.required and not any(key in form for key, _ in self.fields):
            kwargs[self.name] = self.default  # an optional model nobody sent
            return
        data = self._values(form)
        if self.adapter is not None:
            errors += _validate_pydantic(self.adapter, data, self.name, kwargs)
            return
        try:
            kwargs[self.name] = msgspec.convert(data, self.target, strict=False)
        except msgspec.ValidationError:
            errors += explain(data, self.target, ["body"])


def _msgspec_fields(
    model: type, fields: dict[str, bool], booleans: set[str], problem: str
) -> None:
    """Add the keys of ``model`` (a list? a bool?) to ``fields`` and ``booleans``."""
    info = msgspec.inspect.type_info(model)
    if not isinstance(info, _MODEL_INFOS) or getattr(info, "array_like", False):
        raise TypeError(
            f"{problem}, which has no named fields to fill from a form; use a dataclass, "
            "TypedDict, msgspec.Struct, attrs or pydantic class"
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
    adapter: Any, data: dict[str, Any], name: str, kwargs: dict[str, Any]
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
            loc = ["body", *error["loc"]]
            errors.append(item(error["type"], loc, error["msg"], error["input"], ctx))
        return errors
    return []


def _as_bool(value: Any) -> Any:
    """A form's text as a bool where the converter takes it; anything else as it is."""
    if isinstance(value, list):
        return [_as_bool(v) for v in value]
    if isinstance(value, str):
        try:
            return _BOOL.convert(value)
        except ValueError:
            pass  # left for msgspec to refuse, and explain to word
    return value


# --- classification, once per route -------------------------------------------------


def _form_models(annotation: Any) -> tuple[type, ...]:
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


def form_param(
    name: str,
    annotation: Any,
    marker: Marker | None,
    default: Any,
    constraints: Constraints | None,
    where: str,
) -> FormParam:
    """Compile a ``Form()`` or ``File()`` parameter (or an ``UploadFile`` without a marker)."""
    required = default is inspect.Parameter.empty or default is REQUIRED
    key = marker.alias if marker is not None and marker.alias else name
    if isinstance(marker, FileMarker) or is_upload(annotation):
        inner, many = _many(annotation)
        uploads = isinstance(inner, type) and issubclass(inner, UploadFile)
        if not (uploads or inner is bytes):
            raise TypeError(
                f"parameter {name!r} of {where} is a file annotated {annotation!r}; annotate "
                "it UploadFile, bytes, list[UploadFile] or list[bytes] (| None when optional)"
            )
        return _File(
            name,
            key,
            many=many,
            as_bytes=not uploads,
            required=required,
            default=None if required else default,
            constraints=constraints,
        )
    models = _form_models(annotation)
    if models:
        if constraints is not None:
            raise TypeError(
                f"parameter {name!r} of {where} is a form model: constraints belong on its "
                "fields, not on Form()"
            )
        return _Model(
            name,
            models,
            required=required,
            default=None if required else default,
            discriminator=getattr(marker, "discriminator", None),
            where=where,
        )
    if is_structured(annotation):
        raise TypeError(
            f"parameter {name!r} of {where} is annotated {annotation!r}: a form holds flat "
            "fields; use a model class under Form(), or Body() for a JSON body"
        )
    param = value_param(name, annotation, marker, default, constraints, where)
    # A form's failures are the body's, in a 422 (FastAPI's rule).
    return _Field(replace(param, location="body"), _many(annotation)[0])


class FormReader:
    """Reads one request's form into the handler's form and file parameters."""

    __slots__ = ("params",)

    def __init__(self, params: Sequence[FormParam], body_names: Sequence[str], where: str) -> None:
        if body_names:
            names = ", ".join(repr(n) for n in body_names)
            raise TypeError(
                f"{where} takes form fields ({', '.join(repr(p.name) for p in params)}) and "
                f"the JSON body ({names}); a body is one or the other: mark them all Form() "
                "(or File()), or all Body()"
            )
        self.params = tuple(params)

    async def read(self, request: Request) -> BodyRead:
        """Parse the form of ``request`` (once) and bind every parameter, or list its 422s."""
        # FastAPI's rule: a body that is no form has no fields (a 422 names them).
        form = await request.form() if _is_form(request.scope) else FormData()
        kwargs: dict[str, Any] = {}
        errors: list[ErrorDict] = []
        for param in self.params:
            await param.bind(form, kwargs, errors)
        return BodyRead(kwargs, errors, request, form)
