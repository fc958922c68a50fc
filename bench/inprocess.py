"""In-process request cost: ``await app(scope, receive, send)`` in a loop.

Every app runs its lifespan startup first, then passes the correctness check
(an app that fails it gets no figures). Apps are timed in the same process,
interleaved: each round times every app once (in a rotating order), and an
app's figure is the median over rounds of the mean µs per request in that
round. The ratio to the raw ASGI app of the same run is what to compare: this
is a noisy 2-core machine.

Each round's request count is chosen per app and endpoint from a short
calibration so that one sample takes about ``sample_seconds``: a slow app
(Starlette scanning 10,000 routes) gets fewer requests, never an unbounded
run.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from bench import apps as registry
from bench.check import Endpoint, concrete, endpoints, supported, verify
from bench.driver import ASGIApp, Channel, lifespan
from bench.servers import wait_for_quiet


@dataclass
class Settings:
    rounds: int = 7
    sample_seconds: float = 0.1  # one app's share of one round
    min_requests: int = 5
    max_requests: int = 50_000
    quiet_wait: float = 30.0  # at most, for other work on the machine to end first
    cpu_time: bool = False  # time.process_time rather than time.perf_counter

    @classmethod
    def quick(cls) -> Settings:
        return cls(rounds=3, sample_seconds=0.01, min_requests=2, max_requests=2_000, quiet_wait=0)


@dataclass
class Started:
    """An app after its startup: the app and its lifespan state."""

    name: str
    app: ASGIApp
    state: dict[str, Any]
    problems: list[str] = field(default_factory=list)
    # Conditional endpoints as made to this app (its own ETag), by name.
    made: dict[str, Endpoint] = field(default_factory=dict)
    cpu_time: bool = False  # batch() times by the process's CPU time


@asynccontextmanager
async def started(
    names: list[str], extra_routes: int | None = None
) -> AsyncIterator[dict[str, Started]]:
    """Create and start each app; yield them by name; shut them down after."""
    async with AsyncExitStack() as stack:
        running: dict[str, Started] = {}
        for name in names:
            app = registry.create(name, extra_routes)
            state = await stack.enter_async_context(lifespan(app))
            running[name] = Started(name, app, state)
        yield running


async def batch(run: Started, target: Endpoint, number: int) -> float:
    """Seconds for ``number`` requests of ``target`` to ``run``'s app, one after another."""
    if target.etag_of is not None:
        if target.name not in run.made:
            run.made[target.name] = await concrete(run.app, target, run.state)
        target = run.made[target.name]
    template = target.request.scope(run.state)
    state = run.state
    app = run.app
    channel = Channel(target.request.body)
    receive, send, reset = channel.receive, channel.send, channel.reset
    clock = time.process_time if run.cpu_time else time.perf_counter
    start = clock()
    for _ in range(number):
        reset()
        # A server builds a new scope (and copies the lifespan state) per request.
        scope = dict(template)
        scope["state"] = dict(state)
        await app(scope, receive, send)
    elapsed = clock() - start
    if channel.completed != number:
        raise RuntimeError(
            f"{run.name} {target.name}: {channel.completed} of {number} responses completed"
        )
    return elapsed


async def calibrate(run: Started, target: Endpoint, settings: Settings) -> int:
    """How many requests make one sample of about ``settings.sample_seconds``."""
    number, elapsed = 1, await batch(run, target, 1)  # the first call may build caches
    while elapsed < settings.sample_seconds / 10 and number < settings.max_requests:
        number *= 4
        elapsed = await batch(run, target, number)
    per_request = elapsed / number
    wanted = int(settings.sample_seconds / max(per_request, 1e-9))
    return max(settings.min_requests, min(settings.max_requests, wanted))


async def time_endpoint(
    runs: list[Started], target: Endpoint, settings: Settings
) -> dict[str, float]:
    """Median µs per request of ``target`` for each run, interleaved over rounds."""
    if settings.quiet_wait:
        # The machine is shared: let other work end first (this thread waits).
        await asyncio.to_thread(wait_for_quiet, max_wait=settings.quiet_wait)
    runs = [run for run in runs if supported(run.name, target)]
    counts = {run.name: await calibrate(run, target, settings) for run in runs}
    samples: dict[str, list[float]] = {run.name: [] for run in runs}
    for round_number in range(settings.rounds):
        shift = round_number % len(runs)
        for run in runs[shift:] + runs[:shift]:
            number = counts[run.name]
            samples[run.name].append(await batch(run, target, number) / number * 1e6)
    return {name: statistics.median(values) for name, values in samples.items()}


async def check_all(running: dict[str, Started]) -> dict[str, list[str]]:
    """Run the correctness check on every app; returns the problems by app."""
    report = {}
    for name, run in running.items():
        run.problems = await verify(name, run.app, run.state)
        report[name] = run.problems
    return report


async def measure(
    names: list[str], settings: Settings, only: list[str] | None = None
) -> dict[str, Any]:
    """The in-process table: µs/request and ratio to raw, per endpoint and app."""
    async with started(names) as running:
        problems = await check_all(running)
        for name, found in problems.items():
            if found:
                print(f"  {name}: FAILED the correctness check, no figures:")
                for line in found:
                    print(f"    {line}")
        good = [run for run in running.values() if not run.problems]
        for run in good:
            run.cpu_time = settings.cpu_time
        table: dict[str, dict[str, float]] = {}
        for target in endpoints():
            if only and target.name not in only:
                continue
            table[target.name] = await time_endpoint(good, target, settings)
            print("  " + _row(target.name, table[target.name]))
    return {
        "apps": names,
        "problems": problems,
        "us_per_request": table,
        "settings": settings.__dict__,
    }


def _row(endpoint_name: str, medians: dict[str, float]) -> str:
    raw = medians.get("raw")
    cells = []
    for name, value in medians.items():
        ratio = f" ({value / raw:.1f}x)" if raw else ""
        cells.append(f"{name} {value:.2f}{ratio}")
    return f"{endpoint_name:<16} " + ", ".join(cells)


def run(
    names: list[str], quick: bool, only: list[str] | None = None, busy: bool = False
) -> dict[str, Any]:
    settings = Settings.quick() if quick else Settings()
    if busy:
        settings.cpu_time, settings.quiet_wait = True, 0
    return asyncio.run(measure(names, settings, only))
