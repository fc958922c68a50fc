"""Every example app runs and answers as its docstring says."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from microweb.responses import ORJSONResponse
from microweb.testclient import TestClient


def test_hello() -> None:
    from examples.hello import app

    client = TestClient(app)
    assert client.get("/").json() == {"message": "Hello, World!"}
    assert client.get("/items/42?q=shoes").json() == {"item_id": 42, "q": "shoes"}
    assert client.get("/items/42").json() == {"item_id": 42, "q": None}
    r = client.get("/hello/Ada%20<3")
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.text == "<h1>Hello, Ada &lt;3!</h1>"


def test_hello_orjson_variant() -> None:
    from examples.hello import orjson_app

    client = TestClient(orjson_app)
    assert client.get("/items/7").json() == {"item_id": 7, "q": None}
    index = next(r for r in orjson_app.routes if r.path == "/")
    assert index.effective_response_class is ORJSONResponse
    assert client.get("/hello/x").headers["content-type"] == "text/html; charset=utf-8"


def test_typed_data_example_is_the_one_the_guide_shows() -> None:
    from pathlib import Path

    root = Path(__file__).parent.parent
    source = (root / "examples" / "typed_data.py").read_text(encoding="utf-8")
    guide = (root / "docs" / "typed-data.md").read_text(encoding="utf-8")
    assert f"`examples/typed_data.py`:\n\n```py\n{source}```" in guide


def test_typed_data() -> None:
    from examples.typed_data import app

    client = TestClient(app)
    body = {"name": "pen", "variants": [{"sku": "p1", "price": 2}]}
    r = client.post("/items?copies=2", json=body)
    assert r.json() == [{**body, "variants": [{"sku": "p1", "price": 2.0}], "note": None}] * 2
    r = client.post("/items", json={"name": "pen", "variants": [{"sku": "p1", "price": -1}]})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "variants", 0, "price"]


@pytest.mark.parametrize(
    "path",
    sorted((Path(__file__).parent.parent / "examples").glob("[!_]*.py")),
    ids=lambda path: path.stem,
)
def test_every_example_imports(path: Path) -> None:
    # Without CHAT_REDIS_URL examples.chat runs on its in-memory broadcaster.
    module = importlib.import_module(f"examples.{path.stem}")
    assert module.__doc__, f"examples/{path.name} has no docstring saying how to run it"


def test_every_example_a_guide_shows_is_the_file_itself() -> None:
    import re
    from pathlib import Path

    root = Path(__file__).parent.parent
    shown = re.compile(r"^`(examples/\w+\.py)`:\n\n```py\n(.*?)^```", re.S | re.M)
    found = {}
    for guide in (root / "docs").glob("*.md"):
        for path, block in shown.findall(guide.read_text(encoding="utf-8")):
            assert block == (root / path).read_text(encoding="utf-8"), f"{guide.name}: {path}"
            found[path] = guide.name
    assert found["examples/models.py"] == "typed-data.md"


def test_models() -> None:
    from examples.models import app

    client = TestClient(app)
    sent = {"item": {"name": "pen", "price": 2}, "owner": {"name": "ann"}, "copies": 2}
    assert client.post("/items", json=sent).json() == {"name": "pen", "owner": "ann", "copies": 2}
    wrong = client.post("/items", json={"item": {"name": "pen", "price": -1}, "owner": {}})
    assert [e["loc"] for e in wrong.json()["detail"]] == [
        ["body", "item", "price"],
        ["body", "owner", "name"],
    ]
    assert client.get("/users/3").json() == {"name": "bob", "userId": 3}
