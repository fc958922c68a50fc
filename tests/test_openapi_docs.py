"""The App's OpenAPI settings, the served document and the Swagger UI page.

microweb/openapi/docs.py and the OpenAPI part of microweb/applications.py.
"""

from __future__ import annotations

import pytest

from microweb import App, PlainTextResponse, Router
from microweb.openapi import SWAGGER_CSS_URL, SWAGGER_JS_URL, swagger_ui_html
from microweb.routing import Mount
from microweb.testclient import TestClient


def _app(**options: object) -> App:
    app = App(**options)  # type: ignore[arg-type]

    @app.get("/items")
    async def items() -> list[int]:
        return [1]

    return app


def test_document_and_page_served_by_default() -> None:
    app = _app(title="Shop <&>", version="2.0", description="Things to buy")
    with TestClient(app) as client:
        document = client.get("/openapi.json")
        assert document.status_code == 200
        assert document.headers["content-type"] == "application/json"
        assert document.json()["info"] == {
            "title": "Shop <&>",
            "version": "2.0",
            "description": "Things to buy",
        }
        assert "/items" in document.json()["paths"]
        assert "/openapi.json" not in document.json()["paths"]
        page = client.get("/docs")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "<title>Shop &lt;&amp;&gt; - Swagger UI</title>" in page.text
        assert f'src="{SWAGGER_JS_URL}"' in page.text
        assert f'href="{SWAGGER_CSS_URL}"' in page.text
        assert 'url: "/openapi.json"' in page.text
        assert client.head("/docs").status_code == 200
        assert client.post("/openapi.json").status_code == 405
        assert client.post("/openapi.json").headers["allow"] == "GET, HEAD"


def test_document_is_built_once_and_kept() -> None:
    app = _app()
    assert app.openapi() is app.openapi()


def test_urls_and_assets_are_settings() -> None:
    app = _app(
        openapi_url="/api/schema.json",
        docs_url="/api/docs",
        docs_js_url="/assets/ui.js",
        docs_css_url="/assets/ui.css",
    )
    with TestClient(app) as client:
        assert client.get("/openapi.json").status_code == 404
        assert client.get("/docs").status_code == 404
        assert client.get("/api/schema.json").status_code == 200
        page = client.get("/api/docs").text
        assert 'src="/assets/ui.js"' in page
        assert 'href="/assets/ui.css"' in page
        assert 'url: "/api/schema.json"' in page


def test_none_turns_them_off() -> None:
    with TestClient(_app(docs_url=None)) as client:
        assert client.get("/docs").status_code == 404
        assert client.get("/openapi.json").status_code == 200
    with TestClient(_app(openapi_url=None)) as client:
        assert client.get("/openapi.json").status_code == 404
        assert client.get("/docs").status_code == 404  # no document, no page


def test_a_users_route_or_mount_at_the_path_wins_and_is_no_duplicate() -> None:
    app = _app()

    @app.get("/docs", response_class=PlainTextResponse)
    async def my_docs() -> str:
        return "my docs"

    app.mount("/openapi.json", PlainTextResponse("mounted"))
    with TestClient(app) as client:
        assert client.get("/docs").text == "my docs"
        assert client.get("/openapi.json").text == "mounted"
    assert "/docs" in app.openapi()["paths"]


def test_a_router_route_at_the_path_wins() -> None:
    router = Router()

    @router.get("/openapi.json")
    async def mine() -> dict[str, str]:
        return {"mine": "yes"}

    app = _app()
    app.include_router(router)
    with TestClient(app) as client:
        assert client.get("/openapi.json").json() == {"mine": "yes"}


def test_mounted_app_serves_its_own_docs_under_the_prefix() -> None:
    inner = _app(title="Inner")
    outer = App(routes=[Mount("/inner", inner)])
    with TestClient(outer) as client:
        document = client.get("/inner/openapi.json").json()
        assert document["info"]["title"] == "Inner"
        # "Try it out" calls the path behind the prefix.
        assert document["servers"] == [{"url": "/inner"}]
        assert 'url: "/inner/openapi.json"' in client.get("/inner/docs").text
        outer_document = client.get("/openapi.json").json()
        assert "/inner/items" in outer_document["paths"]
        assert "servers" not in outer_document
    assert "servers" not in inner.openapi()  # the kept document is not changed


def test_root_path_from_the_server() -> None:
    with TestClient(_app(), root_path="/proxy") as client:
        page = client.get("/proxy/docs").text
        assert 'url: "/proxy/openapi.json"' in page
        assert client.get("/proxy/openapi.json").json()["servers"] == [{"url": "/proxy"}]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"openapi_url": "openapi.json"}, "openapi_url must be a path starting with '/'"),
        ({"docs_url": 3}, "docs_url must be a path"),
        ({"title": None}, "title must be a str"),
        ({"version": 1}, "version must be a str"),
    ],
)
def test_bad_settings_are_refused(options: dict[str, object], message: str) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        App(**options)  # type: ignore[arg-type]


def test_page_escapes_what_it_is_given() -> None:
    page = swagger_ui_html(
        openapi_url='/x</script><script>alert("x")</script>',
        title="<b>",
        js_url='/a.js"><script>',
        css_url="/a.css",
    )
    assert "</script><script>alert" not in page
    assert "<title>&lt;b&gt;</title>" in page
    assert 'src="/a.js&quot;&gt;&lt;script&gt;"' in page


def test_duplicate_operation_ids_make_the_document_a_500() -> None:
    app = App()
    app.add_route("/a", lambda: None, name="same")
    app.add_route("/b", lambda: None, name="same")
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/openapi.json").status_code == 500
