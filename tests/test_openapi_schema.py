"""Each annotation and marker, mapped to its JSON Schema (microweb/openapi/_schema.py).

The document of a one-route app is built and the parameter (or body) looked at.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import uuid
from typing import Annotated, Any, Literal

import msgspec
import pytest

from microweb import App
from microweb.openapi import get_openapi
from microweb.openapi._schema import Registry, constraint_keywords, json_value, title
from microweb.params import Body, Cookie, Header, Path, Query


class Color(enum.Enum):
    red = "red"
    blue = "blue"


def _parameters(app: App, path: str = "/", method: str = "get") -> dict[str, dict[str, Any]]:
    operation = app.openapi()["paths"][path][method]
    return {p["name"]: p for p in operation.get("parameters", [])}


def _query_schema(annotation: Any, default: Any = ...) -> dict[str, Any]:
    """The schema of one query parameter ``v`` annotated ``annotation``."""
    app = App()

    async def required(v: Any) -> None: ...

    async def optional(v: Any = default) -> None: ...

    handler = required if default is ... else optional
    # The annotation is a value of this test: set as such (no string to resolve).
    handler.__annotations__ = {"v": annotation, "return": None}
    app.add_route("/", handler)
    schema: dict[str, Any] = _parameters(app)["v"]["schema"]
    schema.pop("title")
    return schema


@pytest.mark.parametrize(
    ("annotation", "expected"),
    [
        (str, {"type": "string"}),
        (int, {"type": "integer"}),
        (float, {"type": "number"}),
        (bool, {"type": "boolean"}),
        (uuid.UUID, {"type": "string", "format": "uuid"}),
        (decimal.Decimal, {"type": "string", "format": "decimal"}),
        (datetime.date, {"type": "string", "format": "date"}),
        (datetime.datetime, {"type": "string"}),  # msgspec's: any RFC 3339 form
        (Literal["a", "b"], {"enum": ["a", "b"]}),
        (Color, {"$ref": "#/components/schemas/Color"}),
        (list[int], {"type": "array", "items": {"type": "integer"}}),
        (str | None, {"anyOf": [{"type": "string"}, {"type": "null"}]}),
        (
            list[str] | None,
            {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]},
        ),
    ],
)
def test_scalar_annotations(annotation: Any, expected: dict[str, Any]) -> None:
    assert _query_schema(annotation) == expected


def test_unannotated_query_value_is_a_string() -> None:
    app = App()

    @app.get("/")
    async def handler(v):  # type: ignore[no-untyped-def]
        return None

    assert _parameters(app)["v"]["schema"] == {"type": "string", "title": "V"}


def test_enum_component_and_default() -> None:
    app = App()

    @app.get("/")
    async def handler(color: Color = Color.blue) -> None: ...

    parameter = _parameters(app)["color"]
    assert parameter["required"] is False
    assert parameter["schema"]["default"] == "blue"
    assert app.openapi()["components"]["schemas"]["Color"] == {
        "title": "Color",
        "enum": ["blue", "red"],  # msgspec sorts them
    }


@pytest.mark.parametrize(
    ("marker", "keywords"),
    [
        (Query(gt=1), {"exclusiveMinimum": 1}),
        (Query(ge=1), {"minimum": 1}),
        (Query(lt=9), {"exclusiveMaximum": 9}),
        (Query(le=9), {"maximum": 9}),
        (Query(multiple_of=3), {"multipleOf": 3}),
        (Query(ge=0, le=5), {"minimum": 0, "maximum": 5}),
    ],
)
def test_number_constraints(marker: Any, keywords: dict[str, Any]) -> None:
    assert _query_schema(Annotated[int, marker]) == {"type": "integer", **keywords}


@pytest.mark.parametrize(
    ("marker", "keywords"),
    [
        (Query(min_length=2), {"minLength": 2}),
        (Query(max_length=5), {"maxLength": 5}),
        (Query(pattern="^a+$"), {"pattern": "^a+$"}),
    ],
)
def test_string_constraints(marker: Any, keywords: dict[str, Any]) -> None:
    assert _query_schema(Annotated[str, marker]) == {"type": "string", **keywords}


def test_list_lengths_count_items_and_bounds_apply_to_each() -> None:
    schema = _query_schema(Annotated[list[int], Query(min_length=1, max_length=3, ge=0)])
    assert schema == {
        "type": "array",
        "items": {"type": "integer", "minimum": 0},
        "minItems": 1,
        "maxItems": 3,
    }


def test_optional_keeps_constraints_on_the_value() -> None:
    schema = _query_schema(Annotated[str | None, Query(max_length=3)], None)
    assert schema == {"anyOf": [{"type": "string", "maxLength": 3}, {"type": "null"}]}


def test_marker_documentation_fields() -> None:
    app = App()

    @app.get("/")
    async def handler(
        q: Annotated[
            str | None,
            Query(
                alias="item-query",
                title="Query string",
                description="What to look for",
                examples=["pen"],
                deprecated=True,
            ),
        ] = None,
        hidden: Annotated[int, Query(include_in_schema=False)] = 0,
    ) -> None: ...

    parameters = _parameters(app)
    assert set(parameters) == {"item-query"}
    parameter = parameters["item-query"]
    assert parameter["in"] == "query"
    assert parameter["required"] is False
    assert parameter["description"] == "What to look for"
    assert parameter["deprecated"] is True
    assert parameter["schema"]["title"] == "Query string"
    assert parameter["schema"]["description"] == "What to look for"
    assert parameter["schema"]["examples"] == ["pen"]


def test_header_cookie_and_path_sources() -> None:
    app = App()

    @app.get("/items/{item_id}/{n:int}/{f:float}/{u:uuid}/{rest:path}")
    async def handler(
        item_id: Annotated[int, Path(ge=1)],
        n: int,
        f: float,
        u: uuid.UUID,
        rest: str,
        user_agent: Annotated[str | None, Header()] = None,
        x_raw: Annotated[str, Header(convert_underscores=False)] = "",
        token: Annotated[str, Header(alias="X-Token")] = "",
        session: Annotated[str | None, Cookie()] = None,
    ) -> None: ...

    parameters = _parameters(app, "/items/{item_id}/{n}/{f}/{u}/{rest}")
    assert {(name, p["in"], p["required"]) for name, p in parameters.items()} == {
        ("item_id", "path", True),
        ("n", "path", True),
        ("f", "path", True),
        ("u", "path", True),
        ("rest", "path", True),
        ("user-agent", "header", False),
        ("x_raw", "header", False),
        ("x-token", "header", False),
        ("session", "cookie", False),
    }
    # {item_id} converts by the annotation: a signed int; {n:int} matches digits only.
    assert parameters["item_id"]["schema"] == {"type": "integer", "minimum": 1, "title": "Item Id"}
    assert parameters["n"]["schema"] == {"type": "integer", "minimum": 0, "title": "N"}
    assert parameters["f"]["schema"] == {"type": "number", "minimum": 0, "title": "F"}
    assert parameters["u"]["schema"] == {"type": "string", "format": "uuid", "title": "U"}
    assert parameters["rest"]["schema"] == {"type": "string", "title": "Rest"}
    assert parameters["user-agent"]["schema"]["title"] == "User-Agent"


def test_path_parameter_the_handler_does_not_take_is_still_declared() -> None:
    app = App()

    @app.get("/files/{name}/{n:int}")
    async def handler(**kwargs: Any) -> None: ...

    parameters = _parameters(app, "/files/{name}/{n}")
    assert parameters["name"]["schema"] == {"title": "Name", "type": "string"}
    assert parameters["n"]["schema"] == {"title": "N", "type": "integer", "minimum": 0}


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0


class Item(msgspec.Struct):
    name: str
    price: Annotated[float, msgspec.Meta(gt=0)]


def _body(app: App, path: str = "/") -> dict[str, Any]:
    body: dict[str, Any] = app.openapi()["paths"][path]["post"]["requestBody"]
    return body


def test_structured_body_is_a_component() -> None:
    app = App()

    @app.post("/")
    async def handler(item: Item) -> None: ...

    assert _body(app) == {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}},
        "required": True,
    }
    assert app.openapi()["components"]["schemas"]["Item"] == {
        "title": "Item",
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "price": {"type": "number", "exclusiveMinimum": 0},
        },
        "required": ["name", "price"],
    }


def test_list_body_and_dataclass() -> None:
    app = App()

    @app.post("/")
    async def handler(points: list[Point]) -> None: ...

    schema = _body(app)["content"]["application/json"]["schema"]
    assert schema == {"type": "array", "items": {"$ref": "#/components/schemas/Point"}}
    point = app.openapi()["components"]["schemas"]["Point"]
    assert point["required"] == ["x"]


def test_embedded_and_several_body_parameters_make_one_object() -> None:
    app = App()

    @app.post("/")
    async def create(
        item: Item,
        importance: Annotated[int, Body(gt=0, alias="weight")],
        note: Annotated[str | None, Body(description="free text")] = None,
    ) -> None: ...

    assert _body(app)["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Body_create"
    }
    component = app.openapi()["components"]["schemas"]["Body_create"]
    assert component["required"] == ["item", "weight"]
    assert component["properties"]["item"] == {"$ref": "#/components/schemas/Item"}
    assert component["properties"]["weight"] == {
        "type": "integer",
        "exclusiveMinimum": 0,
        "title": "Weight",
    }
    note = component["properties"]["note"]
    assert note["description"] == "free text"
    assert note["anyOf"] == [{"type": "string"}, {"type": "null"}]


def test_one_embedded_body_parameter() -> None:
    app = App()

    @app.post("/")
    async def wrap(item: Annotated[Item, Body(embed=True)]) -> None: ...

    component = app.openapi()["components"]["schemas"]["Body_wrap"]
    assert list(component["properties"]) == ["item"]


def test_pydantic_model_body_and_response() -> None:
    from pydantic import BaseModel, Field

    class Model(BaseModel):
        name: str = Field(max_length=10)

    registry = Registry()
    slot = registry.schema(list[Model])
    components = registry.finish()
    assert slot == {"type": "array", "items": {"$ref": "#/components/schemas/Model"}}
    assert components["Model"]["properties"]["name"]["maxLength"] == 10


def test_colliding_component_names_are_kept_apart() -> None:
    def make() -> type:
        class Item(msgspec.Struct):
            other: int

        return Item

    OtherItem = make()
    app = App()

    @app.post("/one")
    async def one(item: Item) -> None: ...

    async def two(item: Any) -> None: ...

    two.__annotations__ = {"item": OtherItem, "return": None}
    app.post("/two")(two)

    document = app.openapi()
    schemas = document["components"]["schemas"]
    refs = {
        _body(app, path)["content"]["application/json"]["schema"]["$ref"]
        for path in ("/one", "/two")
    }
    assert len(refs) == 2
    names = {ref.rsplit("/", 1)[1] for ref in refs}
    assert {tuple(schemas[name]["properties"]) for name in names} == {
        ("name", "price"),
        ("other",),
    }


def test_registry_numbers_a_name_taken_by_another_schema() -> None:
    registry = Registry()
    assert registry.add("Item", {"type": "object"}) == "Item"
    assert registry.add("Item", {"type": "object"}) == "Item"  # the same schema: shared
    assert registry.add("Item", {"type": "string"}) == "Item2"
    assert registry.components == {"Item": {"type": "object"}, "Item2": {"type": "string"}}


def test_pydantic_definitions_never_overwrite_a_component() -> None:
    from pydantic import BaseModel

    class Item(BaseModel):  # the same name as the msgspec Struct above
        label: str

    class Order(BaseModel):
        item: Item

    registry = Registry()
    struct_slot = registry.schema(globals()["Item"])
    model_slot = registry.schema(Order)
    components = registry.finish()
    assert struct_slot == {"$ref": "#/components/schemas/Item"}
    assert model_slot == {"$ref": "#/components/schemas/Order"}
    assert components["Item"]["properties"].keys() == {"name", "price"}
    assert components["Order"]["properties"]["item"] == {"$ref": "#/components/schemas/Item2"}
    assert components["Item2"]["properties"].keys() == {"label"}


def test_helpers() -> None:
    assert title("item_id") == "Item Id"
    assert constraint_keywords({"min_length": 1, "gt": 0}) == {
        "minLength": 1,
        "exclusiveMinimum": 0,
    }
    assert constraint_keywords({"min_length": 1}, array=True) == {"minItems": 1}
    assert json_value(Color.red) == "red"
    assert json_value(datetime.date(2020, 1, 2)) == "2020-01-02"
    assert json_value(object()) is None


def test_get_openapi_takes_routes() -> None:
    app = App()

    @app.get("/")
    async def home() -> str:
        return "hi"

    document = get_openapi(title="T", version="2", routes=app.routes, description="About")
    assert document["info"] == {"title": "T", "version": "2", "description": "About"}
    assert document["openapi"] == "3.1.0"
    assert "components" not in document


def test_a_type_msgspec_cannot_describe_is_any_value() -> None:
    registry = Registry()
    slot = registry.schema(dict[str, object])
    registry.finish()
    assert slot == {"type": "object", "additionalProperties": {"title": "object"}}
    assert registry.schema(Any) == {}
