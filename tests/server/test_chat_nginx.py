"""docs/deploy.md's nginx configuration for the chat, run: WebSockets and SSE pass through.

Debian's nginx runs on 127.0.0.1 with the configuration block the guide
shows (only its ports changed), in front of two uvicorn servers sharing a
real redis-server. nginx's round robin hands the two WebSockets to the two
servers; a message crosses between them, and the online feed's events come
through unbuffered while its stream stays open.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from conftest import free_port, require_program, stop_process
from websockets.sync.client import connect

from .conftest import ROOT, Server

GUIDE = ROOT / "docs" / "deploy.md"
SECTION = "## WebSockets and a chat across workers"


def guide_config() -> str:
    """The nginx block of the guide's chat section."""
    section = GUIDE.read_text(encoding="utf-8").split(SECTION, 1)[1]
    match = re.search(r"^```nginx\n(.*?)^```", section, re.S | re.M)
    assert match is not None, f"no nginx block under {SECTION!r} in docs/deploy.md"
    return match.group(1)


def nginx_program() -> str:
    # Debian puts it in /usr/sbin, which is not on every user's PATH.
    if shutil.which("nginx") is None and Path("/usr/sbin/nginx").exists():
        return "/usr/sbin/nginx"
    return require_program("nginx", "Debian's package nginx; scripts/install installs it")


@pytest.fixture
def nginx(
    serve: Callable[..., Server],
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[str]:
    """nginx in front of two chat servers; its base URL."""
    program = nginx_program()
    monkeypatch.setenv("CHAT_REDIS_URL", redis_url)
    apps = [serve("examples.chat:app", "--timeout-graceful-shutdown", "1") for _ in range(2)]
    port = free_port()
    config = guide_config()
    upstreams = "".join(f"    server 127.0.0.1:{app.port};\n" for app in apps)
    config, count = re.subn(r"(?m)^    server 127\.0\.0\.1:800\d;.*\n", "", config)
    assert count == 2, config
    config = config.replace("upstream chat {\n", "upstream chat {\n" + upstreams)
    config = config.replace("listen 80;", f"listen 127.0.0.1:{port};")
    (tmp_path / "nginx.conf").write_text(
        f"""pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp_path}/client_body;
    proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi;
    uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
{config}
}}
"""
    )
    process = subprocess.Popen(
        [
            *(program, "-p", str(tmp_path), "-e", str(tmp_path / "error.log")),
            *("-c", str(tmp_path / "nginx.conf"), "-g", "daemon off; master_process off;"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while True:
            if process.poll() is not None:
                log = (tmp_path / "error.log").read_text(errors="replace")
                raise RuntimeError(f"nginx exited with {process.returncode}:\n{log}")
            try:
                if httpx.get(url + "/whoami", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "nginx did not answer within 10s"
            time.sleep(0.05)
        yield url
    finally:
        stop_process(process)


def test_websockets_and_sse_pass_through_nginx(nginx: str) -> None:
    ws = nginx.replace("http://", "ws://")
    with (
        httpx.Client(timeout=5) as client,
        client.stream("GET", nginx + "/online") as feed,
    ):
        assert feed.headers["content-type"].startswith("text/event-stream")
        events = (
            json.loads(line.removeprefix("data: "))
            for line in feed.iter_lines()
            if line.startswith("data: ")
        )
        assert next(events) == []
        with (
            connect(ws + "/ws?name=ada", open_timeout=5) as ada,
            connect(ws + "/ws?name=bob", open_timeout=5) as bob,
        ):
            pids = {json.loads(websocket.recv(timeout=5))["pid"] for websocket in (ada, bob)}
            assert len(pids) == 2  # round robin: one server each
            ada.send("hello through nginx")
            expected = {"type": "message", "name": "ada", "text": "hello through nginx"}
            assert json.loads(bob.recv(timeout=5)) == expected
            # Each event arrives while the stream stays open: nothing is buffered.
            while (names := next(events)) != ["ada", "bob"]:
                assert names == ["ada"]
        while (names := next(events)) != []:
            assert names in (["ada", "bob"], ["ada"], ["bob"])
