"""python -m bench: run the benchmarks and write bench/results/<date>/.

    python -m bench                     everything (about 30 minutes)
    python -m bench --quick             a smoke run of everything (well under a minute)
    python -m bench full                what issue 21's table needs, uvicorn and granian
                                        (25-30 minutes; --quick: about 4)
    python -m bench inprocess scale     some parts only (the others' results are kept)
    python -m bench callgrind --app microweb --endpoint /plaintext
    python -m bench http --app microweb --app starlette --endpoint /json
    python -m bench http websocket idle --server granian
    python -m bench report              rebuild results.md and the plot from results.json

A run narrowed with ``--app`` or ``--endpoint`` writes to the temp dir
unless ``--out`` says where, so it never overwrites part of a full run's
results.

Parts: inprocess, scale, callgrind, http, websocket, memory, idle (and report). ``--app`` and
``--endpoint`` (repeatable) narrow any part; without ``--app`` every installed
framework runs, except: ``python -m bench callgrind`` and the quick runs count
raw and microweb only, and the quick HTTP, websocket, memory and idle runs
serve raw, microweb and Starlette. Apps whose framework is not installed are
skipped with a note: ``pip install -r bench/requirements.txt`` for them all.

``--server uvicorn|granian`` (repeatable; uvicorn by default) says what serves
the http, websocket and idle parts; granian's figures are kept apart, as
``http-granian``, ``websocket-granian`` and ``idle-granian`` in results.json
(the in-process WebSocket figures go with the uvicorn run). ``full`` runs
inprocess, callgrind (raw and microweb, the endpoints whose work is the
framework's), http and websocket under both servers and idle under uvicorn,
every app, and says how long it took.
"""

from __future__ import annotations

import argparse
import datetime
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import apps as registry
from bench import callgrind, report
from bench.servers import SERVERS

PARTS = ["inprocess", "scale", "callgrind", "http", "websocket", "memory", "idle"]
SERVED = ("http", "websocket", "idle")  # the parts a server (--server) runs
# python -m bench full: what issue 21's table needs, under both servers (idle
# memory under uvicorn only: issue 21 compares it with Starlette's there).
FULL_PARTS = ["inprocess", "callgrind", "http", "websocket", "idle"]
FULL_SERVERS = {"idle": ["uvicorn"]}
# Its callgrind endpoints: every one whose work is the framework's. The files,
# /sse and /static/* spend their time in worker threads and the kernel, and
# take minutes each under valgrind.
FULL_CALLGRIND = ["/plaintext", "/json", "/items/5?q=", "/r999/items/5", "POST /echo"]
FULL_CALLGRIND += ["POST /items", "/stream"]
RESULTS = Path(__file__).resolve().parent / "results"


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "parts", nargs="*", metavar="PART", help=", ".join([*PARTS, "report", "full"])
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: few, short samples")
    parser.add_argument(
        "--out",
        type=Path,
        help="where results go (default bench/results/<date>/; "
        "with --quick, a folder in the temp dir)",
    )
    parser.add_argument(
        "--busy",
        action="store_true",
        help="a shared machine that is never quiet: in-process and WebSocket figures are "
        "CPU time, nothing waits for quiet, HTTP runs are not retried",
    )
    parser.add_argument(
        "--server",
        action="append",
        choices=SERVERS,
        help="what serves the http, websocket and idle parts (repeatable; default uvicorn)",
    )
    callgrind.add_arguments(parser)
    args = parser.parse_args(argv)
    unknown = [part for part in args.parts if part not in [*PARTS, "report", "full"]]
    if unknown:
        parser.error(
            f"unknown part {unknown[0]!r}; expected some of {', '.join(PARTS)}, report, or full"
        )
    args.full = "full" in args.parts
    if args.full:
        if args.parts != ["full"] or args.app or args.endpoint or args.server:
            parser.error("full runs alone, with every app, endpoint and server")
        args.parts, args.server = FULL_PARTS, list(SERVERS)
    args.server = list(dict.fromkeys(args.server or ["uvicorn"]))
    return args


def result_key(part: str, server: str) -> str:
    """Where ``part`` run under ``server`` goes in results.json: uvicorn's under the part."""
    return part if server == "uvicorn" or part not in SERVED else f"{part}-{server}"


