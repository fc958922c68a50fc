"""Handler parameter binding (SPEC "Handler parameters"), through a real App."""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid
from typing import Any, Literal, Optional

import pytest

from microweb import App, BackgroundTasks, Request, Response
from microweb.responses import PlainTextResponse
from microweb.testclient import TestClient


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


def client_for(handler: Any, path: str = "/q") -> TestClient:
    app = App()
    app.add_route(path, handler)
    return TestClient(app)


def test_typed_query_parameters() -> None:
    def handler(
        s: str,
        i: int,
        f: float,
        b: bool,
        u: uuid.UUID,
        d: decimal.Decimal,
        day: datetime.date,
        when: datetime.datetime,
        color: Color,
        level: Level,
        mode: Literal["fast", "slow"],
    ) -> dict[str, Any]:
        return {
            "s": s,
            "i": i,
            "f": f,
            "b": b,
            "u": u,
            "d": d,
            "day": day,
            "when": when,
            "color": color,
            "level": level,
            "mode": mode,
            "types": [type(v).__name__ for v in (i, f, b, u, d, day, when, color, level)],
        }

    u = uuid.UUID(int=5)
    r = client_for(handler).get(
        "/q",
        params={
            "s": "hé llo",
            "i": "-7",
            "f": "2.5e3",
            "b": "Yes",
            "u": str(u),
            "d": "1.10",
            "day": "2024-02-29",
            "when": "2024-02-29T10:11:12",
            "color": "blue",
            "level": "2",
            "mode": "slow",
        },
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "s": "hé llo",
        "i": -7,
        "f": 2500.0,
        "b": True,
        "u": str(u),
        "d": "1.10",
        "day": "2024-02-29",
        "when": "2024-02-29T10:11:12",
        "color": "blue",
        "level": 2,
        "mode": "slow",
        "types": ["int", "float", "bool", "UUID", "Decimal", "date", "datetime", "Color", "Level"],
    }


def test_unannotated_parameter_is_a_string_query_parameter() -> None:
    def handler(name):  # type: ignore[no-untyped-def]
        return name

    assert client_for(handler).get("/q?name=42").json() == "42"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        *[("true", True), ("TRUE", True), ("1", True), ("yes", True), ("On", True)],
        *[("false", False), ("False", False), ("0", False), ("no", False), ("OFF", False)],
    ],
)
def test_bool_spellings(text: str, value: bool) -> None:
    def handler(flag: bool) -> bool:
        return flag

    assert client_for(handler).get("/q", params={"flag": text}).json() is value


@pytest.mark.parametrize("text", ["", "2", "yess", "t", "nope"])
def test_bool_refuses_anything_else(text: str) -> None:
    def handler(flag: bool) -> bool:
        return flag

    r = client_for(handler).get("/q", params={"flag": text})
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] == "bool_parsing"


@pytest.mark.parametrize(
    ("annotation", "text", "error_type"),
    [
        (int, "1.5", "int_parsing"),
        (int, "1_000", "int_parsing"),
        (int, " 1", "int_parsing"),
        (float, "abc", "float_parsing"),
        (float, "1_0", "float_parsing"),
        (uuid.UUID, "not-a-uuid", "uuid_parsing"),
        (decimal.Decimal, "x", "decimal_parsing"),
        (datetime.date, "2024-13-01", "date_parsing"),
        (Color, "green", "enum"),
        (Literal["a", "b"], "c", "literal_error"),
    ],
)
def test_unconvertible_query_values_answer_422(
    annotation: Any, text: str, error_type: str
) -> None:
    def handler(value: Any) -> None:
        return None

    handler.__annotations__["value"] = annotation
    r = client_for(handler).get("/q", params={"value": text})
    assert r.status_code == 422
    [error] = r.json()["detail"]
    assert error["loc"] == ["query", "value"]
    assert error["type"] == error_type
    assert error["msg"]


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-Infinity", "1e999", "9" * 5000])
def test_a_float_query_value_must_be_finite(text: str) -> None:
    # A non-finite float could not be sent back as JSON: 422, never a 500 later.
    def handler(value: float, values: list[float] | None = None) -> float:
        return value

    client = client_for(handler)
    r = client.get("/q", params={"value": text})
    assert r.status_code == 422
    assert r.json()["detail"] == [
        {
            "loc": ["query", "value"],
            "msg": "Input should be a finite number",
            "type": "finite_number",
            "input": text if len(text) <= 200 else text[:200] + "...",
        }
    ]
    r = client.get("/q", params=[("value", "1.5"), ("values", "2"), ("values", text)])
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] == "finite_number"
    assert client.get("/q", params={"value": "-1e300"}).json() == -1e300


def test_enum_and_literal_messages_list_the_choices() -> None:
    def handler(color: Color, mode: Literal["a", "b"]) -> None:
        return None

    detail = client_for(handler).get("/q?color=x&mode=z").json()["detail"]
    assert detail[0]["msg"] == "Input should be 'red' or 'blue'"
    assert detail[1]["msg"] == "Input should be 'a' or 'b'"


