"""Choosing a response class per route, per router and app-wide.

Serve it with ``uvicorn examples.response_classes:app``;
docs/tutorial/response-classes.md shows what to try.
"""

from __future__ import annotations

from microweb import App, Router
from microweb.responses import (
    HTMLResponse,
    ORJSONResponse,
    PlainTextResponse,
    RedirectResponse,
)

# A router's default class applies to its routes.
pages = Router(default_response_class=HTMLResponse)


@pages.get("/")
async def home() -> str:
    return "<h1>Home</h1>"  # HTML: the router's default


@pages.get("/robots.txt", response_class=PlainTextResponse)
async def robots() -> str:
    return "User-agent: *\nDisallow:\n"  # plain text: the route's own class


@pages.get("/home", response_class=RedirectResponse)
async def old_home() -> str:
    return "/"  # a URL under RedirectResponse: 307 to it


# The app's default applies to every route that names no class.
app = App(default_response_class=ORJSONResponse)
app.include_router(pages)


@app.get("/api/status")
async def status() -> dict[int, str]:
    return {200: "ok"}  # ORJSONResponse accepts non-str keys
