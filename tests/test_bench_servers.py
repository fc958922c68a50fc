"""The benchmark's servers (uvicorn, granian), its HTTP medians and the report's verdicts.

The judging is checked on made-up rounds (no timing is asserted); the
servers are started for real on 127.0.0.1, raw and microweb only, to keep
it short: every app's answers over granian are what ``python -m bench
http --server granian`` checks before it loads anything.
"""

from __future__ import annotations

import threading
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from conftest import require_module

ROOT = Path(__file__).resolve().parent.parent
TIMES = "\u00d7"  # the multiplication sign of the tables


@pytest.fixture(autouse=True)
def bench_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """bench/ importable, its data files in ``tmp_path``."""
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.setenv("MICROWEB_BENCH_DATA", str(tmp_path / "data"))


def rounds(*values: tuple[float, float]) -> list[dict[str, Any]]:
    """wrk rounds with these (requests/s, server CPU µs/request)."""
    return [
        {
            "requests_per_second": rps,
            "server_cpu_us_per_request": cpu,
            "p50_ms": 1.0,
            "p99_ms": 2.0,
            "server_cpu_share": 0.99,
            "server_rss_mib": 40.0,
            "requests": int(rps),
            "non_2xx": 0,
            "socket_errors": 0,
        }
        for rps, cpu in values
    ]


def test_an_app_figure_is_the_median_of_its_rounds_with_the_spread() -> None:
    from bench.http_load import summary

    row = summary(rounds((100, 20), (90, 22), (120, 18), (95, 21), (110, 19)))
    assert (row["requests_per_second"], row["server_cpu_us_per_request"]) == (100, 20)
    assert (row["requests_per_second_min"], row["requests_per_second_max"]) == (90, 120)
    assert (row["server_cpu_us_per_request_min"], row["server_cpu_us_per_request_max"]) == (18, 22)
    assert row["statistic"] == "median"
    assert len(row["rounds"]) == 5


def test_a_round_with_no_request_done_has_no_cpu_per_request() -> None:
    from bench.http_load import summary

    runs = rounds((0, 0), (10, 300), (20, 200))
    runs[0]["server_cpu_us_per_request"] = None  # as load_once leaves it
    row = summary(runs)
    assert row["server_cpu_us_per_request"] == 250
    assert (row["server_cpu_us_per_request_min"], row["server_cpu_us_per_request_max"]) == (
        200,
        300,
    )
    assert row["requests_per_second"] == 10


def endpoint_row(**apps: tuple[float, float, float]) -> dict[str, dict[str, Any]]:
    """{app: figures} from (median, lowest, highest) requests/s; the CPU mirrors it."""
    return {
        name: {
            "requests_per_second": median,
            "requests_per_second_min": low,
            "requests_per_second_max": high,
            "server_cpu_us_per_request": 1e6 / median,
            "server_cpu_us_per_request_min": 1e6 / high,
            "server_cpu_us_per_request_max": 1e6 / low,
        }
        for name, (median, low, high) in apps.items()
    }


def test_ahead_and_behind_only_outside_raws_spread() -> None:
    from bench.report_http import verdicts

    # raw's rounds spread by 10 % of its median: microweb 5 % better than
    # starlette is level; 20 % better than falcon is ahead; 20 % worse than
    # raw is behind.
    row = endpoint_row(
        raw=(1000, 950, 1050),
        microweb=(800, 790, 810),
        starlette=(762, 700, 800),
        falcon=(666, 600, 700),
    )
    found = verdicts(row, "requests_per_second")
    assert found["noise"] == pytest.approx(0.1)
    assert {name: found[name][0] for name in ("raw", "starlette", "falcon")} == {
        "raw": "behind",
        "starlette": "level",
        "falcon": "ahead",
    }
    assert found["falcon"][1] == pytest.approx(800 / 666)
    # Lower is better for the CPU per request: the same verdicts.
    cpu = verdicts(row, "server_cpu_us_per_request")
    assert {name: cpu[name][0] for name in ("raw", "starlette", "falcon")} == {
        "raw": "behind",
        "starlette": "level",
        "falcon": "ahead",
    }


def test_no_verdict_without_raws_spread() -> None:
    from bench.report_http import verdicts

    row = {"raw": {"requests_per_second": 10.0}, "microweb": {"requests_per_second": 9.0}}
    assert verdicts(row, "requests_per_second") == {}


def test_no_verdict_from_a_single_round() -> None:
    from bench.report_http import verdicts

    # One round (--quick): lowest, median and highest are the same figure.
    row = endpoint_row(raw=(1000, 1000, 1000), microweb=(500, 500, 500))
    assert verdicts(row, "requests_per_second") == {}


