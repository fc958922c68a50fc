"""Every HTML page the examples and the README serve escapes what the user sent.

For each app in examples/ and the README's example, every route whose
response class is an HTMLResponse is requested with markup in each of its
str path and query parameters; the markup must come back escaped, never as
markup a browser would run.
"""

from __future__ import annotations

import html
import importlib
import re
from pathlib import Path
from urllib.parse import quote

import pytest

from microweb import App
from microweb.responses import HTMLResponse
from microweb.testclient import TestClient

ROOT = Path(__file__).parent.parent
MARKUP = "<img src=x onerror=alert(1)>"
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _example_apps() -> list[tuple[str, App]]:
    apps: list[tuple[str, App]] = []
    for path in sorted((ROOT / "examples").glob("*.py")):
        module = importlib.import_module(f"examples.{path.stem}")
        apps += [
            (f"{path.stem}.{name}", v) for name, v in vars(module).items() if isinstance(v, App)
        ]
    namespace: dict[str, object] = {}
    for block in PYTHON_BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8")):
        exec(compile(block, "README.md", "exec"), namespace)
    apps += [(f"README.{name}", v) for name, v in namespace.items() if isinstance(v, App)]
    return apps


APPS = _example_apps()


def _html_requests(app: App) -> list[str]:
    """A URL with markup in every str parameter, for each HTML route of ``app``."""
    urls = []
    for endpoint in app.routes:
        if not issubclass(endpoint.effective_response_class, HTMLResponse):
            continue
        if "GET" not in endpoint.methods:
            continue
        route = endpoint.route
        params = {
            p.name: quote(MARKUP, safe="") if p.convertor.name in ("str", "path") else "1"
            for p in route.compiled.params
        }
        query = "&".join(f"{p.name}={quote(MARKUP, safe='')}" for p in route.binding.query)
        if not params and not query:
            continue  # takes no input
        path = route.compiled.format(**params)
        urls.append(path + (f"?{query}" if query else ""))
    return urls


def test_the_apps_serve_html_pages_with_input() -> None:
    # The check below must have something to check: the hello example and the README do.
    assert sum(len(_html_requests(app)) for _, app in APPS) >= 2


def _unescaped(app: App) -> list[str]:
    """The URLs of ``app`` whose page sends the markup back as markup."""
    client = TestClient(app)
    found = []
    for url in _html_requests(app):
        response = client.get(url)
        assert response.status_code < 500, url
        if MARKUP in response.text:
            found.append(url)
    return found


@pytest.mark.parametrize(("name", "app"), APPS, ids=[name for name, _ in APPS])
def test_html_pages_escape_user_input(name: str, app: App) -> None:
    assert _unescaped(app) == []


def test_the_check_finds_an_unescaped_page() -> None:
    unsafe = App()

    @unsafe.get("/hello/{name}", response_class=HTMLResponse)
    def hello(name: str, greeting: str = "Hello") -> str:
        return f"<h1>{greeting}, {name}</h1>"

    @unsafe.get("/safe/{name}", response_class=HTMLResponse)
    def safe(name: str) -> str:
        return f"<h1>{html.escape(name)}</h1>"

    assert _unescaped(unsafe) == [
        f"/hello/{quote(MARKUP, safe='')}?greeting={quote(MARKUP, safe='')}"
    ]
