"""``FileResponse``: a file from disk, with ranges and conditional requests.

Theory of operation
-------------------

A ``FileResponse`` is built once and may answer any number of requests: its
constructor fixes what does not depend on the request (the path, the media
type, ``content-disposition``, and the stat headers when given a
``stat_result``); each call works on a copy of the headers and never
changes the object. One call goes:

1. **stat** (and, for a GET, open) the file in a worker thread: one hop.
   A missing file, or one that is not a regular file, is a RuntimeError
   naming the path, raised before anything is sent (the App answers 500).
2. **headers**: ``content-length``, ``last-modified`` and a strong ``etag``
   (``"<mtime in ns, hex>-<size, hex>"``, nginx's recipe with finer time)
   from the stat; ``accept-ranges: bytes``. Given headers win for ``etag``
   and ``last-modified`` (the preconditions below compare with what is
   sent) and for ``accept-ranges`` (``none`` turns ranges off).
3. **preconditions** (RFC 9110 §13.2.2, only when the status is 2xx, §13.2.1):
   ``If-Match``/``If-Unmodified-Since`` failing answer 412;
   ``If-None-Match``/``If-Modified-Since`` showing the client's copy is
   current answer 304 (with the headers a 200 would have had, less the
   ``content-*`` ones: RFC 9110 §15.4.5).
4. **range** (RFC 9110 §14.2: GET only, status 200 only; a HEAD with Range
   answers as a plain HEAD): honoured unless ``If-Range`` says the client's
   copy is stale (§13.1.5). A malformed Range answers 400, an unsatisfiable
   one 416 with ``content-range: bytes */SIZE``, one range 206 with
   ``content-range``, several 206 ``multipart/byteranges`` (§14.6).
5. **body**: HEAD sends none and never opens the file. When the server
   offers the ``http.response.pathsend`` extension and the whole file is
   asked for, the server sends it itself. Otherwise the file is read
   ``chunk_size`` bytes at a time and each chunk sent before the next is
   read: memory stays constant whatever the file's size, and the server's
   flow control paces the reads. A chunk the page cache holds is read on
   the loop (``RWF_NOWAIT`` never waits for the disk); any other goes to a
   worker thread. ``_stream.run_stream`` runs that loop, so a client that
   leaves stops the reading at once.
"""

from __future__ import annotations

import mimetypes
import os
import secrets
import stat
import warnings

from microweb._http.conditional import evaluate_preconditions, if_range_allows
from microweb._http.dates import http_date, parse_http_date
from microweb._http.disposition import content_disposition
from microweb._http.fields import encode_header
from microweb._http.ranges import (
    MalformedRange,
    UnsatisfiableRange,
    content_range,
    multipart_closing,
    multipart_part_header,
    parse_range,
)
from microweb.background import BackgroundTask
from microweb.concurrency import run_in_threadpool
from microweb.responses._base import BODYLESS_STATUSES, HeadersInput, RawHeaders, send_empty
from microweb.responses._simple import PlainTextResponse
from microweb.responses._stream import StreamingBase, Transmission, run_stream
from microweb.types import Receive, Scope, Send

__all__ = ["FileResponse"]

_PATHSEND = "http.response.pathsend"


def _etag(result: os.stat_result) -> str:
    return f'"{result.st_mtime_ns:x}-{result.st_size:x}"'


def _stat_headers(result: os.stat_result) -> RawHeaders:
    return [
        (b"content-length", b"%d" % result.st_size),
        (b"last-modified", http_date(result.st_mtime).encode("latin-1")),
        (b"etag", _etag(result).encode("latin-1")),
    ]


def _missing(path: str | os.PathLike[str]) -> RuntimeError:
    return RuntimeError(f"File at path {os.fspath(path)!r} does not exist.")


def _not_a_file(path: str | os.PathLike[str]) -> RuntimeError:
    return RuntimeError(f"File at path {os.fspath(path)!r} is not a file.")


def _stat(path: str | os.PathLike[str]) -> os.stat_result:
    try:
        result = os.stat(path)
    except FileNotFoundError:
        raise _missing(path) from None
    if not stat.S_ISREG(result.st_mode):
        raise _not_a_file(path)
    return result


def _open(path: str | os.PathLike[str]) -> int:
    try:
        return os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise _missing(path) from None


