"""Pure helpers for HTTP header grammar.

No I/O and no ASGI here: each function takes header values and returns
plain data, so it is easy to test and to fuzz.

- cookies: RFC 6265 (``parse_cookie_header``);
- dates: RFC 9110 §5.6.7 (``http_date``, ``parse_http_date``);
- entity tags and conditional requests: RFC 9110 §8.8.3, §13
  (``etag_matches``, ``evaluate_preconditions``, ``if_range_allows``);
- byte ranges: RFC 9110 §14 (``parse_range``, ``content_range``, the
  ``multipart/byteranges`` framing);
- ``content-disposition``: RFC 6266 with RFC 8187 for non-ASCII file names.

``FileResponse`` (``_files``) is their user; they know nothing of files.
"""

from __future__ import annotations

import email.utils
import re
import unicodedata
from urllib.parse import quote

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


# --- HTTP dates (RFC 9110 §5.6.7) ---------------------------------------------------


def http_date(timestamp: float) -> str:
    """The IMF-fixdate for a POSIX timestamp: ``Sun, 06 Nov 1994 08:49:37 GMT``."""
    return email.utils.formatdate(timestamp, usegmt=True)


def parse_http_date(value: str) -> int | None:
    """A POSIX timestamp (whole seconds) from an HTTP-date, or None if it is not one.

    RFC 9110 §5.6.7 asks recipients to accept the two obsolete formats as
    well (RFC 850 and asctime); ``email.utils`` reads all three.
    """
    try:
        parsed = email.utils.parsedate_tz(value)
        return None if parsed is None else int(email.utils.mktime_tz(parsed))
    except (ValueError, OverflowError, TypeError):
        return None


# --- entity tags (RFC 9110 §8.8.3) ---------------------------------------------------

# entity-tag = [ weak ] opaque-tag; opaque-tag = DQUOTE *etagc DQUOTE. Lenient:
# any character but DQUOTE inside, as servers in the wild send.
_ENTITY_TAG = re.compile(r'\s*(W/)?("[^"]*")\s*(?:,|$)')


def parse_entity_tags(value: str) -> list[tuple[bool, str]] | None:
    """``If-Match``/``If-None-Match``: ``[(weak, '"opaque"'), ...]``, or None for ``*``.

    Empty list elements are skipped (RFC 9110 §5.6.1); an element that is not
    an entity-tag ends the list there, so a garbled header matches less, never
    more.
    """
    if value.strip() == "*":
        return None
    tags: list[tuple[bool, str]] = []
    position = 0
    while position < len(value):
        while position < len(value) and value[position] in " \t,":
            position += 1
        found = _ENTITY_TAG.match(value, position)
        if found is None:
            break
        tags.append((found.group(1) is not None, found.group(2)))
        position = found.end()
    return tags


def _opaque(etag: str) -> tuple[bool, str]:
    weak = etag.startswith("W/")
    return weak, etag[2:] if weak else etag


def etag_matches(header: str, etag: str, *, strong: bool) -> bool:
    """Whether ``etag`` (our current tag) is one of those listed in ``header``.

    RFC 9110 §8.8.3.2: the weak comparison (``If-None-Match``) compares the
    opaque tags alone; the strong one (``If-Match``, ``If-Range``) also needs
    both tags to be strong. ``*`` matches any current representation.
    """
    tags = parse_entity_tags(header)
    if tags is None:
        return True
    our_weak, our_tag = _opaque(etag)
    if strong and our_weak:
        return False
    return any(tag == our_tag and not (strong and weak) for weak, tag in tags)


# --- conditional requests (RFC 9110 §13.2.2) ------------------------------------------


def evaluate_preconditions(
    method: str,
    if_match: str | None,
    if_unmodified_since: str | None,
    if_none_match: str | None,
    if_modified_since: str | None,
    etag: str | None,
    last_modified: int | None,
) -> int | None:
    """The status a conditional request is answered with (304 or 412), or None to go on.

    Follows the order of RFC 9110 §13.2.2 for a representation that exists:
    ``If-Match`` (else ``If-Unmodified-Since``) failing is 412;
    ``If-None-Match`` matching is 304 for GET and HEAD and 412 otherwise;
    without it, ``If-Modified-Since`` not older than ``last_modified`` is 304
    for GET and HEAD. A date that does not parse is ignored (§13.1.3, §13.1.4).
    """
    if if_match is not None:
        if etag is None or not etag_matches(if_match, etag, strong=True):
            return 412
    elif if_unmodified_since is not None and last_modified is not None:
        date = parse_http_date(if_unmodified_since)
        if date is not None and last_modified > date:
            return 412
    safe = method in ("GET", "HEAD")
    if if_none_match is not None:
        # "*" matches as long as the representation exists, which it does here.
        matched = parse_entity_tags(if_none_match) is None or (
            etag is not None and etag_matches(if_none_match, etag, strong=False)
        )
        if matched:
            return 304 if safe else 412
    elif safe and if_modified_since is not None and last_modified is not None:
        date = parse_http_date(if_modified_since)
        if date is not None and last_modified <= date:
            return 304
    return None


def if_range_allows(if_range: str, etag: str | None, last_modified: int | None) -> bool:
    """RFC 9110 §13.1.5: whether the Range may be honoured given ``If-Range``.

    An entity-tag must match ours strongly; a date must equal our
    ``last-modified`` exactly. Anything else means "send the whole thing".
    """
    value = if_range.strip()
    if value.startswith(('"', "W/")):
        return etag is not None and etag_matches(value, etag, strong=True)
    date = parse_http_date(value)
    return date is not None and last_modified is not None and date == last_modified


