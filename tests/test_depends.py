"""Dependencies (SPEC "Typed request data", the Depends bullet): binding, cache, teardown."""

# No ``from __future__ import annotations``: the dependencies named in the
# annotations below are local functions, which only evaluated annotations reach.

import dataclasses
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any, cast

import pytest

from microweb import App, BackgroundTasks, Request, Response, Router
from microweb.exceptions import HTTPException
from microweb.params import Body, Depends, Header, Query
from microweb.testclient import TestClient
from microweb.websockets import WebSocket


def client_for(handler: Any, path: str = "/d", app: App | None = None) -> TestClient:
    application = app or App()
    application.add_route(path, handler)
    return TestClient(application, raise_server_exceptions=False)


def test_sync_async_and_nested_dependencies_are_bound_like_handlers() -> None:
    def limit(n: int = 10) -> int:
        return n

    async def page(size: Annotated[int, Depends(limit)], start: int = 0) -> dict[str, int]:
        return {"start": start, "size": size}

    async def handler(
        item_id: str, paging: Annotated[dict[str, int], Depends(page)]
    ) -> dict[str, Any]:
        return {"item": item_id, **paging}

    client = client_for(handler, "/items/{item_id}")
    assert client.get("/items/a?start=5&n=3").json() == {"item": "a", "start": 5, "size": 3}
    assert client.get("/items/a").json() == {"item": "a", "start": 0, "size": 10}


def test_depends_as_a_default() -> None:
    def token(x_token: Annotated[str, Header()]) -> str:
        return x_token

    def handler(value: str = Depends(token)) -> str:
        return value

    assert client_for(handler).get("/d", headers={"x-token": "t"}).json() == "t"


def test_dependency_takes_path_parameter_the_handler_does_not() -> None:
    def owner(user: str) -> str:
        return user.upper()

    def handler(name: Annotated[str, Depends(owner)]) -> str:
        return name

    assert client_for(handler, "/u/{user}").get("/u/ann").json() == "ANN"


def test_errors_of_dependencies_join_the_handlers_in_one_422() -> None:
    calls: list[str] = []

    def limit(n: int) -> int:
        calls.append("limit")
        return n

    def handler(size: Annotated[int, Depends(limit)], q: Annotated[int, Query(gt=0)]) -> int:
        return size

    response = client_for(handler).get("/d?q=0")
    assert response.status_code == 422
    assert [item["loc"] for item in response.json()["detail"]] == [["query", "n"], ["query", "q"]]
    assert calls == []  # nothing is called once any value failed


def test_use_cache_calls_once_per_request_unless_told() -> None:
    calls: list[str] = []

    def counter() -> int:
        calls.append("x")
        return len(calls)

    def twice(a: Annotated[int, Depends(counter)], b: Annotated[int, Depends(counter)]) -> int:
        return a + b

    def handler(
        first: Annotated[int, Depends(counter)],
        inner: Annotated[int, Depends(twice)],
        fresh: Annotated[int, Depends(counter, use_cache=False)],
    ) -> list[int]:
        return [first, inner, fresh]

    client = client_for(handler)
    assert client.get("/d").json() == [1, 2, 2]
    assert len(calls) == 2
    calls.clear()
    assert client.get("/d").json() == [1, 2, 2]  # the cache lives for one request


def test_request_response_and_tasks_are_shared_with_the_handler() -> None:
    seen: list[Any] = []

    def dep(request: Request, response: Response, tasks: BackgroundTasks) -> None:
        response.headers["x-dep"] = "1"
        tasks.add_task(seen.append, "task")
        seen.append(request)

    def handler(request: Request, nothing: Annotated[None, Depends(dep)]) -> str:
        seen.append(request)
        return "ok"

    response = client_for(handler).get("/d")
    assert response.headers["x-dep"] == "1"
    assert seen[0] is seen[1]
    assert seen[2] == "task"


def test_generator_teardown_runs_after_response_and_tasks_in_reverse_order() -> None:
    order: list[str] = []

    def first() -> Iterator[str]:
        order.append("first up")
        yield "a"
        order.append("first down")

    async def second(a: Annotated[str, Depends(first)]) -> AsyncIterator[str]:
        order.append("second up")
        yield a + "b"
        order.append("second down")

    def handler(value: Annotated[str, Depends(second)], tasks: BackgroundTasks) -> str:
        tasks.add_task(order.append, "task")
        order.append("handler")
        return value

    assert client_for(handler).get("/d").json() == "ab"
    assert order == ["first up", "second up", "handler", "task", "second down", "first down"]


