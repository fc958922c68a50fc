"""``response_model``: what a handler returns, converted through a declared type.

SPEC.md "Typed request data": ``response_model=Model`` on a decorator,
``Route`` or ``add_route`` converts the return value through the model, so
fields the model lacks are never sent. Decided when the route is compiled
(``response_converter``); a route without one pays nothing (its endpoint
calls the handler as before).

- A type msgspec knows (dataclass, ``TypedDict``, ``NamedTuple``, ``Struct``,
  attrs class, and containers of them): ``msgspec.convert(value, model,
  from_attributes=True, strict=False)`` builds a new value of the model's
  type from the returned one's keys or attributes (a dict, a subclass
  instance, an ORM object alike); what the model does not declare is left
  behind.
- A type holding a pydantic model: pydantic validates the value
  (``from_attributes=True``) and dumps it by the declared type (JSON mode, by
  alias, as FastAPI does), so a subclass instance's extra fields are not
  dumped either (``_pydantic``).

The options (``DumpOptions``, FastAPI's ``response_model_*``): ``include``
and ``exclude`` keep or drop fields by name, ``exclude_unset`` drops the
fields the value did not set (pydantic's rule for a model; for a returned
mapping converted by msgspec, the keys it lacks), ``by_alias=False`` writes
a pydantic model's field names instead of its aliases. Under msgspec,
``include`` and ``exclude`` apply to the fields of the model (of each item,
for a list of models).

A returned ``Response`` is sent as it is. A value that does not fit is a
``ResponseValidationError``: the App logs it and answers 500, as FastAPI's
``ResponseValidationError`` does; nothing of the value is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, NamedTuple

import msgspec

from microweb._models import custom_type, is_pydantic_model

__all__ = ["DumpOptions", "ResponseValidationError", "response_converter"]


class DumpOptions(NamedTuple):
    """How a converted return value is written: the route's ``response_model_*`` options."""

    include: frozenset[str] | None = None
    exclude: frozenset[str] | None = None
    exclude_unset: bool = False
    by_alias: bool = True

    @classmethod
    def checked(
        cls,
        where: str,
        include: Collection[str] | None,
        exclude: Collection[str] | None,
        exclude_unset: bool,
        by_alias: bool,
    ) -> DumpOptions:
        """The options of ``where``, a TypeError naming it for a wrong type."""
        for option, names in (("include", include), ("exclude", exclude)):
            if names is not None and (
                isinstance(names, (str, bytes, Mapping))
                or not all(isinstance(n, str) for n in names)
            ):
                raise TypeError(
                    f"response_model_{option} of {where} must be a set of field names, "
                    f"got {names!r}"
                )
        for option, flag in (("exclude_unset", exclude_unset), ("by_alias", by_alias)):
            if not isinstance(flag, bool):
                raise TypeError(f"response_model_{option} of {where} must be a bool, got {flag!r}")
        return cls(
            None if include is None else frozenset(include),
            None if exclude is None else frozenset(exclude),
            exclude_unset,
            by_alias,
        )


_PLAIN = DumpOptions()


class ResponseValidationError(ValueError):
    """A handler's return value does not fit its route's ``response_model`` (a 500)."""


def _described(model: Any) -> str:
    return getattr(model, "__name__", None) or repr(model)


def response_converter(
    model: Any, where: str, options: DumpOptions = _PLAIN
) -> Callable[[Any], Any] | None:
    """The conversion of ``where``'s return values through ``model`` (None: no model).

    Raises TypeError naming ``where`` for a model that neither msgspec nor
    pydantic can convert into.
    """
    if model is None:
        return None
    try:
        found = custom_type(model)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"response_model of {where} must be a type, got {model!r}: {exc}"
        ) from None
    if is_pydantic_model(found):
        from microweb._pydantic import response_dumper  # pydantic, only for its models

        dump = response_dumper(model, options)
    elif found is not None:
        raise TypeError(
            f"response_model of {where}: {found.__name__} is no type a return value converts "
            "into; use a dataclass, TypedDict, NamedTuple, msgspec.Struct, attrs class or "
            "pydantic model (and lists, dicts, unions of them)"
        )
    elif options == _PLAIN:

        def dump(value: Any) -> Any:
            return msgspec.convert(value, model, from_attributes=True, strict=False)

    else:
        dump = _filtered_dump(model, options)

    name = _described(model)

    def convert(value: Any) -> Any:
        try:
            return dump(value)
        except (msgspec.ValidationError, ValueError) as exc:  # pydantic's is a ValueError
            raise ResponseValidationError(
                f"{where} returned a value that does not fit response_model={name}: {exc}"
            ) from None

    return convert


def _filtered_dump(model: Any, options: DumpOptions) -> Callable[[Any], Any]:
    """msgspec's conversion, then the fields ``options`` leave out dropped."""
    include, exclude, exclude_unset, _ = options

    def keep(converted: Any, given: Any) -> Any:
        if not isinstance(converted, dict):
            return converted
        return {
            key: value
            for key, value in converted.items()
            if (include is None or key in include)
            and (exclude is None or key not in exclude)
            and not (exclude_unset and isinstance(given, Mapping) and key not in given)
        }

    def dump(value: Any) -> Any:
        converted = msgspec.to_builtins(
            msgspec.convert(value, model, from_attributes=True, strict=False)
        )
        if isinstance(converted, list) and isinstance(value, list):
            return [keep(item, given) for item, given in zip(converted, value, strict=True)]
        return keep(converted, value)

    return dump
