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
Rust), and the ``websockets`` client runs in a process pinned to core 1
(``python -m bench.websocket_load --client``), compression off on both ends
(granian offers none) so the figure is not zlib's. Each round runs
every app once, in a rotating order; an app's figures are its best round in
messages per second (the machine is shared: other work only slows a round
down) and the server's CPU time per message (from ``/proc``, thread by
thread in ns: ``servers.thread_cpu``), the median over rounds, with the
spread (lowest and highest round) beside it: other work on the machine does
not inflate it, and a difference of a few per cent between two apps is
measured, not rounded to 10 ms ticks.
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
from bench.inprocess import Started, started
from bench.servers import CLIENT_CORE, HOST, ROOT, Server, cpu_used, pinned, serve

KINDS = ("echo", "push")
#: ``python -m bench callgrind --endpoint "WS echo"``: instructions per message.
WEBSOCKET_KINDS = {"WS echo": "echo", "WS push": "push"}


@dataclass
class Settings:
    echo_messages: int = 2_000
    push_messages: int = 10_000
    rounds: int = 7  # in-process
    http_rounds: int = 5  # over a server
    http_echo_messages: int = 4_000
    http_push_messages: int = 40_000

    @classmethod
    def quick(cls) -> Settings:
        return cls(50, 200, 2, 1, 50, 200)


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


async def _client(port: int, kind: str, n: int) -> dict[str, Any]:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosedOK

    base = f"ws://{HOST}:{port}"
    received = 0
    if kind == "echo":
        async with connect(base + WEBSOCKET_ECHO, compression=None, max_queue=None) as ws:
            start = time.perf_counter()
            for _ in range(n):
                await ws.send(PUSH_MESSAGE)
                if await ws.recv() == PUSH_MESSAGE:
                    received += 1
            seconds = time.perf_counter() - start
        code = 1000
    else:
        start = time.perf_counter()
        async with connect(
            f"{base}{WEBSOCKET_PUSH}?n={n}", compression=None, max_queue=None
        ) as ws:
            try:
                while True:
                    if await ws.recv() == PUSH_MESSAGE:
                        received += 1
            except ConnectionClosedOK as closed:
                code = closed.rcvd.code if closed.rcvd is not None else 1005
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "received": received, "code": code}


def _client_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.websocket_load --client")
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("-n", type=int, required=True)
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(asyncio.wait_for(_client(args.port, args.kind, args.n), 300))))


# --- over a server: the server side ----------------------------------------------------


def run_client(server: Server, kind: str, n: int) -> dict[str, Any]:
    """One client run against ``server``: messages/s, or the problem."""
    client = [sys.executable, "-m", "bench.websocket_load", "--client", kind]
    command = pinned(CLIENT_CORE, [*client, "--port", str(server.port), "-n", str(n)])
    before = server.thread_cpu()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=360)
    used = cpu_used(before, server.thread_cpu())
    if done.returncode != 0:
        return {"problem": f"client failed: {done.stderr.strip()[-500:]}"}
    result: dict[str, Any] = json.loads(done.stdout)
    if result["received"] != n or result["code"] != 1000:
        result["problem"] = f"{result['received']} of {n} messages, close code {result['code']}"
    result["messages_per_second"] = n / result["seconds"]
    # The server's CPU for the whole connection (handshake included), per message.
    result["server_cpu_us_per_message"] = used / n * 1e6
    return result


def measure_served(names: list[str], settings: Settings, server: str) -> dict[str, Any]:
    """Messages per second over a real ``server``, echo and push, best of interleaved rounds."""
    table: dict[str, dict[str, float]] = {}
    cpu: dict[str, dict[str, float]] = {}
    spread: dict[str, dict[str, list[float]]] = {}
    problems: dict[str, list[str]] = {name: [] for name in names}
    with ExitStack() as stack:
        servers = {name: stack.enter_context(serve(name, server=server)) for name in names}
        for kind in KINDS:
            n = settings.http_echo_messages if kind == "echo" else settings.http_push_messages
            best: dict[str, float] = {}
            cpu_samples: dict[str, list[float]] = {name: [] for name in names}
            for name, served in servers.items():  # warm-up, and the check over the wire
                warm = run_client(served, kind, min(n, 100))
                if "problem" in warm:
                    problems[name].append(f"{kind} over {server}: {warm['problem']}")
            good = [name for name in names if not problems[name]]
            for number in range(settings.http_rounds):
                shift = number % max(len(good), 1)
                for name in good[shift:] + good[:shift]:
                    result = run_client(servers[name], kind, n)
                    if "problem" in result:
                        problems[name].append(f"{kind} over {server}: {result['problem']}")
                        continue
                    best[name] = max(best.get(name, 0.0), result["messages_per_second"])
                    cpu_samples[name].append(result["server_cpu_us_per_message"])
            table[kind] = best
            cpu[kind] = {name: statistics.median(v) for name, v in cpu_samples.items() if v}
            spread[kind] = {name: [min(v), max(v)] for name, v in cpu_samples.items() if v}
            print(f"  {server} " + _row(kind, best, "messages/s", lower=False))
            print(f"  {server} " + _row(kind, cpu[kind], "server CPU µs/message", lower=True))
            low_high = (
                f"{name} {low:,.2f}-{high:,.2f}" for name, (low, high) in spread[kind].items()
            )
            print(
                f"  {server} {kind:<5} server CPU spread (lowest-highest round): "
                + ", ".join(low_high)
            )
    return {
        "problems": problems,
        "messages_per_second": table,
        "server_cpu_us_per_message": cpu,
        "server_cpu_spread": spread,
    }


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
