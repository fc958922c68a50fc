"""HTTP-dates (RFC 9110 §5.6.7): ``Sun, 06 Nov 1994 08:49:37 GMT``."""

from __future__ import annotations

import datetime
import email.utils

__all__ = ["http_date", "parse_http_date"]


def http_date(moment: datetime.datetime | float) -> str:
    """The IMF-fixdate for a datetime (naive means UTC) or a POSIX timestamp.

    RFC 9110 §5.6.7: a sender generates this format, always in GMT.
    """
    if isinstance(moment, datetime.datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.timezone.utc)
        moment = moment.timestamp()
    return email.utils.formatdate(moment, usegmt=True)


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
