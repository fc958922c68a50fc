"""Random bodies against typed model routes: only 200, 400 or 422, and every 422 bounded.

Issue 16's last Done-when item: random bodies (hypothesis) against a
model route give only 200, 400 or 422, never a 500, and a 422 never echoes
more of a value than ``_validation.MAX_INPUT`` characters of its JSON text.
Each example is posted to a msgspec route and a pydantic route alike.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import msgspec
import pydantic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microweb import App
from microweb._validation import MAX_INPUT
from microweb.testclient import TestClient


@dataclasses.dataclass
class Tag:
    name: str
    weight: float = 1.0


@dataclasses.dataclass
class Item:
    name: str
    price: float
    tags: list[Tag] = dataclasses.field(default_factory=list)
    note: str | None = None


class PydanticTag(pydantic.BaseModel):
    name: str = pydantic.Field(max_length=20)
    weight: float = 1.0


class PydanticItem(pydantic.BaseModel):
    name: str
    price: float = pydantic.Field(gt=0)
    tags: list[PydanticTag] = []
    note: str | None = None


def _create(item: Item) -> Item:
    return item


def _create_pydantic(item: PydanticItem) -> PydanticItem:
    return item


_app = App()
_app.add_route("/m", _create, methods=["POST"])
_app.add_route("/p", _create_pydantic, methods=["POST"])
_client = TestClient(_app, raise_server_exceptions=False)

_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=300),
    lambda children: st.lists(children, max_size=30) | st.dictionaries(st.text(), children),
    max_leaves=40,
)
_item_like = st.fixed_dictionaries(
    {},
    optional={
        "name": _values,
        "price": _values,
        "tags": st.lists(st.fixed_dictionaries({}, optional={"name": _values, "weight": _values}))
        | _values,
        "note": _values,
    },
)
_bodies = st.one_of(
    _values.map(lambda v: json.dumps(v).encode()),
    _item_like.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
)


def _bounded(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float)):
        return True
    if isinstance(value, str):
        return len(value) <= MAX_INPUT + len("...")
    return len(msgspec.json.encode(value)) <= MAX_INPUT * 4  # JSON text of <= MAX_INPUT chars


# 4,000 examples, each posted to both routes (8,000 requests): about 35 s here;
# 10,000 took 90 s, over the suite's 60 s budget for one test.
@settings(max_examples=4_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=_bodies)
def test_random_bodies_give_200_400_or_a_bounded_422(body: bytes) -> None:
    for path in ("/m", "/p"):
        r = _client.post(path, content=body, headers={"content-type": "application/json"})
        assert r.status_code in (200, 400, 422), (path, body, r.text)
        if r.status_code == 422:
            for error in r.json()["detail"]:
                assert set(error) <= {"type", "loc", "msg", "input", "ctx"}
                assert error["loc"][0] == "body"
                assert _bounded(error["input"]), (path, body, error)
