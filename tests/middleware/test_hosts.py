"""TrustedHostMiddleware and HTTPSRedirectMiddleware."""

from __future__ import annotations

import pytest
from asgi_helpers import handshake_scope

from microweb import App
from microweb.middleware import HTTPSRedirectMiddleware, Middleware, TrustedHostMiddleware
from microweb.testclient import TestClient
from middleware.helpers import accepting_app, handshake


def trusted(*hosts: str, www_redirect: bool = True) -> TestClient:
    app = App(
        middleware=[
            Middleware(TrustedHostMiddleware, allowed_hosts=list(hosts), www_redirect=www_redirect)
        ]
    )

    @app.get("/")
    def home() -> str:
        return "home"

    return TestClient(app)


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("example.com", 200),
        ("EXAMPLE.com:8000", 200),
        ("api.example.com", 200),
        ("a.b.example.com", 200),
        ("[::1]:8000", 200),
        ("other.com", 400),
        ("example.com.evil", 400),
        ("notexample.com", 400),
        ("example.com/evil", 400),  # malformed: is_host refuses it
        ("", 400),
    ],
)
def test_allowed_hosts(host: str, status: int) -> None:
    c = trusted("example.com", "*.example.com", "[::1]")
    response = c.get("/", headers={"host": host})
    assert response.status_code == status
    if status == 400:
        assert response.text == "Invalid host header"


def test_star_allows_any_host() -> None:
    assert trusted("*").get("/", headers={"host": "whatever"}).status_code == 200


def test_www_redirect() -> None:
    c = trusted("www.example.com")
    response = c.get("http://example.com:8000/a%20b?x=1", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "http://www.example.com:8000/a%20b?x=1"
    refused = trusted("www.example.com", www_redirect=False).get("http://example.com/")
    assert refused.status_code == 400


def test_wildcards_are_checked() -> None:
    with pytest.raises(ValueError, match=r"invalid allowed host 'api\.\*\.com'"):
        TrustedHostMiddleware(accepting_app, allowed_hosts=["api.*.com"])
    with pytest.raises(ValueError, match=r"invalid allowed host '\*example\.com'"):
        TrustedHostMiddleware(accepting_app, allowed_hosts=["*example.com"])
    with pytest.raises(TypeError, match="allowed_hosts must be a list"):
        TrustedHostMiddleware(accepting_app, allowed_hosts="example.com")


@pytest.mark.anyio
@pytest.mark.parametrize("denial", [True, False])
async def test_trusted_host_denies_a_websocket_on_another_host(denial: bool) -> None:
    app = TrustedHostMiddleware(accepting_app, allowed_hosts=["example.com"])
    sent = await handshake(app, handshake_scope([(b"host", b"evil.com")], denial=denial))
    if denial:
        assert sent[0]["type"] == "websocket.http.response.start"
        assert sent[0]["status"] == 400
    else:
        assert sent == [{"type": "websocket.close", "code": 1008}]
    ok = await handshake(app, handshake_scope([(b"host", b"example.com")]))
    assert ok[0]["type"] == "websocket.accept"


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("http://example.com/path?q=1", "https://example.com/path?q=1"),
        ("http://example.com:80/path", "https://example.com/path"),
        ("http://example.com:8080/a%2Fb", "https://example.com:8080/a%2Fb"),
        ("http://[::1]:80/", "https://[::1]/"),
    ],
)
def test_https_redirect(url: str, location: str) -> None:
    c = TestClient(HTTPSRedirectMiddleware(accepting_app))
    response = c.post(url, follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == location


def test_https_passes_through() -> None:
    c = TestClient(HTTPSRedirectMiddleware(accepting_app), base_url="https://testserver")
    assert c.get("/").text == "ok"


@pytest.mark.anyio
@pytest.mark.parametrize("denial", [True, False])
async def test_https_redirect_for_websockets(denial: bool) -> None:
    app = HTTPSRedirectMiddleware(accepting_app)
    scope = handshake_scope([(b"host", b"example.com:80")], denial=denial)
    sent = await handshake(app, scope)
    if denial:
        assert sent[0]["status"] == 307
        assert (b"location", b"wss://example.com/ws") in sent[0]["headers"]
    else:
        assert sent == [{"type": "websocket.close", "code": 1008}]
    secure = await handshake(app, handshake_scope(scheme="wss"))
    assert secure[0]["type"] == "websocket.accept"
