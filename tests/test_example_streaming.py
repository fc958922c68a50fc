"""examples/streaming.py answers as its docstring says (in-process)."""

from __future__ import annotations

import json
from pathlib import Path

from microweb.testclient import TestClient

EXAMPLE = Path(__file__).parent.parent / "examples" / "streaming.py"


def test_page_listens_with_eventsource() -> None:
    from examples.streaming import app

    r = TestClient(app).get("/")
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert 'new EventSource("/clock" + location.search)' in r.text


def test_clock_ticks_with_ids_and_resumes_from_last_event_id() -> None:
    from examples.streaming import app

    client = TestClient(app)
    with client.stream("GET", "/clock?interval=0.01&count=3") as r:
        assert r.headers["content-type"] == "text/event-stream; charset=utf-8"
        lines = list(r.iter_lines())
    ids = [line.removeprefix("id: ") for line in lines if line.startswith("id: ")]
    data = [json.loads(line.removeprefix("data: ")) for line in lines if line.startswith("data")]
    assert ids == ["0", "1", "2"]
    assert [d["n"] for d in data] == [0, 1, 2]
    assert lines.count("event: tick") == 3

    with client.stream(
        "GET", "/clock?interval=0.01&count=2", headers={"last-event-id": "41"}
    ) as r:
        ids = [line for line in r.iter_lines() if line.startswith("id: ")]
    assert ids == ["id: 42", "id: 43"]


def test_endless_clock_stops_when_the_client_leaves() -> None:
    from examples.streaming import app

    with TestClient(app).stream("GET", "/clock?interval=0.01") as r:
        lines = r.iter_lines()
        assert next(lines) == "id: 0"


def test_numbers_stream() -> None:
    from examples.streaming import app

    r = TestClient(app).get("/numbers?count=4&delay=0.001")
    assert r.text == "0\n1\n2\n3\n"
    assert "content-length" not in r.headers


def test_download_with_ranges() -> None:
    from examples.streaming import app

    client = TestClient(app)
    whole = client.get("/download")
    assert whole.content == EXAMPLE.read_bytes()
    assert whole.headers["content-disposition"] == 'attachment; filename="streaming.py"'
    part = client.get("/download", headers={"range": "bytes=0-2"})
    assert part.status_code == 206
    assert part.content == b'"""'
    assert (
        client.get("/download", headers={"if-none-match": whole.headers["etag"]}).status_code
        == 304
    )
