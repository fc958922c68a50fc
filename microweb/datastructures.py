"""The values a request and a response expose: headers, query parameters and URLs.

Headers stay what the ASGI server gives and takes: a list of ``(bytes, bytes)``
pairs with lower-cased names (ASGI spec, HTTP scope ``headers``). ``Headers``
is a read-only, case-insensitive, multi-valued view over such a list, built
on demand; ``MutableHeaders`` edits the very list it wraps, so a response's
``headers`` view and its ``raw_headers`` can never disagree.

Names and values are decoded as Latin-1 (RFC 9110 §5.5: field values are
octets, historically ISO-8859-1). A name must be an RFC 9110 token and a
value may not hold CR, LF or NUL, so no header can smuggle in another one:
every str header passes ``encode_header`` (``microweb._http.fields``).
The query string is parsed by ``microweb._http.urls.parse_query_string``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import IO, Any, NamedTuple, TypeVar
from urllib.parse import SplitResult, parse_qsl, quote, urlencode, urlsplit

# encode_header and parse_query_string stay importable from here too.
from microweb._http.fields import encode_header as encode_header
from microweb._http.urls import PATH_SAFE, is_host
from microweb._http.urls import parse_query_string as parse_query_string
from microweb.concurrency import run_in_threadpool
from microweb.types import Scope

__all__ = [
    "URL",
    "Address",
    "FormData",
    "Headers",
    "MutableHeaders",
    "QueryParams",
    "State",
    "UploadFile",
]

_V = TypeVar("_V")

RawHeaders = list[tuple[bytes, bytes]]


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
        name = key.encode("latin-1").lower()
        return [v.decode("latin-1") for k, v in self._raw if k == name]

    def multi_items(self) -> list[tuple[str, str]]:
        """Every ``(name, value)`` pair, duplicates included."""
        return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in self._raw]

    def __getitem__(self, key: str) -> str:
        name = key.encode("latin-1").lower()
        for k, v in self._raw:
            if k == name:
                return v.decode("latin-1")
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        name = key.encode("latin-1").lower()
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
        name = key.encode("latin-1").lower()
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


class Address(NamedTuple):
    """The client's address: ``request.client.host`` and ``request.client.port``."""

    host: str
    port: int


class _MultiMapping(Mapping[str, _V]):
    """A read-only mapping that keeps every value of a repeated key.

    ``m[key]`` and ``m.get(key)`` give the first value, ``m.getlist(key)``
    every value in order; iteration yields each distinct key once, in the
    order keys first appear. Two of the same class are equal when they hold
    the same pairs, in any order; compared with a plain mapping, the first
    values count.
    """

    __slots__ = ("_first", "_list")

    def __init__(self, pairs: list[tuple[str, _V]]) -> None:
        self._list = pairs
        # Keys in order of first appearance, each with its first value.
        first = dict(pairs)
        if len(first) != len(pairs):
            # A key repeats: dict() kept its last value; put the first back
            # (updating a key does not move it).
            for key, value in reversed(pairs):
                first[key] = value
        self._first: dict[str, _V] = first

    def getlist(self, key: str) -> list[_V]:
        """Every value of ``key``, in the order they appear."""
        return [v for k, v in self._list if k == key]

    def multi_items(self) -> list[tuple[str, _V]]:
        """Every ``(key, value)`` pair, repeats included."""
        return list(self._list)

    def __getitem__(self, key: str) -> _V:
        return self._first[key]

    def __contains__(self, key: object) -> bool:
        return key in self._first

    def __iter__(self) -> Iterator[str]:
        return iter(self._first)

    def __len__(self) -> int:
        return len(self._first)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, type(self)):
            return sorted(self._list, key=_pair_key) == sorted(other._list, key=_pair_key)
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]


def _pair_key(pair: tuple[str, Any]) -> tuple[str, str]:
    # Values may be UploadFiles, which do not order: compare by their repr.
    key, value = pair
    return key, value if isinstance(value, str) else repr(value)


class QueryParams(_MultiMapping[str]):
    """Read-only, multi-valued query parameters.

    ``params["tag"]`` and ``params.get("tag")`` give the first value,
    ``params.getlist("tag")`` every value in order. Built from a query
    string (``"a=1&a=2"``, str or bytes), a list of pairs, or a mapping.

    Parsing is as lenient as browsers are (WHATWG URL "application/x-www-form-urlencoded
    parsing"): ``+`` is a space, a malformed escape such as ``%zz`` or a
    lone ``%`` is kept literally, empty values are kept (``?a=&b`` gives
    ``a=""`` and ``b=""``). Bytes that are not UTF-8, raw or percent-encoded,
    are a ``UnicodeDecodeError`` (a ValueError); the request answers 400.
    """

    __slots__ = ()

    def __init__(
        self, params: str | bytes | Mapping[str, str] | Sequence[tuple[str, str]] = ""
    ) -> None:
        if isinstance(params, bytes):
            params = params.decode("utf-8")
        if isinstance(params, str):
            pairs = parse_query_string(params)
        elif isinstance(params, Mapping):
            pairs = list(params.items())
        else:
            pairs = list(params)
        super().__init__(pairs)

    def __str__(self) -> str:
        return urlencode(self._list)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


