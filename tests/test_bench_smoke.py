"""The benchmark harness runs and its correctness check holds (no timing is asserted).

``python -m bench inprocess --quick`` for the raw ASGI app, microweb and
whichever peer frameworks are installed (``bench/requirements.txt``): every
app must pass the check (same status, content type and body on every
endpoint) and get a figure for every endpoint. The harness is driven as a
command, as a user runs it, and read back from its ``results.json``.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
PEERS = ["starlette", "fastapi", "blacksheep", "litestar", "falcon"]
ENDPOINTS = [
    "/plaintext",
    "/json",
    "/items/5?q=",
    "/r999/items/5",
    "POST /echo",
    "POST /items",
    "/file",
    "/stream",
    "/sse",
    "/static/4k.bin",
    "/static/1m.bin",
    "/static/4k.bin 304",
]


def installed_apps() -> list[str]:
    return ["raw", "microweb"] + [p for p in PEERS if importlib.util.find_spec(p) is not None]


def test_quick_inprocess_run(tmp_path: Path, check: ModuleType) -> None:
    apps = installed_apps()
    command = [sys.executable, "-m", "bench", "inprocess", "--quick", "--out", str(tmp_path)]
    for app in apps:
        command += ["--app", app]
    done = subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, "MICROWEB_BENCH_DATA": str(tmp_path / "data")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    part = results["inprocess"]
    assert part["problems"] == {app: [] for app in apps}, done.stdout
    assert list(part["us_per_request"]) == ENDPOINTS
    for name, row in part["us_per_request"].items():
        unsupported = {app for app, endpoint in check.UNSUPPORTED if endpoint == name}
        assert sorted(row) == sorted(set(apps) - unsupported)
    assert results["meta"]["quick"] is True
    assert "## In-process" in (tmp_path / "results.md").read_text()


@pytest.fixture
def check(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(ROOT))
    return importlib.import_module("bench.check")


def test_check_names_a_wrong_answer(check: ModuleType) -> None:
    json_endpoint = check.endpoint("/json")
    problems = check.compare(
        "someapp", json_endpoint, 200, "application/json", b'{"message": "Hello"}'
    )
    assert len(problems) == 1
    assert problems[0].startswith("someapp /json: body {'message': 'Hello'}")


def test_check_allows_only_the_listed_charset_differences(check: ModuleType) -> None:
    sse = check.endpoint("/sse")
    body = b"event: tick\nid: 0\ndata: tick 0\n\n"
    compare = check.compare
    # The body is short of the 100 events, so one problem is always the body.
    microweb = compare("microweb", sse, 200, "text/event-stream; charset=utf-8", body)
    other = compare("other", sse, 200, "text/event-stream; charset=utf-8", body)
    assert [p for p in microweb if "content-type" in p] == []
    assert [p for p in other if "content-type" in p] == [
        "other /sse: content-type 'text/event-stream; charset=utf-8', expected 'text/event-stream'"
    ]


# The peers' own deprecation notices (Litestar's inferred path parameters) are not
# this check's business; the harness runs them in a process without -W error.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("app_name", [a for a in installed_apps() if a != "falcon"])
def test_every_app_with_websockets_echoes(
    app_name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The WebSocket echo of bench.endpoints, checked in-process (not timed yet)."""
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.setenv("MICROWEB_BENCH_DATA", str(tmp_path / "data"))
    apps = importlib.import_module("bench.apps")
    check = importlib.import_module("bench.check")
    driver = importlib.import_module("bench.driver")
    app = importlib.import_module(apps.APPS[app_name][0]).create_app(extra_routes=3)

    async def run() -> list[str]:
        async with driver.lifespan(app) as state:
            problems: list[str] = await check.verify_websocket(app_name, app, state)
            return problems

    assert asyncio.run(run()) == []


@pytest.fixture
def bench_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """bench/ importable, its data files in ``tmp_path``."""
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.setenv("MICROWEB_BENCH_DATA", str(tmp_path / "data"))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("app_name", installed_apps())
@pytest.mark.usefixtures("bench_data")
def test_every_app_pushes_and_echoes(app_name: str) -> None:
    """``/ws/push?n=N`` and ``/ws/echo`` in every app (Falcon's too), checked in-process."""
    from bench import apps, check, driver

    app = apps.create(app_name, extra_routes=3)

    async def run() -> list[str]:
        async with driver.lifespan(app) as state:
            problems = await check.verify_push(app_name, app, state, count=0)
            problems += await check.verify_push(app_name, app, state)
            return problems + await check.verify_websocket(app_name, app, state)

    assert asyncio.run(run()) == []


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.usefixtures("bench_data")
def test_websocket_timing_runs_in_process() -> None:
    """The in-process WebSocket timing gives every app a figure for echo and push."""
    from bench import websocket_load

    apps = installed_apps()
    settings = websocket_load.Settings(echo_messages=5, push_messages=5, rounds=1)
    part = asyncio.run(websocket_load.measure_inprocess(apps, settings, extra_routes=3))
    assert part["problems"] == {app: [] for app in apps}
    assert {kind: sorted(row) for kind, row in part["us_per_message"].items()} == {
        "echo": sorted(apps),
        "push": sorted(apps),
    }


def test_quick_websocket_and_idle_runs_over_uvicorn(tmp_path: Path) -> None:
    """``python -m bench websocket idle --quick`` for raw and microweb: figures, no problems."""
    command = [sys.executable, "-m", "bench", "websocket", "idle", "--quick"]
    command += ["--out", str(tmp_path), "--app", "raw", "--app", "microweb"]
    done = subprocess.run(
        command,
        cwd=ROOT,
        env={**os.environ, "MICROWEB_BENCH_DATA": str(tmp_path / "data")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    websocket, idle = results["websocket"], results["idle"]
    assert websocket["uvicorn"]["problems"] == {"raw": [], "microweb": []}
    for kind in ("echo", "push"):
        assert sorted(websocket["uvicorn"]["messages_per_second"][kind]) == ["microweb", "raw"]
    for kind in ("ws", "sse"):
        assert {app: idle[kind][app]["problems"] for app in ("raw", "microweb")} == {
            "raw": [],
            "microweb": [],
        }
    assert "## Memory per idle connection" in (tmp_path / "results.md").read_text()
