"""Structured types: which annotations only a JSON body can carry, and their fields.

SPEC.md "Typed request data" names them: dataclasses, ``TypedDict``,
``NamedTuple``, ``msgspec.Struct``, attrs classes and pydantic models (and
``list``, ``dict``, ``Optional`` and unions of them). msgspec decodes all of
them but pydantic models, which pydantic validates itself (``_pydantic``).

Neither attrs nor pydantic is imported here: an attrs class says so by its
``__attrs_attrs__``, and a class can only be a pydantic model once pydantic
was imported (``sys.modules``), so an app without pydantic never loads it.
"""

from __future__ import annotations

import dataclasses
import sys
import types
import typing
from typing import Any, Union

import msgspec
import msgspec.inspect

__all__ = [
    "custom_type",
    "fields",
    "is_attrs_class",
    "is_model_class",
    "is_pydantic_model",
    "is_structured",
]


def is_pydantic_model(cls: Any) -> bool:
    """Whether ``cls`` is a pydantic model class (pydantic is not imported to tell)."""
    module = sys.modules.get("pydantic")
    return module is not None and isinstance(cls, type) and issubclass(cls, module.BaseModel)


def is_attrs_class(cls: Any) -> bool:
    """Whether ``cls`` is an attrs class (``@attrs.define`` and friends)."""
    return isinstance(cls, type) and hasattr(cls, "__attrs_attrs__")


def is_model_class(annotation: Any) -> bool:
    """A class whose instances are JSON objects (or arrays, for a NamedTuple)."""
    return isinstance(annotation, type) and (
        issubclass(annotation, msgspec.Struct)
        or dataclasses.is_dataclass(annotation)
        or typing.is_typeddict(annotation)
        or (issubclass(annotation, tuple) and hasattr(annotation, "_fields"))
        or is_attrs_class(annotation)
        or is_pydantic_model(annotation)
    )


def is_structured(annotation: Any) -> bool:
    """True for a type that only a JSON body can carry (SPEC: "structured types")."""
    if is_model_class(annotation):
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return is_structured(typing.get_args(annotation)[0])
    # dict[str, int] is no query value either, but a plain mapping only becomes
    # the body under Body(): without a marker it stays a definition error.
    if origin in (list, set, frozenset, tuple, dict, Union, types.UnionType):
        return any(is_structured(arg) for arg in typing.get_args(annotation))
    return False


def custom_type(annotation: Any) -> type | None:
    """A class in ``annotation`` that msgspec cannot decode from JSON by itself, or None."""
    stack: list[Any] = [msgspec.inspect.type_info(annotation)]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue  # a recursive model refers back to itself
        seen.add(id(node))
        if isinstance(node, msgspec.inspect.CustomType):
            return node.cls
        for name in ("item_type", "key_type", "value_type"):
            if hasattr(node, name):
                stack.append(getattr(node, name))
        for name in ("item_types", "types"):
            stack.extend(getattr(node, name, ()))
        stack.extend(field.type for field in getattr(node, "fields", ()))
    return None


def fields(cls: type) -> list[tuple[str, Any, bool]]:
    """``(key, type, required)`` of each field of a model class msgspec decodes, in order."""
    if issubclass(cls, msgspec.Struct):
        return [(f.encode_name, f.type, f.required) for f in msgspec.structs.fields(cls)]
    hints = typing.get_type_hints(cls, include_extras=True)
    if dataclasses.is_dataclass(cls):
        return [
            (
                f.name,
                hints[f.name],
                f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
            )
            for f in dataclasses.fields(cls)
            if f.init
        ]
    if typing.is_typeddict(cls):
        required = getattr(cls, "__required_keys__", frozenset(hints))
        return [(name, hint, name in required) for name, hint in hints.items()]
    if is_attrs_class(cls):
        # msgspec's view of the class: the names it decodes and which have defaults.
        info: Any = msgspec.inspect.type_info(cls)
        return [(f.encode_name, hints.get(f.name, Any), f.required) for f in info.fields]
    defaults = getattr(cls, "_field_defaults", {})
    return [(name, hints.get(name, Any), name not in defaults) for name in cls._fields]  # type: ignore[attr-defined]
