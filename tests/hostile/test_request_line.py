"""Hostile request lines: methods, targets, versions, control bytes, percent-encoding.

Most of these never reach microweb (uvicorn's parser answers 400); those that
do must come back as a 4xx or the plain answer of the route they name.
"""

from __future__ import annotations

import pytest

from .conftest import Servers
from .rawhttp import CUT, OK, Answer, Case, check_case, params, request


def raw(line: bytes) -> bytes:
    """A request whose first line is ``line``, exactly."""
    return line + b"\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n"


def not_a_slash(answer: Answer) -> None:
    """An overlong UTF-8 '/' (%C0%AF) must never decode to a real '/'."""
    assert answer.body != b'{"name":"/"}', answer.summary()


CASES = [
    # --- methods
    Case("lower-case-method", raw(b"get /probe HTTP/1.1")),
    Case("unknown-method", request("/probe", method="BREW")),
    Case("method-with-at-sign", raw(b"G@T /probe HTTP/1.1")),
    Case("2000-byte-method", request("/probe", method="A" * 2000)),
    Case("no-method", raw(b" /probe HTTP/1.1")),
    # --- versions
    Case("version-2.0", request("/probe", version="HTTP/2.0"), OK),
    Case("version-9.9", request("/probe", version="HTTP/9.9"), OK),
    Case("version-https", request("/probe", version="HTTPS/1.1")),
    Case("version-lower-case", request("/probe", version="http/1.1")),
    Case("no-version", raw(b"GET /probe"), OK),  # httptools reads it as HTTP/0.9
    # --- no request at all
    Case("blank-lines-only", b"\r\n\r\n", CUT, half_close=True),
    Case("tls-client-hello", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40),
    Case("binary-garbage", bytes(range(256)) * 4),
    # --- control bytes in the target
    Case("nul-in-target", request(b"/pro\x00be")),
    Case("space-in-target", request(b"/pro be")),
    Case("cr-in-target", raw(b"GET /pro\rbe HTTP/1.1")),
    # --- target forms
    Case("absolute-form", request("http://127.0.0.1/probe"), OK),
    Case("absolute-form-other-host", request("http://evil.example/probe"), OK),
    Case("asterisk-options", request("*", method="OPTIONS"), OK | {204}),
    Case("authority-form-connect", request("127.0.0.1:80", method="CONNECT")),
    Case("no-leading-slash", request("probe")),
    Case("query-only-target", request("?a=1")),
    # --- long targets (uvicorn has no line limit of its own below these)
    Case("60k-path-parameter", request("/users/" + "a" * 60_000), OK),
    Case("60k-query", request("/query/str?s=" + "a" * 60_000), OK),
    Case("5000-slashes", request("/" * 5000)),
    Case("5000-segments", request("/files" + "/." * 5000), OK),
    Case("dot-segments", request("/files/../../etc/passwd"), OK),
    # --- percent-encoding in the path
    Case("pct-00", request("/users/%00"), OK),
    Case("pct-2F", request("/users/a%2Fb"), OK),
    Case("pct-ZZ", request("/users/%ZZ"), OK),
    Case("pct-truncated", request("/users/%"), OK),
    Case("pct-overlong-slash", request("/users/%C0%AF"), OK, check=not_a_slash),
    Case("pct-invalid-utf8", request("/users/%FF%FE"), OK),
    Case("pct-surrogate", request("/users/%ED%A0%80"), OK),
    Case("pct-double-encoded", request("/users/%252e%252e"), OK),
    Case("raw-invalid-utf8-path", request(b"/users/\xff\xfe")),
    Case("raw-utf8-path", request("/users/\u2603"), OK),
    # --- percent-encoding in the query
    Case("query-pct-invalid-utf8", request("/query/str?s=%FF")),
    Case("query-pct-overlong", request("/query/str?s=%C0%AF")),
    Case("query-raw-invalid-utf8", request(b"/query/str?s=\xff")),
]


@pytest.mark.parametrize(("implementation", "case"), params(CASES))
def test_request_line(servers: Servers, implementation: str, case: Case) -> None:
    check_case(servers.port(implementation), case)
