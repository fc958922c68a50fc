"""Conditional requests (RFC 9110 §13) and the entity tags they compare (§8.8.3).

A client that holds a copy asks "only if it changed" (``If-None-Match``,
``If-Modified-Since``: 304), "only if it did not" (``If-Match``,
``If-Unmodified-Since``: 412), or "the range, only if unchanged"
(``If-Range``). These functions decide; the caller sends.
"""

from __future__ import annotations

import re

from microweb._http.dates import parse_http_date

__all__ = ["etag_matches", "evaluate_preconditions", "if_range_allows", "parse_entity_tags"]

# --- entity tags (RFC 9110 §8.8.3) ---

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


# --- conditional requests (RFC 9110 §13.2.2) ---


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
