"""Jinja2Templates (microweb.templating): TemplateResponse, autoescape, url_for, pages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import jinja2
import pytest

from microweb import App, HTMLResponse, Request, Response, Router
from microweb.routing import Mount
from microweb.templating import Jinja2Templates
from microweb.testclient import TestClient


@pytest.fixture
def templates(tmp_path: Path) -> Jinja2Templates:
    (tmp_path / "item.html").write_text(
        "<h1>{{ name }}</h1><a href=\"{{ url_for('item', item_id=id) }}\">self</a>"
        "<p>{{ request.url.path }}</p>"
    )
    (tmp_path / "note.txt").write_text("{{ text }}")
    (tmp_path / "plain.html").write_text("<p>{{ text }}</p>")
    return Jinja2Templates(directory=tmp_path)


def test_template_response_renders_with_context_request_and_url_for(
    templates: Jinja2Templates,
) -> None:
    app = App()

    @app.get("/items/{item_id:int}")
    def item(request: Request, item_id: int) -> Response:
        return templates.TemplateResponse(request, "item.html", {"name": "Ada", "id": item_id})

    response = TestClient(app).get("/items/3")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert (
        response.text == '<h1>Ada</h1><a href="http://testserver/items/3">self</a><p>/items/3</p>'
    )


def test_template_response_keeps_template_and_context_for_tests(
    templates: Jinja2Templates,
) -> None:
    app = App()
    seen: list[Any] = []

    @app.get("/")
    def home(request: Request) -> Response:
        response = templates.TemplateResponse(
            request, "plain.html", {"text": "hi"}, status_code=201, headers={"x-a": "b"}
        )
        seen.append(response)
        return response

    response = TestClient(app).get("/")
    assert response.status_code == 201
    assert response.headers["x-a"] == "b"
    sent = seen[0]
    assert sent.template.name == "plain.html"
    assert sent.context["text"] == "hi"
    assert isinstance(sent.context["request"], Request)
    assert isinstance(sent, HTMLResponse)


def test_autoescape_is_on_for_html_and_every_other_name(templates: Jinja2Templates) -> None:
    app = App()

    @app.get("/{name}")
    def show(request: Request, name: str) -> Response:
        return templates.TemplateResponse(request, name, {"text": "<script>x</script>"})

    client = TestClient(app)
    assert client.get("/plain.html").text == "<p>&lt;script&gt;x&lt;/script&gt;</p>"
    assert client.get("/note.txt").text == "&lt;script&gt;x&lt;/script&gt;"
    string = templates.env.from_string("{{ text }}")
    assert string.render(text="<b>") == "&lt;b&gt;"


def test_url_for_carries_the_root_path_and_reaches_through_mounts(
    templates: Jinja2Templates, tmp_path: Path
) -> None:
    (tmp_path / "links.html").write_text(
        "{{ url_for('home') }} {{ url_for('static', path='/app.css') }} "
        "{{ url_for('api:thing', n=2) }}"
    )
    api = Router()
    api.add_route("/things/{n:int}", lambda n: {"n": n}, name="thing")
    app = App(routes=[Mount("/static", app=lambda s, r, se: None, name="static")])  # type: ignore[arg-type, return-value]
    app.mount("/api", api, name="api")

    @app.get("/")
    def home(request: Request) -> Response:
        return templates.TemplateResponse(request, "links.html")

    client = TestClient(app, root_path="/prefix")
    assert client.get("/prefix/").text == (
        "http://testserver/prefix/ http://testserver/prefix/static/app.css "
        "http://testserver/prefix/api/things/2"
    )


def test_request_must_come_first(templates: Jinja2Templates) -> None:
    with pytest.raises(TypeError, match="takes the Request first"):
        templates.TemplateResponse("item.html", {})  # type: ignore[arg-type]


def test_directory_or_env_not_both() -> None:
    with pytest.raises(TypeError, match="a directory or an env"):
        Jinja2Templates()
    with pytest.raises(TypeError, match="a directory or an env"):
        Jinja2Templates("x", env=jinja2.Environment())


def test_a_given_env_keeps_its_settings_and_gets_url_for() -> None:
    env = jinja2.Environment(loader=jinja2.DictLoader({"a.html": "{{ t }}"}), autoescape=False)
    templates = Jinja2Templates(env=env)
    assert "url_for" in env.globals
    app = App()

    @app.get("/")
    def home(request: Request) -> Response:
        return templates.TemplateResponse(request, "a.html", {"t": "<b>"})

    assert TestClient(app).get("/").text == "<b>"


def test_a_page_turns_the_returned_dict_into_the_page(templates: Jinja2Templates) -> None:
    app = App()

    @app.get("/items/{item_id:int}", response_class=templates.page("item.html"))
    async def item(item_id: int) -> dict[str, Any]:
        return {"name": "Lin", "id": item_id}

    @app.get("/empty", response_class=templates.page("plain.html"), status_code=202)
    def empty() -> None:
        return None

    client = TestClient(app)
    response = client.get("/items/4")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert (
        response.text == '<h1>Lin</h1><a href="http://testserver/items/4">self</a><p>/items/4</p>'
    )
    response = client.get("/empty")
    assert (response.status_code, response.text) == (202, "<p></p>")


def test_a_page_with_a_temporary_response_keeps_its_status_and_headers(
    templates: Jinja2Templates,
) -> None:
    app = App()

    @app.get("/", response_class=templates.page("plain.html"))
    def home(response: Response) -> dict[str, str]:
        response.status_code = 203
        response.headers["x-extra"] = "1"
        response.set_cookie("seen", "yes")
        return {"text": "merged"}

    response = TestClient(app).get("/")
    assert response.status_code == 203
    assert response.text == "<p>merged</p>"
    assert response.headers["x-extra"] == "1"
    assert response.cookies["seen"] == "yes"


def test_a_page_refuses_what_is_not_a_dict(
    templates: Jinja2Templates, caplog: pytest.LogCaptureFixture
) -> None:
    app = App()

    @app.get("/", response_class=templates.page("plain.html"))
    def home() -> list[int]:
        return [1]

    response = TestClient(app, raise_server_exceptions=False).get("/")
    assert response.status_code == 500
    assert "the page 'plain.html' takes a dict (its context), not list" in caplog.text


def test_a_missing_page_template_fails_when_the_route_is_defined(
    templates: Jinja2Templates,
) -> None:
    with pytest.raises(ValueError, match=r"no template 'missing\.html'"):
        templates.page("missing.html")


def test_a_missing_template_at_request_time_is_a_server_error(
    templates: Jinja2Templates,
) -> None:
    app = App()

    @app.get("/")
    def home(request: Request) -> Response:
        return templates.TemplateResponse(request, "missing.html")

    response = TestClient(app, raise_server_exceptions=False).get("/")
    assert response.status_code == 500


def test_any_response_class_declaring_request_gets_it() -> None:
    class Echo(Response):
        def __init__(self, content: Any, status_code: int = 200, *, request: Request) -> None:
            super().__init__(f"{content} {request.url.path}", status_code)

    app = App()

    @app.get("/a/{x}", response_class=Echo)
    def a(x: str) -> str:
        return x

    @app.get("/b", response_class=Echo, status_code=201)
    def b() -> str:
        return "b"

    @app.get("/c", response_class=Echo, status_code=204)
    def c() -> None:
        return None

    client = TestClient(app)
    assert client.get("/a/hi").text == "hi /a/hi"
    response = client.get("/b")
    assert (response.status_code, response.text) == (201, "b /b")
    assert client.get("/c").status_code == 204


def test_async_environment_renders_when_sent(tmp_path: Path) -> None:
    env = jinja2.Environment(
        loader=jinja2.DictLoader({"a.html": "<i>{{ t }}</i>"}), autoescape=True, enable_async=True
    )
    templates = Jinja2Templates(env=env)
    app = App()

    @app.get("/")
    async def home(request: Request) -> Response:
        return templates.TemplateResponse(request, "a.html", {"t": "<x>"})

    @app.get("/page", response_class=templates.page("a.html"))
    async def page() -> dict[str, str]:
        return {"t": "p"}

    client = TestClient(app)
    response = client.get("/")
    assert response.text == "<i>&lt;x&gt;</i>"
    assert response.headers["content-length"] == str(len(response.content))
    assert client.get("/page").text == "<i>p</i>"
    assert client.head("/").content == b""


def test_importing_microweb_does_not_import_jinja2() -> None:
    code = "import sys, microweb, microweb.routing; print('jinja2' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "False"


def test_a_missing_jinja2_names_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "jinja2", None)
    with pytest.raises(ImportError, match=r"microweb-asgi\[jinja2\]"):
        Jinja2Templates(directory=tmp_path)
