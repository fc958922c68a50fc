"""Over HTTP: uvicorn or granian on one core, wrk on the other, 127.0.0.1 only.

Every app is served at once, each by its own server (``servers.serve``:
uvicorn with httptools and uvloop, or granian's ASGI interface, one worker,
no access log) pinned to core 0; only the one under load does any work.
Each served app first passes the correctness check over HTTP (a wrong
answer voids its figures). Then, endpoint by endpoint, every app is warmed
up (``warmup_requests`` requests one after another on one connection:
whatever is built lazily gets built, the files are in the page cache), and
``wrk`` pinned to core 1 (one thread, 64 connections) loads each app for
``duration`` seconds in each of ``rounds`` rounds (5), the apps' order
rotating from round to round.

An app's figures are the **median** over its rounds, with the spread (the
lowest and the highest round) beside it, for requests/s and for the
server's CPU µs per request (the CPU time of the process running the app,
thread by thread from /proc, over the requests wrk made). The report
judges "ahead" only where a difference is larger than the raw app's own
spread over the same rounds (``bench.report_http``). Any non-2xx answer or
socket error is reported next to the figure. In all, 7 apps x 12
endpoints x 5 rounds of 1 s: about 7 minutes per server
(``Settings().seconds()``).
"""

from __future__ import annotations

import dataclasses
import http.client
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.check import Endpoint, compare, endpoints, supported, with_etag
from bench.driver import Request
from bench.servers import (
    CLIENT_CORE,
    RssSampler,
    Server,
    cpu_used,
    pinned,
    serve,
    wait_for_quiet,
)

# The figures summarised over rounds: the median, with the lowest and highest beside it.
SPREAD = ("requests_per_second", "server_cpu_us_per_request")


@dataclass
class Settings:
    duration: float = 1.0  # one round of one app, whole seconds (wrk's unit)
    rounds: int = 5
    warmup: float = 0.0  # seconds of wrk per app and endpoint before the rounds (0: none)
    warmup_requests: int = 100  # and before that, requests one after another
    connections: int = 64
    min_cpu_share: float = 0.85  # of the server's core, below which a run is made again
    retries: int = 1  # the median of 5 rounds takes care of a disturbed one
    max_quiet_wait: float = 120.0  # before a run, for other work on the machine to end

    @classmethod
    def quick(cls) -> Settings:
        return cls(duration=1.0, rounds=1, warmup_requests=5, connections=16, retries=0)

    def seconds(self, apps: int, endpoints: int) -> float:
        """How long the loads take at least (no retries, no waiting for quiet)."""
        return apps * endpoints * (self.warmup + self.rounds * max(1, round(self.duration)))


def fetch(server: Server, target: Endpoint) -> tuple[int, str | None, str | None, bytes]:
    """(status, content-type, etag, body) of ``target`` made to ``server``."""
    connection = server.connection()
    try:
        request = target.request
        connection.request(
            request.method,
            request.target,
            body=request.body or None,
            headers={k.decode(): v.decode() for k, v in request.headers},
        )
        response = connection.getresponse()
        body = response.read()
        headers = response.getheader("content-type"), response.getheader("etag")
        return response.status, *headers, body
    finally:
        connection.close()


def made_to(server: Server, target: Endpoint) -> Endpoint:
    """``target`` as it is made to ``server``: with the ETag it gives, if it is conditional."""
    if target.etag_of is None:
        return target
    first = dataclasses.replace(target, request=Request("GET", target.etag_of))
    status, _, etag, _ = fetch(server, first)
    if status != 200 or etag is None:
        raise LookupError(f"GET {target.etag_of} answered {status} with no ETag")
    return with_etag(target, etag)


def warm_up(server: Server, target: Endpoint, count: int) -> None:
    """``count`` requests of ``target`` to ``server``, one after another, on one connection."""
    request = target.request
    headers = {k.decode(): v.decode() for k, v in request.headers}
    connection = server.connection()
    try:
        for _ in range(count):
            connection.request(request.method, request.target, request.body or None, headers)
            connection.getresponse().read()
    finally:
        connection.close()


def check_over_http(server: Server) -> list[str]:
    """The correctness check, over a real connection to the served app."""
    problems = []
    for target in endpoints():
        if not supported(server.app, target):
            continue
        try:
            status, content_type, _, body = fetch(server, made_to(server, target))
            problems += compare(server.app, target, status, content_type, body)
        except (OSError, http.client.HTTPException, LookupError) as exc:
            problems.append(f"{server.app} {target.name}: {type(exc).__name__}: {exc}")
    return problems


