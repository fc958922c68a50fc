"""Byte ranges (RFC 9110 §14): the ``Range`` a client asks, the parts a 206 sends.

One range is answered with ``content-range``; several with a
``multipart/byteranges`` body (§14.6), framed here.
"""

from __future__ import annotations

import re

__all__ = [
    "MAX_RANGES",
    "MalformedRange",
    "UnsatisfiableRange",
    "content_range",
    "multipart_closing",
    "multipart_part_header",
    "parse_range",
]

# perf: a client asking for more parts than this gets the whole representation
# (RFC 9110 §14.2 lets a server ignore a Range of "many small ranges").
MAX_RANGES = 100
_RANGE_SPEC = re.compile(r"([0-9]*)-([0-9]*)")


class MalformedRange(ValueError):
    """The Range header is not a valid ``bytes`` ranges-specifier (answer 400)."""


class UnsatisfiableRange(ValueError):
    """No range in the header overlaps the representation (answer 416)."""


def parse_range(header: str, size: int) -> list[tuple[int, int]] | None:
    """The byte ranges a ``Range`` header asks of ``size`` bytes, as ``(start, stop)``.

    ``stop`` is exclusive. The result is sorted, with overlapping and adjacent
    ranges merged (RFC 9110 §15.3.7.2 allows coalescing), so each byte is sent
    once. Returns None when the header is to be ignored: a unit other than
    ``bytes`` (§14.2: MUST ignore), more than ``MAX_RANGES`` ranges, or a
    suffix range of an empty representation (satisfiable, yet no
    ``content-range`` can describe zero bytes: the whole, empty, body is sent).

    Raises ``MalformedRange`` for a syntax error or a range whose last position
    comes before its first (§14.1.1: invalid), and ``UnsatisfiableRange`` when
    no range is satisfiable: every first position at or past ``size``, or a
    suffix of length zero (§14.1.1).
    """
    unit, equals, range_set = header.partition("=")
    if not equals:
        raise MalformedRange(f"Range {header!r} has no '='")
    if unit.strip().lower() != "bytes":
        return None
    specs = [spec.strip() for spec in range_set.split(",")]
    specs = [spec for spec in specs if spec]  # 1#range-spec allows empty elements
    if not specs:
        raise MalformedRange(f"Range {header!r} names no range")
    if len(specs) > MAX_RANGES:
        return None
    ranges: list[tuple[int, int]] = []
    suffix_on_empty = False
    for spec in specs:
        found = _RANGE_SPEC.fullmatch(spec)
        if found is None or not (found.group(1) or found.group(2)):
            raise MalformedRange(f"invalid range {spec!r} in {header!r}")
        first, last = found.group(1), found.group(2)
        if first:
            start = _position(first)
            if last and _position(last) < start:
                raise MalformedRange(f"range {spec!r} ends before it starts")
            if start < size:  # §14.1.1: satisfiable if first-pos < length
                stop = min(_position(last) + 1, size) if last else size
                ranges.append((start, stop))
        else:
            length = _position(last)
            if length > 0:  # §14.1.3: a longer suffix than the whole means the whole
                if size == 0:
                    suffix_on_empty = True
                else:
                    ranges.append((max(size - length, 0), size))
    if not ranges:
        if suffix_on_empty:
            return None
        raise UnsatisfiableRange(f"no range of {header!r} is within {size} bytes")
    ranges.sort()
    merged = [ranges[0]]
    for start, stop in ranges[1:]:
        last_start, last_stop = merged[-1]
        if start <= last_stop:
            merged[-1] = (last_start, max(last_stop, stop))
        else:
            merged.append((start, stop))
    return merged


# No representation has 2**64 bytes: a position past it is simply "beyond the end".
_BEYOND = 1 << 64
_MAX_DIGITS = len(str(_BEYOND))


def _position(digits: str) -> int:
    """A byte position or length (1*DIGIT), read without ``int()`` on a huge number.

    ``int()`` refuses more than 4,300 digits (a ValueError, which would be a
    500); a number that long is past the end of any representation anyway, so
    it reads as ``_BEYOND``. Leading zeros are dropped first: ``0005`` is 5.
    """
    digits = digits.lstrip("0") or "0"
    return _BEYOND if len(digits) > _MAX_DIGITS else int(digits)


def content_range(start: int, stop: int, size: int) -> str:
    """``bytes first-last/complete-length`` (RFC 9110 §14.4); ``stop`` is exclusive."""
    return f"bytes {start}-{stop - 1}/{size}"


def multipart_part_header(
    boundary: str, content_type: str, start: int, stop: int, size: int
) -> bytes:
    """The delimiter and headers that open one part of ``multipart/byteranges``.

    RFC 9110 §14.6 and RFC 2046 §5.1.1: every part is ``--boundary``, its own
    ``content-type`` and ``content-range``, a blank line, then the bytes. The
    CRLF that ends a part's bytes belongs to the next delimiter, so parts
    after the first begin with it.
    """
    return (
        f"--{boundary}\r\ncontent-type: {content_type}\r\n"
        f"content-range: {content_range(start, stop, size)}\r\n\r\n"
    ).encode("latin-1")


def multipart_closing(boundary: str) -> bytes:
    """The close delimiter that ends a ``multipart/byteranges`` body."""
    return f"\r\n--{boundary}--\r\n".encode("latin-1")
