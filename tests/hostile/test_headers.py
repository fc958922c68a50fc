"""Hostile header sections: Host, header syntax, counts, body framing, truncation.

Framing (content-length, transfer-encoding, chunks) is the server's job:
either the request is refused, or the app gets a well-framed body. A case
whose body is cut short closes the sending side (``half_close``), so the
server sees the end of the stream: it may then answer or just close.
"""

from __future__ import annotations

import pytest

from .conftest import Servers
from .rawhttp import CUT, OK, Case, check_case, params, request

# A last chunk, then a second request that a server reading content-length would see as body.
SMUGGLED = b"0\r\n\r\nGET /probe HTTP/1.1\r\nhost: x\r\n\r\n"


def chunked(
    body: bytes = b"2\r\n{}\r\n0\r\n\r\n",
    *headers: str,
    coding: str = "chunked",
    version: str = "HTTP/1.1",
) -> bytes:
    """A POST /json with ``transfer-encoding: {coding}`` and ``body`` as given, unchecked."""
    return request(
        "/json",
        "content-type: application/json",
        f"transfer-encoding: {coding}",
        *headers,
        method="POST",
        body=body,
        version=version,
    )


def with_length(*lengths: str, then: str = "") -> bytes:
    """A POST /json of ``{}`` with one content-length header per value, and ``then``."""
    lines = [f"content-length: {value}" for value in lengths] + ([then] if then else [])
    return request("/json", "content-type: application/json", *lines, method="POST", body=b"{}")


def first_header(line: bytes) -> bytes:
    """A GET /probe whose first header line is ``line``, exactly."""
    return b"GET /probe HTTP/1.1\r\n" + line + b"\r\nhost: x\r\nconnection: close\r\n\r\n"


CASES = [
    # --- Host
    Case("duplicate-host", request("/probe", "host: evil.example"), OK),
    Case("no-host-http-1.1", request("/probe", host=None), OK),
    Case("host-open-bracket", request("/probe", host="["), OK),
    Case("host-other", request("/probe", host="evil.example"), OK),
    Case("host-5000-bytes", request("/probe", host="a" * 5000), OK),
    # --- header syntax
    Case("obs-fold", request("/probe", "x-a: 1", "  folded"), OK),
    Case("obs-fold-first-line", first_header(b" folded: x")),
    Case("no-colon", request("/probe", "x-a 1")),
    Case("space-in-name", request("/probe", "x a: 1")),
    Case("empty-name", request("/probe", ": 1")),
    Case("utf8-name", request("/probe", "\u00e4: 1")),
    Case("nul-in-value", request("/probe", b"x-a: a\x00b")),
    Case("ctl-in-value", request("/probe", b"x-a: a\x01b"), OK),
    Case("bare-cr-in-value", request("/probe", b"x-a: a\rb")),
    Case("latin-1-value", request("/probe", b"x-a: \xe9\xff"), OK),
    Case("bare-lf-line-ends", b"GET /probe HTTP/1.1\nhost: x\nconnection: close\n\n", OK),
    Case("1000-headers", request("/probe", *(f"x-h{i}: {i}" for i in range(1000))), OK),
    # --- content-length
    Case("content-length-negative", with_length("-1")),
    Case("content-length-not-digits", with_length("abc")),
    Case("content-length-hex", with_length("0x2")),
    Case("content-length-list", with_length("2, 2"), OK),
    Case("content-length-twice-same", with_length("2", "2"), OK),
    Case("content-length-twice-different", with_length("2", "3")),
    Case("content-length-40-digits", with_length("1" + "0" * 40), CUT, half_close=True),
    Case("content-length-too-short", with_length("1"), OK),
    Case("content-length-on-get", request("/probe", "content-length: 5", body=b"hello"), OK),
    # --- transfer-encoding
    Case(
        "transfer-encoding-and-content-length",
        chunked(b"2\r\n{}\r\n0\r\n\r\n", "content-length: 2"),
        OK,
    ),
    Case(
        "smuggling-attempt",
        chunked(SMUGGLED, f"content-length: {len(SMUGGLED)}"),
        OK,
    ),
    Case(
        "transfer-encoding-gzip",
        with_length("2", then="transfer-encoding: gzip"),
        CUT,
        half_close=True,
    ),
    Case(
        "transfer-encoding-chunked-gzip",
        chunked(coding="chunked, gzip"),
        CUT,
        half_close=True,
    ),
    Case(
        "transfer-encoding-unknown",
        with_length("2", then="transfer-encoding: bogus"),
        CUT,
        half_close=True,
    ),
    Case(
        "transfer-encoding-twice",
        chunked(b"2\r\n{}\r\n0\r\n\r\n", "transfer-encoding: chunked"),
        OK,
    ),
    Case(
        "transfer-encoding-upper-case",
        chunked(coding="CHUNKED"),
        OK,
    ),
    Case(
        "transfer-encoding-http-1.0",
        chunked(version="HTTP/1.0"),
        OK,
    ),
    # --- chunked framing
    Case("chunk-size-not-hex", chunked(b"zz\r\n{}\r\n0\r\n\r\n")),
    Case(
        "chunk-size-20-hex-digits",
        chunked(b"f" * 20 + b"\r\n{}\r\n0\r\n\r\n"),
        CUT,
        half_close=True,
    ),
    Case("chunk-shorter-than-size", chunked(b"5\r\n{}\r\n0\r\n\r\n"), CUT, half_close=True),
    Case("chunk-without-crlf", chunked(b"2\r\n{}0\r\n\r\n"), CUT, half_close=True),
    Case("chunk-extension", chunked(b"2;name=value\r\n{}\r\n0\r\n\r\n"), OK),
    Case("chunk-extension-with-nul", chunked(b"2;\x00\r\n{}\r\n0\r\n\r\n"), OK),
    Case("chunk-bare-lf", chunked(b"2\n{}\n0\n\n"), CUT, half_close=True),
    Case("chunk-trailer", chunked(b"2\r\n{}\r\n0\r\nx-trailer: 1\r\n\r\n"), OK),
    Case("chunk-no-last-chunk", chunked(b"2\r\n{}\r\n"), CUT, half_close=True),
    Case("chunk-10000-one-byte", chunked(b"1\r\n \r\n" * 10_000 + b"2\r\n{}\r\n0\r\n\r\n"), OK),
    # --- truncated
    Case("truncated-body", with_length("10"), CUT, half_close=True),
    Case(
        "truncated-form-body",
        request(
            "/form",
            "content-type: application/x-www-form-urlencoded",
            "content-length: 30",
            method="POST",
            body=b"a=1",
        ),
        CUT,
        half_close=True,
    ),
    Case(
        "truncated-header-section",
        b"GET /probe HTTP/1.1\r\nhost: x\r\nx-a: 1",
        CUT,
        half_close=True,
    ),
    # --- expect
    Case("expect-100-continue", with_length("2", then="expect: 100-continue"), OK),
    Case("expect-unknown", with_length("2", then="expect: 42-bogus"), OK | {417}),
]


@pytest.mark.parametrize(("implementation", "case"), params(CASES))
def test_headers(servers: Servers, implementation: str, case: Case) -> None:
    check_case(servers.port(implementation), case)
