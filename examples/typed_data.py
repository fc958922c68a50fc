"""A typed JSON body: msgspec models in, validated, and back out as JSON.

    uvicorn examples.typed_data:app
    curl -X POST localhost:8000/items -H 'content-type: application/json' \
         -d '{"name": "pen", "variants": [{"sku": "p1", "price": "2"}]}'
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from microweb import App
from microweb.params import Query


class Variant(msgspec.Struct):
    sku: str
    price: Annotated[float, msgspec.Meta(gt=0)]


class Item(msgspec.Struct):
    name: str
    variants: list[Variant] = []
    note: str | None = None


app = App()


@app.post("/items")
async def create(item: Item, copies: Annotated[int, Query(ge=1, le=10)] = 1) -> list[Item]:
    # A Struct (or a dataclass, a TypedDict, a list of them) is sent as JSON.
    return [item] * copies
