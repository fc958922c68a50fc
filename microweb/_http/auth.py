"""HTTP authentication (RFC 9110 §11): the ``authorization`` header and its challenges.

RFC 9110 §11.4 and §11.6.2::

    Authorization = credentials
    credentials   = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
    auth-scheme   = token                    ; compared case-insensitively (§11.1)

so the scheme is what comes before the first space, and what follows (spaces
around it dropped, as clients and FastAPI are lenient there) is the
credentials. A challenge (``www-authenticate``, §11.6.1) is the scheme,
optionally with ``realm="..."`` as a quoted-string (§5.6.4).

Basic (RFC 7617 §2): the credentials are the base64 of ``user-id ":"
password``; the user-id holds no colon, the password may. RFC 7617 §2.1 lets
a server announce UTF-8; we read UTF-8 (ASCII's superset) either way.
"""

from __future__ import annotations

import binascii
import re
from base64 import b64decode

__all__ = ["challenge", "parse_basic", "split_authorization"]

# RFC 9110 §5.6.4: qdtext is any visible or Latin-1 character but DQUOTE and
# backslash, which go as quoted-pairs; a control character has no place at all.
_QUOTED_PAIR = re.compile(r'(["\\])')
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def split_authorization(value: str | None) -> tuple[str, str]:
    """``(scheme, credentials)`` of an ``authorization`` value; ``("", "")`` for none.

    The scheme keeps its case (compare it with ``.lower()``); a header with no
    space gives empty credentials.
    """
    if not value:
        return "", ""
    scheme, _, credentials = value.partition(" ")
    return scheme, credentials.strip()


def parse_basic(credentials: str) -> tuple[str, str] | None:
    """``(user-id, password)`` of Basic credentials, or None when they are malformed.

    Malformed: not base64 (strict alphabet and padding), not UTF-8, or no colon.
    """
    try:
        decoded = b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):  # UnicodeDecodeError is a ValueError
        return None
    username, colon, password = decoded.partition(":")
    if not colon:
        return None
    return username, password


def challenge(scheme: str, realm: str | None = None) -> str:
    """A ``www-authenticate`` value: ``Basic`` or ``Basic realm="..."`` (quoted, escaped).

    No realm, or an empty one, gives the bare scheme (as FastAPI sends it).

    Raises ValueError for a realm a header cannot carry: a control character
    (CR or LF would end the header line) or one outside Latin-1.
    """
    if not realm:
        return scheme
    if _CONTROL.search(realm) or not _latin_1(realm):
        raise ValueError(
            f"realm {realm!r} holds a control or non-Latin-1 character; a header cannot carry it"
        )
    quoted = _QUOTED_PAIR.sub(r"\\\1", realm)
    return f'{scheme} realm="{quoted}"'


def _latin_1(text: str) -> bool:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True
