"""``microweb.encoders.jsonable_encoder``: plain JSON values, as JSONResponse writes them."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import uuid
from typing import Any

import msgspec
import pydantic
import pytest

from microweb import JSONResponse
from microweb.encoders import jsonable_encoder

WHEN = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)
ID = uuid.UUID("12345678-1234-5678-1234-567812345678")


class Colour(enum.Enum):
    RED = "red"


class Tagged(pydantic.BaseModel):
    name: str
    tax: float = 10.5
    seen: datetime.datetime | None = None
    user_id: int = pydantic.Field(0, alias="userId")


@dataclasses.dataclass
class Point:
    x: int
    when: datetime.date


class Pair(msgspec.Struct):
    left: decimal.Decimal
    right: Colour


@pytest.mark.parametrize(
    "value",
    [
        {"when": WHEN, "id": ID, "tags": {"a"}, "n": [1, 2.5, None, True]},
        Point(1, datetime.date(2024, 1, 2)),
        [Pair(decimal.Decimal("1.10"), Colour.RED)],
        Tagged.model_validate({"name": "a", "seen": WHEN, "userId": 3}),
        {"nested": [Tagged.model_validate({"name": "b"})]},
    ],
)
def test_gives_what_a_json_response_sends(value: Any) -> None:
    plain = jsonable_encoder(value)
    assert msgspec.json.encode(plain) == JSONResponse(value).body


def test_a_models_options_and_top_level_include_exclude() -> None:
    model = Tagged.model_validate({"name": "a", "userId": 2})
    assert jsonable_encoder(model, exclude_unset=True) == {"name": "a", "userId": 2}
    assert jsonable_encoder(model, by_alias=False, include={"user_id"}) == {"user_id": 2}
    assert jsonable_encoder(model, exclude_none=True, exclude=["tax"]) == {
        "name": "a",
        "userId": 2,
    }
    assert jsonable_encoder({"a": 1, "b": WHEN}, include=["b"]) == {"b": WHEN.isoformat()}
    assert jsonable_encoder({"a": 1, "b": 2}, exclude={"b"}) == {"a": 1}
    with pytest.raises(TypeError, match="not JSON serializable"):
        jsonable_encoder(object())
