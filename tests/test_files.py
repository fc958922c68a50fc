"""FileResponse (microweb.responses._files): headers, HEAD, ranges, conditionals, memory."""

from __future__ import annotations

import email.utils
import logging
import os
import threading
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from asgi_helpers import call_asgi

import microweb.responses._files
from microweb import App
from microweb.background import BackgroundTask
from microweb.responses import FileResponse
from microweb.testclient import TestClient
from microweb.types import Receive, Scope, Send


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """The raw ASGI tests of streams run on asyncio (helper tasks) and trio (a task group)."""
    return str(request.param)


DATA = bytes(range(256)) * 400  # 102400 bytes: two chunks of 64 KiB, the second short
SIZE = len(DATA)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    file = tmp_path / "data.bin"
    file.write_bytes(DATA)
    return file


@pytest.fixture
def client(path: Path) -> TestClient:
    return TestClient(FileResponse(path))


def parse_multipart(content: bytes, content_type: str) -> list[tuple[dict[str, str], bytes]]:
    media_type, _, boundary = content_type.partition("; boundary=")
    assert media_type == "multipart/byteranges"
    parts = content.split(f"--{boundary}".encode())
    assert parts[0] == b""
    assert parts[-1] == b"--\r\n"
    result = []
    for part in parts[1:-1]:
        head, _, body = part.partition(b"\r\n\r\n")
        assert body.endswith(b"\r\n")
        lines = head.decode().strip().split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines)
        result.append((headers, body[:-2]))
    return result


# --- headers ---------------------------------------------------------------------------


def test_whole_file_with_stat_headers(client: TestClient, path: Path) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.content == DATA
    stat = path.stat()
    assert r.headers["content-length"] == str(SIZE)
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["last-modified"] == email.utils.formatdate(stat.st_mtime, usegmt=True)
    assert r.headers["etag"] == f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
    assert "content-disposition" not in r.headers


@pytest.mark.parametrize(
    ("name", "filename", "media_type"),
    [
        ("a.txt", None, "text/plain; charset=utf-8"),
        ("a.json", None, "application/json"),
        ("a.html", None, "text/html; charset=utf-8"),
        ("a.unknown-extension", None, "text/plain; charset=utf-8"),
        ("noextension", None, "text/plain; charset=utf-8"),
        ("a.bin", "picture.png", "image/png"),  # the filename is guessed first
    ],
)
def test_media_type_guessed(
    tmp_path: Path, name: str, filename: str | None, media_type: str
) -> None:
    file = tmp_path / name
    file.write_bytes(b"x")
    assert FileResponse(file, filename=filename).headers["content-type"] == media_type


def test_media_type_given_wins(path: Path) -> None:
    response = FileResponse(path, media_type="application/x-custom")
    assert response.headers["content-type"] == "application/x-custom"
    given = FileResponse(path, headers={"content-type": "text/csv"})
    assert given.headers.getlist("content-type") == ["text/csv"]


def test_content_disposition_ascii_and_inline(path: Path) -> None:
    assert (
        FileResponse(path, filename="a.txt").headers["content-disposition"]
        == 'attachment; filename="a.txt"'
    )
    inline = FileResponse(path, filename="a.txt", content_disposition_type="inline")
    assert inline.headers["content-disposition"] == 'inline; filename="a.txt"'


def test_content_disposition_non_ascii(client: TestClient, path: Path) -> None:
    r = TestClient(FileResponse(path, filename="résumé 2024.pdf")).get("/")
    assert r.headers["content-disposition"] == (
        "attachment; filename=\"resume 2024.pdf\"; filename*=utf-8''r%C3%A9sum%C3%A9%202024.pdf"
    )
    assert r.headers["content-type"] == "application/pdf"
    tricky = FileResponse(path, filename='say "hi".txt').headers["content-disposition"]
    assert tricky == "attachment; filename=\"say _hi_.txt\"; filename*=utf-8''say%20%22hi%22.txt"


def test_content_disposition_given_wins_and_bad_type_refused(path: Path) -> None:
    given = FileResponse(path, filename="a.txt", headers={"content-disposition": "inline"})
    assert given.headers.getlist("content-disposition") == ["inline"]
    with pytest.raises(ValueError, match="content_disposition_type"):
        FileResponse(path, filename="a.txt", content_disposition_type="bad type")


