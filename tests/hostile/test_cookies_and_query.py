"""Hostile cookies, set-cookie values and query parameters.

GET /cookies returns ``request.cookies``; GET /set-cookie?value=... sets the
cookie ``echo`` to the value; GET /query/{int,float,bool,list,str} bind one
annotated query parameter and echo it as JSON; GET /query/all counts
``request.query_params``. A value that does not convert is a 422; a query
that is not UTF-8 a 400.
"""

from __future__ import annotations

import re

import pytest

from .conftest import Servers
from .rawhttp import (
    DIGITS,
    OK,
    ONLY_200,
    Answer,
    Case,
    check_case,
    params,
    request,
)

UNPROCESSABLE = frozenset({422})  # a value the parameter's type refuses

# echo=value, the value bare or quoted with backslash escapes, then the default attributes.
COOKIE_HEADER = re.compile(rb'echo=("(?:[^"\\]|\\.)*"|[^";\\]*); Path=/; SameSite=Lax')


def one_cookie(answer: Answer) -> None:
    """Exactly one set-cookie, whose attributes are only the ones the handler chose."""
    (header,) = answer.header(b"set-cookie")
    assert COOKIE_HEADER.fullmatch(header), header
    assert not [key for key, _ in answer.headers if key.startswith(b"evil")]


def cookie(value: str | bytes) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return request("/cookies", b"cookie: " + raw)


def echo(value: str) -> bytes:
    return request("/set-cookie?value=" + value)


CASES = [
    # --- cookies read
    Case("cookie-garbage", cookie(";;;==;=;a"), OK),
    Case("cookie-unbalanced-quotes", cookie('a="b; c="d'), OK),
    Case("cookie-octal-escapes", cookie('a="\\073\\"x\\"'), OK),
    Case("cookie-60k", cookie("a=" + "x" * 60_000), OK),
    Case("cookie-latin-1-bytes", cookie(b"a=\xe9\xff"), OK),
    Case("cookie-utf8-bytes", cookie("a=\u2603"), OK),
    Case("cookie-3000-pairs", cookie("; ".join(f"c{i}={i}" for i in range(3000))), OK),
    Case(
        "cookie-200-headers",
        request("/cookies", *(f"cookie: c{i}={i}" for i in range(200))),
        OK,
    ),
    Case("cookie-dunder-names", cookie("__proto__=1; constructor=2; __class__=3"), OK),
    # --- cookies set from a query value
    Case("set-cookie-plain", echo("abc"), ONLY_200, check=one_cookie),
    Case("set-cookie-latin-1", echo("%C3%A9"), ONLY_200, check=one_cookie),
    Case("set-cookie-crlf", echo("a%0D%0Aset-cookie:%20evil=1"), OK, check=one_cookie),
    Case("set-cookie-attribute", echo("a;%20Domain=evil.example"), OK, check=one_cookie),
    Case("set-cookie-nul", echo("%00"), OK, check=one_cookie),
    Case("set-cookie-quote", echo("%22"), OK, check=one_cookie),
    Case("set-cookie-10k", echo("x" * 10_000), OK),
    Case("set-cookie-snowman", echo("%E2%98%83"), OK, check=one_cookie),
    Case("set-cookie-emoji", echo("%F0%9F%92%A9"), OK, check=one_cookie),
    # --- int
    Case("int-letters", request("/query/int?n=abc")),
    Case("int-decimal", request("/query/int?n=1.5")),
    Case("int-nan", request("/query/int?n=nan")),
    Case("int-arabic-indic-digit", request("/query/int?n=%D9%A1")),
    Case("int-fullwidth-digit", request("/query/int?n=%EF%BC%91")),
    Case("int-4300-digits", request("/query/int?n=" + "1" * 4300), OK),
    Case("int-5000-digits", request("/query/int?n=" + DIGITS)),
    Case("int-repeated", request("/query/int?n=1&n=2&n=x"), OK),
    # --- float
    Case("float-letters", request("/query/float?x=abc")),
    Case("float-infinity-word", request("/query/float?x=infinity")),
    Case("float-hex", request("/query/float?x=0x1p3")),
    Case("float-tiny", request("/query/float?x=1e-999"), OK),
    Case("float-nan", request("/query/float?x=nan"), UNPROCESSABLE),
    Case("float-inf", request("/query/float?x=inf"), UNPROCESSABLE),
    Case("float-minus-inf", request("/query/float?x=-inf"), UNPROCESSABLE),
    Case("float-1e999", request("/query/float?x=1e999"), UNPROCESSABLE),
    Case("float-5000-digits", request("/query/float?x=" + DIGITS), UNPROCESSABLE),
    # --- bool
    Case("bool-maybe", request("/query/bool?b=maybe")),
    Case("bool-upper-case-yes", request("/query/bool?b=YES"), OK),
    # --- many, repeated, undecodable
    Case("list-5000-values", request("/query/list?" + "&".join(["k=v"] * 5000)), OK),
    Case("5000-keys", request("/query/all?" + "&".join(f"k{i}=v" for i in range(5000))), OK),
    Case("50000-ampersands", request("/query/all?" + "&" * 50_000), OK),
    Case("query-junk", request("/query/all?&&&==&=&a=%&b=%%%"), OK),
    Case("query-invalid-utf8-key", request("/query/all?%FF=1")),
    Case("query-nul", request("/query/str?s=%00"), OK),
]


@pytest.mark.parametrize(("implementation", "case"), params(CASES))
def test_cookies_and_query(servers: Servers, implementation: str, case: Case) -> None:
    check_case(servers.port(implementation), case)
