"""Testing with TestClient: tests for the tutorial's apps.

Run them with ``pytest examples/testing.py``. TestClient runs an app
in-process: no server, no network.
"""

from __future__ import annotations

from examples.background import OUTBOX
from examples.background import app as background_app
from examples.hello import app
from examples.sse import app as sse_app
from microweb.testclient import TestClient

client = TestClient(app)


def test_index() -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.json() == {"message": "Hello, World!"}


def test_query_parameter() -> None:
    assert client.get("/items/42", params={"q": "shoes"}).json() == {"item_id": 42, "q": "shoes"}


def test_html_is_escaped() -> None:
    response = client.get("/hello/<b>")
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == "<h1>Hello, &lt;b&gt;!</h1>"


def test_background_task_has_run() -> None:
    # A call returns once the app is done, background tasks included.
    OUTBOX.clear()
    TestClient(background_app).post("/signup", params={"email": "ada@example.com"})
    assert OUTBOX == ["welcome mail to ada@example.com"]


def test_events_arrive_one_by_one() -> None:
    # A streamed response arrives chunk by chunk, as the app sends it.
    with (
        TestClient(sse_app) as sse_client,
        sse_client.stream("GET", "/countdown", params={"delay": 0}) as response,
    ):
        lines = [line for line in response.iter_lines() if line.startswith("data:")]
    assert lines == ["data: 3", "data: 2", "data: 1", 'data: {"message":"liftoff"}']
