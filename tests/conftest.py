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


def _wait_for_redis(port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    """Return once redis-server answers PING on ``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"redis-server did not answer on {port} within {timeout}s")


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A real redis-server of its own on 127.0.0.1, nothing saved to disk; its URL.

    Started for the test and stopped after it (SIGTERM, then SIGKILL).
    """
    program = require_program(
        "redis-server", "Debian's package redis-server; scripts/install installs it"
    )
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="microweb-redis-") as directory:
        process = subprocess.Popen(
            [
                *(program, "--bind", "127.0.0.1", "--port", str(port)),
                *("--save", "", "--appendonly", "no", "--dir", directory),
                *("--logfile", os.path.join(directory, "redis.log")),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for_redis(port, process, timeout=10.0)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
