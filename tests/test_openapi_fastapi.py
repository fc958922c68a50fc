"""FastAPI's own tutorials, ported to microweb, give an equivalent OpenAPI document.

tests/fastapi_tutorials.py holds FastAPI's tutorial apps; below is their
microweb port (a msgspec Struct where FastAPI has a pydantic model). Equivalent means: the
same paths and methods, the same parameters (name, location, required,
schema), the same request body schema, and the same model components once
pydantic's field titles are set aside (msgspec writes none). What differs by
design: microweb also documents the 400, 404 and 413 it answers, names an
embedded body ``Body_<operationId>`` (FastAPI adds the path and method), and
documents the return annotation as the response schema.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import pytest
from conftest import require_module

from microweb import App
from microweb.params import Body, Cookie, Header, Path, Query


class Item(msgspec.Struct):
    name: str
    price: float
    description: str | None = None
    tax: float | None = None


def _microweb_app() -> App:
    app = App()

    # Tutorial "Request Body".
    @app.post("/items/")
    async def create_item(item: Item) -> Item:
        return item

    # Tutorial "Query Parameters and String Validations".
    @app.get("/items/")
    async def read_items(
        q: Annotated[
            str | None, Query(min_length=3, max_length=50, pattern="^fixedquery$")
        ] = None,
    ) -> dict[str, Any]:
        return {}

    # Tutorial "Path Parameters and Numeric Validations".
    @app.get("/items/{item_id}")
    async def read_item(
        item_id: Annotated[int, Path(title="The ID of the item to get", ge=1)],
        q: Annotated[str | None, Query(alias="item-query")] = None,
        size: Annotated[float, Query(gt=0, lt=10.5)] = 1,
    ) -> dict[str, Any]:
        return {}

    # Tutorial "Body - Multiple Parameters".
    @app.put("/items/{item_id}")
    async def update_item(
        item_id: int, item: Item, importance: Annotated[int, Body()]
    ) -> dict[str, Any]:
        return {}

    # Tutorials "Header Parameters" and "Cookie Parameters".
    @app.get("/headers/")
    async def read_headers(
        user_agent: Annotated[str | None, Header()] = None,
        ads_id: Annotated[str | None, Cookie()] = None,
    ) -> dict[str, Any]:
        return {}

    # Tutorial "Query Parameters" (a list).
    @app.get("/list/")
    async def read_list(q: Annotated[list[str] | None, Query()] = None) -> dict[str, Any]:
        return {}

    return app


def _fastapi_document() -> dict[str, Any]:
    require_module("fastapi", "pip install fastapi (a benchmark peer)")
    from fastapi_tutorials import app

    document: dict[str, Any] = app.openapi()
    return document


def _untitled(schema: dict[str, Any]) -> dict[str, Any]:
    """A model component without its fields' titles and null defaults (pydantic's extras)."""
    out = dict(schema)
    out["properties"] = {
        name: {k: v for k, v in field.items() if k != "title" and (k, v) != ("default", None)}
        for name, field in schema["properties"].items()
    }
    return out


@pytest.fixture(scope="module")
def documents() -> tuple[dict[str, Any], dict[str, Any]]:
    return _fastapi_document(), _microweb_app().openapi()


def test_same_operations(documents: tuple[dict[str, Any], dict[str, Any]]) -> None:
    fastapi, microweb = documents
    assert {p: set(ops) for p, ops in fastapi["paths"].items()} == {
        p: set(ops) for p, ops in microweb["paths"].items()
    }


def test_same_parameters(documents: tuple[dict[str, Any], dict[str, Any]]) -> None:
    fastapi, microweb = documents
    for path, operations in fastapi["paths"].items():
        for method, operation in operations.items():
            ours = microweb["paths"][path][method]
            assert ours.get("parameters") == operation.get("parameters"), (method, path)
            assert "422" in ours["responses"]


def test_same_bodies(documents: tuple[dict[str, Any], dict[str, Any]]) -> None:
    fastapi, microweb = documents
    theirs = fastapi["paths"]["/items/"]["post"]["requestBody"]
    assert microweb["paths"]["/items/"]["post"]["requestBody"] == theirs
    theirs_schemas = fastapi["components"]["schemas"]
    ours_schemas = microweb["components"]["schemas"]
    assert _untitled(ours_schemas["Item"]) == _untitled(theirs_schemas["Item"])
    # An embedded body: the same object schema under another component name.
    theirs_body = theirs_schemas["Body_update_item_items__item_id__put"]
    ours_body = ours_schemas["Body_update_item"]
    assert {k: v for k, v in ours_body.items() if k != "title"} == {
        k: v for k, v in theirs_body.items() if k != "title"
    }
    for name in ("HTTPValidationError", "ValidationError"):
        assert ours_schemas[name] == theirs_schemas[name]
