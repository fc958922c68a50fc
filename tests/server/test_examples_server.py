"""The README's first command serves examples.hello:app; check it answers for real."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from .conftest import Server


def test_hello_served_by_uvicorn(serve: Callable[..., Server], http: httpx.Client) -> None:
    server = serve("examples.hello:app")
    assert http.get(server.url + "/").json() == {"message": "Hello, World!"}
    assert http.get(server.url + "/items/3?q=x").json() == {"item_id": 3, "q": "x"}
    assert http.get(server.url + "/hello/Bo").text == "<h1>Hello, Bo!</h1>"


def test_background_example_log_line_shows_in_uvicorns_output(
    serve: Callable[..., Server], http: httpx.Client
) -> None:
    # The tutorial shows the audit task's INFO line in the server's output.
    server = serve("examples.background:app", "--log-level", "info")
    response = http.post(server.url + "/signup", params={"email": "ada@example.com"})
    assert response.status_code == 202
    # The tasks run after the response was sent: give them a moment.
    deadline = time.monotonic() + 5
    while http.get(server.url + "/outbox").json() == {"sent": []} and time.monotonic() < deadline:
        time.sleep(0.05)
    assert http.get(server.url + "/outbox").json() == {"sent": ["welcome mail to ada@example.com"]}
    output = server.stop()
    assert "examples.background: signup: ada@example.com" in output
