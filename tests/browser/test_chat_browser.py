"""examples/chat.py in headless Chromium: two pages chat through a real uvicorn.

Each page joins under its own name; a message typed in one appears in the
other's log (as text, never as markup), and the online list of both shows
both names. Run on one worker (in-memory broadcaster), and on two workers
sharing a real redis-server, where the two pages' WebSockets may be held by
different processes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from server.conftest import Server

TIMEOUT_MS = 10_000


@pytest.fixture(params=["one worker", "two workers and redis"])
def chat_server(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    extra: list[str] = []
    if request.param == "two workers and redis":
        monkeypatch.setenv("CHAT_REDIS_URL", request.getfixturevalue("redis_url"))
        extra = ["--workers", "2"]
    else:
        monkeypatch.delenv("CHAT_REDIS_URL", raising=False)
    server = Server("examples.chat:app", "--timeout-graceful-shutdown", "1", *extra)
    try:
        yield server.url
    finally:
        server.stop()


def texts(page: Any, selector: str) -> list[str]:
    found: list[str] = page.locator(selector).all_text_contents()
    return found


def open_chat(browser: Any, url: str, name: str) -> Any:
    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    page.fill("#name", name)
    page.click("#join button")
    page.wait_for_function(
        "(name) => document.getElementById('status').textContent === `connected as ${name}`",
        arg=name,
    )
    return page


def wait_for_items(page: Any, selector: str, expected: list[str]) -> None:
    page.wait_for_function(
        """([selector, expected]) => JSON.stringify(
            [...document.querySelectorAll(selector)].map((item) => item.textContent)
        ) === JSON.stringify(expected)""",
        arg=[selector, expected],
    )


def test_two_pages_chat(browser: Any, chat_server: str) -> None:
    ada = open_chat(browser, chat_server, "ada")
    bob = open_chat(browser, chat_server, "bob")
    try:
        for page in (ada, bob):
            wait_for_items(page, "#online li", ["ada", "bob"])
        ada.fill("#text", "hello bob")
        ada.press("#text", "Enter")
        wait_for_items(bob, "#log li", ["ada: hello bob"])
        bob.fill("#text", "<b>hi</b> ada")
        bob.click("#say button")
        wait_for_items(ada, "#log li", ["ada: hello bob", "bob: <b>hi</b> ada"])
        assert ada.locator("#log b").count() == 0  # shown as text, not markup
        assert texts(bob, "#log li") == ["ada: hello bob", "bob: <b>hi</b> ada"]
        bob.close()
        wait_for_items(ada, "#online li", ["ada"])
    finally:
        for page in (ada, bob):
            if not page.is_closed():
                page.close()
