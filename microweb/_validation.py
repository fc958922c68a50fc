"""The 422 items, the string converters and the constraints: one rule each, in one place.

SPEC.md "Typed request data": a value that is missing, does not convert or
breaks a constraint is reported as FastAPI reports it, with pydantic's error
types and messages::

    {"type": "greater_than", "loc": ["query", "n"], "msg": "Input should be greater than 0",
     "input": "-1", "ctx": {"gt": 0}}

Path, query, header and cookie values are strings; all four go through the
one converter set below (``scalar_converter``), then through ``Constraints``.
JSON bodies are decoded by msgspec (``_body``), which reports its failures
through the same ``item`` and ``Constraints``, so a message is written once.

Constraints are checked in pydantic's order, and only the first that fails is
reported for a value: a number's ``multiple_of``, ``le``, ``lt``, ``ge``,
``gt``; a string's ``min_length``, ``max_length``, ``pattern``; a list's
``min_length``, ``max_length``.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import math
import re
import typing
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

__all__ = [
    "REFUSED",
    "SCALAR_TYPES",
    "Constraints",
    "Converter",
    "ErrorDict",
    "Refused",
    "choices",
    "item",
    "scalar_converter",
    "shorten",
]

ErrorDict = dict[str, Any]

# The query-string grammar of numbers: a sign, an exponent, inf and nan are
# allowed (the path convertors' grammar, in _convertors, is unsigned digits).
_SIGNED_INT = re.compile(r"[+-]?[0-9]+")
_SIGNED_FLOAT = re.compile(
    r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:inf(?:inity)?|nan)", re.I
)
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})

# The longest ``input`` a 422 echoes, in characters of its JSON (SPEC: bounded).
MAX_INPUT = 200


def shorten(value: Any) -> Any:
    """``value`` as a 422's ``input``: itself when short, else the start of its JSON text.

    A non-finite float (``-Infinity`` in a body pydantic parsed) is written
    ``null``, as msgspec encodes it: a JSON response refuses it.
    """
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return value if len(value) <= MAX_INPUT else value[:MAX_INPUT] + "..."
    try:
        text = msgspec.json.encode(value).decode()
    except (TypeError, ValueError, OverflowError):
        return repr(value)[:MAX_INPUT]
    if len(text) > MAX_INPUT:
        return text[:MAX_INPUT] + "..."
    # The value its JSON text reads back as: the same JSON, but a non-finite
    # float in it is null (msgspec's encoding), which a JSON response can send.
    return msgspec.json.decode(text)


def item(
    error_type: str,
    loc: list[Any],
    message: str,
    value: Any,
    ctx: dict[str, Any] | None = None,
) -> ErrorDict:
    """One item of a 422's ``detail`` (SPEC "Typed request data")."""
    error = {"type": error_type, "loc": loc, "msg": message, "input": shorten(value)}
    if ctx is not None:
        error["ctx"] = ctx
    return error


# --- converters -------------------------------------------------------------------
# Each is (convert, error type, error message); convert raises ValueError (or
# ArithmeticError/TypeError, as Decimal and friends do; KeyError for an Enum
# or Literal choice) for a value it refuses.

REFUSED = (ValueError, ArithmeticError, TypeError, KeyError)