def test_method_is_deprecated(path: Path) -> None:
    with pytest.warns(DeprecationWarning, match="'method' argument is deprecated"):
        response = FileResponse(path, method="GET")
    assert TestClient(response).head("/").content == b""


def test_stat_result_sets_the_stat_headers_in_the_constructor(path: Path) -> None:
    stat = path.stat()
    response = FileResponse(path, stat_result=stat)
    assert response.headers["content-length"] == str(SIZE)
    assert response.headers["etag"] == f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
    assert "last-modified" in response.headers
    assert "content-length" not in FileResponse(path).headers  # stat'ed per request
    r = TestClient(response).get("/")
    assert r.content == DATA
    assert r.headers.get_list("content-length") == [str(SIZE)]


def test_given_etag_and_last_modified_win(path: Path) -> None:
    date = "Wed, 21 Oct 2015 07:28:00 GMT"
    response = FileResponse(path, headers={"etag": '"mine"', "last-modified": date})
    client = TestClient(response)
    r = client.get("/")
    assert r.headers.get_list("etag") == ['"mine"']
    assert r.headers.get_list("last-modified") == [date]
    assert client.get("/", headers={"if-none-match": '"mine"'}).status_code == 304
    assert client.get("/", headers={"if-modified-since": date}).status_code == 304


# --- missing files and HEAD -----------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_missing_file_is_a_runtime_error_naming_the_path(
    tmp_path: Path, method: str
) -> None:
    missing = tmp_path / "nope.txt"
    with pytest.raises(RuntimeError, match=r"nope\.txt.*does not exist"):
        await call_asgi(FileResponse(missing), method)


@pytest.mark.anyio
@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_a_directory_is_not_a_file(tmp_path: Path, method: str) -> None:
    with pytest.raises(RuntimeError, match="is not a file"):
        await call_asgi(FileResponse(tmp_path), method)


@pytest.mark.anyio
async def test_missing_file_with_a_stat_result(tmp_path: Path, path: Path) -> None:
    response = FileResponse(tmp_path / "gone", stat_result=path.stat())
    with pytest.raises(RuntimeError, match="does not exist"):
        await call_asgi(response)


def test_missing_file_in_an_app_is_a_500(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    app = App()

    @app.get("/file", response_class=FileResponse)
    async def file() -> Path:
        return tmp_path / "nope.txt"

    with caplog.at_level(logging.ERROR, logger="microweb"):
        r = TestClient(app).get("/file")
    assert r.status_code == 500
    assert "nope.txt" in caplog.text


def test_head_sends_headers_without_opening_the_file(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any) -> Any:
        raise AssertionError("the file was opened")

    monkeypatch.setattr(microweb.responses._files, "_open", refuse)
    monkeypatch.setattr(microweb.responses._files, "_open_and_stat", refuse)
    r = client.head("/")
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["content-length"] == str(SIZE)
    # Range is GET-only (RFC 9110 §14.2): a HEAD with Range is a plain HEAD.
    ranged = client.head("/", headers={"range": "bytes=0-9"})
    assert ranged.status_code == 200
    assert ranged.headers["content-length"] == str(SIZE)
    assert "content-range" not in ranged.headers


@pytest.mark.anyio
@pytest.mark.parametrize("stat", [False, True])
async def test_a_scope_without_a_method_is_answered_as_a_get(path: Path, stat: bool) -> None:
    response = FileResponse(path, stat_result=os.stat(path) if stat else None)

    async def without_method(scope: Scope, receive: Receive, send: Send) -> None:
        del scope["method"]
        await response(scope, receive, send)

    messages = await call_asgi(without_method)
    assert messages[0]["status"] == 200
    assert b"".join(m.get("body", b"") for m in messages[1:]) == DATA


def test_a_get_route_answers_head_without_a_body(path: Path) -> None:
    app = App()

    @app.get("/file", response_class=FileResponse)
    async def file() -> Path:
        return path

    r = TestClient(app).head("/file")
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["content-length"] == str(SIZE)


@pytest.mark.anyio
async def test_bodyless_status_sends_no_body(path: Path) -> None:
    messages = await call_asgi(FileResponse(path, status_code=204))
    assert messages[0]["status"] == 204
    assert b"content-length" not in dict(messages[0]["headers"])
    assert messages[1]["body"] == b""


# --- ranges ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "start", "stop"),
    [
        ("bytes=0-0", 0, 1),
        ("bytes=0-9", 0, 10),
        ("bytes=100-", 100, SIZE),
        ("bytes=-10", SIZE - 10, SIZE),
        ("bytes=-999999", 0, SIZE),
        (f"bytes=65530-{SIZE + 500}", 65530, SIZE),  # the last position is clamped
        ("BYTES = 5-6", 5, 7),
        ("bytes=0-4,5-9", 0, 10),  # adjacent: coalesced into one
        ("bytes=0-9,3-5", 0, 10),  # overlapping: coalesced
        (f"bytes=0-1,{SIZE}-", 0, 2),  # the unsatisfiable one is dropped
    ],
)
def test_single_range(client: TestClient, header: str, start: int, stop: int) -> None:
    r = client.get("/", headers={"range": header})
    assert r.status_code == 206
    assert r.content == DATA[start:stop]
    assert r.headers["content-range"] == f"bytes {start}-{stop - 1}/{SIZE}"
    assert r.headers["content-length"] == str(stop - start)
    assert r.headers["content-type"] == "application/octet-stream"


