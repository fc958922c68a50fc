"""microweb.security: each dependency through real requests, its 401s, and its OpenAPI scheme.

(tests/test_security.py is the hostile-input suite; this file is the module's.)
"""

# No ``from __future__ import annotations``: the handlers below are local
# functions whose annotations name local objects.

import logging
from base64 import b64encode
from typing import Annotated, Any

import pytest

from microweb import App, Request, Router
from microweb.exceptions import HTTPException
from microweb.params import Depends
from microweb.security import (
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    HTTPDigest,
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
    OAuth2PasswordRequestFormStrict,
    Security,
)
from microweb.testclient import TestClient

NOT_AUTHENTICATED = {"detail": "Not authenticated"}


def client_for(dependency: Any) -> TestClient:
    """An app whose ``/`` answers what ``dependency`` gave, as ``repr`` or its fields."""
    app = App()

    @app.get("/")
    async def read(value: Annotated[Any, Depends(dependency)]) -> Any:
        if isinstance(value, HTTPAuthorizationCredentials):
            return {"scheme": value.scheme, "credentials": value.credentials}
        if isinstance(value, HTTPBasicCredentials):
            return {"username": value.username, "password": value.password}
        return {"value": value}

    return TestClient(app)


def basic(raw: bytes) -> dict[str, str]:
    return {"authorization": "Basic " + b64encode(raw).decode("ascii")}


def assert_401(response: Any, challenge: str) -> None:
    assert response.status_code == 401
    assert response.json() == NOT_AUTHENTICATED
    assert response.headers["www-authenticate"] == challenge


# --- HTTPBearer, HTTPDigest ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "scheme", "credentials"),
    [
        ("Bearer abc.def", "Bearer", "abc.def"),
        ("bearer abc", "bearer", "abc"),  # the scheme is case-insensitive (RFC 9110 §11.1)
        ("BEARER abc", "BEARER", "abc"),
        ("Bearer    abc   ", "Bearer", "abc"),  # extra spaces dropped
    ],
)
def test_bearer_reads_the_token(header: str, scheme: str, credentials: str) -> None:
    response = client_for(HTTPBearer()).get("/", headers={"authorization": header})
    assert response.json() == {"scheme": scheme, "credentials": credentials}


@pytest.mark.parametrize(
    "headers",
    [
        {},  # missing
        {"authorization": ""},
        {"authorization": "Bearer"},  # malformed: no token
        {"authorization": "Bearer    "},
        {"authorization": "Basic abc"},  # another scheme
        {"authorization": "Bearerabc"},
        {"authorization": "Token abc"},
    ],
)
def test_bearer_answers_401_or_none(headers: dict[str, str]) -> None:
    assert_401(client_for(HTTPBearer()).get("/", headers=headers), "Bearer")
    optional = client_for(HTTPBearer(auto_error=False)).get("/", headers=headers)
    assert optional.status_code == 200
    assert optional.json() == {"value": None}


def test_digest_hands_over_the_credentials_unchecked() -> None:
    client = client_for(HTTPDigest())
    header = {"authorization": 'digest username="ann", nonce="n"'}
    assert client.get("/", headers=header).json() == {
        "scheme": "digest",
        "credentials": 'username="ann", nonce="n"',
    }
    assert_401(client.get("/"), "Digest")
    assert_401(client.get("/", headers={"authorization": "Bearer x"}), "Digest")
    optional = client_for(HTTPDigest(auto_error=False))
    assert optional.get("/", headers={"authorization": "Bearer x"}).json() == {"value": None}


# --- HTTPBasic -----------------------------------------------------------------------------


def test_basic_reads_user_and_password() -> None:
    client = client_for(HTTPBasic())
    assert client.get("/", auth=("ann", "secret")).json() == {
        "username": "ann",
        "password": "secret",
    }
    # The password may hold colons; the user-id is what comes before the first.
    assert client.get("/", headers=basic(b"ann:a:b")).json() == {
        "username": "ann",
        "password": "a:b",
    }
    # UTF-8, as httpx and browsers send it (RFC 7617 §2.1).
    assert client.get("/", auth=("jé", "pässword")).json() == {
        "username": "jé",
        "password": "pässword",
    }
    lower = "basic " + b64encode(b"ann:x").decode("ascii")
    assert client.get("/", headers={"authorization": lower}).json()["username"] == "ann"
    spaced = "Basic    " + b64encode(b"ann:x").decode("ascii") + "  "
    assert client.get("/", headers={"authorization": spaced}).json()["username"] == "ann"


