"""The float check compiled per Struct type: msgspec's output kept only when it is dumps'."""

from __future__ import annotations

import math
from typing import Annotated, Any

import msgspec
import pytest
from json_helpers import assert_encodes_alike

from microweb import _json
from microweb._json import dumps
from microweb._plain_struct import float_check

# Around each bound where ``repr`` changes notation (1e-4, 1e16), zero, the
# subnormals and the non-finite.
BOUNDS = [
    0.0,
    5e-324,
    1e-7,
    1e-5,
    5e-5,
    9.99e-5,
    math.nextafter(1e-4, 0.0),
    1e-4,
    1.1e-4,
    0.5,
    9.99,
    1e15,
    math.nextafter(1e16, 0.0),
    1e16,
    1e300,
    math.inf,
    math.nan,
]
FLOATS = BOUNDS + [-x for x in BOUNDS]


class Leaf(msgspec.Struct):
    value: float
    note: str = ""


class Tree(msgspec.Struct):
    name: str
    leaf: Leaf
    leaves: list[Leaf]
    by_name: dict[str, float | None]
    pair: tuple[int, float]
    many: tuple[float, ...]
    either: float | Leaf | list[float] | str | None = None
    meta: Annotated[float, msgspec.Meta(ge=-1e300)] = 1.0
    child: Tree | None = None


def tree(x: float, where: str) -> Tree:
    """A Tree with ``x`` at one place (``where``), 1.0 at every other float place."""
    leaf = Leaf(x if where == "leaf" else 1.0)
    value = Tree(
        "tree",
        leaf,
        [Leaf(1.0), Leaf(x if where == "leaves" else 2.0)],
        {"a": None, "b": x if where == "by_name" else 3.0},
        (1, x if where == "pair" else 4.0),
        (1.0, x if where == "many" else 5.0),
        meta=x if where == "meta" else 1.0,
    )
    if where == "either-float":
        value.either = x
    elif where == "either-leaf":
        value.either = Leaf(x)
    elif where == "either-list":
        value.either = [1.0, x]
    elif where == "child":
        value.child = Tree("child", Leaf(1.0), [Leaf(x)], {}, (0, 0.0), ())
    return value


PLACES = [
    "leaf",
    "leaves",
    "by_name",
    "pair",
    "many",
    "meta",
    "either-float",
    "either-leaf",
    "either-list",
    "child",
]


@pytest.mark.parametrize("where", PLACES)
@pytest.mark.parametrize("x", FLOATS)
def test_every_float_place_is_checked(where: str, x: float) -> None:
    encode = _json.struct_dumps(Tree)
    assert encode is not None
    assert_encodes_alike(encode, dumps, tree(x, where))


def test_a_nan_anywhere_is_refused() -> None:
    encode = _json.struct_dumps(Tree)
    assert encode is not None
    for where in PLACES:
        with pytest.raises(ValueError, match="not JSON compliant"):
            encode(tree(math.nan, where))


def test_text_that_looks_like_a_float_stays_on_msgspec(monkeypatch: pytest.MonkeyPatch) -> None:
    encode = _json.struct_dumps(Leaf)
    assert encode is not None

    def no_dumps(value: Any) -> bytes:
        raise AssertionError("sent to dumps")

    monkeypatch.setattr(_json, "dumps", no_dumps)
    for note in ("e-5", "1e16", "null", "0.00001", "NaN", "1e-07"):
        assert encode(Leaf(0.5, note)) == msgspec.json.encode(Leaf(0.5, note))
    assert (
        encode(Leaf(3, "an int in a float field"))
        == b'{"value":3,"note":"an int in a float field"}'
    )


def test_values_the_annotation_does_not_describe_go_to_dumps() -> None:
    encode = _json.struct_dumps(Leaf)
    assert encode is not None
    assert (
        encode(Leaf(2**70)) == dumps(Leaf(2**70)) == b'{"value":1180591620717411303424,"note":""}'
    )
    assert encode(Leaf("1e16")) == dumps(Leaf("1e16")) == b'{"value":"1e16","note":""}'  # type: ignore[arg-type]
    assert encode(Leaf(None)) == b'{"value":null,"note":""}'  # type: ignore[arg-type]


def test_only_plain_structs_get_a_check() -> None:
    assert float_check(Leaf) is not None
    assert float_check(Tree) is not None

    class Words(msgspec.Struct):
        words: list[str]
        count: int | None = None

    check = float_check(Words)
    assert check is not None
    assert check(Words(["e-5"]))  # no float: nothing to refuse
    for annotation in (None, Any, int, list[Leaf], dict[str, float]):
        assert float_check(annotation) is None

    class IntKeys(msgspec.Struct):
        values: dict[int, float]

    class Bare(msgspec.Struct):
        values: list  # type: ignore[type-arg]

    assert float_check(IntKeys) is None
    assert float_check(Bare) is None
    # defstruct takes a name no attribute access can be written with.
    assert float_check(msgspec.defstruct("Odd", [("class", float)])) is None
    assert _json.struct_dumps(msgspec.defstruct("Odd", [("class", float)])) is None
