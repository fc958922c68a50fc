"""The authorization grammar in microweb._http.auth (RFC 9110 §11, RFC 7617)."""

from __future__ import annotations

from base64 import b64encode

import pytest

from microweb._http.auth import challenge, parse_basic, split_authorization


def b64(raw: bytes) -> str:
    return b64encode(raw).decode("ascii")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ("", "")),
        ("", ("", "")),
        ("Bearer abc", ("Bearer", "abc")),
        ("bearer abc", ("bearer", "abc")),  # the case is kept; callers compare .lower()
        ("Bearer    abc   ", ("Bearer", "abc")),  # spaces around the credentials dropped
        ("Bearer", ("Bearer", "")),
        ("Bearer ", ("Bearer", "")),
        ("Digest a=1, b=2", ("Digest", "a=1, b=2")),
        (" Bearer abc", ("", "Bearer abc")),  # servers strip the value; no scheme left here
    ],
)
def test_split_authorization(value: str | None, expected: tuple[str, str]) -> None:
    assert split_authorization(value) == expected


@pytest.mark.parametrize(
    ("credentials", "expected"),
    [
        (b64(b"ann:secret"), ("ann", "secret")),
        (b64(b"ann:se:cret"), ("ann", "se:cret")),  # RFC 7617 §2: the password may hold ':'
        (b64(b":"), ("", "")),
        (b64("jé:pässword".encode()), ("jé", "pässword")),
        (b64(b"annsecret"), None),  # no colon
        ("", None),
        ("notabase64token", None),  # bad padding
        ("YW5u*OnNlY3JldA==", None),  # a character outside the alphabet
        (b64(b"ann:secret")[:-1], None),  # padding cut
        (b64(b"\xff\xfe:x"), None),  # not UTF-8
    ],
)
def test_parse_basic(credentials: str, expected: tuple[str, str] | None) -> None:
    assert parse_basic(credentials) == expected


def test_challenge_quotes_the_realm() -> None:
    assert challenge("Basic") == "Basic"
    assert challenge("Basic", "") == "Basic"
    assert challenge("Basic", "site") == 'Basic realm="site"'
    assert challenge("Basic", 'a "b" \\c') == 'Basic realm="a \\"b\\" \\\\c"'


@pytest.mark.parametrize("realm", ["a\r\nset-cookie: x=1", "nul\x00", "snow ☃"])
def test_challenge_refuses_a_realm_no_header_can_carry(realm: str) -> None:
    with pytest.raises(ValueError, match="a header cannot carry it"):
        challenge("Basic", realm)
