"""FastAPI's tutorial apps, as FastAPI's docs write them (tests/test_openapi_fastapi.py).

Imported only when FastAPI (a benchmark peer) is installed. No
``from __future__ import annotations`` here: FastAPI resolves the
annotations in this module's namespace.
"""

from typing import Annotated, Any

from fastapi import Body, Cookie, FastAPI, Header, Path, Query
from pydantic import BaseModel


class Item(BaseModel):
    name: str
    price: float
    description: str | None = None
    tax: float | None = None


app = FastAPI()


@app.post("/items/")
async def create_item(item: Item) -> Any:
    return item


@app.get("/items/")
async def read_items(
    q: Annotated[str | None, Query(min_length=3, max_length=50, pattern="^fixedquery$")] = None,
) -> Any:
    return {}


@app.get("/items/{item_id}")
async def read_item(
    item_id: Annotated[int, Path(title="The ID of the item to get", ge=1)],
    q: Annotated[str | None, Query(alias="item-query")] = None,
    size: Annotated[float, Query(gt=0, lt=10.5)] = 1,
) -> Any:
    return {}


@app.put("/items/{item_id}")
async def update_item(item_id: int, item: Item, importance: Annotated[int, Body()]) -> Any:
    return {}


@app.get("/headers/")
async def read_headers(
    user_agent: Annotated[str | None, Header()] = None,
    ads_id: Annotated[str | None, Cookie()] = None,
) -> Any:
    return {}


@app.get("/list/")
async def read_list(q: Annotated[list[str] | None, Query()] = None) -> Any:
    return {}
