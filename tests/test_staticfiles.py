"""StaticFiles (microweb.staticfiles): files, methods, traversal, html, fallback, siblings."""

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
    (public / "docs").mkdir(parents=True)
    (public / "app.css").write_text("body { color: red }")
    (public / "docs" / "index.html").write_text("<h1>docs</h1>")
    (public / "index.html").write_text("<h1>home</h1>")
    (tmp_path / "secret.txt").write_text("top secret")
    return public


def client(**options: object) -> TestClient:
    return TestClient(StaticFiles(**options))  # type: ignore[arg-type]


def test_serves_a_file_inline_with_validators(root: Path) -> None:
    r = client(directory=root).get("/app.css")
    assert r.status_code == 200
    assert r.text == "body { color: red }"
    assert r.headers["content-type"].startswith("text/css")
    assert "content-disposition" not in r.headers
    assert "etag" in r.headers
    assert "last-modified" in r.headers
    assert "vary" not in r.headers


def test_conditional_and_range_requests(root: Path) -> None:
    c = client(directory=root)
    etag = c.get("/app.css").headers["etag"]
    assert c.get("/app.css", headers={"if-none-match": etag}).status_code == 304
    assert c.get("/app.css", headers={"if-match": '"other"'}).status_code == 412
    r = c.get("/app.css", headers={"range": "bytes=0-3"})
    assert r.status_code == 206
    assert r.content == b"body"


def test_head_and_method_not_allowed(root: Path) -> None:
    c = client(directory=root)
    r = c.head("/app.css")
    assert r.status_code == 200
    assert r.content == b""
    r = c.post("/app.css")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, HEAD"


def test_missing_file_and_folder_without_html(root: Path) -> None:
    c = client(directory=root)
    assert c.get("/nope.css").status_code == 404
    assert c.get("/docs").status_code == 404
    assert c.get("/docs/").status_code == 404


# Paths as the server hands them over (percent-decoded once): the client's
# own dot-segment removal is bypassed by calling the app directly.
HOSTILE = [
    "/../secret.txt",
    "/docs/../../secret.txt",
    "/..",
    "/%2e%2e/secret.txt",
    "/..%2fsecret.txt",
    "/..\\secret.txt",
    "/docs\\..\\..\\secret.txt",
    "/app.css\x00.png",
    "//" + "{parent}/secret.txt",
    "/{parent}/secret.txt",
    "/link/secret.txt",
    "/linked-secret.txt",
    "/docs/./../../secret.txt",
    "/\xc0\xae\xc0\xae/secret.txt",
]


@pytest.mark.anyio
@pytest.mark.parametrize("path", HOSTILE)
async def test_nothing_outside_the_directory(root: Path, path: str) -> None:
    (root / "link").symlink_to(root.parent, target_is_directory=True)
    (root / "linked-secret.txt").symlink_to(root.parent / "secret.txt")
    for html in (False, True):
        app = StaticFiles(directory=root, html=html)
        messages = await call_asgi(app, path=path.format(parent=root.parent))
        assert messages[0]["status"] == 404
        assert all(b"top secret" not in m.get("body", b"") for m in messages)


def test_follow_symlink_serves_links_out(root: Path) -> None:
    (root / "linked-secret.txt").symlink_to(root.parent / "secret.txt")
    assert client(directory=root, follow_symlink=True).get("/linked-secret.txt").text == (
        "top secret"
    )


def test_html_index_redirect_and_404_page(root: Path) -> None:
    c = client(directory=root, html=True)
    assert c.get("/").text == "<h1>home</h1>"
    assert c.get("/docs/").text == "<h1>docs</h1>"
    r = c.get("/docs?x=1", follow_redirects=False)
    assert r.status_code == 307
    assert r.headers["location"] == "/docs/?x=1"
    assert c.get("/missing").status_code == 404
    (root / "404.html").write_text("<h1>lost</h1>")
    r = c.get("/missing")
    assert r.status_code == 404
    assert r.text == "<h1>lost</h1>"


def test_root_path_is_stripped_and_kept_in_redirects(root: Path) -> None:
    app = StaticFiles(directory=root, html=True)
    c = TestClient(app, root_path="/static")
    r = c.get("/static/app.css")
    assert r.text == "body { color: red }"
    r = c.get("/static/docs", follow_redirects=False)
    assert r.headers["location"] == "/static/docs/"
    assert c.get("/staticapp.css").status_code == 404
    assert TestClient(app, root_path="/static/").get("/static/app.css").status_code == 200


def test_fallback_for_a_single_page_app(root: Path) -> None:
    c = client(directory=root, fallback="index.html")
    assert c.get("/users/42").text == "<h1>home</h1>"
    assert c.get("/missing.js").status_code == 404


def test_cache_control(root: Path) -> None:
    r = client(directory=root, cache_control="public, max-age=3600").get("/app.css")
    assert r.headers["cache-control"] == "public, max-age=3600"


