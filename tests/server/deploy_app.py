"""The tutorial's example routes, served by every server in test_deploy.py.

``/`` and ``/items/...`` and ``/hello/...`` are examples/hello.py's router,
``/countdown`` is examples/sse.py's handler, ``/download`` examples/files.py's
file; ``/pid`` says which worker process answered.
"""

from __future__ import annotations

import os
import time

from examples.files import download
from examples.hello import router
from examples.sse import countdown
from microweb import App
from microweb.responses import EventSourceResponse

app = App()
app.include_router(router)
app.add_route("/countdown", countdown, response_class=EventSourceResponse)
app.add_route("/download", download)


@app.get("/pid")
async def pid(hold: float = 0.0) -> dict[str, int]:
    # Blocks this worker's event loop on purpose, so that requests sent at
    # the same time must be accepted by the other workers.
    time.sleep(hold)
    return {"pid": os.getpid()}
