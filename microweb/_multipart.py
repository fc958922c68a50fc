"""Form bodies: ``application/x-www-form-urlencoded`` and ``multipart/form-data``.

Implements SPEC.md "Requests" (``form()``) on python-multipart's push
parsers, which do the byte-level work.

Theory of operation
-------------------

The body is fed to the parser chunk by chunk as it arrives
(``Request.stream()``); nothing holds the whole body. The parser calls our
callbacks synchronously from inside ``parser.write(chunk)``, and a callback
cannot await, so the work is split in two:

* **In the callbacks** (sync): part headers are gathered, each part is
  classified (a ``filename`` parameter in ``content-disposition`` makes it a
  file, RFC 7578 §4.2), the limits are checked, and the bytes of a text
  field are appended to a ``bytearray``. A limit or a malformed part raises
  ``HTTPException`` right there, which aborts ``write()``.
* **After each ``write()``** (async): the file bytes the callbacks queued
  are written to their ``UploadFile`` with ``await upload.write()``, which
  moves to a worker thread once the spool has rolled over to disk. The
  queue never holds more than one received chunk, so memory stays bounded
  by the server's chunk size whatever the size of the files.

Invariants
----------

1. No silently partial form. Every byte goes through the parser, and the
   multipart parser must reach its end state (the closing ``--boundary--``)
   by the time the body ends; a body that stops short, a bad boundary or
   garbage is a 400.
2. Nothing leaks. Every ``UploadFile`` made is either in the ``FormData``
   returned (``Request.close()`` closes it after the response) or closed
   before the error that stopped the parse propagates, cancellation and
   client disconnects included.
3. Limits, per call of ``form()``:

   - ``max_fields`` text fields and ``max_files`` files (400 past either);
   - ``max_part_size`` bytes in one text field (413 past it): the value of a
     multipart part, the encoded name and value of a urlencoded field;
   - ``max_body_size`` (the App's) on the text fields of a multipart form
     together (413): what is buffered in memory stays bounded even though
     the multipart body itself is not (its files are spooled to disk).
     A urlencoded body is bounded as a whole by the caller (``Request``),
     so ``parse_urlencoded`` ignores it.
   - the request's in-memory budget (``_memory``): text fields are charged
     to it (413 past it), and so are files while their spool is in memory;
     a file that would pass it is rolled over to disk first, and a spool
     that rolls over gives its bytes back. Many small files can never add
     up to more than the budget in memory.

Text is UTF-8 (RFC 7578 §5.1.2; WHATWG urlencoded); a field name or value
that is not is a 400. A file name that is not UTF-8 is read as Latin-1.
Percent-escapes in urlencoded bodies are decoded leniently, as browsers do:
a malformed one (``%zz``, a lone ``%``) is kept as it is.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import AsyncIterable
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

import anyio
from python_multipart import MultipartParser, QuerystringParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header

from microweb._memory import MemoryBudget
from microweb.concurrency import run_in_threadpool
from microweb.datastructures import FormData, Headers, UploadFile
from microweb.exceptions import HTTPException

__all__ = ["SPOOL_MAX_SIZE", "FormLimits", "parse_multipart", "parse_urlencoded"]

SPOOL_MAX_SIZE = 1024 * 1024
"""An uploaded file is kept in memory up to this many bytes, then rolled to disk."""

# python-multipart logs a warning for each malformed body it sees; with no
# logging configured that goes to stderr, so any client could fill the
# server's log. The error reaches the client as a 400 instead: the parsers
# get this silent logger.
_PARSER_LOGGER = logging.getLogger("microweb.multipart")
_PARSER_LOGGER.addHandler(logging.NullHandler())
_PARSER_LOGGER.propagate = False


@dataclass(frozen=True)
class FormLimits:
    """What one ``form()`` call accepts; see invariant 3 above."""

    max_files: int
    max_fields: int
    max_part_size: int
    max_body_size: int | None = None
    budget: MemoryBudget | None = None

    def __post_init__(self) -> None:
        for name in ("max_files", "max_fields", "max_part_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative int, got {value!r}")


def _too_many(kind: str, limit_name: str, limit: int) -> HTTPException:
    return HTTPException(400, f"Too many {kind} in the form: the limit is {limit_name}={limit}")


def _part_too_large(name: str, limit: int) -> HTTPException:
    return HTTPException(413, f"Form field {name!r} is larger than max_part_size={limit} bytes")


def _decode_text(raw: bytes | bytearray, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise HTTPException(400, f"Invalid UTF-8 in {what}") from None


# --- application/x-www-form-urlencoded ---------------------------------------------


class _UrlencodedCollector:
    """Callbacks for ``QuerystringParser``: each field's raw name and value, limited."""

    def __init__(self, limits: FormLimits) -> None:
        self.limits = limits
        self.items: list[tuple[str, str | UploadFile]] = []
        self._count = 0
        self._name = bytearray()
        self._value = bytearray()
        self.parser = QuerystringParser(
            {
                "on_field_start": self.on_field_start,
                "on_field_name": self.on_field_name,
                "on_field_data": self.on_field_data,
                "on_field_end": self.on_field_end,
            }
        )
        self.parser.logger = _PARSER_LOGGER

    def on_field_start(self) -> None:
        self._count += 1
        if self._count > self.limits.max_fields:
            raise _too_many("fields", "max_fields", self.limits.max_fields)
        self._name.clear()
        self._value.clear()

    def _grow(self, buffer: bytearray, data: bytes, start: int, end: int) -> None:
        if len(self._name) + len(self._value) + end - start > self.limits.max_part_size:
            name = _decode_urlencoded(self._name, "replace")
            raise _part_too_large(name, self.limits.max_part_size)
        buffer += memoryview(data)[start:end]

    def on_field_name(self, data: bytes, start: int, end: int) -> None:
        self._grow(self._name, data, start, end)

    def on_field_data(self, data: bytes, start: int, end: int) -> None:
        self._grow(self._value, data, start, end)

    def on_field_end(self) -> None:
        name = _decode_urlencoded(self._name)
        self.items.append((name, _decode_urlencoded(self._value)))


