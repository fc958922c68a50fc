"""StaticFiles' 304 cache (``stat_cache``): how stale a 304 may be, and what it never does."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest
from asgi_helpers import call_asgi
from test_staticfiles import _hostile_paths

import microweb.staticfiles
from microweb.staticfiles import StaticFiles
from microweb.testclient import TestClient


@pytest.fixture
def root(tmp_path: Path) -> Path:
    public = tmp_path / "public"
    (public / "css").mkdir(parents=True)
    (public / "css" / "site.css").write_text("body {}")
    (public / "index.html").write_text("<h1>home</h1>")
    (tmp_path / "secret.txt").write_text("top secret")
    return public


class Clock:
    """Stands in for ``time.monotonic`` in microweb.staticfiles."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = 1000.0
        monkeypatch.setattr(microweb.staticfiles, "monotonic", lambda: self.now)


def change(path: Path, text: str) -> None:
    """Write ``text`` and move the mtime on, so the ETag changes whatever the clock's grain."""
    before = path.stat().st_mtime_ns
    path.write_text(text)
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))


def test_a_changed_file_is_seen_once_the_stat_is_stale(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock(monkeypatch)
    app = StaticFiles(directory=root)
    c = TestClient(app)
    old = c.get("/css/site.css").headers["etag"]
    assert c.get("/css/site.css", headers={"if-none-match": old}).status_code == 304
    change(root / "css" / "site.css", "body { margin: 0 }")

    # Within stat_cache seconds, the old ETag may still get a 304 ...
    clock.now += 0.5
    r = c.get("/css/site.css", headers={"if-none-match": old})
    assert r.status_code == 304
    assert r.headers["etag"] == old
    # ... but a body is always sent from a fresh stat, with the new ETag.
    r = c.get("/css/site.css")
    assert r.text == "body { margin: 0 }"
    new = r.headers["etag"]
    assert new != old
    assert c.get("/css/site.css", headers={"if-none-match": new}).status_code == 304
    assert c.get("/css/site.css", headers={"if-modified-since": "x"}).status_code == 200

    # Once stale, the old ETag gets the new file.
    clock.now += 1.0
    change(root / "css" / "site.css", "body { margin: 1px }")
    r = c.get("/css/site.css", headers={"if-none-match": new})
    assert r.status_code == 200
    assert r.text == "body { margin: 1px }"
    assert r.headers["etag"] not in (old, new)


def test_stat_cache_zero_looks_at_the_disk_every_time(root: Path) -> None:
    app = StaticFiles(directory=root, stat_cache=0)
    c = TestClient(app)
    old = c.get("/css/site.css").headers["etag"]
    assert c.get("/css/site.css", headers={"if-none-match": old}).status_code == 304
    change(root / "css" / "site.css", "body { margin: 0 }")
    r = c.get("/css/site.css", headers={"if-none-match": old})
    assert r.status_code == 200
    assert r.text == "body { margin: 0 }"
    assert app._recent == {}


def test_if_modified_since_and_head_from_the_cache(root: Path) -> None:
    c = TestClient(StaticFiles(directory=root, cache_control="no-cache"))
    r = c.get("/css/site.css")
    since = {"if-modified-since": r.headers["last-modified"]}
    for _ in range(2):  # the lookup, then the cache
        r = c.get("/css/site.css", headers=since)
        assert r.status_code == 304
        assert r.headers["cache-control"] == "no-cache"
        assert r.headers["etag"]
        assert "content-length" not in r.headers
        assert c.head("/css/site.css", headers=since).status_code == 304
    # Validators that do not call for a 304 are answered from the disk.
    r = c.get("/css/site.css", headers={"if-none-match": '"other"'})
    assert r.status_code == 200
    assert r.text == "body {}"
    r = c.get("/css/site.css", headers={**since, "if-match": '"other"'})
    assert r.status_code == 412


def test_each_coding_has_its_own_entry(root: Path) -> None:
    body = b"x" * 1000
    (root / "big.js").write_bytes(body)
    (root / "big.js.gz").write_bytes(gzip.compress(body))
    c = TestClient(StaticFiles(directory=root))
    gzipped = {"accept-encoding": "gzip"}
    etag = c.get("/big.js", headers=gzipped).headers["etag"]
    for _ in range(2):
        r = c.get("/big.js", headers={**gzipped, "if-none-match": etag})
        assert r.status_code == 304
        assert r.headers["vary"] == "accept-encoding"
    plain = {"accept-encoding": "identity", "if-none-match": etag}
    r = c.get("/big.js", headers=plain)  # the original has its own ETag
    assert r.status_code == 200
    assert r.content == body
    assert "content-encoding" not in r.headers


def test_the_cache_is_bounded(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(microweb.staticfiles, "_RECENT_LIMIT", 3)
    app = StaticFiles(directory=root)
    c = TestClient(app)
    for number in range(10):
        (root / f"{number}.txt").write_text(str(number))
        assert c.get(f"/{number}.txt", headers={"if-none-match": "*"}).status_code == 304
        assert 1 <= len(app._recent) <= 3


def test_a_body_never_comes_from_the_cache(root: Path) -> None:
    """A file swapped for a symlink out: the cached stat answers 304s only, never a body."""
    app = StaticFiles(directory=root)
    c = TestClient(app)
    etag = c.get("/css/site.css").headers["etag"]
    assert c.get("/css/site.css", headers={"if-none-match": etag}).status_code == 304
    (root / "css" / "site.css").unlink()
    (root / "css" / "site.css").symlink_to(root.parent / "secret.txt")
    r = c.get("/css/site.css", headers={"if-none-match": etag})
    assert r.status_code == 304  # within stat_cache: no body, the old file's headers
    assert r.content == b""
    assert c.get("/css/site.css").status_code == 404
    r = c.get("/css/site.css", headers={"if-none-match": '"other"'})
    assert r.status_code == 404


@pytest.mark.anyio
async def test_hostile_paths_with_validators_never_reach_outside(root: Path) -> None:
    """A 304 (first from the lookup, then from the cache) only where a GET would get 200."""
    (root / "link").symlink_to(root.parent, target_is_directory=True)
    (root / "linked-secret.txt").symlink_to(root.parent / "secret.txt")
    paths = _hostile_paths(str(root.parent).lstrip("/"))
    apps = [
        StaticFiles(directory=root, html=True, fallback="index.html"),
        StaticFiles(directory=root),
    ]
    old_date = b"Sat, 01 Jan 2000 00:00:00 GMT"
    validators = [(b"if-none-match", b"*"), (b"if-modified-since", old_date)]
    for app in apps:
        for path in [*paths, "/css/site.css", "/index.html"]:
            plain = await call_asgi(app, path=path)
            for validator in validators:
                for _ in range(2):
                    messages = await call_asgi(app, headers=[validator], path=path)
                    status = messages[0]["status"]
                    body = b"".join(m.get("body", b"") for m in messages)
                    assert b"top secret" not in body, path
                    if validator[0] == b"if-none-match":
                        assert (status == 304) == (plain[0]["status"] == 200), path
                    else:  # a date before the file's: the whole file again
                        assert status == plain[0]["status"], path
        assert all(".." not in name and "\x00" not in name for name, _ in app._recent)
        assert ("css/site.css", None) in app._recent


def test_stat_cache_is_validated(root: Path) -> None:
    for bad in (-1.0, float("nan")):
        with pytest.raises(ValueError, match="stat_cache must be a number of seconds >= 0"):
            StaticFiles(directory=root, stat_cache=bad)


def test_a_response_is_made_once_for_each_version_of_a_file(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The headers of an unchanged file are reused; any change in its stat makes new ones."""
    monkeypatch.setattr(microweb.staticfiles, "_RECENT_LIMIT", 3)
    app = StaticFiles(directory=root, stat_cache=0)
    c = TestClient(app)
    site = root / "css" / "site.css"
    first = c.get("/css/site.css")
    assert c.get("/css/site.css").headers == first.headers
    assert len(app._responses) == 1

    change(site, "body { margin: 0 auto }")  # longer, later
    r = c.get("/css/site.css")
    assert r.text == "body { margin: 0 auto }"
    assert r.headers["content-length"] == str(len(r.content))
    assert r.headers["etag"] != first.headers["etag"]
    assert r.headers["last-modified"] != first.headers["last-modified"]

    # Same size and the same mtime put back: the same headers, but the body is
    # always read from the file.
    stamp = site.stat().st_mtime_ns
    site.write_text("body { margin: 9 auto }")
    os.utime(site, ns=(stamp, stamp))
    r2 = c.get("/css/site.css")
    assert r2.text == "body { margin: 9 auto }"
    assert r2.headers["etag"] == r.headers["etag"]

    # Another file in its place (a new inode), as a deploy's rename does.
    replacement = root / "css" / "new.css"
    replacement.write_text("p {}")
    replacement.replace(site)
    r3 = c.get("/css/site.css")
    assert r3.text == "p {}"
    assert r3.headers["content-length"] == "4"
    # HEAD and each coding's answer agree with GET; the table stays bounded.
    assert c.head("/css/site.css").headers["etag"] == r3.headers["etag"]
    for number in range(6):
        (root / f"{number}.txt").write_text("x" * number)
        r = c.get(f"/{number}.txt")
        assert r.headers["content-length"] == str(number)
        assert 1 <= len(app._responses) <= 3
