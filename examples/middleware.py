"""Middleware a deployed app needs: trusted hosts, CORS, compression, sessions.

Serve it with ``uvicorn examples.middleware:app``; docs/tutorial/middleware.md
shows what to try. Set SESSION_SECRET to a long random string in production.
"""

from __future__ import annotations

import os
from typing import Any

from microweb import App, Request
from microweb.middleware import (
    CORSMiddleware,
    GZipMiddleware,
    Middleware,
    SessionMiddleware,
    TrustedHostMiddleware,
)

app = App(
    middleware=[
        # The first in the list sees the request first.
        Middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost", "testserver"]),
        Middleware(
            CORSMiddleware,
            allow_origins=["https://app.example.com"],
            allow_methods=["GET", "POST"],
            allow_credentials=True,
        ),
        Middleware(GZipMiddleware, minimum_size=500),
        Middleware(SessionMiddleware, secret_key=os.environ.get("SESSION_SECRET", "change-me")),
    ]
)


@app.get("/")
async def home() -> dict[str, str]:
    return {"hello": "world"}


@app.get("/report")
async def report() -> dict[str, list[int]]:
    # Big enough (over minimum_size) to be compressed for a client that asks.
    return {"numbers": list(range(400))}


@app.post("/login")
async def login(request: Request, user: str) -> dict[str, Any]:
    request.session["user"] = user
    return {"logged_in": user}


@app.get("/me")
async def me(request: Request) -> dict[str, Any]:
    return {"user": request.session.get("user")}
