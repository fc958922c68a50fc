"""Headless Chromium loads examples/site from a real uvicorn, directly and behind nginx.

The page's own script writes into the page and its stylesheet sets a colour
read back with ``getComputedStyle``: both prove the assets loaded and were
used. The site serves its assets with ``cache-control: no-cache``, so a
reload revalidates each one and the server answers 304.

Behind nginx (Debian's, on 127.0.0.1, its configuration, pid file and logs in
a temporary folder, started here and stopped at the end), the site is served
under ``/prefix``: nginx strips the prefix, uvicorn runs with
``--root-path /prefix`` (and puts it back in front of the path, as
docs/deploy.md says), and every link and asset URL the page holds carries the
prefix. Playwright drives Debian's chromium (``executable_path``; no
``playwright install``).
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import free_port, require_program
from server.conftest import Server

NGINX_CONF = """\
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location = /prefix {{ return 301 /prefix/; }}
        location /prefix/ {{
            # The URI part "/" replaces "/prefix/": uvicorn gets the path without it.
            proxy_pass http://127.0.0.1:{upstream}/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            # The Host the browser sent (with its port): url_for builds links to nginx.
            proxy_set_header Host $http_host;
        }}
    }}
}}
"""


class Nginx:
    """nginx in the foreground on 127.0.0.1, proxying ``/prefix/`` to ``upstream``."""

    def __init__(self, nginx: str, folder: Path, upstream: int) -> None:
        self.port = free_port()
        self.folder = folder
        conf = folder / "nginx.conf"
        conf.write_text(NGINX_CONF.format(tmp=folder, port=self.port, upstream=upstream))
        self.process = subprocess.Popen(
            [
                nginx,
                "-p",
                str(folder),
                "-c",
                str(conf),
                "-e",
                str(folder / "error.log"),
                "-g",
                "daemon off;",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"nginx did not listen in 10s: {self.log()}") from None
                time.sleep(0.05)

    def log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def site() -> Iterator[Server]:
    server = Server("examples.site:app")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[str]:
    """The site behind nginx: the URL of its home page, ``.../prefix/``."""
    nginx = require_program("nginx", "apt-get install nginx; scripts/install does it")
    server = Server("examples.site:app", "--root-path", "/prefix")
    proxy = None
    try:
        proxy = Nginx(nginx, tmp_path, server.port)
        yield f"http://127.0.0.1:{proxy.port}/prefix/"
    finally:
        if proxy is not None:
            proxy.stop()
        server.stop()


def asset_statuses(responses: list[Any]) -> dict[str, int]:
    return {
        response.url.rsplit("/", 1)[-1]: response.status
        for response in responses
        if "/static/" in response.url
    }


def check_the_page_used_its_assets(page: Any) -> None:
    assert page.text_content("#js-status") == "the script ran"
    color = page.evaluate("getComputedStyle(document.getElementById('banner')).color")
    assert color == "rgb(0, 128, 0)"


@contextlib.contextmanager
def open_page(browser: Any) -> Iterator[tuple[Any, list[Any]]]:
    """A page in a fresh browser context, and the list of the responses it receives."""
    context = browser.new_context()
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        responses: list[Any] = []
        page.on("response", lambda response: responses.append(response))
        yield page, responses
    finally:
        context.close()


def test_the_page_loads_its_css_and_script_and_a_reload_gets_304s(
    browser: Any, site: Server
) -> None:
    with open_page(browser) as (page, responses):
        page.goto(site.url + "/", wait_until="load")
        check_the_page_used_its_assets(page)
        assert asset_statuses(responses) == {"site.css": 200, "site.js": 200}
        responses.clear()
        page.reload(wait_until="load")
        check_the_page_used_its_assets(page)
        assert asset_statuses(responses) == {"site.css": 304, "site.js": 304}


def test_the_site_behind_nginx_under_a_prefix(browser: Any, proxied: str) -> None:
    with open_page(browser) as (page, responses):
        page.goto(proxied, wait_until="load")
        check_the_page_used_its_assets(page)
        statics = [r.url for r in responses if "/static/" in r.url]
        assert sorted(statics) == [proxied + "static/site.css", proxied + "static/site.js"]
        assert all(r.status == 200 for r in responses)

        page.click("#about-link")
        page.wait_for_url(proxied + "about")
        assert page.text_content("#about-text") == "Served by microweb at /prefix/about."
        check_the_page_used_its_assets(page)

        page.click("#app-link")
        page.wait_for_url(proxied + "app/")
        assert page.text_content("#route") == "route: /prefix/app/"

        page.go_back()
        page.click("#home-link")
        page.wait_for_url(proxied)
        page.click("#items a >> nth=1")
        page.wait_for_url(proxied + "api/items/2")
        assert '"name":"a kettle"' in (page.text_content("body") or "")
