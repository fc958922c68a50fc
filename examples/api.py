"""An API using every kind of parameter, and the docs microweb writes for it.

    uvicorn examples.api:app
    open http://localhost:8000/docs          (Swagger UI)
    curl localhost:8000/openapi.json         (the OpenAPI 3.1 document)

The tests check its document with openapi-spec-validator, run schemathesis
against it on a real uvicorn, and click "Try it out" on its docs page in
headless Chromium.
"""

from __future__ import annotations

import enum
from typing import Annotated

import msgspec

from microweb import App
from microweb.params import Body, Cookie, Header, Path, Query


class Color(enum.Enum):
    red = "red"
    green = "green"
    blue = "blue"


class Item(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    price: Annotated[float, msgspec.Meta(ge=0, le=1_000_000)]
    tags: list[str] = []


class Stored(msgspec.Struct):
    id: int
    item: Item


class Found(msgspec.Struct):
    q: str
    limit: int
    color: Color | None
    tags: list[str]


class Caller(msgspec.Struct):
    token: str
    session: str | None


app = App(title="Shop API", version="1.0.0", description="Items, searches and callers.")


@app.get("/items/{item_id:int}", tags=["items"])
async def read_item(
    item_id: Annotated[int, Path(le=1_000_000, description="The item's number")],
) -> Stored:
    """Read one item by its number."""
    return Stored(item_id, Item(name=f"item {item_id}", price=1.0))


@app.post("/items", status_code=201, tags=["items"])
async def create_item(item: Item) -> Stored:
    """Store an item (a JSON body)."""
    return Stored(1, item)


@app.post("/items/bulk", tags=["items"])
async def create_items(items: list[Item]) -> list[Stored]:
    """Store several items (a JSON list)."""
    return [Stored(number, item) for number, item in enumerate(items, 1)]


@app.put("/items/{item_id:int}", tags=["items"])
async def replace_item(
    item_id: Annotated[int, Path(le=1_000_000)],
    item: Annotated[Item, Body(embed=True)],
) -> Stored:
    """Replace an item: the body is ``{"item": {...}}``."""
    return Stored(item_id, item)


@app.get("/users/{username}", tags=["users"])
async def read_user(
    username: Annotated[str, Path(pattern="^[a-z][a-z0-9]{0,19}$")],
) -> dict[str, str]:
    """A path parameter with a pattern."""
    return {"username": username}


@app.get("/search")
async def search(
    q: Annotated[str, Query(min_length=1, max_length=30, description="What to look for")],
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    color: Color | None = None,
    tag: Annotated[list[str], Query(max_length=5)] = [],  # noqa: B006 - copied per request
) -> Found:
    """Query parameters: constraints, an enum and a repeated key."""
    return Found(q, limit, color, tag)


@app.get("/caller")
async def caller(
    x_token: Annotated[str, Header(description="Any token")],
    session: Annotated[str | None, Cookie()] = None,
) -> Caller:
    """A header and a cookie.

    No constraints on these two: the transport changes them (a server strips
    a header's spaces, a cookie ends at ';'), so a bound could not hold.
    """
    return Caller(x_token, session)
