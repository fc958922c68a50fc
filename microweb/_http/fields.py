"""Header fields (RFC 9110 §5): a name is a token, a value is octets without CR, LF or NUL.

ASGI carries headers as ``(bytes, bytes)`` pairs with lower-cased names;
``encode_header`` is the one gate a str header passes to become such a pair,
so no name or value can smuggle in a second header.
"""

from __future__ import annotations

import re

__all__ = ["TOKEN", "encode_header"]

# RFC 9110 §5.6.2:
#   token = 1*tchar
#   tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
#           "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
# A header name (§5.1), a cookie name (RFC 6265 §4.1.1) and a disposition
# type (RFC 6266 §4.1) are all tokens.
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

# RFC 9110 §5.5: "Field values containing CR, LF, or NUL characters are
# invalid and dangerous"; a sender refuses them.
_FORBIDDEN_IN_VALUE = re.compile(r"[\r\n\x00]")


def encode_header(name: str, value: str) -> tuple[bytes, bytes]:
    """Validate one header and return it as a raw ASGI pair (lower-cased name).

    Raises ValueError for a name that is not a token, or a value holding CR,
    LF or NUL (header injection), or a value outside Latin-1.
    """
    if not isinstance(name, str) or not isinstance(value, str):
        raise TypeError(f"header names and values must be str, got {name!r}: {value!r}")
    if TOKEN.fullmatch(name) is None:
        raise ValueError(f"invalid header name {name!r}: expected an RFC 9110 token")
    if _FORBIDDEN_IN_VALUE.search(value) is not None:
        raise ValueError(
            f"invalid header value {value!r} for {name!r}: CR, LF and NUL are refused"
        )
    try:
        raw_value = value.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(
            f"header value {value!r} for {name!r} is not Latin-1; percent-encode it"
        ) from None
    return name.lower().encode("ascii"), raw_value
