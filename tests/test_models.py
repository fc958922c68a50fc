"""attrs and pydantic bodies, returned structured values (SPEC "Typed request data")."""

from __future__ import annotations

import dataclasses
import datetime
import subprocess
import sys
import textwrap
from typing import Annotated, Any, TypedDict

import attrs
import msgspec
import pytest
from conftest import require_module

from microweb import App, ORJSONResponse, Router
from microweb.params import Body, Depends
from microweb.responses import JSONResponse, Response
from microweb.testclient import TestClient

require_module("pydantic", "pip install 'microweb-asgi[pydantic]'")
import pydantic  # noqa: E402


def client_for(handler: Any, path: str = "/b", method: str = "POST", **route: Any) -> TestClient:
    app = App()
    app.add_route(path, handler, methods=[method], **route)
    return TestClient(app)


def detail(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    items: list[dict[str, Any]] = response.json()["detail"]
    return items


@attrs.define
class Dimensions:
    width: int
    height: int = 1


@attrs.frozen
class Parcel:
    label: str
    sizes: list[Dimensions] = attrs.Factory(list)


class Item(pydantic.BaseModel):
    name: str
    price: float = pydantic.Field(gt=0)
    tags: list[str] = []


class Aliased(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(populate_by_name=True)

    item_id: int = pydantic.Field(alias="itemId")


class Checked(pydantic.BaseModel):
    code: str

    @pydantic.field_validator("code")
    @classmethod
    def upper(cls, value: str) -> str:
        if not value.isupper():
            raise ValueError("code must be upper case")
        return value


class Owner(msgspec.Struct):
    name: str


# --- attrs bodies ----------------------------------------------------------------


def test_an_attrs_class_is_a_body_decoded_by_msgspec() -> None:
    def handler(parcel: Parcel) -> dict[str, Any]:
        assert isinstance(parcel, Parcel)
        return {"label": parcel.label, "area": [s.width * s.height for s in parcel.sizes]}

    client = client_for(handler)
    sent = {"label": "box", "sizes": [{"width": 2, "height": "3"}, {"width": 4}]}
    assert client.post("/b", json=sent).json() == {"label": "box", "area": [6, 4]}


def test_an_attrs_body_that_does_not_fit_lists_every_error() -> None:
    def handler(parcel: Parcel) -> str:
        return parcel.label

    sent = {"label": 5, "sizes": [{"height": 1}, {"width": "x"}]}
    assert detail(client_for(handler).post("/b", json=sent)) == [
        {
            "type": "string_type",
            "loc": ["body", "label"],
            "msg": "Input should be a valid string",
            "input": 5,
        },
        {
            "type": "missing",
            "loc": ["body", "sizes", 0, "width"],
            "msg": "Field required",
            "input": {"height": 1},
        },
        {
            "type": "int_parsing",
            "loc": ["body", "sizes", 1, "width"],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "input": "x",
        },
    ]


# --- pydantic bodies --------------------------------------------------------------


def test_a_pydantic_model_is_validated_by_pydantic_itself() -> None:
    def handler(item: Item) -> dict[str, Any]:
        assert isinstance(item, Item)
        return {"name": item.name, "price": item.price}

    client = client_for(handler)
    assert client.post("/b", json={"name": "pen", "price": "1.5"}).json() == {
        "name": "pen",
        "price": 1.5,
    }
    assert detail(client.post("/b", json={"name": 1, "price": -1})) == [
        {
            "type": "string_type",
            "loc": ["body", "name"],
            "msg": "Input should be a valid string",
            "input": 1,
        },
        {
            "type": "greater_than",
            "loc": ["body", "price"],
            "msg": "Input should be greater than 0",
            "input": -1,
            "ctx": {"gt": 0.0},
        },
    ]


def test_pydantic_422_items_are_fastapis_shape() -> None:
    def handler(checked: Checked) -> str:
        return checked.code

    client = client_for(handler)
    assert client.post("/b", json={"code": "AB"}).json() == "AB"
    # A validator's error: ``ctx.error`` is written {} (FastAPI's jsonable_encoder), no url.
    assert detail(client.post("/b", json={"code": "ab"})) == [
        {
            "type": "value_error",
            "loc": ["body", "code"],
            "msg": "Value error, code must be upper case",
            "input": "ab",
            "ctx": {"error": {}},
        }
    ]
    missing = detail(client.post("/b", json={}))
    assert missing == [
        {"type": "missing", "loc": ["body", "code"], "msg": "Field required", "input": {}}
    ]


def test_a_long_pydantic_input_is_shortened() -> None:
    def handler(item: Item) -> str:
        return item.name

    [error] = detail(
        client_for(handler).post("/b", json={"name": "x" * 5000, "price": "y" * 5000})
    )
    assert error["loc"] == ["body", "price"]
    assert len(error["input"]) < 300


def test_a_list_of_pydantic_models_uses_a_type_adapter() -> None:
    def handler(items: list[Item]) -> list[str]:
        assert all(isinstance(item, Item) for item in items)
        return [item.name for item in items]

    client = client_for(handler)
    assert client.post("/b", json=[{"name": "a", "price": 1}]).json() == ["a"]
    errors = detail(client.post("/b", json=[{"name": "a", "price": 1}, {"price": "x"}]))
    assert [error["loc"] for error in errors] == [["body", 1, "name"], ["body", 1, "price"]]
    assert [error["type"] for error in errors] == ["missing", "float_parsing"]


def test_a_marker_constraint_applies_to_a_pydantic_body() -> None:
    def handler(items: Annotated[list[Item], Body(min_length=1)]) -> int:
        return len(items)

    [error] = detail(client_for(handler).post("/b", json=[]))
    assert error["type"] == "too_short"
    assert error["loc"] == ["body"]


def test_pydantic_body_that_is_not_json_is_refused_as_fastapi_does() -> None:
    def handler(item: Item) -> str:
        return item.name

    client = client_for(handler)
    invalid = detail(
        client.post("/b", content=b'{"name": ', headers={"content-type": "application/json"})
    )
    assert invalid == [
        {
            "type": "json_invalid",
            "loc": ["body", 9],
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": "Expecting value"},
        }
    ]
    as_text = detail(
        client.post("/b", content=b"name=pen", headers={"content-type": "text/plain"})
    )
    assert as_text == [
        {
            "type": "model_attributes_type",
            "loc": ["body"],
            "msg": "Input should be a valid dictionary or object to extract fields from",
            "input": "name=pen",
        }
    ]
    assert detail(client.post("/b")) == [
        {"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}
    ]


def test_pydantic_body_keeps_the_json_depth_limit() -> None:
    def handler(items: list[Item]) -> int:
        return len(items)

    def model(item: Item) -> str:
        return item.name

    deep = b"[" * 600 + b"]" * 600
    for client in (client_for(handler), client_for(model)):
        response = client.post("/b", content=deep, headers={"content-type": "application/json"})
        assert response.status_code == 400
        assert "nested deeper than 512" in response.text


def test_several_body_params_with_pydantic_models_are_keys() -> None:
    def handler(
        item: Item, owner: Owner, aliased: Aliased, count: Annotated[int, Body()] = 1
    ) -> dict[str, Any]:
        assert isinstance(item, Item)
        assert isinstance(aliased, Aliased)
        return {"item": item.name, "owner": owner.name, "id": aliased.item_id, "count": count}

    client = client_for(handler)
    sent = {
        "item": {"name": "pen", "price": 2},
        "owner": {"name": "ann"},
        "aliased": {"itemId": 3},
    }
    assert client.post("/b", json=sent).json() == {
        "item": "pen",
        "owner": "ann",
        "id": 3,
        "count": 1,
    }
    # One decode fails (owner), the pydantic keys are explained too: every error at once.
    wrong = {"item": {"name": "pen", "price": 0}, "owner": {}, "count": "x"}
    assert [(e["type"], e["loc"]) for e in detail(client.post("/b", json=wrong))] == [
        ("greater_than", ["body", "item", "price"]),
        ("missing", ["body", "owner", "name"]),
        ("missing", ["body", "aliased"]),
        ("int_parsing", ["body", "count"]),
    ]
    # The msgspec keys fit, a pydantic one does not: pydantic's items alone.
    only_pydantic = {**sent, "aliased": {"itemId": "x"}}
    [error] = detail(client.post("/b", json=only_pydantic))
    assert (error["type"], error["loc"]) == ("int_parsing", ["body", "aliased", "itemId"])


def priced(item: Item) -> float:
    return item.price


def test_a_dependency_with_a_pydantic_body_joins_the_handlers_body() -> None:
    def handler(parcel: Parcel, price: Annotated[float, Depends(priced)]) -> list[Any]:
        return [parcel.label, price]

    client = client_for(handler)
    sent = {"parcel": {"label": "box"}, "item": {"name": "pen", "price": 2}}
    assert client.post("/b", json=sent).json() == ["box", 2.0]
    wrong = {"parcel": {"label": "box"}, "item": {"name": "pen", "price": -2}}
    [error] = detail(client.post("/b", json=wrong))
    assert (error["type"], error["loc"]) == ("greater_than", ["body", "item", "price"])


def test_an_embedded_pydantic_model_and_an_optional_one() -> None:
    def handler(item: Annotated[Item, Body(embed=True)], other: Item | None = None) -> list[Any]:
        return [item.name, other]

    client = client_for(handler)
    assert client.post("/b", json={"item": {"name": "a", "price": 1}}).json() == ["a", None]
    [error] = detail(client.post("/b", json={"name": "a", "price": 1}))
    assert (error["type"], error["loc"]) == ("missing", ["body", "item"])


@dataclasses.dataclass
class Order:
    item: Item
    quantity: int


class Opaque:
    pass


def test_a_pydantic_model_inside_a_dataclass_is_validated_by_pydantic() -> None:
    def handler(order: Order) -> int:
        assert isinstance(order.item, Item)
        return order.quantity

    client = client_for(handler)
    assert client.post("/b", json={"item": {"name": "a", "price": 1}, "quantity": 2}).json() == 2
    [error] = detail(client.post("/b", json={"item": {"name": "a", "price": 1}}))
    assert error["loc"] == ["body", "quantity"]


def test_a_type_neither_msgspec_nor_pydantic_reads_is_refused_when_the_route_is_added() -> None:
    def handler(values: Annotated[list[Opaque], Body()]) -> None:
        pass

    with pytest.raises(TypeError, match=r"Opaque is no type JSON decodes into.*attrs class"):
        client_for(handler)


def test_pydantic_is_not_imported_by_microweb_nor_by_an_app_without_models() -> None:
    code = textwrap.dedent(
        """
        import sys
        import dataclasses
        import attrs
        from microweb import App
        from microweb.testclient import TestClient

        @attrs.define
        class A:
            x: int

        @dataclasses.dataclass
        class D:
            y: int

        app = App()

        @app.post("/")
        def handler(a: A, d: D) -> dict:
            return {"a": a, "d": d}

        assert TestClient(app).post("/", json={"a": {"x": 1}, "d": {"y": 2}}).status_code == 200
        print("pydantic" in sys.modules)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


# --- returned structured values ------------------------------------------------------


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0


class Tagged(msgspec.Struct):
    tag: str
    owner: Item | None = None  # a pydantic model inside a Struct


class Movie(TypedDict):
    title: str
    year: int


WHEN = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)


@attrs.define
class Stamp:
    at: datetime.datetime
    point: Point


ITEM = {"name": "a", "price": 1.0, "tags": []}
RETURNED: list[tuple[Any, Any]] = [
    (Point(1, 2), {"x": 1, "y": 2}),
    (Tagged("t"), {"tag": "t", "owner": None}),
    (Tagged("t", Item(name="a", price=1)), {"tag": "t", "owner": ITEM}),
    (Item(name="a", price=1), ITEM),
    (Aliased(itemId=4), {"itemId": 4}),  # by alias, as FastAPI sends a model
    (Dimensions(3), {"width": 3, "height": 1}),
    (Stamp(WHEN, Point(5)), {"at": "2024-05-06T07:08:09+00:00", "point": {"x": 5, "y": 0}}),
    (Movie(title="m", year=1999), {"title": "m", "year": 1999}),
    (
        [Point(1), Dimensions(2), Item(name="a", price=1)],
        [{"x": 1, "y": 0}, {"width": 2, "height": 1}, ITEM],
    ),
    (
        {"p": Parcel("box", [Dimensions(1, 2)])},
        {"p": {"label": "box", "sizes": [{"width": 1, "height": 2}]}},
    ),
]


@pytest.mark.parametrize("response_class", [JSONResponse, ORJSONResponse])
@pytest.mark.parametrize(("value", "expected"), RETURNED)
def test_returned_structured_values_are_encoded(
    value: Any, expected: Any, response_class: type[Response]
) -> None:
    def handler() -> Any:
        return value

    response = client_for(handler, method="GET", response_class=response_class).get("/b")
    assert response.status_code == 200, response.text
    assert response.json() == expected


def test_a_plain_dict_does_not_reach_the_default_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    from microweb import _json

    def refuse(obj: Any) -> Any:
        raise AssertionError(f"default called for {obj!r}")

    monkeypatch.setattr(_json, "default", refuse)
    assert (
        _json.dumps({"a": [1, "b", None, 2.5, {"c": True}]})
        == b'{"a":[1,"b",null,2.5,{"c":true}]}'
    )


# --- response_model ---------------------------------------------------------------


@dataclasses.dataclass
class PublicUser:
    name: str
    age: int = 0


@dataclasses.dataclass
class StoredUser(PublicUser):
    password: str = "secret"


class PublicStruct(msgspec.Struct):
    name: str


class PublicModel(pydantic.BaseModel):
    name: str
    joined: datetime.datetime | None = None
    user_id: int = pydantic.Field(0, alias="userId")


class StoredModel(PublicModel):
    password: str = "secret"


class Row:
    """Stands in for an ORM object: attributes, no mapping."""

    def __init__(self) -> None:
        self.name = "row"
        self.age = 5
        self.password = "secret"


def model_client(value: Any, model: Any, **route: Any) -> TestClient:
    def handler() -> Any:
        return value() if isinstance(value, type) else value  # a class: a fresh instance

    app = App()
    app.add_route("/b", handler, response_model=model, **route)
    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize(
    ("value", "model", "expected"),
    [
        ({"name": "a", "password": "x"}, PublicUser, {"name": "a", "age": 0}),
        (StoredUser("a", 3), PublicUser, {"name": "a", "age": 3}),
        (Row, PublicUser, {"name": "row", "age": 5}),
        (Row, PublicStruct, {"name": "row"}),
        ([{"name": "a", "password": "x"}], list[PublicStruct], [{"name": "a"}]),
        ({"name": "a", "age": "7", "password": "x"}, PublicUser | None, {"name": "a", "age": 7}),
        (StoredUser("a"), Parcel, None),  # no fit: a 500
        (
            StoredModel(name="a", userId=2, joined=WHEN),
            PublicModel,
            {"name": "a", "joined": "2024-05-06T07:08:09Z", "userId": 2},
        ),
        (Row, PublicModel, {"name": "row", "joined": None, "userId": 0}),
        ({"name": "a", "password": "x"}, list[PublicModel], None),  # no fit: a 500
        ([StoredUser("b")], list[PublicModel], [{"name": "b", "joined": None, "userId": 0}]),
    ],
)
def test_response_model_sends_only_the_models_fields(
    value: Any, model: Any, expected: Any, caplog: pytest.LogCaptureFixture
) -> None:
    response = model_client(value, model).get("/b")
    if expected is None:
        assert (response.status_code, response.text) == (500, "Internal Server Error")
        [record] = [r for r in caplog.records if r.name == "microweb"]
        assert "does not fit response_model=" in str(record.exc_info[1])  # type: ignore[index]
        assert "secret" not in response.text
    else:
        assert response.status_code == 200, response.text
        assert response.json() == expected
        assert "secret" not in response.text


def test_response_model_lets_a_returned_response_through_and_none_means_none() -> None:
    assert model_client(Response("raw"), PublicUser).get("/b").text == "raw"
    stored = StoredUser("a")
    assert model_client(stored, None).get("/b").json()["password"] == "secret"


def dependency_name() -> str:
    return "dep"


def test_response_model_with_dependencies_status_and_orjson() -> None:
    def handler(who: Annotated[str, Depends(dependency_name)]) -> Any:
        return StoredUser(who)

    client = client_for(
        handler,
        method="GET",
        response_model=PublicUser,
        status_code=201,
        response_class=ORJSONResponse,
    )
    response = client.get("/b")
    assert (response.status_code, response.json()) == (201, {"name": "dep", "age": 0})


def test_response_model_on_the_decorators_and_router() -> None:
    router = Router()

    @router.get("/r", response_model=PublicUser)
    async def from_router() -> StoredUser:
        return StoredUser("r")

    app = App()
    app.include_router(router, prefix="/api")

    @app.post("/p", response_model=PublicModel)
    def from_app() -> StoredModel:
        return StoredModel(name="p", userId=0)

    client = TestClient(app)
    assert client.get("/api/r").json() == {"name": "r", "age": 0}
    assert client.post("/p").json() == {"name": "p", "joined": None, "userId": 0}


def test_a_response_model_nothing_converts_into_is_refused_when_the_route_is_added() -> None:
    def handler() -> None:
        pass

    with pytest.raises(
        TypeError, match=r"response_model of handler '.*handler'.*Opaque is no type"
    ):
        client_for(handler, response_model=list[Opaque])
    with pytest.raises(TypeError, match=r"response_model of handler '.*handler'.* must be a type"):
        client_for(handler, response_model="User")


def test_pydantic_errors_are_worded_as_fastapi_words_them() -> None:
    def handler(items: list[Item]) -> int:
        return len(items)

    [error] = detail(client_for(handler).post("/b", json={"name": "a", "price": 1}))
    assert error == {
        "type": "list_type",
        "loc": ["body"],
        "msg": "Input should be a valid list",  # pydantic's JSON mode says "a valid array"
        "input": {"name": "a", "price": 1},
    }


class DraftModel(pydantic.BaseModel):
    name: str
    tax: float = 10.5
    tags: list[str] = []
    user_id: int = pydantic.Field(0, alias="userId")


@pytest.mark.parametrize(
    ("value", "model", "options", "expected"),
    [
        # exclude_unset: only what the value set (pydantic's rule, a dict's keys for msgspec)
        (
            DraftModel.model_validate({"name": "a"}),
            DraftModel,
            {"response_model_exclude_unset": True},
            {"name": "a"},
        ),
        (
            {"name": "a", "tax": 1.0},
            DraftModel,
            {"response_model_exclude_unset": True},
            {"name": "a", "tax": 1.0},
        ),
        ({"name": "a"}, PublicUser, {"response_model_exclude_unset": True}, {"name": "a"}),
        (
            [{"name": "a"}],
            list[PublicUser],
            {"response_model_exclude_unset": True},
            [{"name": "a"}],
        ),
        # include / exclude, by field name; a list or tuple is taken as a set
        (
            DraftModel.model_validate({"name": "a"}),
            DraftModel,
            {"response_model_include": ["name", "tax"]},
            {"name": "a", "tax": 10.5},
        ),
        (
            StoredUser("a", 3),
            PublicUser,
            {"response_model_include": {"name", "password"}},
            {"name": "a"},
        ),
        (
            StoredUser("a", 3),
            PublicUser,
            {"response_model_exclude": ("age",)},
            {"name": "a"},
        ),
        (
            DraftModel.model_validate({"name": "a"}),
            DraftModel,
            {"response_model_exclude": {"tags", "tax"}},
            {"name": "a", "userId": 0},
        ),
        # by_alias=False: the field names
        (
            DraftModel.model_validate({"name": "a", "userId": 4}),
            DraftModel,
            {"response_model_by_alias": False, "response_model_include": {"user_id"}},
            {"user_id": 4},
        ),
    ],
)
def test_response_model_options_choose_the_fields_sent(
    value: Any, model: Any, options: dict[str, Any], expected: Any
) -> None:
    response = model_client(value, model, **options).get("/b")
    assert response.status_code == 200, response.text
    assert response.json() == expected


def test_response_model_options_are_kept_under_a_prefix_and_checked() -> None:
    router = Router()

    @router.get("/r", response_model=PublicUser, response_model_exclude={"age"})
    def handler() -> StoredUser:
        return StoredUser("r", 9)

    app = App()
    app.include_router(router, prefix="/api")
    assert TestClient(app).get("/api/r").json() == {"name": "r"}
    with pytest.raises(TypeError, match=r"response_model_include of route GET '/x' must be a set"):
        App().add_route("/x", handler, response_model=PublicUser, response_model_include="name")
    with pytest.raises(
        TypeError, match=r"response_model_exclude_unset of route .* must be a bool"
    ):
        App().add_route("/x", handler, response_model_exclude_unset=1)  # type: ignore[arg-type]