class Refused(ValueError):
    """A refusal with its own error type and message (over the converter's usual ones)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


@dataclass(frozen=True)
class Converter:
    convert: Callable[[str], Any]
    error_type: str
    message: str
    ctx: dict[str, Any] | None = None


def _to_int(value: str) -> int:
    if _SIGNED_INT.fullmatch(value) is None:
        raise ValueError(value)
    return int(value)


def _to_float(value: str) -> float:
    if _SIGNED_FLOAT.fullmatch(value) is None:
        raise ValueError(value)
    number = float(value)
    # nan, inf and what overflows to inf (1e999) could not be sent back as JSON.
    if not math.isfinite(number):
        raise Refused("finite_number", "Input should be a finite number")
    return number


def _to_bool(value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(value)


def choices(values: list[Any]) -> str:
    """pydantic's ``expected`` text: ``'a', 'b' or 'c'``."""
    quoted = [repr(v) for v in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _enum_converter(cls: type[enum.Enum]) -> Converter:
    by_text = {str(member.value): member for member in cls}
    expected = choices([member.value for member in cls])

    def convert(value: str) -> enum.Enum:
        return by_text[value]

    return Converter(convert, "enum", f"Input should be {expected}", {"expected": expected})


def _literal_converter(options: tuple[Any, ...]) -> Converter:
    by_text = {str(option): option for option in options}
    expected = choices(list(options))

    def convert(value: str) -> Any:
        return by_text[value]

    return Converter(
        convert, "literal_error", f"Input should be {expected}", {"expected": expected}
    )


_SCALARS: dict[Any, Converter] = {
    str: Converter(str, "string_type", "Input should be a valid string"),
    int: Converter(
        _to_int,
        "int_parsing",
        "Input should be a valid integer, unable to parse string as an integer",
    ),
    float: Converter(
        _to_float,
        "float_parsing",
        "Input should be a valid number, unable to parse string as a number",
    ),
    bool: Converter(
        _to_bool, "bool_parsing", "Input should be a valid boolean, unable to interpret input"
    ),
    uuid.UUID: Converter(uuid.UUID, "uuid_parsing", "Input should be a valid UUID"),
    decimal.Decimal: Converter(
        decimal.Decimal, "decimal_parsing", "Input should be a valid decimal"
    ),
    datetime.datetime: Converter(
        datetime.datetime.fromisoformat, "datetime_parsing", "Input should be a valid datetime"
    ),
    datetime.date: Converter(
        datetime.date.fromisoformat, "date_parsing", "Input should be a valid date"
    ),
}
SCALAR_TYPES = "str, int, float, bool, UUID, Decimal, date, datetime, an Enum, a Literal"


def scalar_converter(annotation: Any) -> Converter | None:
    """The converter of a string into ``annotation``, or None if no string can be one."""
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return _enum_converter(annotation)
    if typing.get_origin(annotation) is Literal:
        return _literal_converter(typing.get_args(annotation))
    return None


# --- constraints ------------------------------------------------------------------

_NUMBER_CHECKS: tuple[tuple[str, str, str, Callable[[Any, Any], bool]], ...] = (
    ("le", "less_than_equal", "less than or equal to", lambda v, b: v <= b),
    ("lt", "less_than", "less than", lambda v, b: v < b),
    ("ge", "greater_than_equal", "greater than or equal to", lambda v, b: v >= b),
    ("gt", "greater_than", "greater than", lambda v, b: v > b),
)
_NUMBER_NAMES = ("gt", "ge", "lt", "le", "multiple_of")
_LENGTH_NAMES = ("min_length", "max_length")

#: What ``Constraints.check`` gives for a broken constraint: (type, message, ctx).
Failure = tuple[str, str, dict[str, Any]]


def _show(number: Any) -> str:
    """A bound as pydantic-core writes it in a message: 3.0 as ``3``, 2.5 as ``2.5``."""
    if isinstance(number, float) and number.is_integer():
        return str(int(number))
    return str(number)


def _plural(count: int) -> str:
    return "" if count == 1 else "s"


class Constraints:
    """Compiled bounds for one value; ``check`` gives the first that fails, or None.

    Built from a marker's or a ``msgspec.Meta``'s constraints; the constructor
    raises TypeError or ValueError for a bound of the wrong type or a pattern
    that does not compile (the binder adds the route and the parameter).
    """

    __slots__ = ("bounds", "max_length", "min_length", "multiple_of", "pattern")

    def __init__(self, given: dict[str, Any], *, floats: bool = False) -> None:
        for name in _NUMBER_NAMES:
            value = given.get(name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal))
            ):
                raise TypeError(f"{name}={value!r} is not a number")
        for name in _LENGTH_NAMES:
            value = given.get(name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or value < 0
            ):
                raise TypeError(f"{name}={value!r} is not a non-negative int")
        pattern = given.get("pattern")
        if pattern is not None and not isinstance(pattern, str):
            raise TypeError(f"pattern={pattern!r} is not a str")
        try:
            self.pattern = None if pattern is None else re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"pattern={pattern!r} does not compile: {exc}") from None
        if floats:
            # pydantic reports a float field's bounds as floats (ctx {"lt": 3.0}).
            given = {
                name: float(value) if name in _NUMBER_NAMES and value is not None else value
                for name, value in given.items()
            }
        self.multiple_of = given.get("multiple_of")
        self.bounds = tuple(
            (name, kind, words, test, given[name])
            for name, kind, words, test in _NUMBER_CHECKS
            if given.get(name) is not None
        )
        self.min_length: int | None = given.get("min_length")
        self.max_length: int | None = given.get("max_length")

    def __bool__(self) -> bool:
        return bool(
            self.bounds
            or self.multiple_of is not None
            or self.pattern is not None
            or self.min_length is not None
            or self.max_length is not None
        )

    def check(self, value: Any) -> Failure | None:
        """The first constraint ``value`` breaks, as (type, message, ctx), or None."""
        if isinstance(value, str):
            return self._check_string(value)
        if isinstance(value, (list, tuple, set, frozenset, dict)):
            return self._check_items(value)
        if isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool):
            return self._check_number(value)
        return None

    def _check_number(self, value: Any) -> Failure | None:
        step = self.multiple_of
        if step is not None and value % step != 0:
            ctx = {"multiple_of": step}
            return "multiple_of", f"Input should be a multiple of {_show(step)}", ctx
        for name, kind, words, test, bound in self.bounds:
            if not test(value, bound):
                return kind, f"Input should be {words} {_show(bound)}", {name: bound}
        return None

    def _check_string(self, value: str) -> Failure | None:
        low, high = self.min_length, self.max_length
        if low is not None and len(value) < low:
            message = f"String should have at least {low} character{_plural(low)}"
            return "string_too_short", message, {"min_length": low}
        if high is not None and len(value) > high:
            message = f"String should have at most {high} character{_plural(high)}"
            return "string_too_long", message, {"max_length": high}
        if self.pattern is not None and self.pattern.search(value) is None:
            pattern = self.pattern.pattern
            message = f"String should match pattern '{pattern}'"
            return "string_pattern_mismatch", message, {"pattern": pattern}
        return None

    def _check_items(self, value: Any) -> Failure | None:
        low, high, count = self.min_length, self.max_length, len(value)
        kind = "Dictionary" if isinstance(value, dict) else "List"
        if low is not None and count < low:
            message = (
                f"{kind} should have at least {low} item{_plural(low)} after validation, "
                f"not {count}"
            )
            ctx = {"field_type": kind, "min_length": low, "actual_length": count}
            return "too_short", message, ctx
        if high is not None and count > high:
            message = (
                f"{kind} should have at most {high} item{_plural(high)} after validation, "
                f"not {count}"
            )
            ctx = {"field_type": kind, "max_length": high, "actual_length": count}
            return "too_long", message, ctx
        return None
