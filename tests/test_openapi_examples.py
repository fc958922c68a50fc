"""openapi-spec-validator accepts the OpenAPI document of every example app."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from microweb import App

EXAMPLES = sorted(
    path.stem
    for path in (Path(__file__).parent.parent / "examples").glob("*.py")
    if path.stem != "__init__" and "\napp = " in path.read_text(encoding="utf-8")
)


def test_there_are_examples() -> None:
    assert "api" in EXAMPLES
    assert len(EXAMPLES) >= 10


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_document_is_valid_openapi_3_1(name: str) -> None:
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.validators import OpenAPIV31SpecValidator

    app = importlib.import_module(f"examples.{name}").app
    assert isinstance(app, App)
    document = app.openapi()
    assert document["openapi"] == "3.1.0"
    validate(document, cls=OpenAPIV31SpecValidator)  # raises, naming the fault


def test_api_example_answers() -> None:
    from examples.api import app
    from microweb.testclient import TestClient

    client = TestClient(app)
    assert client.get("/items/3").json() == {
        "id": 3,
        "item": {"name": "item 3", "price": 1.0, "tags": []},
    }
    created = client.post("/items", json={"name": "pen", "price": 2})
    assert created.status_code == 201
    assert created.json() == {"id": 1, "item": {"name": "pen", "price": 2.0, "tags": []}}
    bulk = client.post("/items/bulk", json=[{"name": "a", "price": 1}, {"name": "b", "price": 2}])
    assert [stored["id"] for stored in bulk.json()] == [1, 2]
    replaced = client.put("/items/4", json={"item": {"name": "c", "price": 3}})
    assert replaced.json()["id"] == 4
    assert client.get("/users/ada").json() == {"username": "ada"}
    assert client.get("/users/Ada").status_code == 422
    found = client.get("/search", params={"q": "pen", "color": "red", "tag": ["a", "b"]})
    assert found.json() == {"q": "pen", "limit": 10, "color": "red", "tags": ["a", "b"]}
    assert client.get("/search", params={"q": "pen", "limit": 0}).status_code == 422
    caller = client.get("/caller", headers={"x-token": "t", "cookie": "session=s"})
    assert caller.json() == {"token": "t", "session": "s"}


def test_api_example_secured_operations() -> None:
    from examples.api import app
    from microweb.testclient import TestClient

    client = TestClient(app)
    bearer = client.get("/secure/bearer", headers={"authorization": "Bearer demo-token"})
    assert bearer.json() == {"name": "demo", "via": "bearer"}
    assert client.get("/secure/bearer", headers={"authorization": "Bearer x"}).status_code == 401
    assert client.get("/secure/key", headers={"x-api-key": "demo-key"}).status_code == 200
    assert client.get("/secure/key", headers={"x-api-key": "guess"}).status_code == 401
    assert client.get("/secure/basic", auth=("admin", "demo-password")).status_code == 200
    refused = client.get("/secure/basic", auth=("admin", "guess"))
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'Basic realm="shop"'
    login = client.post("/token", data={"username": "ann", "password": "demo-password"})
    token = login.json()["access_token"]
    assert login.json()["token_type"] == "bearer"
    me = client.get("/users/me", headers={"authorization": f"Bearer {token}"})
    assert me.json() == {"name": "ann", "via": "oauth2"}
    wrong = client.post("/token", data={"username": "ann", "password": "guess"})
    assert wrong.status_code == 400
    assert client.get("/users/me", headers={"authorization": "Bearer x"}).status_code == 401
    uploaded = client.post(
        "/uploads", data={"title": "Report"}, files={"document": ("r.txt", b"hello")}
    )
    assert uploaded.status_code == 201
    assert uploaded.json() == {"title": "Report", "filename": "r.txt", "size": 5}
    assert (
        client.post(
            "/uploads", data={"title": "null"}, files={"document": ("r.txt", b"x")}
        ).status_code
        == 422
    )
