"""Hostile input: path traversal, header injection, redirects, oversized bodies, leaks.

Each test plays the attacker against a small app defined inline and checks
that microweb answers with a 4xx (or refuses to build the response), never
serves what it should not, and never shows a traceback. docs/reliability.md
explains the safe patterns these tests pin.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from server.conftest import Server  # tests/server: starts uvicorn on 127.0.0.1

from microweb import App, BackgroundTasks, HTTPException, Request, Response
from microweb._paths import safe_path
from microweb.responses import FileResponse, PlainTextResponse, RedirectResponse
from microweb.testclient import TestClient

# --- path traversal through {p:path} -----------------------------------------------------
#
# The dangerous pattern, never to be copied:
#
#     @app.get("/files/{name:path}")
#     async def files(name: str) -> FileResponse:
#         return FileResponse(DATA / name)      # /files/%2e%2e/%2e%2e/etc/passwd
#
# The server percent-decodes the path, so ``name`` can be "../../etc/passwd",
# and ``DATA / "/etc/passwd"`` is "/etc/passwd" (pathlib drops DATA). The safe
# one goes through ``safe_path``.


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """``public/`` with files and a symlink out of it, next to ``secret.txt``."""
    public = tmp_path / "public"
    (public / "sub").mkdir(parents=True)
    (public / "hello.txt").write_text("hello")
    (public / "sub" / "deep.txt").write_text("deep")
    (public / "%2e%2e").write_text("a file named %2e%2e")
    (tmp_path / "secret.txt").write_text("secret")
    (public / "escape.txt").symlink_to(tmp_path / "secret.txt")
    (public / "escape_dir").symlink_to(tmp_path)
    (public / "inner_link.txt").symlink_to(public / "hello.txt")
    return public


@pytest.fixture
def files_client(tree: Path) -> Iterator[TestClient]:
    app = App()

    @app.get("/files/{name:path}")
    async def files(name: str) -> FileResponse:
        return FileResponse(safe_path(tree, name))

    with TestClient(app) as client:
        yield client


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/files/hello.txt", "hello"),
        ("/files/sub/deep.txt", "deep"),
        ("/files/sub/../hello.txt", "hello"),  # httpx normalises the dot segments away
        ("/files/inner_link.txt", "hello"),  # a symlink that stays inside is fine
        ("/files/%252e%252e", "a file named %2e%2e"),  # decoded once: a literal name
    ],
)
def test_safe_path_serves_files_inside(files_client: TestClient, url: str, body: str) -> None:
    answer = files_client.get(httpx.URL(url))
    assert (answer.status_code, answer.text) == (200, body)


@pytest.mark.parametrize(
    "raw",
    [
        "/files/%2e%2e/secret.txt",
        "/files/%2E%2E/secret.txt",
        "/files/sub/%2e%2e/%2e%2e/secret.txt",
        "/files/..%2fsecret.txt",
        "/files/%2e%2e%2fsecret.txt",
        "/files//etc/passwd",  # name is "/etc/passwd": absolute
        "/files/%2fetc%2fpasswd",
        "/files/hello.txt%00",
        "/files/hello.txt%00.png",
        "/files/..%5csecret.txt",  # a backslash: a separator on Windows
        "/files/escape.txt",  # a symlink out of the folder
        "/files/escape_dir/secret.txt",  # through a linked directory
        "/files/",  # the folder itself is not a file
        "/files/sub",
        "/files/missing.txt",
        "/files/" + "a" * 5000,  # a name too long for the file system
    ],
)
def test_safe_path_refuses_escapes_with_a_404(files_client: TestClient, raw: str) -> None:
    answer = files_client.get(httpx.URL(raw))
    assert answer.status_code == 404, answer.text
    assert "secret" not in answer.text
    assert answer.json() == {"detail": "Not Found"}


@pytest.mark.parametrize(
    "user_path",
    ["../secret.txt", "sub/../../secret.txt", "/etc/passwd", "a\x00b", "..", "sub\\..\\x"],
)
def test_safe_path_refuses_on_the_text_alone(tree: Path, user_path: str) -> None:
    with pytest.raises(HTTPException) as caught:
        safe_path(tree, user_path, require_file=False)
    assert caught.value.status_code == 404


def test_safe_path_returns_the_resolved_path(tree: Path) -> None:
    assert safe_path(tree, "sub/deep.txt") == (tree / "sub" / "deep.txt").resolve()
    assert safe_path(str(tree), "./hello.txt") == (tree / "hello.txt").resolve()
    # Without require_file, a path that does not exist yet is fine (an upload's target).
    assert safe_path(tree, "new/file.bin", require_file=False) == (tree / "new/file.bin").resolve()
    assert safe_path(tree, "", require_file=False) == tree.resolve()
    with pytest.raises(HTTPException):
        safe_path(tree, "escape.txt", require_file=False)


def test_safe_path_with_a_symlinked_base(tree: Path, tmp_path: Path) -> None:
    """A base directory that is itself a symlink still works: both sides are resolved."""
    link = tmp_path / "link_to_public"
    link.symlink_to(tree)
    assert safe_path(link, "hello.txt").read_text() == "hello"
    with pytest.raises(HTTPException):
        safe_path(link, "escape.txt")


def test_safe_path_refuses_a_symlink_loop(tree: Path) -> None:
    (tree / "loop").symlink_to(tree / "loop")
    with pytest.raises(HTTPException):
        safe_path(tree, "loop")


# --- header injection ----------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["a\r\nSet-Cookie: evil=1", "a\nb", "a\rb", "a\x00b"])
def test_header_values_with_cr_lf_nul_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="CR, LF and NUL are refused"):
        Response(headers={"x-echo": bad})
    response = Response()
    with pytest.raises(ValueError, match="CR, LF and NUL are refused"):
        response.headers["x-echo"] = bad
    with pytest.raises(ValueError, match="CR, LF and NUL are refused"):
        response.headers.append("x-echo", bad)
    assert "x-echo" not in response.headers


@pytest.mark.parametrize("bad", ["x-a\r\nx-b", "x a", "x:a", "", "x\x00"])
def test_header_names_must_be_tokens(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid header name"):
        Response(headers={bad: "1"})


def test_a_handler_echoing_input_into_a_header_cannot_inject() -> None:
    """The handler's bug becomes a 500: the injected header never reaches the client."""
    app = App()

    @app.get("/echo")
    def echo(value: str, response: Response) -> str:
        response.headers["x-echo"] = value
        return "ok"

    client = TestClient(app, raise_server_exceptions=False)
    answer = client.get("/echo", params={"value": "a\r\nset-cookie: evil=1"})
    assert answer.status_code == 500
    assert "set-cookie" not in answer.headers
    assert "x-echo" not in answer.headers
    assert answer.text == "Internal Server Error"


