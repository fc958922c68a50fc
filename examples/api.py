"""An API using every kind of parameter, and the docs microweb writes for it.

    uvicorn examples.api:app
    open http://localhost:8000/docs          (Swagger UI)
    curl localhost:8000/openapi.json         (the OpenAPI 3.1 document)

The tests check its document with openapi-spec-validator, run schemathesis
against it on a real uvicorn, and click "Try it out" on its docs page in
headless Chromium.

The secured operations take fixed demo credentials (never do this in an
app): the bearer token ``demo-token``, the API key ``demo-key`` in
``x-api-key``, Basic ``admin:demo-password``, and the OAuth2 user ``ann``
with the password ``demo-password``, whose token ``/token`` hands out.
"""

from __future__ import annotations

import enum
import secrets
from typing import Annotated

import msgspec

from microweb import App
from microweb.datastructures import UploadFile
from microweb.exceptions import HTTPException
from microweb.params import Body, Cookie, Depends, File, Form, Header, Path, Query
from microweb.security import (
    APIKeyHeader,
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
)


class Color(enum.Enum):
    red = "red"
    green = "green"
    blue = "blue"


class Item(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    price: Annotated[float, msgspec.Meta(ge=0, le=1_000_000)]
    tags: list[str] = []


class Stored(msgspec.Struct):
    id: int
    item: Item


class Found(msgspec.Struct):
    q: str
    limit: int
    color: Color | None
    tags: list[str]


class Caller(msgspec.Struct):
    token: str
    session: str | None


app = App(title="Shop API", version="1.0.0", description="Items, searches and callers.")


@app.get("/items/{item_id:int}", tags=["items"])
async def read_item(
    item_id: Annotated[int, Path(le=1_000_000, description="The item's number")],
) -> Stored:
    """Read one item by its number."""
    return Stored(item_id, Item(name=f"item {item_id}", price=1.0))


@app.post("/items", status_code=201, tags=["items"])
async def create_item(item: Item) -> Stored:
    """Store an item (a JSON body)."""
    return Stored(1, item)


@app.post("/items/bulk", tags=["items"])
async def create_items(items: list[Item]) -> list[Stored]:
    """Store several items (a JSON list)."""
    return [Stored(number, item) for number, item in enumerate(items, 1)]


@app.put("/items/{item_id:int}", tags=["items"])
async def replace_item(
    item_id: Annotated[int, Path(le=1_000_000)],
    item: Annotated[Item, Body(embed=True)],
) -> Stored:
    """Replace an item: the body is ``{"item": {...}}``."""
    return Stored(item_id, item)


@app.get("/users/{username}", tags=["users"])
async def read_user(
    username: Annotated[str, Path(pattern="^[a-z][a-z0-9]{0,19}$")],
) -> dict[str, str]:
    """A path parameter with a pattern."""
    return {"username": username}


@app.get("/search")
async def search(
    q: Annotated[str, Query(min_length=1, max_length=30, description="What to look for")],
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    color: Color | None = None,
    tag: Annotated[list[str], Query(max_length=5)] = [],  # noqa: B006 - copied per request
) -> Found:
    """Query parameters: constraints, an enum and a repeated key."""
    return Found(q, limit, color, tag)


@app.get("/caller")
async def caller(
    x_token: Annotated[str, Header(description="Any token")],
    session: Annotated[str | None, Cookie()] = None,
) -> Caller:
    """A header and a cookie.

    No constraints on these two: the transport changes them (a server strips
    a header's spaces, a cookie ends at ';'), so a bound could not hold.
    """
    return Caller(x_token, session)


# --- security: each scheme checks what it read, or answers 401 ---------------------------

bearer = HTTPBearer(description="The token `demo-token`")
api_key = APIKeyHeader(name="x-api-key", description="The key `demo-key`")
basic = HTTPBasic(realm="shop", description="`admin` and `demo-password`")
oauth2 = OAuth2PasswordBearer(tokenUrl="token", scopes={"me": "Read your own profile"})

USERS = {"ann": "demo-password"}
TOKENS = {"ann-token": "ann"}  # what /token hands out, by user


def _same(given: str, expected: str) -> bool:
    """Compare secrets in a time that does not depend on where they differ."""
    return secrets.compare_digest(given.encode(), expected.encode())


def _refuse(challenge: str) -> HTTPException:
    return HTTPException(401, "Invalid credentials", {"www-authenticate": challenge})


class Who(msgspec.Struct):
    name: str
    via: str


@app.get("/secure/bearer", tags=["security"])
async def with_bearer(
    credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer)],
) -> Who:
    """A bearer token (`authorization: Bearer demo-token`)."""
    if not _same(credentials.credentials, "demo-token"):
        raise _refuse("Bearer")
    return Who("demo", "bearer")


@app.get("/secure/key", tags=["security"])
async def with_api_key(key: Annotated[str, Depends(api_key)]) -> Who:
    """An API key in the `x-api-key` header."""
    if not _same(key, "demo-key"):
        raise _refuse("APIKey")
    return Who("demo", "api key")


@app.get("/secure/basic", tags=["security"])
async def with_basic(credentials: Annotated[HTTPBasicCredentials, Depends(basic)]) -> Who:
    """HTTP Basic: `admin` and `demo-password`."""
    # Both compared, whichever differs: the time tells nothing.
    user_ok = _same(credentials.username, "admin")
    password_ok = _same(credentials.password, "demo-password")
    if not (user_ok and password_ok):
        raise _refuse(basic.challenge)
    return Who(credentials.username, "basic")


class Token(msgspec.Struct):
    access_token: str
    token_type: str


@app.post("/token", tags=["security"])
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends(OAuth2PasswordRequestForm)],
) -> Token:
    """OAuth2's password flow: post `username` and `password`, get a bearer token."""
    if not _same(form.password, USERS.get(form.username, "")):
        raise HTTPException(400, "Incorrect username or password")
    token = next(token for token, user in TOKENS.items() if user == form.username)
    return Token(token, "bearer")


async def current_user(token: Annotated[str, Depends(oauth2)]) -> str:
    user = TOKENS.get(token)
    if user is None:
        raise _refuse("Bearer")
    return user


@app.get("/users/me", tags=["security"])
async def read_me(user: Annotated[str, Depends(current_user)]) -> Who:
    """The user of an OAuth2 bearer token (get one from `/token`)."""
    return Who(user, "oauth2")


# --- a form with a file -------------------------------------------------------------------


class Uploaded(msgspec.Struct):
    title: str
    filename: str | None
    size: int


@app.post("/uploads", status_code=201, tags=["files"])
async def upload(
    # A form field arrives as text whatever the client meant: the pattern makes
    # "null", "true", "12" or "{}" (what a JSON value becomes) a 422, not a title.
    title: Annotated[str, Form(pattern="^[A-Z][A-Za-z ]{0,49}$")],
    document: Annotated[UploadFile, File(description="Any file")],
) -> Uploaded:
    """A multipart form: a field and a file."""
    content = await document.read()
    return Uploaded(title, document.filename, len(content))
