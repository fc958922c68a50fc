from __future__ import annotations

import math
import re
import sys
import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microweb._convertors import (
    CONVERTORS,
    Convertor,
    FloatConvertor,
    IntegerConvertor,
    PathConvertor,
    StringConvertor,
    UUIDConvertor,
)

UUID_TEXT = "12345678-9abc-def0-1234-56789abcdef0"


def fullmatch(convertor: Convertor[Any], text: str) -> bool:
    # The matcher compiles every convertor regex with DOTALL.
    return re.fullmatch(convertor.regex, text, re.DOTALL) is not None


def test_the_five_kinds_are_registered_by_name() -> None:
    assert sorted(CONVERTORS) == ["float", "int", "path", "str", "uuid"]
    for name, convertor in CONVERTORS.items():
        assert convertor.name == name
        assert re.compile(convertor.regex).groups == 0  # the matcher adds its own groups
        assert not convertor.regex.startswith(("^", r"\A"))
        assert not convertor.regex.endswith(("$", r"\Z"))
    assert repr(CONVERTORS["int"]) == "IntegerConvertor()"


def test_base_convertor_is_abstract() -> None:
    with pytest.raises(NotImplementedError):
        Convertor[str]().convert("x")
    with pytest.raises(NotImplementedError):
        Convertor[str]().to_string("x")


# str


def test_str_matches_one_non_empty_segment() -> None:
    c = StringConvertor()
    assert fullmatch(c, "hello")
    assert fullmatch(c, "a b%20\n.")
    assert not fullmatch(c, "")
    assert not fullmatch(c, "a/b")
    assert c.convert("hello") == "hello"


def test_str_to_string_writes_any_value_with_str() -> None:
    c = StringConvertor()
    assert c.to_string("hello") == "hello"
    assert c.to_string(7) == "7"  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["", "a/b", "/"])
def test_str_to_string_refuses_empty_or_slash(value: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(value))):
        StringConvertor().to_string(value)


# int


def test_int_matches_ascii_digits_only() -> None:
    c = IntegerConvertor()
    for text in ["0", "5", "007", "12345678901234567890"]:
        assert fullmatch(c, text)
    for text in ["", "-1", "+1", "1.5", "1e3", "١٢", "²", " 1", "0x1"]:
        assert not fullmatch(c, text), text
    assert c.convert("007") == 7
    assert c.convert("12345678901234567890") == 12345678901234567890


def test_int_convert_refuses_past_the_digit_limit() -> None:
    # The matcher treats this ValueError as "this route does not match".
    limit = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 0
    if not limit:
        pytest.skip("no int digit limit on this Python")
    with pytest.raises(ValueError, match="digits"):
        IntegerConvertor().convert("9" * (limit + 1))


def test_int_to_string() -> None:
    c = IntegerConvertor()
    assert c.to_string(0) == "0"
    assert c.to_string(42) == "42"
    assert c.to_string("42") == "42"  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [-1, "-1", "4x", ""])
def test_int_to_string_refuses_what_the_regex_would_not_match(value: Any) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(value))):
        IntegerConvertor().to_string(value)


@pytest.mark.parametrize("value", [True, 1.0, None])
def test_int_to_string_refuses_other_types(value: Any) -> None:
    with pytest.raises(TypeError, match=re.escape(repr(value))):
        IntegerConvertor().to_string(value)


@given(st.integers(min_value=0, max_value=10**50))
def test_int_round_trips(value: int) -> None:
    c = IntegerConvertor()
    text = c.to_string(value)
    assert fullmatch(c, text)
    assert c.convert(text) == value


# float


def test_float_matches_plain_non_negative_decimals() -> None:
    c = FloatConvertor()
    for text in ["0", "5", "2.50", "0.001", "10.0"]:
        assert fullmatch(c, text)
    for text in ["", "-1.5", "1.", ".5", "1e3", "nan", "inf", "1.2.3", "1,5"]:
        assert not fullmatch(c, text), text
    assert c.convert("2.50") == 2.5
    assert c.convert("5") == 5.0
    assert isinstance(c.convert("5"), float)


def test_float_convert_refuses_a_value_too_large_to_be_finite() -> None:
    with pytest.raises(ValueError, match="too large"):
        FloatConvertor().convert("9" * 400)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.5, "1.5"),
        (5.0, "5.0"),
        (3, "3.0"),
        (0.0, "0.0"),
        (-0.0, "0.0"),
        (1e16, "10000000000000000"),
        (1.5e-7, "0.00000015"),
        ("2.50", "2.50"),
    ],
)
def test_float_to_string_writes_plain_decimals(value: Any, text: str) -> None:
    assert FloatConvertor().to_string(value) == text


@pytest.mark.parametrize("value", [-1.5, -1, math.nan, math.inf, -math.inf, 10**400, "1e3", "-2"])
def test_float_to_string_refuses_what_the_regex_would_not_match(value: Any) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(value)[:20])):
        FloatConvertor().to_string(value)


@pytest.mark.parametrize("value", [True, None, uuid.UUID(UUID_TEXT)])
def test_float_to_string_refuses_other_types(value: Any) -> None:
    with pytest.raises(TypeError, match="takes a float"):
        FloatConvertor().to_string(value)


@given(st.floats(min_value=0, allow_nan=False, allow_infinity=False))
def test_float_round_trips(value: float) -> None:
    c = FloatConvertor()
    text = c.to_string(value)
    assert fullmatch(c, text)
    assert c.convert(text) == value


# uuid


def test_uuid_matches_hyphenated_hex_in_either_case() -> None:
    c = UUIDConvertor()
    assert fullmatch(c, UUID_TEXT)
    assert fullmatch(c, UUID_TEXT.upper())
    for text in [
        UUID_TEXT.replace("-", ""),
        "{" + UUID_TEXT + "}",
        "urn:uuid:" + UUID_TEXT,
        UUID_TEXT[:-1],
        UUID_TEXT[:-1] + "g",
    ]:
        assert not fullmatch(c, text), text
    assert c.convert(UUID_TEXT.upper()) == uuid.UUID(UUID_TEXT)


def test_uuid_to_string() -> None:
    c = UUIDConvertor()
    assert c.to_string(uuid.UUID(UUID_TEXT)) == UUID_TEXT
    assert c.to_string(UUID_TEXT.upper()) == UUID_TEXT.upper()  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'not-a-uuid'"):
        c.to_string("not-a-uuid")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"takes a uuid\.UUID, got 5"):
        c.to_string(5)  # type: ignore[arg-type]


@given(st.uuids())
def test_uuid_round_trips(value: uuid.UUID) -> None:
    c = UUIDConvertor()
    assert c.convert(c.to_string(value)) == value


# path


def test_path_matches_anything_including_slashes_and_nothing() -> None:
    c = PathConvertor()
    for text in ["", "a", "a/b/c", "/", "x\ny", "a//b/"]:
        assert fullmatch(c, text), text
        assert c.convert(text) == text
        assert c.to_string(text) == text


@pytest.mark.parametrize("name", sorted(CONVERTORS))
@pytest.mark.parametrize(
    "segment",
    [
        "",
        "0",
        "42",
        "-1",
        "1.5",
        "abc",
        "٣",
        "²",
        "12a",
        " 1",
        "1\n",
        "é",
        "0" * 40,
        "00000000-0000-0000-0000-00000000000a",
    ],
)
def test_segment_matcher_agrees_with_the_regex(name: str, segment: str) -> None:
    convertor = CONVERTORS[name]
    by_regex = re.fullmatch(convertor.regex, segment, re.DOTALL) is not None
    assert (convertor.segment_matcher()(segment) is not None) is by_regex
