"""Request bodies: JSON decoded into typed values, checked, and a 422 when it does not fit.

Serve it with ``uvicorn examples.bodies:app``; docs/tutorial/bodies.md
shows what to try.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import msgspec

from microweb import App
from microweb.params import Body

app = App()


class Line(msgspec.Struct):
    sku: str
    # Constraints inside a model are msgspec's Meta.
    price: Annotated[float, msgspec.Meta(gt=0)]
    quantity: Annotated[int, msgspec.Meta(ge=1)] = 1


class Order(msgspec.Struct):
    customer: str
    items: list[Line]
    note: str | None = None


@dataclass
class Address:
    street: str
    city: str
    postcode: str | None = None


class NewUser(msgspec.Struct):
    name: str
    password: str


class PublicUser(msgspec.Struct):
    name: str


@app.post("/orders")
async def create_order(order: Order) -> dict[str, object]:
    # One structured parameter is the whole body, decoded and checked.
    total = sum(line.price * line.quantity for line in order.items)
    return {"customer": order.customer, "lines": len(order.items), "total": total}


@app.post("/addresses")
async def check_address(address: Address) -> Address:
    # A dataclass works the same way, and is sent back as JSON.
    return address


@app.post("/shipments")
async def ship(
    order: Order,
    address: Address,
    priority: Annotated[int, Body(ge=1, le=3)] = 1,
) -> dict[str, object]:
    # Several body parameters: each one is the body's key of its name.
    return {"to": address.city, "lines": len(order.items), "priority": priority}


@app.put("/home")
async def set_home(address: Annotated[Address, Body(embed=True)]) -> dict[str, str]:
    # embed=True: the body is {"address": {...}}, though there is one parameter.
    return {"home": address.city}


@app.post("/users", response_model=PublicUser)
async def create_user(user: NewUser) -> NewUser:
    # response_model: only PublicUser's fields are sent; the password is not.
    return user
