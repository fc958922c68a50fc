"""A fuzz target for each parser microweb owns, fed its committed corpus, then mutations.

Each target states the parser's contract: for any input it answers, or raises
the one error it documents (which microweb turns into a 4xx), never anything
else. ``tests/fuzz_corpus/<target>/`` holds the seed inputs, raw bytes, one
file each: the usual shapes and every hostile one found so far (numbers past
``int()``'s digit limit, non-Latin-1 cookies, truncated bodies). Each seed is
replayed, then hypothesis mutates the seeds (slices, splices, byte flips) and
adds random bytes, a bounded number of examples per target, so the file runs
in seconds. A new crash found anywhere becomes a new seed file here.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microweb._http.conditional import evaluate_preconditions, if_range_allows, parse_entity_tags
from microweb._http.cookies import parse_cookie_header
from microweb._http.dates import parse_http_date
from microweb._http.disposition import content_disposition
from microweb._http.ranges import MalformedRange, UnsatisfiableRange, parse_range
from microweb._http.urls import parse_query_string
from microweb._multipart import FormLimits, parse_multipart
from microweb.exceptions import HTTPException

CORPUS = Path(__file__).parent / "fuzz_corpus"


def _text(data: bytes) -> str:
    return data.decode("latin-1")  # how header values and query strings reach the parsers


def check_range(data: bytes) -> None:
    for size in (0, 1, 1000):
        try:
            ranges = parse_range(_text(data), size)
        except (MalformedRange, UnsatisfiableRange):
            continue
        if ranges is None:
            continue
        assert ranges == sorted(ranges)
        for start, stop in ranges:
            assert 0 <= start < stop <= size
        for (_, stop), (start, _) in itertools.pairwise(ranges):
            assert stop < start  # merged: no overlap, no adjacency


def check_conditional(data: bytes) -> None:
    text = _text(data)
    date = parse_http_date(text)
    assert date is None or isinstance(date, int)
    tags = parse_entity_tags(text)
    assert tags is None or all(tag.startswith('"') and tag.endswith('"') for _, tag in tags)
    assert isinstance(if_range_allows(text, '"a"', 0), bool)
    for method in ("GET", "PUT"):
        status = evaluate_preconditions(method, text, text, text, text, '"a"', 784111777)
        assert status in (None, 304, 412)


def check_cookie(data: bytes) -> None:
    cookies = parse_cookie_header(_text(data))
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in cookies.items())


def check_query(data: bytes) -> None:
    try:
        pairs = parse_query_string(_text(data))
    except UnicodeDecodeError:  # an escape that is not UTF-8: the request's 400
        return
    assert all(isinstance(name, str) and isinstance(value, str) for name, value in pairs)


def check_disposition(data: bytes) -> None:
    filename = data.decode("utf-8", "replace")
    value = content_disposition("attachment", filename)
    assert not any(c in value for c in "\r\n\0")
    value.encode("latin-1")  # a header value: never fails to send


def check_multipart(data: bytes) -> None:
    limits = FormLimits(max_files=20, max_fields=20, max_part_size=4096)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 7):  # odd chunks: parts split anywhere
            yield data[start : start + 7]

    async def parse() -> int:
        try:
            form = await parse_multipart(chunks(), b"BOUNDARY", limits)
        except HTTPException as exc:
            return exc.status_code
        await form.close()
        return 200

    assert anyio.run(parse) in (200, 400, 413)


TARGETS: dict[str, Callable[[bytes], None]] = {
    "range": check_range,
    "conditional": check_conditional,
    "cookie": check_cookie,
    "query": check_query,
    "disposition": check_disposition,
    "multipart": check_multipart,
}


def _seeds(target: str) -> list[bytes]:
    return [path.read_bytes() for path in sorted((CORPUS / target).iterdir())]


def test_every_target_has_a_corpus() -> None:
    assert sorted(p.name for p in CORPUS.iterdir()) == sorted(TARGETS)
    assert all(len(_seeds(target)) >= 5 for target in TARGETS)


@pytest.mark.parametrize(
    ("target", "seed"),
    [(t, p) for t in TARGETS for p in sorted((CORPUS / t).iterdir())],
    ids=lambda value: value.name if isinstance(value, Path) else value,
)
def test_corpus_seed(target: str, seed: Path) -> None:
    TARGETS[target](seed.read_bytes())


def _mutations(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    seed = st.sampled_from(seeds)

    def splice(a: bytes, b: bytes, i: int, j: int) -> bytes:
        return a[: i % (len(a) + 1)] + b[j % (len(b) + 1) :]

    def flip(a: bytes, i: int, value: int) -> bytes:
        if not a:
            return bytes([value])
        i %= len(a)
        return a[:i] + bytes([value]) + a[i + 1 :]

    return st.one_of(
        seed,
        st.builds(splice, seed, seed, st.integers(0, 10_000), st.integers(0, 10_000)),
        st.builds(flip, seed, st.integers(0, 10_000), st.integers(0, 255)),
        st.binary(max_size=300),
    )


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_mutated_corpus(target: str) -> None:
    @settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_mutations(_seeds(target)))
    def run(data: bytes) -> None:
        TARGETS[target](data)

    run()
