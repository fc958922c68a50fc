"""CORSMiddleware: the Fetch standard's CORS protocol."""

from __future__ import annotations

from typing import Any

import pytest
from asgi_helpers import handshake_scope

from microweb import App, PlainTextResponse
from microweb.middleware import CORSMiddleware, Middleware
from microweb.testclient import TestClient
from middleware.helpers import accepting_app, handshake

SITE = "https://site.example"
PREFLIGHT = {"origin": SITE, "access-control-request-method": "POST"}


def client(**options: Any) -> TestClient:
    app = App(middleware=[Middleware(CORSMiddleware, **options)])

    @app.get("/")
    def home() -> PlainTextResponse:
        return PlainTextResponse("home", headers={"vary": "accept-language"})

    @app.post("/")
    def post() -> str:
        return "posted"

    return TestClient(app)


def test_allow_all_without_credentials_sends_star_and_no_vary() -> None:
    response = client(allow_origins=["*"]).get("/", headers={"origin": SITE})
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["vary"] == "accept-language"
    assert "access-control-allow-credentials" not in response.headers


def test_listed_origin_is_echoed_with_vary_merged_once() -> None:
    response = client(allow_origins=[SITE]).get("/", headers={"origin": SITE})
    assert response.headers["access-control-allow-origin"] == SITE
    assert response.headers["vary"] == "accept-language, Origin"


def test_vary_origin_is_not_duplicated() -> None:
    app = App(middleware=[Middleware(CORSMiddleware, allow_origins=[SITE])])

    @app.get("/")
    def home() -> PlainTextResponse:
        return PlainTextResponse("home", headers={"vary": "Origin"})

    response = TestClient(app).get("/", headers={"origin": SITE})
    assert response.headers.get_list("vary") == ["Origin"]


def test_allow_all_with_credentials_echoes_the_origin_never_star() -> None:
    response = client(allow_origins=["*"], allow_credentials=True).get(
        "/", headers={"origin": SITE}
    )
    assert response.headers["access-control-allow-origin"] == SITE
    assert response.headers["access-control-allow-credentials"] == "true"
    assert response.headers["vary"] == "accept-language, Origin"


def test_refused_origin_gets_no_cors_headers_but_vary() -> None:
    response = client(allow_origins=[SITE]).get("/", headers={"origin": "https://evil.example"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["vary"] == "accept-language, Origin"


def test_request_without_origin_gets_vary_when_the_answer_depends_on_it() -> None:
    response = client(allow_origins=[SITE]).get("/")
    assert "access-control-allow-origin" not in response.headers
    assert response.headers["vary"] == "accept-language, Origin"
    assert client(allow_origins=["*"]).get("/").headers["vary"] == "accept-language"


def test_expose_headers_on_actual_requests() -> None:
    response = client(allow_origins=[SITE], expose_headers=["X-Total", "X-Page"]).post(
        "/", headers={"origin": SITE}
    )
    assert response.text == '"posted"'
    assert response.headers["access-control-expose-headers"] == "X-Total, X-Page"


def test_regex_origins_match_whole() -> None:
    c = client(allow_origin_regex=r"https://.*\.site\.example")
    good = c.get("/", headers={"origin": "https://a.site.example"})
    assert good.headers["access-control-allow-origin"] == "https://a.site.example"
    bad = c.get("/", headers={"origin": "https://a.site.example.evil"})
    assert "access-control-allow-origin" not in bad.headers


def test_preflight_allowed() -> None:
    c = client(
        allow_origins=[SITE],
        allow_methods=["GET", "POST"],
        allow_headers=["X-Token"],
        max_age=60,
    )
    response = c.options("/", headers={**PREFLIGHT, "access-control-request-headers": "x-token"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == SITE
    assert response.headers["access-control-allow-methods"] == "GET, POST"
    assert response.headers["access-control-allow-headers"] == (
        "Accept, Accept-Language, Content-Language, Content-Type, X-Token"
    )
    assert response.headers["access-control-max-age"] == "60"
    assert response.headers["vary"] == "Origin"


@pytest.mark.parametrize(
    ("headers", "refused"),
    [
        ({"origin": "https://evil.example"}, "origin"),
        ({"access-control-request-method": "DELETE"}, "method"),
        ({"access-control-request-headers": "x-token, x-other"}, "headers"),
        (
            {"origin": "https://evil.example", "access-control-request-method": "PUT"},
            "origin, method",
        ),
    ],
)
def test_preflight_refused_names_what(headers: dict[str, str], refused: str) -> None:
    c = client(allow_origins=[SITE], allow_methods=["POST"], allow_headers=["x-token"])
    response = c.options("/", headers={**PREFLIGHT, **headers})
    assert response.status_code == 400
    assert response.text == f"Disallowed CORS {refused}"
    assert "access-control-allow-origin" not in response.headers


def test_preflight_wildcards_echo_what_was_asked_with_credentials() -> None:
    c = client(
        allow_origins=["*"], allow_methods=["*"], allow_headers=["*"], allow_credentials=True
    )
    response = c.options(
        "/",
        headers={
            "origin": SITE,
            "access-control-request-method": "PATCH",
            "access-control-request-headers": "X-A, x-b",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == SITE
    methods = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"  # never "*"
    assert response.headers["access-control-allow-methods"] == methods
    assert response.headers["access-control-allow-headers"] == "X-A, x-b"
    assert response.headers["access-control-allow-credentials"] == "true"


def test_options_without_request_method_goes_to_the_app() -> None:
    response = client(allow_origins=[SITE]).options("/", headers={"origin": SITE})
    assert response.status_code == 204  # the router's OPTIONS answer
    assert response.headers["access-control-allow-origin"] == SITE


@pytest.mark.parametrize("allowed", [True, False])
def test_private_network_access(allowed: bool) -> None:
    c = client(allow_origins=[SITE], allow_methods=["POST"], allow_private_network=allowed)
    response = c.options(
        "/", headers={**PREFLIGHT, "access-control-request-private-network": "true"}
    )
    if allowed:
        assert response.status_code == 200
        assert response.headers["access-control-allow-private-network"] == "true"
    else:
        assert (response.status_code, response.text) == (400, "Disallowed CORS private-network")


@pytest.mark.anyio
@pytest.mark.parametrize("denial", [True, False])
async def test_websocket_from_a_refused_origin_is_denied(denial: bool) -> None:
    app = CORSMiddleware(accepting_app, allow_origins=[SITE])
    scope = handshake_scope([(b"origin", b"https://evil.example")], denial=denial)
    sent = await handshake(app, scope)
    if denial:
        assert sent[0]["type"] == "websocket.http.response.start"
        assert sent[0]["status"] == 403
    else:
        assert sent == [{"type": "websocket.close", "code": 1008}]


@pytest.mark.anyio
@pytest.mark.parametrize("headers", [[(b"origin", SITE.encode())], []])
async def test_websocket_from_an_allowed_origin_or_none_passes(
    headers: list[tuple[bytes, bytes]],
) -> None:
    app = CORSMiddleware(accepting_app, allow_origins=[SITE])
    sent = await handshake(app, handshake_scope(headers))
    assert sent[0]["type"] == "websocket.accept"


def test_arguments_are_checked() -> None:
    with pytest.raises(TypeError, match="allow_origins must be a list of strings, got '\\*'"):
        CORSMiddleware(accepting_app, allow_origins="*")
    with pytest.raises(ValueError, match="max_age must be a non-negative int, got -1"):
        CORSMiddleware(accepting_app, max_age=-1)