def output_dir(args: argparse.Namespace) -> Path:
    if args.out is not None:
        return Path(args.out)
    if args.quick:
        return Path(tempfile.gettempdir()) / "microweb-bench-quick"
    if args.app or args.endpoint:
        # A narrowed run is a look at one thing: it never replaces a part of
        # the day's full results with a partial table.
        return Path(tempfile.gettempdir()) / "microweb-bench-narrowed"
    return RESULTS / datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")


def chosen_apps(args: argparse.Namespace, part: str) -> list[str]:
    if args.app:
        wanted = list(dict.fromkeys(args.app))
    elif part == "callgrind" and (args.quick or args.parts):
        wanted = list(callgrind.DEFAULT_APPS)
    elif args.quick and part in ("http", "websocket", "memory", "idle"):
        wanted = ["raw", "microweb", "starlette"]
    else:
        wanted = list(registry.APPS)
    missing = [name for name in wanted if not registry.installed(name)]
    if missing:
        print(f"  not installed, skipped: {', '.join(missing)}")
    return [name for name in wanted if name not in missing]


def run_part(part: str, args: argparse.Namespace, server: str) -> dict[str, Any] | None:
    from bench import http_load, idle, inprocess, memory, scale, websocket_load
    from bench.check import endpoint
    from bench.servers import installed

    if part in SERVED and not installed(server):
        print(f"  {server} is not installed (pip install -r bench/requirements.txt): skipped")
        return None
    names = chosen_apps(args, part)
    # "WS echo" and "WS push" name WebSocket figures (callgrind counts them per message).
    known = websocket_load.WEBSOCKET_KINDS
    only = [n if n in known else endpoint(n).name for n in args.endpoint or ()] or None
    if part == "inprocess":
        return inprocess.run(names, args.quick, only, args.busy)
    if part == "scale":
        return scale.run(names, args.quick)
    if part == "callgrind":
        if shutil.which("valgrind") is None:
            print("  valgrind is not installed (apt-get install valgrind): skipped")
            return None
        targets = only or (FULL_CALLGRIND if args.full else callgrind.DEFAULT_ENDPOINTS)
        if args.quick:
            targets = only or ["/plaintext"]
        n = args.n or (200 if args.quick else 0)
        return callgrind.measure(names, targets, n, args.warmup)
    if part == "http":
        if shutil.which("wrk") is None:
            print("  wrk is not installed (apt-get install wrk): skipped")
            return None
        if args.quick and only is None:
            only = ["/plaintext", "/json"]
        return http_load.run(names, args.quick, only, args.busy, server)
    if part == "websocket":
        return websocket_load.run(names, args.quick, server, inprocess=server == "uvicorn")
    if part == "memory":
        return memory.run(names, args.quick)
    if part == "idle":
        return idle.run(names, args.quick, server)
    raise ValueError(part)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    # A SIGTERM unwinds like an error, so the servers a part started are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parts = args.parts or PARTS
    out = output_dir(args)
    results = report.load(out)
    if results.get("meta", {}).get("quick", args.quick) != args.quick:
        results = {}  # never mix a quick run's figures with a full run's
    if parts != ["report"]:
        results["meta"] = {**report.meta(), "quick": args.quick, "busy": args.busy}
    began = time.monotonic()
    for part in parts:
        if part == "report":
            continue
        servers = args.server if part in SERVED else ["uvicorn"]
        if args.full:
            servers = FULL_SERVERS.get(part, servers)
        for server in servers:
            key = result_key(part, server)
            print(f"{key}:", flush=True)
            start = time.monotonic()
            figures = run_part(part, args, server)
            if figures is not None:
                figures["seconds"] = round(time.monotonic() - start, 1)
                # Parts can be rerun one by one: each says when and on what it ran.
                figures["ran"] = {k: results["meta"][k] for k in ("time", "microweb_commit")}
                results[key] = figures
                report.save(out, results)
    if parts != ["report"]:
        seconds = round(time.monotonic() - began)
        results["meta"].update(seconds=seconds, load_average_end=os.getloadavg())
        results["meta"]["full"] = args.full
        print(f"took {seconds // 60} min {seconds % 60} s")
    report.save(out, results)
    print(f"results: {out}/results.md, results.json, benchmarks.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
