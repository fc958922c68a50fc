from __future__ import annotations

import datetime
import email.utils
import logging
import time
from typing import Any

import pytest
from asgi_helpers import call_asgi, http_scope
from conftest import require_module

from microweb.background import BackgroundTask, BackgroundTasks
from microweb.responses import (
    HTMLResponse,
    JSONResponse,
    ORJSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    UJSONResponse,
)
from microweb.responses._base import content_messages
from microweb.testclient import TestClient
from microweb.types import Message


def test_plain_response_as_asgi_app() -> None:
    client = TestClient(Response(b"raw bytes", media_type="application/octet-stream"))
    r = client.get("/")
    assert r.status_code == 200
    assert r.content == b"raw bytes"
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-length"] == "9"


def test_class_attributes_and_instance_attributes() -> None:
    assert Response.media_type is None
    assert Response.charset == "utf-8"
    response = Response("hé", status_code=201)
    assert response.status_code == 201
    assert response.body == "hé".encode()
    assert response.background is None
    assert response.raw_headers == [(b"content-length", b"3")]


@pytest.mark.parametrize(
    ("content", "body"),
    [(None, b""), (b"x", b"x"), ("\u00e9", b"\xc3\xa9"), (memoryview(b"mv"), b"mv")],
)
def test_render(content: Any, body: bytes) -> None:
    assert bytes(Response().render(content)) == body


@pytest.mark.parametrize("content", [1, 2.5, {"a": 1}, ["x"], bytearray(b"x")])
def test_render_refuses_other_types_naming_them(content: Any) -> None:
    with pytest.raises(TypeError, match=type(content).__name__):
        Response(content)


def test_render_uses_charset() -> None:
    class Latin1(PlainTextResponse):
        charset = "latin-1"

    r = TestClient(Latin1("caf\u00e9")).get("/")
    assert r.content == b"caf\xe9"
    assert r.headers["content-type"] == "text/plain; charset=latin-1"


def test_memoryview_content_length_counts_bytes() -> None:
    import array

    view = memoryview(array.array("i", [1, 2, 3]))
    response = Response(view)
    assert response.headers["content-length"] == str(view.nbytes)
    assert TestClient(response).get("/").content == view.tobytes()


@pytest.mark.parametrize(
    ("media_type", "expected"),
    [
        ("text/html", "text/html; charset=utf-8"),
        ("TEXT/CSV", "TEXT/CSV; charset=utf-8"),
        ("text/plain; charset=latin-1", "text/plain; charset=latin-1"),
        ("text/plain; CHARSET=ascii", "text/plain; CHARSET=ascii"),
        ("application/json", "application/json"),
        ("image/png", "image/png"),
    ],
)
def test_content_type_charset_for_text_only(media_type: str, expected: str) -> None:
    assert Response(b"", media_type=media_type).headers["content-type"] == expected


def test_no_media_type_no_content_type() -> None:
    assert "content-type" not in Response(b"x").headers


@pytest.mark.parametrize("status", [100, 101, 199, 204, 304])
def test_no_content_length_for_bodyless_statuses(status: int) -> None:
    assert "content-length" not in Response(status_code=status).headers


@pytest.mark.parametrize("status", [200, 201, 205, 404, 500])
def test_content_length_for_other_statuses(status: int) -> None:
    assert Response(b"abc", status_code=status).headers["content-length"] == "3"


def test_given_headers_win_over_computed_ones() -> None:
    response = Response(
        b"abc",
        media_type="text/plain",
        headers={"Content-Type": "text/x-custom", "Content-Length": "3", "X-Extra": "1"},
    )
    assert response.raw_headers == [
        (b"content-type", b"text/x-custom"),
        (b"content-length", b"3"),
        (b"x-extra", b"1"),
    ]


def test_headers_accept_a_list_of_pairs_with_repeats() -> None:
    response = Response(headers=[("X-A", "1"), ("x-a", "2")])
    assert response.headers.getlist("x-a") == ["1", "2"]


def test_headers_view_writes_through_to_raw_headers() -> None:
    response = Response(b"x")
    response.headers["X-Token"] = "abc"
    response.headers.append("Vary", "accept")
    assert (b"x-token", b"abc") in response.raw_headers
    del response.headers["content-length"]
    assert all(name != b"content-length" for name, _ in response.raw_headers)
    r = TestClient(response).get("/")
    assert r.headers["x-token"] == "abc"
    assert r.headers["vary"] == "accept"


@pytest.mark.parametrize("bad", ["a\r\nSet-Cookie: x=1", "a\nb", "a\rb", "a\x00b"])
def test_header_injection_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="CR, LF and NUL"):
        Response(headers={"x-h": bad})
    response = Response()
    with pytest.raises(ValueError, match="CR, LF and NUL"):
        response.headers["x-h"] = bad
    with pytest.raises(ValueError, match="CR, LF and NUL"):
        response.headers.append("x-h", bad)