class URL:
    """A URL with its parts: ``scheme``, ``netloc``, ``hostname``, ``port``, ``path``, ``query``.

    ``url.replace(path="/other")`` and ``url.include_query_params(page=2)``
    return new URLs; a URL compares equal to its string.
    """

    __slots__ = ("_parts", "_url")

    def __init__(self, url: str = "", *, scope: Scope | None = None) -> None:
        if scope is not None:
            url = _url_from_scope(scope)
        self._url = url
        self._parts: SplitResult | None = None

    @property
    def components(self) -> SplitResult:
        if self._parts is None:
            self._parts = urlsplit(self._url)
        return self._parts

    @property
    def scheme(self) -> str:
        return self.components.scheme

    @property
    def netloc(self) -> str:
        return self.components.netloc

    @property
    def path(self) -> str:
        return self.components.path

    @property
    def query(self) -> str:
        return self.components.query

    @property
    def fragment(self) -> str:
        return self.components.fragment

    @property
    def hostname(self) -> str | None:
        return self.components.hostname

    @property
    def port(self) -> int | None:
        """The port, or None when the URL names none (or one that is not a port)."""
        try:
            return self.components.port
        except ValueError:  # "a:99999", "a:x": no port to give
            return None

    @property
    def username(self) -> str | None:
        return self.components.username

    @property
    def password(self) -> str | None:
        return self.components.password

    @property
    def is_secure(self) -> bool:
        return self.scheme in ("https", "wss")

    def replace(self, **changes: Any) -> URL:
        """A copy with parts changed: ``scheme``, ``netloc``, ``path``, ``query``, ``fragment``.

        ``hostname``, ``port``, ``username`` and ``password`` rebuild the netloc.
        """
        parts = self.components
        if {"hostname", "port", "username", "password"} & changes.keys():
            hostname = changes.pop("hostname", parts.hostname) or ""
            port = changes.pop("port", parts.port)
            username = changes.pop("username", parts.username)
            password = changes.pop("password", parts.password)
            if ":" in hostname:  # an IPv6 literal
                hostname = f"[{hostname}]"
            netloc = hostname if port is None else f"{hostname}:{port}"
            if username is not None:
                userinfo = username if password is None else f"{username}:{password}"
                netloc = f"{userinfo}@{netloc}"
            changes["netloc"] = netloc
        return URL(parts._replace(**changes).geturl())

    def include_query_params(self, **params: Any) -> URL:
        """A copy with these query parameters set (replacing existing values of the same name)."""
        query = [
            (k, v) for k, v in parse_qsl(self.query, keep_blank_values=True) if k not in params
        ]
        query += [(k, str(v)) for k, v in params.items()]
        return self.replace(query=urlencode(query))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (URL, str)):
            return str(self) == str(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._url)

    def __str__(self) -> str:
        return self._url

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._url!r})"


def _url_from_scope(scope: Scope) -> str:
    """Rebuild the request URL from an ASGI HTTP scope (the Host header wins over ``server``)."""
    scheme = scope.get("scheme", "http")
    root_path = scope.get("root_path", "")
    path = scope["path"]
    if root_path and not (
        path.startswith(root_path) and path[len(root_path) : len(root_path) + 1] in ("", "/")
    ):
        # Some servers put root_path in front of path (uvicorn does), some do
        # not; /products does not start with the root path /product.
        path = root_path + path
    # scope["path"] is percent-decoded; a URL needs it encoded again.
    path = quote(path, safe=PATH_SAFE)
    host = None
    for name, value in scope.get("headers", ()):
        if name == b"host":
            host = value.decode("latin-1")
            break
    if not host or not is_host(host):
        host = None  # an empty or malformed Host ("[", "evil/x", "a@b") never shapes the URL
    if host is None:
        server = scope.get("server")
        if server is None:
            host = ""
        else:
            host_name, port = server
            host = host_name if _DEFAULT_PORTS.get(scheme) == port else f"{host_name}:{port}"
    url = f"{scheme}://{host}{path}"
    query = scope.get("query_string", b"")
    if query:
        url += "?" + query.decode("latin-1")
    return url


