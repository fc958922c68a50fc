"""A real browser's EventSource receives microweb's Server-Sent Events.

Debian's chromium, headless, loads the page of examples/streaming.py from a
real uvicorn; the page lists every ``tick`` event it receives and closes the
EventSource after ``count`` of them, and ``--dump-dom`` prints the page once
the browser is idle (``--virtual-time-budget`` waits while the stream is
open). scripts/install (and so CI) installs chromium with apt-get.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator

import pytest
from conftest import missing_tool
from server.conftest import Server  # tests/server's uvicorn launcher (tests/ is on sys.path)

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EVENT = re.compile(r"<li>(\d+) (\{.*?\})</li>")


def _install_chromium() -> str | None:
    """Find chromium, installing Debian's package with apt-get if it is missing and we may."""
    found = shutil.which("chromium")
    if found is not None:
        return found
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        return None
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([apt, "update", "-qq"], [apt, "install", "-y", "-qq", "chromium"]):
        done = subprocess.run(command, env=environment, capture_output=True, timeout=900)
        if done.returncode != 0:
            return None
    return shutil.which("chromium")


@pytest.fixture(scope="module")
def chromium() -> str:
    path = _install_chromium()
    if path is None:
        missing_tool(
            "Debian's chromium",
            "and it cannot be installed here: needs root and apt-get; scripts/install does it",
        )
    return path


@pytest.fixture
def example_server() -> Iterator[Server]:
    server = Server("examples.streaming:app", "--timeout-graceful-shutdown", "1")
    try:
        yield server
    finally:
        server.stop()


def test_eventsource_receives_the_first_three_events_in_order(
    chromium: str, example_server: Server
) -> None:
    url = f"{example_server.url}/?interval=0.2&count=3"
    with tempfile.TemporaryDirectory(prefix="microweb-chromium-") as profile:
        done = subprocess.run(
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                "--dump-dom",
                "--virtual-time-budget=10000",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    dom = done.stdout
    assert done.returncode == 0, done.stderr[-2000:]
    assert '<p id="status">done</p>' in dom, dom
    events = [(int(event_id), json.loads(data)) for event_id, data in EVENT.findall(dom)]
    assert [event_id for event_id, _ in events] == [0, 1, 2]
    assert [data["n"] for _, data in events] == [0, 1, 2]