@pytest.mark.parametrize("bad", ["x\r\ny", "x y", "x:y", "", "x\x00"])
def test_header_name_must_be_a_token(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid header name"):
        Response(headers={bad: "v"})


def test_head_sends_headers_but_no_body() -> None:
    client = TestClient(PlainTextResponse("hello"))
    r = client.head("/")
    assert r.status_code == 200
    assert r.headers["content-length"] == "5"
    assert r.content == b""


@pytest.mark.anyio
async def test_head_sends_an_empty_final_body_message() -> None:
    messages: list[Message] = []

    async def send(message: Message) -> None:
        messages.append(message)

    async def receive() -> Message:
        raise AssertionError("a plain response never reads the request")

    await PlainTextResponse("hello")({"type": "http", "method": "HEAD"}, receive, send)
    assert [m["type"] for m in messages] == ["http.response.start", "http.response.body"]
    assert messages[1]["body"] == b""
    assert messages[1].get("more_body", False) is False


@pytest.mark.anyio
async def test_a_scope_without_a_method_is_answered_as_a_get() -> None:
    messages: list[Message] = []

    async def send(message: Message) -> None:
        messages.append(message)

    async def receive() -> Message:
        raise AssertionError("a plain response never reads the request")

    await PlainTextResponse("hello")({"type": "http"}, receive, send)
    assert messages[1]["body"] == b"hello"


def test_response_object_answers_many_requests() -> None:
    response = JSONResponse({"n": 1}, headers={"x-a": "b"})
    client = TestClient(response)
    before = list(response.raw_headers)
    for method in ("GET", "HEAD", "GET"):
        r = client.request(method, "/")
        assert r.headers["x-a"] == "b"
    assert client.get("/").json() == {"n": 1}
    assert response.raw_headers == before


def test_bodyless_status_sends_no_body_even_if_rendered() -> None:
    r = TestClient(JSONResponse(None, status_code=204)).get("/")
    assert r.status_code == 204
    assert r.content == b""


def test_background_runs_after_the_body() -> None:
    events: list[str] = []

    async def app_send_recorder(scope: Any, receive: Any, send: Any) -> None:
        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.body":
                events.append("body")
            await send(message)

        response = Response(b"x", background=BackgroundTask(events.append, "task"))
        await response(scope, receive, recording_send)

    TestClient(app_send_recorder).get("/")
    assert events == ["body", "task"]


def test_background_tasks_run_in_order_and_failures_are_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    done: list[str] = []

    def boom() -> None:
        raise RuntimeError("kaput")

    async def async_step(x: str) -> None:
        done.append(x)

    tasks = BackgroundTasks()
    tasks.add_task(done.append, "first")
    tasks.add_task(boom)
    tasks.add_task(async_step, x="third")
    with caplog.at_level(logging.ERROR, logger="microweb"):
        r = TestClient(PlainTextResponse("ok", background=tasks)).get("/")
    assert r.text == "ok"
    assert done == ["first", "third"]
    [record] = caplog.records
    assert "boom" in record.getMessage()
    assert record.exc_info is not None
    assert "kaput" in str(record.exc_info[1])


# --- subclasses --------------------------------------------------------------


def test_html_response() -> None:
    r = TestClient(HTMLResponse("<h1>é</h1>")).get("/")
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.text == "<h1>é</h1>"


def test_plain_text_response() -> None:
    r = TestClient(PlainTextResponse(b"bytes ok")).get("/")
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    assert r.content == b"bytes ok"


def test_json_response() -> None:
    r = TestClient(JSONResponse({"message": "héllo", "n": [1, 2.5, None, True]})).get("/")
    assert r.headers["content-type"] == "application/json"
    assert r.content == '{"message":"héllo","n":[1,2.5,null,true]}'.encode()
    assert r.headers["content-length"] == str(len(r.content))


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_json_response_refuses_nan_and_infinity(value: float) -> None:
    with pytest.raises(ValueError, match="not JSON compliant"):
        JSONResponse({"x": [1, {"y": value}]})


def test_json_response_unknown_type_names_it() -> None:
    class Gadget:
        pass

    with pytest.raises(TypeError, match="Gadget"):
        JSONResponse({"g": Gadget()})


def test_orjson_response_options() -> None:
    response = ORJSONResponse({1: "int key", "nan": float("nan")})
    assert isinstance(response, JSONResponse)
    assert response.body == b'{"1":"int key","nan":null}'
    assert response.headers["content-type"] == "application/json"


def test_ujson_response() -> None:
    require_module("ujson", "pip install 'microweb-asgi[ujson]'")
    response = UJSONResponse({"a": "é", "b": [1, 2]})
    assert isinstance(response, JSONResponse)
    assert TestClient(response).get("/").json() == {"a": "é", "b": [1, 2]}
    assert "é".encode() in response.body


def test_ujson_response_without_ujson_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "ujson", None)  # makes `import ujson` fail
    with pytest.raises(ImportError, match=r"pip install 'microweb-asgi\[ujson\]'"):
        UJSONResponse({"a": 1})


