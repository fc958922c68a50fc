"""The two sides of tests/browser/test_cors_browser.py: a page's origin and a CORS API.

``page`` serves an empty page: its origin is where the test's script runs.
``api`` allows the origin named by ``CORS_ALLOWED_ORIGIN``, with credentials:
``POST /login`` sets a session cookie, ``GET /me`` reads it back.
"""

from __future__ import annotations

import os
from typing import Any

from microweb import App, HTMLResponse, Request
from microweb.middleware import CORSMiddleware, Middleware, SessionMiddleware

page = App()


@page.get("/", response_class=HTMLResponse)
def blank() -> str:
    return "<!doctype html><title>page</title>"


api = App(
    middleware=[
        Middleware(
            CORSMiddleware,
            allow_origins=[os.environ.get("CORS_ALLOWED_ORIGIN", "")],
            allow_methods=["GET", "POST"],
            allow_headers=["x-token"],
            allow_credentials=True,
        ),
        Middleware(SessionMiddleware, secret_key="browser test"),
    ]
)


@api.post("/login")
def login(request: Request) -> dict[str, Any]:
    request.session["user"] = request.headers.get("x-token", "nobody")
    return {"ok": True}


@api.get("/me")
def me(request: Request) -> dict[str, Any]:
    return dict(request.session)
