"""``content-disposition`` (RFC 6266), with RFC 8187 for file names that are not plain ASCII."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from microweb._http.fields import TOKEN

__all__ = ["content_disposition"]

# RFC 8187 §3.2.1: attr-char = ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-"
# / "." / "^" / "_" / "`" / "|" / "~"; everything else is percent-encoded.
_ATTR_CHAR_SAFE = "!#$&+-.^_`|~"
# A filename sent as a plain quoted-string: printable ASCII without the
# characters that need escaping (DQUOTE, backslash) or that some browsers
# decode (a "%" followed by hex digits, RFC 6266 Appendix D).
_PLAIN_FILENAME = re.compile(r"[\x20-\x7e]+")
_NOT_FALLBACK_SAFE = re.compile(r'[^\x20-\x7e]|["\\%]')


def content_disposition(disposition_type: str, filename: str) -> str:
    """The ``content-disposition`` value that offers ``filename``.

    A plain ASCII name goes in ``filename="..."`` (RFC 6266 §4.1). Any other
    name (non-ASCII, or holding ``"``, ``\\``, ``%`` or a control character)
    is sent as ``filename*=utf-8''...`` (RFC 8187 §3.2: UTF-8, percent-encoded),
    preceded by an ASCII ``filename="..."`` fallback for user agents that do
    not read ``filename*`` (RFC 6266 §4.3 asks for this order).
    """
    # RFC 6266 §4.1: disposition-type = "inline" / "attachment" / disp-ext-type (a token)
    if TOKEN.fullmatch(disposition_type) is None:
        raise ValueError(
            f"content_disposition_type must be a token such as 'attachment' or 'inline', "
            f"got {disposition_type!r}"
        )
    if _PLAIN_FILENAME.fullmatch(filename) and not _NOT_FALLBACK_SAFE.search(filename):
        return f'{disposition_type}; filename="{filename}"'
    # NFKD splits accented letters into a base letter and a combining mark,
    # so "résumé" falls back to "resume" rather than "r_sum_".
    decomposed = unicodedata.normalize("NFKD", filename)
    fallback = "".join(c for c in decomposed if not unicodedata.combining(c))
    fallback = _NOT_FALLBACK_SAFE.sub("_", fallback)
    encoded = quote(filename, safe=_ATTR_CHAR_SAFE)
    return f"{disposition_type}; filename=\"{fallback}\"; filename*=utf-8''{encoded}"
