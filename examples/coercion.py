"""Returning things: what a handler's return value becomes.

Serve it with ``uvicorn examples.coercion:app``; docs/tutorial/coercion.md
shows what to try.
"""

from __future__ import annotations

import datetime
import decimal
from dataclasses import dataclass

from microweb import App
from microweb.responses import PlainTextResponse

app = App()  # the default response class is JSONResponse


@dataclass
class Item:
    name: str
    price: decimal.Decimal
    added: datetime.date


@app.get("/dict")
async def a_dict() -> dict[str, object]:
    return {"name": "plumbus", "tags": ["home", "garden"], "stock": None}


@app.get("/text")
async def a_str() -> str:
    return "plain words"  # still JSON under JSONResponse: a JSON string


@app.get("/item")
async def an_item() -> Item:
    # Dataclasses, dates, Decimal, UUID, Enum, sets... are encoded too.
    return Item("plumbus", decimal.Decimal("9.99"), datetime.date(2024, 5, 1))


@app.post("/items", status_code=201)
async def create_item(name: str) -> dict[str, str]:
    return {"created": name}  # the decorator's status_code is used


@app.delete("/items/{name}", status_code=204)
async def delete_item(name: str) -> None:
    return None  # None with 204 is an empty body


@app.get("/teapot")
async def teapot() -> PlainTextResponse:
    # A Response instance is sent as it is: no coercion.
    return PlainTextResponse("I'm a teapot\n", status_code=418)
