"""Path and query parameters: converters, optional and repeated values, 422.

Serve it with ``uvicorn examples.params:app``; docs/tutorial/parameters.md
shows what to try.
"""

from __future__ import annotations

from microweb import App

app = App()


@app.get("/users/me")
async def read_me() -> dict[str, str]:
    # A static path wins over a parameter: /users/me never reaches read_user.
    return {"user": "the current user"}


@app.get("/users/{user_id:int}")
async def read_user(user_id: int) -> dict[str, int]:
    # {user_id:int} only matches digits and hands the handler an int.
    return {"user_id": user_id}


@app.get("/files/{file_path:path}")
async def read_file(file_path: str) -> dict[str, str]:
    # A path parameter takes the rest of the path, slashes included.
    return {"file_path": file_path}


@app.get("/items")
async def list_items(
    limit: int = 10,
    in_stock: bool | None = None,
    tag: list[str] | None = None,
) -> dict[str, object]:
    # Every other parameter comes from the query string, converted by its
    # annotation; a default makes it optional, list[str] collects repeats.
    return {"limit": limit, "in_stock": in_stock, "tags": tag or []}


@app.get("/search")
async def search(q: str) -> dict[str, str]:
    # No default: q is required, and a request without it answers 422.
    return {"q": q}
