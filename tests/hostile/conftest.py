"""One uvicorn per HTTP implementation, started on first use and shared by tests/hostile."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from server.conftest import Server  # tests/server's uvicorn launcher (tests/ is on sys.path)

HERE = Path(__file__).parent


class Servers:
    """``port(implementation)`` starts ``hostile_app`` under that ``--http`` once."""

    def __init__(self) -> None:
        self._started: dict[str, Server] = {}

    def port(self, implementation: str) -> int:
        server = self._started.get(implementation)
        if server is None:
            server = Server("hostile_app:app", "--app-dir", str(HERE), "--http", implementation)
            self._started[implementation] = server
        return server.port

    def stop(self) -> None:
        for server in self._started.values():
            server.stop()


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    started = Servers()
    yield started
    started.stop()
