"""The pure helpers of microweb._http for files: ranges, conditionals, dates, dispositions."""

from __future__ import annotations

import datetime
import email.utils
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microweb._http.conditional import (
    etag_matches,
    evaluate_preconditions,
    if_range_allows,
    parse_entity_tags,
)
from microweb._http.dates import http_date, parse_http_date
from microweb._http.disposition import content_disposition
from microweb._http.ranges import (
    MAX_RANGES,
    MalformedRange,
    UnsatisfiableRange,
    content_range,
    multipart_closing,
    multipart_part_header,
    parse_range,
)

# --- Range (RFC 9110 §14) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("bytes=0-499", 10000, [(0, 500)]),
        ("bytes=500-999", 10000, [(500, 1000)]),
        ("bytes=-500", 10000, [(9500, 10000)]),
        ("bytes=9500-", 10000, [(9500, 10000)]),
        ("bytes=0-0,-1", 10000, [(0, 1), (9999, 10000)]),
        ("bytes=500-600,601-999", 10000, [(500, 1000)]),  # adjacent merge
        ("bytes=500-700,601-999", 10000, [(500, 1000)]),  # overlap merge
        ("bytes=9000-,0-10", 10000, [(0, 11), (9000, 10000)]),  # sorted
        ("bytes=0-99999", 100, [(0, 100)]),
        ("bytes=-99999", 100, [(0, 100)]),
        ("bytes= 1-2 , , 4-5 ", 100, [(1, 3), (4, 6)]),  # OWS, empty list elements
        ("Bytes=1-2", 100, [(1, 3)]),  # the unit is case-insensitive
        ("bytes=50-,200-300", 100, [(50, 100)]),
        ("items=0-1", 100, None),  # another unit: ignored
        ("bytes=-1", 0, None),  # a suffix of nothing: the whole (empty) body
    ],
)
def test_parse_range(header: str, size: int, expected: list[tuple[int, int]] | None) -> None:
    assert parse_range(header, size) == expected


@pytest.mark.parametrize(
    "header",
    [
        "bytes",
        "bytes=",
        "bytes=,",
        "bytes=a-b",
        "bytes=-",
        "bytes=1",
        "bytes=2-1",
        "bytes=1-2-3",
        "bytes=+1-2",
        "bytes=1 -2",
        "bytes=0x10-",
    ],
)
def test_parse_range_malformed(header: str) -> None:
    with pytest.raises(MalformedRange):
        parse_range(header, 100)


@pytest.mark.parametrize(
    ("header", "size"), [("bytes=100-", 100), ("bytes=-0", 100), ("bytes=0-", 0)]
)
def test_parse_range_unsatisfiable(header: str, size: int) -> None:
    with pytest.raises(UnsatisfiableRange):
        parse_range(header, size)


def test_too_many_ranges_are_ignored() -> None:
    header = "bytes=" + ",".join(f"{n}-{n}" for n in range(0, 2 * (MAX_RANGES + 1), 2))
    assert parse_range(header, 10000) is None
    header = "bytes=" + ",".join(f"{n}-{n}" for n in range(0, 2 * MAX_RANGES, 2))
    assert parse_range(header, 10000) is not None


_spec = st.one_of(
    st.tuples(st.integers(0, 300), st.none()),
    st.tuples(st.integers(0, 300), st.integers(0, 300)).map(lambda t: (min(t), max(t))),
    st.tuples(st.none(), st.integers(1, 300)),
)


@given(specs=st.lists(_spec, min_size=1, max_size=10), size=st.integers(0, 250))
def test_parse_range_covers_exactly_the_requested_bytes(
    specs: list[tuple[int | None, int | None]], size: int
) -> None:
    header = "bytes=" + ",".join(
        f"{'' if first is None else first}-{'' if last is None else last}" for first, last in specs
    )
    wanted: set[int] = set()
    for first, last in specs:
        if first is None:
            assert last is not None
            wanted.update(range(max(size - last, 0), size))
        else:
            wanted.update(range(first, size if last is None else min(last + 1, size)))
    try:
        ranges = parse_range(header, size)
    except UnsatisfiableRange:
        assert not wanted
        return
    if ranges is None:  # only a suffix of an empty body
        assert size == 0
        return
    covered = [offset for start, stop in ranges for offset in range(start, stop)]
    assert covered == sorted(wanted)  # each byte once, in order
    # Merged: no two ranges touch.
    assert all(a[1] < b[0] for a, b in itertools.pairwise(ranges))