def test_missing_and_invalid_are_reported_together() -> None:
    def handler(limit: int, offset: int, q: str) -> None:
        return None

    r = client_for(handler).get("/q?offset=x")
    assert r.status_code == 422
    assert r.json() == {
        "detail": [
            {"loc": ["query", "limit"], "msg": "Field required", "type": "missing", "input": None},
            {
                "loc": ["query", "offset"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "type": "int_parsing",
                "input": "x",
            },
            {"loc": ["query", "q"], "msg": "Field required", "type": "missing", "input": None},
        ]
    }


def test_defaults_and_optionals() -> None:
    def handler(
        limit: int = 10,
        q: str | None = None,
        old_style: Optional[int] = None,  # noqa: UP045 - the old spelling must work too
        flag: bool = False,
    ) -> list[Any]:
        return [limit, q, old_style, flag]

    client = client_for(handler)
    assert client.get("/q").json() == [10, None, None, False]
    assert client.get("/q?limit=3&q=x&old_style=4&flag=on").json() == [3, "x", 4, True]
    assert client.get("/q?old_style=nope").status_code == 422


def test_empty_value_is_present() -> None:
    def handler(q: str = "default", n: int = 1) -> Any:
        return q

    client = client_for(handler)
    assert client.get("/q?q=").json() == ""
    assert client.get("/q?n=").status_code == 422


def test_list_parameters() -> None:
    def handler(tag: list[str], n: list[int] = [], plain: list = []) -> Any:  # type: ignore[type-arg]  # noqa: B006
        n.append(-1)  # must not leak into the next request
        return {"tag": tag, "n": n, "plain": plain}

    client = client_for(handler)
    assert client.get("/q?tag=a&tag=b&n=1&n=2&plain=x").json() == {
        "tag": ["a", "b"],
        "n": [1, 2, -1],
        "plain": ["x"],
    }
    assert client.get("/q?tag=a").json() == {"tag": ["a"], "n": [-1], "plain": []}
    r = client.get("/q")
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "tag"]
    r = client.get("/q?tag=a&n=1&n=x")
    assert r.json()["detail"] == [
        {
            "loc": ["query", "n"],
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "type": "int_parsing",
            "input": "x",
        }
    ]


def test_duplicated_scalar_query_key_takes_the_first() -> None:
    def handler(q: str) -> str:
        return q

    assert client_for(handler).get("/q?q=first&q=second").json() == "first"


def test_invalid_utf8_query_is_400() -> None:
    def handler(q: str) -> str:
        return q

    r = client_for(handler).get("/q?q=%ff%fe")
    assert r.status_code == 400
    assert r.json() == {"detail": "Invalid UTF-8 in the query string"}


def test_request_parameter_any_name() -> None:
    def handler(req: Request, item_id: str) -> dict[str, Any]:
        return {"method": req.method, "params": req.path_params, "id": item_id}

    r = client_for(handler, "/items/{item_id}").get("/items/9")
    assert r.json() == {"method": "GET", "params": {"item_id": "9"}, "id": "9"}


def test_temporary_response_status_headers_cookies() -> None:
    app = App()

    @app.post("/items", status_code=201)
    def create(response: Response, fail: bool = False) -> dict[str, bool]:
        response.headers["x-trace"] = "t1"
        response.set_cookie("seen", "yes")
        if fail:
            response.status_code = 409
        return {"ok": not fail}

    client = TestClient(app)
    r = client.post("/items")
    assert (r.status_code, r.json()) == (201, {"ok": True})
    assert r.headers["x-trace"] == "t1"
    assert r.headers["set-cookie"] == "seen=yes; Path=/; SameSite=Lax"
    assert r.headers["content-type"] == "application/json"
    r = client.post("/items?fail=1")
    assert (r.status_code, r.json()) == (409, {"ok": False})


def test_temporary_response_status_204_with_none() -> None:
    app = App()

    @app.delete("/x")
    def remove(response: Response) -> None:
        response.status_code = 204

    r = TestClient(app).delete("/x")
    assert (r.status_code, r.content) == (204, b"")


def test_temporary_response_merges_into_a_returned_response_without_changing_it() -> None:
    app = App()
    order: list[str] = []
    shared = PlainTextResponse(
        "body", status_code=202, headers={"x-own": "own", "x-both": "from-returned"}
    )
    shared.set_cookie("own", "1")

    @app.get("/x")
    def handler(response: Response) -> Response:
        response.status_code = 299  # the returned response's own status wins
        response.headers["x-both"] = "from-temporary"
        response.headers["x-temp"] = "temp"
        response.set_cookie("temp", "2")
        return shared

    before = list(shared.raw_headers)
    r = TestClient(app).get("/x")
    assert r.status_code == 202
    assert r.headers.get_list("x-both") == ["from-returned"]
    assert r.headers["x-own"] == "own"
    assert r.headers["x-temp"] == "temp"
    assert r.headers.get_list("set-cookie") == [
        "own=1; Path=/; SameSite=Lax",
        "temp=2; Path=/; SameSite=Lax",
    ]
    assert r.headers.get_list("content-length") == ["4"]
    assert shared.raw_headers == before
    assert order == []