@pytest.mark.parametrize("headers", [{}, {"authorization": "Bearer abc"}])
def test_basic_missing_or_another_scheme(headers: dict[str, str]) -> None:
    assert_401(client_for(HTTPBasic()).get("/", headers=headers), "Basic")
    assert_401(client_for(HTTPBasic(realm="site")).get("/", headers=headers), 'Basic realm="site"')
    optional = client_for(HTTPBasic(auto_error=False)).get("/", headers=headers)
    assert optional.json() == {"value": None}


@pytest.mark.parametrize(
    "headers",
    [
        {"authorization": "Basic notabase64token"},  # bad padding
        {"authorization": "Basic YW5u*OnNlY3JldA=="},  # outside the alphabet
        {"authorization": "Basic"},  # nothing at all
        basic(b"annsecret"),  # no colon
        basic(b"\xff\xfe:secret"),  # not UTF-8
    ],
)
def test_malformed_basic_is_401_never_500_even_when_optional(headers: dict[str, str]) -> None:
    for security in (HTTPBasic(), HTTPBasic(auto_error=False)):
        assert_401(client_for(security).get("/", headers=headers), "Basic")


def test_basic_realm_is_quoted_and_checked() -> None:
    assert HTTPBasic(realm='my "site"').challenge == 'Basic realm="my \\"site\\""'
    with pytest.raises(ValueError, match="cannot carry"):
        HTTPBasic(realm="a\r\nset-cookie: x=1")


def test_credentials_stay_out_of_reprs_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    assert "secret" not in repr(HTTPBasicCredentials("ann", "secret"))
    assert "tok" not in repr(HTTPAuthorizationCredentials("Bearer", "tok"))
    app = App()
    security = HTTPBasic()

    @app.get("/")
    async def fails(credentials: Annotated[HTTPBasicCredentials, Depends(security)]) -> None:
        raise RuntimeError(f"no database for {credentials!r}")

    client = TestClient(app, raise_server_exceptions=False)
    with caplog.at_level(logging.DEBUG):
        assert client.get("/", auth=("ann", "hunter2")).status_code == 500
        assert client.get("/", headers=basic(b"annhunter2")).status_code == 401
    assert "ann" in caplog.text  # the error was logged...
    assert "hunter2" not in caplog.text  # ...and the password was not


# --- OAuth2PasswordBearer ------------------------------------------------------------------


def test_oauth2_password_bearer_gives_the_token() -> None:
    client = client_for(OAuth2PasswordBearer("token"))
    assert client.get("/", headers={"authorization": "Bearer t0k"}).json() == {"value": "t0k"}
    assert client.get("/", headers={"authorization": "bEaReR   t0k "}).json() == {"value": "t0k"}


@pytest.mark.parametrize(
    "headers",
    [{}, {"authorization": "Bearer"}, {"authorization": "Basic abc"}, {"authorization": "x"}],
)
def test_oauth2_password_bearer_401_or_none(headers: dict[str, str]) -> None:
    assert_401(client_for(OAuth2PasswordBearer("token")).get("/", headers=headers), "Bearer")
    optional = client_for(OAuth2PasswordBearer("token", auto_error=False))
    assert optional.get("/", headers=headers).json() == {"value": None}


def test_a_user_dependency_on_top_of_the_scheme() -> None:
    oauth2 = OAuth2PasswordBearer(tokenUrl="token")
    users = {"t-ann": "ann"}

    async def current_user(token: Annotated[str, Depends(oauth2)]) -> str:
        if token not in users:
            raise HTTPException(401, "Invalid token", {"www-authenticate": "Bearer"})
        return users[token]

    app = App()

    @app.get("/me")
    async def me(user: Annotated[str, Depends(current_user)]) -> dict[str, str]:
        return {"user": user}

    client = TestClient(app)
    assert client.get("/me", headers={"authorization": "Bearer t-ann"}).json() == {"user": "ann"}
    assert client.get("/me", headers={"authorization": "Bearer nope"}).json() == {
        "detail": "Invalid token"
    }
    assert_401(client.get("/me"), "Bearer")


