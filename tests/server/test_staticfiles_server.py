"""StaticFiles through a real uvicorn: ranges, 304, HEAD, and a root path."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from .conftest import Server

MIB = bytes(range(256)) * 4096


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.html").write_text("<h1>docs</h1>")
    (tmp_path / "big.bin").write_bytes(MIB)
    monkeypatch.setenv("STATIC_DIR", os.fspath(tmp_path))
    return tmp_path


def test_ranges_and_conditional_requests(
    folder: Path, serve: Callable[..., Server], http: httpx.Client
) -> None:
    server = serve("static_app:app")
    r = http.get(f"{server.url}/big.bin")
    assert r.status_code == 200
    assert r.content == MIB
    etag = r.headers["etag"]
    r = http.get(f"{server.url}/big.bin", headers={"range": "bytes=1000-1999"})
    assert r.status_code == 206
    assert r.headers["content-range"] == f"bytes 1000-1999/{len(MIB)}"
    assert r.content == MIB[1000:2000]
    r = http.get(f"{server.url}/big.bin", headers={"if-none-match": etag})
    assert r.status_code == 304
    assert r.content == b""
    r = http.head(f"{server.url}/big.bin")
    assert r.headers["content-length"] == str(len(MIB))
    assert r.content == b""
    assert http.get(f"{server.url}/../etc/passwd").status_code == 404
    assert http.post(f"{server.url}/big.bin").status_code == 405


def test_root_path_matches_and_redirects_with_the_prefix(
    folder: Path, serve: Callable[..., Server], http: httpx.Client
) -> None:
    """As behind a proxy that strips ``/static``: uvicorn puts it back into ``path``."""
    server = serve("static_app:app", "--root-path", "/static")
    r = http.get(f"{server.url}/docs")
    assert r.status_code == 307
    assert r.headers["location"] == "/static/docs/"
    assert http.get(f"{server.url}/docs/").text == "<h1>docs</h1>"
    assert http.get(f"{server.url}/big.bin", headers={"range": "bytes=0-1"}).content == MIB[:2]


def test_an_app_with_mounts_behind_a_root_path(
    folder: Path, serve: Callable[..., Server], http: httpx.Client
) -> None:
    """The proxy strips ``/api``; matching, url_for and redirects all keep it."""
    (folder / "app.css").write_text("css")
    server = serve("mounted_app:app", "--root-path", "/api")
    base = f"{server.url}/api"
    assert http.get(f"{server.url}/items/3").json() == {
        "url": f"{base}/items/3",
        "css": f"{base}/static/app.css",
        "hello": f"{base}/sub/hello",
    }
    r = http.get(f"{server.url}/items/3/")
    assert r.status_code == 307
    assert r.headers["location"] == "/api/items/3"
    assert http.get(f"{server.url}/static/app.css").text == "css"
    assert http.get(f"{server.url}/static/docs").headers["location"] == "/api/static/docs/"
    assert http.get(f"{server.url}/static/docs/").text == "<h1>docs</h1>"
    assert http.get(f"{server.url}/sub/hello").json() == f"{base}/sub/hello"
    assert http.get(f"{server.url}/sub/nothing").status_code == 404
