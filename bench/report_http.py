"""The Markdown of the HTTP part, under uvicorn or granian, with its verdicts.

Each app's figure for an endpoint is the median of its interleaved rounds
(``bench.http_load``), shown with its spread: the lowest and the highest
round. Issue 21 judges "ahead" over HTTP by those medians, and only outside
the raw app's own spread. The rule, per endpoint and measure (requests/s,
and the server's CPU µs per request):

- **noise** is the raw app's spread over the same rounds, as a share of its
  median: (highest - lowest) / median. Raw does the least work of all, so
  its rounds move only by what the machine did to them.
- microweb's **advantage** over an app is the ratio of the two medians
  that is above 1 when microweb is better: its requests/s over the app's,
  the app's CPU µs per request over microweb's.
- **ahead** when the advantage is above 1 + noise, **behind** when it is
  below 1 / (1 + noise), **level** in between: a difference no larger than
  raw's own spread is not a difference.

Older results (a best round, no spread) get the tables without verdicts.
"""

from __future__ import annotations

from typing import Any

from bench import apps as registry
from bench.tables import DASH, TIMES, apps_in, table

BAR = 0.95  # issue 21: HTTP req/s under uvicorn, /plaintext and /json, >= 0.95x raw
PEERS = [name for name in registry.APPS if name not in ("raw", "microweb")]
STARVED = 0.85  # a server that got less of its core than this was competing with other work
MEASURES = {
    "requests_per_second": ("requests/s", True),  # higher is better
    "server_cpu_us_per_request": ("server CPU µs/request", False),
}
# The WebSocket runs over a server (``bench.websocket_load``) are judged the same way.
WEBSOCKET_MEASURES = {
    "messages_per_second": ("messages/s", True),
    "server_cpu_us_per_message": ("server CPU µs/message", False),
}
_KNOWN = {**MEASURES, **WEBSOCKET_MEASURES}
_DIGITS = {"requests_per_second": ",.0f", "messages_per_second": ",.0f"}
_DIGITS["server_cpu_us_per_message"] = ".2f"  # else ".1f"
SERVER_SETUP = {
    "uvicorn": "uvicorn (httptools, uvloop, one worker)",
    "granian": "granian (ASGI, one worker, one single-threaded runtime, uvloop, HTTP/1.1)",
}


# --- the verdicts --------------------------------------------------------------------


def noise(figures: dict[str, Any], key: str) -> float | None:
    """(highest - lowest) / median of ``key`` over the rounds, or None without a spread.

    One round (a ``--quick`` run) has lowest == highest: no spread to judge by,
    so no verdicts, rather than every difference counted as real.
    """
    low, high, median = figures.get(f"{key}_min"), figures.get(f"{key}_max"), figures.get(key)
    if low is None or high is None or not median or high == low:
        return None
    return float((high - low) / median)


def advantage(mine: float, theirs: float, higher_is_better: bool) -> float:
    """How many times better ``mine`` is than ``theirs`` (below 1: worse)."""
    return mine / theirs if higher_is_better else theirs / mine


def verdict(ratio: float, spread: float) -> str:
    """ahead, level or behind: ``ratio`` (an advantage) against the noise ``spread``."""
    if ratio > 1 + spread:
        return "ahead"
    if ratio < 1 / (1 + spread):
        return "behind"
    return "level"


def verdicts(row: dict[str, dict[str, Any]], key: str, app: str = "microweb") -> dict[str, Any]:
    """``app`` against every other app of one endpoint's ``row``: {name: (verdict, ratio)}.

    Empty when ``app`` or raw has no figure, or raw's rounds have no spread.
    """
    if app not in row or "raw" not in row:
        return {}
    spread = noise(row["raw"], key)
    if spread is None:
        return {}
    higher = _KNOWN[key][1]
    mine = row[app].get(key)
    if not mine:
        return {}
    found: dict[str, Any] = {"noise": spread}
    for name, figures in row.items():
        if name != app and figures.get(key):
            ratio = advantage(mine, figures[key], higher)
            found[name] = (verdict(ratio, spread), ratio)
    return found


# --- the tables ----------------------------------------------------------------------


def _cell(figures: dict[str, Any], key: str, raw: float | None, digits: str) -> str:
    value = figures.get(key)
    if value is None:
        return DASH
    ratio = f" ({value / raw:.2f}{TIMES})" if raw else ""
    low, high = figures.get(f"{key}_min"), figures.get(f"{key}_max")
    spread = "" if low is None else f", {low:{digits}}{DASH}{high:{digits}}"
    return f"{value:{digits}}{ratio}{spread}"


def figure_table(rows: dict[str, dict[str, Any]], key: str) -> str:
    """One measure, every endpoint and app: the median (x raw), the lowest, highest round."""
    names = apps_in(rows)
    digits = _DIGITS.get(key, ".1f")
    body = []
    for endpoint, row in rows.items():
        raw = row.get("raw", {}).get(key)
        cells = []
        for name in names:
            figures = row.get(name)
            if figures is None:
                cells.append(DASH)
                continue
            cell = _cell(figures, key, raw if name != "raw" else None, digits)
            if key == "requests_per_second":
                if figures["non_2xx"] or figures["socket_errors"]:
                    cell += " ⚠"
                if (figures.get("server_cpu_share") or 1.0) < STARVED:
                    cell += " †"
            cells.append(cell)
        body.append([f"`{endpoint}`", *cells])
    label, higher = _KNOWN[key]
    better = "higher" if higher else "lower"
    return table([f"{label} ({TIMES} raw; {better} is better)", *names], body)


