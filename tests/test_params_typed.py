"""Typed request data (SPEC "Typed request data"): markers, sources, constraints, JSON bodies."""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Annotated, Any, Literal, NamedTuple, TypedDict, cast

import msgspec
import pydantic
import pytest

from microweb import App, JSONResponse, Request
from microweb.exceptions import RequestValidationError
from microweb.params import Body, Cookie, Header, Path, Query
from microweb.testclient import TestClient

JSON = {"content-type": "application/json"}


def client_for(handler: Any, path: str = "/q", method: str = "GET", **app: Any) -> TestClient:
    application = App(**app)
    application.add_route(path, handler, methods=[method])
    return TestClient(application)


def detail(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    items: list[dict[str, Any]] = response.json()["detail"]
    return items


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Tag(msgspec.Struct):
    name: str
    weight: Annotated[int, msgspec.Meta(ge=0)] = 0


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[Tag] = []
    note: str | None = None


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0


class Movie(TypedDict):
    title: str
    year: int


class Pair(NamedTuple):
    left: int
    right: str


# --- markers and sources -------------------------------------------------------------


def test_query_marker_default_alias_and_annotated() -> None:
    def handler(
        limit: int = Query(10),
        page: Annotated[int, Query(alias="p")] = 1,
        q: Annotated[str | None, Query(max_length=5)] = None,
    ) -> dict[str, Any]:
        return {"limit": limit, "page": page, "q": q}

    client = client_for(handler)
    assert client.get("/q").json() == {"limit": 10, "page": 1, "q": None}
    assert client.get("/q?limit=3&p=2&q=abc").json() == {"limit": 3, "page": 2, "q": "abc"}
    # The alias is the name as sent: "page" itself is not read, and loc names "p".
    assert client.get("/q?page=9").json()["page"] == 1
    assert detail(client.get("/q?p=x")) == [
        {
            "type": "int_parsing",
            "loc": ["query", "p"],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "input": "x",
        }
    ]


def test_required_query_marker() -> None:
    def handler(n: Annotated[int, Query()]) -> int:
        return n

    assert detail(client_for(handler).get("/q")) == [
        {"type": "missing", "loc": ["query", "n"], "msg": "Field required", "input": None}
    ]


def test_path_marker_with_constraints() -> None:
    def handler(item_id: Annotated[int, Path(ge=1)]) -> int:
        return item_id

    client = client_for(handler, "/items/{item_id}")
    assert client.get("/items/3").json() == 3
    assert detail(client.get("/items/0")) == [
        {
            "type": "greater_than_equal",
            "loc": ["path", "item_id"],
            "msg": "Input should be greater than or equal to 1",
            "input": "0",
            "ctx": {"ge": 1},
        }
    ]


def test_path_marker_on_a_typed_convertor_checks_the_converted_value() -> None:
    def handler(item_id: Annotated[int, Path(lt=10)]) -> int:
        return item_id

    client = client_for(handler, "/items/{item_id:int}")
    assert client.get("/items/9").json() == 9
    assert detail(client.get("/items/10"))[0]["type"] == "less_than"


def test_header_marker_converts_underscores_and_lists() -> None:
    def handler(
        user_agent: Annotated[str, Header()],
        x_token: Annotated[list[str], Header()] = [],  # noqa: B006 (copied per request)
        raw_name: Annotated[str | None, Header(convert_underscores=False)] = None,
        count: Annotated[int, Header(alias="X-Count")] = 0,
    ) -> dict[str, Any]:
        return {"ua": user_agent, "tokens": x_token, "raw": raw_name, "count": count}

    client = client_for(handler)
    headers = [
        ("user-agent", "tests"),
        ("x-token", "a"),
        ("x-token", "b"),
        ("raw_name", "kept"),
        ("x-count", "4"),
    ]
    assert client.get("/q", headers=headers).json() == {
        "ua": "tests",
        "tokens": ["a", "b"],
        "raw": "kept",
        "count": 4,
    }
    r = client.get("/q", headers={"user-agent": "t", "x-count": "many"})
    assert detail(r) == [
        {
            "type": "int_parsing",
            "loc": ["header", "x-count"],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "input": "many",
        }
    ]


def test_missing_header_names_the_header() -> None:
    def handler(x_api_key: Annotated[str, Header()]) -> str:
        return x_api_key

    app = App()
    app.add_route("/q", handler)
    # The test client sends a user-agent, no x-api-key.
    assert detail(TestClient(app).get("/q")) == [
        {"type": "missing", "loc": ["header", "x-api-key"], "msg": "Field required", "input": None}
    ]


def test_cookie_marker() -> None:
    def handler(
        session: Annotated[str, Cookie()],
        visits: Annotated[int, Cookie(ge=0)] = 0,
        theme: Annotated[str, Cookie(alias="ui-theme")] = "light",
    ) -> dict[str, Any]:
        return {"session": session, "visits": visits, "theme": theme}

    client = client_for(handler)
    r = client.get("/q", headers={"cookie": "session=abc; visits=3; ui-theme=dark"})
    assert r.json() == {"session": "abc", "visits": 3, "theme": "dark"}
    assert detail(client.get("/q", headers={"cookie": "visits=-1"})) == [
        {"type": "missing", "loc": ["cookie", "session"], "msg": "Field required", "input": None},
        {
            "type": "greater_than_equal",
            "loc": ["cookie", "visits"],
            "msg": "Input should be greater than or equal to 0",
            "input": "-1",
            "ctx": {"ge": 0},
        },
    ]


# --- constraints, each item compared whole ---------------------------------------------


CONSTRAINT_CASES: list[tuple[Any, str, dict[str, Any]]] = [
    (
        Annotated[int, Query(gt=0)],
        "-1",
        {"type": "greater_than", "msg": "Input should be greater than 0", "ctx": {"gt": 0}},
    ),
    (
        Annotated[int, Query(ge=1)],
        "0",
        {
            "type": "greater_than_equal",
            "msg": "Input should be greater than or equal to 1",
            "ctx": {"ge": 1},
        },
    ),
    (
        Annotated[float, Query(lt=2.5)],
        "2.5",
        {"type": "less_than", "msg": "Input should be less than 2.5", "ctx": {"lt": 2.5}},
    ),
    (
        Annotated[int, Query(le=10)],
        "11",
        {
            "type": "less_than_equal",
            "msg": "Input should be less than or equal to 10",
            "ctx": {"le": 10},
        },
    ),
    (
        Annotated[int, Query(multiple_of=3)],
        "7",
        {
            "type": "multiple_of",
            "msg": "Input should be a multiple of 3",
            "ctx": {"multiple_of": 3},
        },
    ),
    (
        Annotated[str, Query(min_length=3)],
        "ab",
        {
            "type": "string_too_short",
            "msg": "String should have at least 3 characters",
            "ctx": {"min_length": 3},
        },
    ),
    (
        Annotated[str, Query(max_length=1)],
        "ab",
        {
            "type": "string_too_long",
            "msg": "String should have at most 1 character",
            "ctx": {"max_length": 1},
        },
    ),
    (
        Annotated[str, Query(pattern="^[a-z]+$")],
        "AB",
        {
            "type": "string_pattern_mismatch",
            "msg": "String should match pattern '^[a-z]+$'",
            "ctx": {"pattern": "^[a-z]+$"},
        },
    ),
    (
        int,
        "x",
        {
            "type": "int_parsing",
            "msg": "Input should be a valid integer, unable to parse string as an integer",
        },
    ),
    (
        float,
        "x",
        {
            "type": "float_parsing",
            "msg": "Input should be a valid number, unable to parse string as a number",
        },
    ),
    (
        bool,
        "maybe",
        {
            "type": "bool_parsing",
            "msg": "Input should be a valid boolean, unable to interpret input",
        },
    ),
    (
        Color,
        "green",
        {
            "type": "enum",
            "msg": "Input should be 'red' or 'blue'",
            "ctx": {"expected": "'red' or 'blue'"},
        },
    ),
    (
        Literal["x", "y"],
        "z",
        {
            "type": "literal_error",
            "msg": "Input should be 'x' or 'y'",
            "ctx": {"expected": "'x' or 'y'"},
        },
    ),
]


@pytest.mark.parametrize(("annotation", "sent", "expected"), CONSTRAINT_CASES)
def test_each_constraint_and_parse_error_item(
    annotation: Any, sent: str, expected: dict[str, Any]
) -> None:
    def handler(v: Any) -> str:
        return "ok"

    handler.__annotations__ = {"v": annotation, "return": str}
    r = client_for(handler).get("/q", params={"v": sent})
    assert detail(r) == [{**expected, "loc": ["query", "v"], "input": sent}]


def test_list_length_constraints() -> None:
    def handler(
        ids: Annotated[list[int], Query(min_length=2, max_length=3)],
    ) -> list[int]:
        return ids

    client = client_for(handler)
    assert client.get("/q?ids=1&ids=2").json() == [1, 2]
    assert detail(client.get("/q?ids=1")) == [
        {
            "type": "too_short",
            "loc": ["query", "ids"],
            "msg": "List should have at least 2 items after validation, not 1",
            "input": ["1"],
            "ctx": {"field_type": "List", "min_length": 2, "actual_length": 1},
        }
    ]
    assert detail(client.get("/q?ids=1&ids=2&ids=3&ids=4")) == [
        {
            "type": "too_long",
            "loc": ["query", "ids"],
            "msg": "List should have at most 3 items after validation, not 4",
            "input": ["1", "2", "3", "4"],
            "ctx": {"field_type": "List", "max_length": 3, "actual_length": 4},
        }
    ]


def test_a_number_reports_only_its_first_broken_constraint() -> None:
    # pydantic's order: multiple_of before the bounds.
    def handler(n: Annotated[int, Query(gt=0, multiple_of=2)]) -> int:
        return n

    assert [e["type"] for e in detail(client_for(handler).get("/q?n=-1"))] == ["multiple_of"]


def test_request_validation_error_can_be_reshaped() -> None:
    app = App()

    @app.exception_handler(RequestValidationError)
    async def reshape(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse(
            {"errors": [e["loc"] for e in exc.errors()], "body": exc.body}, status_code=400
        )

    @app.post("/items")
    async def create(item: Item, n: int) -> Item:
        return item

    r = TestClient(app).post("/items", content=b'{"name": "a"}', headers=JSON)
    assert r.status_code == 400
    assert r.json() == {
        "errors": [["query", "n"], ["body", "price"]],
        "body": {"name": "a"},
    }


# --- JSON bodies -----------------------------------------------------------------------


def test_a_struct_body_is_decoded_and_returned() -> None:
    async def create(item: Item) -> Item:
        return item

    client = client_for(create, "/items", "POST")
    body = {"name": "pen", "price": "1.5", "tags": [{"name": "blue"}]}
    r = client.post("/items", json=body)
    assert r.status_code == 200
    # Lax: "1.5" became a float; the Struct encodes under JSONResponse.
    assert r.json() == {
        "name": "pen",
        "price": 1.5,
        "tags": [{"name": "blue", "weight": 0}],
        "note": None,
    }


@pytest.mark.parametrize(
    ("annotation", "sent", "expected"),
    [
        (Point, {"x": "1"}, {"x": 1, "y": 0}),
        (Movie, {"title": "Up", "year": 2009}, {"title": "Up", "year": 2009}),
        (Pair, [1, "a"], [1, "a"]),
        (list[Point], [{"x": 1}, {"x": 2, "y": 3}], [{"x": 1, "y": 0}, {"x": 2, "y": 3}]),
        (dict[str, Point], {"a": {"x": 1}}, {"a": {"x": 1, "y": 0}}),
        (Point | None, {"x": 5}, {"x": 5, "y": 0}),
    ],
)
def test_structured_types_are_the_body(annotation: Any, sent: Any, expected: Any) -> None:
    def handler(value: Any) -> Any:
        return value

    handler.__annotations__ = {"value": annotation, "return": Any}
    r = client_for(handler, "/b", "POST").post("/b", json=sent)
    assert r.status_code == 200, r.text
    assert r.json() == expected


def test_several_body_parameters_are_keys() -> None:
    def handler(item: Item, point: Point, importance: Annotated[int, Body(gt=0)]) -> Any:
        return {"item": item.name, "x": point.x, "importance": importance}

    client = client_for(handler, "/b", "POST")
    body = {"item": {"name": "a", "price": 1}, "point": {"x": 2}, "importance": 5}
    assert client.post("/b", json=body).json() == {"item": "a", "x": 2, "importance": 5}
    r = client.post("/b", json={"item": {"name": "a"}, "importance": 0})
    assert detail(r) == [
        {
            "type": "missing",
            "loc": ["body", "item", "price"],
            "msg": "Field required",
            "input": {"name": "a"},
        },
        {"type": "missing", "loc": ["body", "point"], "msg": "Field required", "input": None},
        {
            "type": "greater_than",
            "loc": ["body", "importance"],
            "msg": "Input should be greater than 0",
            "input": 0,
            "ctx": {"gt": 0},
        },
    ]


def test_embed_forces_the_key_form() -> None:
    def handler(item: Annotated[Item, Body(embed=True)]) -> str:
        return item.name

    client = client_for(handler, "/b", "POST")
    assert client.post("/b", json={"item": {"name": "a", "price": 1}}).json() == "a"
    assert detail(client.post("/b", json={"name": "a", "price": 1})) == [
        {"type": "missing", "loc": ["body", "item"], "msg": "Field required", "input": None}
    ]


def test_optional_body_defaults() -> None:
    def handler(item: Item | None = None) -> Any:
        return None if item is None else item.name

    client = client_for(handler, "/b", "POST")
    assert client.post("/b").json() is None
    assert client.post("/b", json={"name": "a", "price": 1}).json() == "a"


def test_missing_body() -> None:
    def handler(item: Item) -> str:
        return item.name

    assert detail(client_for(handler, "/b", "POST").post("/b")) == [
        {"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}
    ]


def test_nested_errors_are_all_listed_with_their_location() -> None:
    def handler(item: Item) -> str:
        return item.name

    body = {"name": 1, "price": "x", "tags": [{"name": "a", "weight": -1}, {}, 3]}
    r = client_for(handler, "/b", "POST").post("/b", json=body)
    assert detail(r) == [
        {
            "type": "string_type",
            "loc": ["body", "name"],
            "msg": "Input should be a valid string",
            "input": 1,
        },
        {
            "type": "float_parsing",
            "loc": ["body", "price"],
            "msg": "Input should be a valid number, unable to parse string as a number",
            "input": "x",
        },
        {
            "type": "greater_than_equal",
            "loc": ["body", "tags", 0, "weight"],
            "msg": "Input should be greater than or equal to 0",
            "input": -1,
            "ctx": {"ge": 0},
        },
        {
            "type": "missing",
            "loc": ["body", "tags", 1, "name"],
            "msg": "Field required",
            "input": {},
        },
        {
            "type": "model_attributes_type",
            "loc": ["body", "tags", 2],
            "msg": "Input should be a valid dictionary or object to extract fields from",
            "input": 3,
        },
    ]


def test_a_long_input_is_shortened() -> None:
    def handler(item: Item) -> str:
        return item.name

    r = client_for(handler, "/b", "POST").post("/b", json={"name": "a", "price": "9" * 5000})
    [error] = detail(r)
    assert error["input"] == "9" * 200 + "..."


def test_wrong_top_level_shape() -> None:
    def handler(item: Item) -> str:
        return item.name

    assert detail(client_for(handler, "/b", "POST").post("/b", json=[1])) == [
        {
            "type": "model_attributes_type",
            "loc": ["body"],
            "msg": "Input should be a valid dictionary or object to extract fields from",
            "input": [1],
        }
    ]


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "application/vnd.api+json"],
)
def test_json_content_types_are_accepted(content_type: str) -> None:
    def handler(point: Point) -> int:
        return point.x

    client = client_for(handler, "/b", "POST")
    r = client.post("/b", content=b'{"x": 1}', headers={"content-type": content_type})
    assert r.json() == 1


@pytest.mark.parametrize("headers", [{"content-type": "text/plain"}, {}])
def test_a_typed_body_needs_a_json_content_type(headers: dict[str, str]) -> None:
    # FastAPI 0.132+: a body that is not declared JSON is validated as its text.
    def handler(point: Point) -> int:
        return point.x

    r = client_for(handler, "/b", "POST").post("/b", content=b'{"x": 1}', headers=headers)
    assert detail(r) == [
        {
            "type": "model_attributes_type",
            "loc": ["body"],
            "msg": "Input should be a valid dictionary or object to extract fields from",
            "input": '{"x": 1}',
        }
    ]


def test_json_invalid_is_worded_as_fastapi_words_it() -> None:
    def handler(point: Point) -> int:
        return point.x

    r = client_for(handler, "/b", "POST").post("/b", content=b'{"x": 1,', headers=JSON)
    assert detail(r) == [
        {
            "type": "json_invalid",
            "loc": ["body", 8],
            "msg": "JSON decode error",
            "input": {},
            "ctx": {"error": "Expecting property name enclosed in double quotes"},
        }
    ]


def test_the_json_depth_limit_holds_for_typed_bodies() -> None:
    def handler(value: Annotated[dict[str, Any], Body()]) -> str:
        return "ok"

    client = client_for(handler, "/b", "POST")
    deep = b'{"a":' + b"[" * 600 + b"]" * 600 + b"}"
    r = client.post("/b", content=deep, headers=JSON)
    assert r.status_code == 400
    assert "nested deeper than 512" in r.json()["detail"]
    deeper = b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert client.post("/b", content=deeper, headers=JSON).status_code == 400
    shallow = b'{"a":' + b"[" * 100 + b"]" * 100 + b"}"
    assert client.post("/b", content=shallow, headers=JSON).json() == "ok"


def test_max_body_size_and_budget_hold_for_typed_bodies() -> None:
    def handler(item: Item) -> str:
        return item.name

    body = json.dumps({"name": "a" * 2000, "price": 1}).encode()
    client = client_for(handler, "/b", "POST", max_body_size=1000)
    assert client.post("/b", content=body, headers=JSON).status_code == 413
    client = client_for(handler, "/b", "POST", request_memory_budget=1000)
    assert client.post("/b", content=body, headers=JSON).status_code == 413
    client = client_for(handler, "/b", "POST", max_body_size=10_000)
    assert client.post("/b", content=body, headers=JSON).status_code == 200


def test_the_handler_request_shares_the_body() -> None:
    async def handler(item: Item, request: Request) -> Any:
        return {"name": item.name, "raw": (await request.json())["name"]}

    r = client_for(handler, "/b", "POST").post("/b", json={"name": "a", "price": 1})
    assert r.json() == {"name": "a", "raw": "a"}


def test_a_body_and_query_errors_come_together() -> None:
    def handler(item: Item, n: int) -> str:
        return item.name

    r = client_for(handler, "/b", "POST").post("/b", json={"price": 1})
    assert [e["loc"] for e in detail(r)] == [["query", "n"], ["body", "name"]]


def test_returned_structs_encode() -> None:
    def handler() -> list[Any]:
        return [Tag("a"), Point(1), Movie(title="t", year=1)]

    assert client_for(handler).get("/q").json() == [
        {"name": "a", "weight": 0},
        {"x": 1, "y": 0},
        {"title": "t", "year": 1},
    ]


# --- definition-time errors ------------------------------------------------------------


def _define(handler: Any, path: str = "/q") -> None:
    App().add_route(path, handler)


@pytest.mark.parametrize(
    ("marker", "error", "match"),
    [
        (
            Query(gt=cast(Any, "a")),
            TypeError,
            r"parameter 'v' of handler '.*handler' of route GET '/q': gt='a' is not a number",
        ),
        (Query(min_length=-1), TypeError, r"parameter 'v' .*min_length=-1"),
        (Query(pattern="("), ValueError, r"parameter 'v' .*pattern='\(' does not compile"),
    ],
)
def test_bad_constraints_are_definition_errors(
    marker: Any, error: type[Exception], match: str
) -> None:
    def handler(v: str = marker) -> str:
        return v

    with pytest.raises(error, match=match):
        _define(handler)


def test_a_marker_given_twice_is_a_definition_error() -> None:
    def handler(v: Annotated[int, Query()] = Query(1)) -> int:
        return v

    with pytest.raises(TypeError, match=r"parameter 'v' of handler '.*handler'.*two markers"):
        _define(handler)


def test_a_default_given_twice_is_a_definition_error() -> None:
    def handler(v: Annotated[int, Query(2)] = 1) -> int:
        return v

    with pytest.raises(TypeError, match=r"parameter 'v' .*give it once"):
        _define(handler)


def test_a_path_marker_needs_the_name_in_the_path() -> None:
    def handler(item_id: Annotated[int, Path()]) -> int:
        return item_id

    with pytest.raises(
        ValueError, match=r"parameter 'item_id' of handler '.*handler' of .*Path\(\)"
    ):
        _define(handler, "/items")


def test_a_structured_header_is_a_definition_error() -> None:
    def handler(v: Annotated[Point, Header()]) -> None:
        return None

    with pytest.raises(TypeError, match=r"parameter 'v' .*which a header cannot carry"):
        _define(handler)


def test_an_undecodable_body_type_is_a_definition_error() -> None:
    class Opaque:
        pass

    def handler(v: Annotated[Opaque, Body()]) -> None:
        return None

    handler.__annotations__["v"] = Annotated[Opaque, Body()]
    with pytest.raises(
        TypeError,
        match=r"body parameter 'v' of handler '.*handler'.*Opaque is no type JSON decodes into",
    ):
        _define(handler)


def test_a_body_that_is_no_object_lacks_every_key() -> None:
    # FastAPI's rule for several body parameters (or an embedded one).
    def handler(item: Item, point: Point) -> str:
        return "ok"

    r = client_for(handler, "/b", "POST").post("/b", json=[])
    assert detail(r) == [
        {"type": "missing", "loc": ["body", "item"], "msg": "Field required", "input": None},
        {"type": "missing", "loc": ["body", "point"], "msg": "Field required", "input": None},
    ]


def test_a_number_where_a_boolean_belongs_is_a_parsing_error() -> None:
    @dataclasses.dataclass
    class Flag:
        on: bool

    def handler(flag: Any) -> bool:
        return bool(flag.on)

    handler.__annotations__ = {"flag": Flag, "return": bool}
    client = client_for(handler, "/b", "POST")
    assert client.post("/b", json={"on": 1}).json() is True  # 0 and 1 are booleans (lax)
    assert detail(client.post("/b", json={"on": 3})) == [
        {
            "type": "bool_parsing",
            "loc": ["body", "on"],
            "msg": "Input should be a valid boolean, unable to interpret input",
            "input": 3,
        }
    ]


class Node(msgspec.Struct):
    value: int
    children: list[Node] = []


def test_deep_bodies_that_do_not_fit_never_give_a_500() -> None:
    def handler(node: Node) -> int:
        return node.value

    client = client_for(handler, "/b", "POST")
    # Past every parser's limit, after a misfit at the first byte: 400 too deep.
    deep = b"[" * 100_000 + b"]" * 100_000
    assert client.post("/b", content=deep, headers=JSON).status_code == 400
    # Within MAX_DEPTH, a recursive model and a misfit at the bottom: a 422.
    depth = 250  # two JSON levels each: 500 in all
    body = b'{"value": 1, "children": [' * depth + b'{"value": "x"}' + b"]}" * depth
    r = client.post("/b", content=body, headers=JSON)
    assert r.status_code == 422
    [error] = r.json()["detail"]
    assert error["loc"][0] == "body"
    shallow = b'{"value": 1, "children": [' * 3 + b'{"value": "x"}' + b"]}" * 3
    [error] = detail(client.post("/b", content=shallow, headers=JSON))
    assert error["loc"] == ["body", *(["children", 0] * 3), "value"]


def test_a_float_parameter_reports_its_bounds_as_floats() -> None:
    # pydantic's ctx holds the bound as the field's type; its message writes 3.0 as 3.
    def handler(g: Annotated[float, Query(lt=3)]) -> float:
        return g

    r = client_for(handler).get("/q?g=3")
    [error] = detail(r)
    assert error["msg"] == "Input should be less than 3"
    assert r.text.count('"ctx":{"lt":3.0}') == 1


def test_a_single_scalar_body_parameter_is_the_whole_body() -> None:
    def handler(importance: Annotated[int, Body(ge=1)]) -> int:
        return importance

    client = client_for(handler, "/b", "POST")
    assert client.post("/b", content=b"5", headers=JSON).json() == 5
    assert detail(client.post("/b", content=b"0", headers=JSON)) == [
        {
            "type": "greater_than_equal",
            "loc": ["body"],
            "msg": "Input should be greater than or equal to 1",
            "input": 0,
            "ctx": {"ge": 1},
        }
    ]


@pytest.mark.parametrize(
    ("annotation", "sent", "expected"),
    [
        (Movie, {"title": "Up"}, [("missing", ["body", "year"], {"title": "Up"})]),
        (Movie, {"title": "Up", "year": "x"}, [("int_parsing", ["body", "year"], "x")]),
        (Pair, [1], [("missing", ["body", 1], [1])]),
        (Pair, {"left": 1}, [("list_type", ["body"], {"left": 1})]),
        (dict[str, Point], {"a": {"x": "y"}}, [("int_parsing", ["body", "a", "x"], "y")]),
        (dict[str, Point], [1], [("dict_type", ["body"], [1])]),
        (list[Point], {"x": 1}, [("list_type", ["body"], {"x": 1})]),
        (Point | None, {"x": None}, [("int_type", ["body", "x"], None)]),
        (Point, {"x": 1.5}, [("int_from_float", ["body", "x"], 1.5)]),
        (Annotated[tuple[int, str], Body()], [1], [("tuple_type", ["body"], [1])]),
        (Annotated[tuple[int, str], Body()], ["a", "b"], [("int_parsing", ["body", 0], "a")]),
    ],
)
def test_every_structure_explains_its_errors(
    annotation: Any, sent: Any, expected: list[tuple[str, list[Any], Any]]
) -> None:
    def handler(value: Any) -> str:
        return "ok"

    handler.__annotations__ = {"value": annotation, "return": str}
    r = client_for(handler, "/b", "POST").post("/b", json=sent)
    assert [(e["type"], e["loc"], e["input"]) for e in detail(r)] == expected


class Named(pydantic.BaseModel):
    name: str


def test_a_non_finite_float_in_a_422_input_is_written_null() -> None:
    # pydantic reads -Infinity; the 422 echoing it must still be valid JSON (not a 500).
    def handler(item: Named) -> str:
        return item.name

    client = client_for(handler, "/b", "POST")
    r = client.post("/b", content=b'{"price": -Infinity}', headers=JSON)
    assert detail(r) == [
        {
            "type": "missing",
            "loc": ["body", "name"],
            "msg": "Field required",
            "input": {"price": None},
        }
    ]
