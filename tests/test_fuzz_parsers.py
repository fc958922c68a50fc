"""Fuzz the parsers the other property tests leave alone: headers, Range, filenames, SSE.

tests/test_properties.py covers cookies, ``url_path_for`` and arbitrary
paths, queries and bodies; tests/test_http_ranges.py checks which bytes a
*well-formed* Range covers; tests/test_sse.py that clean events round-trip.
Here the input is hostile: any text, any bytes. The properties are that a
parser either answers or raises its own documented error (never anything
else, never a 500), and that what microweb writes cannot be read back as
more than it meant (no injected header, SSE field or filename).

Example counts are bounded so the file runs in a few seconds.
"""

from __future__ import annotations

import itertools
import re
import string
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microweb import App, Request
from microweb._http.conditional import (
    evaluate_preconditions,
    if_range_allows,
    parse_entity_tags,
)
from microweb._http.dates import parse_http_date
from microweb._http.disposition import content_disposition
from microweb._http.ranges import MalformedRange, UnsatisfiableRange, parse_range
from microweb.datastructures import Headers, MutableHeaders
from microweb.responses import FileResponse, ServerSentEvent
from microweb.testclient import TestClient

# The client fixture is module-scoped and stateless: sharing it across examples is fine.
FIXTURE_OK = [HealthCheck.function_scoped_fixture]
FAST = settings(max_examples=200, deadline=None)
LATIN1_TEXT = st.text(st.characters(max_codepoint=0xFF), max_size=30)
ANY_TEXT = st.text(max_size=30)
ASCII_BYTES = st.binary(max_size=10).map(lambda b: bytes(c & 0x7F for c in b))
HEADER_NAMES = st.sampled_from(["x-a", "X-A", "x-b", "content-type", "Set-Cookie", "vary"])

# --- Headers and MutableHeaders ----------------------------------------------------------


@FAST
@given(st.lists(st.tuples(ASCII_BYTES, st.binary(max_size=20)), max_size=8))
def test_headers_view_any_raw_pairs(raw: list[tuple[bytes, bytes]]) -> None:
    """A read-only view over whatever the server sent never raises and loses nothing.

    Names are ASCII: uvicorn's parsers refuse any other header name (RFC 9110
    §5.1 token), and lookups lower-case the way ``bytes.lower()`` does only there.
    """
    lowered = [(k.lower(), v) for k, v in raw]
    headers = Headers(raw=lowered)
    assert len(headers.multi_items()) == len(raw)
    for key, value in lowered:
        name = key.decode("latin-1")
        assert name in headers
        assert name.upper() in headers
        assert value.decode("latin-1") in headers.getlist(name)
        assert headers[name] == headers.getlist(name)[0]
    assert set(headers) == {k.decode("latin-1") for k, _ in lowered}


@FAST
@given(ANY_TEXT, ANY_TEXT)
def test_setting_any_header_either_round_trips_or_is_refused(name: str, value: str) -> None:
    headers = MutableHeaders()
    try:
        headers[name] = value
    except ValueError:
        assert (
            re.fullmatch(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+", name) is None
            or re.search(r"[\r\n\x00]", value)
            or any(ord(c) > 0xFF for c in value)
        )
        assert headers.raw == []
        return
    assert headers[name.upper()] == value
    ((raw_name, raw_value),) = headers.raw
    assert raw_name == name.lower().encode("ascii")
    assert not set(raw_value) & {0x0D, 0x0A, 0x00}


_OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["set", "append", "del", "setdefault", "pop"]), HEADER_NAMES, LATIN1_TEXT
    ),
    max_size=12,
)


@FAST
@given(_OPERATIONS)
def test_mutable_headers_behave_like_a_list_of_pairs(
    operations: list[tuple[str, str, str]],
) -> None:
    """Against a model: a plain list of (lower name, value), edited the documented way."""
    headers = MutableHeaders()
    model: list[tuple[str, str]] = []
    for operation, name, value in operations:
        key = name.lower()
        if any(c in value for c in "\r\n\x00"):
            with pytest.raises(ValueError, match="CR, LF and NUL"):
                headers.append(name, value)
            continue
        present = [v for k, v in model if k == key]
        if operation == "set":
            headers[name] = value
            if present:
                first = next(i for i, (k, _) in enumerate(model) if k == key)
                model = [(k, v) for i, (k, v) in enumerate(model) if k != key or i == first]
                model[[k for k, _ in model].index(key)] = (key, value)
            else:
                model.append((key, value))
        elif operation == "append":
            headers.append(name, value)
            model.append((key, value))
        elif operation == "setdefault":
            assert headers.setdefault(name, value) == (present[0] if present else value)
            if not present:
                model.append((key, value))
        elif operation == "del":
            if present:
                del headers[name]
                model = [(k, v) for k, v in model if k != key]
            else:
                with pytest.raises(KeyError):
                    del headers[name]
        else:
            assert headers.pop(name, "default") == (present[0] if present else "default")
            model = [(k, v) for k, v in model if k != key]
        assert headers.multi_items() == model
        assert headers.raw == [(k.encode(), v.encode("latin-1")) for k, v in model]


# --- Range and conditional headers ---------------------------------------------------------

RANGE_TEXT = st.one_of(
    ANY_TEXT,
    st.text(alphabet="bytes=0123456789-, \t;x", max_size=40),
    st.lists(
        st.tuples(st.integers(-5, 10**20) | st.none(), st.integers(-5, 10**20) | st.none()),
        max_size=5,
    ).map(
        lambda specs: (
            "bytes="
            + ",".join(f"{'' if a is None else a}-{'' if b is None else b}" for a, b in specs)
        )
    ),
)