# --- byte ranges (RFC 9110 §14) ---------------------------------------------------------

# perf: a client asking for more parts than this gets the whole representation
# (RFC 9110 §14.2 lets a server ignore a Range of "many small ranges").
MAX_RANGES = 100
_RANGE_SPEC = re.compile(r"([0-9]*)-([0-9]*)")


class MalformedRange(ValueError):
    """The Range header is not a valid ``bytes`` ranges-specifier (answer 400)."""


class UnsatisfiableRange(ValueError):
    """No range in the header overlaps the representation (answer 416)."""


def parse_range(header: str, size: int) -> list[tuple[int, int]] | None:
    """The byte ranges a ``Range`` header asks of ``size`` bytes, as ``(start, stop)``.

    ``stop`` is exclusive. The result is sorted, with overlapping and adjacent
    ranges merged (RFC 9110 §15.3.7.2 allows coalescing), so each byte is sent
    once. Returns None when the header is to be ignored: a unit other than
    ``bytes`` (§14.2: MUST ignore), more than ``MAX_RANGES`` ranges, or a
    suffix range of an empty representation (satisfiable, yet no
    ``content-range`` can describe zero bytes: the whole, empty, body is sent).

    Raises ``MalformedRange`` for a syntax error or a range whose last position
    comes before its first (§14.1.1: invalid), and ``UnsatisfiableRange`` when
    no range is satisfiable: every first position at or past ``size``, or a
    suffix of length zero (§14.1.1).
    """
    unit, equals, range_set = header.partition("=")
    if not equals:
        raise MalformedRange(f"Range {header!r} has no '='")
    if unit.strip().lower() != "bytes":
        return None
    specs = [spec.strip() for spec in range_set.split(",")]
    specs = [spec for spec in specs if spec]  # 1#range-spec allows empty elements
    if not specs:
        raise MalformedRange(f"Range {header!r} names no range")
    if len(specs) > MAX_RANGES:
        return None
    ranges: list[tuple[int, int]] = []
    suffix_on_empty = False
    for spec in specs:
        found = _RANGE_SPEC.fullmatch(spec)
        if found is None or not (found.group(1) or found.group(2)):
            raise MalformedRange(f"invalid range {spec!r} in {header!r}")
        first, last = found.group(1), found.group(2)
        if first:
            start = int(first)
            if last and int(last) < start:
                raise MalformedRange(f"range {spec!r} ends before it starts")
            if start < size:  # §14.1.1: satisfiable if first-pos < length
                stop = min(int(last) + 1, size) if last else size
                ranges.append((start, stop))
        else:
            length = int(last)
            if length > 0:  # §14.1.3: a longer suffix than the whole means the whole
                if size == 0:
                    suffix_on_empty = True
                else:
                    ranges.append((max(size - length, 0), size))
    if not ranges:
        if suffix_on_empty:
            return None
        raise UnsatisfiableRange(f"no range of {header!r} is within {size} bytes")
    ranges.sort()
    merged = [ranges[0]]
    for start, stop in ranges[1:]:
        last_start, last_stop = merged[-1]
        if start <= last_stop:
            merged[-1] = (last_start, max(last_stop, stop))
        else:
            merged.append((start, stop))
    return merged


def content_range(start: int, stop: int, size: int) -> str:
    """``bytes first-last/complete-length`` (RFC 9110 §14.4); ``stop`` is exclusive."""
    return f"bytes {start}-{stop - 1}/{size}"


def multipart_part_header(
    boundary: str, content_type: str, start: int, stop: int, size: int
) -> bytes:
    """The delimiter and headers that open one part of ``multipart/byteranges``.

    RFC 9110 §14.6 and RFC 2046 §5.1.1: every part is ``--boundary``, its own
    ``content-type`` and ``content-range``, a blank line, then the bytes. The
    CRLF that ends a part's bytes belongs to the next delimiter, so parts
    after the first begin with it.
    """
    return (
        f"--{boundary}\r\ncontent-type: {content_type}\r\n"
        f"content-range: {content_range(start, stop, size)}\r\n\r\n"
    ).encode("latin-1")


def multipart_closing(boundary: str) -> bytes:
    """The close delimiter that ends a ``multipart/byteranges`` body."""
    return f"\r\n--{boundary}--\r\n".encode("latin-1")


# --- content-disposition (RFC 6266, RFC 8187) -------------------------------------------

# RFC 8187 §3.2.1: attr-char = ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-"
# / "." / "^" / "_" / "`" / "|" / "~"; everything else is percent-encoded.
_ATTR_CHAR_SAFE = "!#$&+-.^_`|~"
# A filename sent as a plain quoted-string: printable ASCII without the
# characters that need escaping (DQUOTE, backslash) or that some browsers
# decode (a "%" followed by hex digits, RFC 6266 Appendix D).
_PLAIN_FILENAME = re.compile(r"[\x20-\x7e]+")
_NOT_FALLBACK_SAFE = re.compile(r'[^\x20-\x7e]|["\\%]')
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def content_disposition(disposition_type: str, filename: str) -> str:
    """The ``content-disposition`` value that offers ``filename``.

    A plain ASCII name goes in ``filename="..."`` (RFC 6266 §4.1). Any other
    name (non-ASCII, or holding ``"``, ``\\``, ``%`` or a control character)
    is sent as ``filename*=utf-8''...`` (RFC 8187 §3.2: UTF-8, percent-encoded),
    preceded by an ASCII ``filename="..."`` fallback for user agents that do
    not read ``filename*`` (RFC 6266 §4.3 asks for this order).
    """
    if _TOKEN.fullmatch(disposition_type) is None:
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
