"""Server-Sent Events: a countdown a browser's EventSource can follow.

Serve it with ``uvicorn examples.sse:app`` and open http://127.0.0.1:8000/
in a browser; docs/tutorial/sse.md shows what to try with curl.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio

from microweb import App, Request
from microweb.responses import EventSourceResponse, HTMLResponse, ServerSentEvent

app = App()

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>countdown</title></head>
<body>
<ol id="log"></ol>
<script>
  const source = new EventSource("/countdown");
  const log = (text) => {
    const item = document.createElement("li");
    item.textContent = text;
    document.getElementById("log").append(item);
  };
  source.addEventListener("tick", (event) => log(event.data));
  source.addEventListener("done", (event) => {
    log(JSON.parse(event.data).message);
    source.close();  // otherwise EventSource reconnects when the stream ends
  });
</script>
</body>
</html>
"""


@app.get("/", response_class=HTMLResponse)
async def index() -> str:
    return PAGE


@app.get("/countdown", response_class=EventSourceResponse)
async def countdown(
    request: Request, start: int = 3, delay: float = 1.0
) -> AsyncIterator[ServerSentEvent]:
    # A browser that reconnects sends the last id it saw: go on from there.
    last = request.headers.get("last-event-id", "")
    if last.isdigit():
        start = int(last) - 1

    async def events() -> AsyncIterator[ServerSentEvent]:
        for n in range(start, 0, -1):
            yield ServerSentEvent(n, event="tick", id=str(n))
            await anyio.sleep(delay)
        yield ServerSentEvent({"message": "liftoff"}, event="done")

    return events()
