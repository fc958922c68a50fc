"""An app exercising the route table, served by uvicorn in tests/server."""

from __future__ import annotations

import uuid
from typing import Any

from microweb import App, HTTPException, Router
from microweb.responses import HTMLResponse, PlainTextResponse, RedirectResponse

app = App()


@app.get("/")
def index() -> dict[str, str]:
    return {"hello": "world"}


@app.get("/items/{item_id:int}")
async def read_item(item_id: int, q: str | None = None, limit: int = 10) -> dict[str, Any]:
    return {"item_id": item_id, "q": q, "limit": limit}


@app.post("/items/{item_id:int}", status_code=201)
async def create_item(item_id: int) -> dict[str, Any]:
    return {"created": item_id}


@app.get("/users/me")
def me() -> str:
    return "me"


@app.get("/users/{name}")
def user(name: str) -> str:
    return f"user {name}"


@app.get("/uuid/{u:uuid}")
def by_uuid(u: uuid.UUID) -> str:
    return u.hex


@app.get("/files/{p:path}", response_class=PlainTextResponse)
def file_path(p: str) -> str:
    return p


@app.get("/page", response_class=HTMLResponse)
def page() -> str:
    return "<h1>page</h1>"


@app.get("/go", response_class=RedirectResponse)
def go() -> str:
    return "/page"


@app.get("/slash/")
def slash() -> str:
    return "slash"


@app.delete("/things/{n:int}", status_code=204)
def delete_thing(n: int) -> None:
    return None


@app.get("/teapot")
def teapot() -> None:
    raise HTTPException(418, headers={"x-tea": "earl grey"})


@app.get("/crash")
def crash() -> None:
    raise RuntimeError("internal secret")


api = Router(prefix="/api", default_response_class=PlainTextResponse)


@api.get("/ping")
def ping() -> str:
    return "pong"


app.include_router(api, prefix="/v1")
