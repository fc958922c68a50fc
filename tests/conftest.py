from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from typing import NoReturn

import pytest


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio, the loop uvicorn uses."""
    return "asyncio"


def missing_tool(what: str, how: str) -> NoReturn:
    """Skip a test whose tool is missing; under CI (``CI=true``) fail it instead.

    CI installs every tool (``scripts/install``): there a missing one is a
    broken set-up, never a reason to pass quietly.
    """
    message = f"{what} is not installed ({how})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI=true: a missing tool fails the test", pytrace=False)
    pytest.skip(message)


def require_program(name: str, how: str) -> str:
    """The path of the program ``name``, or ``missing_tool``."""
    path = shutil.which(name)
    if path is None:
        missing_tool(name, how)
    return path


def require_module(name: str, how: str) -> None:
    """Return if the Python module ``name`` can be imported, else ``missing_tool``."""
    if importlib.util.find_spec(name) is None:
        missing_tool(name, how)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Stop ``process``: SIGTERM, then SIGKILL if it is still there after ``timeout``."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class RedisServer:
    """A real redis-server on 127.0.0.1 that saves nothing to disk; ``url`` is its URL.

    ``stop()`` and ``start()`` again restart it on the same port, empty.
    """

    def __init__(self, program: str, directory: str) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._command = [
            *(program, "--bind", "127.0.0.1", "--port", str(self.port)),
            *("--save", "", "--appendonly", "no", "--dir", directory),
            *("--logfile", os.path.join(directory, "redis.log")),
        ]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        """Start it, and return once it answers PING."""
        process = self.process = subprocess.Popen(
            self._command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on {self.port} within {timeout}s")

    def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL)."""
        process, self.process = self.process, None
        if process is not None:
            stop_process(process)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A redis-server of its own for the test, stopped after it."""
    program = require_program(
        "redis-server", "Debian's package redis-server; scripts/install installs it"
    )
    with tempfile.TemporaryDirectory(prefix="microweb-redis-") as directory:
        server = RedisServer(program, directory)
        try:
            server.start()
            yield server
        finally:
            server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The URL of the test's own redis-server."""
    return redis_server.url
