"""The form parsers in microweb._multipart, fed directly, chunk by chunk."""

from __future__ import annotations

import hashlib
import io
import tempfile
import threading
from collections.abc import AsyncIterator, Iterable
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from microweb import HTTPException, Request
from microweb._multipart import SPOOL_MAX_SIZE, FormLimits, parse_multipart, parse_urlencoded
from microweb.datastructures import FormData, UploadFile

LIMITS = FormLimits(max_files=1000, max_fields=1000, max_part_size=1024 * 1024)
BOUNDARY = b"----microweb-test-7d2f"


async def chunked(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def encode(parts: Iterable[tuple[str, str | None, bytes]], boundary: bytes = BOUNDARY) -> bytes:
    out = b""
    for name, filename, content in parts:
        out += b"--" + boundary + b"\r\n"
        out += f'Content-Disposition: form-data; name="{name}"'.encode()
        if filename is not None:
            out += f'; filename="{filename}"\r\nContent-Type: application/x-test'.encode()
        out += b"\r\n\r\n" + content + b"\r\n"
    return out + b"--" + boundary + b"--\r\n"


async def snapshot(form: FormData) -> list[tuple[str, Any]]:
    """The form as plain data (files as (filename, size, bytes)); closes the files."""
    out: list[tuple[str, Any]] = []
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            out.append((key, (value.filename, value.size, await value.read())))
        else:
            out.append((key, value))
    await form.close()
    return out


# --- multipart ----------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("chunk_size", [1, 2, 3, 7, 64, 65536])
async def test_multipart_any_chunking_gives_the_same_form(chunk_size: int) -> None:
    parts = [
        ("text", None, "h\u00e9llo\r\n--not-a-boundary".encode()),
        ("file", "a.bin", bytes(range(256)) * 4 + b"\r\n--" + BOUNDARY[:-1]),
        ("text", None, b""),
    ]
    form = await parse_multipart(chunked(encode(parts), chunk_size), BOUNDARY, LIMITS)
    assert await snapshot(form) == [
        ("text", "h\u00e9llo\r\n--not-a-boundary"),
        ("file", ("a.bin", 1024 + len(BOUNDARY) + 3, parts[1][2])),
        ("text", ""),
    ]


parts_strategy = st.lists(
    st.tuples(
        st.text(alphabet="abcxyz_", min_size=1, max_size=5),
        st.one_of(st.none(), st.text(alphabet="abc.", min_size=1, max_size=5)),
        st.binary(max_size=300),
    ),
    max_size=5,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=parts_strategy, chunk_size=st.integers(min_value=1, max_value=50))
def test_multipart_round_trips(
    parts: list[tuple[str, str | None, bytes]], chunk_size: int
) -> None:
    # Text fields must be UTF-8; the property is about framing, so make them so.
    parts = [(n, f, c if f is not None else c.decode("latin-1").encode()) for n, f, c in parts]

    async def main() -> list[tuple[str, Any]]:
        form = await parse_multipart(chunked(encode(parts), chunk_size), BOUNDARY, LIMITS)
        return await snapshot(form)

    expected = [(n, (f, len(c), c) if f is not None else c.decode()) for n, f, c in parts]
    assert anyio.run(main) == expected


@pytest.mark.anyio
async def test_part_headers_reach_the_upload() -> None:
    body = (
        b"--" + BOUNDARY + b"\r\n"
        b'Content-Disposition: form-data; name="doc"; filename="r\xc3\xa9sum\xc3\xa9.pdf"\r\n'
        b"Content-Type: application/pdf\r\n"
        b"X-Extra: 1\r\n"
        b"\r\n%PDF\r\n--" + BOUNDARY + b"--\r\n"
    )
    form = await parse_multipart(chunked(body, 5), BOUNDARY, LIMITS)
    upload = form["doc"]
    assert isinstance(upload, UploadFile)
    assert (upload.filename, upload.content_type, upload.size) == (
        "résumé.pdf",
        "application/pdf",
        4,
    )
    assert upload.headers["x-extra"] == "1"
    assert upload.headers.getlist("content-type") == ["application/pdf"]
    assert repr(upload) == (
        "UploadFile(filename='résumé.pdf', size=4, content_type='application/pdf')"
    )
    await form.close()


@pytest.mark.anyio
async def test_epilogue_after_the_closing_boundary_is_ignored() -> None:
    body = encode([("a", None, b"1")]) + b"trailing epilogue"
    form = await parse_multipart(chunked(body, 4), BOUNDARY, LIMITS)
    assert await snapshot(form) == [("a", "1")]


@pytest.mark.anyio
async def test_quoted_names_and_ie_paths() -> None:
    body = (
        b"--" + BOUNDARY + b"\r\n"
        b'Content-Disposition: form-data; name="a;b \\"q\\""; filename="C:\\\\dir\\\\x.txt"\r\n'
        b"\r\nx\r\n--" + BOUNDARY + b"--\r\n"
    )
    form = await parse_multipart(chunked(body, 100), BOUNDARY, LIMITS)
    assert await snapshot(form) == [('a;b "q"', ("x.txt", 1, b"x"))]


@pytest.mark.anyio
async def test_limits_at_zero() -> None:
    nothing = FormLimits(max_files=0, max_fields=0, max_part_size=0)
    form = await parse_multipart(chunked(encode([]), 10), BOUNDARY, nothing)
    assert await snapshot(form) == []
    with pytest.raises(HTTPException, match="the limit is max_files=0"):
        await parse_multipart(chunked(encode([("f", "f", b"")]), 10), BOUNDARY, nothing)
    with pytest.raises(HTTPException, match="the limit is max_fields=0"):
        await parse_multipart(chunked(encode([("f", None, b"")]), 10), BOUNDARY, nothing)
    one_field = FormLimits(max_files=0, max_fields=1, max_part_size=0)
    form = await parse_multipart(chunked(encode([("f", None, b"")]), 10), BOUNDARY, one_field)
    assert await snapshot(form) == [("f", "")]
    with pytest.raises(HTTPException, match="'f' is larger than max_part_size=0") as info:
        await parse_multipart(chunked(encode([("f", None, b"x")]), 10), BOUNDARY, one_field)
    assert info.value.status_code == 413


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"max_files": -1}, "max_files must be a non-negative int, got -1"),
        ({"max_fields": 1.5}, "max_fields must be a non-negative int, got 1.5"),
        ({"max_part_size": True}, "max_part_size must be a non-negative int, got True"),
    ],
)
def test_limits_are_validated(changes: dict[str, Any], message: str) -> None:
    options: dict[str, Any] = {"max_files": 1, "max_fields": 1, "max_part_size": 1, **changes}
    with pytest.raises(ValueError, match=message):
        FormLimits(**options)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "content_type", [b"application/x-www-form-urlencoded", b"multipart/form-data", b"text/plain"]
)
async def test_form_validates_its_limits_before_reading(content_type: bytes) -> None:
    scope = {"type": "http", "method": "POST", "headers": [(b"content-type", content_type)]}

    async def receive() -> dict[str, Any]:
        raise AssertionError("read the body")  # pragma: no cover

    with pytest.raises(ValueError, match="max_fields must be a non-negative int, got -5"):
        await Request(scope, receive).form(max_fields=-5)


