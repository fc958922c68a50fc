"""Headless Chromium on one origin calls a microweb API on another, with credentials.

The page's own script (``fetch`` with ``credentials: "include"`` and a
header that needs a preflight) logs in and reads the session back from the
allowed origin; from an origin the API does not allow, the browser refuses
both the preflight and the simple request. Playwright drives Debian's
chromium (``executable_path``; no ``playwright install``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from server.conftest import Server

HERE = Path(__file__).parent

SCRIPT = """async (api) => {
    const out = {};
    try {
        const login = await fetch(api + "/login", {
            method: "POST", credentials: "include", headers: {"x-token": "ada"},
        });
        out.login = login.status;
        const me = await fetch(api + "/me", {credentials: "include"});
        out.me = await me.json();
    } catch (error) {
        out.error = String(error);
    }
    try {
        await fetch(api + "/me", {credentials: "include"});
        out.simple = "read";
    } catch (error) {
        out.simple = String(error);
    }
    return out;
}"""


@pytest.fixture
def servers(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Server, Server, Server]]:
    started: list[Server] = []
    try:
        allowed = Server("cors_app:page", "--app-dir", str(HERE))
        started.append(allowed)
        refused = Server("cors_app:page", "--app-dir", str(HERE))
        started.append(refused)
        monkeypatch.setenv("CORS_ALLOWED_ORIGIN", allowed.url)
        # Another port: another origin than both pages, the same site (as
        # api.example.com is to app.example.com), so the lax cookie goes along.
        api = Server("cors_app:api", "--app-dir", str(HERE))
        started.append(api)
        yield allowed, refused, api
    finally:
        for server in started:
            server.stop()


def run_in_page(browser: Any, page_url: str, api_url: str) -> dict[str, Any]:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(page_url)
        result: dict[str, Any] = page.evaluate(SCRIPT, api_url)
        return result
    finally:
        context.close()


def test_the_allowed_origin_reads_its_session_and_another_origin_is_refused(
    browser: Any, servers: tuple[Server, Server, Server]
) -> None:
    allowed, refused, api = servers
    api_url = api.url
    assert run_in_page(browser, allowed.url + "/", api_url) == {
        "login": 200,
        "me": {"user": "ada"},
        "simple": "read",
    }
    blocked = run_in_page(browser, refused.url + "/", api_url)
    assert blocked["error"].startswith("TypeError")  # the preflight was refused
    assert blocked["simple"].startswith("TypeError")  # no allow-origin: the page cannot read