def test_multiple_ranges(tmp_path: Path) -> None:
    file = tmp_path / "data.json"
    file.write_bytes(DATA)
    client = TestClient(FileResponse(file))
    r = client.get("/", headers={"range": "bytes=70000-70009, 0-4, -3"})
    assert r.status_code == 206
    assert r.headers["content-length"] == str(len(r.content))
    parts = parse_multipart(r.content, r.headers["content-type"])
    # Sorted by position (RFC 9110 §15.3.7.2 allows it), each with its own headers.
    assert parts == [
        ({"content-type": "application/json", "content-range": f"bytes 0-4/{SIZE}"}, DATA[:5]),
        (
            {"content-type": "application/json", "content-range": f"bytes 70000-70009/{SIZE}"},
            DATA[70000:70010],
        ),
        (
            {
                "content-type": "application/json",
                "content-range": f"bytes {SIZE - 3}-{SIZE - 1}/{SIZE}",
            },
            DATA[-3:],
        ),
    ]


def test_a_fresh_boundary_per_response(client: TestClient) -> None:
    headers = {"range": "bytes=0-0,9-9"}
    first, second = client.get("/", headers=headers), client.get("/", headers=headers)
    assert first.headers["content-type"] != second.headers["content-type"]


@pytest.mark.parametrize("header", [f"bytes={SIZE}-", f"bytes={SIZE + 1}-{SIZE + 9}", "bytes=-0"])
def test_unsatisfiable_range_is_416(client: TestClient, header: str) -> None:
    r = client.get("/", headers={"range": header})
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{SIZE}"
    assert r.headers["content-length"] == "0"
    assert r.content == b""


@pytest.mark.parametrize(
    "header", ["bytes", "bytes=", "bytes=x-y", "bytes=5-1", "bytes=1-2-3", "bytes=-", "bytes=,"]
)
def test_malformed_range_is_400(client: TestClient, header: str) -> None:
    r = client.get("/", headers={"range": header})
    assert r.status_code == 400
    assert r.text.startswith("Bad Request")


def test_other_units_and_too_many_ranges_are_ignored(client: TestClient) -> None:
    assert client.get("/", headers={"range": "items=0-5"}).status_code == 200
    many = ",".join(f"{n}-{n}" for n in range(0, 202, 2))
    r = client.get("/", headers={"range": f"bytes={many}"})
    assert r.status_code == 200
    assert r.content == DATA