def test_redirect_quotes_cr_lf_in_the_location() -> None:
    response = RedirectResponse("/next\r\nset-cookie: evil=1\x00")
    assert response.headers["location"] == "/next%0D%0Aset-cookie:%20evil=1%00"
    assert "set-cookie" not in response.headers


def test_cookie_values_are_quoted_and_attributes_refused() -> None:
    response = Response()
    response.set_cookie("session", "a\r\nset-cookie: evil=1; Domain=evil.example\x00")
    (header,) = response.headers.getlist("set-cookie")
    assert not set(header) & {"\r", "\n", "\x00"}
    assert header.startswith(
        'session="a\\015\\012set-cookie: evil=1\\073 Domain=evil.example\\000"'
    )
    for attribute in ("path", "domain"):
        for bad in ("/; Domain=evil.example", "/\r\nx: 1", "/\nx"):
            with pytest.raises(ValueError, match="may not contain"):
                response.set_cookie("s", "v", **{attribute: bad})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="CR, LF and NUL are refused"):
        response.set_cookie("s", "v", path="/\x00")
    with pytest.raises(ValueError, match="invalid cookie name"):
        response.set_cookie("a=b; x", "v")
    with pytest.raises(ValueError, match="samesite"):
        response.set_cookie("s", "v", samesite="none\r\nx: 1")  # type: ignore[arg-type]
    assert response.headers.getlist("set-cookie") == [header]


def test_http_exception_headers_cannot_inject() -> None:
    app = App()

    @app.get("/")
    def index() -> None:
        raise HTTPException(401, "no", headers={"www-authenticate": "Bearer\r\nx-evil: 1"})

    answer = TestClient(app, raise_server_exceptions=False).get("/")
    assert "x-evil" not in answer.headers
    assert answer.status_code == 500


