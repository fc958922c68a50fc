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

import inspect
import os
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from microweb._body import BodyRead, explain, is_structured
from microweb._param_models import ModelParam, empty_file, grouped, list_item, model_classes
from microweb._validation import Constraints, ErrorDict, item, shorten
from microweb._values import ValueParam, bind_found, is_upload, value_param
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
                if not empty_file(value):
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
        found = [v for v in form.getlist(self.key) if v != "" and not empty_file(v)]
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


class _Model(FormParam):
    """``Form()`` on a model class, or a union of them: the whole form (``_param_models``)."""

    __slots__ = ("model",)

    def __init__(self, model: ModelParam) -> None:
        super().__init__(model.name, model.name)
        self.model = model

    async def bind(self, form: FormData, kwargs: dict[str, Any], errors: list[ErrorDict]) -> None:
        self.model.fill(grouped(form.multi_items()), kwargs, errors)


async def _content(upload: UploadFile) -> bytes:
    """The bytes of ``upload``, leaving its position where it was (another may read it)."""
    position = await upload.seek(0, os.SEEK_CUR)
    try:
        await upload.seek(0)
        return await upload.read()
    finally:
        await upload.seek(position)


# --- classification, once per route -------------------------------------------------


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
        inner, many = list_item(annotation)
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
    models = model_classes(annotation)
    if models:
        if constraints is not None:
            raise TypeError(
                f"parameter {name!r} of {where} is a form model: constraints belong on its "
                "fields, not on Form()"
            )
        model = ModelParam(
            name,
            models,
            required=required,
            default=None if required else default,
            discriminator=getattr(marker, "discriminator", None),
            where=where,
        )
        return _Model(model)
    if is_structured(annotation):
        raise TypeError(
            f"parameter {name!r} of {where} is annotated {annotation!r}: a form holds flat "
            "fields; use a model class under Form(), or Body() for a JSON body"
        )
    param = value_param(name, annotation, marker, default, constraints, where)
    # A form's failures are the body's, in a 422 (FastAPI's rule).
    return _Field(replace(param, location="body"), list_item(annotation)[0])


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