def test_content_range_and_multipart_framing() -> None:
    assert content_range(0, 10, 100) == "bytes 0-9/100"
    head = multipart_part_header("B", "text/plain", 5, 7, 10)
    assert head == b"--B\r\ncontent-type: text/plain\r\ncontent-range: bytes 5-6/10\r\n\r\n"
    assert multipart_closing("B") == b"\r\n--B--\r\n"


# --- entity tags and conditionals (RFC 9110 §8.8.3, §13) ---------------------------------------


def test_parse_entity_tags() -> None:
    assert parse_entity_tags("*") is None
    assert parse_entity_tags(' "a", W/"b" ,,"c"') == [
        (False, '"a"'),
        (True, '"b"'),
        (False, '"c"'),
    ]
    assert parse_entity_tags('"a" "b"') == []  # garbled: matches nothing
    assert parse_entity_tags('"a", garbage, "b"') == [(False, '"a"')]
    assert parse_entity_tags("") == []


@pytest.mark.parametrize(
    ("header", "etag", "weak", "strong"),
    [
        ('"1"', '"1"', True, True),
        ('W/"1"', '"1"', True, False),
        ('"1"', 'W/"1"', True, False),
        ('W/"1"', 'W/"1"', True, False),
        ('"2"', '"1"', False, False),
        ('"2", "1"', '"1"', True, True),
        ("*", '"1"', True, True),
    ],
)
def test_etag_comparison(header: str, etag: str, weak: bool, strong: bool) -> None:
    # RFC 9110 §8.8.3.2, the table of weak and strong comparison.
    assert etag_matches(header, etag, strong=False) is weak
    assert etag_matches(header, etag, strong=True) is strong


MODIFIED = 1_000_000_000
BEFORE = email.utils.formatdate(MODIFIED - 10, usegmt=True)
AT = email.utils.formatdate(MODIFIED, usegmt=True)
AFTER = email.utils.formatdate(MODIFIED + 10, usegmt=True)


@pytest.mark.parametrize(
    ("method", "headers", "expected"),
    [
        ("GET", {}, None),
        ("GET", {"if_match": '"t"'}, None),
        ("GET", {"if_match": '"x"'}, 412),
        ("GET", {"if_match": 'W/"t"'}, 412),  # If-Match compares strongly
        ("GET", {"if_unmodified_since": AT}, None),
        ("GET", {"if_unmodified_since": BEFORE}, 412),
        ("GET", {"if_unmodified_since": "junk"}, None),
        ("GET", {"if_match": '"t"', "if_unmodified_since": BEFORE}, None),  # If-Match decides
        ("GET", {"if_none_match": '"t"'}, 304),
        ("HEAD", {"if_none_match": 'W/"t"'}, 304),
        ("POST", {"if_none_match": '"t"'}, 412),
        ("GET", {"if_none_match": '"x"'}, None),
        ("GET", {"if_none_match": "*"}, 304),
        ("GET", {"if_modified_since": AT}, 304),
        ("GET", {"if_modified_since": AFTER}, 304),
        ("GET", {"if_modified_since": BEFORE}, None),
        ("POST", {"if_modified_since": AT}, None),  # GET and HEAD only
        ("GET", {"if_none_match": '"x"', "if_modified_since": AT}, None),  # INM decides
        ("GET", {"if_match": '"x"', "if_none_match": '"t"'}, 412),  # step 1 comes first
    ],
)
def test_evaluate_preconditions(
    method: str, headers: dict[str, str], expected: int | None
) -> None:
    arguments = {
        "if_match": None,
        "if_unmodified_since": None,
        "if_none_match": None,
        "if_modified_since": None,
        **headers,
    }
    assert (
        evaluate_preconditions(method, etag='"t"', last_modified=MODIFIED, **arguments) == expected
    )


