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

A returned ``Response`` is sent as it is. A value that does not fit is a
``ResponseValidationError``: the App logs it and answers 500, as FastAPI's
``ResponseValidationError`` does; nothing of the value is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from microweb._models import custom_type, is_pydantic_model

__all__ = ["ResponseValidationError", "response_converter"]


class ResponseValidationError(ValueError):
    """A handler's return value does not fit its route's ``response_model`` (a 500)."""


def _described(model: Any) -> str:
    return getattr(model, "__name__", None) or repr(model)


def response_converter(model: Any, where: str) -> Callable[[Any], Any] | None:
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

        dump = response_dumper(model)
    elif found is not None:
        raise TypeError(
            f"response_model of {where}: {found.__name__} is no type a return value converts "
            "into; use a dataclass, TypedDict, NamedTuple, msgspec.Struct, attrs class or "
            "pydantic model (and lists, dicts, unions of them)"
        )
    else:

        def dump(value: Any) -> Any:
            return msgspec.convert(value, model, from_attributes=True, strict=False)

    name = _described(model)

    def convert(value: Any) -> Any:
        try:
            return dump(value)
        except (msgspec.ValidationError, ValueError) as exc:  # pydantic's is a ValueError
            raise ResponseValidationError(
                f"{where} returned a value that does not fit response_model={name}: {exc}"
            ) from None

    return convert
