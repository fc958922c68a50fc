"""Results on disk: ``results.json``, ``results.md`` and ``benchmarks.png``.

``results.json`` holds one entry per part (``inprocess``, ``scale``, ``http``,
``websocket``, ``memory``, ``idle``, ``callgrind``; granian's ``http-granian``,
``websocket-granian`` and ``idle-granian``) and ``meta`` (date, versions,
Python, CPU, load average). Running one part again replaces that entry only, and
the Markdown and the plot are rebuilt from whatever the file holds.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench import apps as registry
from bench import report_connections, report_http
from bench.tables import DASH, TIMES, ratio_rows
from bench.tables import apps_in as _apps_in
from bench.tables import table as _table

PACKAGES = [
    "microweb",
    "starlette",
    "fastapi",
    "blacksheep",
    "litestar",
    "falcon",
    "uvicorn",
    "uvloop",
    "httptools",
    "granian",
    "websockets",
    "anyio",
    "orjson",
    "pydantic",
    "msgspec",
    "python-multipart",
]
PEERS = ["starlette", "fastapi", "blacksheep", "litestar", "falcon"]


# --- meta ----------------------------------------------------------------------------


def meta() -> dict[str, Any]:
    """Where and with what the figures were made."""
    import importlib.metadata

    versions: dict[str, str | None] = {}
    for package in PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
        "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "load_average": os.getloadavg(),
        "versions": versions,
        "tools": {
            "wrk": _tool_version(["wrk", "-v"]),
            "valgrind": _tool_version(["valgrind", "--version"]),
        },
        "microweb_commit": _git(["rev-parse", "--short", "HEAD"]),
        "microweb_tree_dirty": bool(
            _git(["status", "--porcelain", "--untracked-files=no", "--", "microweb"])
        ),
    }


def cpu_model() -> str | None:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or None
    found = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return found.group(1).strip() if found else None


def _tool_version(command: list[str]) -> str | None:
    if shutil.which(command[0]) is None:
        return None
    done = subprocess.run(command, capture_output=True, text=True)
    text = (done.stdout or done.stderr).strip().splitlines()
    return text[0].split(" [")[0].split(" Copyright")[0] if text else None


def _git(args: list[str]) -> str | None:
    root = Path(__file__).resolve().parent.parent
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


# --- the results file ------------------------------------------------------------------


def load(directory: Path) -> dict[str, Any]:
    path = directory / "results.json"
    if path.exists():
        loaded: dict[str, Any] = json.loads(path.read_text())
        return loaded
    return {}


def save(directory: Path, results: dict[str, Any]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "results.json").write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
    (directory / "results.md").write_text(markdown(results))
    if any(part in results for part in ("inprocess", "http", "scale")):
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print("  matplotlib is not installed: no plot (pip install -r bench/requirements.txt)")
        else:
            plot(results, directory / "benchmarks.png")


# --- Markdown --------------------------------------------------------------------------


def _fmt_us(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.2f}"


def inprocess_table(part: dict[str, Any]) -> str:
    rows = part["us_per_request"]
    body = ratio_rows(rows, _fmt_us, 1, lambda endpoint: f"`{endpoint}`")
    return _table([f"µs/request ({TIMES} raw)", *_apps_in(rows)], body)


def callgrind_table(part: dict[str, Any]) -> str:
    rows = part["instructions_per_request"]
    body = ratio_rows(rows, lambda v: f"{v:,.0f}", 2, lambda endpoint: f"`{endpoint}`")
    return _table([f"instructions/request ({TIMES} raw)", *_apps_in(rows)], body)


def scale_table(part: dict[str, Any]) -> str:
    table = part["us_per_request"]
    counts = list(table)
    names = [name for name in registry.APPS if any(name in table[c] for c in counts)]
    header = ["app", *[f"{int(c):,} routes, µs" for c in counts]]
    header += [f"{int(c):,} vs {int(counts[0]):,}" for c in counts[1:]]
    body = []
    for name in names:
        values = [table[c].get(name) for c in counts]
        cells = [DASH if v is None else _fmt_us(v) for v in values]
        base = values[0]
        cells += [DASH if v is None or not base else f"{v / base:.2f}{TIMES}" for v in values[1:]]
        body.append([name, *cells])
    return _table(header, body)


def memory_table(part: dict[str, Any]) -> str:
    names = [name for name in registry.APPS if name in part["download"]]
    header = [
        "app",
        f"{part['clients']} {TIMES} {part['download_mib']} MiB download: RSS growth, MiB",
        "download MiB/s",
        f"{part['upload_mib']} MiB upload: RSS growth, MiB",
    ]
    body = []
    for name in names:
        down = part["download"][name]
        up = part["upload"].get(name)
        body.append(
            [
                name,
                f"{down['growth_mib']:.1f}",
                f"{down['throughput_mib_per_s']:,.0f}",
                DASH if up is None else f"{up['growth_mib']:.1f}",
            ]
        )
    return _table(header, body)


def targets(results: dict[str, Any]) -> list[list[str]]:
    """Issue 7's targets against the figures: [measure, target, measured, met]."""
    rows: list[list[str]] = []

    def verdict(ok: bool | None) -> str:
        return DASH if ok is None else ("**yes**" if ok else "**no**")

    inproc = results.get("inprocess", {}).get("us_per_request", {})
    for endpoint in ("/plaintext", "/json"):
        row = inproc.get(endpoint, {})
        if "raw" in row and "microweb" in row:
            ratio = row["microweb"] / row["raw"]
            rows.append(
                [
                    f"in-process `{endpoint}`",
                    f"≤ 2.5{TIMES} raw",
                    f"{ratio:.2f}{TIMES} raw",
                    verdict(ratio <= 2.5),
                ]
            )
    behind = []
    for endpoint, row in inproc.items():
        if "microweb" not in row:
            continue
        for peer in PEERS:
            if peer in row and row[peer] <= row["microweb"]:
                behind.append(f"`{endpoint}` {peer} {row[peer] / row['microweb']:.2f}{TIMES}")
    if inproc:
        rows.append(
            [
                "in-process, every endpoint",
                "faster than every peer",
                "behind: " + ", ".join(behind) if behind else "ahead everywhere",
                verdict(not behind),
            ]
        )
    http = results.get("http", {}).get("results", {})
    for endpoint in ("/plaintext", "/json"):
        row = http.get(endpoint, {})
        if "raw" in row and "microweb" in row:
            mine = row["microweb"]["requests_per_second"]
            ratio = mine / row["raw"]["requests_per_second"]
            best_peer = max(
                ((row[p]["requests_per_second"], p) for p in PEERS if p in row), default=None
            )
            ahead = best_peer is None or mine > best_peer[0]
            peer_text = (
                "" if best_peer is None else f"; best peer {best_peer[1]} {best_peer[0]:,.0f}/s"
            )
            rows.append(
                [
                    f"HTTP req/s `{endpoint}`",
                    f"≥ 0.9{TIMES} raw, ahead of every peer",
                    f"{ratio:.2f}{TIMES} raw ({mine:,.0f}/s){peer_text}",
                    verdict(ratio >= 0.9 and ahead),
                ]
            )
    scale = results.get("scale", {}).get("us_per_request", {})
    if "10" in scale and "microweb" in scale["10"]:
        base = scale["10"]["microweb"]
        for count, limit in (("1000", 1.10), ("10000", 1.20)):
            if count in scale and "microweb" in scale[count]:
                ratio = scale[count]["microweb"] / base
                rows.append(
                    [
                        f"`/r999/items/5` among {int(count):,} routes vs 10",
                        f"within {round((limit - 1) * 100)} %",
                        f"{(ratio - 1) * 100:+.1f} %",
                        verdict(ratio <= limit),
                    ]
                )
    for endpoint in ("/file", "/stream"):
        row = http.get(endpoint, {})
        if {"raw", "microweb", "starlette"} <= set(row):
            mine = row["microweb"]["requests_per_second"]
            raw = row["raw"]["requests_per_second"]
            starlette = row["starlette"]["requests_per_second"]
            ok = mine >= starlette and mine >= raw / 1.10
            rows.append(
                [
                    f"HTTP throughput `{endpoint}`",
                    "≥ Starlette's; no worse than raw + 10 %",
                    f"{mine / starlette:.2f}{TIMES} Starlette, {mine / raw:.2f}{TIMES} raw",
                    verdict(ok),
                ]
            )
    memory = results.get("memory", {})
    down = memory.get("download", {}).get("microweb")
    if down:
        rows.append(
            [
                f"{memory['clients']} clients {TIMES} {memory['download_mib']} MiB file",
                "server RSS growth < 20 MiB",
                f"{down['growth_mib']:.1f} MiB",
                verdict(down["growth_mib"] < 20 if memory["clients"] == 50 else None),
            ]
        )
    up = memory.get("upload", {}).get("microweb")
    if up:
        rows.append(
            [
                f"{memory['upload_mib']} MiB upload",
                "server RSS growth < 10 MiB",
                f"{up['growth_mib']:.1f} MiB",
                verdict(up["growth_mib"] < 10 if memory["upload_mib"] == 50 else None),
            ]
        )
    return rows