class State:
    """Attribute access over a dict: ``request.state.user = ...``.

    Backed by the scope's ``state`` dict, so what the lifespan put there is
    visible to every request.
    """

    __slots__ = ("_data",)

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        object.__setattr__(self, "_data", {} if data is None else data)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(f"state has no attribute {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self._data[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self._data[name]
        except KeyError:
            raise AttributeError(f"state has no attribute {name!r}") from None


class UploadFile:
    """A file sent in a ``multipart/form-data`` form.

    ``filename`` is the name the client gave (never trust it as a path),
    ``content_type`` and ``headers`` come from the part's headers, ``size``
    counts the bytes written so far. The bytes live in ``file``: for an
    upload, a ``tempfile.SpooledTemporaryFile`` kept in memory up to 1 MiB
    and rolled over to a temporary file on disk past that. ``read``,
    ``write``, ``seek`` and ``close`` are async: once the file is on disk
    they run in a worker thread, so a big upload never blocks the event
    loop::

        @app.post("/upload")
        async def upload(request: Request) -> dict[str, Any]:
            form = await request.form()
            photo = form["photo"]                 # an UploadFile
            data = await photo.read()
            return {"name": photo.filename, "size": photo.size}

    The temporary file is removed by ``close()``, which the request calls
    for every file of its form when the response is done.
    """

    __slots__ = ("file", "filename", "headers", "size")

    def __init__(
        self,
        file: IO[bytes],
        *,
        size: int | None = None,
        filename: str | None = None,
        headers: Headers | None = None,
    ) -> None:
        self.file = file
        self.size = size
        self.filename = filename
        self.headers = headers if headers is not None else Headers()

    @property
    def content_type(self) -> str | None:
        """The part's ``content-type`` header, or None when it sent none."""
        return self.headers.get("content-type")

    def _on_loop(self, extra: int = 0) -> bool:
        """Whether I/O writing ``extra`` bytes stays in memory (cheap enough for the loop).

        A ``SpooledTemporaryFile`` that has not rolled over is a BytesIO
        underneath; a write that takes it past its ``max_size`` rolls it to
        disk, so that one goes to a thread too. Any other file object is
        treated as on disk. ``_rolled`` and ``_max_size`` are CPython's own
        (there since 3.2); were they gone, every call would take a thread.
        """
        # perf: in-memory I/O skips the thread hop: a seek costs 0.3 us, not 43 us.
        if getattr(self.file, "_rolled", True):
            return False
        max_size: int = getattr(self.file, "_max_size", 0)
        return not max_size or self.file.tell() + extra <= max_size

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        """Append ``data`` at the current position and add its length to ``size``."""
        if self.size is not None:
            self.size += len(data)
        if self._on_loop(len(data)):
            self.file.write(data)
        else:
            await run_in_threadpool(self.file.write, data)

    async def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes (everything left when negative) from the current position."""
        if self._on_loop():
            return self.file.read(size)
        return await run_in_threadpool(self.file.read, size)

    async def seek(self, offset: int, whence: int = 0) -> int:
        """Move to ``offset`` (``whence`` as for ``io.IOBase.seek``); return the new position."""
        if self._on_loop():
            return self.file.seek(offset, whence)
        return await run_in_threadpool(self.file.seek, offset, whence)

    async def close(self) -> None:
        """Close the file, removing its temporary file; calling it again does nothing."""
        if self.file.closed:
            return
        if self._on_loop():
            self.file.close()
        else:
            await run_in_threadpool(self.file.close)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(filename={self.filename!r}, size={self.size!r}, "
            f"content_type={self.content_type!r})"
        )


class FormData(_MultiMapping[str | UploadFile]):
    """A parsed form: read-only and multi-valued, like ``QueryParams``.

    Text fields are ``str``, files are ``UploadFile``. ``form["tag"]`` and
    ``form.get("tag")`` give the first value, ``form.getlist("tag")`` every
    value in order::

        form = await request.form()
        name = form["name"]                       # str
        tags = form.getlist("tag")                # ["a", "b"]
        files = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
    """

    __slots__ = ()

    def __init__(
        self,
        items: Mapping[str, str | UploadFile] | Sequence[tuple[str, str | UploadFile]] = (),
    ) -> None:
        super().__init__(list(items.items()) if isinstance(items, Mapping) else list(items))

    async def close(self) -> None:
        """Close every file of the form (see ``UploadFile.close``)."""
        for _, value in self._list:
            if isinstance(value, UploadFile):
                await value.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._list!r})"
