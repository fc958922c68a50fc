"""The model of ``POST /items`` for the apps that validate with msgspec or dataclasses.

Ten fields: scalars, a list of strings, a nested object, a nested list of
objects and two optional fields (``bench.endpoints.ITEM_PAYLOAD``). FastAPI's
pydantic model lives in its own app, written as FastAPI's docs teach.
"""

from __future__ import annotations

import dataclasses

import msgspec


class Dimensions(msgspec.Struct):
    width: float
    height: float
    depth: float


class Variant(msgspec.Struct):
    sku: str
    color: str
    price: float


class Item(msgspec.Struct):
    id: int
    name: str
    price: float
    quantity: int
    in_stock: bool
    tags: list[str]
    dimensions: Dimensions
    variants: list[Variant]
    description: str | None = None
    discount: float | None = None


# BlackSheep's binder (FromJSON) builds dataclasses.


@dataclasses.dataclass
class DimensionsData:
    width: float
    height: float
    depth: float


@dataclasses.dataclass
class VariantData:
    sku: str
    color: str
    price: float


@dataclasses.dataclass
class ItemData:
    id: int
    name: str
    price: float
    quantity: int
    in_stock: bool
    tags: list[str]
    dimensions: DimensionsData
    variants: list[VariantData]
    description: str | None = None
    discount: float | None = None