def _decode_urlencoded(raw: bytearray, errors: str = "strict") -> str:
    """``+`` is a space, ``%XX`` a byte (malformed escapes kept as they are), then UTF-8."""
    unquoted = unquote_to_bytes(bytes(raw).replace(b"+", b" "))
    try:
        return unquoted.decode("utf-8", errors)
    except UnicodeDecodeError:
        raise HTTPException(400, "Invalid UTF-8 in the form body") from None


async def parse_urlencoded(chunks: AsyncIterable[bytes], limits: FormLimits) -> FormData:
    """Parse an ``application/x-www-form-urlencoded`` body as it arrives.

    The caller bounds the body's total size (``max_body_size``).
    """
    collector = _UrlencodedCollector(limits)
    try:
        async for chunk in chunks:
            collector.parser.write(chunk)
        collector.parser.finalize()
    except FormParserError as exc:  # pragma: no cover - the lenient parser raises none
        raise HTTPException(400, f"Malformed form body: {exc}") from None
    return FormData(collector.items)


# --- multipart/form-data -----------------------------------------------------------


class _MultipartCollector:
    """Callbacks for ``MultipartParser``: builds the form's items part by part.

    Text fields are complete when their part ends; files are created when
    their headers end and fed from ``pending`` by ``flush()``.
    """

    def __init__(self, boundary: bytes, limits: FormLimits) -> None:
        self.limits = limits
        self.items: list[tuple[str, str | UploadFile]] = []
        self.uploads: list[UploadFile] = []
        self.pending: list[tuple[UploadFile, memoryview]] = []
        self.budget = limits.budget if limits.budget is not None else MemoryBudget(None)
        self._in_memory: dict[int, int] = {}  # id(upload) -> bytes charged for its spool
        self.ended = False
        self._fields = 0
        self._files = 0
        self._buffered = 0  # bytes of text fields held in memory, all parts
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._headers: list[tuple[bytes, bytes]] = []
        self._name = ""
        self._value: bytearray | None = None  # the text field being read
        self._upload: UploadFile | None = None  # the file being read
        self.parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self.on_part_begin,
                "on_header_field": self.on_header_field,
                "on_header_value": self.on_header_value,
                "on_header_end": self.on_header_end,
                "on_headers_finished": self.on_headers_finished,
                "on_part_data": self.on_part_data,
                "on_part_end": self.on_part_end,
                "on_end": self.on_end,
            },
        )
        self.parser.logger = _PARSER_LOGGER

    def on_part_begin(self) -> None:
        self._headers = []
        self._value = None
        self._upload = None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += memoryview(data)[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += memoryview(data)[start:end]

    def on_header_end(self) -> None:
        self._headers.append((bytes(self._header_name).lower(), bytes(self._header_value)))
        self._header_name.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        disposition = next((v for k, v in self._headers if k == b"content-disposition"), None)
        _, options = parse_options_header(disposition)
        # parse_options_header reads bytes as Latin-1 and gives them back
        # encoded the same way: these are the bytes the client sent.
        raw_name = options.get(b"name")
        if raw_name is None:
            raise HTTPException(
                400,
                "Malformed multipart body: a part has no name "
                "(expected 'content-disposition: form-data; name=\"...\"')",
            )
        self._name = _decode_text(raw_name, "a form field name")
        raw_filename = options.get(b"filename")
        if raw_filename is None:
            self._fields += 1
            if self._fields > self.limits.max_fields:
                raise _too_many("fields", "max_fields", self.limits.max_fields)
            self._value = bytearray()
            return
        self._files += 1
        if self._files > self.limits.max_files:
            raise _too_many("files", "max_files", self.limits.max_files)
        try:
            filename = raw_filename.decode("utf-8")
        except UnicodeDecodeError:
            filename = raw_filename.decode("latin-1")
        # In memory until SPOOL_MAX_SIZE: no disk I/O happens on this thread.
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_SIZE)  # noqa: SIM115
        upload = UploadFile(spool, size=0, filename=filename, headers=Headers(raw=self._headers))
        self.uploads.append(upload)
        self.items.append((self._name, upload))
        self._upload = upload

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._upload is not None:
            # perf: a memoryview slice queues the bytes without copying them.
            self.pending.append((self._upload, memoryview(data)[start:end]))
            return
        if self._value is None:  # pragma: no cover - the parser sends headers first
            return
        size = end - start
        if len(self._value) + size > self.limits.max_part_size:
            raise _part_too_large(self._name, self.limits.max_part_size)
        self._buffered += size
        if not self.budget.charge(size):
            raise HTTPException(413, self.budget.refusal(f"Form field {self._name!r}"))
        max_body_size = self.limits.max_body_size
        if max_body_size is not None and self._buffered > max_body_size:
            raise HTTPException(
                413,
                f"The form's text fields together exceed max_body_size={max_body_size} bytes",
            )
        self._value += memoryview(data)[start:end]

    def on_part_end(self) -> None:
        if self._value is not None:
            value = _decode_text(self._value, f"form field {self._name!r}")
            self.items.append((self._name, value))
        self._value = None
        self._upload = None

    def on_end(self) -> None:
        self.ended = True

    async def flush(self) -> None:
        """Write the file bytes queued by the last ``parser.write()``, within the budget."""
        pending, self.pending = self.pending, []
        budget = self.budget
        for upload, data in pending:
            spool = upload.file
            key = id(upload)
            if not getattr(spool, "_rolled", True):
                size = len(data)
                if spool.tell() + size > SPOOL_MAX_SIZE:
                    pass  # this write rolls it over on its own
                elif budget.charge(size):
                    self._in_memory[key] = self._in_memory.get(key, 0) + size
                else:
                    # Past the request's budget: to disk now, not at 1 MiB.
                    await run_in_threadpool(spool.rollover)  # type: ignore[attr-defined]
            await upload.write(data)
            if key in self._in_memory and getattr(spool, "_rolled", True):
                budget.release(self._in_memory.pop(key))

    async def close_all(self) -> None:
        for upload in self.uploads:
            await upload.close()


