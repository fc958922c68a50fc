"""Cookies and headers: read them from the Request or as parameters, set them on the Response.

Serve it with ``uvicorn examples.cookies:app``; docs/tutorial/cookies.md
shows what to try.
"""

from __future__ import annotations

from typing import Annotated

from microweb import App, HTTPException, Request, Response
from microweb.params import Cookie, Header
from microweb.responses import PlainTextResponse

app = App()


@app.get("/headers")
async def show_headers(request: Request) -> dict[str, str | None]:
    # Header names are case-insensitive.
    return {"x-token": request.headers.get("X-Token"), "accept": request.headers.get("accept")}


@app.post("/login")
async def login(user: str, response: Response) -> dict[str, str]:
    # `response` is a temporary Response: its cookies and headers are added
    # to the response built from the return value.
    response.set_cookie("user", user, httponly=True)
    response.headers["x-welcome"] = f"hello {user}"
    return {"logged_in": user}


@app.get("/me")
async def me(request: Request) -> dict[str, str]:
    user = request.cookies.get("user")
    if user is None:
        raise HTTPException(401, "not logged in")
    return {"user": user}


@app.post("/logout")
async def logout(response: Response) -> PlainTextResponse:
    # Also merged when the handler returns a Response of its own.
    response.delete_cookie("user")
    return PlainTextResponse("bye\n")


@app.get("/client")
async def client(
    user_agent: Annotated[str | None, Header()] = None,
    x_tag: Annotated[list[str], Header()] = [],  # noqa: B006 - each request gets a copy
) -> dict[str, object]:
    # user_agent reads the User-Agent header; a list gets every X-Tag line.
    return {"user_agent": user_agent, "tags": x_tag}


@app.get("/visits")
async def count_visit(
    response: Response,
    visits: Annotated[int, Cookie(ge=0)] = 0,
) -> dict[str, int]:
    # The cookie is converted and checked like a query parameter.
    response.set_cookie("visits", str(visits + 1))
    return {"visits": visits + 1}