def test_precompressed_siblings_by_q_value(root: Path) -> None:
    body = b"x" * 1000
    (root / "big.js").write_bytes(body)
    (root / "big.js.gz").write_bytes(gzip.compress(body))
    (root / "big.js.br").write_bytes(b"brotli bytes")
    c = client(directory=root)
    r = c.get("/big.js", headers={"accept-encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    assert r.headers["vary"] == "accept-encoding"
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.content == body  # httpx decodes gzip
    accept = {"accept-encoding": "gzip;q=0.5, br;q=0.9"}
    with c.stream("GET", "/big.js", headers=accept) as streamed:  # not decoded: fake brotli
        assert streamed.headers["content-encoding"] == "br"
    r = c.get("/big.js", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in r.headers
    assert r.headers["vary"] == "accept-encoding"
    assert r.content == body
    r = c.get("/big.js", headers={"accept-encoding": "br;q=0, gzip;q=0"})
    assert "content-encoding" not in r.headers


def test_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "mypkg"
    (package / "statics").mkdir(parents=True)
    (package / "assets").mkdir()
    (package / "__init__.py").write_text("")
    (package / "statics" / "a.txt").write_text("from statics")
    (package / "assets" / "b.txt").write_text("from assets")
    monkeypatch.syspath_prepend(os.fspath(tmp_path))
    c = client(packages=["mypkg", ("mypkg", "assets")])
    assert c.get("/a.txt").text == "from statics"
    assert c.get("/b.txt").text == "from assets"


def test_validation(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="directory or packages"):
        StaticFiles()
    with pytest.raises(RuntimeError, match="does not exist"):
        StaticFiles(directory=tmp_path / "nope")
    StaticFiles(directory=tmp_path / "nope", check_dir=False)
    with pytest.raises(ValueError, match="fallback"):
        StaticFiles(directory=tmp_path, fallback="../x.html")
    with pytest.raises(ValueError, match="not found"):
        StaticFiles(packages=["no_such_package_here"])


def _hostile_paths(parent: str) -> list[str]:
    """Over 200 ways to name ``secret.txt`` beside the served folder, as a server decodes them."""
    ups = ["..", "%2e%2e", "%2E%2E", ".%2e", "%2e.", "%252e%252e", "\xc0\xae\xc0\xae", "\u2025"]
    ups += ["...", "..;", "..\x00", "..%00", "%c0%ae%c0%ae", "%uff0e%uff0e"]
    seps = ["/", "\\", "%2f", "%5c", "%252f", "//", "/./"]
    paths: list[str] = []
    for up in ups:
        for sep in seps:
            for depth in (1, 2, 3):
                paths.append("/" + (up + sep) * depth + "secret.txt")
    paths += [f"/{parent}/secret.txt", f"//{parent}/secret.txt", f"/{parent}\\secret.txt"]
    paths += ["/link/secret.txt", "/linked-secret.txt", "/link/../secret.txt", "/docs/../../x"]
    paths += ["/secret.txt\x00", "/\x00/secret.txt", "/link%2fsecret.txt", "/link\\secret.txt"]
    return paths


@pytest.mark.anyio
async def test_hundreds_of_hostile_paths_never_reach_outside(root: Path) -> None:
    (root / "link").symlink_to(root.parent, target_is_directory=True)
    (root / "linked-secret.txt").symlink_to(root.parent / "secret.txt")
    paths = _hostile_paths(str(root.parent).lstrip("/"))
    assert len(paths) >= 200
    apps = [
        StaticFiles(directory=root, html=True, fallback="index.html"),
        StaticFiles(directory=root),
    ]
    for app in apps:
        for path in paths:
            messages = await call_asgi(app, path=path)
            body = b"".join(m.get("body", b"") for m in messages)
            assert b"top secret" not in body, path
            assert messages[0]["status"] in (200, 404), path


def test_websocket_is_refused(root: Path) -> None:
    from microweb import App
    from microweb.websockets import WebSocketDisconnect

    app = App()
    app.mount("/static", StaticFiles(directory=root))
    with pytest.raises(WebSocketDisconnect), TestClient(app).websocket_connect("/static/app.css"):
        pass  # pragma: no cover - the handshake is refused


@pytest.mark.anyio
async def test_lifespan_scope_raises(root: Path) -> None:
    async def receive() -> dict[str, object]:
        return {"type": "lifespan.startup"}

    async def send(message: object) -> None:
        pass

    with pytest.raises(RuntimeError, match="HTTP only"):
        await StaticFiles(directory=root)({"type": "lifespan"}, receive, send)


def test_edge_cases(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (root / "loop").symlink_to(root / "loop")  # resolving it raises: a 404
    assert client(directory=root).get("/loop").status_code == 404
    (root / "empty").mkdir()
    c = client(directory=root, html=True, fallback="nothing.html")
    assert c.get("/empty/").status_code == 404  # no index.html, no fallback file, no 404.html
    assert c.get("/gone").status_code == 404
    (tmp_path / "nopkg").mkdir()
    (tmp_path / "nopkg" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(os.fspath(tmp_path))
    with pytest.raises(ValueError, match="has no folder 'statics'"):
        StaticFiles(packages=["nopkg"])