def test_preconditions_without_validators() -> None:
    assert evaluate_preconditions("GET", '"t"', None, None, None, None, None) == 412
    assert evaluate_preconditions("GET", None, AT, '"t"', AT, None, None) is None
    assert evaluate_preconditions("GET", None, None, "*", None, None, None) == 304


def test_if_range_allows() -> None:
    assert if_range_allows('"t"', '"t"', MODIFIED)
    assert not if_range_allows('"x"', '"t"', MODIFIED)
    assert not if_range_allows('W/"t"', 'W/"t"', MODIFIED)
    assert not if_range_allows('"t"', None, MODIFIED)
    assert if_range_allows(AT, '"t"', MODIFIED)
    assert not if_range_allows(AFTER, '"t"', MODIFIED)  # an exact match only
    assert not if_range_allows(AT, '"t"', None)
    assert not if_range_allows("junk", '"t"', MODIFIED)


# --- dates (RFC 9110 §5.6.7) ------------------------------------------------------------------


def test_http_dates() -> None:
    assert http_date(784111777) == "Sun, 06 Nov 1994 08:49:37 GMT"
    assert parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == 784111777
    assert parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT") == 784111777  # RFC 850
    assert parse_http_date("Sun Nov  6 08:49:37 1994") == 784111777  # asctime
    assert parse_http_date("yesterday") is None
    assert parse_http_date("") is None
    assert parse_http_date("Sun, 06 Nov 99999999999 08:49:37 GMT") is None


def test_http_date_of_a_datetime() -> None:
    naive = datetime.datetime(2024, 2, 29, 23, 59, 59)  # naive means UTC
    assert http_date(naive) == "Thu, 29 Feb 2024 23:59:59 GMT"
    east = datetime.datetime(2000, 1, 1, 3, tzinfo=datetime.timezone(datetime.timedelta(hours=5)))
    assert http_date(east) == "Fri, 31 Dec 1999 22:00:00 GMT"


# --- content-disposition (RFC 6266, RFC 8187) --------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("a.txt", 'attachment; filename="a.txt"'),
        ("my file (1).tar.gz", 'attachment; filename="my file (1).tar.gz"'),
        (
            "résumé.pdf",
            "attachment; filename=\"resume.pdf\"; filename*=utf-8''r%C3%A9sum%C3%A9.pdf",
        ),
        ("日本.txt", "attachment; filename=\"__.txt\"; filename*=utf-8''%E6%97%A5%E6%9C%AC.txt"),
        ('a"b.txt', "attachment; filename=\"a_b.txt\"; filename*=utf-8''a%22b.txt"),
        ("a\\b", "attachment; filename=\"a_b\"; filename*=utf-8''a%5Cb"),
        ("100%.txt", "attachment; filename=\"100_.txt\"; filename*=utf-8''100%25.txt"),
        ("a\r\nb", "attachment; filename=\"a__b\"; filename*=utf-8''a%0D%0Ab"),
        ("x!#$&+-.^_`|~y", 'attachment; filename="x!#$&+-.^_`|~y"'),
        (
            "é!#$&+^`|~'*",
            "attachment; filename=\"e!#$&+^`|~'*\"; filename*=utf-8''%C3%A9!#$&+^`|~%27%2A",
        ),
    ],
)
def test_content_disposition(filename: str, expected: str) -> None:
    assert content_disposition("attachment", filename) == expected


def test_content_disposition_type() -> None:
    assert content_disposition("inline", "a.png") == 'inline; filename="a.png"'
    with pytest.raises(ValueError, match="'attach ment'"):
        content_disposition("attach ment", "a.png")


def test_range_numbers_past_int_digit_limit_read_as_beyond_the_end() -> None:
    # int() refuses more than 4,300 digits; such a number is past any end.
    huge = "9" * 5000
    with pytest.raises(UnsatisfiableRange):
        parse_range(f"bytes={huge}-", 1000)
    assert parse_range(f"bytes=0-{huge}", 1000) == [(0, 1000)]
    assert parse_range(f"bytes=-{huge}", 1000) == [(0, 1000)]
    assert parse_range("bytes=" + "0" * 5000 + "5-9", 1000) == [(5, 10)]
    with pytest.raises(MalformedRange):
        parse_range(f"bytes={huge}-5", 1000)  # ends before it starts