def _last_line(text: str) -> str:
    lines = [line.strip(" |+-") for line in text.splitlines() if line.strip(" |+-")]
    return lines[-1] if lines else ""


def problems(results: dict[str, Any]) -> list[str]:
    found = []
    for part in ("inprocess", "scale", "http", "http-granian"):
        for lines in results.get(part, {}).get("problems", {}).values():
            found += [f"{part}: {line}" for line in lines]
    for kind in ("download", "upload"):
        for figures in results.get("memory", {}).get(kind, {}).values():
            found += [f"memory: {line}" for line in figures.get("problems", [])]
    return found + report_connections.problems(results)


def markdown(results: dict[str, Any]) -> str:
    info = results.get("meta", {})
    versions = ", ".join(f"{k} {v}" for k, v in info.get("versions", {}).items() if v)
    out = [
        f"# microweb benchmarks, {info.get('date', '?')}\n",
        f"Python {info.get('python')} on {info.get('cpu')} ({info.get('cores')} cores), "
        f"{info.get('platform')}; microweb at {info.get('microweb_commit')}"
        f"{' (with uncommitted changes)' if info.get('microweb_tree_dirty') else ''}.\n",
        f"Versions: {versions}. Tools: "
        + ", ".join(f"{k} {v}" for k, v in info.get("tools", {}).items() if v)
        + ".\n",
        "Generated by `python -m bench` (see docs/benchmarks.md); the figures are in "
        "`results.json`.\n",
    ]
    if "load_average" in info:
        load = ", ".join(f"{v:.2f}" for v in info["load_average"])
        end = info.get("load_average_end")
        out.append(
            f"Load average (1, 5, 15 min) at the start: {load}"
            + (f"; at the end: {', '.join(f'{v:.2f}' for v in end)}" if end else "")
            + (
                f". The run took {info['seconds'] // 60} min {info['seconds'] % 60} s"
                if "seconds" in info
                else ""
            )
            + (" (`python -m bench full`)" if info.get("full") else "")
            + ".\n"
        )
    if info.get("quick"):
        out.append("**Quick mode: a smoke run, these figures mean little.**\n")
    if info.get("busy"):
        out.append(
            "**`--busy`: the machine was not quiet; in-process figures are CPU time, read the "
            "server's CPU per request over HTTP.**\n"
        )
    rows = targets(results)
    if rows:
        out += ["## Issue 7 targets\n", _table(["measure", "target", "measured", "met"], rows)]
    rows = report_http.target_rows(results)
    if rows:
        out += [
            "## Issue 21's HTTP targets\n",
            _table(["measure", "target", "measured", "met"], rows),
        ]
    if "inprocess" in results:
        out += [
            "## In-process: µs per request\n",
            "`await app(scope, receive, send)` in a loop, apps interleaved; the median of "
            f"{results['inprocess']['settings']['rounds']} rounds; 1,000 extra routes "
            "registered first"
            + (
                "; timed by the process's CPU time (`--busy`).\n"
                if results["inprocess"]["settings"].get("cpu_time")
                else ".\n"
            ),
            inprocess_table(results["inprocess"]),
        ]
    if "callgrind" in results:
        out += [
            "## Instructions per request (callgrind)\n",
            "(instructions for 2N requests - for N) / N, N = "
            f"{results['callgrind'].get('requests') or 'auto (≤ 1,000)'}.\n",
            callgrind_table(results["callgrind"]),
        ]
    for server in ("uvicorn", "granian"):
        key = "http" if server == "uvicorn" else f"http-{server}"
        if key in results:
            out.append(report_http.http_section(results[key], server))
    if "scale" in results:
        out += [
            "## Routing scale: `/r999/items/5` as the last of N routes (in-process)\n",
            scale_table(results["scale"]),
        ]
    if "memory" in results:
        out += [
            "## Memory: peak server RSS growth over the warmed-up baseline\n",
            memory_table(results["memory"]),
        ]
    websocket = [results[k] for k in ("websocket", "websocket-granian") if k in results]
    if websocket:
        out.append(report_connections.websocket_section(websocket))
    for key in ("idle", "idle-granian"):
        if key in results:
            out.append(report_connections.idle_section(results[key]))
    logs = results.get("http", {}).get("server_logs", {})
    if logs:
        out += [
            "## Server logs under load\n",
            "Not wrong answers (every answer was checked first), but what a server logged "
            "while wrk ran; wrk cuts its connections when a run ends, in the middle of a "
            "stream for `/stream` and `/sse`. The last line of each log:\n",
            "".join(f"- {name}: `{_last_line(text)}`\n" for name, text in logs.items()),
        ]
    found = problems(results)
    if found:
        out += ["## Problems (these apps' figures are void where listed)\n"]
        out += ["".join(f"- {line}\n" for line in found)]
    return "\n".join(out)


