"""Headless Chromium for the tests in this folder, driven by Playwright."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import missing_tool

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium, headless (``executable_path``; never ``playwright install``)."""
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
