"""Memory per idle connection: 1,000 idle WebSockets, 1,000 idle SSE clients.

For each app and each kind, a fresh server (``servers.serve``: uvicorn or
granian, one worker, pinned to core 0, 127.0.0.1 only) is warmed up (a few
connections of the kind opened and closed, so what is built lazily is
built), its VmRSS read as the baseline (granian's: its worker's); then a
client process pinned to core 1 opens the connections, in batches of 100,
and holds them:

- ``ws``: ``/ws/echo``, one round trip each (the handler is then waiting in
  ``receive``), compression off (permessage-deflate keeps a zlib state per
  connection in the server's WebSocket layer, the same whatever the app);
- ``sse``: ``GET /sse/idle``, read up to its first event (the handler is then
  waiting for the client to leave).

With every connection open and idle, the server's VmRSS is read again
(the highest of a few samples over half a second); the figure is the
growth over the baseline divided by the connections. Then the client
closes them all and exits. Every step has a timeout; the fd limit is
raised (soft up to hard) when the count needs it.

The client side runs as ``python -m bench.idle --client ws|sse``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import threading
import time
from typing import Any

from bench.endpoints import PUSH_MESSAGE, SSE_IDLE, WEBSOCKET_ECHO
from bench.servers import CLIENT_CORE, HOST, ROOT, Server, pinned, serve

KINDS = ("ws", "sse")
BATCH = 100


# --- the client side ---------------------------------------------------------------


async def _open_ws(port: int) -> Any:
    from websockets.asyncio.client import connect

    ws = await connect(f"ws://{HOST}:{port}{WEBSOCKET_ECHO}", compression=None)
    await ws.send(PUSH_MESSAGE)
    if await ws.recv() != PUSH_MESSAGE:
        raise RuntimeError("the echo did not come back")
    return ws


async def _open_sse(port: int) -> Any:
    reader, writer = await asyncio.open_connection(HOST, port)
    writer.write(f"GET {SSE_IDLE} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"GET {SSE_IDLE}: {head[:40]!r}")
    # The first event (a chunk size line before it, if chunked); lines may end in CR LF.
    seen = b""
    while b"\n\n" not in seen and b"\r\n\r\n" not in seen:
        piece = await reader.read(4096)
        if not piece:
            raise ConnectionError(f"GET {SSE_IDLE}: closed before the first event")
        seen += piece
    return writer


async def _hold(port: int, kind: str, count: int) -> None:
    opener = _open_ws if kind == "ws" else _open_sse
    held: list[Any] = []
    try:
        for start in range(0, count, BATCH):
            batch = min(BATCH, count - start)
            held += await asyncio.wait_for(
                asyncio.gather(*(opener(port) for _ in range(batch))), 60
            )
        print(json.dumps({"open": len(held)}), flush=True)
        # Hold them until the harness has read the server's memory (a line on stdin).
        await asyncio.wait_for(asyncio.to_thread(sys.stdin.readline), 120)
    finally:
        if kind == "ws":  # the closing handshakes at once, not one after another
            await asyncio.wait_for(asyncio.gather(*(ws.close() for ws in held)), 60)
        else:
            for writer in held:
                writer.close()


def _client_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.idle --client")
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    args = parser.parse_args(argv)
    asyncio.run(_hold(args.port, args.kind, args.count))


# --- the server side ---------------------------------------------------------------


def raise_fd_limit(needed: int) -> None:
    """Raise this process's soft fd limit (children inherit it) to ``needed`` if allowed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        wanted = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        if wanted < needed:
            raise SystemExit(f"the fd limit is {hard}, {needed} are needed: lower the count")


def hold(server: Server, kind: str, count: int) -> tuple[int | None, str]:
    """Open ``count`` idle connections; the server's VmRSS with them open (or None, why)."""
    command = pinned(
        CLIENT_CORE,
        [sys.executable, "-m", "bench.idle", "--client", kind, "--port", str(server.port)],
    )
    client = subprocess.Popen(
        [*command, "--count", str(count)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    stdin, stdout = client.stdin, client.stdout
    if stdin is None or stdout is None:
        raise RuntimeError("the client's pipes were not made")
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(120)
    try:
        if not lines or not lines[0].strip():
            return None, f"{kind}: the client opened nothing: {_stderr(client)}"
        time.sleep(0.5)  # let the server settle, then take the highest of a few samples
        rss = 0
        for _ in range(5):
            rss = max(rss, server.rss_kib())
            time.sleep(0.1)
        return rss, ""
    finally:
        if not stdin.closed:
            try:
                stdin.write("close\n")
                stdin.flush()
            except OSError:  # the client is gone already
                pass
        try:
            client.wait(60)
        except subprocess.TimeoutExpired:
            client.kill()
            client.wait()


def _stderr(client: subprocess.Popen[str]) -> str:
    client.kill()
    _, err = client.communicate(timeout=10)
    return err.strip()[-500:]


def idle_test(app: str, kind: str, count: int, server: str = "uvicorn") -> dict[str, Any]:
    with serve(app, server=server) as served:
        warm, problem = hold(served, kind, 20)
        time.sleep(0.5)
        baseline = served.rss_kib()
        rss, problem = hold(served, kind, count) if warm is not None else (None, problem)
    if rss is None:
        return {"problems": [f"{app} idle {problem}"]}
    return {
        "baseline_rss_mib": baseline / 1024,
        "rss_mib": rss / 1024,
        "growth_mib": (rss - baseline) / 1024,
        "kib_per_connection": (rss - baseline) / count,
        "problems": [],
    }


def run(names: list[str], quick: bool, server: str = "uvicorn") -> dict[str, Any]:
    count = 100 if quick else 1000
    raise_fd_limit(count + 256)
    table: dict[str, dict[str, Any]] = {kind: {} for kind in KINDS}
    for name in names:
        cells = []
        for kind in KINDS:
            figures = idle_test(name, kind, count, server)
            table[kind][name] = figures
            for problem in figures["problems"]:
                print(f"    {problem}")
            if not figures["problems"]:
                cells.append(f"{kind} {figures['kib_per_connection']:.1f} KiB/connection")
        print(f"  {name:<11} {count} idle over {server}: " + ", ".join(cells))
    return {"server": server, "connections": count, **table}


if __name__ == "__main__":
    if sys.argv[1:2] == ["--client"]:
        _client_main(sys.argv[2:])
    else:
        raise SystemExit("run the idle-connection benchmark with: python -m bench idle")
