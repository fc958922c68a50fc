"""The mappings a request and a response expose: headers (and, later, query and form data).

Headers stay what the ASGI server gives and takes: a list of ``(bytes, bytes)``
pairs with lower-cased names (ASGI spec, HTTP scope ``headers``). ``Headers``
is a read-only, case-insensitive, multi-valued view over such a list, built
on demand; ``MutableHeaders`` edits the very list it wraps, so a response's
``headers`` view and its ``raw_headers`` can never disagree.

Names and values are decoded as Latin-1 (RFC 9110 §5.5: field values are
octets, historically ISO-8859-1). A name must be an RFC 9110 token and a
value may not hold CR, LF or NUL, so no header can smuggle in another one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping

from microweb.types import Scope

__all__ = ["Headers", "MutableHeaders"]

RawHeaders = list[tuple[bytes, bytes]]

# RFC 9110 §5.6.2: token = 1*tchar
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_FORBIDDEN_IN_VALUE = re.compile(r"[\r\n\x00]")


def encode_header(name: str, value: str) -> tuple[bytes, bytes]:
    """Validate one header and return it as a raw ASGI pair (lower-cased name).

    Raises ValueError for a name that is not a token, or a value holding CR,
    LF or NUL (header injection), or a value outside Latin-1.
    """
    if not isinstance(name, str) or not isinstance(value, str):
        raise TypeError(f"header names and values must be str, got {name!r}: {value!r}")
    if _TOKEN.fullmatch(name) is None:
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


class Headers(Mapping[str, str]):
    """Read-only, case-insensitive, multi-valued headers.

    ``headers["accept"]`` and ``headers.get("Accept")`` give the first value;
    ``headers.getlist("set-cookie")`` gives every value in order. Iteration
    yields each distinct (lower-cased) name once.
    """

    __slots__ = ("_raw",)

    def __init__(
        self,
        headers: Mapping[str, str] | None = None,
        *,
        raw: RawHeaders | None = None,
        scope: Scope | None = None,
    ) -> None:
        if sum(x is not None for x in (headers, raw, scope)) > 1:
            raise TypeError("Headers takes one of 'headers', 'raw' or 'scope', not several")
        if raw is not None:
            self._raw = raw
        elif scope is not None:
            # ASGI allows any iterable of pairs; a list makes it indexable.
            self._raw = list(scope["headers"])
        elif headers is not None:
            self._raw = [encode_header(k, v) for k, v in headers.items()]
        else:
            self._raw = []

    @property
    def raw(self) -> RawHeaders:
        """The underlying list of ``(name, value)`` byte pairs."""
        return self._raw

    def getlist(self, key: str) -> list[str]:
        """Every value of header ``key``, in the order they appear."""
        name = key.lower().encode("latin-1")
        return [v.decode("latin-1") for k, v in self._raw if k == name]

    def multi_items(self) -> list[tuple[str, str]]:
        """Every ``(name, value)`` pair, duplicates included."""
        return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in self._raw]

    def __getitem__(self, key: str) -> str:
        name = key.lower().encode("latin-1")
        for k, v in self._raw:
            if k == name:
                return v.decode("latin-1")
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        name = key.lower().encode("latin-1")
        return any(k == name for k, _ in self._raw)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(k.decode("latin-1") for k, _ in self._raw))

    def __len__(self) -> int:
        return len({k for k, _ in self._raw})

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return sorted(self._raw) == sorted(other._raw)
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.multi_items()!r})"


class MutableHeaders(Headers):
    """Headers you can change; every change lands in the wrapped raw list.

    ``headers["x"] = "1"`` replaces every ``x`` header with one; ``append``
    adds another value (as ``set-cookie`` needs); ``del headers["x"]``
    removes them all.
    """

    __slots__ = ()

    def __setitem__(self, key: str, value: str) -> None:
        name, raw_value = encode_header(key, value)
        found = False
        kept: RawHeaders = []
        for pair in self._raw:
            if pair[0] != name:
                kept.append(pair)
            elif not found:
                # Keep the header where it first stood.
                kept.append((name, raw_value))
                found = True
        if not found:
            kept.append((name, raw_value))
        self._raw[:] = kept

    def __delitem__(self, key: str) -> None:
        name = key.lower().encode("latin-1")
        if not any(k == name for k, _ in self._raw):
            raise KeyError(key)
        self._raw[:] = [pair for pair in self._raw if pair[0] != name]

    def append(self, key: str, value: str) -> None:
        """Add a value for ``key``, keeping the ones already there."""
        self._raw.append(encode_header(key, value))

    def setdefault(self, key: str, value: str) -> str:
        """Set ``key`` to ``value`` unless present; return the value in force."""
        try:
            return self[key]
        except KeyError:
            self.append(key, value)
            return value

    def update(self, other: Mapping[str, str] | Iterable[tuple[str, str]]) -> None:
        """Set each given header, replacing existing values of the same name."""
        items = other.items() if isinstance(other, Mapping) else other
        for key, value in items:
            self[key] = value

    def pop(self, key: str, *default: str) -> str:
        """Remove every value of ``key`` and return the first."""
        try:
            value = self[key]
        except KeyError:
            if default:
                return default[0]
            raise
        del self[key]
        return value

    def add_vary_header(self, vary: str) -> None:
        """Add ``vary`` to the ``vary`` header, keeping what it already lists."""
        existing = self.get("vary")
        self["vary"] = f"{existing}, {vary}" if existing else vary