def verdict_table(rows: dict[str, dict[str, Any]], key: str) -> str | None:
    """microweb against each app, per endpoint: ahead / level / behind and the advantage."""
    names = [name for name in apps_in(rows) if name != "microweb"]
    body = []
    for endpoint, row in rows.items():
        found = verdicts(row, key)
        if not found:
            continue
        cells = [f"±{found['noise'] * 100 / 2:.0f} %"]
        for name in names:
            if name in found:
                word, ratio = found[name]
                cells.append(f"**{word}** {ratio:.2f}{TIMES}")
            else:
                cells.append(DASH)
        body.append([f"`{endpoint}`", *cells])
    if not body:
        return None
    return table([f"microweb, {_KNOWN[key][0]}", "raw's spread", *names], body)


def http_section(part: dict[str, Any], server: str) -> str:
    """The section of one HTTP part: how it ran, the figures, the verdicts, p99 and RSS."""
    s = part["settings"]
    rows = part["results"]
    statistic = (
        "median"
        if any(f.get("statistic") == "median" for row in rows.values() for f in row.values())
        else "best"
    )
    when = "over its rounds" if statistic == "median" else "in that round"
    out = [
        f"## Over HTTP: {SERVER_SETUP.get(server, server)} on one core, wrk on the other\n",
        f"{s['connections']} connections; the {statistic} of {s.get('rounds', 1)} interleaved "
        f"rounds of {s['duration']:g} s per app after {s['warmup']:g} s of warm-up"
        + (f", with the lowest{DASH}highest round" if statistic == "median" else "")
        + ". ⚠ marks runs with non-2xx answers or socket errors; † a server that used "
        f"less than 85 % of its core ({when}): either other work took the core, "
        "or the load generator was the limit (wrk has one core: about 2.5 GB/s of large "
        "bodies), so the figure says less about the server. The server's CPU µs per "
        "request is its CPU time over the requests made, whatever else the machine did.\n",
        *(figure_table(rows, key) for key in MEASURES if _measured(rows, key)),
    ]
    judged = [verdict_table(rows, key) for key in MEASURES]
    if any(judged):
        out.append(
            "microweb against each app: **ahead** or **behind** only by more than the raw "
            "app's own spread over the same rounds (± half of it shown), else **level**; "
            f"the figure is how many times better microweb is ({TIMES}, below 1: worse).\n"
        )
        out += [text for text in judged if text]
    out += [_simple(rows, "p99_ms", "p99 latency, ms", ".2f")]
    out += [_simple(rows, "server_rss_mib", "server peak RSS, MiB", ".0f")]
    return "\n".join(out)


def _measured(rows: dict[str, dict[str, Any]], key: str) -> bool:
    return any(figures.get(key) is not None for row in rows.values() for figures in row.values())


def _simple(rows: dict[str, dict[str, Any]], key: str, label: str, digits: str) -> str:
    names = apps_in(rows)
    body = []
    for endpoint, row in rows.items():
        cells = []
        for name in names:
            value = row.get(name, {}).get(key)
            cells.append(DASH if value is None else f"{value:{digits}}")
        body.append([f"`{endpoint}`", *cells])
    return table([label, *names], body)


# --- issue 21's HTTP targets ----------------------------------------------------------


def target_rows(results: dict[str, Any]) -> list[list[str]]:
    """[measure, target, measured, met] for issue 21's HTTP targets, from what was run."""
    rows: list[list[str]] = []
    part = results.get("http", {}).get("results", {})
    for endpoint in ("/plaintext", "/json"):
        row = part.get(endpoint, {})
        if "raw" not in row or "microweb" not in row:
            continue
        for key, (label, higher) in MEASURES.items():
            if not (row["microweb"].get(key) and row["raw"].get(key)):
                continue  # older results have no CPU per request
            # As fast as 0.95x raw: 0.95x its requests/s, 1/0.95x its CPU per request.
            speed = advantage(row["microweb"][key], row["raw"][key], higher)
            spread = noise(row["raw"], key)
            if speed >= BAR:
                met = "**yes**"
            elif spread is not None and speed * (1 + spread) >= BAR:
                met = "within raw's spread"
            else:
                met = "**no**"
            if higher:
                target, measured = f"≥ {BAR}{TIMES} raw", f"{speed:.2f}{TIMES} raw"
            else:
                target, measured = f"≤ {1 / BAR:.2f}{TIMES} raw", f"{1 / speed:.2f}{TIMES} raw"
            if spread is not None:
                measured += f" (raw's spread ±{spread * 50:.0f} %)"
            rows.append([f"uvicorn `{endpoint}`, {label}", target, measured, met])
    for key_name, server in (("http", "uvicorn"), ("http-granian", "granian")):
        for key, (label, _) in MEASURES.items():
            counted = {"ahead": 0, "level": 0, "behind": 0}
            behind = []
            for endpoint, row in results.get(key_name, {}).get("results", {}).items():
                for name, found in verdicts(row, key).items():
                    if name in PEERS:
                        counted[found[0]] += 1
                        if found[0] == "behind":
                            behind.append(f"`{endpoint}` {name} {found[1]:.2f}{TIMES}")
            if sum(counted.values()):
                measured = ", ".join(f"{word} {n}" for word, n in counted.items())
                rows.append(
                    [
                        f"{server}, every endpoint, {label}",
                        "ahead of every peer",
                        measured + (f" (behind: {', '.join(behind)})" if behind else ""),
                        "**yes**" if counted["ahead"] == sum(counted.values()) else "**no**",
                    ]
                )
    return rows
