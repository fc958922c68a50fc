"""WebSocket cost: echo round trips and server push messages, in-process and over a server.

Two measures per app, on the endpoints of ``bench.endpoints``:

- **echo**: one client makes N round trips on ``/ws/echo``, one after
  another (a text ``PUSH_MESSAGE`` sent, the same text back, then the next);
- **push**: ``/ws/push?n=N``: the server sends N texts, then closes; the
  client reads them all.

Every app first passes ``bench.check``'s WebSocket checks (echo and push);
an app that fails gets no figures.

In-process, the app is called as a server would call it, with a
receive/send pair that plays the one client (like ``inprocess.py``'s
``Channel`` for HTTP): the next text is handed over as soon as the app asked
for it and had answered the one before; an app that reads ahead (Falcon
reads in a task of its own) waits for the client, as it would under a
server. One sample is one whole connection of N messages (handshake and
close included, which N makes small), timed by the process's CPU time
(``time.process_time``: on a shared machine, time spent descheduled is not
the app's); the figure is the median over rounds of the µs per message,
apps interleaved.

Over a server: every app is served by its own uvicorn or granian
(``servers.serve``, one worker, pinned to core 0; uvicorn's WebSocket
implementation is its default, websockets-sansio; granian's is its own, in
Rust), and the client runs in a process pinned to core 1 (``python -m
bench.websocket_load --client``). The client is ``bench.ws_client``, one
blocking socket and a small frame parser, no compression offered (granian
offers none): the ``websockets`` package's asyncio client spent more CPU per
pushed message than the server did (4.6 µs against 3.3 to 4), so push
figures measured the client. Three kinds: ``echo``, ``push`` (one
connection of ``http_push_messages``), and ``push-1k``, issue 17's shape:
``http_push_connections`` connections of 1,000 messages in sequence,
handshakes included. Each round runs every app once, in a rotating order;
an app's figures are the **median** of its rounds with the lowest and highest
round beside it (``http_load.median_spread``), for messages per second, the
server's CPU time per message (from ``/proc``, thread by thread in ns:
``servers.thread_cpu``) and the client's, so the report judges ahead, level
or behind only outside raw's own spread, as over HTTP (``report_http``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from bench.check import verify_push, verify_websocket, websocket_scope
from bench.driver import ASGIApp, Message
from bench.endpoints import PUSH_MESSAGE, WEBSOCKET_ECHO, WEBSOCKET_PUSH
from bench.http_load import median_spread
from bench.inprocess import Started, started
from bench.servers import CLIENT_CORE, HOST, ROOT, Server, cpu_used, pinned, serve

KINDS = ("echo", "push")  # in-process
#: Over a server: and issue 17's shape, ``settings.http_push_connections``
#: connections in sequence, each a push of ``PUSH_1K`` messages.
SERVED_KINDS = ("echo", "push", "push-1k")
PUSH_1K = 1_000
#: The figures of a served run, each the median of its rounds with their spread.
SERVED_MEASURES = (
    "messages_per_second",
    "server_cpu_us_per_message",
    "client_cpu_us_per_message",
    # The share of its core the server used over the client's window: near 1 when
    # the server is the limit and had its core to itself; well below, it waited for
    # the client, or other work on the machine took the core (messages/s says less).
    "server_cpu_share",
)
#: ``python -m bench callgrind --endpoint "WS echo"``: instructions per message.
WEBSOCKET_KINDS = {"WS echo": "echo", "WS push": "push"}


@dataclass
class Settings:
    echo_messages: int = 2_000
    push_messages: int = 10_000
    rounds: int = 7  # in-process
    http_rounds: int = 7  # over a server (issue 21: a median of at least 5)
    http_echo_messages: int = 4_000
    http_push_messages: int = 40_000
    http_push_connections: int = 20  # push-1k: connections of PUSH_1K messages, in sequence

    @classmethod
    def quick(cls) -> Settings:
        return cls(50, 200, 2, 1, 50, 200, 2)


# --- in-process ----------------------------------------------------------------------


class Client:
    """One client, in-process: the receive/send pair of a WebSocket connection.

    ``echo`` messages are sent one at a time, each once the previous one
    came back; then the client leaves (``websocket.disconnect``). With
    ``echo=0`` the client sends nothing and leaves once the app closes.
    """

    CONNECT: Message = {"type": "websocket.connect"}
    DISCONNECT: Message = {"type": "websocket.disconnect", "code": 1000}

    def __init__(self, echo: int = 0) -> None:
        self.left = echo
        self.push = echo == 0
        self.connected = False
        self.awaiting = False  # a text is out and has not come back yet
        self.received = 0  # texts the app sent
        self.closed = False
        self._waiter: asyncio.Future[None] | None = None

    async def receive(self) -> Message:
        if not self.connected:
            self.connected = True
            return self.CONNECT
        # Only an app that reads ahead (or a push app, before its close) waits here.
        while self.awaiting or (self.push and not self.closed):
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        if self.left:
            self.left -= 1
            self.awaiting = True
            return {"type": "websocket.receive", "text": PUSH_MESSAGE}
        return self.DISCONNECT

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "websocket.send":
            self.received += 1
            self.awaiting = False
        elif kind == "websocket.close":
            self.closed = True
        else:
            return
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


async def session(app: ASGIApp, state: dict[str, Any], kind: str, n: int) -> float:
    """Seconds for one connection of ``n`` echo round trips or ``n`` pushed messages."""
    if kind == "echo":
        scope, client = websocket_scope(WEBSOCKET_ECHO, state), Client(echo=n)
    else:
        scope, client = websocket_scope(f"{WEBSOCKET_PUSH}?n={n}", state), Client()
    start = time.process_time()
    await app(scope, client.receive, client.send)
    elapsed = time.process_time() - start
    if client.received != n:
        raise RuntimeError(f"{kind}: {client.received} of {n} messages came back")
    return elapsed


async def measure_inprocess(
    names: list[str], settings: Settings, extra_routes: int | None = None
) -> dict[str, Any]:
    """µs per message, echo and push, for each app that passes the checks."""
    async with started(names, extra_routes) as running:
        problems = await check_all(running)
        good = [run for run in running.values() if not run.problems]
        table: dict[str, dict[str, float]] = {}
        for kind in KINDS:
            n = settings.echo_messages if kind == "echo" else settings.push_messages
            samples: dict[str, list[float]] = {run.name: [] for run in good}
            for run in good:  # a first connection builds whatever is built lazily
                await session(run.app, run.state, kind, min(n, 10))
            for number in range(settings.rounds):
                shift = number % max(len(good), 1)
                for run in good[shift:] + good[:shift]:
                    seconds = await session(run.app, run.state, kind, n)
                    samples[run.name].append(seconds / n * 1e6)
            table[kind] = {name: statistics.median(v) for name, v in samples.items()}
            print("  in-process " + _row(kind, table[kind], "µs/message", lower=True))
    return {"problems": problems, "us_per_message": table}


async def verify_kind(name: str, app: ASGIApp, state: dict[str, Any], kind: str) -> list[str]:
    """Every problem with ``app``'s echo or push endpoint; empty when right."""
    if kind == "echo":
        return await verify_websocket(name, app, state)
    return await verify_push(name, app, state)


