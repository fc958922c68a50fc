"""Python annotations -> JSON Schema, and the ``components/schemas`` they share.

OpenAPI 3.1 takes JSON Schema 2020-12 as it is. msgspec writes the schema of
every type microweb decodes (``msgspec.json.schema_components``), pydantic
the schema of its models (``TypeAdapter.json_schema``, imported only when a
model is met). A document asks the ``Registry`` for the schema of each
annotation it meets and gets a placeholder dict back; ``Registry.finish``
then fills every placeholder at once, so msgspec sees all the types together
and names the components itself (module-qualified when two classes share a
name). Pydantic's definitions are merged after it; a name already taken by
another schema gets a number (``Item2``), its ``$ref`` rewritten: a component
is never overwritten.

Marker constraints become the JSON Schema keywords pydantic writes for them
(``CONSTRAINT_KEYWORDS``); ``min_length``/``max_length`` count a string's
characters, an array's items.
"""

from __future__ import annotations

import enum
import typing
from collections.abc import Iterator
from typing import Any

import msgspec

__all__ = [
    "CONSTRAINT_KEYWORDS",
    "HTTP_VALIDATION_ERROR",
    "Registry",
    "constraint_keywords",
    "json_value",
    "title",
]

#: Marker constraint -> JSON Schema keyword (for a number or a string).
CONSTRAINT_KEYWORDS = {
    "gt": "exclusiveMinimum",
    "ge": "minimum",
    "lt": "exclusiveMaximum",
    "le": "maximum",
    "multiple_of": "multipleOf",
    "min_length": "minLength",
    "max_length": "maxLength",
    "pattern": "pattern",
}
_ARRAY_KEYWORDS = {"min_length": "minItems", "max_length": "maxItems"}

REF = "#/components/schemas/"

