"""A first microweb app: routes, a path parameter, a query parameter, HTML.

Serve it with ``uvicorn examples.hello:app`` and try:

    curl http://127.0.0.1:8000/
    curl http://127.0.0.1:8000/items/42?q=shoes
    curl http://127.0.0.1:8000/hello/Ada

``uvicorn examples.hello:orjson_app`` serves the same routes with
ORJSONResponse as the app-wide default response class.
"""

from __future__ import annotations

from html import escape

from microweb import App, Router
from microweb.responses import HTMLResponse, ORJSONResponse

router = Router()


@router.get("/")
async def index() -> dict[str, str]:
    # A dict is wrapped in the app's default response class: JSON.
    return {"message": "Hello, World!"}


@router.get("/items/{item_id:int}")
async def read_item(item_id: int, q: str | None = None) -> dict[str, int | str | None]:
    # item_id comes from the path, converted to int; q from the query string.
    return {"item_id": item_id, "q": q}


@router.get("/hello/{name}", response_class=HTMLResponse)
async def hello(name: str) -> str:
    # This route picks its own class: the str becomes an HTML page.
    return f"<h1>Hello, {escape(name)}!</h1>"


app = App()
app.include_router(router)

# The same routes with orjson's output as the app-wide default.
orjson_app = App(default_response_class=ORJSONResponse)
orjson_app.include_router(router)
