"""Headless Chromium for the tests in this folder: Playwright driving Debian's chromium.

``executable_path`` points at /usr/bin/chromium (scripts/install brings it);
``playwright install``, which downloads a browser, is never run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import missing_tool

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing_tool("playwright", "pip install playwright")
    if not os.path.exists(CHROMIUM):
        missing_tool("Debian's chromium", "apt-get install chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()