# --- the plot --------------------------------------------------------------------------


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    logging.getLogger("matplotlib").setLevel(logging.WARNING)
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [part for part in ("inprocess", "http", "scale") if part in results]
    fig, axes = plt.subplots(len(panels), 1, figsize=(11, 4.2 * len(panels)), squeeze=False)
    colours = dict(
        zip(
            registry.APPS,
            ["#444444", "#d62728", "#1f77b4", "#17becf", "#2ca02c", "#ff7f0e", "#9467bd"],
            strict=True,
        )
    )
    for ax, part in zip(axes[:, 0], panels, strict=True):
        if part == "inprocess":
            rows = results["inprocess"]["us_per_request"]
            _bars(ax, rows, colours, lambda row, name: row[name])
            ax.set_yscale("log")
            ax.set_ylabel("µs per request (log)")
            ax.set_title("In-process cost per request (lower is better)")
        elif part == "http":
            rows = {
                endpoint: {name: f["requests_per_second"] for name, f in row.items()}
                for endpoint, row in results["http"]["results"].items()
            }
            _bars(ax, rows, colours, lambda row, name: row[name])
            ax.set_yscale("log")
            ax.set_ylabel("requests/s (log)")
            ax.set_title("Over HTTP: uvicorn + wrk, requests per second (higher is better)")
        else:
            table = results["scale"]["us_per_request"]
            counts = [int(c) for c in table]
            for name in registry.APPS:
                points = [(int(c), table[c][name]) for c in table if name in table[c]]
                if points:
                    xs, ys = zip(*points, strict=True)
                    ax.plot(xs, ys, marker="o", label=name, color=colours[name])
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xticks(counts, [f"{c:,}" for c in counts])
            ax.set_xlabel("routes registered")
            ax.set_ylabel("µs per request (log)")
            ax.set_title("Routing scale: /r999/items/5, the last route registered")
        ax.grid(True, axis="y", which="major", alpha=0.3)
    info = results.get("meta", {})
    fig.suptitle(
        f"microweb benchmarks {info.get('date', '')}: Python {info.get('python', '')}, "
        f"{info.get('cpu', '')}",
        fontsize=10,
        y=0.995,
    )
    # One legend for every panel (the colours are the same), above them all.
    shown: dict[str, Any] = {}
    for ax in axes[:, 0]:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            shown.setdefault(label, handle)
    fig.legend(
        [shown[name] for name in registry.APPS if name in shown],
        [name for name in registry.APPS if name in shown],
        loc="upper center",
        bbox_to_anchor=(0.5, 0.975),
        ncol=len(shown),
        fontsize=9,
        frameon=False,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.955))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _bars(ax: Any, rows: dict[str, dict[str, float]], colours: dict[str, str], value: Any) -> None:
    names = _apps_in(rows)
    endpoints = list(rows)
    width = 0.8 / max(len(names), 1)
    for i, name in enumerate(names):
        xs = [j + (i - (len(names) - 1) / 2) * width for j in range(len(endpoints))]
        ys = [value(rows[e], name) if name in rows[e] else 0 for e in endpoints]
        ax.bar(xs, ys, width, label=name, color=colours[name])
    ax.set_xticks(range(len(endpoints)), endpoints, fontsize=8)