def test_both_background_tasks_run() -> None:
    from microweb.background import BackgroundTask

    app = App()
    done: list[str] = []

    @app.get("/x")
    def handler(response: Response, tasks: BackgroundTasks) -> Response:
        response.background = BackgroundTask(done.append, "temporary")
        tasks.add_task(done.append, "tasks")
        return PlainTextResponse("ok", background=BackgroundTask(done.append, "returned"))

    assert TestClient(app).get("/x").text == "ok"
    assert done == ["returned", "temporary", "tasks"]


def test_background_tasks_parameter_runs_after_the_response() -> None:
    app = App()
    log: list[str] = []

    @app.post("/signup")
    async def signup(email: str, tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add_task(log.append, f"welcome {email}")
        log.append("handler")
        return {"status": "ok"}

    r = TestClient(app).post("/signup?email=a@b.c")
    assert r.json() == {"status": "ok"}
    assert log == ["handler", "welcome a@b.c"]


def test_handler_with_only_path_parameters_gets_them() -> None:
    app = App()

    @app.get("/a/{x}/b/{y:int}")
    async def handler(x: str, y: int) -> list[Any]:
        return [x, y]

    binding = app.routes[0].binding
    assert binding.passthrough
    assert TestClient(app).get("/a/u/b/3").json() == ["u", 3]


def test_partial_and_callable_object_handlers() -> None:
    import functools

    def greet(greeting: str, name: str) -> str:
        return f"{greeting} {name}"

    class Counter:
        async def __call__(self, step: int = 1) -> int:
            return step * 10

    app = App()
    app.add_route("/hi", functools.partial(greet, "hi"))
    app.add_route("/count", Counter())
    client = TestClient(app)
    assert client.get("/hi?name=bo").json() == "hi bo"
    assert client.get("/count?step=2").json() == 20


def test_unresolvable_annotation_is_a_definition_error() -> None:
    def handler(x: NotDefinedAnywhere) -> None:  # type: ignore[name-defined]  # noqa: F821
        return None

    with pytest.raises(TypeError, match="cannot resolve the annotations"):
        App().add_route("/x", handler)


def test_path_parameter_with_unsupported_annotation() -> None:
    def handler(item: dict) -> None:  # type: ignore[type-arg]
        return None

    with pytest.raises(TypeError, match="path segment cannot carry"):
        App().add_route("/items/{item}", handler)


def test_unannotated_request_parameter_is_the_request() -> None:
    def handler(request, q: str = "") -> dict[str, Any]:  # type: ignore[no-untyped-def]
        return {"method": request.method, "q": q, "id": request.path_params["item_id"]}

    r = client_for(handler, "/items/{item_id}").get("/items/9?q=z")
    assert r.json() == {"method": "GET", "q": "z", "id": "9"}


def test_path_converter_disagreeing_with_the_annotation_is_a_definition_error() -> None:
    def handler(item_id: str) -> str:
        return item_id

    with pytest.raises(
        TypeError,
        match=r"path parameter 'item_id' of .* is annotated str, "
        r"but its converter \{item_id:int\} gives int",
    ):
        App().add_route("/items/{item_id:int}", handler)


@pytest.mark.parametrize(
    ("template", "annotation"),
    [
        ("/{v:float}", int),
        ("/{v:uuid}", str),
        ("/{v:path}", int),
        ("/{v:int}", bool),
        ("/{v:int}", list[int]),
    ],
)
def test_path_converter_disagreements(template: str, annotation: Any) -> None:
    def handler(v: Any) -> Any:
        return v

    handler.__annotations__["v"] = annotation
    with pytest.raises(TypeError, match=r"path parameter 'v' .* but its converter"):
        App().add_route(template, handler)


@pytest.mark.parametrize(
    ("template", "annotation", "path", "value"),
    [
        ("/{v:int}", None, "/5", 5),
        ("/{v:int}", Any, "/5", 5),
        ("/{v:int}", object, "/5", 5),
        ("/{v:int}", int, "/5", 5),
        ("/{v:int}", Optional[int], "/5", 5),  # noqa: UP045
        ("/{v:int}", int | str, "/5", 5),
        ("/{v:int}", float, "/5", 5),
        ("/{v:float}", float, "/2.5", 2.5),
        ("/{v:uuid}", uuid.UUID, "/" + "a" * 8 + "-aaaa-aaaa-aaaa-" + "a" * 12, "uuid"),
        ("/{v:path}", str, "/a/b", "a/b"),
        ("/{v}", int, "/7", 7),
        ("/{v:str}", uuid.UUID, "/" + "b" * 8 + "-bbbb-bbbb-bbbb-" + "b" * 12, "uuid"),
    ],
)
def test_path_converter_agreements(template: str, annotation: Any, path: str, value: Any) -> None:
    def handler(v: Any) -> Any:
        return {"type": type(v).__name__.lower(), "value": str(v)}

    if annotation is None:
        del handler.__annotations__["v"]
    else:
        handler.__annotations__["v"] = annotation
    body = client_for(handler, template).get(path).json()
    if value == "uuid":
        assert body["type"] == "uuid"
    else:
        assert (body["type"], body["value"]) == (type(value).__name__, str(value))
