"""The docs page of examples/api.py works in headless Chromium, offline.

Swagger UI comes from the ``swagger-ui-dist`` npm package, fetched once with
``npm pack`` into a cache under the temporary directory and served by the
app (``tests/browser/docs_app.py``): the page lists every operation of the
document, and "Try it out" -> "Execute" on ``GET /search`` shows the answer.
Playwright drives Debian's chromium (``executable_path``; no ``playwright
install``).
"""

from __future__ import annotations

import os
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import require_program
from server.conftest import Server

HERE = Path(__file__).parent
PACKAGE = "swagger-ui-dist@5"
CACHE = Path(tempfile.gettempdir()) / "microweb-test-cache" / "swagger-ui-dist-5"


def _swagger_ui() -> Path:
    """The folder of ``swagger-ui-dist``'s files: the cached copy, else fetched with npm."""
    if (CACHE / "swagger-ui-bundle.js").is_file():
        return CACHE
    npm = require_program("npm", "apt-get install npm; scripts/install does it")
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE.parent) as work:
        done = subprocess.run(
            [npm, "pack", PACKAGE, "--silent", "--pack-destination", work],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            pytest.fail(f"npm pack {PACKAGE} failed: {done.stderr}", pytrace=False)
        archive = Path(work) / done.stdout.strip().splitlines()[-1]
        with tarfile.open(archive) as tar:
            tar.extractall(work, filter="data")
        # Renamed into place whole: a parallel run sees all of it or none.
        os.replace(Path(work) / "package", CACHE)
    return CACHE


@pytest.fixture
def docs_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    monkeypatch.setenv("SWAGGER_UI_DIR", str(_swagger_ui()))  # read by docs_app
    server = Server("docs_app:app", "--app-dir", str(HERE))
    try:
        yield server
    finally:
        server.stop()


def test_docs_page_lists_the_operations_and_tries_one(browser: Any, docs_server: Server) -> None:
    page = browser.new_page()
    outside: list[str] = []
    # Offline: every request the page makes goes to the app itself.
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith(docs_server.url) else outside.append(request.url)
        ),
    )
    try:
        page.goto(f"{docs_server.url}/docs", timeout=15_000)
        page.wait_for_selector(".opblock", timeout=15_000)
        listed = {
            (
                block.query_selector(".opblock-summary-method").inner_text().strip(),
                block.query_selector(".opblock-summary-path").inner_text().strip(),
            )
            for block in page.query_selector_all(".opblock")
        }
        assert {
            ("GET", "/items/{item_id}"),
            ("PUT", "/items/{item_id}"),
            ("POST", "/items"),
            ("POST", "/items/bulk"),
            ("GET", "/users/{username}"),
            ("GET", "/search"),
            ("GET", "/caller"),
        } <= {(method, path.replace("\u200b", "")) for method, path in listed}
        assert page.title() == "Shop API - Swagger UI"

        block = page.locator("#operations-default-search")
        block.locator(".opblock-summary").click()
        block.locator("button.try-out__btn").click()
        block.locator('tr[data-param-name="q"] input').fill("pens")
        block.locator("button.execute").click()
        status = block.locator(".live-responses-table tbody .response-col_status").first
        status.wait_for(timeout=15_000)
        assert status.inner_text().strip() == "200"
        body = block.locator(".live-responses-table tbody .response-col_description pre").first
        assert '"q": "pens"' in body.inner_text()
        assert outside == []
    finally:
        page.close()
