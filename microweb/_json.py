"""JSON encoding rules, in one place.

``dumps`` promises the bytes of
``json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"))``
encoded as UTF-8, at orjson's speed. orjson agrees with the stdlib on plain
JSON values except in four corners, each caught here and handed to the stdlib
encoder, which then decides (output or exception) exactly as it always would:

1. NaN and ±Infinity: orjson writes ``null``; the stdlib (``allow_nan=False``)
   refuses with ValueError. Only output holding ``null`` can hide one, and
   only then is the input checked for a non-finite float (msgspec packs it
   as msgpack, where a NaN stays a float, and a regex looks for one).
2. Floats below 1e-4: the stdlib (``repr``) writes ``1e-07`` and
   ``5e-05``, orjson ``1e-7`` and ``0.00005``. Only output holding a
   one-digit negative exponent or ``0.0000`` can differ.
3. Integers beyond 64 bits and non-str dict keys: orjson raises TypeError.
4. Types orjson does not know: both encoders call ``default`` below, and an
   unknown type is a TypeError naming it.

One nesting limit, ``MAX_DEPTH``, holds for both directions: ``loads``
refuses a document nested deeper (a request's JSON answers 400), and
``dumps`` refuses such a value with ValueError rather than overflow the
stack, so whatever microweb read it can write back.

The extended types (dataclasses, ``msgspec.Struct``, attrs instances, datetime/date/time,
UUID, Decimal, Enum, set/frozenset, paths, pydantic models and other objects with
``model_dump()``) encode the same way on
both paths: orjson's native forms for the ones it knows equal what
``default`` gives the stdlib.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import json
import re
import uuid
from collections.abc import Callable
from pathlib import PurePath
from typing import Any

import msgspec
import orjson

from microweb._models import is_attrs_class, is_pydantic_model
from microweb._plain_struct import float_check

__all__ = ["MAX_DEPTH", "TooDeep", "default", "dumps", "dumps_orjson", "loads", "struct_dumps"]

#: The deepest nesting of arrays and objects microweb reads or writes. orjson
#: reads 1,024 levels and writes 254; the stdlib encoder (our fallback) runs out
#: of stack near 1,000. 512 leaves room for the server's own frames.
MAX_DEPTH = 512

_SHORT_NEGATIVE_EXPONENT = re.compile(rb"[0-9]e-[0-9](?![0-9])")
_POSITIONAL_TINY_FLOAT = b"0.0000"  # repr never writes this; it switches to 1e-05

# Types ``default`` formats itself, passed through by ``msgspec.to_builtins`` (bytes
# too: msgspec would write base64, which JSONResponse has never done).
_OUR_FORMATS = (
    datetime.datetime,
    datetime.date,
    datetime.time,
    uuid.UUID,
    decimal.Decimal,
    bytes,
    bytearray,
    memoryview,
)

_stdlib_encoder = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=lambda o: default(o)
)


def default(obj: Any) -> Any:
    """Turn one value of an extended type into plain JSON values, or raise TypeError."""
    if isinstance(obj, (datetime.date, datetime.time)):  # datetime is a date
        return obj.isoformat()
    if isinstance(obj, (uuid.UUID, PurePath)):
        return str(obj)
    if isinstance(obj, decimal.Decimal):
        # A string keeps every digit; a float would round (pydantic's choice too).
        return str(obj)
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, (set, frozenset)):
        return list(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if isinstance(obj, msgspec.Struct) or is_attrs_class(type(obj)):
        # msgspec's own rules for its fields (renames, omitted defaults, array_like);
        # the values it would format differently (a UTC datetime as "Z") come back
        # through this function, so a Struct's datetime reads as a dict's would,
        # and so do the values it does not know (a pydantic model in a field).
        return msgspec.to_builtins(obj, builtin_types=_OUR_FORMATS, enc_hook=default)
    model_dump = getattr(obj, "model_dump", None)
    if callable(model_dump):
        if is_pydantic_model(type(obj)):
            # FastAPI's form: JSON mode (a URL, a datetime as pydantic writes them), by alias.
            return model_dump(mode="json", by_alias=True)
        return model_dump()
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


class TooDeep(ValueError):
    """A JSON value nested deeper than ``MAX_DEPTH``."""

    def __init__(self) -> None:
        super().__init__(f"JSON nested deeper than {MAX_DEPTH} levels")


def _deeper_than(obj: Any, limit: int) -> bool:
    """Whether lists, tuples and dicts nest in ``obj`` more than ``limit`` levels."""
    stack: list[tuple[Any, int]] = [(obj, 1)]
    while stack:
        value, depth = stack.pop()
        kind = type(value)
        if kind is dict:
            children: Any = value.values()
        elif kind is list or kind is tuple:
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def loads(data: bytes) -> Any:
    """Parse JSON with orjson; ``orjson.JSONDecodeError``, or ``TooDeep`` past ``MAX_DEPTH``."""
    value = orjson.loads(data)
    # perf: each level takes two bytes, so a short document cannot nest too deep
    # (one comparison); nor can one with no more brackets than the limit (two
    # byte counts); only a long, bracket-heavy one is walked.
    if (
        len(data) > 2 * MAX_DEPTH
        and data.count(b"[") + data.count(b"{") > MAX_DEPTH
        and _deeper_than(value, MAX_DEPTH)
    ):
        raise TooDeep
    return value


def _stdlib_dumps(obj: Any) -> bytes:
    # orjson handed over (it stops at 254 levels, among other things): the stdlib's
    # C encoder would overflow the stack past about 1,000, so the limit is checked.
    if _deeper_than(obj, MAX_DEPTH):
        raise TooDeep
    return _stdlib_encoder.encode(obj).encode("utf-8")


# A msgpack float64 (0xcb, then big-endian) whose exponent bits are all ones:
# NaN or ±Infinity, whatever the sign and payload.
_NONFINITE_FLOAT64 = re.compile(rb"\xcb[\x7f\xff][\xf0-\xff]")
# perf: one encoder, made once (300 instructions a call less than msgspec.msgpack.encode).
_packer = msgspec.msgpack.Encoder(enc_hook=default)


def _null_may_hide_nonfinite(obj: Any) -> bool:
    """True if ``obj`` holds a NaN/Infinity (or this check cannot tell).

    msgspec writes ``obj`` as msgpack, where a float stays a float (orjson
    made NaN a ``null``), looking into the same values orjson did: its own
    types (Structs, dataclasses, attrs) field by field, the others through
    ``default``. Bytes that merely look like a non-finite float (inside a
    string) only send ``obj`` down the stdlib path, which decides exactly.
    """
    # perf: one C pass and one regex instead of a recursive walk in Python
    # (callgrind: POST /echo 79,533 -> 75,413, POST /items 136,911 -> 120,167).
    try:
        packed = _packer.encode(obj)
    except Exception:  # a value msgpack cannot hold (orjson could): the stdlib decides
        return True
    return _NONFINITE_FLOAT64.search(packed) is not None


# The longest output ``dumps`` screens as text: the copy's gain shrinks as the
# output grows (about even with the byte scans at 1,000 bytes), and a large body
# would be held twice.
_SCREENED_AS_TEXT = 256

# orjson reads a dataclass's __dict__, where msgspec (decoding a typed body) leaves
# out the fields still at their class-level default: ``default`` reads each field.
_DATACLASSES_BY_DEFAULT = orjson.OPT_PASSTHROUGH_DATACLASS


def dumps(obj: Any) -> bytes:
    """Compact JSON, byte-identical to the stdlib's, refusing NaN and Infinity."""
    try:
        out = orjson.dumps(obj, default=default, option=_DATACLASSES_BY_DEFAULT)
    except TypeError:  # orjson.JSONEncodeError: corner 3 or 4 above
        return _stdlib_dumps(obj)
    if len(out) <= _SCREENED_AS_TEXT:
        # perf: a small output is scanned as text: one decode, then `in` (callgrind,
        # /json's 28 bytes: dumps 5,600 -> 3,800 instructions), where bytes.find
        # parses its arguments with a format string. Latin-1 maps each byte to one
        # character, so an ASCII substring is in ``text`` exactly when its bytes
        # are in ``out``, whatever the UTF-8 around it.
        text = out.decode("latin-1")
        null = "null" in text
        tiny = "0.0000" in text or ("e-" in text and _SHORT_NEGATIVE_EXPONENT.search(out))
    else:
        # perf: three substring scans (about a microsecond on 10 KB) keep the
        # common case on orjson's output. bytes.find, not `in`: `in` first tries
        # the int path and is 2x slower.
        null = out.find(b"null") >= 0
        tiny = out.find(_POSITIONAL_TINY_FLOAT) >= 0 or (
            out.find(b"e-") >= 0 and _SHORT_NEGATIVE_EXPONENT.search(out)
        )
    # The msgpack pass and its regex run only when the output holds a null.
    if tiny or (null and _null_may_hide_nonfinite(obj)):
        return _stdlib_dumps(obj)
    return out


