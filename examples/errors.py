"""Errors: HTTPException, exception handlers, and what a crash answers.

Serve it with ``uvicorn examples.errors:app``; docs/tutorial/errors.md shows
what to try.
"""

from __future__ import annotations

from microweb import App, HTTPException, Request
from microweb.responses import JSONResponse

app = App()

STOCK = {"plumbus": 3, "fleeb": 0}


class OutOfStock(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


@app.get("/items/{name}")
async def read_item(name: str) -> dict[str, object]:
    if name not in STOCK:
        raise HTTPException(404, f"no item named {name!r}")
    return {"name": name, "stock": STOCK[name]}


@app.post("/items/{name}/order")
async def order(name: str) -> dict[str, str]:
    if STOCK.get(name, 0) == 0:
        raise OutOfStock(name)  # answered by the handler below
    return {"ordered": name}


@app.get("/admin")
async def admin() -> dict[str, str]:
    raise HTTPException(401, headers={"www-authenticate": "Bearer"})


@app.get("/crash")
async def crash() -> dict[str, float]:
    return {"ratio": 1 / 0}  # a bug: the client gets a plain 500


@app.exception_handler(OutOfStock)
async def out_of_stock(request: Request, exc: OutOfStock) -> JSONResponse:
    return JSONResponse({"error": f"{exc.name} is out of stock"}, status_code=409)


@app.exception_handler(404)
async def not_found(request: Request, exc: HTTPException) -> JSONResponse:
    # Also receives microweb's own 404 for a path no route matches.
    return JSONResponse({"detail": exc.detail, "path": request.url.path}, status_code=404)