#: The 422 body microweb answers (SPEC "Typed request data"): FastAPI's schemas.
HTTP_VALIDATION_ERROR: dict[str, dict[str, Any]] = {
    "ValidationError": {
        "title": "ValidationError",
        "type": "object",
        "properties": {
            "loc": {
                "title": "Location",
                "type": "array",
                "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            },
            "msg": {"title": "Message", "type": "string"},
            "type": {"title": "Error Type", "type": "string"},
            "input": {"title": "Input"},
            "ctx": {"title": "Context", "type": "object"},
        },
        "required": ["loc", "msg", "type"],
    },
    "HTTPValidationError": {
        "title": "HTTPValidationError",
        "type": "object",
        "properties": {
            "detail": {
                "title": "Detail",
                "type": "array",
                "items": {"$ref": REF + "ValidationError"},
            }
        },
    },
}


def title(name: str) -> str:
    """A parameter's or field's title as pydantic writes it: ``item_id`` -> ``Item Id``."""
    return name.replace("_", " ").title()


def constraint_keywords(constraints: dict[str, Any], array: bool = False) -> dict[str, Any]:
    """The JSON Schema keywords of a marker's constraints; lengths count items for an array."""
    keywords = {**CONSTRAINT_KEYWORDS, **_ARRAY_KEYWORDS} if array else CONSTRAINT_KEYWORDS
    return {keywords[name]: value for name, value in constraints.items()}


def json_value(value: Any) -> Any:
    """``value`` as JSON can show it (a default, an example); None if it cannot."""
    if isinstance(value, enum.Enum):
        value = value.value
    try:
        return msgspec.to_builtins(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _unknown_type(cls: type) -> dict[str, Any]:
    """msgspec's ``schema_hook``: a type it cannot describe (``object``...) is any value.

    Only its title is said: msgspec takes an empty schema for no answer.
    """
    return {"title": cls.__name__}


def _is_pydantic(annotation: Any) -> bool:
    """Whether ``annotation`` holds a pydantic model (checked without importing pydantic)."""
    stack = [annotation]
    while stack:
        node = stack.pop()
        if isinstance(node, type) and hasattr(node, "model_json_schema"):
            return any(base.__module__.startswith("pydantic") for base in node.__mro__)
        stack.extend(typing.get_args(node))
    return False


def _refs(node: Any) -> Iterator[dict[str, Any]]:
    """Every dict in a schema that has a ``$ref``."""
    if isinstance(node, dict):
        if "$ref" in node:
            yield node
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


class Registry:
    """The schemas of one document: placeholders now, filled in by ``finish``."""

    def __init__(self) -> None:
        self.components: dict[str, dict[str, Any]] = {}
        self._msgspec: list[tuple[Any, dict[str, Any]]] = []
        self._pydantic: list[tuple[Any, str, dict[str, Any]]] = []

    def schema(
        self, annotation: Any, extra: dict[str, Any] | None = None, *, output: bool = False
    ) -> dict[str, Any]:
        """The schema of ``annotation``, ``extra`` keywords added (filled by ``finish``).

        ``output`` asks for the schema of what is sent (pydantic's serialization
        mode) rather than what is received.
        """
        slot: dict[str, Any] = dict(extra or {})
        if annotation is Any or annotation is object:
            return slot
        if _is_pydantic(annotation):
            mode = "serialization" if output else "validation"
            self._pydantic.append((annotation, mode, slot))
        else:
            self._msgspec.append((annotation, slot))
        return slot

    def add(self, name: str, schema: dict[str, Any]) -> str:
        """Put ``schema`` in the components under ``name`` (or ``name2``...); the name used."""
        unique = name
        number = 1
        while unique in self.components and self.components[unique] != schema:
            number += 1
            unique = f"{name}{number}"
        self.components[unique] = schema
        return unique

    def finish(self) -> dict[str, dict[str, Any]]:
        """Fill every placeholder; the components, by name."""
        if self._msgspec:
            types = [annotation for annotation, _ in self._msgspec]
            schemas, found = msgspec.json.schema_components(
                types, schema_hook=_unknown_type, ref_template=REF + "{name}"
            )
            renamed = {name: self.add(name, schema) for name, schema in found.items()}
            for (_, slot), schema in zip(self._msgspec, schemas, strict=True):
                _merge(slot, schema)
            _rename(
                [slot for _, slot in self._msgspec]
                + [self.components[n] for n in renamed.values()],
                renamed,
            )
        for annotation, mode, slot in self._pydantic:
            _merge(slot, self._pydantic_schema(annotation, mode))
        return self.components

    def _pydantic_schema(self, annotation: Any, mode: str) -> dict[str, Any]:
        from pydantic import TypeAdapter  # pydantic only when a model is met

        # A model itself is a component too: asked for as a list's items, it is one.
        model = isinstance(annotation, type)
        schema = TypeAdapter(list[annotation] if model else annotation).json_schema(
            ref_template=REF + "{model}",
            mode=mode,  # type: ignore[arg-type]
        )
        definitions: dict[str, dict[str, Any]] = schema.pop("$defs", {})
        # Names first (a definition may refer to one not added yet), then refs.
        renamed = {name: self.add(name, definition) for name, definition in definitions.items()}
        _rename([schema, *(self.components[n] for n in renamed.values())], renamed)
        return schema["items"] if model else schema


def _merge(slot: dict[str, Any], schema: dict[str, Any]) -> None:
    """Fill ``slot`` with ``schema``; the keywords set on the slot before win."""
    merged = {**schema, **slot}
    slot.clear()
    slot.update(merged)


def _rename(schemas: list[dict[str, Any]], renamed: dict[str, str]) -> None:
    """Point the ``$ref`` of ``schemas`` at the names components were given."""
    moved = {REF + old: REF + new for old, new in renamed.items() if old != new}
    if not moved:
        return
    for schema in schemas:
        for node in _refs(schema):
            node["$ref"] = moved.get(node["$ref"], node["$ref"])
