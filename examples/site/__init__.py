"""A small site: Jinja2 pages, static CSS and JavaScript, an API and a single-page app.

Serve it with ``uvicorn examples.site:app`` (add ``--root-path /prefix``
behind a proxy that serves it under ``/prefix``)::

    /                the home page (templates/index.html): its CSS and script
                     come from /static, its links are built with url_for
    /about           a page made by coercion: the handler returns its context
    /static/...      static/ (StaticFiles; "no-cache": the browser revalidates
                     each file and gets a 304 while it has not changed)
    /api/items/{id}  a JSON API: another App, mounted
    /app/...         a single-page app: spa/index.html for any path without
                     an extension (its client-side router takes it from there)

Every link goes through url_for, so the site works under any root path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from microweb import App, HTMLResponse, Request, Response
from microweb.staticfiles import StaticFiles
from microweb.templating import Jinja2Templates

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")

ITEMS = {1: "a teapot", 2: "a kettle", 3: "a mug"}

api = App()


@api.get("/items/{item_id:int}", name="item")
def item(item_id: int) -> dict[str, Any]:
    """One item, as JSON."""
    return {"id": item_id, "name": ITEMS.get(item_id, "nothing")}


app = App(default_response_class=HTMLResponse)
app.mount(
    "/static", StaticFiles(directory=HERE / "static", cache_control="no-cache"), name="static"
)
app.mount("/api", api, name="api")
app.mount("/app", StaticFiles(directory=HERE / "spa", fallback="index.html"), name="spa")


@app.get("/", name="home")
def home(request: Request) -> Response:
    """The home page, rendered with TemplateResponse."""
    return templates.TemplateResponse(request, "index.html", {"items": ITEMS})


@app.get("/about", name="about", response_class=templates.page("about.html"))
def about() -> dict[str, Any]:
    """The about page: the handler returns the context, the route's class makes the page."""
    return {"title": "About this site", "visitors": ["<script>alert(1)</script>"]}