# --- API keys ------------------------------------------------------------------------------


def test_api_key_header() -> None:
    client = client_for(APIKeyHeader(name="X-API-Key"))
    assert client.get("/", headers={"x-api-key": "k1"}).json() == {"value": "k1"}
    assert client.get("/", headers={"X-Api-KEY": "k2"}).json() == {"value": "k2"}
    assert_401(client.get("/"), "APIKey")
    assert_401(client.get("/", headers={"x-api-key": ""}), "APIKey")
    assert_401(client.get("/", headers={"x-other": "k"}), "APIKey")
    optional = client_for(APIKeyHeader(name="x-api-key", auto_error=False))
    assert optional.get("/").json() == {"value": None}


def test_api_key_cookie() -> None:
    client = client_for(APIKeyCookie(name="session"))
    assert client.get("/", headers={"cookie": "a=1; session=s1"}).json() == {"value": "s1"}
    assert_401(client.get("/"), "APIKey")
    assert_401(client.get("/", headers={"cookie": "session="}), "APIKey")
    optional = client_for(APIKeyCookie(name="session", auto_error=False))
    assert optional.get("/", headers={"cookie": "other=1"}).json() == {"value": None}


def test_api_key_query() -> None:
    client = client_for(APIKeyQuery(name="api_key"))
    assert client.get("/?api_key=q1&x=2").json() == {"value": "q1"}
    assert client.get("/?api_key=a%20b").json() == {"value": "a b"}
    assert_401(client.get("/"), "APIKey")
    assert_401(client.get("/?api_key="), "APIKey")
    assert_401(client.get("/?API_KEY=q1"), "APIKey")  # query names are case-sensitive
    optional = client_for(APIKeyQuery(name="api_key", auto_error=False))
    assert optional.get("/?x=1").json() == {"value": None}


# --- as route, router and app dependencies ---------------------------------------------------


def test_in_dependencies_of_app_router_include_and_route() -> None:
    key = APIKeyHeader(name="x-key")
    bearer = HTTPBearer()
    app = App(dependencies=[Depends(key)])
    router = Router(dependencies=[Depends(bearer)])

    @router.get("/items")
    async def items() -> list[int]:
        return [1]

    @app.get("/open", dependencies=[Depends(HTTPBasic())])
    async def open_() -> str:
        return "ok"

    admin = Router()

    @admin.get("/stats")
    async def stats() -> str:
        return "stats"

    app.include_router(router, prefix="/api")
    app.include_router(admin, prefix="/admin", dependencies=[Depends(bearer)])
    client = TestClient(app)
    both = {"x-key": "k", "authorization": "Bearer t"}
    assert client.get("/api/items", headers=both).json() == [1]
    assert client.get("/admin/stats", headers=both).json() == "stats"
    assert_401(client.get("/api/items", headers={"x-key": "k"}), "Bearer")
    assert_401(client.get("/admin/stats", headers={"x-key": "k"}), "Bearer")
    assert_401(client.get("/api/items", headers={"authorization": "Bearer t"}), "APIKey")
    assert client.get("/open", headers={"x-key": "k", **basic(b"a:b")}).json() == "ok"
    assert_401(client.get("/open", headers={"x-key": "k"}), "Basic")


def test_one_scheme_named_twice_reads_once_per_request() -> None:
    calls = []

    class CountingBearer(HTTPBearer):
        async def __call__(self, request: Request) -> HTTPAuthorizationCredentials | None:
            calls.append(request.url.path)
            return await super().__call__(request)

    bearer = CountingBearer()

    async def user(token: Annotated[HTTPAuthorizationCredentials, Depends(bearer)]) -> str:
        return token.credentials.upper()

    app = App()

    @app.get("/both", dependencies=[Depends(bearer)])
    async def both(
        name: Annotated[str, Depends(user)],
        token: Annotated[HTTPAuthorizationCredentials, Depends(bearer)],
    ) -> list[str]:
        return [name, token.credentials]

    client = TestClient(app)
    assert client.get("/both", headers={"authorization": "Bearer ab"}).json() == ["AB", "ab"]
    assert calls == ["/both"]
    assert_401(client.get("/both"), "Bearer")


