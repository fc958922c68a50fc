from __future__ import annotations

import importlib.util
import os
import shutil
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
