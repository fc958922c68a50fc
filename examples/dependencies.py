"""Dependencies: values a handler asks for with Depends, set up and torn down per request.

Serve it with ``uvicorn examples.dependencies:app``; docs/tutorial/dependencies.md
shows what to try.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Annotated

from microweb import App, HTTPException, Router
from microweb.params import Depends, Header, Query

app = App()

# What the last request's dependencies did, in order; GET /log shows it.
LOG: list[str] = []

BOOKS = ["Dune", "Emma", "Ulysses", "Walden"]


def paging(limit: Annotated[int, Query(ge=1, le=50)] = 10, offset: int = 0) -> slice:
    # A plain function: its parameters are bound like a handler's (here the
    # query string), and what it returns is passed in.
    return slice(offset, offset + limit)


def session() -> Iterator[str]:
    # A generator: the code after `yield` runs once the response is sent.
    LOG.clear()
    LOG.append("open session")
    try:
        yield "session-1"
    finally:
        LOG.append("close session")


async def current_user(
    db: Annotated[str, Depends(session)],
    x_user: Annotated[str | None, Header()] = None,
) -> str:
    # An async dependency with a sub-dependency: it gets the same session as
    # the handler (one call per request).
    LOG.append(f"look up {x_user or 'anonymous'} in {db}")
    return x_user or "anonymous"


async def transaction(db: Annotated[str, Depends(session)]) -> AsyncIterator[str]:
    LOG.append("begin")
    try:
        yield f"transaction on {db}"
    except Exception:
        # The handler raised: its exception is thrown in here, after the
        # error response is sent.
        LOG.append("roll back")
        raise
    LOG.append("commit")


@app.get("/books")
def list_books(page: Annotated[slice, Depends(paging)]) -> list[str]:
    return BOOKS[page]


@app.get("/me")
async def me(
    user: Annotated[str, Depends(current_user)],
    db: Annotated[str, Depends(session)],
) -> dict[str, str]:
    return {"user": user, "session": db}


@app.post("/books")
async def add_book(
    title: str,
    user: Annotated[str, Depends(current_user)],
    tx: Annotated[str, Depends(transaction)],
) -> dict[str, str]:
    if title in BOOKS:
        raise HTTPException(409, f"{title!r} is already on the shelf")
    LOG.append(f"{user} adds {title!r} in {tx}")
    BOOKS.append(title)
    return {"added": title}


@app.get("/log")
def log() -> list[str]:
    return LOG


def require_token(x_token: Annotated[str | None, Header()] = None) -> None:
    # A check: its value is not used; raising stops the request.
    if x_token != "s3cret":
        raise HTTPException(401, "missing or wrong X-Token", headers={"www-authenticate": "Token"})


admin = Router(prefix="/admin", dependencies=[Depends(require_token)])


@admin.delete("/books/{title}")
def delete_book(title: str) -> dict[str, str]:
    if title not in BOOKS:
        raise HTTPException(404, f"no book titled {title!r}")
    BOOKS.remove(title)
    return {"deleted": title}


app.include_router(admin)
