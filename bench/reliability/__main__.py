"""python -m bench.reliability: the load and fault suite, with figures.

    python -m bench.reliability             every check, full scale (about 2 minutes)
    python -m bench.reliability --quick     the same checks, smaller (under 30 s)
    python -m bench.reliability sse kills   some checks only

Each check starts its own uvicorn serving bench.reliability.app:app on
127.0.0.1 (its TMPDIR a fresh folder, so temporary files can be counted),
and every loop is bounded in count and time. Prints a Markdown table and
writes it to bench/results/<date>/reliability.md; exits 1 if a check failed.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.reliability.suite import CHECKS, Row, Scale, serve

RESULTS = Path(__file__).resolve().parents[1] / "results"


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.reliability",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("checks", nargs="*", metavar="CHECK", help=", ".join(CHECKS))
    parser.add_argument("--quick", action="store_true", help="a smaller, faster run")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    unknown = [name for name in args.checks if name not in CHECKS]
    if unknown:
        parser.error(f"unknown check {unknown[0]!r}; expected one of {', '.join(CHECKS)}")
    return args


def table(rows: list[Row]) -> str:
    lines = ["| check | figure | result |", "| --- | --- | --- |"]
    lines += [f"| {r.check} | {r.figure} | {'ok' if r.ok else '**FAILED**'} |" for r in rows]
    return "\n".join(lines)


def raise_fd_limit(wanted: int) -> None:
    """A thousand SSE clients need a thousand sockets on each side."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    scale = Scale.quick() if args.quick else Scale()
    raise_fd_limit(scale.sse_clients * 2 + 1024)
    names = args.checks or list(CHECKS)
    rows: list[Row] = []
    begin = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="microweb-reliability-"))
    try:
        for name in names:
            print(f"running {name}...", file=sys.stderr, flush=True)
            with serve(workdir) as server:
                rows += CHECKS[name](server, scale)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.monotonic() - begin
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    mode = "quick" if args.quick else "full"
    report = (
        f"# Reliability figures ({today}, {mode} run, {elapsed:.0f} s)\n\n"
        f"Python {platform.python_version()} on {platform.system()} {platform.machine()}, "
        "uvicorn on 127.0.0.1, one worker; `python -m bench.reliability"
        f"{' --quick' if args.quick else ''}`.\n\n{table(rows)}\n"
    )
    print(report)
    if not args.no_write:
        folder = RESULTS / today
        folder.mkdir(parents=True, exist_ok=True)
        name = "reliability-quick.md" if args.quick else "reliability.md"
        (folder / name).write_text(report)
        print(f"written to {folder / name}", file=sys.stderr)
    return 0 if all(row.ok for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
