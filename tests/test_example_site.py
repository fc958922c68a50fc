"""examples/site answers as its docstring says (in process; tests/browser drives a browser)."""

from __future__ import annotations

from examples.site import app
from microweb.testclient import TestClient


def test_pages_link_through_url_for_under_any_root_path() -> None:
    for root in ("", "/prefix"):
        client = TestClient(app, root_path=root)
        page = client.get(f"{root}/")
        assert page.status_code == 200
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        base = f"http://testserver{root}"
        for link in ("/static/site.css", "/static/site.js", "/about", "/app/", "/api/items/2"):
            assert f'"{base}{link}"' in page.text
        about = client.get(f"{root}/about")
        assert f"Served by microweb at {root}/about." in about.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in about.text


def test_static_files_are_revalidated_and_answered_304() -> None:
    client = TestClient(app)
    css = client.get("/static/site.css")
    assert css.headers["cache-control"] == "no-cache"
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    again = client.get("/static/site.css", headers={"if-none-match": css.headers["etag"]})
    assert again.status_code == 304


def test_the_api_and_the_single_page_app() -> None:
    client = TestClient(app)
    assert client.get("/api/items/2").json() == {"id": 2, "name": "a kettle"}
    assert client.get("/api/items/x").status_code == 404
    for path in ("/app/", "/app/users/42"):
        spa = client.get(path)
        assert spa.status_code == 200
        assert '<p id="route">loading</p>' in spa.text
    assert client.get("/app/missing.js").status_code == 404