async def check_all(running: dict[str, Started]) -> dict[str, list[str]]:
    report = {}
    for name, run in running.items():
        run.problems = await verify_kind(name, run.app, run.state, "echo")
        run.problems += await verify_kind(name, run.app, run.state, "push")
        report[name] = run.problems
        for line in run.problems:
            print(f"  {name}: FAILED the WebSocket check, no figures: {line}")
    return report


# --- over a server: the client side ----------------------------------------------------


def _client(port: int, kind: str, n: int, connections: int = 1) -> dict[str, Any]:
    """One client run (``ws_client``, no event loop): seconds, messages right, close codes.

    ``push-1k`` is ``connections`` pushes of ``n`` messages, one after another.
    """
    from bench.ws_client import TEXT, Connection

    expected = PUSH_MESSAGE.encode()
    received, codes = 0, []
    cpu = time.process_time()
    if kind == "echo":
        ws = Connection(HOST, port, WEBSOCKET_ECHO)
        incoming = iter(ws)
        start = time.perf_counter()  # round trips only: the handshake is not one
        for _ in range(n):
            ws.send(TEXT, expected)
            if next(incoming, None) == (TEXT, expected):
                received += 1
        seconds = time.perf_counter() - start
        ws.close(1000)
        codes.append(ws.close_code)
    else:
        start = time.perf_counter()
        for _ in range(connections if kind == "push-1k" else 1):
            ws = Connection(HOST, port, f"{WEBSOCKET_PUSH}?n={n}")
            for message in ws:
                if message == (TEXT, expected):
                    received += 1
            codes.append(ws.close_code)
        seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    wrong = [code for code in codes if code != 1000]
    return {
        "seconds": seconds,
        "received": received,
        "code": wrong[0] if wrong else 1000,
        "client_cpu_seconds": cpu,
    }


def _client_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.websocket_load --client")
    parser.add_argument("kind", choices=SERVED_KINDS)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("-n", type=int, required=True, help="messages per connection")
    parser.add_argument("--connections", type=int, default=1, help="push-1k: in sequence")
    args = parser.parse_args(argv)
    print(json.dumps(_client(args.port, args.kind, args.n, args.connections)))


# --- over a server: the server side ----------------------------------------------------


