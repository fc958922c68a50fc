"""Cookies (RFC 6265): the ``set-cookie`` a response sends, the ``cookie`` a request brings.

Writing (§4.1): ``name=value`` then ``; Attribute=value`` pairs. The name is
a token; a value outside the characters a cookie-value may hold is quoted
the way Python's ``http.cookies`` quotes it (``"..."`` with ``\\ooo`` octal
escapes), except that a non-ASCII character is written as the octal escapes
of its UTF-8 bytes: any str round-trips, ``☃`` included, and the header
stays ASCII (``http.cookies`` would leave it raw and the header could not be
sent).
Reading (§5.4 leaves it to the server): as lenient as browsers are. The
bytes of a quoted value are read as UTF-8, and a byte that is not part of a
UTF-8 sequence as Latin-1, so a value quoted the ``http.cookies`` way
(``\\351`` for ``é``) reads back as it was meant too.
"""

from __future__ import annotations

import codecs
import datetime
import re
import string
import time

from microweb._http.dates import http_date
from microweb._http.fields import TOKEN

__all__ = ["parse_cookie_header", "set_cookie_value", "unquote_cookie_value"]

# RFC 6265 §4.1.1: cookie-octet is printable US-ASCII less DQUOTE, comma,
# semicolon and backslash. A value of only these characters goes as it is
# (":" included, as http.cookies leaves it); any other is quoted: "..." with
# \" and \\ escaped and other characters as \ooo octal escapes.
_COOKIE_SAFE = frozenset(string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~:")
_COOKIE_ESCAPES = {
    **{chr(n): f"\\{n:03o}" for n in (*range(0x20), 0x7F)},
    ",": "\\054",
    ";": "\\073",
    '"': '\\"',
    "\\": "\\\\",
}
# The SameSite attribute's values (RFC 6265bis §4.1.2.7), as browsers spell them.
_SAMESITE = {"lax": "Lax", "strict": "Strict", "none": "None"}
_OCTAL_ESCAPE = re.compile(r"\\([0-3][0-7][0-7])|\\(.)")


def _cookie_pair(name: str, value: str) -> str:
    """``name=value``, quoting the value when it needs it (§4.1.1: cookie-name is a token)."""
    if TOKEN.fullmatch(name) is None:
        raise ValueError(f"invalid cookie name {name!r}: expected an RFC 9110 token")
    if not value or not _COOKIE_SAFE.issuperset(value):
        value = '"' + "".join(_escape(c) for c in value) + '"'
    return f"{name}={value}"


def _escape(char: str) -> str:
    if char < "\x80":
        return _COOKIE_ESCAPES.get(char, char)
    return "".join(f"\\{byte:03o}" for byte in char.encode("utf-8"))


def _latin_1_byte(error: UnicodeError) -> tuple[str, int]:
    """A codec error handler: a byte that is not UTF-8 is its Latin-1 character."""
    if not isinstance(error, UnicodeDecodeError):  # pragma: no cover - decoding only
        raise error
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error("microweb-cookie", _latin_1_byte)


def _attribute(name: str, value: str) -> str:
    # A ';' would start a new cookie attribute: refuse it rather than let a
    # value smuggle in e.g. "; Domain=evil.example".
    if ";" in value or "\r" in value or "\n" in value:
        raise ValueError(f"cookie {name} {value!r} may not contain ';', CR or LF")
    return value


def set_cookie_value(
    key: str,
    value: str,
    *,
    max_age: int | None,
    expires: datetime.datetime | str | float | None,
    path: str | None,
    domain: str | None,
    secure: bool,
    httponly: bool,
    samesite: str | None,
    partitioned: bool,
) -> str:
    """The value of one ``set-cookie`` header (RFC 6265 §4.1.1 set-cookie-string).

    ``expires`` is a datetime (naive means UTC), an HTTP-date string, or
    seconds from now. ``samesite`` is lax, strict or none in any case (None
    leaves the attribute out); ``partitioned`` (CHIPS) needs ``secure``.
    Raises ValueError for a name that is not a token, an attribute value
    holding ``;``, CR or LF, an unknown ``samesite``, or an insecure
    partitioned cookie.
    """
    # Not http.cookies: it refuses names like "path" that browsers accept.
    parts = [_cookie_pair(key, value)]
    if max_age is not None:
        parts.append(f"Max-Age={int(max_age)}")
    if expires is not None:
        if isinstance(expires, (int, float)):
            expires = http_date(time.time() + expires)
        elif isinstance(expires, datetime.datetime):
            expires = http_date(expires)
        parts.append(f"Expires={_attribute('expires', expires)}")
    if path is not None:
        parts.append(f"Path={_attribute('path', path)}")
    if domain is not None:
        parts.append(f"Domain={_attribute('domain', domain)}")
    if secure:
        parts.append("Secure")
    if httponly:
        parts.append("HttpOnly")
    if samesite is not None:
        canonical = _SAMESITE.get(str(samesite).lower())
        if canonical is None:
            raise ValueError(f"samesite must be 'lax', 'strict' or 'none', not {samesite!r}")
        parts.append(f"SameSite={canonical}")
    if partitioned:
        if not secure:
            raise ValueError("a partitioned cookie must be secure: pass secure=True")
        parts.append("Partitioned")
    return "; ".join(parts)


def unquote_cookie_value(value: str) -> str:
    """Undo the quoting Python's ``http.cookies`` (and so ``set_cookie_value``) applies.

    A quoted value is ``"..."`` with ``\\ooo`` octal escapes and ``\\x`` for
    any other escaped character; its bytes are read as UTF-8 (a byte outside
    a UTF-8 sequence as Latin-1). An unquoted value is taken as it is.
    """
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        return value
    inner = value[1:-1]
    if "\\" not in inner:
        return inner
    unescaped = _OCTAL_ESCAPE.sub(
        lambda m: chr(int(m.group(1), 8)) if m.group(1) else m.group(2), inner
    )
    if unescaped.isascii():
        return unescaped
    try:
        raw = unescaped.encode("latin-1")
    except UnicodeEncodeError:  # not from a header (those are Latin-1): as it is
        return unescaped
    return raw.decode("utf-8", "microweb-cookie")


def parse_cookie_header(header: str) -> dict[str, str]:
    """Parse a ``cookie`` request header into ``{name: value}``.

    Lenient as browsers are (RFC 6265 §5.4 leaves parsing to the server):
    pairs split on ``;``, the name and value trimmed, a chunk without ``=``
    taken as a value with an empty name, and the first of repeated names kept
    (the most specific path comes first, RFC 6265 §5.4 step 2).
    """
    cookies: dict[str, str] = {}
    for chunk in header.split(";"):
        name, sep, value = chunk.partition("=")
        if not sep:
            name, value = "", name
        name = name.strip()
        if not name and not value.strip():
            continue
        if name not in cookies:
            cookies[name] = unquote_cookie_value(value.strip())
    return cookies
