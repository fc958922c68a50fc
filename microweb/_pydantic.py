"""pydantic models as typed bodies and response models (the ``microweb[pydantic]`` extra).

SPEC.md "Typed request data": a body whose type holds a pydantic model is
validated by pydantic itself, from the body bytes (a bare model by its own
``model_validate_json``, anything else, ``list[Model]`` say, by a
``TypeAdapter`` built once per route), and pydantic's errors are already
FastAPI's items: their ``loc`` gets the ``body`` prefix (and the key, for an
embedded parameter), ``url`` goes, ``input`` is bounded as every 422's is.

A ``response_model`` holding a pydantic model (``response_dumper``) is
validated from the returned value's attributes and dumped by the declared
type, in JSON mode and by alias, as FastAPI serializes it.

pydantic is imported when the first ``PydanticBody`` or response dumper is
made, that is when a route declaring a pydantic model is added (a class is told to be one by
``_models.is_pydantic_model``, which imports nothing): ``import microweb``
and an app without pydantic models never load pydantic.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from microweb._models import is_pydantic_model
from microweb._validation import ErrorDict, item

if TYPE_CHECKING:
    from pydantic import ValidationError

    from microweb._response_model import DumpOptions

__all__ = ["PydanticBody", "response_dumper"]

# The constraints a marker can give (``Body(min_length=1)``), as msgspec carries them.
_CONSTRAINTS = ("gt", "ge", "lt", "le", "multiple_of", "min_length", "max_length", "pattern")


def _for_pydantic(annotation: Any, pydantic: Any) -> Any:
    """``annotation`` with a marker's ``msgspec.Meta`` given as ``pydantic.Field``."""
    if typing.get_origin(annotation) is not typing.Annotated:
        return annotation
    inner, *metadata = typing.get_args(annotation)
    converted: list[Any] = []
    for meta in metadata:
        if isinstance(meta, msgspec.Meta):
            given = {name: getattr(meta, name) for name in _CONSTRAINTS}
            meta = pydantic.Field(**{k: v for k, v in given.items() if v is not None})
        converted.append(meta)
    return typing.Annotated.__class_getitem__((inner, *converted))


class PydanticBody:
    """One body parameter whose type holds a pydantic model: validation and 422 items."""

    __slots__ = ("invalid", "validate_json", "validate_python")

    def __init__(self, annotation: Any) -> None:
        import pydantic  # only now: see the module's doc

        self.invalid: type[ValidationError] = pydantic.ValidationError
        if is_pydantic_model(annotation):
            # perf: the model's own entry points, no adapter around them.
            self.validate_json: Any = annotation.model_validate_json
            self.validate_python: Any = annotation.model_validate
        else:
            # perf: built once per route (building one costs ~100 µs).
            adapter = pydantic.TypeAdapter(_for_pydantic(annotation, pydantic))
            self.validate_json = adapter.validate_json
            self.validate_python = adapter.validate_python

    def validate(self, data: bytes, loc: list[Any], errors: list[ErrorDict]) -> Any:
        """The validated value of JSON ``data``; on failure, its 422 items joined to ``errors``.

        ``loc`` is where the value sits in the body (``["body"]`` or
        ``["body", key]``). JSON that does not parse raises
        ``msgspec.DecodeError``: the caller (``_body``) words it as for every
        other typed body.
        """
        try:
            return self.validate_json(data)
        except self.invalid as exc:
            found = exc.errors(include_url=False)
            if any(error["type"] == "json_invalid" for error in found):
                raise msgspec.DecodeError("JSON does not parse") from None
            # The slow path words the errors as FastAPI does: in python mode
            # ("a valid list", where JSON mode says "a valid array").
            try:
                explained = self.explain(msgspec.json.decode(data), loc)
            except (msgspec.DecodeError, RecursionError):  # NaN, which msgspec refuses
                explained = []
            errors.extend(explained or [_item(error, loc) for error in found])
            return None

    def explain(self, value: Any, loc: list[Any]) -> list[ErrorDict]:
        """The 422 items for ``value`` (decoded JSON, or a body's text) of this type.

        Python mode, as FastAPI validates: a body's text is refused as
        ``model_attributes_type``, as FastAPI words it.
        """
        try:
            self.validate_python(value, from_attributes=True)
        except self.invalid as exc:
            return [_item(error, loc) for error in exc.errors(include_url=False)]
        return []


def _item(error: Any, loc: list[Any]) -> ErrorDict:
    """One pydantic error as a 422 item (``_validation.item``: one shape, one bound)."""
    ctx = error.get("ctx")
    if ctx is not None:
        # A validator's exception in ``ctx`` is written ``{}``, as FastAPI writes it.
        ctx = {k: {} if isinstance(v, BaseException) else v for k, v in ctx.items()}
    return item(error["type"], [*loc, *error["loc"]], error["msg"], error["input"], ctx)


def response_dumper(model: Any, options: DumpOptions) -> Callable[[Any], Any]:
    """``value`` validated as ``model`` and dumped to JSON values by its declared type.

    ``options`` are the route's ``response_model_*`` (include, exclude,
    exclude_unset, by_alias), passed to pydantic's dump.

    Raises ``pydantic.ValidationError`` (a ValueError) for a value that does not fit.
    """
    import pydantic  # only now: see the module's doc

    adapter = pydantic.TypeAdapter(model)
    validate, dump = adapter.validate_python, adapter.dump_python

    include = None if options.include is None else set(options.include)
    exclude = None if options.exclude is None else set(options.exclude)
    exclude_unset, by_alias = options.exclude_unset, options.by_alias

    def dump_value(value: Any) -> Any:
        return dump(
            validate(value, from_attributes=True),
            mode="json",
            by_alias=by_alias,
            include=include,
            exclude=exclude,
            exclude_unset=exclude_unset,
        )

    return dump_value
