"""The tutorial (docs/tutorial/) and its examples (examples/) say the same and work.

Each chapter shows its example's code, the command that serves it and the
answers to what it suggests trying. Three checks keep the pages honest:

- a ```python block right after a line ending in ``examples/NAME.py``: is a
  copy of that file, byte for byte (one source of truth: the file);
- every ```python block on a page runs, in one namespace per page (as
  tests/test_docs.py does for docs/*.md);
- every ```console block is replayed: ``$ uvicorn examples.NAME:app`` picks
  the app, each ``$ curl ...`` is sent to it in-process with TestClient, and
  what curl would print must be the output the page shows. Header lines that
  vary from run to run (``date``, ``server``, ``transfer-encoding`` come from
  the server; ``etag`` and ``last-modified`` from the file on disk) are
  compared by name only, a status line by its code only (the reason phrase
  is the server's), and a pytest summary without its timing.

tests/server/test_deploy.py replays the same blocks with the real curl
against a real uvicorn.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio
import pytest
from tutorial_pages import (
    EXAMPLE_BLOCK,
    PAGES,
    PYTHON_BLOCK,
    ROOT,
    console_steps,
    normalize,
    uvicorn_module,
)

from microweb import HTTPException
from microweb.testclient import TestClient

# The examples the tutorial's chapters are built on, in chapter order.
EXAMPLES = [
    "hello",
    "params",
    "bodies",
    "coercion",
    "response_classes",
    "errors",
    "cookies",
    "dependencies",
    "background",
    "forms",
    "stream",
    "files",
    "sse",
    "rooms",
    "testing",
    "middleware",
    "autodocs",
]

# --- curl, in-process -------------------------------------------------------


def curl(client: TestClient, command: str) -> str:
    """Send what ``curl`` would send, to ``client``; return what curl would print."""
    args = shlex.split(command)
    assert args[0] == "curl", command
    method: str | None = None
    include = head = False
    headers: list[tuple[str, str]] = []
    data: list[str] = []
    fields: list[tuple[str, str]] = []
    files: list[tuple[str, tuple[str, bytes]]] = []
    url = ""
    words = iter(args[1:])
    for word in words:
        if word == "-i":
            include = True
        elif word == "-I":
            include = head = True
        elif word in ("-N", "-s"):
            pass  # no buffering, no progress meter: the same printed output
        elif word == "--compressed":
            headers.append(("accept-encoding", "gzip"))  # and print the body decoded
        elif word == "-X":
            method = next(words)
        elif word == "-d":
            data.append(next(words))
        elif word == "-F":
            name, _, value = next(words).partition("=")
            if value.startswith("@"):
                path = ROOT / value[1:]
                files.append((name, (path.name, path.read_bytes())))
            else:
                fields.append((name, value))
        elif word == "-H":
            name, _, value = next(words).partition(":")
            headers.append((name, value.strip()))
        elif word == "-b":
            headers.append(("cookie", next(words)))
        elif word == "-r":
            headers.append(("range", "bytes=" + next(words)))
        elif word.startswith("http://127.0.0.1:8000/"):
            url = word.removeprefix("http://127.0.0.1:8000")
        else:
            raise AssertionError(f"the curl replay does not know {word!r} in {command!r}")
    kwargs: dict[str, Any] = {"headers": headers}
    if data:
        kwargs["content"] = "&".join(data).encode()
        if not any(name.lower() == "content-type" for name, _ in headers):
            # curl's default for -d, unless -H gave one.
            headers.append(("content-type", "application/x-www-form-urlencoded"))
    if fields or files:
        form: dict[str, list[str]] = {}
        for name, value in fields:
            form.setdefault(name, []).append(value)
        kwargs["data"] = form
        kwargs["files"] = files
    if method is None:
        method = "HEAD" if head else "POST" if data or fields or files else "GET"
    client.cookies.clear()  # curl keeps no cookies from one command to the next
    response = client.request(method, url, follow_redirects=False, **kwargs)
    printed = response.content.decode()
    if include:
        phrase = response.reason_phrase
        lines = [f"HTTP/1.1 {response.status_code} {phrase}"]
        lines += [f"{k.decode()}: {v.decode()}" for k, v in response.headers.raw]
        printed = "\n".join(lines) + "\n\n" + printed
    return printed


def pytest_run(command: str) -> str:
    args = shlex.split(command)[1:]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return result.stdout


# --- the pages --------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_example_blocks_are_the_files(page: Path) -> None:
    for name, block in EXAMPLE_BLOCK.findall(page.read_text(encoding="utf-8")):
        expected = (ROOT / name).read_text(encoding="utf-8")
        assert block == expected, f"{page.name}: the block for {name} differs; paste the file in"


def test_every_example_is_shown_and_every_page_is_in_the_nav() -> None:
    shown = {name for page in PAGES for name, _ in EXAMPLE_BLOCK.findall(page.read_text("utf-8"))}
    assert shown == {f"examples/{name}.py" for name in EXAMPLES}
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in PAGES:
        assert f"tutorial/{page.name}" in nav, f"{page.name} is not in mkdocs.yml's nav"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_python_blocks_run(page: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = page.read_text(encoding="utf-8")
    files = {block: name for name, block in EXAMPLE_BLOCK.findall(text)}
    # A registered module: dataclasses look their module up in sys.modules.
    module = ModuleType(f"docs_tutorial_{page.stem.replace('-', '_')}")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    for number, block in enumerate(PYTHON_BLOCK.findall(text), 1):
        if block in files:  # the file's own code may use __file__
            module.__file__ = str(ROOT / files[block])
        exec(compile(block, f"{page.name} block {number}", "exec"), module.__dict__)


def test_tests_the_pages_show_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    # A page may show tests of its own (dependencies.md's dependency_overrides):
    # run them. An example file's tests (examples/testing.py) are run by pytest.
    ran = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        files = {block for _, block in EXAMPLE_BLOCK.findall(text)}
        module = ModuleType(f"docs_tutorial_tests_{page.stem.replace('-', '_')}")
        monkeypatch.setitem(sys.modules, module.__name__, module)
        for number, block in enumerate(PYTHON_BLOCK.findall(text), 1):
            if "\ndef test_" in block and block not in files:
                exec(compile(block, f"{page.name} block {number}", "exec"), module.__dict__)
        for name, value in list(vars(module).items()):
            if name.startswith("test_") and callable(value):
                value()
                ran.append(f"{page.name}::{name}")
    assert ran == [
        "dependencies.md::test_me_as_someone_else",
        "dependencies.md::test_admin_without_a_token",
    ]


@pytest.fixture
def quiet_microweb_log() -> Iterator[None]:
    # /crash logs a traceback on purpose; keep it out of the test output.
    logger = logging.getLogger("microweb")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


@pytest.mark.usefixtures("quiet_microweb_log")
@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_console_outputs(page: Path) -> None:
    client: TestClient | None = None
    for command, expected in console_steps(page):
        program = command.split(" ", 1)[0]
        if program == "uvicorn":
            # A fresh module per page: state (background's OUTBOX) starts empty.
            module = importlib.reload(importlib.import_module(uvicorn_module(command)))
            client = TestClient(module.app, raise_server_exceptions=False)
            assert not expected, f"{page.name}: show no output for {command!r}"
            continue
        if program == "pytest":
            printed = pytest_run(command)
        else:
            assert program == "curl", f"{page.name}: a console block may hold only {command!r}"
            assert client is not None, f"{page.name}: {command!r} comes before any uvicorn"
            printed = curl(client, command)
        assert normalize(printed) == normalize(expected), f"{page.name}: $ {command}"


# --- what the pages say in prose, and a little more ---------------------------


def load(name: str) -> ModuleType:
    return importlib.reload(importlib.import_module(f"examples.{name}"))


def test_params_path_converter_and_query() -> None:
    client = TestClient(load("params").app)
    assert client.get("/users/00042").json() == {"user_id": 42}
    assert client.get("/items", params={"in_stock": "OFF"}).json()["in_stock"] is False
    detail = client.get("/users/7x").json()
    assert detail == {"detail": "Not Found"}


def test_coercion_head_and_types() -> None:
    client = TestClient(load("coercion").app)
    response = client.head("/dict")
    assert response.content == b""
    assert response.headers["content-length"] == str(len(client.get("/dict").content))


def test_response_classes_redirect_followed() -> None:
    client = TestClient(load("response_classes").app, follow_redirects=True)
    response = client.get("/home")
    assert response.url.path == "/"
    assert response.text == "<h1>Home</h1>"


@pytest.mark.usefixtures("quiet_microweb_log")
def test_errors_crash_is_logged_not_shown(caplog: pytest.LogCaptureFixture) -> None:
    errors = load("errors")
    client = TestClient(errors.app, raise_server_exceptions=False)
    logging.getLogger("microweb").setLevel(logging.ERROR)
    with caplog.at_level(logging.ERROR, logger="microweb"):
        response = client.get("/crash")
    assert response.status_code == 500
    assert "ZeroDivisionError" not in response.text
    assert "ZeroDivisionError" in caplog.text
    assert client.post("/items/plumbus/order").json() == {"ordered": "plumbus"}
    assert client.post("/items/nothing/order").status_code == 409


def test_cookies_round_trip() -> None:
    client = TestClient(load("cookies").app)
    client.post("/login", params={"user": "grace"})
    assert client.get("/me").json() == {"user": "grace"}  # the client keeps cookies
    client.post("/logout")
    assert client.get("/me").status_code == 401


def test_background_tasks_run_after_the_response(caplog: pytest.LogCaptureFixture) -> None:
    background = load("background")
    client = TestClient(background.app)
    with caplog.at_level(logging.INFO, logger="examples.background"):
        response = client.post("/signup", params={"email": "bo@example.com"})
    assert response.status_code == 202
    assert background.OUTBOX == ["welcome mail to bo@example.com"]
    assert "signup: bo@example.com" in caplog.text


def test_forms_upload_hash_is_the_file() -> None:
    data = (ROOT / "examples" / "data" / "hello.txt").read_bytes()
    assert data == b"Hello, microweb!\n"
    digest = "8798b8c234fef2da63846b3dcf77b6935b6dd9b509ce0d7a70b9b2aa4ecb2ef8"
    assert hashlib.sha256(data).hexdigest() == digest  # the hash forms.md shows


def test_stream_arrives_in_chunks() -> None:
    client = TestClient(load("stream").app)
    with client.stream("GET", "/count", params={"to": 3, "delay": 0}) as response:
        chunks = list(response.iter_bytes())
    assert chunks == [b"1\n", b"2\n", b"3\n"]
    assert "content-length" not in response.headers


def test_files_conditional_and_traversal() -> None:
    files = load("files")
    client = TestClient(files.app)
    etag = client.get("/download").headers["etag"]
    assert client.get("/download", headers={"if-none-match": etag}).status_code == 304
    multi = client.get("/download", headers={"range": "bytes=0-1,5-6"})
    assert multi.status_code == 206
    assert multi.headers["content-type"].startswith("multipart/byteranges")
    # What `curl --path-as-is .../files/../files.py` sends: the handler refuses it.
    for name in ("../files.py", "../../pyproject.toml", "/etc/passwd"):
        with pytest.raises(HTTPException) as caught:
            anyio.run(files.files, name)
        assert caught.value.status_code == 404


def test_sse_resumes_after_last_event_id() -> None:
    client = TestClient(load("sse").app)
    text = client.get("/countdown", params={"delay": 0}, headers={"last-event-id": "3"}).text
    assert text.startswith("id: 2\nevent: tick\ndata: 2\n\n")
    assert "EventSource" in client.get("/").text


def test_testing_example_tests_pass() -> None:
    testing = load("testing")
    names = [name for name in dir(testing) if name.startswith("test_")]
    assert len(names) == 5  # testing.md shows "5 passed"
    for name in names:
        getattr(testing, name)()