def _open_and_stat(path: str | os.PathLike[str]) -> tuple[int, os.stat_result]:
    """Open for reading and fstat that descriptor: the headers describe what is read."""
    fd = _open(path)
    try:
        result = os.fstat(fd)
        if not stat.S_ISREG(result.st_mode):
            raise _not_a_file(path)
    except BaseException:
        os.close(fd)
        raise
    return fd, result


if hasattr(os, "pread"):

    def _read(fd: int, offset: int, size: int) -> bytes:
        # perf: one system call, and no shared file position to keep in step.
        return os.pread(fd, size, offset)

else:  # pragma: no cover - Windows

    def _read(fd: int, offset: int, size: int) -> bytes:
        os.lseek(fd, offset, os.SEEK_SET)
        return os.read(fd, size)


_NOWAIT: int | None = getattr(os, "RWF_NOWAIT", None) if hasattr(os, "preadv") else None


def _read_cached(fd: int, offset: int, size: int) -> bytes | None:
    """Up to ``size`` bytes at ``offset`` if the page cache holds them, else None.

    ``preadv2`` with ``RWF_NOWAIT`` (Linux 4.14+) never waits for the disk:
    it answers EAGAIN instead (a filesystem without it answers another
    error), and then the caller reads in a worker thread.
    """
    if _NOWAIT is None:  # pragma: no cover - not Linux
        return None
    buffer = bytearray(size)
    try:
        count = os.preadv(fd, [buffer], offset, _NOWAIT)
    except OSError:  # EAGAIN: not cached; EOPNOTSUPP: not here. Either way, a thread.
        return None
    if count == size:
        return bytes(buffer)
    return bytes(memoryview(buffer)[:count]) if count else None


def _header(headers: RawHeaders, name: bytes) -> str | None:
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None  # pragma: no cover - callers ask for headers FileResponse always sets


