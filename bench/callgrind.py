"""Instructions per request under ``valgrind --tool=callgrind``: a figure that does not wobble.

Run: python -m bench callgrind [--app microweb] [--endpoint /plaintext] [-n 1000]
     python -m bench callgrind --app raw --app microweb --endpoint "WS echo" --endpoint "WS push"

Time on a shared 2-core machine moves by 10 % from run to run; the count of
instructions executed moves by well under 1 %, so this is the figure to use
to decide between two versions of the hot path.

How: one valgrind process per app runs a worker (``--worker``) that builds
the app with its 1,000 extra routes, runs its startup, checks the answer,
warms up, then for each endpoint makes N requests and then 2N requests.
Before each block it calls ``os.getppid()``, and valgrind runs with
``--dump-before=getppid``: every call writes the counts so far and starts
afresh. The cost of one request is (the 2N block - the N block) / N, which
cancels the start-up, the warm-up and the fixed cost of a block. The hash
seed is fixed and the objects built at start-up are frozen out of the garbage
collector (``gc.freeze()``), so repeated runs give the same counts.

The WebSocket endpoints ``WS echo`` and ``WS push`` (``bench.websocket_load``)
count instructions per message: the N block is one connection of N echo
round trips (or N pushed texts), the 2N block one of 2N, so the difference
cancels the handshake and the close too.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench import apps as registry
from bench.check import endpoint, verify_endpoint
from bench.driver import lifespan
from bench.inprocess import Started, batch
from bench.websocket_load import WEBSOCKET_KINDS, session, verify_kind

DEFAULT_APPS = ["raw", "microweb"]
DEFAULT_ENDPOINTS = ["/plaintext", "/json", "/r999/items/5"]
MARKER = "getppid"
AUTO_MAX, AUTO_MIN, AUTO_SECONDS = 1000, 50, 2.0
_TOTALS = re.compile(rb"^(?:totals|summary):\s*(\d+)", re.MULTILINE)


def run_valgrind(app: str, targets: list[str], n: int, warmup: int) -> dict[str, float]:
    """Instructions per request of ``app`` for each of ``targets``, from one valgrind run."""
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed: apt-get install valgrind")
    with tempfile.TemporaryDirectory(prefix="microweb-callgrind-") as tmp:
        out = Path(tmp) / "callgrind.out"
        command = [
            "valgrind",
            "--tool=callgrind",
            f"--dump-before={MARKER}",
            f"--callgrind-out-file={out}",
            sys.executable,
            "-m",
            "bench.callgrind",
            "--worker",
            "--app",
            app,
            "-n",
            str(n),
            "--warmup",
            str(warmup),
            *[arg for target in targets for arg in ("--endpoint", target)],
        ]
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            raise RuntimeError(
                f"callgrind run of {app} failed ({done.returncode}):\n{done.stdout}\n"
                f"{done.stderr[-3000:]}"
            )
        parts = _dumped_parts(out)
    # The worker prints the N it used for each endpoint, in order.
    counts = [int(line.split()[1]) for line in done.stdout.splitlines() if line.startswith("N ")]
    # Per endpoint: [start-up and warm-up] [N requests] [2N requests].
    if len(parts) < 3 * len(targets) or len(counts) != len(targets):
        raise RuntimeError(f"expected {3 * len(targets)} callgrind dumps, found {len(parts)}")
    figures = {}
    for i, target in enumerate(targets):
        single, double = parts[3 * i + 1], parts[3 * i + 2]
        figures[target] = (double - single) / counts[i]
    return figures


def _dumped_parts(out: Path) -> list[int]:
    """The instruction totals of the dumps ``out.1``, ``out.2``, ... in order."""
    dumps = sorted(out.parent.glob(out.name + ".*"), key=lambda p: int(p.name.rsplit(".", 1)[1]))
    totals = []
    for dump in dumps:
        found = _TOTALS.search(dump.read_bytes())
        if found is None:
            raise RuntimeError(f"no totals in {dump}")
        totals.append(int(found.group(1)))
    return totals


def measure(apps: list[str], targets: list[str], n: int, warmup: int) -> dict[str, Any]:
    """Instructions per request for each app and endpoint."""
    table: dict[str, dict[str, float]] = {target: {} for target in targets}
    apps = [app for app in apps if registry.installed(app)]
    # One valgrind process per app, as many at once as there are cores: the
    # counts do not depend on what else runs.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        runs = {app: pool.submit(run_valgrind, app, targets, n, warmup) for app in apps}
        for app, future in runs.items():
            for target, value in future.result().items():
                table[target][app] = value
    for target, row in table.items():
        raw = row.get("raw")
        cells = []
        for app, value in row.items():
            ratio = f" ({value / raw:.2f}x raw)" if raw and app != "raw" else ""
            cells.append(f"{app} {value:,.0f}{ratio}")
        print(f"  {target:<16} " + ", ".join(cells))
    return {"requests": n, "warmup": warmup, "instructions_per_request": table}


# --- the worker, run under valgrind -----------------------------------------------


async def _work(app_name: str, targets: list[str], n: int, warmup: int) -> None:
    app = registry.create(app_name)
    async with lifespan(app) as state:
        run = Started(app_name, app, state)
        blocks: list[Callable[[int], Awaitable[float]]] = []
        for target in targets:
            if target in WEBSOCKET_KINDS:
                problems = await verify_kind(app_name, app, state, WEBSOCKET_KINDS[target])
                blocks.append(functools.partial(session, app, state, WEBSOCKET_KINDS[target]))
            else:
                chosen = endpoint(target)
                problems = await verify_endpoint(app_name, app, chosen, state)
                blocks.append(functools.partial(batch, run, chosen))
            if problems:
                raise SystemExit("wrong answer, no figures: " + "; ".join(problems))
        gc.collect()
        gc.freeze()  # the app's objects stay out of the collections we count
        for block in blocks:
            await block(warmup)
            # Always timed, so that -n 1000 and the automatic 1000 count the same.
            seconds = await block(10) / 10
            count = n if n > 0 else max(AUTO_MIN, min(AUTO_MAX, int(AUTO_SECONDS / seconds)))
            print("N", count, flush=True)
            os.getppid()  # dump: start-up and warm-up
            await block(count)
            os.getppid()  # dump: N requests (or messages)
            await block(2 * count)
            os.getppid()  # dump: 2N requests (or messages)


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    parser = argparse.ArgumentParser(prog="python -m bench callgrind", description=__doc__)
    add_arguments(parser)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    return from_arguments(args)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--app", action="append", choices=list(registry.APPS), help="repeatable; raw, microweb"
    )
    parser.add_argument(
        "--endpoint",
        action="append",
        help="repeatable; default /plaintext /json /r999/items/5; "
        '"WS echo" and "WS push" count per WebSocket message',
    )
    parser.add_argument(
        "-n",
        type=int,
        default=0,
        help=f"N of the N and 2N blocks (default: {AUTO_MAX}, fewer for an app so slow "
        f"that {AUTO_MAX} would take over {AUTO_SECONDS:g} s under valgrind; at least {AUTO_MIN})",
    )
    parser.add_argument("--warmup", type=int, default=200, help="requests before counting (200)")


def from_arguments(args: argparse.Namespace) -> dict[str, Any] | None:
    apps = args.app or DEFAULT_APPS
    targets = [
        name if name in WEBSOCKET_KINDS else endpoint(name).name
        for name in args.endpoint or DEFAULT_ENDPOINTS
    ]
    if getattr(args, "worker", False):
        asyncio.run(_work(apps[0], targets, args.n, args.warmup))
        return None
    return measure(apps, targets, args.n, args.warmup)


if __name__ == "__main__":
    main()