def run_client(server: Server, kind: str, n: int, connections: int = 1) -> dict[str, Any]:
    """One client run against ``server``: messages/s and CPU per message, or the problem."""
    client = [sys.executable, "-m", "bench.websocket_load", "--client", kind, "-n", str(n)]
    client += ["--port", str(server.port), "--connections", str(connections)]
    before = server.thread_cpu()
    done = subprocess.run(
        pinned(CLIENT_CORE, client), cwd=ROOT, capture_output=True, text=True, timeout=360
    )
    used = cpu_used(before, server.thread_cpu())
    if done.returncode != 0:
        return {"problem": f"client failed: {done.stderr.strip()[-500:]}"}
    result: dict[str, Any] = json.loads(done.stdout)
    total = n * (connections if kind == "push-1k" else 1)
    if result["received"] != total or result["code"] != 1000:
        got, code = result["received"], result["code"]
        result["problem"] = f"{got} of {total} messages, close code {code}"
    result["messages_per_second"] = total / result["seconds"]
    # The server's CPU for the whole run (handshakes included), per message.
    result["server_cpu_us_per_message"] = used / total * 1e6
    result["client_cpu_us_per_message"] = result["client_cpu_seconds"] / total * 1e6
    result["server_cpu_share"] = used / result["seconds"]
    return result


def _sizes(settings: Settings, kind: str) -> tuple[int, int]:
    """(messages per connection, connections) of one client run of ``kind`` over a server."""
    if kind == "echo":
        return settings.http_echo_messages, 1
    if kind == "push":
        return settings.http_push_messages, 1
    return PUSH_1K, settings.http_push_connections


def measure_served(names: list[str], settings: Settings, server: str) -> dict[str, Any]:
    """Messages/s and server CPU per message over a real ``server``: medians of rounds.

    Each round runs every app once per kind, in a rotating order; an app's
    figures are the median over its rounds with the lowest and highest round
    (``http_load.median_spread``), judged as ``report_http`` judges HTTP.
    """
    rows: dict[str, dict[str, dict[str, Any]]] = {}
    problems: dict[str, list[str]] = {name: [] for name in names}
    with ExitStack() as stack:
        servers = {name: stack.enter_context(serve(name, server=server)) for name in names}
        for kind in SERVED_KINDS:
            n, connections = _sizes(settings, kind)
            for name, served in servers.items():  # warm-up, and the check over the wire
                warm = run_client(served, kind, min(n, 100))
                if "problem" in warm:
                    problems[name].append(f"{kind} over {server}: {warm['problem']}")
            good = [name for name in names if not problems[name]]
            runs: dict[str, list[dict[str, Any]]] = {name: [] for name in good}
            for number in range(settings.http_rounds):
                shift = number % max(len(good), 1)
                for name in good[shift:] + good[:shift]:
                    result = run_client(servers[name], kind, n, connections)
                    if "problem" in result:
                        problems[name].append(f"{kind} over {server}: {result['problem']}")
                        continue
                    runs[name].append(result)
            rows[kind] = {
                name: {**median_spread(found, SERVED_MEASURES), "rounds": len(found)}
                for name, found in runs.items()
                if found
            }
            for key in SERVED_MEASURES:
                print(f"  {server} " + _spread_row(kind, rows[kind], key))
    return {
        "problems": problems,
        "statistic": "median",
        "rows": rows,
        # The medians alone, by kind and app (what older results held, as best rounds).
        **{
            key: {kind: {name: f[key] for name, f in row.items()} for kind, row in rows.items()}
            for key in SERVED_MEASURES
        },
    }


def _spread_row(kind: str, row: dict[str, dict[str, Any]], key: str) -> str:
    raw = row.get("raw", {}).get(key)
    cells = []
    for name, figures in row.items():
        value, low, high = figures[key], figures[f"{key}_min"], figures[f"{key}_max"]
        ratio = f" ({value / raw:.2f}x)" if raw and name != "raw" else ""
        cells.append(f"{name} {value:,.2f}{ratio} [{low:,.2f}-{high:,.2f}]")
    return f"{kind:<7} {key}: " + ", ".join(cells)


def _row(kind: str, row: dict[str, float], unit: str, lower: bool) -> str:
    raw = row.get("raw")
    cells = []
    for name, value in row.items():
        ratio = f" ({value / raw:.2f}x)" if raw and name != "raw" else ""
        cells.append(f"{name} {value:,.2f}{ratio}" if lower else f"{name} {value:,.0f}{ratio}")
    return f"{kind:<5} {unit}: " + ", ".join(cells)


def run(
    names: list[str], quick: bool, server: str | None = "uvicorn", inprocess: bool = True
) -> dict[str, Any]:
    """The in-process figures (unless not ``inprocess``) and those over ``server`` (if any)."""
    settings = Settings.quick() if quick else Settings()
    figures: dict[str, Any] = {"settings": settings.__dict__}
    if inprocess:
        figures["inprocess"] = asyncio.run(measure_inprocess(names, settings))
    if server is not None:
        figures[server] = measure_served(names, settings, server)
    return figures


if __name__ == "__main__":
    if sys.argv[1:2] == ["--client"]:
        _client_main(sys.argv[2:])
    else:
        raise SystemExit("run the WebSocket benchmark with: python -m bench websocket")
