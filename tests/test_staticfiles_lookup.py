"""StaticFiles' lookup shortcuts: symlinks inside, siblings only on request, descriptors closed."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest
from asgi_helpers import call_asgi

from microweb.staticfiles import StaticFiles
from microweb.testclient import TestClient


@pytest.fixture
def root(tmp_path: Path) -> Path:
    public = tmp_path / "public"
    (public / "assets" / "css").mkdir(parents=True)
    (public / "assets" / "css" / "site.css").write_text("body {}")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("top secret")
    return public


def client(**options: object) -> TestClient:
    return TestClient(StaticFiles(**options))  # type: ignore[arg-type]


def test_symlinks_that_stay_inside_are_served(root: Path) -> None:
    (root / "styles").symlink_to(root / "assets" / "css", target_is_directory=True)
    (root / "site.css").symlink_to(root / "assets" / "css" / "site.css")
    c = client(directory=root)
    assert c.get("/styles/site.css").text == "body {}"
    assert c.get("/site.css").text == "body {}"
    assert c.get("/assets/./css//site.css").text == "body {}"


def test_a_symlink_out_deep_in_the_path_is_refused(root: Path) -> None:
    (root / "assets" / "out").symlink_to(root.parent / "outside", target_is_directory=True)
    c = client(directory=root)
    assert c.get("/assets/out/secret.txt").status_code == 404
    assert c.get("/assets/css/site.css/x").status_code == 404  # a file is no folder


def test_a_symlinked_directory_is_resolved_once(tmp_path: Path, root: Path) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(root, target_is_directory=True)
    assert client(directory=alias).get("/assets/css/site.css").text == "body {}"


def test_siblings_only_when_accept_encoding_is_sent(root: Path) -> None:
    body = b"x" * 1000
    (root / "big.js").write_bytes(body)
    (root / "big.js.gz").write_bytes(gzip.compress(body))
    c = client(directory=root)
    r = c.get("/big.js", headers={"accept-encoding": ""})
    assert r.content == body
    assert "content-encoding" not in r.headers
    assert "vary" not in r.headers
    r = c.get("/big.js", headers={"accept-encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    assert r.headers["vary"] == "accept-encoding"


@pytest.mark.anyio
async def test_vary_without_accept_encoding_when_siblings_exist(root: Path) -> None:
    """A shared cache must not hand the identity answer to every client."""
    body = b"x" * 1000
    (root / "big.js").write_bytes(body)
    (root / "big.js.gz").write_bytes(gzip.compress(body))
    app = StaticFiles(directory=root)
    for method in ("GET", "HEAD"):
        messages = await call_asgi(app, method, [], path="/big.js")
        headers = dict(messages[0]["headers"])
        assert messages[0]["status"] == 200
        assert headers[b"vary"] == b"accept-encoding"
        assert b"content-encoding" not in headers
        assert headers[b"content-length"] == b"1000"
    assert b"".join(m.get("body", b"") for m in messages[:-1]) == b""  # HEAD: no body
    messages = await call_asgi(app, "GET", [], path="/big.js")
    assert b"".join(m.get("body", b"") for m in messages) == body
    messages = await call_asgi(app, "GET", [], path="/assets/css/site.css")  # no siblings
    assert b"vary" not in dict(messages[0]["headers"])


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")
def test_every_answer_closes_the_file(root: Path) -> None:
    c = client(directory=root, html=True)
    etag = c.get("/assets/css/site.css").headers["etag"]
    c.get("/assets/css/site.css")  # the first descriptors of the test client are open now
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        assert c.get("/assets/css/site.css").status_code == 200
        assert c.head("/assets/css/site.css").status_code == 200
        headers = {"if-none-match": etag}
        assert c.get("/assets/css/site.css", headers=headers).status_code == 304
        assert c.get("/assets/css/site.css", headers={"if-match": '"no"'}).status_code == 412
        assert c.get("/assets/css/site.css", headers={"range": "bytes=0-1"}).status_code == 206
        assert c.get("/assets/css/site.css", headers={"range": "bytes=9-"}).status_code == 416
        assert c.get("/missing").status_code == 404
    assert len(os.listdir("/proc/self/fd")) <= before
