"""The app tests/hostile attacks with raw bytes, served by a real uvicorn.

Public microweb API only. Each route is the plainest way to use one feature
that reads request input: query conversion, cookies, JSON and form bodies,
a file with ranges and validators, a trailing-slash redirect.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from microweb import App, Request, Response
from microweb.responses import FileResponse, PlainTextResponse

# 1,000 known bytes: "0123456789" a hundred times.
FILE = Path(__file__).with_name("ranges.txt")

app = App()


@app.get("/probe", response_class=PlainTextResponse)
def probe() -> str:
    return "ok"


# /items/ answers a redirect to /items (redirect_slashes).
@app.get("/items")
def items() -> list[int]:
    return [1, 2, 3]


# A path that may start with "//" (/%2Fevil.example/edit): its slash redirect must
# not become a scheme-relative location.
@app.get("/{rest:path}/edit")
def edit(rest: str) -> dict[str, str]:
    return {"edit": rest}


@app.get("/users/{name}")
def user(name: str) -> dict[str, str]:
    return {"name": name}


@app.get("/files/{rest:path}")
def files(rest: str) -> dict[str, str]:
    return {"rest": rest}


@app.get("/file")
def file() -> FileResponse:
    return FileResponse(FILE)


@app.get("/query/int")
def query_int(n: int) -> dict[str, int]:
    return {"n": n}


@app.get("/query/float")
def query_float(x: float) -> dict[str, float]:
    return {"x": x}


@app.get("/query/bool")
def query_bool(b: bool) -> dict[str, bool]:
    return {"b": b}


@app.get("/query/list")
def query_list(k: list[str]) -> dict[str, int]:
    return {"count": len(k)}


@app.get("/query/str")
def query_str(s: str) -> dict[str, str]:
    return {"s": s}


@app.get("/query/all")
def query_all(request: Request) -> dict[str, int]:
    return {"keys": len(request.query_params), "values": len(request.query_params.multi_items())}


@app.get("/cookies")
def cookies(request: Request) -> dict[str, str]:
    return request.cookies


@app.get("/set-cookie")
def set_cookie(value: str, response: Response) -> str:
    response.set_cookie("echo", value)
    return "set"


@app.post("/json")
async def json_echo(request: Request) -> Any:
    return await request.json()


@app.post("/form")
async def form(request: Request) -> dict[str, Any]:
    data = await request.form()
    summary: dict[str, Any] = {}
    for name, value in data.multi_items():
        if isinstance(value, str):
            summary[name] = len(value)
        else:
            summary[name] = {"filename": value.filename, "size": value.size}
    return summary