def test_dependency_overrides_replace_a_scheme() -> None:
    bearer = HTTPBearer()
    app = App()

    @app.get("/")
    async def read(token: Annotated[HTTPAuthorizationCredentials, Depends(bearer)]) -> str:
        return token.credentials

    app.dependency_overrides[bearer] = lambda: HTTPAuthorizationCredentials("Bearer", "fake")
    assert TestClient(app).get("/").json() == "fake"


# --- OpenAPI: scheme_name and scheme -------------------------------------------------------


def test_scheme_names_default_to_the_class_name() -> None:
    assert HTTPBearer().scheme_name == "HTTPBearer"
    assert HTTPBasic().scheme_name == "HTTPBasic"
    assert APIKeyQuery(name="k").scheme_name == "APIKeyQuery"
    assert OAuth2PasswordBearer("token", scheme_name="Login").scheme_name == "Login"

    class MyBearer(HTTPBearer):
        pass

    assert MyBearer().scheme_name == "MyBearer"


@pytest.mark.parametrize(
    ("security", "scheme"),
    [
        (HTTPBearer(), {"type": "http", "scheme": "bearer"}),
        (
            HTTPBearer(bearerFormat="JWT", description="A token"),
            {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "A token"},
        ),
        (HTTPBasic(realm="r"), {"type": "http", "scheme": "basic"}),
        (HTTPDigest(description="d"), {"type": "http", "scheme": "digest", "description": "d"}),
        (APIKeyHeader(name="X-Key"), {"type": "apiKey", "in": "header", "name": "X-Key"}),
        (APIKeyCookie(name="s"), {"type": "apiKey", "in": "cookie", "name": "s"}),
        (
            APIKeyQuery(name="k", description="key"),
            {"type": "apiKey", "in": "query", "name": "k", "description": "key"},
        ),
        (
            OAuth2PasswordBearer("token"),
            {"type": "oauth2", "flows": {"password": {"tokenUrl": "token", "scopes": {}}}},
        ),
        (
            OAuth2PasswordBearer("/auth/token", scopes={"me": "Read me"}, refreshUrl="/refresh"),
            {
                "type": "oauth2",
                "flows": {
                    "password": {
                        "tokenUrl": "/auth/token",
                        "scopes": {"me": "Read me"},
                        "refreshUrl": "/refresh",
                    }
                },
            },
        ),
    ],
    ids=repr,
)
def test_security_scheme_objects(security: Any, scheme: dict[str, Any]) -> None:
    assert security.scheme == scheme


