"""Hostile JSON and form bodies.

POST /json returns ``await request.json()``; POST /form summarises
``await request.form()`` (a field's length, a file's name and size). Invalid
JSON, JSON nested past 512 levels, a malformed or truncated multipart body,
or one past the form limits is a 4xx.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .conftest import Servers
from .rawhttp import (
    CUT,
    DIGITS,
    OK,
    ONLY_200,
    Answer,
    Case,
    check_case,
    params,
    post,
    request,
)

BOUNDARY = "hostile-boundary"
DISPOSITION = b'content-disposition: form-data; name="f"; filename='
STAR_DISPOSITION = b'content-disposition: form-data; name="f"; filename*='


def json(body: str | bytes, content_type: str = "application/json") -> bytes:
    return post("/json", body, content_type)


def nested(depth: int, open_: str = "[", close: str = "]", inner: str = "") -> bytes:
    return json(open_ * depth + inner + close * depth)


def echoed(body: bytes) -> Callable[[Answer], None]:
    """A check that the JSON route answered 200 with ``body`` itself."""

    def check(answer: Answer) -> None:
        assert (answer.status, answer.body) == (200, body), answer.summary()

    return check


def part(headers: list[bytes], content: bytes) -> bytes:
    lines = b"".join(header + b"\r\n" for header in headers)
    return b"--" + BOUNDARY.encode() + b"\r\n" + lines + b"\r\n" + content + b"\r\n"


def field(name: str, value: bytes = b"1") -> bytes:
    return part([f'content-disposition: form-data; name="{name}"'.encode()], value)


def upload(filename: bytes, disposition: bytes = DISPOSITION) -> bytes:
    """One file part whose content-disposition ends with ``filename``, as given."""
    return part([disposition + filename, b"content-type: text/plain"], b"x")


def multipart(*parts: bytes, end: bool = True, content_type: str | None = None) -> bytes:
    body = b"".join(parts) + (b"--" + BOUNDARY.encode() + b"--\r\n" if end else b"")
    return post("/form", body, content_type or f"multipart/form-data; boundary={BOUNDARY}")


def filename_is(expected: bytes) -> Callable[[Answer], None]:
    """A check that the upload came through as a file named ``expected``."""

    def check(answer: Answer) -> None:
        assert answer.body.startswith(b'{"f":{"filename":"' + expected + b'"'), answer.summary()

    return check


CASES = [
    # --- JSON
    Case("json-truncated", json("{")),
    Case("json-empty", json("")),
    Case("json-nan-literal", json("NaN")),
    Case("json-infinity-literal", json("[Infinity, -Infinity]")),
    Case("json-5000-digit-int", json(DIGITS)),
    Case("json-5000-digit-int-in-list", json(f"[{DIGITS}]")),
    Case("json-1e999", json("1e999")),
    Case("json-invalid-utf8", json(b'"\xff\xfe"')),
    Case("json-lone-surrogate-escape", json(b'"\\ud800"')),
    Case("json-utf8-bom", json(b"\xef\xbb\xbf{}")),
    Case("json-utf16", json("{}".encode("utf-16"))),
    Case("json-duplicate-keys", json('{"a":1,"a":2}'), OK),
    Case("json-100k-elements", json("[" + ",".join(["1"] * 100_000) + "]"), OK),
    Case("json-as-text-plain", json("{}", "text/plain"), OK),
    Case("json-depth-512", nested(512), ONLY_200, check=echoed(b"[" * 512 + b"]" * 512)),
    Case("json-depth-513", nested(513)),
    Case("json-depth-600", nested(600)),
    Case("json-depth-1000", nested(1000)),
    Case("json-depth-1100", nested(1100)),
    Case("json-depth-1100-objects", nested(1100, '{"a":', "}", "1")),
    Case("json-depth-100000-unclosed", json("[" * 100_000)),
    # --- multipart: framing
    Case("multipart-ok", multipart(field("a")), ONLY_200),
    Case("multipart-no-boundary", multipart(field("a"), content_type="multipart/form-data")),
    Case(
        "multipart-empty-boundary",
        multipart(field("a"), content_type="multipart/form-data; boundary="),
    ),
    Case(
        "multipart-wrong-boundary",
        multipart(field("a"), content_type="multipart/form-data; boundary=other"),
    ),
    Case("multipart-no-closing-boundary", multipart(field("a"), end=False)),
    Case(
        "multipart-cut-short",
        request(
            "/form",
            f"content-type: multipart/form-data; boundary={BOUNDARY}",
            "content-length: 500",
            method="POST",
            body=field("a"),
        ),
        CUT,
        half_close=True,
    ),
    Case(
        "multipart-binary-garbage",
        post("/form", b"\x00\xff" * 100, f"multipart/form-data; boundary={BOUNDARY}"),
    ),
    Case(
        "multipart-preamble-only",
        post("/form", b"hello", f"multipart/form-data; boundary={BOUNDARY}"),
    ),
    # --- multipart: parts
    Case("part-without-disposition", multipart(part([b"x-a: 1"], b"1"))),
    Case("part-without-name", multipart(part([b"content-disposition: form-data"], b"1"))),
    Case(
        "part-header-100k",
        multipart(
            part([b'content-disposition: form-data; name="a"', b"x-big: " + b"a" * 100_000], b"1")
        ),
    ),
    Case(
        "part-200-headers",
        multipart(
            part(
                [b'content-disposition: form-data; name="a"', *(b"x-h: 1" for _ in range(200))],
                b"1",
            )
        ),
        OK,
    ),
    Case("part-field-over-1mib", multipart(field("a", b"x" * (1024 * 1024 + 1)))),
    Case("parts-1500-fields", multipart(*(field(f"a{i}") for i in range(1500)))),
    Case("parts-1100-files", multipart(*(upload(f'"f{i}"'.encode()) for i in range(1100)))),
    # --- multipart: filenames
    Case("filename-traversal", multipart(upload(b'"../../etc/passwd"')), OK),
    Case("filename-absolute", multipart(upload(b'"/etc/passwd"')), OK),
    Case("filename-nul", multipart(upload(b'"a\x00b"')), OK),
    Case(
        "filename-utf8",
        multipart(upload('"\u2603.txt"'.encode())),
        OK,
        check=filename_is("\u2603.txt".encode()),
    ),
    Case("filename-star-only", multipart(upload(b"UTF-8''%E2%98%83.txt", STAR_DISPOSITION)), OK),
    Case("filename-star-invalid", multipart(upload(b"UTF-8''%FF", STAR_DISPOSITION)), OK),
    Case("filename-empty", multipart(upload(b'""')), OK),
    Case("filename-10k", multipart(upload(b'"' + b"a" * 10_000 + b'"')), OK),
    Case("filename-windows-path", multipart(upload(b'"C:\\\\x\\\\..\\\\y.txt"')), OK),
    Case("filename-unquoted-with-space", multipart(upload(b"a b.txt")), OK),
    # --- urlencoded
    Case(
        "urlencoded-invalid-utf8",
        post("/form", b"a=%FF&b=%ZZ&&=", "application/x-www-form-urlencoded"),
    ),
    Case(
        "urlencoded-5000-fields",
        post(
            "/form", "&".join(f"k{i}=v" for i in range(5000)), "application/x-www-form-urlencoded"
        ),
    ),
    Case("form-as-text-plain", post("/form", b"a=1", "text/plain")),
]


@pytest.mark.parametrize(("implementation", "case"), params(CASES))
def test_bodies(servers: Servers, implementation: str, case: Case) -> None:
    check_case(servers.port(implementation), case)
