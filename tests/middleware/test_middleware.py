"""Middleware(cls, *args, **kwargs) in App(middleware=[...])."""

from __future__ import annotations

import pytest

from microweb import App
from microweb.middleware import Middleware
from microweb.testclient import TestClient
from microweb.types import ASGIApp, Message, Receive, Scope, Send


class Tag:
    def __init__(self, app: ASGIApp, name: str, *, value: str = "1") -> None:
        self.app = app
        self.header = (name.encode(), value.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], self.header]
            await send(message)

        await self.app(scope, receive, tagged)


def test_middleware_with_args_and_kwargs_beside_the_tuple_form() -> None:
    app = App(middleware=[Middleware(Tag, "x-a", value="2"), (Tag, {"name": "x-b"})])

    @app.get("/")
    def home() -> str:
        return "home"

    response = TestClient(app).get("/")
    assert response.headers["x-a"] == "2"
    assert response.headers["x-b"] == "1"


def test_middleware_unpacks_like_starlettes() -> None:
    cls, args, kwargs = Middleware(Tag, "x-a", value="2")
    assert (cls, args, kwargs) == (Tag, ("x-a",), {"value": "2"})
    assert repr(Middleware(Tag, "x-a", value="2")) == "Middleware(Tag, 'x-a', value='2')"


def test_middleware_needs_a_class() -> None:
    with pytest.raises(TypeError, match="Middleware needs a middleware class, got 'nope'"):
        Middleware("nope")  # type: ignore[arg-type]