async def parse_multipart(
    chunks: AsyncIterable[bytes], boundary: bytes | None, limits: FormLimits
) -> FormData:
    """Parse a ``multipart/form-data`` body as it arrives; files are spooled.

    Raises ``HTTPException`` 400 for a missing or bad boundary, a malformed
    or truncated body, a part without a name, too many fields or files, or
    text that is not UTF-8; 413 for a text field over ``max_part_size`` or
    text fields over ``max_body_size`` together. Whatever happens, no file
    made for this body is left open unless it is in the returned form.
    """
    if not boundary:
        raise HTTPException(
            400, "Malformed multipart body: the content-type header has no boundary"
        )
    try:
        collector = _MultipartCollector(boundary, limits)
    except FormParserError as exc:
        raise HTTPException(400, f"Malformed multipart boundary: {exc}") from None
    try:
        async for chunk in chunks:
            try:
                collector.parser.write(chunk)
            except FormParserError as exc:
                raise HTTPException(400, f"Malformed multipart body: {exc}") from None
            await collector.flush()
        if not collector.ended:
            raise HTTPException(
                400, "Truncated multipart body: it ended before the closing boundary"
            )
        for upload in collector.uploads:
            await upload.seek(0)
    except BaseException:
        # Shielded: a cancelled request still removes its temporary files.
        with anyio.CancelScope(shield=True):
            await collector.close_all()
        raise
    return FormData(collector.items)
