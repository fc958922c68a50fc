"""What each middleware costs a request, microweb's beside Starlette's, and gzip throughput.

Run: python -m bench.middleware

Per-request cost: a ``/plaintext`` app (``Hello, World!``) called in-process
in a loop, bare and wrapped in one middleware, each request made so the
middleware does its work (an ``Origin`` for CORS, ``Accept-Encoding`` for
compression, an allowed Host, an https scope for the redirect, a valid
session cookie, verified and left unchanged); the figure is the wrapped
app's µs per request minus the bare app's, the median over interleaved
rounds. Throughput: a 100 KiB JSON body through each GZipMiddleware at its
default level, MB of input per second.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from microweb import App, PlainTextResponse
from microweb.types import ASGIApp, Message

ROUNDS = 7
REQUESTS = 3000


def _scope(headers: list[tuple[bytes, bytes]], scheme: str = "http") -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": scheme,
        "server": ("example.com", 443 if scheme == "https" else 80),
        "client": ("127.0.0.1", 50000),
        "root_path": "",
        "path": "/plaintext",
        "raw_path": b"/plaintext",
        "query_string": b"",
        "headers": [(b"host", b"example.com"), *headers],
    }


async def _receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _time(app: ASGIApp, scope: dict[str, Any], requests: int) -> float:
    """µs per request."""
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await app(dict(scope), _receive, send)
    assert sent[0]["status"] == 200, f"the check request answered {sent[0]['status']}"
    start = time.perf_counter()
    for _ in range(requests):
        await app(dict(scope), _receive, send)
    elapsed = time.perf_counter() - start
    return elapsed / requests * 1e6


def _microweb(middleware: list[Any]) -> ASGIApp:
    app = App(middleware=middleware)

    @app.get("/plaintext")
    async def plaintext() -> PlainTextResponse:
        return PlainTextResponse("Hello, World!")

    return app


def _starlette(middleware: list[Any]) -> ASGIApp:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def plaintext(request: Request) -> PlainTextResponse:
        return PlainTextResponse("Hello, World!")

    return Starlette(routes=[Route("/plaintext", plaintext)], middleware=middleware)


def _session_cookie() -> bytes:
    import itsdangerous

    from microweb.middleware.sessions import SessionMiddleware

    signed = SessionMiddleware(_microweb([]), secret_key="k").dump({"user": "ada", "n": 1})
    itsdangerous.TimestampSigner("k").unsign(signed)  # Starlette's format too
    return b"session=" + signed.encode()


def cases() -> dict[str, tuple[str, dict[str, Any], list[tuple[bytes, bytes]], str]]:
    """name -> (middleware class name, options, request headers, scheme)."""
    origin = [(b"origin", b"https://app.example.com")]
    return {
        "CORS (listed origin)": (
            "CORSMiddleware",
            {"allow_origins": ["https://app.example.com"]},
            origin,
            "http",
        ),
        "GZip (small body, passes)": (
            "GZipMiddleware",
            {},
            [(b"accept-encoding", b"gzip")],
            "http",
        ),
        "TrustedHost": ("TrustedHostMiddleware", {"allowed_hosts": ["example.com"]}, [], "http"),
        "HTTPSRedirect (https)": ("HTTPSRedirectMiddleware", {}, [], "https"),
        "Session (a valid cookie, session unchanged)": (
            "SessionMiddleware",
            {"secret_key": "k"},
            [(b"cookie", _session_cookie())],
            "http",
        ),
    }


def _classes(framework: str, name: str) -> Any:
    module = {
        "CORSMiddleware": "cors",
        "GZipMiddleware": "gzip",
        "TrustedHostMiddleware": "trustedhost",
        "HTTPSRedirectMiddleware": "httpsredirect",
        "SessionMiddleware": "sessions",
    }[name]
    package = __import__(f"{framework}.middleware.{module}", fromlist=[name])
    return getattr(package, name)


async def per_request() -> dict[str, dict[str, float]]:
    from starlette.middleware import Middleware as StarletteMiddleware

    from microweb.middleware import Middleware

    results: dict[str, dict[str, float]] = {}
    for case, (cls_name, options, headers, scheme) in cases().items():
        scope = _scope(headers, scheme)
        apps: dict[str, ASGIApp] = {
            "microweb bare": _microweb([]),
            "microweb": _microweb([Middleware(_classes("microweb", cls_name), **options)]),
            "starlette bare": _starlette([]),
            "starlette": _starlette(
                [StarletteMiddleware(_classes("starlette", cls_name), **options)]
            ),
        }
        samples: dict[str, list[float]] = {name: [] for name in apps}
        for _ in range(ROUNDS):
            for name, app in apps.items():
                samples[name].append(await _time(app, scope, REQUESTS))
        med = {name: statistics.median(values) for name, values in samples.items()}
        results[case] = {
            "microweb": med["microweb"] - med["microweb bare"],
            "starlette": med["starlette"] - med["starlette bare"],
        }
    return results


def body_100k() -> bytes:
    items = [
        {"id": n, "name": f"item {n}", "price": n * 1.25, "tags": ["a", "b"]} for n in range(2000)
    ]
    data = json.dumps(items).encode()
    return data[: 100 * 1024]


async def throughput() -> dict[str, float]:
    from starlette.middleware.gzip import GZipMiddleware as StarletteGZip

    from microweb.middleware import GZipMiddleware

    body = body_100k()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    scope = _scope([(b"accept-encoding", b"gzip")])
    wrapped: dict[str, Callable[..., Any]] = {
        "microweb GZipMiddleware": GZipMiddleware(app),
        "starlette GZipMiddleware": StarletteGZip(app),
    }
    samples: dict[str, list[float]] = {name: [] for name in wrapped}
    for _ in range(ROUNDS):
        for name, middleware in wrapped.items():
            micros = await _time(middleware, scope, 20)
            samples[name].append(len(body) / micros)  # bytes per µs = MB/s
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> dict[str, Any]:
    costs = asyncio.run(per_request())
    print(f"Python {sys.version.split()[0]}; µs a middleware adds to one /plaintext request")
    print(f"{'middleware':<28}{'microweb':>10}{'starlette':>11}")
    for case, figures in costs.items():
        print(f"{case:<28}{figures['microweb']:>10.2f}{figures['starlette']:>11.2f}")
    rates = asyncio.run(throughput())
    print(f"\ngzip of a {len(body_100k()) // 1024} KiB JSON body (default level), MB/s of input")
    for name, rate in rates.items():
        print(f"{name:<28}{rate:>10.1f}")
    return {"per_request_us": costs, "gzip_mb_per_s": rates}


if __name__ == "__main__":
    main()