def test_ujson_without_ujson_fails_when_the_app_is_defined(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    from microweb import App, Router

    monkeypatch.setitem(sys.modules, "ujson", None)
    extra = r"pip install 'microweb-asgi\[ujson\]'"
    with pytest.raises(ImportError, match=extra):
        App(default_response_class=UJSONResponse)
    with pytest.raises(ImportError, match=extra):
        Router(default_response_class=UJSONResponse)
    app = App()
    with pytest.raises(ImportError, match=extra):

        @app.get("/", response_class=UJSONResponse)
        async def index() -> dict[str, int]:
            return {"a": 1}


def test_redirect_response() -> None:
    response = RedirectResponse("/new place?q=a b")
    assert response.status_code == 307
    assert response.headers["location"] == "/new%20place?q=a%20b"
    assert response.headers["content-length"] == "0"
    assert "content-type" not in response.headers
    r = TestClient(response, follow_redirects=False).get("/")
    assert r.status_code == 307
    assert r.headers["location"] == "/new%20place?q=a%20b"


def test_redirect_keeps_url_structure_and_quotes_the_rest() -> None:
    url = "https://user@example.com:8080/a/é?x=1&y=[2]#frag;!$'()*+,"
    location = RedirectResponse(url, status_code=301).headers["location"]
    assert location == "https://user@example.com:8080/a/%C3%A9?x=1&y=[2]#frag;!$'()*+,"


def test_redirect_cannot_inject_headers() -> None:
    response = RedirectResponse("/x\r\nSet-Cookie: evil=1")
    assert response.headers["location"] == "/x%0D%0ASet-Cookie:%20evil=1"
    assert "set-cookie" not in response.headers


def test_redirect_url_wins_over_a_location_header() -> None:
    response = RedirectResponse("/b", headers={"location": "/a", "x-y": "z"})
    assert response.headers.getlist("location") == ["/b"]
    assert response.headers["x-y"] == "z"


# --- cookies -----------------------------------------------------------------


def test_set_cookie_all_attributes() -> None:
    response = Response()
    response.set_cookie(
        "session",
        "abc",
        max_age=60,
        expires=datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
        path="/app",
        domain="example.com",
        secure=True,
        httponly=True,
        samesite="STRICT",  # type: ignore[arg-type]
        partitioned=True,
    )
    assert response.headers["set-cookie"] == (
        "session=abc; Max-Age=60; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Path=/app; "
        "Domain=example.com; Secure; HttpOnly; SameSite=Strict; Partitioned"
    )


def test_set_cookie_defaults() -> None:
    response = Response()
    response.set_cookie("a")
    assert response.headers["set-cookie"] == 'a=""; Path=/; SameSite=Lax'


def test_set_cookie_expires_seconds_from_now_and_string() -> None:
    response = Response()
    before = time.time()
    response.set_cookie("a", "1", expires=3600)
    response.set_cookie("b", "2", expires="Thu, 01 Jan 2099 00:00:00 GMT")
    first, second = response.headers.getlist("set-cookie")
    expires = first.split("Expires=")[1].split(";")[0]
    moment = email.utils.parsedate_to_datetime(expires).timestamp()
    assert before + 3599 <= moment <= time.time() + 3601
    assert "Expires=Thu, 01 Jan 2099 00:00:00 GMT" in second


def test_set_cookie_naive_datetime_means_utc() -> None:
    response = Response()
    response.set_cookie("a", expires=datetime.datetime(2030, 1, 1))
    assert "Expires=Tue, 01 Jan 2030 00:00:00 GMT" in response.headers["set-cookie"]


@pytest.mark.parametrize("samesite", ["lax", "Lax", "strict", "NONE"])
def test_samesite_any_case(samesite: Any) -> None:
    response = Response()
    response.set_cookie("a", samesite=samesite)
    assert f"SameSite={samesite.capitalize()}" in response.headers["set-cookie"]


@pytest.mark.parametrize("samesite", ["", "relaxed", "laxx"])
def test_samesite_invalid(samesite: Any) -> None:
    with pytest.raises(ValueError, match="samesite"):
        Response().set_cookie("a", samesite=samesite)


def test_cookie_value_is_quoted_not_injected() -> None:
    response = Response()
    response.set_cookie("a", 'x; Domain=evil.example, "q"')
    header = response.headers["set-cookie"]
    assert header.startswith('a="x\\073 Domain=evil.example\\054 \\"q\\""')
    assert header.count("Domain=") == 1  # only the quoted value mentions it


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"path": "/; Domain=evil"}, "path"),
        ({"domain": "a.com; Secure"}, "domain"),
        ({"expires": "never; HttpOnly"}, "expires"),
        ({"path": "/\r\nX: y"}, "path"),
    ],
)
def test_cookie_attributes_cannot_inject(kwargs: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Response().set_cookie("a", "b", **kwargs)


@pytest.mark.parametrize("key", ["", "a b", "a;b", "a=b"])
def test_invalid_cookie_name(key: str) -> None:
    with pytest.raises(ValueError, match="cookie name"):
        Response().set_cookie(key, "v")


@pytest.mark.parametrize("key", ["path", "Expires", "domain", "max-age", "secure"])
def test_cookie_names_that_are_attribute_names_are_allowed(key: str) -> None:
    response = Response()
    response.set_cookie(key, "v")
    assert response.headers["set-cookie"] == f"{key}=v; Path=/; SameSite=Lax"


def test_partitioned_needs_secure() -> None:
    with pytest.raises(ValueError, match="secure"):
        Response().set_cookie("a", partitioned=True)


def test_several_cookies_each_own_header() -> None:
    response = Response()
    response.set_cookie("a", "1")
    response.set_cookie("b", "2")
    r = TestClient(response).get("/")
    assert r.headers.get_list("set-cookie") == [
        "a=1; Path=/; SameSite=Lax",
        "b=2; Path=/; SameSite=Lax",
    ]
    assert r.cookies["a"] == "1"
    assert r.cookies["b"] == "2"


def test_delete_cookie() -> None:
    response = Response()
    response.delete_cookie("session", path="/app", secure=True, httponly=True)
    assert response.headers["set-cookie"] == (
        'session=""; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/app; '
        "Secure; HttpOnly; SameSite=Lax"
    )
    client = TestClient(response)
    client.cookies.set("session", "old", domain="testserver.local", path="/app")
    client.get("/app")
    assert "session" not in client.cookies


class _CSVResponse(PlainTextResponse):
    media_type = "text/csv"
    charset = "latin-1"


_SIMPLE_CLASSES = [PlainTextResponse, HTMLResponse, JSONResponse, ORJSONResponse, _CSVResponse]


@pytest.mark.anyio
@pytest.mark.parametrize("response_class", _SIMPLE_CLASSES)
@pytest.mark.parametrize("status", [200, 201, 404, 500])
@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
async def test_content_messages_are_what_the_response_sends(
    response_class: type[Response], status: int, method: str
) -> None:
    messages = content_messages(response_class, status)
    assert messages is not None
    texts: list[Any] = ["", "h\u00e9", "x" * 1023, "y" * 1024, "z" * 70_000]
    if issubclass(response_class, JSONResponse):
        contents = [*texts, None, {"a": [1, 2.5, None]}, [True]]
    else:
        contents = [*texts, None, b"raw", memoryview(b"viewed"), b"b" * 5000]
    for content in contents:
        expected = await call_asgi(response_class(content, status_code=status), method)
        start, body = messages(content, http_scope(method))
        assert [start, body] == expected, content


@pytest.mark.parametrize(
    ("response_class", "status"),
    [
        (PlainTextResponse, 204),  # no body to send
        (PlainTextResponse, 304),
        (Response, 200),  # no media type: the response makes its own headers
        (RedirectResponse, 307),  # its own __init__
    ],
)
def test_content_messages_leave_other_responses_to_be_made(
    response_class: type[Response], status: int
) -> None:
    assert content_messages(response_class, status) is None


def test_content_messages_leave_a_render_of_the_users_own_to_the_response() -> None:
    class Shouting(PlainTextResponse):
        def render(self, content: Any) -> bytes:
            self.media_type = "text/x-shout"  # may change what init_headers does
            return str(content).upper().encode()

    class Whispering(Shouting):
        media_type = "text/x-whisper"

    assert content_messages(Shouting, 200) is None
    assert content_messages(Whispering, 200) is None  # the render it inherits


def test_content_messages_answer_a_scope_without_a_method_as_a_get() -> None:
    messages = content_messages(PlainTextResponse, 200)
    assert messages is not None
    assert messages("hi", {"type": "http"})[1] == {"type": "http.response.body", "body": b"hi"}


def test_content_messages_refuse_what_the_class_refuses() -> None:
    messages = content_messages(PlainTextResponse, 200)
    assert messages is not None
    with pytest.raises(TypeError, match="PlainTextResponse content must be str"):
        messages(42, http_scope())
    json_messages = content_messages(JSONResponse, 200)
    assert json_messages is not None
    with pytest.raises(ValueError, match="not JSON compliant"):
        json_messages(float("nan"), http_scope())
