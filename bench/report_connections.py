"""The Markdown of the long-lived connection parts: ``websocket`` and ``idle``.

``bench.report`` calls these when ``results.json`` holds those parts; each
returns the section's text (tables with the ratio to raw of the same run).
"""

from __future__ import annotations

from typing import Any

from bench import apps as registry
from bench.report_http import WEBSOCKET_MEASURES, figure_table, verdict_table
from bench.tables import DASH, TIMES, ratio_rows
from bench.tables import apps_in as _names
from bench.tables import table as _table


def _ratio_rows(rows: dict[str, dict[str, float]], fmt: str, unit: str) -> list[list[str]]:
    return ratio_rows(rows, lambda v: f"{v:{fmt}}", 2, lambda kind: f"{kind} ({unit})")


SERVED_WEBSOCKETS = {
    "uvicorn": "uvicorn (websockets-sansio, one worker, core 0)",
    "granian": "granian (its own WebSockets, one worker, one runtime thread, core 0)",
}


def websocket_section(parts: list[dict[str, Any]]) -> str:
    """The WebSocket section from the ``websocket`` part and ``websocket-granian``'s."""
    out = ["## WebSockets: echo round trips and server push\n"]
    for part in parts:
        settings = part["settings"]
        if "inprocess" in part:
            out.append(
                f"In-process: CPU µs per message ({TIMES} raw; lower is better), the median "
                f"of {settings['rounds']} interleaved rounds, one connection of "
                f"{settings['echo_messages']:,} sequential round trips (echo) or "
                f"{settings['push_messages']:,} pushed texts (push) per sample.\n"
            )
            rows = part["inprocess"]["us_per_message"]
            out.append(
                _table(["in-process", *_names(rows)], _ratio_rows(rows, ".2f", "µs/message"))
            )
        for server, setup in SERVED_WEBSOCKETS.items():
            if server in part:
                out.append(_served(part[server], settings, server, setup))
    return "\n".join(out)


def _served(figures: dict[str, Any], settings: dict[str, Any], server: str, setup: str) -> str:
    if "rows" in figures:
        return _served_medians(figures["rows"], settings, server, setup)
    rows = figures["messages_per_second"]  # older results: the best round, no verdicts
    out = [
        f"\nOver {setup} with the `websockets` client on core 1, compression off: messages "
        f"per second ({TIMES} raw; higher is better), the best of {settings['http_rounds']} "
        f"interleaved rounds of {settings['http_echo_messages']:,} round trips / "
        f"{settings['http_push_messages']:,} pushed texts.\n",
        _table([f"over {server}", *_names(rows)], _ratio_rows(rows, ",.0f", "messages/s")),
    ]
    cpu = figures.get("server_cpu_us_per_message")
    if cpu:
        out += [
            f"\nThe server's CPU time per message over {server} (the median over rounds; "
            f"{TIMES} raw, lower is better): what a message costs the server whatever "
            "else the machine was doing.\n",
            _table(["server CPU", *_names(cpu)], _ratio_rows(cpu, ".2f", "µs/message")),
        ]
    return "\n".join(out)


def _served_medians(
    rows: dict[str, dict[str, Any]], settings: dict[str, Any], server: str, setup: str
) -> str:
    """The medians with their spreads, and microweb's verdicts judged as over HTTP."""
    connections = settings.get("http_push_connections", 1)
    out = [
        f"\nOver {setup}, the client (`bench.ws_client`: one blocking socket, no event "
        "loop, no compression) on core 1: the median of "
        f"{settings['http_rounds']} interleaved rounds, with the lowest{DASH}highest round; "
        f"`echo` is {settings['http_echo_messages']:,} round trips one after another, "
        f"`push` one connection of {settings['http_push_messages']:,} pushed texts, "
        f"`push-1k` {connections} connections of 1,000 in sequence (handshakes included). "
        "The server's CPU per message is its CPU time over the messages of the run.\n",
        *(figure_table(rows, key) for key in WEBSOCKET_MEASURES),
        "microweb against each app: **ahead** or **behind** only by more than the raw "
        "app's own spread over the same rounds (± half of it shown), else **level** "
        "(`bench.report_http`); the figure is how many times better microweb is.\n",
    ]
    out += [text for key in WEBSOCKET_MEASURES if (text := verdict_table(rows, key))]
    names = _names(rows)
    share = [
        [f"`{kind}`", *(_share(row.get(name, {})) for name in names)] for kind, row in rows.items()
    ]
    out += [
        "The server's share of its core over the client's window, and the client's CPU "
        "per message (medians): a push server near 100 % had its core to itself and was "
        "the limit; a client far below the server's CPU per message is not the limit.\n",
        _table(["server share of its core; client CPU µs/message", *names], share),
    ]
    return "\n".join(out)


def _share(figures: dict[str, Any]) -> str:
    share, client = figures.get("server_cpu_share"), figures.get("client_cpu_us_per_message")
    if share is None or client is None:
        return DASH
    return f"{share:.0%}; {client:.2f}"


def idle_section(part: dict[str, Any]) -> str:
    server = part.get("server", "uvicorn")
    kinds = {"ws": "WebSockets (`/ws/echo`)", "sse": "SSE clients (`/sse/idle`)"}
    names = [n for n in registry.APPS if any(n in part.get(k, {}) for k in kinds)]
    body = []
    for kind, label in kinds.items():
        row = part.get(kind, {})
        raw = row.get("raw", {}).get("kib_per_connection")
        cells = []
        for name in names:
            figures = row.get(name)
            if not figures or figures["problems"]:
                cells.append(DASH)
                continue
            value = figures["kib_per_connection"]
            ratio = f" ({value / raw:.2f}{TIMES})" if raw and name != "raw" else ""
            cells.append(f"{value:.1f}{ratio}")
        body.append([f"{part['connections']:,} idle {label}", *cells])
    return "\n".join(
        [
            "## Memory per idle connection: server RSS growth, KiB per connection"
            + (f", under {server}" if server != "uvicorn" else "")
            + "\n",
            f"A fresh {server} per app and kind, warmed up; the growth of its VmRSS with every "
            f"connection open and idle, over the baseline, divided by the connections "
            f"({TIMES} raw).\n",
            _table(["KiB per connection", *names], body),
        ]
    )


def problems(results: dict[str, Any]) -> list[str]:
    found = []
    for key in ("websocket", "websocket-granian"):
        ws = results.get(key, {})
        for where in ("inprocess", *SERVED_WEBSOCKETS):
            for lines in ws.get(where, {}).get("problems", {}).values():
                found += [f"{key}: {line}" for line in lines]
    for key in ("idle", "idle-granian"):
        for kind in ("ws", "sse"):
            for figures in results.get(key, {}).get(kind, {}).values():
                found += [f"{key}: {line}" for line in figures.get("problems", [])]
    return found
