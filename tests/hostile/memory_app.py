"""An upload route under a small in-memory budget, for tests/hostile/test_memory.py."""

from __future__ import annotations

import anyio

from microweb import App, Request

BUDGET = 2 * 1024 * 1024
app = App(request_memory_budget=BUDGET)


@app.post("/upload")
async def upload(request: Request) -> int:
    form = await request.form(max_files=1000)
    # Keep the form (and whatever it holds in memory) alive a moment, so the
    # hostile uploads of the test overlap in the server.
    await anyio.sleep(1.0)
    return len(form)


@app.get("/probe")
async def probe() -> str:
    return "ok"
