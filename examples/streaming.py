"""Streaming: a file download, a generated stream and a Server-Sent Events clock.

Serve it with ``uvicorn examples.streaming:app --timeout-graceful-shutdown 5``
(the flag lets Ctrl+C end the open clock streams, see docs/streaming.md) and
open http://127.0.0.1:8000/ in a browser, or try:

    curl -N http://127.0.0.1:8000/numbers?count=5
    curl -N http://127.0.0.1:8000/clock?count=3
    curl -O -J http://127.0.0.1:8000/download
    curl -r 0-99 http://127.0.0.1:8000/download

- ``/``          an HTML page whose ``EventSource`` listens to ``/clock`` and
                 lists each tick (query parameters are passed on to ``/clock``)
- ``/clock``     one ``tick`` event every ``interval`` seconds (``count`` of
                 them, endless by default), each with an ``id``: a browser
                 that reconnects sends ``Last-Event-ID`` and the count resumes
- ``/numbers``   a text stream made line by line by a plain generator
- ``/download``  this very file as an attachment (ranges, so resuming works)
"""

from __future__ import annotations

import datetime
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio

from microweb import App, Request
from microweb.responses import (
    EventSourceResponse,
    FileResponse,
    HTMLResponse,
    ServerSentEvent,
    StreamingResponse,
)

app = App()

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>microweb clock</title></head>
<body>
<h1>Server-Sent Events clock</h1>
<p id="status">connecting…</p>
<ol id="events"></ol>
<script>
  const limit = Number(new URLSearchParams(location.search).get("count") || 0);
  const source = new EventSource("/clock" + location.search);
  let received = 0;
  source.onopen = () => { document.getElementById("status").textContent = "open"; };
  source.addEventListener("tick", (event) => {
    const item = document.createElement("li");
    item.textContent = event.lastEventId + " " + event.data;
    document.getElementById("events").append(item);
    received += 1;
    if (limit && received >= limit) {
      source.close();  // otherwise EventSource reconnects when the stream ends
      document.getElementById("status").textContent = "done";
    }
  });
</script>
</body>
</html>
"""


@app.get("/", response_class=HTMLResponse)
async def index() -> str:
    return PAGE


async def ticks(start: int, interval: float, count: int) -> AsyncIterator[ServerSentEvent]:
    number = start
    while True:
        now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        yield ServerSentEvent({"n": number, "time": now}, event="tick", id=str(number))
        number += 1
        if count and number >= start + count:
            return
        await anyio.sleep(interval)


@app.get("/clock", response_class=EventSourceResponse)
async def clock(
    request: Request, interval: float = 1.0, count: int = 0
) -> AsyncIterator[ServerSentEvent]:
    # A reconnecting EventSource sends the last id it saw: go on from there.
    last = request.headers.get("last-event-id", "")
    start = int(last) + 1 if last.isdigit() else 0
    return ticks(start, max(interval, 0.01), count)


@app.get("/numbers", response_class=StreamingResponse)
def numbers(count: int = 10, delay: float = 0.0) -> Iterator[str]:
    # A plain generator: StreamingResponse drains it in a worker thread, so
    # time.sleep here never blocks the server.
    def lines() -> Iterator[str]:
        for number in range(count):
            if delay:
                time.sleep(delay)
            yield f"{number}\n"

    return lines()


# Built once, it answers every request (ranges and conditional ones included).
download = FileResponse(Path(__file__), filename="streaming.py", media_type="text/x-python")


@app.get("/download")
async def get_download() -> FileResponse:
    return download