@pytest.mark.anyio
async def test_cancelled_parse_closes_its_files() -> None:
    made: list[UploadFile] = []
    started = anyio.Event()
    original_init = UploadFile.__init__

    def spy(self: UploadFile, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        made.append(self)

    async def stalls() -> AsyncIterator[bytes]:
        yield (
            b"--"
            + BOUNDARY
            + b'\r\nContent-Disposition: form-data; name="f"; filename="f"\r\n\r\n'
        )
        yield b"x" * (SPOOL_MAX_SIZE + 10)  # on disk by now
        started.set()
        await anyio.sleep_forever()
        yield b""  # pragma: no cover

    UploadFile.__init__ = spy  # type: ignore[method-assign]
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(parse_multipart, stalls(), BOUNDARY, LIMITS)
            await started.wait()
            tg.cancel_scope.cancel()
    finally:
        UploadFile.__init__ = original_init  # type: ignore[method-assign]
    assert len(made) == 1
    assert made[0].file.closed


# --- urlencoded ---------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("chunk_size", [1, 2, 5, 1000])
async def test_urlencoded_any_chunking_gives_the_same_form(chunk_size: int) -> None:
    body = b"a=1&euro=%E2%82%AC&plus=a+b%2Bc&a=2&&flag&=anon&pct=50%&bad=%G1"
    form = await parse_urlencoded(chunked(body, chunk_size), LIMITS)
    assert form.multi_items() == [
        ("a", "1"),
        ("euro", "€"),
        ("plus", "a b+c"),
        ("a", "2"),
        ("flag", ""),
        ("", "anon"),
        ("pct", "50%"),
        ("bad", "%G1"),
    ]


@pytest.mark.anyio
async def test_urlencoded_part_size_counts_name_and_value() -> None:
    limits = FormLimits(max_files=0, max_fields=10, max_part_size=6)
    form = await parse_urlencoded(chunked(b"abc=def", 2), limits)
    assert form["abc"] == "def"
    with pytest.raises(HTTPException, match="Form field 'abcd' is larger than max_part_size=6"):
        await parse_urlencoded(chunked(b"abcd=efg", 2), limits)
    with pytest.raises(HTTPException, match="Form field 'abcdef' is larger"):
        await parse_urlencoded(chunked(b"abcdefghij", 3), limits)


@pytest.mark.anyio
async def test_empty_urlencoded_body() -> None:
    form = await parse_urlencoded(chunked(b"", 1), LIMITS)
    assert form == FormData()


# --- UploadFile I/O: on the loop while in memory, in a thread once on disk -------------


class ThreadSpy(tempfile.SpooledTemporaryFile):  # type: ignore[type-arg]
    """Records the thread each read/write/seek/close ran on."""

    def __init__(self, max_size: int) -> None:
        super().__init__(max_size=max_size)
        self.threads: list[tuple[str, bool]] = []

    def _note(self, what: str) -> None:
        self.threads.append((what, threading.current_thread() is threading.main_thread()))

    def write(self, s: Any) -> int:
        self._note("write")
        return super().write(s)

    def read(self, *args: Any) -> bytes:
        self._note("read")
        return super().read(*args)  # type: ignore[no-any-return]

    def seek(self, *args: Any) -> int:
        self._note("seek")
        return super().seek(*args)

    def close(self) -> None:
        self._note("close")
        super().close()


@pytest.mark.anyio
async def test_upload_file_io_moves_to_a_thread_once_rolled_to_disk() -> None:
    spy = ThreadSpy(max_size=10)
    upload = UploadFile(spy, size=0, filename="f")
    await upload.write(b"12345")  # in memory: on the loop
    await upload.write(b"67890")  # exactly max_size: still in memory
    assert await upload.seek(0) == 0
    assert await upload.read(3) == b"123"
    assert await upload.seek(0, 2) == 10
    await upload.write(b"X")  # rolls over to disk: in a thread
    assert getattr(spy, "_rolled", None) is True
    assert await upload.seek(0) == 0
    assert await upload.read() == b"1234567890X"
    await upload.close()
    await upload.close()  # idempotent: the second does nothing
    assert upload.size == 11
    assert spy.threads == [
        ("write", True),
        ("write", True),
        ("seek", True),
        ("read", True),
        ("seek", True),
        ("write", False),
        ("seek", False),
        ("read", False),
        ("close", False),
    ]


@pytest.mark.anyio
async def test_upload_file_over_any_file_object() -> None:
    upload = UploadFile(io.BytesIO(b"abc"), filename="x.txt")
    assert (upload.size, upload.content_type) == (None, None)
    assert upload.headers == {}
    assert await upload.read() == b"abc"
    await upload.write(b"d")  # size stays unknown when not given
    assert upload.size is None
    await upload.seek(0)
    assert hashlib.sha256(await upload.read()).hexdigest() == hashlib.sha256(b"abcd").hexdigest()
    await upload.close()
    assert upload.file.closed


# --- the request's in-memory budget ---------------------------------------------------


def _in_memory(upload: UploadFile) -> bool:
    return not getattr(upload.file, "_rolled", True)


@pytest.mark.anyio
async def test_many_small_files_never_hold_more_than_the_budget_in_memory() -> None:
    from microweb._memory import MemoryBudget

    budget = MemoryBudget(100_000)
    limits = FormLimits(max_files=1000, max_fields=1000, max_part_size=1024, budget=budget)
    content = bytes(range(256)) * 120  # 30,720 bytes, well under the 1 MiB spool size
    body = encode((f"f{n}", f"f{n}.bin", content) for n in range(10))
    form = await parse_multipart(chunked(body, 4096), BOUNDARY, limits)
    uploads = [value for _, value in form.multi_items() if isinstance(value, UploadFile)]
    held = sum(upload.size or 0 for upload in uploads if _in_memory(upload))
    assert held <= 100_000
    assert budget.used == held
    assert sum(not _in_memory(upload) for upload in uploads) >= 7  # the rest went to disk
    for upload in uploads:  # every byte is there, wherever it is kept
        assert await upload.read() == content
    await form.close()


@pytest.mark.anyio
async def test_a_file_rolled_to_disk_on_its_own_gives_its_bytes_back() -> None:
    from microweb._memory import MemoryBudget

    budget = MemoryBudget(None)
    limits = FormLimits(max_files=10, max_fields=10, max_part_size=1024, budget=budget)
    body = encode([("big", "big.bin", b"x" * (SPOOL_MAX_SIZE + 10)), ("small", "s", b"y" * 10)])
    form = await parse_multipart(chunked(body, 65536), BOUNDARY, limits)
    big, small = form["big"], form["small"]
    assert isinstance(big, UploadFile)
    assert isinstance(small, UploadFile)
    assert not _in_memory(big)
    assert _in_memory(small)
    assert budget.used == 10
    await form.close()


@pytest.mark.anyio
async def test_text_fields_past_the_budget_answer_413() -> None:
    from microweb._memory import MemoryBudget

    limits = FormLimits(
        max_files=10, max_fields=100, max_part_size=1024, budget=MemoryBudget(5000)
    )
    body = encode((f"t{n}", None, b"z" * 1000) for n in range(6))
    with pytest.raises(HTTPException) as caught:
        await parse_multipart(chunked(body, 512), BOUNDARY, limits)
    assert caught.value.status_code == 413
    assert "in-memory budget of 5000 bytes" in str(caught.value.detail)
