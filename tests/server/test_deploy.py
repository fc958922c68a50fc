"""Deployment, proven: the tutorial's app answers correctly under each server.

Each server runs ``deploy_app:app`` (the tutorial's example routes) on
127.0.0.1 with two worker processes: uvicorn ``--workers 2``, gunicorn with
``uvicorn_worker.UvicornWorker``, hypercorn and granian. A server that is not
installed is skipped, saying which package to install.

The last test replays the tutorial's console blocks with the real curl
against a real uvicorn, as a reader would (tests/test_tutorial_examples.py
does the same in-process).
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from conftest import free_port, require_module, require_program
from tutorial_pages import PAGES, console_steps, normalize, uvicorn_module

from .conftest import HERE, ROOT, Server

APP = "deploy_app:app"
WORKERS = "2"


def uvicorn_cmd(port: int) -> list[str]:
    return [
        *(sys.executable, "-m", "uvicorn", APP, "--host", "127.0.0.1", "--port", str(port)),
        *("--workers", WORKERS, "--log-level", "warning"),
    ]


def gunicorn_cmd(port: int) -> list[str]:
    return [
        *(sys.executable, "-m", "gunicorn", APP, "-k", "uvicorn_worker.UvicornWorker"),
        *("-w", WORKERS, "-b", f"127.0.0.1:{port}", "--log-level", "warning"),
        *("--graceful-timeout", "5"),
    ]


def hypercorn_cmd(port: int) -> list[str]:
    return [
        *(sys.executable, "-m", "hypercorn", APP, "-b", f"127.0.0.1:{port}"),
        *("-w", WORKERS, "--log-level", "warning"),
    ]


def granian_cmd(port: int) -> list[str]:
    return [
        *(sys.executable, "-m", "granian", "--interface", "asgi"),
        *("--host", "127.0.0.1", "--port", str(port), "--workers", WORKERS),
        *("--log-level", "warning", APP),
    ]


# server name -> (modules it needs, pip packages, command for a port)
SERVERS: dict[str, tuple[tuple[str, ...], str, Callable[[int], list[str]]]] = {
    "uvicorn": (("uvicorn",), "uvicorn[standard]", uvicorn_cmd),
    "gunicorn": (("gunicorn", "uvicorn_worker"), "gunicorn uvicorn-worker", gunicorn_cmd),
    "hypercorn": (("hypercorn",), "hypercorn", hypercorn_cmd),
    "granian": (("granian",), "granian", granian_cmd),
}


class Process:
    """A server process listening on ``port``; ``stop()`` ends it and its workers."""

    def __init__(self, argv: list[str], port: int, timeout: float = 30.0) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "PYTHONPATH": f"{HERE}{os.pathsep}{ROOT}"}
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.output: str | None = None
        # A session of its own: if the master does not stop its workers, the
        # whole group (this server's processes only) is killed.
        self.process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{argv} exited with {self.process.returncode}:\n{self.stop()}")
            try:
                if httpx.get(self.url + "/", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"{argv} did not answer in {timeout}s:\n{self.stop()}")

    def stop(self, timeout: float = 15.0) -> str:
        if self.output is not None:
            return self.output
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.seek(0)
        self.output = self._log.read().decode(errors="replace")
        self._log.close()
        return self.output


@pytest.fixture(params=list(SERVERS))
def server(request: pytest.FixtureRequest) -> Iterator[Process]:
    name: str = request.param
    modules, packages, command = SERVERS[name]
    for module in modules:
        require_module(module, f"{name}: pip install {packages}")
    port = free_port()
    process = Process(command(port), port)
    try:
        yield process
    finally:
        output = process.stop()
    assert "Traceback" not in output, output


def test_answers_under_each_server(server: Process) -> None:
    with httpx.Client(base_url=server.url, timeout=10.0) as http:
        assert http.get("/").json() == {"message": "Hello, World!"}
        assert http.get("/items/42?q=shoes").json() == {"item_id": 42, "q": "shoes"}
        page = http.get("/hello/Ada")
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert page.text == "<h1>Hello, Ada!</h1>"
        assert http.get("/items/x").status_code == 404
        assert http.get("/items/1?q=a", headers={"connection": "close"}).status_code == 200

        # A file, whole (granian takes it by path: http.response.pathsend) and in part.
        whole = http.get("/download")
        assert whole.content == b"Hello, microweb!\n"
        assert whole.headers["content-disposition"] == 'attachment; filename="hello.txt"'
        part = http.get("/download", headers={"range": "bytes=7-"})
        assert (part.status_code, part.text) == (206, "microweb!\n")

        # Server-Sent Events, streamed.
        with http.stream("GET", "/countdown", params={"delay": 0.05}) as stream:
            assert stream.headers["content-type"] == "text/event-stream; charset=utf-8"
            assert stream.headers["x-accel-buffering"] == "no"
            data = [line for line in stream.iter_lines() if line.startswith("data:")]
        assert data == ["data: 3", "data: 2", "data: 1", 'data: {"message":"liftoff"}']


def test_two_workers_share_the_load(server: Process) -> None:
    # /pid?hold=... blocks its worker's loop, so requests sent together must
    # be answered by more than one process. Bounded: at most 10 rounds.
    def ask(_: int) -> int:
        with httpx.Client(base_url=server.url, timeout=10.0) as http:
            pid: int = http.get("/pid", params={"hold": 0.3}).json()["pid"]
            return pid

    seen: set[int] = set()
    with ThreadPoolExecutor(4) as pool:
        for _ in range(10):
            seen.update(pool.map(ask, range(4)))
            if len(seen) >= 2:
                break
    assert len(seen) == 2, f"answers came from {seen}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_tutorial_commands_under_uvicorn(page: Path, serve: Callable[..., Server]) -> None:
    """Each ``$ curl`` of the page, run for real, prints what the page shows."""
    require_program("curl", "apt-get install curl")
    server: Server | None = None
    for command, expected in console_steps(page):
        words = shlex.split(command)
        if words[0] == "uvicorn":
            if server is not None:
                server.stop()
            options: list[str] = []
            words = words[2:]
            while words:  # keep the page's options, but our own address
                word = words.pop(0)
                if word in ("--host", "--port"):
                    words.pop(0)
                elif word != "--reload":
                    options.append(word)
            server = serve(uvicorn_module(command) + ":app", *options)
        elif words[0] == "curl":
            assert server is not None
            argv = [w.replace("http://127.0.0.1:8000", server.url) for w in words]
            result = subprocess.run(
                [argv[0], "-sS", *argv[1:]],
                cwd=ROOT,
                capture_output=True,
                timeout=30,
                check=True,
            )
            assert normalize(result.stdout.decode()) == normalize(expected), (
                f"{page.name}: $ {command}"
            )