_ORJSON_OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_PASSTHROUGH_DATACLASS
)


def dumps_orjson(obj: Any) -> bytes:
    """orjson's own output (``OPT_NON_STR_KEYS | OPT_SERIALIZE_NUMPY``), for ORJSONResponse."""
    return orjson.dumps(obj, default=default, option=_ORJSON_OPTIONS)


# --- a route that returns a Struct of plain JSON fields --------------------------


def struct_dumps(annotation: Any) -> Callable[[Any], bytes] | None:
    """``dumps`` for a handler returning ``annotation``, when msgspec can encode it itself.

    Only for a ``msgspec.Struct`` whose fields, all the way down, are
    annotated as plain JSON (str, int, float, bool, None, lists, tuples and
    str-keyed dicts of them, and such Structs): there ``msgspec.json.encode``
    writes what ``dumps`` writes, but for floats with an exponent and NaN.
    A check compiled for the type (``_plain_struct``) vouches for each value
    first, its types and its floats; a value it cannot vouch for (a float out
    of range, a field holding another type, a value of another class than
    ``annotation``) goes to ``dumps``.
    """
    check = float_check(annotation)
    if check is None:
        return None
    encode = msgspec.json.encode

    def struct_dumps(obj: Any) -> bytes:
        # perf: the value is checked, not the output scanned (callgrind, POST /items:
        # see docs/benchmarks-history.md, 2026-11-29 "a float check compiled per type").
        try:
            if type(obj) is annotation and check(obj):
                return encode(obj)
        except Exception:  # nested past the stack, an int msgspec cannot hold: dumps decides
            pass
        return dumps(obj)

    return struct_dumps
