"""``jsonable_encoder``: a value as the plain JSON values JSONResponse would send.

FastAPI's helper of the same name, for code that stores or compares what a
response would carry (its body-updates tutorial keeps items this way): a
pydantic model, dataclass, ``msgspec.Struct``, attrs instance, datetime,
UUID, Decimal, Enum, set... and containers of them come back as dicts,
lists, strings, numbers, booleans and None, formatted exactly as
``JSONResponse`` writes them (the one encoder, ``_json.dumps``, then
msgspec's decoder).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import msgspec

from microweb._json import dumps
from microweb._models import is_pydantic_model

__all__ = ["jsonable_encoder"]


def jsonable_encoder(
    obj: Any,
    *,
    include: Collection[str] | None = None,
    exclude: Collection[str] | None = None,
    by_alias: bool = True,
    exclude_unset: bool = False,
    exclude_none: bool = False,
) -> Any:
    """``obj`` as plain JSON values (``dict``, ``list``, ``str``, numbers, bool, None).

    ``include`` and ``exclude`` keep or drop top-level fields (of a pydantic
    model, a mapping, or what another model encodes to); ``by_alias``,
    ``exclude_unset`` and ``exclude_none`` are passed to a pydantic model's
    ``model_dump``. Raises TypeError for a value JSONResponse cannot encode.
    """
    if is_pydantic_model(type(obj)):
        obj = obj.model_dump(
            mode="json",
            include=None if include is None else set(include),
            exclude=None if exclude is None else set(exclude),
            by_alias=by_alias,
            exclude_unset=exclude_unset,
            exclude_none=exclude_none,
        )
    plain = msgspec.json.decode(dumps(obj))
    if isinstance(plain, dict) and (include is not None or exclude is not None):
        plain = {
            key: value
            for key, value in plain.items()
            if (include is None or key in include) and (exclude is None or key not in exclude)
        }
    return plain