class FileResponse(StreamingBase):
    """Send a file from disk, streamed in ``chunk_size`` pieces.

    ``FileResponse(path, status_code=200, headers=None, media_type=None,
    background=None, filename=None, stat_result=None, method=None,
    content_disposition_type="attachment")``

    - ``media_type`` defaults to a guess from ``filename`` (else ``path``),
      else ``text/plain``.
    - ``filename`` adds ``content-disposition: attachment; filename="..."``
      (``content_disposition_type="inline"`` to show it in the browser); a
      non-ASCII name is sent as ``filename*`` (RFC 8187) with an ASCII
      fallback.
    - ``stat_result`` (from ``os.stat``) sets ``content-length``,
      ``last-modified`` and ``etag`` now, and spares a stat per request;
      without it the file is stat'ed on every request.
    - ``method`` is deprecated and ignored: the request's method decides.

    Handles HEAD, ``If-None-Match``/``If-Modified-Since`` (304),
    ``If-Match``/``If-Unmodified-Since`` (412), single and multiple byte
    ranges (206), ``If-Range``, unsatisfiable (416) and malformed (400)
    ranges. A missing file is a RuntimeError naming the path, raised when a
    request is answered. The object is never changed by a request, so one
    ``FileResponse`` may answer many.
    """

    chunk_size = 64 * 1024

    def __init__(
        self,
        path: str | os.PathLike[str],
        status_code: int = 200,
        headers: HeadersInput | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
        filename: str | None = None,
        stat_result: os.stat_result | None = None,
        method: str | None = None,
        content_disposition_type: str = "attachment",
    ) -> None:
        if method is not None:
            warnings.warn(
                "FileResponse's 'method' argument is deprecated and ignored: "
                "the request's method decides (a HEAD request gets no body)",
                DeprecationWarning,
                stacklevel=2,
            )
        self.path = path
        self.filename = filename
        if media_type is None:
            media_type = mimetypes.guess_type(filename or os.fspath(path))[0] or "text/plain"
        super().__init__(None, status_code, headers, media_type, background)
        if filename is not None and not self._given(b"content-disposition"):
            value = content_disposition(content_disposition_type, filename)
            self.raw_headers.append(encode_header("content-disposition", value))
        if not self._given(b"accept-ranges"):
            self.raw_headers.append((b"accept-ranges", b"bytes"))
        self.stat_result = stat_result
        if stat_result is not None:
            self.raw_headers = _with_stat_headers(self.raw_headers, stat_result)

    def _given(self, name: bytes) -> bool:
        return any(key == name for key, _ in self.raw_headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A scope without a method is answered as a GET.
        wants_body = scope.get("method") != "HEAD" and self.status_code not in BODYLESS_STATUSES
        fd: int | None = None
        if (
            wants_body
            and self.stat_result is None
            and _PATHSEND not in scope.get("extensions", {})
        ):
            # perf: the common GET opens and stats in a single worker-thread hop.
            fd, result = await run_in_threadpool(_open_and_stat, self.path)
        elif self.stat_result is not None:
            result = self.stat_result
        else:
            result = await run_in_threadpool(_stat, self.path)
        try:
            await self._answer(scope, receive, send, result, fd)
        finally:
            if fd is not None:
                # perf: closing a read-only descriptor does not block: no thread hop.
                os.close(fd)
        if self.background is not None:
            await self.background()

    async def _answer(
        self, scope: Scope, receive: Receive, send: Send, result: os.stat_result, fd: int | None
    ) -> None:
        headers = self.raw_headers
        if self.stat_result is None:
            headers = _with_stat_headers(headers, result)
        method = scope.get("method", "GET")
        request = _RequestHeaders(scope)
        status, etag, last_modified = self._preconditions(method, request, headers)
        if status is not None:
            await send_empty(send, status, _refusal_headers(headers, status))
            return
        if self.status_code in BODYLESS_STATUSES:
            await send_empty(send, self.status_code, _replace(headers, b"content-length", None))
            return
        if method == "HEAD":
            await send_empty(send, self.status_code, headers)
            return
        ranges: list[tuple[int, int]] | None = None
        range_header = request.get(b"range")
        if (
            range_header is not None
            and method == "GET"
            and self.status_code == 200
            # RFC 9110 §14.3: a given "accept-ranges: none" turns ranges off.
            and (_header(headers, b"accept-ranges") or "").lower() != "none"
        ):
            if_range = request.get(b"if-range")
            if if_range is None or if_range_allows(if_range, etag, last_modified):
                try:
                    ranges = parse_range(range_header, result.st_size)
                except MalformedRange as exc:
                    bad = PlainTextResponse(f"Bad Request: {exc}", status_code=400)
                    await bad(scope, receive, send)
                    return
                except UnsatisfiableRange:
                    unsatisfied = (b"content-range", b"bytes */%d" % result.st_size)
                    await send_empty(send, 416, _refusal_headers(headers, 416, unsatisfied))
                    return
        if fd is not None:
            await self._stream(scope, receive, send, fd, headers, result.st_size, ranges)
        elif ranges is None and _PATHSEND in scope.get("extensions", {}):
            # ASGI "Path Send" extension: the server sends the file itself.
            start = {"type": "http.response.start", "status": self.status_code}
            await send({**start, "headers": headers})
            await send({"type": "http.response.pathsend", "path": os.path.abspath(self.path)})
        else:
            fd = await run_in_threadpool(_open, self.path)
            try:
                await self._stream(scope, receive, send, fd, headers, result.st_size, ranges)
            finally:
                os.close(fd)

    def _preconditions(
        self, method: str, request: _RequestHeaders, headers: RawHeaders
    ) -> tuple[int | None, str | None, int | None]:
        """The 304 or 412 the request's preconditions call for (or None), our etag and date."""
        etag = _header(headers, b"etag")
        modified = _header(headers, b"last-modified")
        last_modified = None
        if modified is not None and (
            request.get(b"if-unmodified-since") is not None
            or request.get(b"if-modified-since") is not None
            or request.get(b"if-range") is not None
        ):  # perf: parsed only for a request that compares dates (~5 µs)
            last_modified = parse_http_date(modified)
        if not 200 <= self.status_code < 300:
            return None, etag, last_modified
        status = evaluate_preconditions(
            method,
            request.get(b"if-match"),
            request.get(b"if-unmodified-since"),
            request.get(b"if-none-match"),
            request.get(b"if-modified-since"),
            etag,
            last_modified,
        )
        return status, etag, last_modified

    def _not_modified(self, scope: Scope) -> RawHeaders | None:
        """The headers of a 304 if the request's validators match the given ``stat_result``.

        None for any other outcome (the caller then answers in full). Only a
        response made with ``stat_result`` can tell, without a stat.
        """
        assert self.stat_result is not None  # the stat headers are in raw_headers
        method = scope.get("method", "GET")
        request = _RequestHeaders(scope)
        status = self._preconditions(method, request, self.raw_headers)[0]
        return _refusal_headers(self.raw_headers, 304) if status == 304 else None

    async def _stream(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        fd: int,
        headers: RawHeaders,
        size: int,
        ranges: list[tuple[int, int]] | None,
    ) -> None:
        if ranges is None:
            status, parts = self.status_code, [(0, size, b"")]
            closing = b""
        elif len(ranges) == 1:
            start, stop = ranges[0]
            headers = _replace(headers, b"content-length", b"%d" % (stop - start))
            headers.append((b"content-range", content_range(start, stop, size).encode()))
            status, parts, closing = 206, [(start, stop, b"")], b""
        else:
            boundary = secrets.token_hex(16)
            content_type = _header(headers, b"content-type") or "application/octet-stream"
            parts = [
                (
                    start,
                    stop,
                    (b"\r\n" if index else b"")
                    + multipart_part_header(boundary, content_type, start, stop, size),
                )
                for index, (start, stop) in enumerate(ranges)
            ]
            closing = multipart_closing(boundary)
            length = sum(stop - start + len(head) for start, stop, head in parts) + len(closing)
            headers = _replace(headers, b"content-length", b"%d" % length)
            headers = _replace(
                headers, b"content-type", f"multipart/byteranges; boundary={boundary}".encode()
            )
            status = 206

        async def produce(transmission: Transmission) -> None:
            await transmission.start(status, headers)
            for start, stop, head in parts:
                if head:
                    await transmission.body(head)
                offset = start
                while offset < stop:
                    size = min(self.chunk_size, stop - offset)
                    # perf: a chunk in the page cache is read right here (~3 µs for
                    # 64 KiB, copy included); a worker thread hop costs ~80 µs.
                    chunk = _read_cached(fd, offset, size)
                    if chunk is None:
                        chunk = await run_in_threadpool(_read, fd, offset, size)
                    if not chunk:
                        raise RuntimeError(
                            f"{os.fspath(self.path)!r} shrank while it was being sent"
                        )
                    await transmission.body(chunk)
                    offset += len(chunk)
            if closing:
                await transmission.body(closing)
            await transmission.end()

        await run_stream(scope, receive, send, produce)


class _RequestHeaders:
    """The few request headers FileResponse reads, found in one pass."""

    _WANTED = frozenset(
        {b"if-match", b"if-unmodified-since", b"if-none-match", b"if-modified-since"}
        | {b"range", b"if-range"}
    )

    def __init__(self, scope: Scope) -> None:
        found: dict[bytes, str] = {}
        for name, value in scope["headers"]:
            if name in self._WANTED:
                text = value.decode("latin-1")
                # RFC 9110 §5.3: repeated list fields combine with commas.
                found[name] = f"{found[name]}, {text}" if name in found else text
        self._found = found

    def get(self, name: bytes) -> str | None:
        return self._found.get(name)


def _with_stat_headers(headers: RawHeaders, result: os.stat_result) -> RawHeaders:
    """``headers`` plus the stat headers (a new list; given etag/last-modified win)."""
    present = {name for name, _ in headers}
    extra = [
        pair
        for pair in _stat_headers(result)
        if pair[0] == b"content-length" or pair[0] not in present
    ]
    return [pair for pair in headers if pair[0] != b"content-length"] + extra


def _replace(headers: RawHeaders, name: bytes, value: bytes | None) -> RawHeaders:
    """A copy of ``headers`` with ``name`` set to ``value`` (None: removed)."""
    kept = [pair for pair in headers if pair[0] != name]
    return kept if value is None else [*kept, (name, value)]


def _refusal_headers(headers: RawHeaders, status: int, *extra: tuple[bytes, bytes]) -> RawHeaders:
    """The headers of a 304, 412 or 416: the 200's, less the ``content-*`` ones, plus ``extra``.

    RFC 9110 §15.4.5: a 304 carries the 200's metadata but no content-*
    metadata (content-location aside); a 412 or 416 describes no
    representation, and says "no body" plainly with ``content-length: 0``.
    """
    kept = [
        (name, value)
        for name, value in headers
        if not name.startswith(b"content-") or name == b"content-location"
    ]
    kept += extra
    if status not in BODYLESS_STATUSES:
        kept.append((b"content-length", b"0"))
    return kept