@settings(max_examples=400, deadline=None)
@given(RANGE_TEXT, st.integers(0, 10**6))
def test_parse_range_of_anything(header: str, size: int) -> None:
    try:
        ranges = parse_range(header, size)
    except (MalformedRange, UnsatisfiableRange):
        return
    if ranges is None:
        return
    assert ranges
    for start, stop in ranges:
        assert 0 <= start < stop <= size
    assert all(a[1] < b[0] for a, b in itertools.pairwise(ranges))


@FAST
@given(ANY_TEXT)
def test_header_grammar_helpers_never_raise(value: str) -> None:
    parse_http_date(value)
    tags = parse_entity_tags(value)
    assert tags is None or all(tag.startswith('"') and tag.endswith('"') for _, tag in tags)
    if_range_allows(value, '"abc"', 1_000_000)
    for method in ("GET", "HEAD", "PUT"):
        assert evaluate_preconditions(method, value, value, value, value, '"e"', 10) in (
            None,
            304,
            412,
        )


@pytest.fixture(scope="module")
def file_client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "data.bin"
    path.write_bytes(bytes(range(256)) * 4)
    app = App()

    @app.get("/file")
    def file() -> FileResponse:
        return FileResponse(path)

    @app.get("/named")
    def named(request: Request) -> FileResponse:
        return FileResponse(path, filename=request.query_params.get("name", "x"))

    return TestClient(app)


CONDITIONAL = st.sampled_from(["range", "if-range", "if-none-match", "if-modified-since"])


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.dictionaries(CONDITIONAL, RANGE_TEXT | LATIN1_TEXT, max_size=3), st.booleans())
def test_file_response_under_any_range_or_condition(
    file_client: TestClient, headers: dict[str, str], head: bool
) -> None:
    sent = {
        name.encode(): value.strip(" \t").encode("utf-8")
        for name, value in headers.items()
        if not re.search(r"[\r\n\x00]", value)
    }
    answer = file_client.request("HEAD" if head else "GET", "/file", headers=sent)
    assert answer.status_code in (200, 206, 304, 400, 416), answer.text
    if answer.status_code == 206 and not head:
        content_type = answer.headers["content-type"]
        if content_type.startswith("multipart/byteranges"):
            assert answer.content.endswith(b"--\r\n")
        else:
            first, last = re.findall(r"\d+", answer.headers["content-range"])[:2]
            assert answer.content == (bytes(range(256)) * 4)[int(first) : int(last) + 1]


# --- content-disposition filenames -------------------------------------------------------------

_DISPOSITION = re.compile(
    r'(?P<type>[^;]+); filename="(?P<fallback>[^"\\]*)"'
    r"(?:; filename\*=utf-8''(?P<encoded>[A-Za-z0-9!#$&+\-.^_`|~%]*))?"
)


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=30))
def test_any_filename_gives_a_safe_header_that_decodes_back(filename: str) -> None:
    value = content_disposition("attachment", filename)
    # Plain printable ASCII: nothing to inject, nothing to mis-decode.
    assert all(" " <= c <= "~" for c in value)
    found = _DISPOSITION.fullmatch(value)
    assert found is not None, value
    assert found["type"] == "attachment"
    if found["encoded"] is None:
        assert found["fallback"] == filename
    else:
        assert unquote(found["encoded"], errors="strict") == filename
        assert "%" not in found["fallback"]


@FAST
@given(ANY_TEXT)
def test_disposition_type_must_be_a_token(disposition_type: str) -> None:
    if re.fullmatch(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+", disposition_type) is None:
        with pytest.raises(ValueError, match="must be a token"):
            content_disposition(disposition_type, "a.txt")
    else:
        value = content_disposition(disposition_type, "a.txt")
        assert value == f'{disposition_type}; filename="a.txt"'


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=20))
def test_file_response_with_any_filename(file_client: TestClient, name: str) -> None:
    answer = file_client.get("/named", params={"name": name})
    assert answer.status_code == 200
    assert "filename" in answer.headers["content-disposition"]


# --- SSE framing ---------------------------------------------------------------------------

SSE_FIELD = st.text(st.sampled_from(string.ascii_letters + ":\r\n\x00 é"), max_size=12)


def _lines(frame: str) -> list[str]:
    return re.split(r"\r\n|\r|\n", frame)


@settings(max_examples=300, deadline=None)
@given(
    data=SSE_FIELD | st.none(),
    event=SSE_FIELD | st.none(),
    event_id=SSE_FIELD | st.none(),
    comment=SSE_FIELD | st.none(),
    retry=st.integers(-2, 10**6) | st.none(),
)
def test_no_event_field_can_smuggle_another(
    data: str | None,
    event: str | None,
    event_id: str | None,
    comment: str | None,
    retry: int | None,
) -> None:
    """Whatever the fields hold, the frame is one event: every line is a field we wrote."""
    try:
        frame = ServerSentEvent(data, event=event, id=event_id, retry=retry, comment=comment)
    except ValueError:
        assert (
            any(v is not None and re.search(r"[\r\n]", v) for v in (event, event_id))
            or (event_id is not None and "\x00" in event_id)
            or (retry is not None and retry < 0)
        )
        return
    text = frame.encode().decode("utf-8")
    if text == "\n":  # an event with no field at all: a bare blank line, which dispatches nothing
        assert (data, event, event_id, comment, retry) == (None,) * 5
        return
    assert text.endswith("\n\n")
    lines = _lines(text[:-2])
    assert "" not in lines  # a blank line would dispatch an event early
    fields = [line.partition(":")[0] for line in lines]
    assert fields.count("event") == (event is not None)
    assert fields.count("id") == (event_id is not None)
    assert fields.count("retry") == (retry is not None)
    assert set(fields) <= {"", "data", "event", "id", "retry"}
