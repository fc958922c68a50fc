"""Pure helpers for HTTP header grammar (RFC 6265 cookies, for now).

No I/O and no ASGI here: each function takes a header value and returns
plain data, so it is easy to test and to fuzz.
"""

from __future__ import annotations

import re

_OCTAL_ESCAPE = re.compile(r"\\([0-3][0-7][0-7])|\\(.)")


def _unquote_cookie_value(value: str) -> str:
    """Undo the quoting Python's ``http.cookies`` (and so ``set_cookie``) applies.

    A quoted value is ``"..."`` with ``\\ooo`` octal escapes and ``\\x`` for
    any other escaped character; an unquoted value is taken as it is.
    """
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        return value
    inner = value[1:-1]
    if "\\" not in inner:
        return inner
    return _OCTAL_ESCAPE.sub(
        lambda m: chr(int(m.group(1), 8)) if m.group(1) else m.group(2), inner
    )


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
            cookies[name] = _unquote_cookie_value(value.strip())
    return cookies
