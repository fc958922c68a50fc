"""The pure header helpers in microweb._http.cookies: the cookie request header (RFC 6265)."""

from __future__ import annotations

import pytest

from microweb._http.cookies import parse_cookie_header
from microweb.responses import Response


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("a=1", {"a": "1"}),
        ("a=1; b=2", {"a": "1", "b": "2"}),
        ("a=1;b=2", {"a": "1", "b": "2"}),
        ("  a = 1 ;  b=2  ", {"a": "1", "b": "2"}),
        ("a=1; a=2", {"a": "1"}),  # the first (most specific path) wins
        ("a=", {"a": ""}),
        ("a=x=y", {"a": "x=y"}),  # only the first = splits
        ("lonely", {"": "lonely"}),  # no =: a value with an empty name
        ("a=1; ; ;b=2;", {"a": "1", "b": "2"}),  # empty chunks skipped
        ("", {}),
        (";", {}),
        ('a="quoted value"', {"a": "quoted value"}),
        ('a="with \\"escapes\\""', {"a": 'with "escapes"'}),
        ('a="\\073semi\\054comma"', {"a": ";semi,comma"}),  # octal escapes
        ('a="unterminated', {"a": '"unterminated'}),
        ('a=""', {"a": ""}),
        ("a=%20", {"a": "%20"}),  # no percent-decoding: cookies are opaque
        ("café=thé", {"café": "thé"}),
    ],
)
def test_parse_cookie_header(header: str, expected: dict[str, str]) -> None:
    assert parse_cookie_header(header) == expected


def test_cookie_round_trips_set_cookie_quoting() -> None:
    # What set_cookie sends, the parser reads back.
    value = 'needs "quotes"; and, commas \\ too'
    response = Response()
    response.set_cookie("k", value)
    header = response.headers["set-cookie"]
    assert header.startswith('k="needs \\"quotes\\"\\073')  # quoted and escaped
    cookie = header.split("; ")[0]  # what a browser sends back: name=value
    assert parse_cookie_header(cookie) == {"k": value}
