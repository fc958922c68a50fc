"""Start a real uvicorn on 127.0.0.1 for the tests in this folder."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from conftest import free_port, stop_process

HERE = Path(__file__).parent
ROOT = HERE.parent.parent


class Server:
    """A uvicorn process serving one app; ``url`` is its base URL."""

    def __init__(self, app: str, *extra: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": f"{HERE}{os.pathsep}{ROOT}"}
        # A file, not a pipe: a chatty server can never block on a full pipe.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.output: str | None = None
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", app),
                *("--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"),
                *extra,
            ],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_until_up()

    def _wait_until_up(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"uvicorn exited with {self.process.returncode}:\n{self.stop()}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"uvicorn did not start listening on {self.port} in {timeout}s")

    def stop(self, timeout: float = 10.0) -> str:
        """Stop the server (SIGTERM, then SIGKILL) and return what it printed."""
        if self.output is not None:
            return self.output
        stop_process(self.process, timeout)
        self._log.seek(0)
        self.output = self._log.read().decode(errors="replace")
        self._log.close()
        return self.output


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    """``serve("module:app")`` starts uvicorn; every server is stopped at the end."""
    servers: list[Server] = []

    def start(app: str, *extra: str) -> Server:
        server = Server(app, *extra)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10.0, follow_redirects=False) as client:
        yield client
