"""An App with mounts, served by uvicorn behind ``--root-path`` in tests/server.

``STATIC_DIR`` names the folder the test filled.
"""

from __future__ import annotations

import os

from microweb import App, Request
from microweb.staticfiles import StaticFiles

sub = App()


@sub.get("/hello", name="hello")
def hello(request: Request) -> str:
    return str(request.url_for("hello"))


app = App()
app.mount("/static", StaticFiles(directory=os.environ["STATIC_DIR"], html=True), name="static")
app.mount("/sub", sub, name="sub")


@app.get("/items/{item_id:int}", name="item")
def item(item_id: int, request: Request) -> dict[str, str]:
    return {
        "url": str(request.url_for("item", item_id=item_id)),
        "css": str(request.url_for("static", path="/app.css")),
        "hello": str(request.url_for("sub:hello")),
    }
