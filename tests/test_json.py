"""JSONResponse's encoder: stdlib-exact output at orjson's speed, plus extended types."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import json
import math
import pathlib
import uuid
from typing import Any

import msgspec
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from json_helpers import assert_encodes_alike

from microweb import _json
from microweb._json import dumps, dumps_orjson


def stdlib(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


# Text the stdlib can encode to UTF-8 (lone surrogates cannot be).
text = st.text(st.characters(exclude_categories=["Cs"]))
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | text
)
plain_json = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=6)
        | st.tuples(children, children)
        | st.dictionaries(text, children, max_size=6)
    ),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None)
@given(plain_json)
def test_byte_identical_to_stdlib(value: Any) -> None:
    assert dumps(value) == stdlib(value)


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_finite_float_matches(value: float) -> None:
    assert dumps([value, {"f": value}]) == stdlib([value, {"f": value}])


@pytest.mark.parametrize(
    "value",
    [
        1e-7,
        6.103515625e-05,
        [0.00001, -9.9e-5, 1e-4],
        [1.5e-5, "1e-5 stays text", None],
        2**64,
        -(2**63) - 1,
        {1: "int key", 2.5: "float key", False: "bool key", None: "none key"},
        "e-5 null \u2028 \x00 \x7f",
    ],
)
def test_orjson_corners_give_stdlib_output(value: Any) -> None:
    assert dumps(value) == stdlib(value)


@pytest.mark.parametrize(
    "value",
    [
        math.nan,
        [None, math.inf],
        {"a": {"b": [1, -math.inf]}},
        (None, math.nan),
    ],
)
def test_nan_and_infinity_refused(value: Any) -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        dumps(value)


def _padded(value: Any, size: int, pad: str) -> list[Any]:
    """``[text, value]`` whose orjson output is ``size`` bytes, or under by less than ``pad``."""
    bare = len(orjson.dumps(["", value]))
    return [pad * ((size - bare) // len(pad.encode())), value]


@pytest.mark.parametrize("size", [_json._SCREENED_AS_TEXT, _json._SCREENED_AS_TEXT + 5])
@pytest.mark.parametrize("pad", ["a", "\u00e9\u6f22"])
@pytest.mark.parametrize(
    "value",
    [1e-7, 0.00001, [2.5e-8, "e-5 null 0.0000"], "e-5", "null", "0.00001", 1.5, "plain"],
)
def test_small_and_large_outputs_screen_alike(value: Any, size: int, pad: str) -> None:
    # Each side of the size up to which dumps screens orjson's output as text,
    # in ASCII and in multi-byte text: the stdlib's bytes either way.
    padded = _padded(value, size, pad)
    assert dumps(padded) == stdlib(padded)


@pytest.mark.parametrize("size", [_json._SCREENED_AS_TEXT, _json._SCREENED_AS_TEXT + 5])
@pytest.mark.parametrize("pad", ["a", "\u00e9\u6f22"])
def test_nan_refused_in_small_and_large_outputs(size: int, pad: str) -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        dumps(_padded([None, math.nan], size, pad))


class Color(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


@dataclasses.dataclass
class Point:
    x: float
    y: float
    label: str | None = None


class Model:
    """Stands in for a pydantic model: anything with model_dump()."""

    def model_dump(self) -> dict[str, Any]:
        return {"id": 7, "tags": ("a", "b")}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Point(1.0, 2.5), '{"x":1.0,"y":2.5,"label":null}'),
        (datetime.datetime(2024, 5, 6, 7, 8, 9, 123), '"2024-05-06T07:08:09.000123"'),
        (
            datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc),
            '"2024-05-06T07:08:09+00:00"',
        ),
        (datetime.date(2024, 5, 6), '"2024-05-06"'),
        (datetime.time(7, 8, 9), '"07:08:09"'),
        (
            datetime.time(7, 8, tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
            '"07:08:00+02:00"',
        ),
        (uuid.UUID(int=255), '"00000000-0000-0000-0000-0000000000ff"'),
        (decimal.Decimal("10.50"), '"10.50"'),
        (Color.RED, '"red"'),
        (Level.HIGH, "3"),
        ({3, 1, 2}, "[1,2,3]"),
        (frozenset({"only"}), '["only"]'),
        (("t", 1), '["t",1]'),
        (pathlib.PurePosixPath("/srv/a b.txt"), '"/srv/a b.txt"'),
        (pathlib.Path("rel/x"), '"rel/x"'),
        (Model(), '{"id":7,"tags":["a","b"]}'),
    ],
)
def test_extended_types(value: Any, expected: str) -> None:
    assert dumps(value) == expected.encode()
    # The same rules hold on the stdlib path (taken here because of the big int).
    assert dumps([value, 2**70]) == f"[{expected},{2**70}]".encode()


def test_nan_inside_a_dataclass_is_refused() -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        dumps({"p": Point(math.nan, 0.0)})


class Reading(msgspec.Struct, rename="camel"):
    sensor_id: int
    value: float
    at: datetime.datetime | None = None
    tags: list[str] = []
    omitted: int = 0


def test_structs_encode_with_their_own_names_and_our_formats() -> None:
    at = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    reading = Reading(7, 1.5, at, ["a"])
    # msgspec's renames; the datetime as every other datetime here ("+00:00", not "Z").
    assert dumps([reading]) == (
        b'[{"sensorId":7,"value":1.5,"at":"2026-01-02T03:04:05+00:00","tags":["a"],"omitted":0}]'
    )
    assert (
        dumps(Reading(1, 2.0))
        == json.dumps(
            {"sensorId": 1, "value": 2.0, "at": None, "tags": [], "omitted": 0},
            separators=(",", ":"),
        ).encode()
    )


def test_nan_inside_a_struct_is_refused() -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        dumps({"r": [Reading(1, math.nan)]})
    with pytest.raises(ValueError, match="not JSON compliant"):
        dumps(Reading(1, math.inf))


class Sized(enum.Enum):
    HUGE = math.inf


@pytest.mark.parametrize(
    "value",
    [
        {"none": None, "r": Reading(1, 2.0, tags=["x"]), "f": -math.nan},
        [None, {math.inf}],
        [None, Sized.HUGE],
        [None, Point(1.0, 2.0), Point(0.0, -math.inf)],
        (None, [[[[{"deep": math.nan}]]]]),
    ],
)
def test_nan_wherever_it_hides_next_to_a_null_is_refused(value: Any) -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        dumps(value)


def test_text_that_looks_like_a_packed_nan_next_to_a_null_is_sent() -> None:
    # 203 bytes: msgpack's str8 header is d9 cb, then 7f f0..., the bytes of a
    # packed NaN; such a look-alike only costs the stdlib path.
    text = "\x7f\U0001f600" + "x" * 198
    value = {"t": text, "n": None, "f": 1.5, "r": Reading(1, 2.0)}
    assert _json._NONFINITE_FLOAT64.search(msgspec.msgpack.encode(value)) is not None
    expected = {"t": text, "n": None, "f": 1.5, "r": msgspec.to_builtins(Reading(1, 2.0))}
    assert dumps(value) == stdlib(expected)


@given(
    st.recursive(
        st.none() | st.floats() | st.integers(-(2**63), 2**63) | text,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4)
        ),
        max_leaves=12,
    )
)
@settings(max_examples=300, deadline=None)
def test_nan_refused_exactly_when_the_stdlib_refuses(value: Any) -> None:
    assert_encodes_alike(dumps, stdlib, value)


@dataclasses.dataclass
class Counted:
    x: int
    y: int = 0


def test_a_dataclass_decoded_by_msgspec_keeps_its_defaults() -> None:
    # msgspec leaves a field at its class default out of __dict__, where orjson looks.
    decoded = msgspec.json.decode(b'{"x": 1}', type=Counted)
    assert dumps(decoded) == b'{"x":1,"y":0}'


@pytest.mark.parametrize("value", [object(), b"bytes", {"k": {1j}}, Point])
def test_unknown_type_is_a_type_error_naming_it(value: Any) -> None:
    with pytest.raises(TypeError, match="is not JSON serializable") as info:
        dumps(value)
    assert type(value).__name__ in str(info.value) or "complex" in str(info.value)


def test_orjson_variant_keeps_orjson_behaviour() -> None:
    assert dumps_orjson({1: math.nan, "s": {5}}) == b'{"1":null,"s":[5]}'


def test_one_depth_limit_for_reading_and_writing() -> None:
    from microweb._json import MAX_DEPTH, TooDeep, loads

    deepest = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    value = loads(deepest)
    assert dumps(value) == deepest  # what was read can be written back
    with pytest.raises(TooDeep, match=f"deeper than {MAX_DEPTH}"):
        loads(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
    with pytest.raises(TooDeep):
        loads(b'{"a":' * (MAX_DEPTH + 1) + b"1" + b"}" * (MAX_DEPTH + 1))
    # Many brackets side by side are not deep.
    assert loads(b"[" + b"[]," * (MAX_DEPTH * 3) + b"[]]") == [[]] * (MAX_DEPTH * 3 + 1)
    too_deep: list[object] = []
    for _ in range(MAX_DEPTH + 400):  # deeper than the stdlib encoder's stack allows
        too_deep = [too_deep]
    with pytest.raises(ValueError, match="deeper than"):
        dumps(too_deep)


# --- struct_dumps: msgspec's own encoder for a Struct of plain JSON fields -------


class Size(msgspec.Struct):
    width: float
    height: float | None = None


class Product(msgspec.Struct, omit_defaults=True, rename="camel"):
    product_id: int
    name: str
    price: float
    in_stock: bool
    tags: list[str]
    size: Size
    sizes: list[Size]
    extra: dict[str, float | None] = {}
    pair: tuple[int, str] = (0, "")
    parent: Product | None = None


def test_struct_dumps_is_offered_only_for_structs_of_plain_json() -> None:
    assert _json.struct_dumps(Product) is not None
    assert _json.struct_dumps(Size) is not None
    assert _json.struct_dumps(Reading) is None  # a datetime field: msgspec writes "Z"
    for annotation in (None, Any, dict[str, Any], list[Size], Point, int):
        assert _json.struct_dumps(annotation) is None

    class Loose(msgspec.Struct):
        data: Any

    class Raw(msgspec.Struct):
        data: bytes

    assert _json.struct_dumps(Loose) is None
    assert _json.struct_dumps(Raw) is None


plain_floats = st.floats() | st.sampled_from([1e16, 1e-7, 5e-5, -1e300, 0.0001, 2.0**70])
sizes = st.builds(Size, plain_floats, st.none() | plain_floats)
products = st.recursive(
    st.builds(
        Product,
        st.integers(-(2**70), 2**70),
        text,
        plain_floats,
        st.booleans(),
        st.lists(text, max_size=3),
        sizes,
        st.lists(sizes, max_size=3),
        st.dictionaries(text, st.none() | plain_floats, max_size=3),
        st.tuples(st.integers(), text),
    ),
    lambda children: st.builds(
        Product,
        st.integers(),
        text,
        plain_floats,
        st.booleans(),
        st.just([]),
        sizes,
        st.just([]),
        parent=children,
    ),
    max_leaves=3,
)


@given(products)
@settings(max_examples=300, deadline=None)
def test_struct_dumps_writes_what_dumps_writes(value: Product) -> None:
    encode = _json.struct_dumps(Product)
    assert encode is not None
    assert_encodes_alike(encode, dumps, value)


class Reading2(msgspec.Struct):
    value: float
    note: str | None = None
    extra: list[float | None] = []


class Omitting(msgspec.Struct, omit_defaults=True):
    value: float
    note: str | None = None
    other: float | None = None


# Around each bound where ``repr`` changes notation (1e-4, 1e16), the bounds of
# the msgpack screen (2**-15, 2**-13, 2**49), zero, the subnormals and the non-finite.
FLOAT_BOUNDS = [
    0.0,
    -0.0,
    5e-324,
    2.2e-308,
    1e-7,
    2**-16,
    3e-5,
    2**-15,
    5e-5,
    2**-14,
    9.99e-5,
    1e-4,
    1.1e-4,
    2**-13,
    1.3e-4,
    0.5,
    1.0,
    9.99,
    2.0**49 - 1,
    2.0**49,
    1e15,
    9999999999999998.0,
    1e16,
    1e300,
    math.inf,
    -math.inf,
    math.nan,
]


@pytest.mark.parametrize("x", FLOAT_BOUNDS + [-x for x in FLOAT_BOUNDS])
def test_struct_dumps_writes_what_dumps_writes_at_the_float_bounds(x: float) -> None:
    encode = _json.struct_dumps(Reading2)
    omitting = _json.struct_dumps(Omitting)
    assert encode is not None
    assert omitting is not None
    values = [
        Reading2(x),  # no null
        Reading2(x, None),  # a null that is a None field: no msgpack pass
        Reading2(1.0, None, [x, None]),  # a nested None: the msgpack pass
        Reading2(1.0, "null", [x]),  # the text "null" counts too
        Reading2(1.0, None, [x]),
    ]
    for value in values:
        assert_encodes_alike(encode, dumps, value)
    for omitted in (Omitting(x), Omitting(1.0, None, x), Omitting(x, "a", None)):
        assert_encodes_alike(omitting, dumps, omitted)


def test_struct_dumps_sends_other_values_to_dumps() -> None:
    encode = _json.struct_dumps(Size)
    assert encode is not None

    class Wider(Size):
        depth: datetime.date = datetime.date(2026, 1, 1)

    assert (
        encode(Wider(1.0))
        == dumps(Wider(1.0))
        == b'{"width":1.0,"height":null,"depth":"2026-01-01"}'
    )
    assert encode({"width": 1e16}) == b'{"width":1e+16}'
    with pytest.raises(ValueError, match="not JSON compliant"):
        encode(Size(math.nan))
    with pytest.raises(ValueError, match="not JSON compliant"):
        encode(Size(1.0, -math.inf))
