"""The App: error boundary, exception handlers, lifespan and middleware."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from microweb import App, HTTPException, Request, Response
from microweb._context import app_context
from microweb.responses import HTMLResponse, JSONResponse, PlainTextResponse
from microweb.testclient import TestClient
from microweb.types import ASGIApp, Message, Receive, Scope, Send


class Boom(Exception):
    pass


class SubBoom(Boom):
    pass


def failing_app(**kwargs: Any) -> App:
    app = App(**kwargs)

    @app.get("/boom")
    def boom() -> None:
        raise SubBoom("secret detail")

    @app.get("/http")
    def http_error(status: int = 418) -> None:
        raise HTTPException(status, headers={"x-why": "because"})

    @app.get("/detail")
    def detail() -> None:
        raise HTTPException(403, detail={"reason": "no", "codes": [1, 2]})

    return app


def test_http_exception_answers_detail_and_headers() -> None:
    client = TestClient(failing_app())
    r = client.get("/http")
    assert r.status_code == 418
    assert r.json() == {"detail": "I'm a Teapot"}
    assert r.headers["x-why"] == "because"
    r = client.get("/detail")
    assert (r.status_code, r.json()) == (403, {"detail": {"reason": "no", "codes": [1, 2]}})


def test_http_exception_attributes_keep_the_values_given() -> None:
    headers = {"a": "b"}
    exc = HTTPException(401, "Log in", headers=headers)
    assert (exc.status_code, exc.detail, exc.headers) == (401, "Log in", headers)
    assert str(exc) == "401: Log in"
    assert repr(exc) == "HTTPException(status_code=401, detail='Log in')"
    assert HTTPException(404).detail == "Not Found"
    assert HTTPException(599).detail == ""


def test_http_exception_with_bodyless_status() -> None:
    r = TestClient(failing_app()).get("/http?status=304")
    assert (r.status_code, r.content) == (304, b"")


def test_unhandled_exception_is_a_logged_plain_500(caplog: pytest.LogCaptureFixture) -> None:
    client = TestClient(failing_app(), raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="microweb"):
        r = client.get("/boom")
    assert r.status_code == 500
    assert r.text == "Internal Server Error"
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert "secret detail" not in r.text
    assert "Traceback" not in r.text
    [record] = [rec for rec in caplog.records if rec.name == "microweb"]
    assert "GET /boom" in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], SubBoom)


def test_debug_shows_the_traceback() -> None:
    client = TestClient(failing_app(debug=True), raise_server_exceptions=False)
    r = client.get("/boom")
    assert r.status_code == 500
    assert "Traceback" in r.text
    assert "SubBoom: secret detail" in r.text


def test_debug_is_off_by_default() -> None:
    assert App().debug is False


def test_handler_by_class_uses_the_nearest_base() -> None:
    app = failing_app()

    @app.exception_handler(Boom)
    async def on_boom(request: Request, exc: Boom) -> Response:
        return PlainTextResponse(f"boom at {request.url.path}: {exc}", status_code=503)

    r = TestClient(app).get("/boom")
    assert (r.status_code, r.text) == (503, "boom at /boom: secret detail")


def test_handler_by_status_code_and_for_own_404_405(caplog: pytest.LogCaptureFixture) -> None:
    app = failing_app()

    @app.exception_handler(404)
    def not_found(request: Request, exc: HTTPException) -> Response:  # sync handler
        return HTMLResponse(f"<h1>{exc.detail}: {request.url.path}</h1>", status_code=404)

    @app.exception_handler(405)
    async def not_allowed(request: Request, exc: HTTPException) -> Response:
        assert exc.headers is not None
        return PlainTextResponse(f"use {exc.headers['allow']}", status_code=405)

    @app.exception_handler(418)
    async def teapot(request: Request, exc: HTTPException) -> Response:
        return PlainTextResponse("short and stout", status_code=418)

    client = TestClient(app)
    r = client.get("/missing")
    assert (r.status_code, r.text) == (404, "<h1>Not Found: /missing</h1>")
    r = client.post("/boom")
    assert (r.status_code, r.text) == (405, "use GET, HEAD, OPTIONS")
    assert client.get("/http").text == "short and stout"
    assert not caplog.records


def test_status_handler_wins_over_class_handler() -> None:
    app = failing_app(
        exception_handlers={
            HTTPException: lambda request, exc: PlainTextResponse("class", status_code=400),
            418: lambda request, exc: PlainTextResponse("status", status_code=418),
        }
    )
    client = TestClient(app)
    assert client.get("/http").text == "status"
    assert client.get("/detail").text == "class"


def test_500_handler_receives_unhandled_exceptions(caplog: pytest.LogCaptureFixture) -> None:
    app = failing_app()

    @app.exception_handler(500)
    async def oops(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": type(exc).__name__}, status_code=500)

    with caplog.at_level(logging.ERROR, logger="microweb"):
        r = TestClient(app).get("/boom")
    assert r.json() == {"error": "SubBoom"}
    assert len(caplog.records) == 1  # still logged with its traceback


def test_failing_exception_handler_gives_500(caplog: pytest.LogCaptureFixture) -> None:
    app = failing_app()

    @app.exception_handler(Boom)
    async def broken(request: Request, exc: Exception) -> Response:
        raise RuntimeError("handler broke")

    @app.exception_handler(418)
    async def wrong_type(request: Request, exc: Exception) -> Any:
        return {"not": "a response"}

    client = TestClient(app)
    with caplog.at_level(logging.ERROR, logger="microweb"):
        assert client.get("/boom").status_code == 500
        assert client.get("/http").status_code == 500
    messages = [str(r.exc_info[1]) for r in caplog.records if r.exc_info]
    assert "handler broke" in messages
    assert any("not a Response" in m for m in messages)


def test_exception_handler_registration_is_validated() -> None:
    app = App()
    with pytest.raises(ValueError, match="400 to 599"):
        app.add_exception_handler(200, lambda r, e: Response())
    with pytest.raises(TypeError, match="exception class or a status"):
        app.add_exception_handler(str, lambda r, e: Response())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="callable"):
        app.add_exception_handler(Boom, "nope")  # type: ignore[arg-type]


def test_max_body_size_is_validated() -> None:
    with pytest.raises(ValueError, match="max_body_size"):
        App(max_body_size=-1)


# --- lifespan -----------------------------------------------------------------------


def test_lifespan_runs_around_the_client_and_shares_state() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[dict[str, Any]]:
        events.append("startup")
        yield {"db": "connected"}
        events.append("shutdown")

    app = App(lifespan=lifespan)

    @app.get("/")
    def index(request: Request) -> Any:
        return request.state.db

    with TestClient(app) as client:
        assert events == ["startup"]
        assert client.get("/").json() == "connected"
    assert events == ["startup", "shutdown"]


def test_lifespan_without_a_context_completes() -> None:
    app = App()

    @app.get("/")
    def index() -> str:
        return "ok"

    with TestClient(app) as client:
        assert client.get("/").json() == "ok"


@pytest.mark.anyio
async def test_lifespan_startup_failure_is_reported_with_its_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        raise ConnectionError("database unreachable")
        yield

    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        sent.append(message)

    with caplog.at_level(logging.ERROR, logger="microweb"):
        await App(lifespan=lifespan)({"type": "lifespan", "state": {}}, receive, send)
    assert sent == [
        {"type": "lifespan.startup.failed", "message": "ConnectionError: database unreachable"}
    ]
    assert caplog.records[0].exc_info is not None


def test_lifespan_startup_failure_stops_the_test_client() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        raise ConnectionError("database unreachable")
        yield

    with (
        pytest.raises(RuntimeError, match="database unreachable"),
        TestClient(App(lifespan=lifespan)),
    ):
        pass


def test_lifespan_shutdown_failure_is_reported() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        yield
        raise ValueError("flush failed")

    client = TestClient(App(lifespan=lifespan))
    with pytest.raises(RuntimeError, match="shutdown failed: ValueError: flush failed"), client:
        pass


@pytest.mark.anyio
async def test_lifespan_state_needs_server_support() -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[dict[str, int]]:
        yield {"x": 1}

    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        sent.append(message)

    await App(lifespan=lifespan)({"type": "lifespan"}, receive, send)
    assert sent[0]["type"] == "lifespan.startup.failed"
    assert "does not support" in sent[0]["message"]


@pytest.mark.anyio
async def test_websocket_is_refused() -> None:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await App()({"type": "websocket", "path": "/"}, receive, send)
    assert sent == [{"type": "websocket.close", "code": 1000}]


# --- middleware -----------------------------------------------------------------------


class Tag:
    """A pure-ASGI middleware that appends its name to an x-trail header."""

    def __init__(self, app: ASGIApp, name: str) -> None:
        self.app = app
        self.name = name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("trail", []).append(self.name)

        async def tagged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (b"x-trail", self.name.encode())]
            await send(message)

        await self.app(scope, receive, tagged_send)


def trail_app(**kwargs: Any) -> App:
    app = App(**kwargs)

    @app.get("/")
    def index(request: Request) -> list[str]:
        return list(request.scope["trail"])

    return app


def test_middleware_list_first_is_outermost() -> None:
    app = trail_app(middleware=[(Tag, {"name": "outer"}), (Tag, {"name": "inner"})])
    r = TestClient(app).get("/")
    assert r.json() == ["outer", "inner"]
    # The inner one sees the response first, so its header comes first.
    assert r.headers.get_list("x-trail") == ["inner", "outer"]


def test_add_middleware_wraps_what_is_there() -> None:
    app = trail_app(middleware=[(Tag, {"name": "listed"})])
    app.add_middleware(Tag, name="added-first")
    app.add_middleware(Tag, name="added-last")
    assert TestClient(app).get("/").json() == ["added-last", "added-first", "listed"]
    with pytest.raises(RuntimeError, match="after the app has started"):
        app.add_middleware(Tag, name="late")


def test_middleware_spec_validation() -> None:
    with pytest.raises(TypeError, match="middleware must be"):
        App(middleware=[("not", "callable")])  # type: ignore[list-item]


def test_middleware_sees_error_responses() -> None:
    app = trail_app(middleware=[(Tag, {"name": "m"})])
    r = TestClient(app).get("/missing")
    assert r.status_code == 404
    assert r.headers["x-trail"] == "m"


def test_third_party_pure_asgi_middleware() -> None:
    """asgi-correlation-id, a well-known pure-ASGI middleware, composes with App."""
    from asgi_correlation_id import CorrelationIdMiddleware, correlation_id

    app = App()

    @app.get("/id")
    async def current_id() -> dict[str, str | None]:
        return {"id": correlation_id.get()}

    app.add_middleware(CorrelationIdMiddleware, header_name="X-Request-ID")
    client = TestClient(app)
    given = "7f1f3a0e5d6c4b2a9e8d7c6b5a4f3e2d"
    r = client.get("/id", headers={"X-Request-ID": given})
    assert r.json() == {"id": given}
    assert r.headers["x-request-id"] == given
    r = client.get("/id")
    generated = r.headers["x-request-id"]
    assert len(generated) == 32
    assert r.json() == {"id": generated}


def test_limits_can_be_read_and_set_on_the_app() -> None:

    app = App(max_body_size=5)
    assert app.max_body_size == 5
    app.max_body_size = 3
    app.request_memory_budget = 2

    @app.post("/body")
    async def body(request: Request) -> int:
        return len(await request.body())

    client = TestClient(app)
    assert client.post("/body", content=b"12").json() == 2
    assert client.post("/body", content=b"123").status_code == 413  # past the budget
    app.request_memory_budget = None
    assert client.post("/body", content=b"123").json() == 3
    assert client.post("/body", content=b"1234").status_code == 413  # past max_body_size
    with pytest.raises(ValueError, match="max_body_size must be"):
        app.max_body_size = -1


def test_a_compiled_endpoint_shows_its_route_and_class() -> None:
    app = App()

    @app.get("/items/{item_id:int}", name="item")
    async def item(item_id: int) -> int:
        return item_id

    [endpoint] = app.routes
    assert (endpoint.path, endpoint.name, endpoint.methods) == (
        "/items/{item_id:int}",
        "item",
        frozenset({"GET"}),
    )
    assert (
        repr(endpoint)
        == "<Endpoint Route('/items/{item_id:int}', methods=[GET], name='item') -> JSONResponse>"
    )


class _Recording(Response):
    """A Response that notes what the scope it is sent with holds."""

    seen: list[tuple[Any, Any]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.seen.append((scope.get("app"), app_context(scope)))
        await super().__call__(scope, receive, send)


@pytest.mark.parametrize("middleware", [False, True])
def test_what_reads_the_scope_finds_the_app_and_its_context(middleware: bool) -> None:
    # Without middleware the App answers a plain route itself and fills the scope
    # only when something else may read it: a returned Response, a route that
    # takes more than its path values, an error handler.
    app = App(middleware=[(_PassThrough, {})] if middleware else None)
    seen: list[tuple[Any, Any]] = []
    _Recording.seen = seen

    @app.get("/response")
    async def response() -> Response:
        return _Recording("made")

    @app.get("/request")
    async def request(request: Request) -> _Recording:
        seen.append((request.scope.get("app"), app_context(request.scope)))
        return _Recording("made")

    @app.get("/boom/{n:int}")
    async def boom(n: int) -> str:
        raise ValueError(n)

    @app.exception_handler(ValueError)
    async def answer(request: Request, exc: ValueError) -> Response:
        return _Recording(str(request.url_for("boom", n=7)), status_code=418)

    client = TestClient(app)
    assert client.get("/response").text == "made"
    assert client.get("/request").text == "made"
    r = client.get("/boom/1")
    assert (r.status_code, r.text) == (418, "http://testserver/boom/7")
    assert len(seen) == 4
    assert all(found is app and context is app._context for found, context in seen)


class _PassThrough:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
