"""Over HTTP: uvicorn on one core, wrk on the other, 127.0.0.1 only.

Every app is served at once, each by its own uvicorn (httptools, uvloop, one
worker, no access log) pinned to core 0; only the one under load does any
work. Each served app first passes the correctness check over HTTP (a wrong
answer voids its figures). Then, endpoint by endpoint, ``wrk`` pinned to
core 1 (one thread, 64 connections) warms every app up for 3 s, then loads
each app for 4 s in each of 3 rounds, the apps' order rotating from round to
round; an app's figure is its best round (req/s and that round's 99th
percentile latency), with the server's peak RSS over the rounds. The best,
not the median: the machine is shared, and other work can only slow a
server down, so the best round is the one least disturbed. Any non-2xx
answer or socket error is reported next to the figure. In all, 7 apps x 8
endpoints x 15 s: about 15 to 20 minutes.
"""

from __future__ import annotations

import dataclasses
import http.client
import re
import shutil
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
    cpu_seconds,
    pinned,
    serve,
    wait_for_quiet,
)


@dataclass
class Settings:
    duration: float = 4.0  # one round of one app
    rounds: int = 3
    warmup: float = 3.0
    connections: int = 64
    min_cpu_share: float = 0.85  # of the server's core, below which a run is made again
    retries: int = 3
    max_quiet_wait: float = 120.0  # before a run, for other work on the machine to end

    @classmethod
    def quick(cls) -> Settings:
        return cls(duration=1.0, rounds=1, warmup=0.0, connections=16, retries=0)


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

    The machine is shared: before the run we wait (a while) for it to be
    idle. Under wrk's load the server is busy all the time: it should use
    its whole core. When it got less than ``settings.min_cpu_share`` of it,
    something else on the machine took the core (or wrk's), and the run
    measured the noise; it is made again, at most ``settings.retries``
    times, and the best kept. The share is in the figures either way.
    """
    best: dict[str, Any] = {}
    for _ in range(1 + settings.retries):
        waited = wait_for_quiet(max_wait=settings.max_quiet_wait) if settings.retries else 0.0
        pid = server.process.pid
        before, start = cpu_seconds(pid), time.monotonic()
        with RssSampler(pid, interval=0.05) as rss:
            figures = parse_wrk(wrk(server, target, settings.duration, settings, script))
        used = cpu_seconds(pid) - before
        figures["server_cpu_share"] = used / (time.monotonic() - start)
        # What a request costs the server, however much of its core it got.
        figures["server_cpu_us_per_request"] = used / max(figures["requests"], 1) * 1e6
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
    """Each server's figures for ``target``: the best of interleaved rounds.

    Every app warms up, then each round loads every app once, in a rotating
    order, so that a burst of noise from elsewhere on the machine lands on
    one round of one app rather than on all of an app's figures. ``targets``
    holds, by app, the request made to it (a conditional one carries that
    app's ETag) and its wrk script.
    """
    for name, server in servers.items():
        if settings.warmup > 0:
            target, script = targets[name]
            wrk(server, target, settings.warmup, settings, script)
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in servers}
    order = list(servers)
    for number in range(settings.rounds):
        shift = number % len(order)
        for name in order[shift:] + order[:shift]:
            target, script = targets[name]
            rounds[name].append(load_once(servers[name], target, settings, script))
    row = {}
    for name, runs in rounds.items():
        best = max(runs, key=lambda f: f["requests_per_second"])
        row[name] = {
            **best,
            "non_2xx": sum(f["non_2xx"] for f in runs),
            "socket_errors": sum(f["socket_errors"] for f in runs),
            "server_rss_mib": max(f["server_rss_mib"] for f in runs),
            "rounds": runs,
        }
    return row


def measure(names: list[str], settings: Settings, only: list[str] | None = None) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    table: dict[str, dict[str, dict[str, Any]]] = {}
    problems: dict[str, list[str]] = {}
    idle_rss: dict[str, int] = {}
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        servers: dict[str, Server] = {}
        for name in names:
            server = stack.enter_context(serve(name))
            problems[name] = check_over_http(server)
            idle_rss[name] = server.rss_kib()
            if problems[name]:
                print(f"  {name}: FAILED the correctness check over HTTP, no figures:")
                for line in problems[name]:
                    print(f"    {line}")
            else:
                servers[name] = server
        for target in endpoints():
            if only and target.name not in only:
                continue
            made = {
                name: made_to(server, target)
                for name, server in servers.items()
                if supported(name, target)
            }
            chosen = {name: (m, wrk_script(m, Path(tmp))) for name, m in made.items()}
            chosen_servers = {name: servers[name] for name in chosen}
            table[target.name] = load_endpoint(chosen_servers, chosen, settings)
            print("  " + _row(target.name, table[target.name]))
        # Not a wrong answer, but worth a look: what a server logged under load
        # (wrk cuts its connections when a run ends, mid-stream for /stream and /sse).
        logs = {name: server.errors().strip()[-2000:] for name, server in servers.items()}
    return {
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
        p99 = figures["p99_ms"]
        cells.append(
            f"{name} {figures['requests_per_second']:,.0f}/s p99 "
            f"{p99 if p99 is not None else float('nan'):.1f}ms{flag}"
        )
    return f"{endpoint_name:<16} " + ", ".join(cells)


def run(
    names: list[str], quick: bool, only: list[str] | None = None, busy: bool = False
) -> dict[str, Any]:
    settings = Settings.quick() if quick else Settings()
    if busy:  # never quiet: no waiting, no retries; read the server's CPU per request
        settings.retries, settings.max_quiet_wait = 0, 0
    return measure(names, settings, only)