def test_handler_exception_is_thrown_in_at_yield() -> None:
    caught: list[BaseException] = []

    def sync_dep() -> Iterator[None]:
        try:
            yield
        except HTTPException as exc:
            caught.append(exc)
            raise

    async def async_dep() -> AsyncIterator[None]:
        try:
            yield
        except HTTPException as exc:
            caught.append(exc)
            raise

    def handler(
        a: Annotated[None, Depends(sync_dep)], b: Annotated[None, Depends(async_dep)]
    ) -> None:
        raise HTTPException(409, "taken")

    response = client_for(handler).get("/d")
    assert response.status_code == 409
    assert [type(exc) for exc in caught] == [HTTPException, HTTPException]


def test_teardown_error_is_logged_not_sent(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> Iterator[int]:
        yield 1
        raise RuntimeError("cleanup failed")

    async def abroken() -> AsyncIterator[int]:
        yield 2
        raise RuntimeError("async cleanup failed")

    def handler(a: Annotated[int, Depends(broken)], b: Annotated[int, Depends(abroken)]) -> int:
        return a + b

    with caplog.at_level(logging.ERROR, logger="microweb"):
        response = client_for(handler).get("/d")
    assert response.status_code == 200
    assert response.json() == 3
    messages = [r.getMessage() for r in caplog.records if r.name == "microweb"]
    assert any("broken' of route GET '/d' failed" in m for m in messages)
    assert any("abroken' of route GET '/d' failed" in m for m in messages)


def test_generator_that_never_yields_is_an_error() -> None:
    def empty() -> Iterator[int]:
        return
        yield  # pragma: no cover

    def handler(a: Annotated[int, Depends(empty)]) -> int:
        return a

    assert client_for(handler).get("/d").status_code == 500


def test_overrides_set_after_the_route_was_added() -> None:
    def real(n: int = 1) -> int:
        return n

    def handler(value: Annotated[int, Depends(real)]) -> int:
        return value

    app = App()
    client = client_for(handler, app=app)
    assert client.get("/d").json() == 1

    def fake(m: int = 7) -> int:
        return m

    app.dependency_overrides[real] = fake
    assert client.get("/d").json() == 7
    assert client.get("/d?m=8").json() == 8  # the override is bound by its own signature
    app.dependency_overrides.clear()
    assert client.get("/d").json() == 1


def loop_a(b: "Annotated[int, Depends(loop_b)]") -> int:
    return b


def loop_b(a: Annotated[int, Depends(loop_a)]) -> int:
    return a


def test_a_cycle_is_refused_when_the_route_is_added() -> None:
    def handler(value: Annotated[int, Depends(loop_a)]) -> int:
        return value

    with pytest.raises(
        TypeError, match=r"dependency cycle in route GET '/d': loop_a -> loop_b -> loop_a"
    ):
        App().add_route("/d", handler)


def test_definition_errors_name_the_dependency_and_the_route() -> None:
    def needs_set(value: set[int]) -> int:
        return 0

    def handler(value: Annotated[int, Depends(needs_set)]) -> int:
        return value

    with pytest.raises(
        TypeError, match=r"parameter 'value' of dependency '\S*needs_set' of route GET '/d'"
    ):
        App().add_route("/d", handler)
    with pytest.raises(TypeError, match="Depends\\(\\) takes a callable"):
        Depends(cast(Any, 3))


def test_two_markers_on_one_parameter_are_refused() -> None:
    def dep() -> int:
        return 1

    def handler(value: Annotated[int, Depends(dep)] = Query(1)) -> int:
        return value

    with pytest.raises(TypeError, match="two markers"):
        App().add_route("/d", handler)


def test_websocket_handler_with_depends_is_bound() -> None:
    # Was refused ("not supported yet") until WebSocket routes took dependencies
    # (issue 17); tests/test_websocket_params.py has the rules.
    def dep() -> int:
        return 1

    async def handler(websocket: WebSocket, value: Annotated[int, Depends(dep)]) -> None:
        await websocket.accept()
        await websocket.send_json(value)

    app = App()
    app.add_websocket_route("/ws", handler)
    with TestClient(app).websocket_connect("/ws") as session:
        assert session.receive_json() == 1


def test_route_router_include_and_app_dependencies_run_outermost_first() -> None:
    order: list[str] = []

    def check(label: str) -> Any:
        def run(x_key: Annotated[str | None, Header()] = None) -> None:
            if x_key != "k":
                raise HTTPException(401)
            order.append(label)

        run.__name__ = label
        return run

    app = App(dependencies=[Depends(check("app"))])
    router = Router(prefix="/r", dependencies=[Depends(check("router"))])

    @router.get("/item", dependencies=[Depends(check("route"))])
    def item() -> str:
        order.append("handler")
        return "ok"

    app.include_router(router, dependencies=[Depends(check("include"))])
    client = TestClient(app)
    assert client.get("/r/item").status_code == 401
    assert order == []
    assert client.get("/r/item", headers={"x-key": "k"}).json() == "ok"
    assert order == ["app", "include", "router", "route", "handler"]


def test_dependencies_must_be_depends_objects() -> None:
    def check() -> None:
        pass

    with pytest.raises(TypeError, match=r"write dependencies=\[Depends\(check\)\]"):
        App(dependencies=[check])
    with pytest.raises(TypeError, match="must be a list"):
        Router(dependencies=Depends(check))


def test_router_dependencies_apply_to_a_websocket_route() -> None:
    # Was refused ("only HTTP routes take dependencies") until WebSocket routes
    # took dependencies (issue 17).
    checked: list[str] = []

    def check() -> None:
        checked.append("check")

    router = Router()

    @router.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()

    app = App()
    app.include_router(router, dependencies=[Depends(check)])
    with TestClient(app).websocket_connect("/ws"):
        pass
    assert checked == ["check"]


def test_a_handler_without_dependencies_gets_no_solver() -> None:
    from microweb._endpoint import BindingEndpoint, DependingEndpoint, Endpoint

    def dep() -> int:
        return 1

    app = App()
    app.add_route("/plain/{x}", lambda x: x)
    app.add_route("/request", lambda request: None)

    def with_dep(value: Annotated[int, Depends(dep)]) -> int:
        return value

    app.add_route("/dep", with_dep)
    kinds = [type(endpoint) for endpoint in app.routes]
    assert kinds == [Endpoint, BindingEndpoint, DependingEndpoint]


@dataclasses.dataclass
class Item:
    name: str
    price: float


def test_a_dependency_reads_the_body_and_its_errors_join_the_handlers() -> None:
    def priced(item: Item) -> float:
        return item.price

    def handler(price: Annotated[float, Depends(priced)], q: int) -> list[float]:
        return [price, q]

    app = App()
    app.add_route("/d", handler, methods=["POST"])
    client = TestClient(app)
    ok = client.post("/d?q=2", json={"name": "pen", "price": 1.5})
    assert ok.json() == [1.5, 2]
    response = client.post("/d", json={"name": "pen"})
    assert response.status_code == 422
    locs = [item["loc"] for item in response.json()["detail"]]
    assert locs == [["body", "price"], ["query", "q"]]


def test_overrides_given_as_a_new_dict_apply_too() -> None:
    def real() -> str:
        return "real"

    app = App()

    @app.get("/")
    async def index(value: Annotated[str, Depends(real)]) -> str:
        return value

    client = TestClient(app)
    assert client.get("/").json() == "real"
    app.dependency_overrides = {real: lambda: "fake"}
    assert client.get("/").json() == "fake"
    app.dependency_overrides = {}
    assert client.get("/").json() == "real"


# --- teardown after the error response (SPEC: teardown after the response is sent) ---


def recorded(app: App, order: list[str]) -> Any:
    """``app`` wrapped so that each response start lands in ``order``."""

    async def recorder(scope: Any, receive: Any, send: Any) -> None:
        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                order.append(f"sent {message['status']}")
            await send(message)

        await app(scope, receive, sending)

    return recorder


def test_error_response_is_sent_before_teardown_gets_the_exception() -> None:
    order: list[str] = []

    def sync_dep() -> Iterator[None]:
        try:
            yield
        except HTTPException as exc:
            order.append(f"sync teardown {exc.status_code}")
            raise

    async def async_dep() -> AsyncIterator[None]:
        try:
            yield
        except HTTPException as exc:
            order.append(f"async teardown {exc.status_code}")
            raise

    def handler(
        a: Annotated[None, Depends(sync_dep)], b: Annotated[None, Depends(async_dep)]
    ) -> None:
        raise HTTPException(409, "taken")

    app = App()
    app.add_route("/d", handler)
    response = TestClient(recorded(app, order)).get("/d")
    assert (response.status_code, response.json()) == (409, {"detail": "taken"})
    assert order == ["sent 409", "async teardown 409", "sync teardown 409"]


def test_error_response_comes_first_behind_middleware_too() -> None:
    order: list[str] = []

    class Recorder:
        def __init__(self, app: Any) -> None:
            self.app = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            await recorded(self.app, order)(scope, receive, send)

    def dep() -> Iterator[None]:
        try:
            yield
        finally:
            order.append("teardown")

    def handler(a: Annotated[None, Depends(dep)]) -> None:
        raise HTTPException(404)

    app = App(middleware=[(Recorder, {})])
    app.add_route("/d", handler)
    assert TestClient(app).get("/d").status_code == 404
    assert order == ["sent 404", "teardown"]


class Broken(Exception):
    pass


@pytest.mark.parametrize("swallow", [False, True])
def test_unhandled_exception_is_answered_and_logged_once_then_thrown_in(
    swallow: bool, caplog: pytest.LogCaptureFixture
) -> None:
    order: list[str] = []

    async def session() -> AsyncIterator[str]:
        try:
            yield "s"
        except Broken:
            order.append("rollback")
            if not swallow:
                raise

    def handler(s: Annotated[str, Depends(session)]) -> None:
        raise Broken("boom")

    app = App()
    app.add_route("/d", handler)
    client = TestClient(recorded(app, order), raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="microweb"):
        response = client.get("/d")
    assert (response.status_code, response.text) == (500, "Internal Server Error")
    assert order == ["sent 500", "rollback"]
    logged = [r for r in caplog.records if r.name == "microweb"]
    assert [r.getMessage() for r in logged] == ["unhandled Broken in GET /d"]


def test_an_exception_handler_answers_before_teardown() -> None:
    order: list[str] = []

    def dep() -> Iterator[None]:
        try:
            yield
        except Broken:
            order.append("teardown saw Broken")
            raise

    def handler(a: Annotated[None, Depends(dep)]) -> None:
        raise Broken

    app = App()
    app.add_exception_handler(Broken, lambda request, exc: Response("handled", status_code=418))
    app.add_route("/d", handler)
    response = TestClient(recorded(app, order)).get("/d")
    assert (response.status_code, response.text) == (418, "handled")
    assert order == ["sent 418", "teardown saw Broken"]


def test_a_teardown_raising_another_error_is_logged_and_the_answer_stands(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def dep() -> Iterator[None]:
        try:
            yield
        except HTTPException:
            raise RuntimeError("teardown failed differently") from None

    def handler(a: Annotated[None, Depends(dep)]) -> None:
        raise HTTPException(409)

    with caplog.at_level(logging.ERROR, logger="microweb"):
        response = client_for(handler).get("/d")
    assert response.status_code == 409
    messages = [r.getMessage() for r in caplog.records if r.name == "microweb"]
    assert len(messages) == 1
    assert messages[0].endswith("dep' of route GET '/d' failed")


def test_without_an_app_teardown_runs_and_the_exception_goes_on() -> None:
    seen: list[str] = []

    def dep() -> Iterator[None]:
        try:
            yield
        except HTTPException:
            seen.append("teardown")
            raise

    def handler(a: Annotated[None, Depends(dep)]) -> None:
        raise HTTPException(409)

    router = Router()
    router.add_route("/d", handler)
    with pytest.raises(HTTPException):
        TestClient(router).get("/d")
    assert seen == ["teardown"]


# --- body parameters across the dependency tree (FastAPI's embedding rule on the union) ---


@dataclasses.dataclass
class User:
    name: str


def test_body_params_of_handler_and_dependency_are_keys_of_one_body() -> None:
    def owner(user: User) -> str:
        return user.name

    def handler(item: Item, name: Annotated[str, Depends(owner)]) -> list[Any]:
        return [item.name, item.price, name]

    app = App()
    app.add_route("/d", handler, methods=["POST"])
    client = TestClient(app)
    sent = {"item": {"name": "pen", "price": 2}, "user": {"name": "ann"}}
    assert client.post("/d", json=sent).json() == ["pen", 2, "ann"]
    response = client.post("/d", json={"item": {"name": "pen"}})
    assert response.status_code == 422
    locs = [error["loc"] for error in response.json()["detail"]]
    assert locs == [["body", "item", "price"], ["body", "user"]]


def test_a_body_param_named_in_handler_and_dependency_is_one_whole_body() -> None:
    def priced(item: Item) -> float:
        return item.price

    def handler(item: Item, price: Annotated[float, Depends(priced)]) -> list[Any]:
        return [item.name, price]

    app = App()
    app.add_route("/d", handler, methods=["POST"])
    assert TestClient(app).post("/d", json={"name": "pen", "price": 3}).json() == ["pen", 3]


def test_a_body_param_twice_with_two_types_is_refused_when_the_route_is_added() -> None:
    def owner(item: User) -> str:
        return item.name

    def handler(item: Item, name: Annotated[str, Depends(owner)]) -> None:
        pass

    with pytest.raises(TypeError, match=r"body parameter 'item' is declared twice.*one type"):
        App().add_route("/d", handler, methods=["POST"])


def test_route_checks_and_nested_dependencies_join_the_body_union() -> None:
    seen: list[str] = []

    def audit(user: User) -> None:
        seen.append(user.name)

    def inner(note: Annotated[str, Body(embed=True)]) -> str:
        return note

    def outer(note: Annotated[str, Depends(inner)]) -> str:
        return note.upper()

    def handler(note: Annotated[str, Depends(outer)]) -> str:
        return note

    app = App()
    app.add_route("/d", handler, methods=["POST"], dependencies=[Depends(audit)])
    client = TestClient(app)
    assert client.post("/d", json={"user": {"name": "ann"}, "note": "hi"}).json() == "HI"
    assert seen == ["ann"]


def test_an_embedded_body_param_of_a_lone_dependency_is_a_key() -> None:
    def named(name: Annotated[str, Body(embed=True)]) -> str:
        return name

    def handler(name: Annotated[str, Depends(named)]) -> str:
        return name

    app = App()
    app.add_route("/d", handler, methods=["POST"])
    assert TestClient(app).post("/d", json={"name": "ann"}).json() == "ann"


def test_an_override_with_its_own_body_params_reads_them() -> None:
    def real() -> str:
        return "real"

    def fake(user: User) -> str:
        return "fake " + user.name

    def handler(item: Item, who: Annotated[str, Depends(real)]) -> list[str]:
        return [item.name, who]

    app = App()
    app.add_route("/d", handler, methods=["POST"])
    app.dependency_overrides[real] = fake
    client = TestClient(app)
    # The route's body is the Item (as declared); the override reads the same body as a User.
    assert client.post("/d", json={"name": "pen", "price": 1}).json() == ["pen", "fake pen"]


class Paging:
    def __init__(self, skip: int = 0, limit: int = 10) -> None:
        self.skip = skip
        self.limit = limit


def test_a_class_dependency_has_its_constructors_parameters_converted() -> None:
    def handler(paging: Annotated[Paging, Depends(Paging)]) -> list[int]:
        return [paging.skip + 1, paging.limit]

    assert client_for(handler).get("/d?skip=2&limit=5").json() == [3, 5]
    response = client_for(handler).get("/d?skip=x")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "skip"]


class Commons:
    """A class as a dependency: its constructor's parameters are bound like a handler's."""

    def __init__(self, q: str | None = None, skip: int = 0, limit: int = 10) -> None:
        self.q, self.skip, self.limit = q, skip, limit


def test_depends_without_a_callable_calls_the_annotated_class() -> None:
    async def annotated(commons: Annotated[Commons, Depends()]) -> dict[str, Any]:
        return vars(commons)

    def as_default(commons: Commons = Depends()) -> dict[str, Any]:  # noqa: B008
        return vars(commons)

    def uncached(commons: Annotated[Commons, Depends(use_cache=False)]) -> int:
        return commons.limit

    for handler in (annotated, as_default):
        client = client_for(handler)
        assert client.get("/d?skip=2&q=x").json() == {"q": "x", "skip": 2, "limit": 10}
        assert client.get("/d?limit=no").status_code == 422
    assert client_for(uncached).get("/d?limit=3").json() == 3


def test_depends_without_a_callable_needs_a_class_to_call() -> None:
    def untyped(commons=Depends()) -> None:  # type: ignore[no-untyped-def]  # noqa: B008
        pass

    with pytest.raises(TypeError, match=r"parameter 'commons' of handler .* is Depends\(\) "):
        client_for(untyped)
    with pytest.raises(TypeError, match=r"Depends\(\) without a callable .* Depends\(check\)"):
        App().add_route("/d", lambda: None, dependencies=[Depends()])


def test_a_parameter_nothing_can_fill_points_at_depends() -> None:
    class Database:
        pass

    def dependency(db: Database) -> Database:
        return db

    async def handler(db: Annotated[Database, Depends(dependency)]) -> str:
        return "ok"

    with pytest.raises(TypeError, match=r"give it a value with Depends\(\.\.\.\)"):
        App().add_route("/d", handler)
