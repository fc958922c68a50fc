"""Path parameter convertors: how ``{name:kind}`` in a route path is matched and converted.

SPEC.md, "App and routing": a path parameter is ``{name}`` (a ``str``) or
``{name:kind}`` with kind one of ``str``, ``int``, ``float``, ``uuid``, ``path``.
Each kind is one stateless instance in ``CONVERTORS``:

- ``value_type`` is the type of the values it gives handlers (``str`` for
  ``path``); a handler's annotation for the parameter must accept it.
- ``regex`` matches one value in a request path. It has no anchors and no
  capturing groups, so the matcher can wrap it in a group of its own; the
  matcher compiles it with ``re.DOTALL`` (a ``path`` value may hold any
  character, newlines included).
- ``convert`` turns a string the regex matched into the handler's value. It may
  still refuse with ``ValueError`` (an int longer than Python's digit limit, a
  float too large to be finite); the matcher then treats that route as not
  matching rather than failing the request.
- ``to_string`` writes a value back for ``url_path_for``. It refuses, with
  ``ValueError``, any value whose text the regex would not match back, so a
  built path always routes to the route it was built from.
"""

from __future__ import annotations

import math
import re
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Generic, TypeVar

__all__ = [
    "CONVERTORS",
    "Convertor",
    "FloatConvertor",
    "IntegerConvertor",
    "PathConvertor",
    "StringConvertor",
    "UUIDConvertor",
]

T = TypeVar("T")


class Convertor(Generic[T]):
    """One kind of path parameter: its ``name``, the ``regex`` for one value, and both ways
    between the path text and the Python value."""

    name: str
    regex: str
    value_type: type

    def convert(self, value: str) -> T:
        """The Python value of ``value``, a string ``regex`` matched."""
        raise NotImplementedError

    def to_string(self, value: T) -> str:
        """The path text for ``value``; ``ValueError`` if ``regex`` would not match it back."""
        raise NotImplementedError

    def segment_matcher(self) -> Callable[[str], object]:
        """A check for one whole path segment (no "/" in it): None when it does not match.

        The regex's ``fullmatch`` by default; a convertor may give a cheaper
        check that accepts exactly the same segments.
        """
        return re.compile(self.regex, re.DOTALL).fullmatch

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _non_empty(segment: str) -> str | None:
    return segment or None


def _ascii_digits(segment: str) -> str | None:
    return segment if segment.isascii() and segment.isdigit() else None


class StringConvertor(Convertor[str]):
    """``{name}`` or ``{name:str}``: one non-empty path segment."""

    name = "str"
    regex = "[^/]+"
    value_type = str

    def convert(self, value: str) -> str:
        return value

    def segment_matcher(self) -> Callable[[str], object]:
        # perf: a segment holds no "/", so [^/]+ is "non-empty" (70 ns less than the regex).
        return _non_empty

    def to_string(self, value: str) -> str:
        # Any value is written with str(), so url_path_for("user", id=7) works for "{id}".
        text = str(value)
        if not text or "/" in text:
            raise ValueError(f"a str path parameter must be non-empty without '/', got {value!r}")
        return text


class IntegerConvertor(Convertor[int]):
    """``{name:int}``: ASCII digits, so never negative, as an ``int``."""

    name = "int"
    regex = "[0-9]+"
    value_type = int

    def convert(self, value: str) -> int:
        # int() raises ValueError past sys.get_int_max_str_digits(): the route does not match.
        return int(value)

    def segment_matcher(self) -> Callable[[str], object]:
        # perf: [0-9]+ is "ASCII and all digits" (50 ns less than the regex).
        return _ascii_digits

    def to_string(self, value: int) -> str:
        if isinstance(value, str):  # already path text, e.g. from another request
            text = value
        elif isinstance(value, int) and not isinstance(value, bool):
            text = str(value)
        else:
            raise TypeError(f"an int path parameter takes an int, got {value!r}")
        if _PATH_INT.fullmatch(text) is None:
            raise ValueError(
                f"an int path parameter must be a non-negative integer, got {value!r}"
            )
        return text


class FloatConvertor(Convertor[float]):
    """``{name:float}``: digits with an optional fraction (``5``, ``2.50``), as a ``float``.

    No sign, no exponent, no ``nan``/``inf``: a path holds a plain non-negative decimal.
    """

    name = "float"
    regex = r"[0-9]+(?:\.[0-9]+)?"
    value_type = float

    def convert(self, value: str) -> float:
        number = float(value)
        if math.isinf(number):
            raise ValueError(f"float path parameter {value!r} is too large")
        return number

    def to_string(self, value: float) -> str:
        if isinstance(value, str):  # already path text
            text = value
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                number = float(value)
            except OverflowError:  # an int too large for a float
                raise ValueError(f"a float path parameter must be finite, got {value!r}") from None
            if not math.isfinite(number) or number < 0:
                raise ValueError(
                    f"a float path parameter must be finite and non-negative, got {value!r}"
                )
            # abs() turns -0.0 (not < 0) into 0.0, which has no sign to write.
            text = _plain_decimal(abs(number))
        else:
            raise TypeError(f"a float path parameter takes a float, got {value!r}")
        if _PATH_FLOAT.fullmatch(text) is None:
            raise ValueError(
                f"a float path parameter must be a non-negative decimal, got {value!r}"
            )
        return text


class UUIDConvertor(Convertor[uuid.UUID]):
    """``{name:uuid}``: the hyphenated 8-4-4-4-12 hex form, either case, as a ``uuid.UUID``."""

    name = "uuid"
    regex = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    value_type = uuid.UUID

    def convert(self, value: str) -> uuid.UUID:
        return uuid.UUID(value)

    def to_string(self, value: uuid.UUID) -> str:
        if isinstance(value, uuid.UUID):
            return str(value)
        if isinstance(value, str):  # already path text
            if _PATH_UUID.fullmatch(value) is None:
                raise ValueError(f"a uuid path parameter must be 8-4-4-4-12 hex, got {value!r}")
            return value
        raise TypeError(f"a uuid path parameter takes a uuid.UUID, got {value!r}")


class PathConvertor(Convertor[str]):
    """``{name:path}``: the rest of the path, slashes included; may be empty."""

    name = "path"
    regex = ".*"
    value_type = str

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return str(value)


def _plain_decimal(number: float) -> str:
    """The shortest text that reads back as ``number``, without an exponent."""
    text = repr(number)
    if "e" in text:  # repr(1e16) is '1e+16'; the path regex has no exponent
        text = format(Decimal(text), "f")
    return text


# The path grammar of each kind, compiled once for ``to_string``: unsigned
# digits (a path holds no sign; query strings do, see _params).
_PATH_INT = re.compile(IntegerConvertor.regex)
_PATH_FLOAT = re.compile(FloatConvertor.regex)
_PATH_UUID = re.compile(UUIDConvertor.regex)

CONVERTORS: dict[str, Convertor[Any]] = {
    convertor.name: convertor
    for convertor in (
        StringConvertor(),
        IntegerConvertor(),
        FloatConvertor(),
        UUIDConvertor(),
        PathConvertor(),
    )
}
