"""Query, header and cookie models: a model class under Query(), Header() or Cookie()."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Annotated, Any, Literal

import pydantic
import pytest

from microweb import App
from microweb.params import Cookie, Header, Query
from microweb.testclient import TestClient


class Filters(pydantic.BaseModel):
    limit: int = pydantic.Field(100, gt=0, le=100)
    order_by: Literal["created", "updated"] = "created"
    tags: list[str] = []


class Paging(pydantic.BaseModel):
    limit: int = 10
    offset: int = 0
    exact: bool = False


class Span(pydantic.BaseModel):
    start: datetime.date
    end: datetime.date


class Client(pydantic.BaseModel):
    save_data: bool
    x_tag: list[str] = []


class Prefs(pydantic.BaseModel):
    theme: str
    size: int = 12


@dataclasses.dataclass
class Point:
    x: int


def client_for(handler: Any) -> TestClient:
    app = App()
    app.add_route("/m", handler)
    return TestClient(app)


def test_a_query_model_takes_the_query_string_field_by_field() -> None:
    def handler(f: Annotated[Filters, Query()], p: Annotated[Paging, Query()]) -> Any:
        return {"f": f.model_dump(), "p": p.model_dump()}

    client = client_for(handler)
    got = client.get("/m?limit=5&tags=a&tags=b&offset=2&exact=true").json()
    assert got == {
        "f": {"limit": 5, "order_by": "created", "tags": ["a", "b"]},
        "p": {"limit": 5, "offset": 2, "exact": True},
    }
    assert client.get("/m").json()["p"] == {"limit": 10, "offset": 0, "exact": False}


class Closed(Filters):
    model_config = {"extra": "forbid"}


def test_a_query_models_422_lists_every_field_as_fastapi_writes_it() -> None:
    def handler(f: Annotated[Closed, Query()]) -> Any:
        return f

    response = client_for(handler).get("/m?limit=150&order_by=x&tool=y")
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "less_than_equal",
                "loc": ["query", "limit"],
                "msg": "Input should be less than or equal to 100",
                "input": "150",
                "ctx": {"le": 100},
            },
            {
                "type": "literal_error",
                "loc": ["query", "order_by"],
                "msg": "Input should be 'created' or 'updated'",
                "input": "x",
                "ctx": {"expected": "'created' or 'updated'"},
            },
            {
                "type": "extra_forbidden",
                "loc": ["query", "tool"],
                "msg": "Extra inputs are not permitted",
                "input": "y",
            },
        ]
    }


def test_an_optional_query_model_defaults_when_none_of_its_keys_is_sent() -> None:
    def handler(
        p: Annotated[Paging, Query()], span: Annotated[Span | None, Query()] = None
    ) -> Any:
        return {"span": span and [span.start.isoformat(), span.end.isoformat()]}

    client = client_for(handler)
    assert client.get("/m").json() == {"span": None}
    assert client.get("/m?start=2024-01-02&end=2024-02-03").json() == {
        "span": ["2024-01-02", "2024-02-03"]
    }
    detail = client.get("/m?limit=x&start=2024-01-02").json()["detail"]
    assert [(d["type"], d["loc"]) for d in detail] == [
        ("int_parsing", ["query", "limit"]),
        ("missing", ["query", "end"]),
    ]


def test_a_header_model_reads_dashed_names_and_its_422_names_the_header() -> None:
    def converted(h: Annotated[Client, Header()]) -> Any:
        return h

    def as_named(h: Annotated[Client, Header(convert_underscores=False)]) -> Any:
        return h

    client = client_for(converted)
    sent = [("save-data", "true"), ("x-tag", "a"), ("x-tag", "b")]
    assert client.get("/m", headers=sent).json() == {"save_data": True, "x_tag": ["a", "b"]}
    [error] = client.get("/m").json()["detail"]
    assert (error["type"], error["loc"]) == ("missing", ["header", "save-data"])
    assert error["input"]["user-agent"] == "testclient"

    client = client_for(as_named)
    assert client.get("/m", headers={"save_data": "1"}).json()["save_data"] is True
    [error] = client.get("/m", headers={"save-data": "1"}).json()["detail"]
    assert error["loc"] == ["header", "save_data"]


def test_a_cookie_model_takes_the_cookies() -> None:
    def handler(prefs: Annotated[Prefs, Cookie()]) -> Any:
        return prefs

    client = client_for(handler)
    got = client.get("/m", headers={"cookie": "theme=dark; size=14"}).json()
    assert got == {"theme": "dark", "size": 14}
    detail = client.get("/m", headers={"cookie": "size=big"}).json()["detail"]
    assert sorted((d["type"], d["loc"][1]) for d in detail) == [
        ("int_parsing", "size"),
        ("missing", "theme"),
    ]
    assert all(d["loc"][0] == "cookie" for d in detail)


def test_constraints_on_a_model_marker_are_refused_when_the_route_is_added() -> None:
    def handler(f: Annotated[Filters, Query(max_length=3)]) -> None:
        pass

    with pytest.raises(TypeError, match=r"parameter 'f' of handler .* is a query model: "):
        client_for(handler)


def test_only_a_pydantic_model_fills_from_the_query_headers_or_cookies() -> None:
    def handler(p: Annotated[Point, Cookie()]) -> None:
        pass

    with pytest.raises(TypeError, match=r"parameter 'p' .*which a cookie cannot carry"):
        client_for(handler)
