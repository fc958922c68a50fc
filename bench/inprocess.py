"""In-process request cost: ``await app(scope, receive, send)`` in a loop.

Run: python -m bench.inprocess [--quick]

Apps are timed in the same process, interleaved round by round, and each
figure is the median over rounds of the mean µs per request; the ratio to the
hand-written raw ASGI app of the same run is what to compare (this is a noisy
2-core machine). Every app's answer is checked first: a benchmark of a wrong
answer is void.

Two tables:

1. ``/plaintext`` and ``/json`` for raw ASGI, microweb and Starlette.
2. Routing scale: ``/r999/items/5`` (the last of N parametrised routes
   ``/r{i}/items/{item_id}``) with N = 10, 1,000 and 10,000.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

Scope = dict[str, Any]
Message = dict[str, Any]
ASGIApp = Callable[[Scope, Any, Any], Awaitable[None]]

PLAINTEXT = b"Hello, World!"
JSON_BODY = {"message": "Hello, World!"}

# --- the apps ---------------------------------------------------------------------


async def raw_app(scope: Scope, receive: Any, send: Any) -> None:
    """The floor: a hand-written ASGI app doing the same work correctly."""
    path = scope["path"]
    if path == "/plaintext":
        body = PLAINTEXT
        content_type = b"text/plain; charset=utf-8"
    elif path == "/json":
        body = orjson.dumps(JSON_BODY)
        content_type = b"application/json"
    elif path.startswith("/r") and path.endswith("/items/5"):
        body = b'{"item_id":"5"}'
        content_type = b"application/json"
    else:
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-length", str(len(body)).encode()),
                (b"content-type", content_type),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def microweb_app(extra_routes: int = 0) -> ASGIApp:
    from microweb import App
    from microweb.responses import PlainTextResponse

    app = App()
    add_extra_routes(extra_routes, lambda path, fn: app.add_route(path, fn))

    @app.get("/plaintext", response_class=PlainTextResponse)
    async def plaintext() -> bytes:
        return PLAINTEXT

    @app.get("/json")
    async def json_endpoint() -> dict[str, str]:
        return JSON_BODY

    return app


def starlette_app(extra_routes: int = 0) -> ASGIApp:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, PlainTextResponse
    from starlette.routing import Route

    async def plaintext(request: Request) -> PlainTextResponse:
        return PlainTextResponse(PLAINTEXT)

    async def json_endpoint(request: Request) -> JSONResponse:
        return JSONResponse(JSON_BODY)

    routes: list[Route] = []

    async def item(request: Request) -> JSONResponse:
        return JSONResponse({"item_id": request.path_params["item_id"]})

    add_extra_routes(extra_routes, lambda path, fn: routes.append(Route(path, item)))
    routes.extend([Route("/plaintext", plaintext), Route("/json", json_endpoint)])
    return Starlette(routes=routes)


def add_extra_routes(count: int, add: Callable[[str, Any], Any]) -> None:
    """``count`` routes ``/r{i}/items/{item_id}``, the last one always ``/r999/...``."""

    async def item(item_id: str) -> dict[str, str]:
        return {"item_id": item_id}

    if count == 0:
        return
    numbers = [*[i for i in range(count + 1) if i != 999][: count - 1], 999]
    for i in numbers:
        add(f"/r{i}/items/{{item_id}}", item)


# --- timing -------------------------------------------------------------------------


def make_scope(path: str) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"bench")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


async def call(app: ASGIApp, path: str) -> tuple[int, dict[bytes, bytes], bytes]:
    """One request; returns status, headers and body to check the answer."""
    messages: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        messages.append(message)

    await app(make_scope(path), receive, send)
    start, *bodies = messages
    return start["status"], dict(start["headers"]), b"".join(m.get("body", b"") for m in bodies)


async def per_request_us(app: ASGIApp, path: str, number: int) -> float:
    template = make_scope(path)

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        pass

    start = time.perf_counter()
    for _ in range(number):
        # A server builds a new scope for every request; so do we.
        await app(dict(template), receive, send)
    return (time.perf_counter() - start) / number * 1e6


async def timed(apps: dict[str, ASGIApp], path: str, rounds: int, number: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in apps}
    for app in apps.values():  # warm up
        await per_request_us(app, path, max(number // 10, 10))
    for _ in range(rounds):
        for name, app in apps.items():
            samples[name].append(await per_request_us(app, path, number))
    return {name: statistics.median(values) for name, values in samples.items()}


async def check(apps: dict[str, ASGIApp], path: str) -> None:
    answers = {name: await call(app, path) for name, app in apps.items()}
    reference = next(iter(answers.values()))
    for name, (status, headers, body) in answers.items():
        same = (
            status == reference[0]
            and headers.get(b"content-type") == reference[1].get(b"content-type")
            and json_or_bytes(body) == json_or_bytes(reference[2])
        )
        if not same:
            raise SystemExit(f"{name} answers {path} differently: {status} {headers} {body!r}")


def json_or_bytes(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return body


async def main(quick: bool) -> dict[str, Any]:
    import starlette

    import microweb

    rounds, number = (3, 500) if quick else (9, 5000)
    results: dict[str, Any] = {
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "microweb": microweb.__version__,
        "starlette": starlette.__version__,
        "rounds": rounds,
        "requests_per_round": number,
    }
    apps = {"raw ASGI": raw_app, "microweb": microweb_app(), "starlette": starlette_app()}
    print(
        f"Python {results['python']}, microweb {microweb.__version__}, "
        f"Starlette {starlette.__version__}; median of {rounds} rounds x {number} requests"
    )
    print(f"\n{'endpoint':<12}" + "".join(f"{name:>22}" for name in apps))
    for path in ("/plaintext", "/json"):
        await check(apps, path)
        medians = await timed(apps, path, rounds, number)
        raw = medians["raw ASGI"]
        results[path] = medians
        cells = "".join(f"{v:>10.2f} µs ({v / raw:4.1f}x)" for v in medians.values())
        print(f"{path:<12}{cells}")

    print("\nrouting: /r999/items/5 as the last of N routes (µs/request)")
    print(f"{'N':>8}{'microweb':>14}{'vs N=10':>9}{'starlette':>14}{'vs N=10':>9}")
    scale: dict[int, dict[str, float]] = {}
    counts = (10, 1000) if quick else (10, 1000, 10000)
    for count in counts:
        apps = {
            "raw ASGI": raw_app,
            "microweb": microweb_app(count),
            "starlette": starlette_app(count),
        }
        await check(apps, "/r999/items/5")
        # Starlette scans every route: at 10,000 routes keep its request count sane.
        n = number if count < 10000 else max(number // 20, 50)
        scale[count] = await timed(apps, "/r999/items/5", rounds, n)
    for count, medians in scale.items():
        mw, st = medians["microweb"], medians["starlette"]
        print(
            f"{count:>8}{mw:>11.2f} µs{mw / scale[10]['microweb']:>8.2f}x"
            f"{st:>11.2f} µs{st / scale[10]['starlette']:>8.2f}x"
        )
    results["routing"] = {str(k): v for k, v in scale.items()}
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: few requests")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()
    figures = asyncio.run(main(args.quick))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(figures, fh, indent=2)
