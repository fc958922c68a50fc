"""Request (SPEC "Requests"): what a handler reads, limits and hostile input, through an App."""

from __future__ import annotations

import hashlib
import logging
import os
import random
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import anyio
import pytest

from microweb import App, HTTPException, Request
from microweb._context import CONTEXT, AppContext
from microweb.datastructures import URL, Address, FormData, Headers, QueryParams, UploadFile
from microweb.requests import ClientDisconnect
from microweb.testclient import TestClient
from microweb.types import Message, Scope

# --- helpers ------------------------------------------------------------------------


def http_scope(**changes: Any) -> Scope:
    scope: Scope = {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "server": ("testserver", 80),
        "path": "/",
        "root_path": "",
        "query_string": b"",
        "headers": [],
    }
    scope.update(changes)
    return scope


def body_receiver(*chunks: bytes, then: str = "end") -> Any:
    """A ``receive`` giving ``chunks``; then the end of the body, or a disconnect."""
    messages: list[Message] = [
        {"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks
    ]
    if then == "end":
        messages.append({"type": "http.request", "body": b"", "more_body": False})
    else:
        messages.append({"type": "http.disconnect"})

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    return receive


def started_statuses(sent: list[Message]) -> list[int]:
    return [m["status"] for m in sent if m["type"] == "http.response.start"]


def temp_files_open(directory: Path) -> list[str]:
    """The files of this process open under ``directory`` (Linux: /proc/self/fd)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # closed between listdir and readlink
            continue
        if target.startswith(str(directory)):
            found.append(target)
    return found


@pytest.fixture
def tmpdir_for_uploads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Spooled uploads roll over into ``tmp_path``, so the test can watch them."""
    if not os.path.isdir("/proc/self/fd"):  # pragma: no cover - Linux CI
        pytest.skip("needs /proc/self/fd to see open temporary files")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def multipart(
    parts: list[tuple[str, str | None, bytes]], boundary: str = "b0undary"
) -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body from ``(name, filename or None, content)`` parts."""
    out = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        header = f"--{boundary}\r\ncontent-disposition: {disposition}\r\n"
        out += header.encode("utf-8", "surrogateescape")  # lets a test send invalid UTF-8
        if filename is not None:
            out += b"content-type: application/octet-stream\r\n"
        out += b"\r\n" + content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, {"content-type": f"multipart/form-data; boundary={boundary}"}


def echo_form_app(**app_options: Any) -> tuple[App, list[UploadFile]]:
    """An app whose POST /form answers the parsed form; it keeps the UploadFiles it saw."""
    app = App(**app_options)
    uploads: list[UploadFile] = []

    @app.post("/form")
    async def form(
        request: Request, max_files: int = 1000, max_fields: int = 1000, close: bool = True
    ) -> Any:
        parsed = await request.form(max_files=max_files, max_fields=max_fields, max_part_size=64)
        out: list[Any] = []
        for key, value in parsed.multi_items():
            if isinstance(value, UploadFile):
                uploads.append(value)
                data = await value.read()
                out.append([key, value.filename, value.size, hashlib.sha256(data).hexdigest()])
            else:
                out.append([key, value])
        if close:
            # What routing will do after the response; until then, by hand.
            await request.close()
        return out

    return app, uploads


# --- what a handler reads ---------------------------------------------------------


def test_method_url_and_its_parts() -> None:
    app = App()

    @app.route("/items/{item_id:int}", methods=["GET", "PATCH"])
    async def item(request: Request) -> dict[str, Any]:
        url = request.url
        return {
            "method": request.method,
            "url": str(url),
            "scheme": url.scheme,
            "netloc": url.netloc,
            "hostname": url.hostname,
            "port": url.port,
            "path": url.path,
            "query": url.query,
            "path_params": request.path_params,
            "base_url": str(request.base_url),
            "secure": url.is_secure,
        }

    client = TestClient(app)
    assert client.patch("/items/5?q=a%20b&q=c").json() == {
        "method": "PATCH",
        "url": "http://testserver/items/5?q=a%20b&q=c",
        "scheme": "http",
        "netloc": "testserver",
        "hostname": "testserver",
        "port": None,
        "path": "/items/5",
        "query": "q=a%20b&q=c",
        "path_params": {"item_id": 5},
        "base_url": "http://testserver/",
        "secure": False,
    }
    other = TestClient(app, base_url="https://example.org:8443")
    data = other.get("/items/1").json()
    assert (data["url"], data["hostname"], data["port"]) == (
        "https://example.org:8443/items/1",
        "example.org",
        8443,
    )
    assert data["secure"] is True


def test_url_replace_and_include_query_params_from_a_request() -> None:
    app = App()

    @app.get("/list")
    async def listing(request: Request) -> dict[str, str]:
        url = request.url
        return {
            "next": str(url.include_query_params(page=2)),
            "other_host": str(url.replace(hostname="example.com", port=8000)),
            "other_path": str(url.replace(path="/else", query="")),
        }

    assert TestClient(app).get("/list?page=1&size=10").json() == {
        "next": "http://testserver/list?size=10&page=2",
        "other_host": "http://example.com:8000/list?page=1&size=10",
        "other_path": "http://testserver/else",
    }


def test_path_is_percent_encoded_again_in_url() -> None:
    app = App()

    @app.get("/files/{name}")
    async def files(request: Request, name: str) -> list[str]:
        return [name, request.url.path]

    assert TestClient(app).get("/files/a%20b").json() == ["a b", "/files/a%20b"]


def test_base_url_and_url_for_honour_root_path() -> None:
    app = App()

    @app.get("/items/{item_id:int}", name="item")
    async def item(request: Request) -> list[str]:
        return [str(request.base_url), str(request.url_for("item", item_id=7))]

    assert TestClient(app).get("/items/1").json() == [
        "http://testserver/",
        "http://testserver/items/7",
    ]
    mounted = TestClient(app, root_path="/api")
    assert mounted.get("/items/1").json() == [
        "http://testserver/api/",
        "http://testserver/api/items/7",
    ]


def test_url_for_needs_an_app() -> None:
    with pytest.raises(RuntimeError, match="through an App"):
        Request(http_scope()).url_for("anything")


def test_query_params_multi_valued() -> None:
    app = App()

    @app.get("/q")
    async def query(request: Request) -> dict[str, Any]:
        params = request.query_params
        return {
            "first": params["tag"],
            "get": params.get("missing", "default"),
            "all": params.getlist("tag"),
            "keys": list(params),
            "empty": params["empty"],
            "items": params.multi_items(),
        }

    assert TestClient(app).get("/q?tag=a&empty=&tag=b&x=%2B+1").json() == {
        "first": "a",
        "get": "default",
        "all": ["a", "b"],
        "keys": ["tag", "empty", "x"],
        "empty": "",
        "items": [["tag", "a"], ["empty", ""], ["tag", "b"], ["x", "+ 1"]],
    }


def test_query_percent_encoding_errors_are_kept_literally() -> None:
    # Lenient as browsers: a malformed escape is text, not an error.
    request = Request(http_scope(query_string=b"a=%zz&b=%&c=%4&d=100%"))
    assert dict(request.query_params) == {"a": "%zz", "b": "%", "c": "%4", "d": "100%"}


@pytest.mark.parametrize("query", [b"a=%ff", b"a=\xff", b"%C3%28=1"])
def test_query_invalid_utf8_is_400(query: bytes) -> None:
    request = Request(http_scope(query_string=query))
    with pytest.raises(HTTPException, match="Invalid UTF-8 in the query") as info:
        _ = request.query_params
    assert info.value.status_code == 400


def test_query_invalid_utf8_through_the_app_is_400() -> None:
    app = App()

    @app.get("/q")
    async def query(request: Request) -> dict[str, str]:
        return dict(request.query_params)

    response = TestClient(app).get("/q?a=%ff")
    assert (response.status_code, response.json()) == (
        400,
        {"detail": "Invalid UTF-8 in the query string"},
    )


def test_headers_cookies_client_state() -> None:
    app = App()

    @app.get("/h")
    async def headers(request: Request) -> dict[str, Any]:
        request.state.seen = True
        client = request.client
        assert isinstance(client, Address)
        return {
            "agent": request.headers["X-Agent"],
            "many": request.headers.getlist("x-many"),
            "cookies": request.cookies,
            "client": [client.host, client.port],
            "state": request.state.seen,
        }

    response = TestClient(app).get(
        "/h",
        headers=[("x-agent", "me"), ("x-many", "1"), ("x-many", "2"), ("cookie", 'a=1; b="x y"')],
    )
    assert response.json() == {
        "agent": "me",
        "many": ["1", "2"],
        "cookies": {"a": "1", "b": "x y"},
        "client": ["testclient", 50000],
        "state": True,
    }


def test_request_attributes_without_server_details() -> None:
    request = Request(http_scope(headers=[(b"host", b"h.example:81")], server=None))
    assert request.client is None
    assert request.cookies == {}
    assert isinstance(request.headers, Headers)
    assert request.url == "http://h.example:81/"
    assert request.path_params == {}
    assert request.query_params == QueryParams("")
    with pytest.raises(AttributeError, match="no attribute 'user'"):
        _ = request.state.user
    assert Request(http_scope(server=None)).url == URL("http:///")


def test_parsed_values_are_kept() -> None:
    request = Request(http_scope(query_string=b"a=1", headers=[(b"cookie", b"c=1")]))
    assert request.query_params is request.query_params
    assert request.headers is request.headers
    assert request.cookies is request.cookies
    assert request.url is request.url


@pytest.mark.anyio
async def test_stream_skips_unknown_messages() -> None:
    messages: list[Message] = [
        {"type": "http.request", "body": b"a", "more_body": True},
        {"type": "http.something.else"},
        {"type": "http.request", "body": b"b", "more_body": False},
    ]

    async def receive() -> Message:
        return messages.pop(0)

    assert await Request(http_scope(method="POST"), receive).body() == b"ab"


def test_state_starts_from_lifespan_state() -> None:
    request = Request(http_scope(state={"db": "conn"}))
    assert request.state.db == "conn"


def test_a_request_reads_as_a_mapping_of_its_scope() -> None:
    scope = http_scope(path="/items", method="POST")
    request = Request(scope)
    assert isinstance(request, Mapping)
    assert request["path"] == "/items"
    assert request.get("method") == "POST"
    assert "query_string" in request
    assert len(request) == len(scope)
    assert list(request) == list(scope)
    assert dict(request) == scope
    assert dict(request.items()) == scope
    assert list(request.keys()) == list(scope)
    assert list(request.values()) == list(scope.values())
    assert request.get("missing", 0) == 0
    with pytest.raises(KeyError):
        request["missing"]
    with pytest.raises(TypeError):
        request["path"] = "/other"  # type: ignore[index]


def test_requests_compare_and_hash_by_identity() -> None:
    scope = http_scope()
    first, second = Request(scope), Request(scope)
    assert first == first
    assert first != second
    assert len({first, second}) == 2


def test_request_needs_an_http_scope() -> None:
    with pytest.raises(ValueError, match="needs an 'http' scope, got 'websocket'"):
        Request({"type": "websocket"})


@pytest.mark.anyio
async def test_request_without_receive_cannot_read_the_body() -> None:
    with pytest.raises(RuntimeError, match="without a receive channel"):
        await Request(http_scope()).body()


class Explosive(list[tuple[bytes, bytes]]):
    """Headers that fail the test if anything reads them."""

    def __iter__(self) -> Iterator[tuple[bytes, bytes]]:
        raise AssertionError("the headers were read")


@pytest.mark.anyio
async def test_everything_is_lazy() -> None:
    async def receive() -> Message:
        raise AssertionError("the body was read")

    scope = http_scope(headers=Explosive(), query_string=b"\xff", path_params={"a": 1})
    request = Request(scope, receive)
    # What a handler that uses none of them touches: nothing is parsed.
    assert (request.method, request.path_params, request.scope is scope) == ("GET", {"a": 1}, True)
    assert request.receive is receive
    await request.close()  # no form: nothing to do


# --- body, json, stream -----------------------------------------------------------


def test_body_json_and_stream() -> None:
    app = App()

    @app.post("/body")
    async def body(request: Request) -> dict[str, Any]:
        first = await request.body()
        assert await request.body() is first  # kept
        streamed = b"".join([chunk async for chunk in request.stream()])
        return {
            "body": first.decode(),
            "json": await request.json(),
            "streamed": streamed.decode(),
        }

    @app.post("/stream")
    async def stream(request: Request) -> list[int]:
        return [len(chunk) async for chunk in request.stream()]

    client = TestClient(app)
    assert client.post("/body", json={"a": [1, 2]}).json() == {
        "body": '{"a":[1,2]}',
        "json": {"a": [1, 2]},
        "streamed": '{"a":[1,2]}',
    }
    chunks = (b"x" * n for n in (3, 5, 7))
    assert client.post("/stream", content=chunks).json() == [3, 5, 7]


@pytest.mark.anyio
async def test_stream_twice_is_an_error() -> None:
    request = Request(http_scope(method="POST"), body_receiver(b"abc"))
    assert [c async for c in request.stream()] == [b"abc"]
    with pytest.raises(RuntimeError, match="already streamed"):
        await request.body()


def test_json_with_another_content_type_is_still_parsed() -> None:
    app = App()

    @app.post("/json")
    async def json_handler(request: Request) -> Any:
        return await request.json()

    client = TestClient(app)
    response = client.post("/json", content=b'{"x": 1}', headers={"content-type": "text/plain"})
    assert response.json() == {"x": 1}


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b'{"a": 1} trailing', b'"\xff"', b"[1, 2"],
    ids=["syntax", "empty", "trailing", "invalid-utf8", "truncated"],
)
def test_invalid_json_is_400(body: bytes) -> None:
    app = App()

    @app.post("/json")
    async def json_handler(request: Request) -> Any:
        return await request.json()

    response = TestClient(app).post("/json", content=body)
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Invalid JSON body: ")


def test_json_nested_past_the_limit_is_400_and_at_the_limit_echoes_back() -> None:
    from microweb._json import MAX_DEPTH

    app = App()

    @app.post("/json")
    async def json_handler(request: Request) -> Any:
        return await request.json()

    client = TestClient(app)
    deepest = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    echoed = client.post("/json", content=deepest)
    assert echoed.status_code == 200
    assert echoed.content == deepest
    for depth in (MAX_DEPTH + 1, 1000):  # 1000: orjson reads it, the encoder could not
        refused = client.post("/json", content=b"[" * depth + b"]" * depth)
        assert refused.status_code == 400
        assert refused.json()["detail"] == (
            f"Invalid JSON body: JSON nested deeper than {MAX_DEPTH} levels"
        )


def test_json_is_parsed_once() -> None:
    app = App()

    @app.post("/json")
    async def json_handler(request: Request) -> bool:
        return await request.json() is await request.json()

    assert TestClient(app).post("/json", json=[1]).json() is True


def test_is_disconnected_while_connected() -> None:
    app = App()

    @app.post("/d")
    async def handler(request: Request) -> list[Any]:
        before = await request.is_disconnected()
        return [before, (await request.body()).decode()]

    assert TestClient(app).post("/d", content=b"kept").json() == [False, "kept"]


@pytest.mark.anyio
async def test_is_disconnected_sees_a_disconnect() -> None:
    request = Request(http_scope(method="POST"), body_receiver(b"x", then="disconnect"))
    assert await request.is_disconnected() is False  # a body chunk: kept for stream()
    assert await request.is_disconnected() is True
    assert await request.is_disconnected() is True  # remembered


@pytest.mark.anyio
async def test_is_disconnected_does_not_wait() -> None:
    async def receive() -> Message:
        await anyio.sleep(10)
        raise AssertionError("not reached")  # pragma: no cover

    assert await Request(http_scope(), receive).is_disconnected() is False


# --- max_body_size ------------------------------------------------------------------


def limited_app() -> App:
    app = App(max_body_size=10)

    @app.post("/body")
    async def body(request: Request) -> int:
        return len(await request.body())

    @app.post("/json")
    async def json_handler(request: Request) -> Any:
        return await request.json()

    @app.post("/form")
    async def form(request: Request) -> dict[str, Any]:
        return dict(await request.form())

    @app.post("/stream")
    async def stream(request: Request) -> int:
        # stream() is the way to read an unbounded body: the limit is not applied.
        return sum([len(c) async for c in request.stream()])

    return app


@pytest.mark.parametrize("path", ["/body", "/json"])
def test_body_within_max_body_size(path: str) -> None:
    response = TestClient(limited_app()).post(path, content=b"[1234567]")
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/body", "/json", "/form"])
def test_content_length_over_max_body_size_is_413_before_reading(path: str) -> None:
    response = TestClient(limited_app()).post(
        path,
        content=b"a=" + b"x" * 20,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert response.json() == {
        "detail": "Request body too large: content-length 22 exceeds max_body_size=10 bytes"
    }


@pytest.mark.parametrize("path", ["/body", "/json", "/form"])
def test_chunked_body_over_max_body_size_is_413_and_the_rest_is_not_read(path: str) -> None:
    pulled: list[int] = []

    def chunks() -> Iterator[bytes]:
        for n in range(100):
            pulled.append(n)
            yield b"a=xx" if n == 0 else b"yyyy"

    response = TestClient(limited_app()).post(
        path,
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert "content-length" not in response.request.headers  # sent chunked
    assert response.status_code == 413
    assert response.json() == {
        "detail": "Request body too large: the limit is max_body_size=10 bytes"
    }
    assert len(pulled) < 10  # refused as soon as it passed the limit


def budget_app(budget: int | None, max_body_size: int | None = None) -> App:
    app = App(request_memory_budget=budget, max_body_size=max_body_size)

    @app.post("/body")
    async def body(request: Request) -> int:
        return len(await request.body())

    @app.post("/form")
    async def form(request: Request) -> int:
        return len(await request.form())

    return app


def test_a_body_past_the_memory_budget_is_413_declared_or_chunked() -> None:
    client = TestClient(budget_app(1000))
    assert client.post("/body", content=b"x" * 1000).json() == 1000
    budget_detail = (
        "The request body would pass the request's in-memory budget of 1000 bytes "
        "(App(request_memory_budget=...))"
    )
    declared = client.post("/body", content=b"x" * 1001)
    assert (declared.status_code, declared.json()["detail"]) == (413, budget_detail)
    chunked = client.post("/body", content=iter([b"x" * 600, b"x" * 600]))
    assert "content-length" not in chunked.request.headers
    assert (chunked.status_code, chunked.json()["detail"]) == (413, budget_detail)
    # The tighter limit speaks: here max_body_size.
    both = TestClient(budget_app(1000, max_body_size=10)).post("/body", content=b"x" * 11)
    assert "max_body_size=10" in both.json()["detail"]


def test_the_default_budget_is_16_mib_and_none_lifts_it() -> None:
    assert App().request_memory_budget == 16 * 1024 * 1024
    big = b"x" * (16 * 1024 * 1024 + 1)
    assert TestClient(budget_app(16 * 1024 * 1024)).post("/body", content=big).status_code == 413
    assert TestClient(budget_app(None)).post("/body", content=big).json() == len(big)


def test_form_text_and_body_share_one_budget() -> None:
    client = TestClient(budget_app(100))
    ok = client.post("/form", data={"a": "x" * 40})
    assert ok.json() == 1
    refused = client.post("/form", files={"f": ("f", b"y")}, data={"a": "x" * 200})
    assert refused.status_code == 413
    assert "in-memory budget of 100 bytes" in refused.json()["detail"]


@pytest.mark.parametrize("value", [-1, 1.5, "16", True])
def test_request_memory_budget_must_be_a_non_negative_int(value: Any) -> None:
    with pytest.raises(ValueError, match=f"request_memory_budget must be .*{value!r}"):
        App(request_memory_budget=value)
    app = App()
    with pytest.raises(ValueError, match="request_memory_budget"):
        app.request_memory_budget = value


def test_a_content_length_of_5000_digits_is_413_not_500() -> None:
    response = TestClient(limited_app()).post(
        "/body", content=b"x", headers={"content-length": "9" * 5000}
    )
    assert response.status_code in (400, 413)


def test_stream_is_not_bounded_by_max_body_size() -> None:
    assert TestClient(limited_app()).post("/stream", content=b"x" * 100).json() == 100


@pytest.mark.anyio
async def test_invalid_content_length_is_400() -> None:
    request = Request(
        http_scope(
            method="POST",
            headers=[(b"content-length", b"1e3")],
            **{CONTEXT: AppContext(App().url_path_for, max_body_size=5)},
        ),
        body_receiver(b"x"),
    )
    with pytest.raises(HTTPException, match="Invalid content-length header '1e3'"):
        await request.body()


@pytest.mark.anyio
async def test_no_limit_without_an_app() -> None:
    request = Request(http_scope(method="POST"), body_receiver(b"x" * 100, b"y" * 100))
    assert len(await request.body()) == 200


# --- client disconnects -----------------------------------------------------------


def test_client_disconnect_is_a_quiet_http_exception() -> None:
    exc = ClientDisconnect()
    assert isinstance(exc, HTTPException)
    assert (exc.status_code, exc.detail) == (
        400,
        "The client disconnected before the request body was complete",
    )


@pytest.mark.anyio
@pytest.mark.parametrize("reader", ["body", "json", "stream", "form"])
async def test_handler_sees_client_disconnect_mid_body(reader: str) -> None:
    app = App()
    seen: list[str] = []

    @app.post("/read")
    async def read(request: Request) -> None:
        try:
            if reader == "stream":
                async for _ in request.stream():
                    pass
            else:
                await getattr(request, reader)()
        except ClientDisconnect:
            seen.append("disconnect")
            raise

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope = http_scope(
        method="POST",
        path="/read",
        headers=[(b"content-type", b"application/x-www-form-urlencoded")],
    )
    await app(scope, body_receiver(b"a=1&b", then="disconnect"), send)
    assert seen == ["disconnect"]
    # Answered as a 400 nobody will read (or, once the App special-cases it,
    # not at all), never as a 500.
    assert started_statuses(sent) in ([], [400])


@pytest.mark.anyio
async def test_client_disconnect_through_the_app_is_not_logged_as_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = App()

    @app.post("/read")
    async def read(request: Request) -> int:
        return len(await request.body())

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    with caplog.at_level(logging.WARNING):
        await app(
            http_scope(method="POST", path="/read"), body_receiver(b"ab", then="disconnect"), send
        )
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert started_statuses(sent) in ([], [400])


@pytest.mark.anyio
async def test_client_disconnect_mid_upload_leaves_no_temporary_file(
    tmpdir_for_uploads: Path,
) -> None:
    body, headers = multipart([("f", "big.bin", b"x" * (3 * 1024 * 1024))])
    cut = len(body) // 2
    chunks = [body[i : i + 65536] for i in range(0, cut, 65536)]
    request = Request(
        http_scope(method="POST", headers=[(b"content-type", headers["content-type"].encode())]),
        body_receiver(*chunks, then="disconnect"),
    )
    with pytest.raises(ClientDisconnect):
        await request.form()
    assert temp_files_open(tmpdir_for_uploads) == []
    await request.close()  # nothing parsed: a no-op


# --- forms --------------------------------------------------------------------------


def test_urlencoded_form() -> None:
    app, _ = echo_form_app()
    response = TestClient(app).post(
        "/form",
        content=b"name=Ada+L&tag=a&tag=b&empty=&bare&caf%C3%A9=%E2%82%AC&odd=%zz&&=v",
        headers={"content-type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    assert response.json() == [
        ["name", "Ada L"],
        ["tag", "a"],
        ["tag", "b"],
        ["empty", ""],
        ["bare", ""],
        ["café", "€"],
        ["odd", "%zz"],
        ["", "v"],
    ]


def test_form_data_is_a_multi_valued_mapping() -> None:
    app = App()

    @app.post("/form")
    async def form(request: Request) -> dict[str, Any]:
        parsed = await request.form()
        assert await request.form() is parsed  # parsed once
        assert isinstance(parsed, FormData)
        return {
            "first": parsed["tag"],
            "get": parsed.get("nope"),
            "all": parsed.getlist("tag"),
            "keys": list(parsed),
            "len": len(parsed),
            "in": "tag" in parsed,
        }

    response = TestClient(app).post("/form", data={"tag": ["x", "y"], "other": "1"})
    assert response.json() == {
        "first": "x",
        "get": None,
        "all": ["x", "y"],
        "keys": ["tag", "other"],
        "len": 2,
        "in": True,
    }


def test_form_after_body_uses_the_kept_body() -> None:
    app = App()

    @app.post("/form")
    async def form(request: Request) -> dict[str, Any]:
        await request.body()
        return dict(await request.form())

    assert TestClient(app).post("/form", data={"a": "1"}).json() == {"a": "1"}


def test_form_without_content_type_and_body_is_empty() -> None:
    app = App()

    @app.post("/form")
    async def form(request: Request) -> int:
        return len(await request.form())

    assert TestClient(app).post("/form").json() == 0


@pytest.mark.parametrize(
    ("content", "content_type"),
    [(b'{"a": 1}', "application/json"), (b"a=1", None), (b"x", "multipart/mixed; boundary=x")],
)
def test_form_of_something_else_is_415(content: bytes, content_type: str | None) -> None:
    app, _ = echo_form_app()
    headers = {} if content_type is None else {"content-type": content_type}
    response = TestClient(app).post("/form", content=content, headers=headers)
    assert response.status_code == 415
    assert response.json()["detail"] == (
        "Expected a form body (application/x-www-form-urlencoded or multipart/form-data), "
        f"got content-type {content_type!r}"
    )


def test_multipart_fields_and_files_arrive_byte_for_byte(tmpdir_for_uploads: Path) -> None:
    app, uploads = echo_form_app()
    rng = random.Random(5)
    big = rng.randbytes(3 * 1024 * 1024 + 17)  # rolls over to disk
    # Bytes that look like a boundary but are not one, CRLFs, NULs.
    tricky = b"\r\n--b0undar\r\n--\r\n\x00\xff" * 100
    client = TestClient(app)
    response = client.post(
        "/form",
        data={"title": "Résumé", "tag": ["a", "b"]},
        files=[
            ("files", ("big.bin", big, "application/octet-stream")),
            ("files", ("tricky.bin", tricky, "application/octet-stream")),
        ],
    )
    assert response.status_code == 200
    assert response.json() == [
        ["title", "Résumé"],
        ["tag", "a"],
        ["tag", "b"],
        ["files", "big.bin", len(big), hashlib.sha256(big).hexdigest()],
        ["files", "tricky.bin", len(tricky), hashlib.sha256(tricky).hexdigest()],
    ]
    big_upload = uploads[0]
    assert big_upload.content_type == "application/octet-stream"
    assert big_upload.headers["content-disposition"] == (
        'form-data; name="files"; filename="big.bin"'
    )
    assert getattr(big_upload.file, "_rolled", None) is True  # spooled to disk
    assert getattr(uploads[1].file, "_rolled", None) is False  # small: in memory


@pytest.mark.anyio
async def test_request_close_removes_the_temporary_files(tmpdir_for_uploads: Path) -> None:
    content = random.Random(1).randbytes(2 * 1024 * 1024)
    body, headers = multipart(
        [("a", "a.bin", content), ("b", "b.bin", content), ("t", None, b"x")]
    )
    request = Request(
        http_scope(method="POST", headers=[(b"content-type", headers["content-type"].encode())]),
        body_receiver(*[body[i : i + 65536] for i in range(0, len(body), 65536)]),
    )
    form = await request.form()
    files = form.getlist("a") + form.getlist("b")
    assert len(temp_files_open(tmpdir_for_uploads)) == 2  # both rolled to disk
    for upload in files:
        assert isinstance(upload, UploadFile)
        assert await upload.read() == content
    await request.close()
    assert all(isinstance(f, UploadFile) and f.file.closed for f in files)
    assert temp_files_open(tmpdir_for_uploads) == []
    await request.close()  # idempotent
    assert os.listdir(tmpdir_for_uploads) == []


def test_temporary_files_are_removed_after_the_response(tmpdir_for_uploads: Path) -> None:
    app, uploads = echo_form_app()
    content = b"z" * (2 * 1024 * 1024)
    response = TestClient(app).post("/form?close=false", files={"f": ("f.bin", content)})
    assert response.json()[0][2] == len(content)
    try:
        # Depends on the App's wiring: routing awaits request.close() once the
        # response is sent, so nothing is left open when the call returns.
        assert uploads[0].file.closed
        assert temp_files_open(tmpdir_for_uploads) == []
    finally:
        uploads[0].file.close()  # until then: no ResourceWarning at garbage collection


# --- hostile forms ----------------------------------------------------------------


def post_form(app: App, body: bytes, content_type: str, query: str = "") -> tuple[int, Any]:
    response = TestClient(app).post(
        "/form" + query, content=body, headers={"content-type": content_type}
    )
    return response.status_code, response.json()


MULTIPART = "multipart/form-data; boundary=b0undary"


@pytest.mark.parametrize(
    ("body", "content_type", "detail"),
    [
        (b'--b0undary\r\ncontent-disposition: form-data; name="a"\r\n\r\n1\r\n', MULTIPART,
         "Truncated multipart body: it ended before the closing boundary"),
        (b'--b0undary\r\ncontent-disposition: form-data; name="a"\r\n\r\n1', MULTIPART,
         "Truncated multipart body: it ended before the closing boundary"),
        (b"", MULTIPART, "Truncated multipart body: it ended before the closing boundary"),
        (b"\r\n\r\n", MULTIPART, "Truncated multipart body: it ended before the closing boundary"),
        (b"--other\r\n\r\nx\r\n--other--\r\n", MULTIPART,
         "Malformed multipart body: Expected boundary character"),
        (b"this is not multipart at all", MULTIPART,
         "Malformed multipart body: Expected boundary character"),
        (b"--b0undaryX\r\n", MULTIPART, "Malformed multipart body: Did not find CR at end"),
        (b"--b0undary\r\nno colon here\r\n\r\n\r\n--b0undary--\r\n", MULTIPART,
         "Malformed multipart body: Found invalid character"),
        (b"--b0undary\r\ncontent-type: text/plain\r\n\r\nx\r\n--b0undary--\r\n", MULTIPART,
         "Malformed multipart body: a part has no name"),
        (b"--x--\r\n", "multipart/form-data",
         "Malformed multipart body: the content-type header has no boundary"),
        (b"--x--\r\n", "multipart/form-data; boundary=" + "x" * 300,
         "Malformed multipart boundary: Boundary length 300 exceeds maximum of 256"),
    ],
    ids=[
        "no-closing-boundary",
        "cut-mid-part",
        "empty",
        "only-newlines",
        "wrong-boundary",
        "garbage",
        "bad-boundary-line",
        "bad-part-header",
        "part-without-name",
        "no-boundary-param",
        "boundary-too-long",
    ],
)  # fmt: skip
def test_malformed_multipart_is_400(
    body: bytes, content_type: str, detail: str, tmpdir_for_uploads: Path
) -> None:
    app, _ = echo_form_app()
    status, data = post_form(app, body, content_type)
    assert status == 400
    assert data["detail"].startswith(detail)


def test_truncated_upload_is_400_and_leaves_no_file(tmpdir_for_uploads: Path) -> None:
    app, _ = echo_form_app()
    body, headers = multipart([("f", "f.bin", b"q" * (2 * 1024 * 1024))])
    for cut in (len(body) - 5, len(body) // 2, 100):
        status, data = post_form(app, body[:cut], headers["content-type"])
        assert (status, data["detail"]) == (
            400,
            "Truncated multipart body: it ended before the closing boundary",
        )
        assert temp_files_open(tmpdir_for_uploads) == []


def test_too_many_fields_is_400() -> None:
    app, _ = echo_form_app()
    status, data = post_form(
        app, b"a=1&b=2&c=3", "application/x-www-form-urlencoded", "?max_fields=2"
    )
    assert (status, data) == (
        400,
        {"detail": "Too many fields in the form: the limit is max_fields=2"},
    )
    body, headers = multipart([("a", None, b"1"), ("b", None, b"2"), ("c", None, b"3")])
    status, data = post_form(app, body, headers["content-type"], "?max_fields=2")
    assert (status, data) == (
        400,
        {"detail": "Too many fields in the form: the limit is max_fields=2"},
    )
    assert post_form(app, body, headers["content-type"], "?max_fields=3")[0] == 200


def test_too_many_files_is_400_and_leaves_no_file(tmpdir_for_uploads: Path) -> None:
    app, _ = echo_form_app()
    big = b"f" * (1024 * 1024 + 1)
    body, headers = multipart([("a", "1", big), ("b", "2", big), ("c", "3", big)])
    status, data = post_form(app, body, headers["content-type"], "?max_files=2")
    assert (status, data) == (
        400,
        {"detail": "Too many files in the form: the limit is max_files=2"},
    )
    assert temp_files_open(tmpdir_for_uploads) == []
    # Files do not count as fields, nor fields as files.
    assert post_form(app, body, headers["content-type"], "?max_files=3&max_fields=0")[0] == 200


def test_field_over_max_part_size_is_413() -> None:
    app, _ = echo_form_app()  # max_part_size=64
    body, headers = multipart([("ok", None, b"x" * 64), ("long", None, b"x" * 65)])
    status, data = post_form(app, body, headers["content-type"])
    assert (status, data) == (
        413,
        {"detail": "Form field 'long' is larger than max_part_size=64 bytes"},
    )
    status, data = post_form(app, b"ok=1&long=" + b"x" * 70, "application/x-www-form-urlencoded")
    assert (status, data) == (
        413,
        {"detail": "Form field 'long' is larger than max_part_size=64 bytes"},
    )


def test_files_are_not_bounded_by_max_part_size_or_max_body_size() -> None:
    app, _ = echo_form_app(max_body_size=100)
    content = b"y" * 5000
    body, headers = multipart([("f", "f.bin", content)])
    status, data = post_form(app, body, headers["content-type"])
    assert (status, data) == (200, [["f", "f.bin", 5000, hashlib.sha256(content).hexdigest()]])


def test_multipart_text_fields_together_are_bounded_by_max_body_size() -> None:
    app, _ = echo_form_app(max_body_size=100)
    body, headers = multipart([(f"f{i}", None, b"x" * 30) for i in range(4)])
    status, data = post_form(app, body, headers["content-type"])
    assert (status, data) == (
        413,
        {"detail": "The form's text fields together exceed max_body_size=100 bytes"},
    )


@pytest.mark.parametrize(
    ("body", "content_type", "detail"),
    [
        (b"a=%ff", "application/x-www-form-urlencoded", "Invalid UTF-8 in the form body"),
        (b"%c3%28=1", "application/x-www-form-urlencoded", "Invalid UTF-8 in the form body"),
        (b"a=\xff", "application/x-www-form-urlencoded", "Invalid UTF-8 in the form body"),
        (multipart([("a", None, b"\xff")])[0], MULTIPART, "Invalid UTF-8 in form field 'a'"),
        (multipart([("\udcff", None, b"v")])[0], MULTIPART, "Invalid UTF-8 in a form field name"),
    ],
    ids=["urlencoded-value", "urlencoded-name", "urlencoded-raw", "multipart-value",
         "multipart-name"],
)  # fmt: skip
def test_invalid_utf8_in_form_is_400(body: bytes, content_type: str, detail: str) -> None:
    app, _ = echo_form_app()
    assert post_form(app, body, content_type) == (400, {"detail": detail})


def test_empty_file_input_is_an_empty_upload() -> None:
    # What a browser sends for a file input left empty.
    body, headers = multipart([("f", "", b""), ("g", "g.txt", b"")])
    app, _ = echo_form_app()
    assert post_form(app, body, headers["content-type"]) == (
        200,
        [
            ["f", "", 0, hashlib.sha256(b"").hexdigest()],
            ["g", "g.txt", 0, hashlib.sha256(b"").hexdigest()],
        ],
    )


def test_filename_that_is_not_utf8_is_read_as_latin1() -> None:
    body = (
        b'--b0undary\r\ncontent-disposition: form-data; name="f"; filename="caf\xe9.txt"\r\n'
        b"\r\nhi\r\n--b0undary--\r\n"
    )
    app, uploads = echo_form_app()
    status, _ = post_form(app, body, MULTIPART)
    assert status == 200
    assert uploads[0].filename == "café.txt"
    assert uploads[0].content_type is None


# --- a body in one message (body()'s fast path) keeps every limit -------------------


def one_message(body: Any, log: list[Message] | None = None) -> Any:
    """A ``receive`` giving the whole body in one ``http.request`` (more_body False)."""
    messages: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> Message:
        message = messages.pop(0) if messages else {"type": "http.disconnect"}
        if log is not None:
            log.append(message)
        return message

    return receive


def limited_request(
    receive: Any, max_body_size: int | None = None, budget: int | None = 1000, **changes: Any
) -> Request:
    context = AppContext(
        App().url_path_for, max_body_size=max_body_size, request_memory_budget=budget
    )
    return Request(http_scope(method="POST", **{CONTEXT: context}, **changes), receive)


@pytest.mark.parametrize(
    ("limits", "detail"),
    [
        ({"max_body_size": 10}, "the limit is max_body_size=10 bytes"),
        ({"budget": 10}, "in-memory budget of 10 bytes"),
        ({"max_body_size": 10, "budget": 1000}, "max_body_size=10"),  # the tighter speaks
        ({"max_body_size": 1000, "budget": 10}, "in-memory budget of 10 bytes"),
    ],
)
@pytest.mark.anyio
async def test_one_message_body_past_a_limit_without_content_length_is_413(
    limits: dict[str, int], detail: str
) -> None:
    request = limited_request(one_message(b"x" * 11), **limits)
    with pytest.raises(HTTPException, match=detail) as caught:
        await request.body()
    assert caught.value.status_code == 413
    within = limited_request(one_message(b"x" * 10), **limits)
    assert await within.body() == b"x" * 10


@pytest.mark.anyio
async def test_one_message_body_with_content_length_over_the_limit_is_not_received() -> None:
    received: list[Message] = []
    request = limited_request(
        one_message(b"x" * 20, received),
        max_body_size=10,
        headers=[(b"content-length", b"20")],
    )
    with pytest.raises(HTTPException, match="content-length 20 exceeds max_body_size=10"):
        await request.body()
    assert received == []  # refused before receive() was called
    bad = limited_request(
        one_message(b"x", received), max_body_size=10, headers=[(b"content-length", b"x")]
    )
    with pytest.raises(HTTPException, match="Invalid content-length header 'x'"):
        await bad.body()
    assert received == []


@pytest.mark.anyio
async def test_one_message_body_is_charged_to_the_budget() -> None:
    request = limited_request(one_message(b"x" * 600), budget=1000)
    assert await request.body() == b"x" * 600
    assert request._memory().used == 600  # what a form would find left: 400 bytes
    assert await request.body() == b"x" * 600  # kept: read once


@pytest.mark.anyio
async def test_one_message_body_as_a_bytearray_is_bytes() -> None:
    request = limited_request(one_message(bytearray(b"abc")))
    body = await request.body()
    assert (type(body), body) == (bytes, b"abc")


@pytest.mark.anyio
async def test_body_after_a_first_message_that_is_not_the_whole_body() -> None:
    # more_body True first, then a disconnect first: the general path answers.
    assert await limited_request(body_receiver(b"ab", b"cd")).body() == b"abcd"
    with pytest.raises(ClientDisconnect):
        await limited_request(body_receiver(then="disconnect")).body()
    past = limited_request(body_receiver(b"x" * 6, b"x" * 6), max_body_size=10)
    with pytest.raises(HTTPException, match="the limit is max_body_size=10 bytes"):
        await past.body()
    streamed = limited_request(one_message(b"xyz"))
    assert [chunk async for chunk in streamed.stream()] == [b"xyz"]
    with pytest.raises(RuntimeError, match="already streamed"):
        await streamed.body()
