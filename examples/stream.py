"""Streaming: send a body piece by piece from a generator.

Serve it with ``uvicorn examples.stream:app``; docs/tutorial/streaming.md
shows what to try. examples/streaming.py puts streams, files and SSE in one
bigger app.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import anyio

from microweb import App
from microweb.responses import StreamingResponse

app = App()


@app.get("/count")
async def count(to: int = 3, delay: float = 0.5) -> StreamingResponse:
    # The iterator is the body: each chunk goes out as soon as it is yielded.
    async def numbers() -> AsyncIterator[str]:
        for number in range(1, to + 1):
            yield f"{number}\n"
            await anyio.sleep(delay)

    return StreamingResponse(numbers(), media_type="text/plain")


@app.get("/squares.csv")
def squares(rows: int = 3) -> StreamingResponse:
    # A plain generator works too: it runs in a worker thread, so it may
    # block (read a file, query a database) without stalling the server.
    def lines() -> Iterator[str]:
        yield "n,square\n"
        for n in range(rows):
            yield f"{n},{n * n}\n"

    return StreamingResponse(lines(), media_type="text/csv")