def wrk_script(target: Endpoint, directory: Path) -> Path | None:
    """A Lua script for wrk when the request is not a plain GET (a body, headers)."""
    request = target.request
    if request.method == "GET" and not request.body and not request.headers:
        return None
    lines = [f'wrk.method = "{request.method}"']
    if request.body:
        lines.append(f"wrk.body = [[{request.body.decode()}]]")
    for name, value in request.headers:
        # A long bracket string: an ETag holds double quotes.
        lines.append(f'wrk.headers["{name.decode()}"] = [=[{value.decode()}]=]')
    path = directory / f"{abs(hash((target.name, request.headers)))}.lua"
    path.write_text("\n".join(lines) + "\n")
    return path


def wrk(
    server: Server, target: Endpoint, seconds: float, settings: Settings, script: Path | None
) -> str:
    command = [
        "wrk",
        "--threads",
        "1",
        "--connections",
        str(settings.connections),
        "--duration",
        f"{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "--latency",
    ]
    if script is not None:
        command += ["--script", str(script)]
    command.append(server.url(target.request.target))
    done = subprocess.run(
        pinned(CLIENT_CORE, command), capture_output=True, text=True, timeout=seconds + 60
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr or done.stdout}")
    return done.stdout


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def parse_wrk(output: str) -> dict[str, Any]:
    """req/s, p50/p99 latency in ms, bytes/s and error counts from wrk's report."""

    def latency(percent: str) -> float | None:
        found = re.search(rf"^\s*{percent}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.MULTILINE)
        return float(found.group(1)) * _UNITS[found.group(2)] if found else None

    def number(pattern: str) -> float:
        found = re.search(pattern, output, re.MULTILINE)
        return float(found.group(1)) if found else 0.0

    transfer = re.search(r"^Transfer/sec:\s+([\d.]+)([KMG]?B)", output, re.MULTILINE)
    scale = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return {
        "requests_per_second": number(r"^Requests/sec:\s+([\d.]+)"),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "bytes_per_second": float(transfer.group(1)) * scale[transfer.group(2)] if transfer else 0,
        "requests": int(number(r"^\s*(\d+) requests in")),
        "non_2xx": int(number(r"Non-2xx or 3xx responses: (\d+)")),
        "socket_errors": sum(int(g) for g in errors.groups()) if errors else 0,
    }


def load_once(
    server: Server, target: Endpoint, settings: Settings, script: Path | None
) -> dict[str, Any]:
    """One wrk run against ``server``, tried again while the server was starved.

    Under wrk's load the server is busy all the time: it should use its
    whole core. When it got less than ``settings.min_cpu_share`` of it,
    something else on the machine took the core (or wrk's), and the run
    measured the noise; it is made again once the machine is idle (we wait
    a while), at most ``settings.retries`` times, and the best kept. The
    share is in the figures either way.
    """
    best: dict[str, Any] = {}
    for attempt in range(1 + settings.retries):
        waited = 0.0
        if attempt:
            waited = wait_for_quiet(max_wait=settings.max_quiet_wait)
        before, start = server.thread_cpu(), time.monotonic()
        with RssSampler(server.pid, interval=0.05) as rss:
            figures = parse_wrk(wrk(server, target, settings.duration, settings, script))
        used = cpu_used(before, server.thread_cpu())
        figures["server_cpu_share"] = used / (time.monotonic() - start)
        # What a request costs the server, however much of its core it got.
        # (None when no request completed in the round: a slow stream on a starved core.)
        requests = figures["requests"]
        figures["server_cpu_us_per_request"] = used / requests * 1e6 if requests else None
        figures["server_rss_mib"] = rss.peak_kib / 1024
        figures["waited_for_quiet_s"] = round(waited, 1)
        if not best or figures["server_cpu_share"] > best["server_cpu_share"]:
            best = figures
        if figures["server_cpu_share"] >= settings.min_cpu_share:
            break
    return best


def load_endpoint(
    servers: dict[str, Server],
    targets: dict[str, tuple[Endpoint, Path | None]],
    settings: Settings,
) -> dict[str, dict[str, Any]]:
    """Each server's figures for ``target``: the median of interleaved rounds.

    Every app warms up, then each round loads every app once, in a rotating
    order, so that a burst of noise from elsewhere on the machine lands on
    one round of one app rather than on all of an app's figures. ``targets``
    holds, by app, the request made to it (a conditional one carries that
    app's ETag) and its wrk script.
    """
    for name, server in servers.items():
        target, script = targets[name]
        warm_up(server, target, settings.warmup_requests)
        if settings.warmup > 0:
            wrk(server, target, settings.warmup, settings, script)
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in servers}
    order = list(servers)
    for number in range(settings.rounds):
        if settings.retries:  # the machine is shared: wait (a while) for it to be idle
            wait_for_quiet(max_wait=settings.max_quiet_wait)
        shift = number % len(order)
        for name in order[shift:] + order[:shift]:
            target, script = targets[name]
            rounds[name].append(load_once(servers[name], target, settings, script))
    return {name: summary(runs) for name, runs in rounds.items()}