def test_empty_file_ranges(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    client = TestClient(FileResponse(empty))
    assert client.get("/", headers={"range": "bytes=0-"}).status_code == 416
    suffix = client.get("/", headers={"range": "bytes=-5"})  # satisfiable, yet no bytes
    assert suffix.status_code == 200
    assert suffix.content == b""


def test_range_only_for_get_and_200(path: Path) -> None:
    app = App()
    response = FileResponse(path)

    @app.post("/file")
    async def post() -> FileResponse:
        return response

    @app.get("/missing-page")
    async def page() -> FileResponse:
        return FileResponse(path, status_code=404)

    client = TestClient(app)
    posted = client.post("/file", headers={"range": "bytes=0-9"})
    assert posted.status_code == 200
    assert posted.content == DATA
    not_found = client.get("/missing-page", headers={"range": "bytes=0-9", "if-none-match": "*"})
    assert not_found.status_code == 404
    assert not_found.content == DATA


def test_if_range(client: TestClient) -> None:
    whole = client.get("/")
    etag, modified = whole.headers["etag"], whole.headers["last-modified"]

    def status(if_range: str) -> int:
        return client.get("/", headers={"range": "bytes=0-9", "if-range": if_range}).status_code

    assert status(etag) == 206
    assert status(modified) == 206
    assert status('"other"') == 200
    assert status(f"W/{etag}") == 200  # a weak tag never matches If-Range
    assert status("Thu, 01 Jan 1970 00:00:00 GMT") == 200
    assert status("not a date") == 200


# --- conditional requests -------------------------------------------------------------------


def test_if_none_match_answers_304(client: TestClient) -> None:
    etag = client.get("/").headers["etag"]
    for value in [etag, f"W/{etag}", f'"a", {etag}', "*"]:
        r = client.get("/", headers={"if-none-match": value})
        assert r.status_code == 304, value
        assert r.content == b""
        assert r.headers["etag"] == etag
        assert "content-length" not in r.headers
        assert "content-type" not in r.headers
    assert client.get("/", headers={"if-none-match": '"other"'}).status_code == 200
    assert client.head("/", headers={"if-none-match": etag}).status_code == 304


def test_if_modified_since(client: TestClient) -> None:
    modified = client.get("/").headers["last-modified"]
    assert client.get("/", headers={"if-modified-since": modified}).status_code == 304
    later = "Fri, 01 Jan 2100 00:00:00 GMT"
    assert client.get("/", headers={"if-modified-since": later}).status_code == 304
    earlier = "Thu, 01 Jan 1970 00:00:00 GMT"
    assert client.get("/", headers={"if-modified-since": earlier}).status_code == 200
    assert client.get("/", headers={"if-modified-since": "garbage"}).status_code == 200
    # If-None-Match, when present, decides alone (RFC 9110 §13.1.3).
    both = {"if-none-match": '"other"', "if-modified-since": later}
    assert client.get("/", headers=both).status_code == 200


def test_if_match_and_if_unmodified_since_answer_412(client: TestClient) -> None:
    whole = client.get("/")
    assert client.get("/", headers={"if-match": '"other"'}).status_code == 412
    assert client.get("/", headers={"if-match": whole.headers["etag"]}).status_code == 200
    assert client.get("/", headers={"if-match": "*"}).status_code == 200
    early = "Thu, 01 Jan 1970 00:00:00 GMT"
    r = client.get("/", headers={"if-unmodified-since": early})
    assert r.status_code == 412
    assert r.headers["content-length"] == "0"
    assert (
        client.get(
            "/", headers={"if-unmodified-since": whole.headers["last-modified"]}
        ).status_code
        == 200
    )


def test_if_none_match_on_post_is_412(path: Path) -> None:
    app = App()
    response = FileResponse(path)

    @app.post("/file")
    async def post() -> FileResponse:
        return response

    assert TestClient(app).post("/file", headers={"if-none-match": "*"}).status_code == 412


# --- the object is not changed by a request ------------------------------------------------


def test_one_object_answers_many_different_requests(path: Path) -> None:
    response = FileResponse(path, filename="data.bin")
    before = list(response.raw_headers)
    client = TestClient(response)
    etag = client.get("/").headers["etag"]
    for headers in [
        {"range": "bytes=0-9"},
        {"range": "bytes=0-1,5-6"},
        {"range": "bytes=999999-"},
        {"range": "nonsense"},
        {"if-none-match": etag},
        {},
    ]:
        client.get("/", headers=headers)
    client.head("/")
    assert response.raw_headers == before
    assert response.status_code == 200
    assert client.get("/").content == DATA


# --- pathsend ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_pathsend_when_the_server_offers_it(path: Path) -> None:
    extensions: dict[str, Any] = {"http.response.pathsend": {}}
    messages = await call_asgi(FileResponse(path), extensions=extensions)
    assert messages[0]["type"] == "http.response.start"
    assert dict(messages[0]["headers"])[b"content-length"] == str(SIZE).encode()
    assert messages[1:] == [{"type": "http.response.pathsend", "path": str(path.resolve())}]
    ranged = await call_asgi(
        FileResponse(path), headers=[(b"range", b"bytes=0-9")], extensions=extensions
    )
    assert ranged[0]["status"] == 206
    assert b"".join(m["body"] for m in ranged[1:]) == DATA[:10]


@pytest.mark.anyio
async def test_pathsend_with_a_stat_result(path: Path) -> None:
    extensions: dict[str, Any] = {"http.response.pathsend": {}}
    messages = await call_asgi(FileResponse(path, stat_result=path.stat()), extensions=extensions)
    assert messages[-1]["type"] == "http.response.pathsend"


# --- streaming ----------------------------------------------------------------------------------


def test_chunks_are_chunk_size(client: TestClient) -> None:
    with client.stream("GET", "/") as r:
        sizes = [len(chunk) for chunk in r.iter_raw()]
    assert sizes == [65536, SIZE - 65536]


def test_memory_stays_constant_for_a_big_file(tmp_path: Path) -> None:
    big = tmp_path / "big"
    with big.open("wb") as file:
        for _ in range(32):
            file.write(os.urandom(1024 * 1024))
    client = TestClient(FileResponse(big))
    received = 0
    tracemalloc.start()
    try:
        with client.stream("GET", "/") as r:
            for chunk in r.iter_raw():
                received += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == 32 * 1024 * 1024
    assert peak < 2 * 1024 * 1024


def test_a_client_that_leaves_stops_the_reading(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = tmp_path / "big"
    big.write_bytes(b"x" * (10 * 65536))
    reads: list[int] = []
    read = microweb.responses._files._read

    def counting(fd: int, offset: int, size: int) -> bytes:
        reads.append(offset)
        return read(fd, offset, size)

    monkeypatch.setattr(microweb.responses._files, "_read", counting)
    with TestClient(FileResponse(big)).stream("GET", "/") as r:
        next(r.iter_raw())
    assert len(reads) <= 3


def test_a_file_that_shrinks_cuts_the_response(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []
    read = microweb.responses._files._read

    def shrinking(fd: int, offset: int, size: int) -> bytes:
        calls.append(offset)
        return read(fd, offset, size) if len(calls) == 1 else b""

    monkeypatch.setattr(microweb.responses._files, "_read", shrinking)
    monkeypatch.setattr(microweb.responses._files, "_read_cached", lambda fd, offset, size: None)
    with caplog.at_level(logging.ERROR, logger="microweb"):
        r = client.get("/")
    assert r.content == DATA[:65536]
    assert "shrank" in caplog.text


def test_background_runs_after_the_file(path: Path) -> None:
    done = threading.Event()
    TestClient(FileResponse(path, background=BackgroundTask(done.set))).get("/")
    assert done.is_set()


def test_a_path_returned_under_response_class(path: Path) -> None:
    app = App()

    @app.get("/download", response_class=FileResponse)
    def download() -> Iterator[str] | Path:
        return path

    r = TestClient(app).get("/download", headers={"range": "bytes=-4"})
    assert r.status_code == 206
    assert r.content == DATA[-4:]


def test_accept_ranges_none_turns_ranges_off(path: Path) -> None:
    client = TestClient(FileResponse(path, headers={"accept-ranges": "none"}))
    r = client.get("/", headers={"range": "bytes=0-9"})
    assert r.status_code == 200
    assert r.headers.get_list("accept-ranges") == ["none"]
    assert r.content == DATA


def test_cached_chunks_are_read_on_the_loop_without_a_thread(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        if microweb.responses._files._read_cached(fd, 0, 10) is None:
            pytest.skip("this filesystem does not read with RWF_NOWAIT")
    finally:
        os.close(fd)

    def no_thread(fd: int, offset: int, size: int) -> bytes:
        raise AssertionError("a chunk in the page cache went to a worker thread")

    monkeypatch.setattr(microweb.responses._files, "_read", no_thread)
    assert TestClient(FileResponse(path)).get("/").content == DATA  # just written: cached
    ranged = TestClient(FileResponse(path)).get("/", headers={"range": "bytes=100-199"})
    assert ranged.content == DATA[100:200]


def test_read_cached_gives_what_is_there_or_none(path: Path) -> None:
    read_cached = microweb.responses._files._read_cached
    fd = os.open(path, os.O_RDONLY)
    try:
        whole = read_cached(fd, 0, SIZE)
        if whole is None:
            pytest.skip("this filesystem does not read with RWF_NOWAIT")
        assert whole == DATA
        assert read_cached(fd, SIZE - 5, 64) == DATA[-5:]  # short: what is left
        assert read_cached(fd, SIZE, 64) is None  # at the end: the thread read decides
    finally:
        os.close(fd)
    write_only = os.open(path, os.O_WRONLY)
    try:
        assert read_cached(write_only, 0, 10) is None  # an error: the thread read reports it
    finally:
        os.close(write_only)