def test_scheme_is_a_fresh_dict() -> None:
    oauth2 = OAuth2PasswordBearer("token", scopes={"me": "Read me"})
    oauth2.scheme["flows"]["password"]["scopes"]["admin"] = "changed"
    assert oauth2.scheme["flows"]["password"]["scopes"] == {"me": "Read me"}


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: HTTPBearer(scheme_name=""), ValueError, "scheme_name must not be empty"),
        (
            lambda: HTTPBearer(description=3),  # type: ignore[arg-type]
            TypeError,
            "description must be a str",
        ),
        (lambda: APIKeyHeader(name=""), ValueError, "name must not be empty"),
        (lambda: APIKeyHeader(name="x key"), ValueError, "invalid header name 'x key'"),
        (
            lambda: APIKeyQuery(name=None),  # type: ignore[arg-type]
            TypeError,
            "name must be a str, got None",
        ),
        (lambda: OAuth2PasswordBearer(""), ValueError, "tokenUrl must not be empty"),
        (
            lambda: OAuth2PasswordBearer("t", scopes={"me": 1}),  # type: ignore[dict-item]
            TypeError,
            "'me': 1",
        ),
    ],
)
def test_bad_arguments_are_refused(make: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        make()


def test_reprs_name_the_scheme() -> None:
    assert repr(HTTPBearer()) == "HTTPBearer(scheme_name='HTTPBearer')"
    assert repr(APIKeyCookie(name="s")) == "APIKeyCookie(name='s', scheme_name='APIKeyCookie')"


# --- OAuth2PasswordRequestForm --------------------------------------------------------------


def form_app() -> App:
    app = App()

    @app.post("/token")
    async def token(
        form: Annotated[OAuth2PasswordRequestForm, Depends(OAuth2PasswordRequestForm)],
    ) -> dict[str, Any]:
        return {
            "grant_type": form.grant_type,
            "username": form.username,
            "password": form.password,
            "scopes": form.scopes,
            "client_id": form.client_id,
            "client_secret": form.client_secret,
        }

    @app.post("/strict")
    async def strict(
        form: Annotated[OAuth2PasswordRequestFormStrict, Depends(OAuth2PasswordRequestFormStrict)],
    ) -> str:
        return form.grant_type or ""

    return app


def form_client() -> TestClient:
    return TestClient(form_app())


def test_password_form_reads_every_field() -> None:
    sent = {
        "grant_type": "password",
        "username": "ann",
        "password": "secret",
        "scope": "me  items:read ",
        "client_id": "app",
        "client_secret": "shh",
    }
    expected = {key: value for key, value in sent.items() if key != "scope"}
    assert form_client().post("/token", data=sent).json() == {
        **expected,
        "scopes": ["me", "items:read"],
    }


def test_password_form_defaults_and_errors() -> None:
    client = form_client()
    answer = client.post("/token", data={"username": "ann", "password": "pw"}).json()
    assert answer == {
        "grant_type": None,
        "username": "ann",
        "password": "pw",
        "scopes": [],
        "client_id": None,
        "client_secret": None,
    }
    missing = client.post("/token", data={"username": "ann"})
    assert missing.status_code == 422
    assert [item["loc"] for item in missing.json()["detail"]] == [["body", "password"]]
    wrong = client.post("/token", data={"username": "a", "password": "b", "grant_type": "code"})
    assert wrong.status_code == 422
    assert wrong.json()["detail"][0]["loc"] == ["body", "grant_type"]


def test_strict_password_form_requires_the_grant_type() -> None:
    client = form_client()
    refused = client.post("/strict", data={"username": "ann", "password": "pw"})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "grant_type"]
    sent = {"username": "ann", "password": "pw", "grant_type": "password"}
    assert client.post("/strict", data=sent).json() == "password"


def test_password_form_repr_hides_the_secrets() -> None:
    form = OAuth2PasswordRequestForm(username="ann", password="pw", client_secret="shh")
    assert "pw" not in repr(form)
    assert "shh" not in repr(form)
    assert repr(form) == (
        "OAuth2PasswordRequestForm(grant_type=None, username='ann', scopes=[], client_id=None)"
    )


def test_password_form_is_documented_as_a_form_body() -> None:
    document = form_app().openapi()
    body = document["paths"]["/token"]["post"]["requestBody"]
    schema = body["content"]["application/x-www-form-urlencoded"]["schema"]
    assert list(schema["properties"]) == [
        "grant_type",
        "username",
        "password",
        "scope",
        "client_id",
        "client_secret",
    ]
    assert schema["required"] == ["username", "password"]
    assert schema["properties"]["scope"] == {"type": "string", "title": "Scope", "default": ""}
    assert schema["properties"]["grant_type"]["anyOf"][0] == {
        "type": "string",
        "pattern": "^password$",
    }
    strict = document["paths"]["/strict"]["post"]["requestBody"]
    strict_schema = strict["content"]["application/x-www-form-urlencoded"]["schema"]
    assert strict_schema["required"] == ["grant_type", "username", "password"]


# --- Security -------------------------------------------------------------------------------


def test_security_is_depends_with_scopes() -> None:
    oauth2 = OAuth2PasswordBearer("token", scopes={"me": "Read me"})
    app = App()

    @app.get("/")
    async def read(token: Annotated[str, Security(oauth2, scopes=["me"])]) -> str:
        return token

    client = TestClient(app)
    assert client.get("/", headers={"authorization": "Bearer abc"}).json() == "abc"
    assert_401(client.get("/"), "Bearer")
    marker = Security(oauth2, scopes=["me", "items"], use_cache=False)
    assert marker.scopes == ("me", "items")
    assert marker.use_cache is False
    assert repr(marker) == (
        "Security(OAuth2PasswordBearer(scheme_name='OAuth2PasswordBearer'), use_cache=False, "
        "scopes=['me', 'items'])"
    )


@pytest.mark.parametrize("scopes", ["me", ["me", 1]])
def test_security_scopes_must_be_strings(scopes: Any) -> None:
    with pytest.raises(TypeError, match="scopes must be a list of str"):
        Security(HTTPBearer(), scopes=scopes)
