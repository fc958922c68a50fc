"""attrs and pydantic bodies, and response_model filtering what goes out.

    uvicorn examples.models:app
    curl -X POST localhost:8000/items -H 'content-type: application/json' \
         -d '{"item": {"name": "pen", "price": "2.5"}, "owner": {"name": "ann"}}'
    curl localhost:8000/users/1
"""

from __future__ import annotations

from typing import Annotated

import attrs
import pydantic

from microweb import App
from microweb.params import Body


@attrs.define
class Owner:
    name: str


class Item(pydantic.BaseModel):
    name: str
    price: float = pydantic.Field(gt=0)


class UserOut(pydantic.BaseModel):
    name: str
    user_id: int = pydantic.Field(alias="userId")


app = App()


@app.post("/items")
def create(item: Item, owner: Owner, copies: Annotated[int, Body()] = 1) -> dict[str, object]:
    # Several body parameters: each is a key of the body (FastAPI's rule).
    return {"name": item.name, "owner": owner.name, "copies": copies}


@app.get("/users/{user_id:int}", response_model=UserOut)
def user(user_id: int) -> dict[str, object]:
    # The password is not in UserOut: it is never sent.
    return {"name": "bob", "userId": user_id, "password": "secret"}