def test_the_report_judges_the_095_target_and_the_peers() -> None:
    from bench import report, report_http

    uvicorn = {
        "/plaintext": endpoint_row(
            raw=(1000, 900, 1100), microweb=(920, 910, 930), blacksheep=(700, 690, 710)
        ),
        "/json": endpoint_row(raw=(1000, 990, 1010), microweb=(900, 890, 910)),
    }
    granian = {"/plaintext": endpoint_row(raw=(2000, 1990, 2010), microweb=(1900, 1890, 1910))}
    settings = {"connections": 64, "rounds": 5, "duration": 1.0, "warmup": 0.0}
    results = {
        "meta": {"date": "2026-11-29", "load_average": [1.0, 0.5, 0.25], "seconds": 61},
        "http": {"settings": settings, "results": uvicorn},
        "http-granian": {"settings": settings, "results": granian},
    }
    for row in (*uvicorn.values(), *granian.values()):
        for figures in row.values():
            figures.update(non_2xx=0, socket_errors=0, p99_ms=1.0, server_rss_mib=40.0)
    rows = {(r[0], r[1]): (r[2], r[3]) for r in report_http.target_rows(results)}
    x = TIMES
    # 0.92x raw, but raw's own rounds spread by ±10 %: not a miss that can be told.
    assert rows[("uvicorn `/plaintext`, requests/s", f"≥ 0.95{x} raw")] == (
        f"0.92{x} raw (raw's spread ±10 %)",
        "within raw's spread",
    )
    assert rows[("uvicorn `/json`, requests/s", f"≥ 0.95{x} raw")][1] == "**no**"
    # The same bar for the CPU per request: at most 1/0.95 of raw's.
    assert rows[("uvicorn `/plaintext`, server CPU µs/request", f"≤ 1.05{x} raw")] == (
        f"1.09{x} raw (raw's spread ±10 %)",
        "within raw's spread",
    )
    assert rows[("uvicorn, every endpoint, requests/s", "ahead of every peer")] == (
        "ahead 1, level 0, behind 0",
        "**yes**",
    )
    text = report.markdown(results)
    assert "Load average (1, 5, 15 min) at the start: 1.00, 0.50, 0.25" in text
    assert "## Over HTTP: granian (ASGI" in text
    assert f"| `/plaintext` | ±10 % | **level** 0.92{x} | **ahead** 1.31{x} |" in text


def test_full_runs_every_part_issue_21_needs_under_both_servers() -> None:
    from bench.__main__ import parse, result_key

    args = parse(["full", "--busy"])
    assert args.parts == ["inprocess", "callgrind", "http", "websocket", "idle"]
    assert args.server == ["uvicorn", "granian"]
    assert parse(["http"]).server == ["uvicorn"]
    assert [result_key(part, "granian") for part in ("http", "idle", "inprocess")] == [
        "http-granian",
        "idle-granian",
        "inprocess",
    ]
    assert result_key("websocket", "uvicorn") == "websocket"
    with pytest.raises(SystemExit):
        parse(["full", "--app", "raw"])


def test_granian_runs_one_worker_one_runtime_thread_on_uvloop() -> None:
    from bench.servers import command

    argv = command("granian", "microweb", 8123)
    pairs = dict(pairwise(argv))
    assert pairs["--interface"] == "asgi"
    assert (pairs["--workers"], pairs["--runtime-threads"], pairs["--blocking-threads"]) == (
        "1",
        "1",
        "1",
    )
    assert (pairs["--runtime-mode"], pairs["--loop"], pairs["--http"]) == ("st", "uvloop", "1")
    assert argv[-1] == "bench.apps.microweb_app:create_app"
    with pytest.raises(ValueError, match="unknown server 'hypercorn'"):
        command("hypercorn", "raw", 1)


def test_thread_cpu_counts_each_threads_time() -> None:
    import os

    from bench.servers import cpu_used, thread_cpu

    before = thread_cpu(os.getpid())

    def spin() -> None:
        end = time.thread_time() + 0.05
        while time.thread_time() < end:
            pass

    worker = threading.Thread(target=spin)
    worker.start()
    worker.join()  # the thread is gone: its time is not counted, nor subtracted
    spin()
    used = cpu_used(before, thread_cpu(os.getpid()))
    assert 0.05 <= used < 1.0


@pytest.mark.parametrize("app", ["raw", "microweb"])
def test_granian_serves_every_endpoint_right(app: str) -> None:
    require_module("granian", "pip install -r bench/requirements.txt")
    from bench.http_load import check_over_http
    from bench.servers import serve

    with serve(app, server="granian") as server:
        assert server.pid != server.process.pid  # the worker, not the supervisor
        assert check_over_http(server) == []
        assert server.rss_kib() > 0
        assert sum(server.thread_cpu().values()) > 0


def test_websockets_over_granian() -> None:
    require_module("granian", "pip install -r bench/requirements.txt")
    from bench import websocket_load

    settings = websocket_load.Settings.quick()
    part = websocket_load.measure_served(["raw", "microweb"], settings, "granian")
    assert part["problems"] == {"raw": [], "microweb": []}
    for kind in ("echo", "push"):
        assert sorted(part["messages_per_second"][kind]) == ["microweb", "raw"]
        assert all(v > 0 for v in part["server_cpu_us_per_message"][kind].values())


def test_rounds_interleave_the_apps_and_wait_for_quiet_once_a_round(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bench import http_load

    calls: list[str] = []
    monkeypatch.setattr(http_load, "warm_up", lambda server, target, count: None)

    def wait_for_quiet(max_wait: float) -> float:
        calls.append("quiet")
        return 0.0

    monkeypatch.setattr(http_load, "wait_for_quiet", wait_for_quiet)

    def load_once(server: str, target: object, settings: object, script: object) -> Any:
        calls.append(server)
        return rounds((100, 10))[0]

    monkeypatch.setattr(http_load, "load_once", load_once)
    servers: Any = {"raw": "raw", "microweb": "microweb"}
    targets: Any = {"raw": (None, None), "microweb": (None, None)}
    row = http_load.load_endpoint(servers, targets, http_load.Settings(rounds=3))
    assert calls == [
        *("quiet", "raw", "microweb"),
        *("quiet", "microweb", "raw"),
        *("quiet", "raw", "microweb"),
    ]
    assert len(row["raw"]["rounds"]) == 3
