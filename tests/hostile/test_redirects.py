"""The trailing-slash redirect under hostile Host headers and targets.

``/items`` exists, so ``/items/`` answers 307 to it (``redirect_slashes``).
Whatever the client sends as Host or target, the location may only name this
server: a path (one leading ``/``, no backslash) or an absolute URL on
127.0.0.1, never another host (an open redirect).
"""

from __future__ import annotations

import re

import pytest

from .conftest import Servers
from .rawhttp import (
    ANY_4XX,
    Answer,
    Case,
    check_case,
    header_value,
    params,
    request,
)

REDIRECT = ANY_4XX | {307, 308}
# A path of this server, or an absolute URL on it; nothing a browser reads as another host.
LOCAL = re.compile(rb"/(?![/\\])|http://127\.0\.0\.1(?::[0-9]+)?/")


def stays_local(answer: Answer) -> None:
    if 300 <= answer.status < 400:
        location = header_value(answer, b"location")
        assert location is not None, answer.summary()
        assert LOCAL.match(location), f"the location leaves this server: {location!r}"


def slash(
    host: str | bytes | None,
    target: str = "/items/",
    *headers: str,
    method: str = "GET",
    version: str = "HTTP/1.1",
) -> bytes:
    return request(target, *headers, host=host, method=method, version=version)


def local(case_id: str, data: bytes) -> Case:
    return Case(case_id, data, REDIRECT, check=stays_local)


CASES = [
    local("host-this-server", slash("127.0.0.1")),
    local("no-host-http-1.0", slash(None, version="HTTP/1.0")),
    local("no-host-http-1.1", slash(None)),
    local("duplicate-host-this-first", slash("127.0.0.1", "/items/", "host: evil.example")),
    local("path-parameter", slash("127.0.0.1", "/users/bob/")),
    local("query-kept", slash("127.0.0.1", "/items/?a=1&b=%2F%2Fevil.example")),
    # The target path starts with "//": a relative location would be an open redirect.
    local("double-slash-path", slash("127.0.0.1", "/%2Fevil.example/edit/")),
    local("raw-double-slash-path", slash("127.0.0.1", "//evil.example/edit/")),
    local("backslash-path", slash("127.0.0.1", "/%5Cevil.example/edit/")),
    # --- a malformed Host: never read for the location
    local("host-open-bracket", slash("[")),
    local("host-close-bracket", slash("]")),
    local("host-bracket-and-port", slash("[evil.example:80")),
    # --- another host named: the location stays relative (RFC 9110 §10.2.2)
    local("host-other", slash("evil.example")),
    local("host-other-head", slash("evil.example", method="HEAD")),
    # httptools keeps the first of two Host headers, h11 refuses them (400)
    local("duplicate-host-other-first", slash("evil.example", "/items/", "host: 127.0.0.1")),
    local("host-other-path-parameter", slash("evil.example", "/users/bob/")),
    local("host-port-too-big", slash("a:99999")),
    local("host-empty", slash("")),  # "http:///items": a browser reads "items" as the host
    local("host-double-slash", slash("//evil.example")),
    local("host-userinfo", slash("127.0.0.1@evil.example")),
    local("host-with-path", slash("evil.example/x")),
    local("host-with-backslash", slash("evil.example\\x")),
    local("host-with-question-mark", slash("evil.example?")),
    local("host-ipv6-loopback", slash("[::1]:8000")),
    local("host-latin-1", slash(b"\xe9vil.example")),
    # absolute-form: httptools takes the Host header, h11 the whole target as the path (404)
    local("absolute-form-other-host", slash("evil.example", "http://evil.example/items/")),
]


@pytest.mark.parametrize(("implementation", "case"), params(CASES))
def test_slash_redirect(servers: Servers, implementation: str, case: Case) -> None:
    check_case(servers.port(implementation), case)