def median_spread(runs: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[str, Any]:
    """Each of ``keys`` over ``runs``: the median, and ``_min``/``_max`` (the spread).

    A round whose figure is None (nothing measured) is left out; with none
    left, the three are None.
    """
    row: dict[str, Any] = {}
    for key in keys:
        values = [f[key] for f in runs if f[key] is not None]
        row[key] = statistics.median(values) if values else None
        row[f"{key}_min"] = min(values, default=None)
        row[f"{key}_max"] = max(values, default=None)
    return row


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One app's figures over its rounds: medians, the spread of ``SPREAD``, the rounds."""
    row: dict[str, Any] = {}
    for key in ("p50_ms", "p99_ms", "server_cpu_share"):
        values = [f[key] for f in runs if f[key] is not None]
        row[key] = statistics.median(values) if values else None
    return {
        **row,
        **median_spread(runs, SPREAD),
        "statistic": "median",
        "non_2xx": sum(f["non_2xx"] for f in runs),
        "socket_errors": sum(f["socket_errors"] for f in runs),
        "server_rss_mib": max(f["server_rss_mib"] for f in runs),
        "rounds": runs,
    }


def measure(
    names: list[str], settings: Settings, only: list[str] | None = None, server: str = "uvicorn"
) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    table: dict[str, dict[str, dict[str, Any]]] = {}
    problems: dict[str, list[str]] = {}
    idle_rss: dict[str, int] = {}
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        servers: dict[str, Server] = {}
        for name in names:
            served = stack.enter_context(serve(name, server=server))
            problems[name] = check_over_http(served)
            idle_rss[name] = served.rss_kib()
            if problems[name]:
                print(f"  {name}: FAILED the correctness check over HTTP, no figures:")
                for line in problems[name]:
                    print(f"    {line}")
            else:
                servers[name] = served
        for target in endpoints():
            if only and target.name not in only:
                continue
            made = {
                name: made_to(served, target)
                for name, served in servers.items()
                if supported(name, target)
            }
            chosen = {name: (m, wrk_script(m, Path(tmp))) for name, m in made.items()}
            chosen_servers = {name: servers[name] for name in chosen}
            table[target.name] = load_endpoint(chosen_servers, chosen, settings)
            print("  " + _row(target.name, table[target.name]))
        # Not a wrong answer, but worth a look: what a server logged under load
        # (wrk cuts its connections when a run ends, mid-stream for /stream and /sse).
        logs = {name: served.errors().strip()[-2000:] for name, served in servers.items()}
    return {
        "server": server,
        "settings": settings.__dict__,
        "problems": problems,
        "server_logs": {name: text for name, text in logs.items() if text},
        "idle_rss_mib": {name: kib / 1024 for name, kib in idle_rss.items()},
        "results": table,
    }


def _row(
    endpoint_name: str, row: dict[str, dict[str, Any]], settings_min_share: float = 0.85
) -> str:
    cells = []
    for name, figures in row.items():
        flag = " (ERRORS)" if figures["non_2xx"] or figures["socket_errors"] else ""
        if figures["server_cpu_share"] < settings_min_share:
            flag += f" (starved: {figures['server_cpu_share']:.0%} of its core)"
        low, high = figures["requests_per_second_min"], figures["requests_per_second_max"]
        spread = f" [{low:,.0f}-{high:,.0f}]" if low != high else ""
        cpu = figures["server_cpu_us_per_request"]
        cpu_text = "-" if cpu is None else f"{cpu:.1f}us"
        cells.append(f"{name} {figures['requests_per_second']:,.0f}/s{spread} {cpu_text}{flag}")
    return f"{endpoint_name:<16} " + ", ".join(cells)


def run(
    names: list[str],
    quick: bool,
    only: list[str] | None = None,
    busy: bool = False,
    server: str = "uvicorn",
) -> dict[str, Any]:
    settings = Settings.quick() if quick else Settings()
    if busy:  # never quiet: no waiting, no retries; read the server's CPU per request
        settings.retries, settings.max_quiet_wait = 0, 0
    return measure(names, settings, only, server)
