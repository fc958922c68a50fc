"""Security dependencies: read a request's credentials, or answer 401.

Each class here makes a dependency object: give it to ``Depends`` and the
parameter receives what the client sent (SPEC.md "OpenAPI", last paragraph)::

    bearer = HTTPBearer()

    @app.get("/me")
    async def me(token: Annotated[HTTPAuthorizationCredentials, Depends(bearer)]) -> str:
        return token.credentials

The object only *reads* credentials; checking them (a token's signature, a
password) is the app's own dependency on top of it. The rules are FastAPI's
(0.165, the version the benchmarks run against):

- a missing credential, one of another scheme, or an empty one answers
  401 ``{"detail": "Not authenticated"}`` with a ``www-authenticate``
  challenge naming the scheme (``Bearer``, ``Basic``, ``Digest``, and
  ``APIKey`` for the API keys, which have no standard challenge but a 401
  must carry one: RFC 9110 §15.5.2). FastAPI answered 403 before 0.122;
- with ``auto_error=False`` the parameter is None instead, so an app can
  accept one of several ways or none;
- Basic credentials that are sent but malformed (not base64, not UTF-8, no
  colon) answer 401 even with ``auto_error=False``: the client tried and
  failed, and saying so beats treating it as anonymous.

Two rules differ from FastAPI's, both on the safe side: ``Bearer`` with no
token is a 401 for ``OAuth2PasswordBearer`` too (FastAPI hands it the empty
string), and Basic credentials may be UTF-8 (FastAPI reads ASCII only).

The authorization header is split by ``microweb._http.auth`` (RFC 9110 §11).
Credentials are never logged and never shown by ``repr``. Compare a secret
with ``secrets.compare_digest``, which takes the same time wherever the
first difference is.

For the OpenAPI document every object has ``scheme_name`` (the class name
unless given) and ``scheme``, its OpenAPI 3.1 Security Scheme Object;
``Security(dependency, scopes=[...])`` is ``Depends`` that adds OAuth2 scopes
to the operation's requirement. ``OAuth2PasswordRequestForm`` is the other
side of the password flow: the login form a token route reads.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from microweb._http.auth import challenge, parse_basic, split_authorization
from microweb._http.fields import TOKEN
from microweb.exceptions import HTTPException
from microweb.params import DependsMarker, Form
from microweb.requests import Request

__all__ = [
    "APIKeyCookie",
    "APIKeyHeader",
    "APIKeyQuery",
    "HTTPAuthorizationCredentials",
    "HTTPBasic",
    "HTTPBasicCredentials",
    "HTTPBearer",
    "HTTPDigest",
    "OAuth2PasswordBearer",
    "OAuth2PasswordRequestForm",
    "OAuth2PasswordRequestFormStrict",
    "Security",
]


@dataclasses.dataclass(frozen=True)
class HTTPAuthorizationCredentials:
    """An ``authorization`` header split in two: ``Bearer abc`` is ``("Bearer", "abc")``.

    ``scheme`` keeps the case the client sent; ``credentials`` is left out of
    the repr.
    """

    scheme: str
    credentials: str = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True)
class HTTPBasicCredentials:
    """The user-id and password of HTTP Basic (RFC 7617); the password is left out of the repr."""

    username: str
    password: str = dataclasses.field(repr=False)


def _check_text(what: str, value: object) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, got {value!r}")
    if not value:
        raise ValueError(f"{what} must not be empty")


class _Scheme:
    """What every security dependency has: its OpenAPI name and scheme, and its 401."""

    #: The ``www-authenticate`` challenge of a 401.
    challenge = ""

    def __init__(
        self,
        *,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        if scheme_name is not None:
            _check_text("scheme_name", scheme_name)
        if description is not None and not isinstance(description, str):
            raise TypeError(f"description must be a str, got {description!r}")
        self.scheme_name: str = scheme_name or type(self).__name__
        self.description = description
        self.auto_error = auto_error

    @property
    def scheme(self) -> dict[str, Any]:
        """The OpenAPI 3.1 Security Scheme Object, a new dict each time."""
        scheme = self._scheme()
        if self.description is not None:
            scheme["description"] = self.description
        return scheme

    def _scheme(self) -> dict[str, Any]:
        raise NotImplementedError

    def _missing(self) -> None:
        """Raise the 401 of a missing credential, unless ``auto_error=False``."""
        if self.auto_error:
            raise self._unauthorized()

    def _unauthorized(self) -> HTTPException:
        return HTTPException(401, "Not authenticated", {"www-authenticate": self.challenge})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(scheme_name={self.scheme_name!r})"


# --- the authorization header ---------------------------------------------------------


class _HTTPScheme(_Scheme):
    """A scheme of the ``authorization`` header answered as ``HTTPAuthorizationCredentials``."""

    #: The scheme's name as OpenAPI writes it (lower case); compared case-insensitively.
    _http_scheme = ""

    def _scheme(self) -> dict[str, Any]:
        return {"type": "http", "scheme": self._http_scheme}

    async def __call__(self, request: Request) -> HTTPAuthorizationCredentials | None:
        scheme, credentials = split_authorization(request.headers.get("authorization"))
        if not credentials or scheme.lower() != self._http_scheme:
            self._missing()
            return None
        return HTTPAuthorizationCredentials(scheme, credentials)


class HTTPBearer(_HTTPScheme):
    """``authorization: Bearer <token>`` (RFC 6750 §2.1), as ``HTTPAuthorizationCredentials``.

    ``bearerFormat`` (``"JWT"``, say) documents the token in OpenAPI.
    No header, another scheme or no token: 401 with ``www-authenticate:
    Bearer``, or None with ``auto_error=False``.
    """

    _http_scheme = "bearer"
    challenge = "Bearer"

    def __init__(
        self,
        *,
        bearerFormat: str | None = None,  # FastAPI's spelling, as in OpenAPI
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(scheme_name=scheme_name, description=description, auto_error=auto_error)
        self.bearer_format = bearerFormat

    def _scheme(self) -> dict[str, Any]:
        scheme = super()._scheme()
        if self.bearer_format is not None:
            scheme["bearerFormat"] = self.bearer_format
        return scheme


class HTTPDigest(_HTTPScheme):
    """``authorization: Digest ...`` (RFC 7616), handed over unchecked.

    Only the plumbing: the parameter receives the header's credentials as
    they are (``HTTPAuthorizationCredentials``), and the app parses and
    verifies them. No header or another scheme: 401 with
    ``www-authenticate: Digest``, or None with ``auto_error=False``.
    """

    _http_scheme = "digest"
    challenge = "Digest"


class HTTPBasic(_Scheme):
    """``authorization: Basic <base64 of user:password>`` (RFC 7617), as ``HTTPBasicCredentials``.

    No header or another scheme: 401 with ``www-authenticate: Basic`` (``Basic
    realm="..."`` when ``realm`` is given), or None with ``auto_error=False``.
    Credentials that are not base64, not UTF-8 or lack the colon answer
    that 401 whatever ``auto_error`` says. Check the password with
    ``secrets.compare_digest``.
    """

    def __init__(
        self,
        *,
        scheme_name: str | None = None,
        realm: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(scheme_name=scheme_name, description=description, auto_error=auto_error)
        self.realm = realm
        self.challenge = challenge("Basic", realm)  # ValueError for a realm no header can carry

    def _scheme(self) -> dict[str, Any]:
        return {"type": "http", "scheme": "basic"}

    async def __call__(self, request: Request) -> HTTPBasicCredentials | None:
        scheme, credentials = split_authorization(request.headers.get("authorization"))
        if scheme.lower() != "basic":
            self._missing()
            return None
        parsed = parse_basic(credentials)
        if parsed is None:
            raise self._unauthorized()
        return HTTPBasicCredentials(*parsed)


class OAuth2PasswordBearer(_Scheme):
    """The bearer token of OAuth2's password flow (RFC 6749 §4.3), as a str.

    ``tokenUrl`` is where a client posts ``username`` and ``password`` to get
    a token (a route of the app, relative to it: ``"token"``); ``scopes``
    maps each scope's name to its description. Both only document the flow
    in OpenAPI: the token route is the app's own. No header, another scheme
    or no token: 401 with ``www-authenticate: Bearer``, or None with
    ``auto_error=False``.
    """

    challenge = "Bearer"

    def __init__(
        self,
        tokenUrl: str,  # FastAPI's spelling, as in OpenAPI
        *,
        scheme_name: str | None = None,
        scopes: dict[str, str] | None = None,
        description: str | None = None,
        auto_error: bool = True,
        refreshUrl: str | None = None,
    ) -> None:
        super().__init__(scheme_name=scheme_name, description=description, auto_error=auto_error)
        _check_text("tokenUrl", tokenUrl)
        scopes = dict(scopes or {})
        for name, text in scopes.items():
            if not isinstance(name, str) or not isinstance(text, str):
                raise TypeError(
                    f"scopes map each scope's name to its description (str to str), "
                    f"got {name!r}: {text!r}"
                )
        self.token_url = tokenUrl
        self.refresh_url = refreshUrl
        self.scopes = scopes

    def _scheme(self) -> dict[str, Any]:
        flow: dict[str, Any] = {"tokenUrl": self.token_url, "scopes": dict(self.scopes)}
        if self.refresh_url is not None:
            flow["refreshUrl"] = self.refresh_url
        return {"type": "oauth2", "flows": {"password": flow}}

    async def __call__(self, request: Request) -> str | None:
        scheme, token = split_authorization(request.headers.get("authorization"))
        if not token or scheme.lower() != "bearer":
            self._missing()
            return None
        return token


# --- Security(): Depends with OAuth2 scopes ---------------------------------------------


class SecurityMarker(DependsMarker):
    """``Depends`` that also names the OAuth2 scopes the operation requires."""

    __slots__ = ("scopes",)

    def __init__(
        self,
        dependency: Callable[..., Any],
        *,
        scopes: Sequence[str] | None = None,
        use_cache: bool = True,
    ) -> None:
        super().__init__(dependency, use_cache=use_cache)
        if isinstance(scopes, str) or not all(isinstance(scope, str) for scope in scopes or ()):
            raise TypeError(f"scopes must be a list of str, got {scopes!r}")
        self.scopes: tuple[str, ...] = tuple(scopes or ())

    def __repr__(self) -> str:
        shown = super().__repr__().removeprefix("Depends(").removesuffix(")")
        return f"Security({shown}, scopes={list(self.scopes)!r})"


def Security(
    dependency: Callable[..., Any],
    *,
    scopes: Sequence[str] | None = None,
    use_cache: bool = True,
) -> Any:
    """``Depends(dependency)`` that writes ``scopes`` into the operation's OpenAPI ``security``.

    The scopes of every ``Security`` between the handler and an OAuth2
    scheme are the scopes the operation requires of that scheme::

        @app.get("/items")
        async def items(user: Annotated[User, Security(current_user, scopes=["items"])]): ...

    They only document the requirement: checking that a token carries them
    is the app's own dependency (FastAPI's ``SecurityScopes``, which hands a
    dependency the scopes required of it, is not in microweb).
    """
    return SecurityMarker(dependency, scopes=scopes, use_cache=use_cache)


# --- the OAuth2 password form ---------------------------------------------------------


class OAuth2PasswordRequestForm:
    """The form a client posts to get a token in OAuth2's password flow (RFC 6749 §4.3.2).

    A class dependency, named in full: ``Depends(OAuth2PasswordRequestForm)``
    (FastAPI's bare ``Depends()`` is not supported). Its fields are read from
    the urlencoded form and documented as the operation's request body::

        @app.post("/token")
        async def login(
            form: Annotated[OAuth2PasswordRequestForm, Depends(OAuth2PasswordRequestForm)],
        ) -> dict[str, str]:
            user = authenticate(form.username, form.password)
            ...

    ``username`` and ``password`` are required (422 without them);
    ``grant_type`` may be left out, but when sent must be ``password``;
    ``scope`` is split on spaces into ``scopes`` (RFC 6749 §3.3);
    ``client_id`` and ``client_secret`` are None when not sent (RFC 6749
    §2.3.1 prefers them in a Basic ``authorization`` header: read that with
    ``HTTPBasic``). The password and the client secret are left out of the
    repr. Use ``OAuth2PasswordRequestFormStrict`` to require ``grant_type``,
    as the RFC does.
    """

    def __init__(
        self,
        *,
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form()] = None,
    ) -> None:
        self.grant_type = grant_type
        self.username = username
        self.password = password
        self.scopes = scope.split()
        self.client_id = client_id
        self.client_secret = client_secret

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(grant_type={self.grant_type!r}, username={self.username!r}, "
            f"scopes={self.scopes!r}, client_id={self.client_id!r})"
        )


class OAuth2PasswordRequestFormStrict(OAuth2PasswordRequestForm):
    """``OAuth2PasswordRequestForm`` with ``grant_type=password`` required (RFC 6749 §4.3.2)."""

    def __init__(
        self,
        *,
        grant_type: Annotated[str, Form(pattern="^password$")],
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        scope: Annotated[str, Form()] = "",
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form()] = None,
    ) -> None:
        super().__init__(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )


# --- API keys -------------------------------------------------------------------------


class _APIKey(_Scheme):
    """A key sent in a header, a cookie or the query string, handed over as a str."""

    challenge = "APIKey"  # FastAPI's: no standard challenge exists for an API key
    _where = ""  # OpenAPI's ``in``

    def __init__(
        self,
        *,
        name: str,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        super().__init__(scheme_name=scheme_name, description=description, auto_error=auto_error)
        self.name = self._checked_name(name)

    @staticmethod
    def _checked_name(name: str) -> str:
        _check_text("name", name)
        return name

    def _scheme(self) -> dict[str, Any]:
        return {"type": "apiKey", "in": self._where, "name": self.name}

    def _check(self, key: str | None) -> str | None:
        if not key:
            self._missing()
            return None
        return key

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, scheme_name={self.scheme_name!r})"


class APIKeyHeader(_APIKey):
    """An API key in the header ``name`` (any case); missing or empty: 401, or None.

    ``name`` must be a header name (an RFC 9110 token).
    """

    _where = "header"

    @staticmethod
    def _checked_name(name: str) -> str:
        _check_text("name", name)
        if TOKEN.fullmatch(name) is None:
            raise ValueError(f"invalid header name {name!r}: expected an RFC 9110 token")
        return name

    async def __call__(self, request: Request) -> str | None:
        return self._check(request.headers.get(self.name))


class APIKeyCookie(_APIKey):
    """An API key in the cookie ``name``; missing or empty: 401, or None."""

    _where = "cookie"

    async def __call__(self, request: Request) -> str | None:
        return self._check(request.cookies.get(self.name))


class APIKeyQuery(_APIKey):
    """An API key in the query parameter ``name``; missing or empty: 401, or None."""

    _where = "query"

    async def __call__(self, request: Request) -> str | None:
        return self._check(request.query_params.get(self.name))
