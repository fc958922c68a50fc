"""Hostile Range, If-Range and conditional headers on a FileResponse route.

GET /file serves ranges.txt, 1,000 bytes. RFC 9110 lets a server ignore a
Range it cannot use (200 with the whole file) or refuse it; what it may not
do is fail (5xx), send more than a bounded multiple of the file, or take
a validator it cannot parse for a match (a 304 for a garbage If-None-Match).
"""

from __future__ import annotations

import pytest

from .conftest import Servers
from .rawhttp import (
    DIGITS,
    OK,
    Answer,
    Case,
    check_case,
    header_value,
    params,
    request,
)

SIZE = 1000  # bytes in ranges.txt
TAGS = ", ".join(f'"{i}"' for i in range(3000))  # 3,000 entity tags, none of them the file's
WEAK_TAGS = ", ".join(f'W/"{i}"' for i in range(3000))
WHOLE = OK  # the header is ignored (or refused): never taken for a match
PART = WHOLE | {206}  # ... or honoured
FRESH = WHOLE | {304}  # a validator that may match: the file, or not modified


def ranged(value: str, *headers: str) -> bytes:
    return request("/file", f"range: {value}", *headers)


def bounded(answer: Answer) -> None:
    """Many ranges never make the answer much bigger than the file (coalesced, capped)."""
    assert len(answer.body) <= 16 * SIZE, f"{len(answer.body)} bytes for a {SIZE}-byte file"


def first_five(answer: Answer) -> None:
    assert header_value(answer, b"content-range") == b"bytes 0-4/1000", answer.summary()
    assert answer.body == b"01234"


def whole_or_part(answer: Answer) -> None:
    """A 200 is the whole file; a 206 names a range inside it."""
    if answer.status == 200:
        assert len(answer.body) == SIZE
    elif answer.status == 206:
        assert (header_value(answer, b"content-range") or b"").endswith(b"/1000")


def huge(case_id: str, data: bytes, expect: frozenset[int]) -> Case:
    """A Range number too long for ``int()`` (past 4,300 digits): read as it means."""
    return Case(case_id, data, expect, check=whole_or_part)


CASES = [
    # --- malformed
    Case("range-empty", ranged(""), WHOLE),
    Case("range-bytes-equals-nothing", ranged("bytes="), WHOLE),
    Case("range-no-unit", ranged("0-5"), WHOLE),
    Case("range-letters", ranged("bytes=a-b"), WHOLE),
    Case("range-negative-start", ranged("bytes=-5-6"), WHOLE),
    Case("range-inner-spaces", ranged("bytes = 0 - 4"), WHOLE),
    Case("range-unicode-digits", ranged("bytes=\u0661-\u0662"), WHOLE),
    Case("range-two-headers", ranged("bytes=0-4", "range: bytes=5-9"), PART),
    Case("range-empty-elements", ranged("bytes=,,,0-4,,,"), frozenset({206}), check=first_five),
    Case("range-reversed", ranged("bytes=9-5"), WHOLE),
    Case("range-non-bytes-unit", ranged("items=0-5"), WHOLE, check=whole_or_part),
    # --- many
    Case(
        "range-99-disjoint",
        ranged("bytes=" + ",".join(f"{i}-{i}" for i in range(0, 198, 2))),
        PART,
        check=bounded,
    ),
    Case(
        "range-101-disjoint",
        ranged("bytes=" + ",".join(f"{i}-{i}" for i in range(0, 202, 2))),
        PART,
        check=bounded,
    ),
    Case(
        "range-100-overlapping", ranged("bytes=" + ",".join(["0-999"] * 100)), PART, check=bounded
    ),
    Case("range-5000-elements", ranged("bytes=" + "0-0," * 5000), PART, check=bounded),
    # --- out of bounds and huge numbers
    Case("range-past-the-end", ranged("bytes=5000-6000"), WHOLE),
    Case("range-suffix-zero", ranged("bytes=-0"), WHOLE),
    Case("range-suffix-longer-than-file", ranged("bytes=-99999"), PART, check=whole_or_part),
    Case("range-end-30-digits", ranged("bytes=0-" + "9" * 30), PART, check=whole_or_part),
    Case("range-start-4300-digits", ranged("bytes=" + "1" * 4300 + "-"), WHOLE),
    huge("range-start-4301-digits", ranged("bytes=" + "1" * 4301 + "-"), WHOLE),
    huge("range-start-5000-digits", ranged(f"bytes={DIGITS}-"), WHOLE),
    huge("range-end-5000-digits", ranged(f"bytes=0-{DIGITS}"), PART),
    huge("range-suffix-5000-digits", ranged(f"bytes=-{DIGITS}"), PART),
    huge("range-start-5000-zeros", ranged("bytes=" + "0" * 5000 + "-4"), PART),
    # --- If-Range
    Case("if-range-other-etag", ranged("bytes=0-4", 'if-range: "nope"'), PART),
    Case(
        "if-range-future-date",
        ranged("bytes=0-4", "if-range: Thu, 01 Jan 2099 00:00:00 GMT"),
        PART,
    ),
    Case("if-range-garbage", ranged("bytes=0-4", "if-range: garbage"), PART),
    Case("if-range-10k", ranged("bytes=0-4", "if-range: " + "x" * 10_000), PART),
    Case("head-with-range", request("/file", "range: bytes=0-4", method="HEAD"), PART),
    # --- If-None-Match / If-Match
    Case("if-none-match-garbage", request("/file", "if-none-match: garbage"), WHOLE),
    Case("if-none-match-star", request("/file", "if-none-match: *"), FRESH),
    Case("if-none-match-unterminated", request("/file", 'if-none-match: "abc'), WHOLE),
    Case("if-none-match-3000-tags", request("/file", f"if-none-match: {TAGS}"), WHOLE),
    Case("if-match-garbage", request("/file", "if-match: garbage"), WHOLE),
    Case("if-match-other", request("/file", 'if-match: "nope"'), WHOLE),
    Case("if-match-3000-weak-tags", request("/file", f"if-match: {WEAK_TAGS}"), WHOLE),
    # --- If-Modified-Since / If-Unmodified-Since
    Case("if-modified-since-garbage", request("/file", "if-modified-since: garbage"), WHOLE),
    Case(
        "if-modified-since-year-9999",
        request("/file", "if-modified-since: Fri, 31 Dec 9999 23:59:59 GMT"),
        FRESH,
    ),
    Case(
        "if-modified-since-year-1",
        request("/file", "if-modified-since: Mon, 01 Jan 0001 00:00:00 GMT"),
        FRESH,
    ),
    Case(
        "if-modified-since-impossible-date",
        request("/file", "if-modified-since: Mon, 32 Feb 2020 25:61:61 GMT"),
        WHOLE,
    ),
    Case("if-modified-since-5000-digits", request("/file", f"if-modified-since: {DIGITS}"), WHOLE),
    Case("if-unmodified-since-garbage", request("/file", "if-unmodified-since: garbage"), WHOLE),
    Case(
        "if-unmodified-since-epoch",
        request("/file", "if-unmodified-since: Thu, 01 Jan 1970 00:00:00 GMT"),
        WHOLE,
    ),
    Case(
        "if-unmodified-since-bad-zone",
        request("/file", "if-unmodified-since: Thu, 01 Jan 1970 00:00:00 +9999"),
        WHOLE,
    ),
]


@pytest.mark.parametrize(("implementation", "case"), params(CASES))
def test_ranges_and_conditions(servers: Servers, implementation: str, case: Case) -> None:
    check_case(servers.port(implementation), case)
