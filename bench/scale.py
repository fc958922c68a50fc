"""Routing scale: the same route among 10, 1,000 and 10,000 registered routes, in-process.

``/r999/items/5`` is always the last of N parametrised routes
``/r{i}/items/{item_id}`` (see ``bench.endpoints.route_numbers``). For each N
every app is built with N routes, started, checked on that route, and timed
as in ``bench.inprocess`` (interleaved rounds, medians). A framework that
scans its routes one by one gets fewer requests per sample (the calibration
aims at a fixed time per sample), so the run stays bounded.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bench.check import endpoint, verify_endpoint
from bench.inprocess import Settings, started, time_endpoint

COUNTS = (10, 1_000, 10_000)
QUICK_COUNTS = (10, 1_000)
TARGET = "/r999/items/5"


async def measure(names: list[str], counts: tuple[int, ...], settings: Settings) -> dict[str, Any]:
    target = endpoint(TARGET)
    table: dict[str, dict[str, float]] = {}
    problems: dict[str, list[str]] = {name: [] for name in names}
    for count in counts:
        async with started(names, extra_routes=count) as running:
            good = []
            for name, run in running.items():
                found = await verify_endpoint(name, run.app, target, run.state)
                if found:
                    problems[name] += [f"with {count} routes: {line}" for line in found]
                elif not problems[name]:
                    good.append(run)
            table[str(count)] = await time_endpoint(good, target, settings)
        print(
            f"  {count:>6} routes  "
            + ", ".join(f"{k} {v:.2f}" for k, v in table[str(count)].items())
        )
    return {"endpoint": TARGET, "problems": problems, "us_per_request": table}


def run(names: list[str], quick: bool) -> dict[str, Any]:
    settings = Settings.quick() if quick else Settings(rounds=5)
    return asyncio.run(measure(names, QUICK_COUNTS if quick else COUNTS, settings))