# --- open redirects --------------------------------------------------------------------------
#
# RedirectResponse sends the client wherever the handler says: redirecting to a
# URL from the request is an open redirect unless the handler checks it. The
# safe pattern (docs/reliability.md) accepts only a relative path that starts
# with exactly one "/" and holds no backslash.


def is_local_redirect(target: str) -> bool:
    """The check docs/reliability.md recommends before redirecting to user input."""
    return (
        target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not any(c < " " or c == "\x7f" for c in target)
    )


def redirect_app() -> App:
    app = App()

    @app.get("/login")
    def login(next: str = "/") -> RedirectResponse:
        return RedirectResponse(next if is_local_redirect(next) else "/", status_code=303)

    return app


@pytest.mark.parametrize(
    ("target", "location"),
    [
        ("/account", "/account"),
        ("/a?b=1#c", "/a?b=1#c"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("\\\\evil.example", "/"),
        ("/\t/evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("evil.example", "/"),
        ("", "/"),
    ],
)
def test_the_safe_redirect_pattern(target: str, location: str) -> None:
    answer = TestClient(redirect_app()).get(
        "/login", params={"next": target}, follow_redirects=False
    )
    assert (answer.status_code, answer.headers["location"]) == (303, location)


def test_redirect_response_itself_does_not_judge_the_target() -> None:
    """Documented: RedirectResponse quotes, it does not restrict; the handler must check."""
    assert RedirectResponse("//evil.example/x").headers["location"] == "//evil.example/x"


# --- oversized bodies ----------------------------------------------------------------------


def limited_app() -> App:
    app = App(max_body_size=1024)

    @app.post("/body")
    async def body(request: Request) -> int:
        return len(await request.body())

    @app.post("/json")
    async def json(request: Request) -> object:
        return await request.json()

    @app.post("/form")
    async def form(request: Request) -> int:
        return len(await request.form())

    return app


def chunks(size: int, chunk: int = 100) -> Iterator[bytes]:
    for start in range(0, size, chunk):
        yield b"x" * min(chunk, size - start)


@pytest.mark.parametrize("route", ["/body", "/json", "/form"])
def test_max_body_size_answers_413(route: str) -> None:
    client = TestClient(limited_app())
    headers = {"content-type": "application/x-www-form-urlencoded"}
    assert client.post(route, content=b"x" * 1025, headers=headers).status_code == 413
    # Chunked, with no content-length to trust.
    answer = client.post(route, content=chunks(5000), headers=headers)
    assert answer.status_code == 413
    assert answer.json()["detail"]


def test_max_body_size_lets_the_limit_itself_through() -> None:
    client = TestClient(limited_app())
    assert client.post("/body", content=b"x" * 1024).json() == 1024
    assert client.post("/body", content=chunks(1024)).json() == 1024


def test_a_lying_content_length_is_not_trusted() -> None:
    """A small content-length with a big chunked body still stops at the limit."""
    client = TestClient(limited_app())
    answer = client.post("/body", content=chunks(4096), headers={"content-length": "10"})
    assert answer.status_code in (400, 413)


# --- no tracebacks, debug off ------------------------------------------------------------------


def failing_app(**options: bool) -> App:
    app = App(**options)  # type: ignore[arg-type]

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("database password is hunter2")

    @app.get("/boom-async", response_class=PlainTextResponse)
    async def boom_async() -> str:
        raise KeyError("secret-key")

    return app


def test_debug_is_off_by_default() -> None:
    assert App().debug is False


@pytest.mark.parametrize("route", ["/boom", "/boom-async"])
def test_a_500_shows_no_traceback(route: str, caplog: pytest.LogCaptureFixture) -> None:
    client = TestClient(failing_app(), raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="microweb"):
        answer = client.get(route)
    assert answer.status_code == 500
    assert answer.text == "Internal Server Error"
    assert answer.headers["content-type"].startswith("text/plain")
    # ...but the operator sees it all in the log.
    assert any(record.exc_info for record in caplog.records)
    assert "Traceback" in caplog.text


def test_debug_true_shows_the_traceback() -> None:
    client = TestClient(failing_app(debug=True), raise_server_exceptions=False)
    answer = client.get("/boom")
    assert answer.status_code == 500
    assert "Traceback" in answer.text
    assert "hunter2" in answer.text


# --- background tasks ---------------------------------------------------------------------------


def test_a_failing_background_task_is_logged_and_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ran: list[str] = []
    app = App()

    def fail() -> None:
        raise RuntimeError("task failed")

    async def fail_async() -> None:
        raise ValueError("async task failed")

    @app.get("/")
    def index(tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add_task(fail)
        tasks.add_task(ran.append, "after sync")
        tasks.add_task(fail_async)
        tasks.add_task(ran.append, "after async")
        return {"status": "sent"}

    client = TestClient(app)
    with caplog.at_level(logging.ERROR, logger="microweb"):
        answer = client.get("/")
        again = client.get("/")
    assert (answer.status_code, answer.json()) == (200, {"status": "sent"})
    assert again.status_code == 200
    assert ran == ["after sync", "after async"] * 2
    messages = [r.getMessage() for r in caplog.records if r.name == "microweb"]
    assert sum("fail" in m and "fail_async" not in m for m in messages) == 2
    assert sum("fail_async" in m for m in messages) == 2
    assert all(r.exc_info for r in caplog.records if r.name == "microweb")


# --- over a real server: huge headers and slow clients -----------------------------------------
#
# Header size is the server's job, not the framework's: by the time microweb
# sees a request its headers are parsed. These tests pin what uvicorn does.

RELIABILITY_APP = "bench.reliability.app:app"


@pytest.fixture
def server() -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def start(*extra: str) -> Server:
        servers.append(Server(RELIABILITY_APP, *extra))
        return servers[-1]

    yield start
    for started in servers:
        started.stop()


def raw_exchange(port: int, request: bytes, timeout: float = 5.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        with contextlib.suppress(OSError):  # the server may close before reading it all
            sock.sendall(request)
        try:
            return sock.recv(4096)
        except OSError:
            return b""


@pytest.mark.parametrize(
    ("http", "refused"),
    # h11 refuses a header section past its limit with a 400; httptools (the
    # default with uvicorn[standard]) has no such limit: put a proxy in front.
    [("h11", True), ("httptools", False)],
)
def test_a_huge_header(server: Callable[..., Server], http: str, refused: bool) -> None:
    started = server("--http", http)
    huge = b"GET / HTTP/1.1\r\nhost: x\r\nx-big: " + b"a" * 1_000_000 + b"\r\n\r\n"
    answer = raw_exchange(started.port, huge)
    assert answer.startswith(b"HTTP/1.1 400" if refused else b"HTTP/1.1 200")
    # Either way the server is still healthy.
    assert httpx.get(started.url + "/", timeout=5).text == "ok"


def test_slow_clients_do_not_block_others(server: Callable[..., Server]) -> None:
    """Clients trickling a body or their headers byte by byte hold no one else up."""
    started = server()
    stop = threading.Event()
    answers: list[bytes] = []

    def trickle(request: bytes, pause: float) -> None:
        with socket.create_connection(("127.0.0.1", started.port), timeout=10) as sock:
            for byte in request:
                if stop.is_set():
                    return
                sock.sendall(bytes([byte]))
                time.sleep(pause)
            answers.append(sock.recv(4096))

    body = b"0123456789" * 2
    slow_body = (
        b"POST /upload HTTP/1.1\r\nhost: x\r\ncontent-length: 20\r\n\r\n",
        body,
    )
    workers = [
        threading.Thread(target=trickle, args=(b"".join(slow_body), 0.02)) for _ in range(5)
    ]
    workers += [
        threading.Thread(target=trickle, args=(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n", 0.05))
        for _ in range(5)
    ]
    for worker in workers:
        worker.start()
    try:
        durations = []
        with httpx.Client(base_url=started.url, timeout=5) as client:
            for _ in range(30):
                begin = time.monotonic()
                assert client.get("/").text == "ok"
                durations.append(time.monotonic() - begin)
                time.sleep(0.02)
        assert max(durations) < 0.5, durations
    finally:
        for worker in workers:
            worker.join(timeout=15)
        stop.set()
    assert len(answers) == 10
    assert all(answer.startswith(b"HTTP/1.1 200") for answer in answers)
    assert sum(answer.endswith(b"\r\n\r\n20") for answer in answers) == 5
