"""CompressionMiddleware and GZipMiddleware: negotiation, what passes untouched, live streams."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from typing import Any

import brotli
import pytest
import zstandard
from asgi_helpers import call_asgi

from microweb import App, PlainTextResponse, Response, StreamingResponse
from microweb.middleware import CompressionMiddleware, GZipMiddleware, Middleware
from microweb.middleware.compression import negotiate
from microweb.responses import EventSourceResponse
from microweb.testclient import TestClient

BIG = "x" * 1000


def make_app(middleware: Middleware) -> App:
    app = App(middleware=[middleware])

    @app.get("/big")
    def big() -> PlainTextResponse:
        return PlainTextResponse(BIG, headers={"etag": '"v1"', "vary": "cookie"})

    @app.get("/small")
    def small() -> PlainTextResponse:
        return PlainTextResponse("tiny")

    @app.get("/stream")
    def stream() -> StreamingResponse:
        def chunks() -> Iterator[str]:
            yield "first "
            yield "second "
            yield "third"

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.get("/encoded")
    def encoded() -> Response:
        return Response(gzip.compress(BIG.encode()), headers={"content-encoding": "gzip"})

    @app.get("/sse")
    def sse() -> EventSourceResponse:
        def events() -> Iterator[dict[str, str]]:
            yield {"data": BIG}

        return EventSourceResponse(events())

    @app.get("/nothing", status_code=204)
    def nothing() -> None:
        return None

    return app


def client(**options: Any) -> TestClient:
    return TestClient(make_app(Middleware(CompressionMiddleware, **options)))


@pytest.mark.parametrize(
    ("accept", "offered", "chosen"),
    [
        ("gzip, br, zstd", ("zstd", "br", "gzip"), "zstd"),
        ("gzip, br, zstd", ("gzip", "br"), "gzip"),
        ("gzip;q=0.5, br;q=0.8", ("zstd", "br", "gzip"), "br"),
        ("*", ("br", "gzip"), "br"),
        ("*;q=0.1, gzip;q=0", ("gzip",), None),
        ("br;q=0, *", ("br", "gzip"), "gzip"),
        ("identity", ("gzip",), None),
        ("identity;q=1, gzip;q=0.5", ("gzip",), None),
        ("x-gzip", ("gzip",), "gzip"),
        ("GZIP;Q=1.0", ("gzip",), "gzip"),
        ("gzip;q=2", ("gzip",), None),
        ("gzip;q=nope", ("gzip",), None),
        ("", ("gzip",), None),
        ("deflate", ("gzip",), None),
    ],
)
def test_negotiation_by_q_values(
    accept: str, offered: tuple[str, ...], chosen: str | None
) -> None:
    assert negotiate(accept, offered) == chosen


@pytest.mark.parametrize(
    ("accept", "decode"),
    [
        ("gzip", gzip.decompress),
        ("br", brotli.decompress),
        ("zstd", lambda data: zstandard.ZstdDecompressor().decompressobj().decompress(data)),
    ],
)
def test_each_coding_round_trips(accept: str, decode: Any) -> None:
    with client().stream("GET", "/big", headers={"accept-encoding": accept}) as response:
        raw = b"".join(response.iter_raw())
    assert response.headers["content-encoding"] == accept
    assert response.headers["content-length"] == str(len(raw))
    assert response.headers["vary"] == "cookie, Accept-Encoding"
    assert response.headers["etag"] == 'W/"v1"'
    assert decode(raw) == BIG.encode()


def test_no_accept_encoding_is_identity_with_vary() -> None:
    response = client().get("/big", headers={"accept-encoding": ""})
    assert "content-encoding" not in response.headers
    assert response.headers["vary"] == "cookie, Accept-Encoding"
    assert response.headers["etag"] == '"v1"'
    assert response.text == BIG


@pytest.mark.parametrize("path", ["/small", "/encoded", "/sse", "/nothing"])
def test_untouched_responses(path: str) -> None:
    with client().stream("GET", path, headers={"accept-encoding": "br"}) as response:
        raw = b"".join(response.iter_raw())
    assert response.headers.get("content-encoding") != "br"
    if path == "/small":
        assert raw == b"tiny"
        assert "vary" not in response.headers  # its bytes do not depend on accept-encoding
    if path == "/encoded":
        assert gzip.decompress(raw) == BIG.encode()


@pytest.mark.anyio
async def test_head_passes_untouched() -> None:
    app = make_app(Middleware(CompressionMiddleware))
    sent = await call_asgi(app, "HEAD", [(b"accept-encoding", b"gzip")], path="/big")
    assert (b"content-encoding", b"gzip") not in sent[0]["headers"]


@pytest.mark.anyio
async def test_a_206_passes_untouched() -> None:
    async def ranged(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-range", b"bytes 0-999/2000"), (b"content-length", b"1000")]
        await send({"type": "http.response.start", "status": 206, "headers": headers})
        await send({"type": "http.response.body", "body": BIG.encode()})

    sent = await call_asgi(CompressionMiddleware(ranged), "GET", [(b"accept-encoding", b"gzip")])
    assert sent[0]["headers"][-1] == (b"content-length", b"1000")
    assert sent[1]["body"] == BIG.encode()


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
def test_a_stream_is_compressed_chunk_by_chunk(coding: str) -> None:
    """Every chunk decompresses on arrival: the flush after each one (Kludex/starlette#2753)."""
    decoders: dict[str, Any] = {
        "gzip": zlib.decompressobj(16 + zlib.MAX_WBITS),
        "br": brotli.Decompressor(),
        "zstd": zstandard.ZstdDecompressor().decompressobj(),
    }
    decoder = decoders[coding]
    decode = decoder.process if coding == "br" else decoder.decompress
    with client(minimum_size=0).stream(
        "GET", "/stream", headers={"accept-encoding": coding}
    ) as response:
        assert response.headers["content-encoding"] == coding
        assert "content-length" not in response.headers
        pieces = [decode(raw) for raw in response.iter_raw()]
    # The last message is the stream's end: the coding's trailer, no text.
    assert pieces == [b"first ", b"second ", b"third", b""]


def test_pathsend_is_hidden_when_compressing(tmp_path: Any) -> None:
    from microweb import FileResponse

    (tmp_path / "big.txt").write_text(BIG)
    app = CompressionMiddleware(FileResponse(tmp_path / "big.txt"))

    async def run() -> list[Any]:
        return await call_asgi(
            app,
            "GET",
            [(b"accept-encoding", b"gzip")],
            extensions={"http.response.pathsend": {}},
        )

    import anyio

    sent = anyio.run(run)
    assert (b"content-encoding", b"gzip") in sent[0]["headers"]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    assert gzip.decompress(body) == BIG.encode()


def test_gzip_middleware_offers_gzip_alone_at_its_level() -> None:
    c = TestClient(make_app(Middleware(GZipMiddleware, compresslevel=1)))
    response = c.get("/big", headers={"accept-encoding": "zstd, br, gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert response.text == BIG
    assert c.get("/big", headers={"accept-encoding": "br"}).headers.get("content-encoding") is None


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown content coding 'deflate'"):
        CompressionMiddleware(make_app(Middleware(GZipMiddleware)), encodings=("deflate",))
    with pytest.raises(ValueError, match="compresslevel must be an int from 0 to 9, got 10"):
        GZipMiddleware(make_app(Middleware(GZipMiddleware)), compresslevel=10)
    with pytest.raises(ValueError, match="minimum_size must be a non-negative int, got -1"):
        CompressionMiddleware(make_app(Middleware(GZipMiddleware)), minimum_size=-1)
