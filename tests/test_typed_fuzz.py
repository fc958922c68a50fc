"""Random bodies against typed model routes: only 200, 400 or 422, and every 422 bounded.

Issue 16's last Done-when item: 10,000 random bodies (hypothesis) against
model routes give only 200, 400 or 422, never a 500, and a 422 never echoes
more of a value than ``_validation.MAX_INPUT`` characters of its JSON text.
Each body is posted to a msgspec Struct route, a dataclass route and a
pydantic route alike, straight to the ASGI app on one event loop (a
TestClient request costs four times the app's own work, and this test is
about the app's answers).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import msgspec
import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_params_typed import Item as StructItem  # the msgspec model of the typed-data tests

from microweb import App
from microweb._validation import MAX_INPUT
from microweb.types import Message


@dataclasses.dataclass
class Tag:
    name: str
    weight: float = 1.0


@dataclasses.dataclass
class Item:
    name: str
    price: float
    tags: list[Tag] = dataclasses.field(default_factory=list)
    note: str | None = None


class PydanticTag(pydantic.BaseModel):
    name: str = pydantic.Field(max_length=20)
    weight: float = 1.0


class PydanticItem(pydantic.BaseModel):
    name: str
    price: float = pydantic.Field(gt=0)
    tags: list[PydanticTag] = []
    note: str | None = None


async def _create_struct(item: StructItem) -> StructItem:
    return item


async def _create(item: Item) -> Item:
    return item


async def _create_pydantic(item: PydanticItem) -> PydanticItem:
    return item


_app = App()
_app.add_route("/s", _create_struct, methods=["POST"])
_app.add_route("/m", _create, methods=["POST"])
_app.add_route("/p", _create_pydantic, methods=["POST"])


async def _post(path: str, body: bytes) -> tuple[int, bytes]:
    """POST ``body`` as JSON to ``path`` of the app; the status and the body sent back."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    incoming: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop() if incoming else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await _app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    running = asyncio.new_event_loop()
    yield running
    running.close()


# perf: short texts, and long ones made by repeating a short one (past MAX_INPUT, to
# check the bound), with at most 10 leaves: half the generation time of 300-character
# texts and 40 leaves, which is most of this test's time.
_texts = st.text(max_size=12) | st.text(min_size=1, max_size=8).map(lambda s: s * 40)
_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _texts,
    lambda children: (
        st.lists(children, max_size=30) | st.dictionaries(st.text(max_size=10), children)
    ),
    max_leaves=10,
)
_item_like = st.fixed_dictionaries(
    {},
    optional={
        "name": _values,
        "price": _values,
        "tags": st.lists(st.fixed_dictionaries({}, optional={"name": _values, "weight": _values}))
        | _values,
        "note": _values,
    },
)


def _spliced(document: bytes, junk: bytes) -> bytes:
    """``junk`` put before the last quote: inside a string, when there is one."""
    at = document.rfind(b'"')
    return document[:at] + junk + document[at:] if at > 0 else junk + document


_bodies = st.one_of(
    _values.map(lambda v: json.dumps(v).encode()),
    _item_like.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
    # Bytes that are not UTF-8 inside a JSON string (msgspec raises UnicodeDecodeError).
    st.builds(_spliced, _item_like.map(lambda v: json.dumps(v).encode()), st.binary(max_size=4)),
)


def _bounded(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float)):
        return True
    if isinstance(value, str):
        return len(value) <= MAX_INPUT + len("...")
    return len(msgspec.json.encode(value)) <= MAX_INPUT * 4  # JSON text of <= MAX_INPUT chars


@settings(max_examples=10_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=_bodies)
def test_random_bodies_give_200_400_or_a_bounded_422(
    loop: asyncio.AbstractEventLoop, body: bytes
) -> None:
    for path in ("/s", "/m", "/p"):
        status, answer = loop.run_until_complete(_post(path, body))
        assert status in (200, 400, 422), (path, body, answer)
        if status == 422:
            for error in json.loads(answer)["detail"]:
                assert set(error) <= {"type", "loc", "msg", "input", "ctx"}
                assert error["loc"][0] == "body"
                assert _bounded(error["input"]), (path, body, error)


@pytest.mark.parametrize("path", ["/s", "/m", "/p"])
@pytest.mark.parametrize(
    "body",
    [b'"\x80"', b'{"name": "\x80"}', b'["\xff"]', b'{"name": "a", "tags": [{"name": "\xc3("}]}'],
)
def test_a_string_that_is_not_utf8_is_json_invalid(
    loop: asyncio.AbstractEventLoop, path: str, body: bytes
) -> None:
    status, answer = loop.run_until_complete(_post(path, body))
    assert status == 422, answer
    assert [error["type"] for error in json.loads(answer)["detail"]] == ["json_invalid"]
