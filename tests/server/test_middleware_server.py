"""microweb.middleware through a real uvicorn: live compressed streams, sessions over restarts."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import brotli
import httpx
import pytest
import zstandard

from .conftest import Server
from .middleware_app import CHUNKS


def decoder(coding: str) -> Callable[[bytes], bytes]:
    if coding == "gzip":
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress
    if coding == "br":
        return brotli.Decompressor().process  # type: ignore[no-any-return]
    decompress: Callable[[bytes], bytes] = zstandard.ZstdDecompressor().decompressobj().decompress
    return decompress


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
def test_a_compressed_stream_arrives_chunk_by_chunk(
    serve: Callable[..., Server], http: httpx.Client, coding: str
) -> None:
    """The app sends chunk k+1 only after this test has read and decompressed chunk k."""
    server = serve("middleware_app:app")
    decode = decoder(coding)
    received: list[str] = []
    headers = {"accept-encoding": coding}
    with http.stream("GET", f"{server.url}/stream", headers=headers) as response:
        assert response.headers["content-encoding"] == coding
        assert response.headers["transfer-encoding"] == "chunked"
        text = ""
        for raw in response.iter_raw():
            text += decode(raw).decode()
            while ";" in text:
                piece, _, text = text.partition(";")
                received.append(piece)
                http.post(f"{server.url}/ack/{len(received) - 1}").raise_for_status()
        assert text == ""
    assert received == [f"chunk {index}" for index in range(CHUNKS)]


def test_a_session_survives_a_restart_and_dies_with_its_key(
    serve: Callable[..., Server], monkeypatch: pytest.MonkeyPatch
) -> None:
    def session(server: Server, cookies: dict[str, str]) -> Any:
        with httpx.Client(cookies=cookies, timeout=10) as client:
            return client.get(f"{server.url}/session").json()

    monkeypatch.setenv("SESSION_KEYS", "first")
    server = serve("middleware_app:app")
    with httpx.Client(timeout=10) as client:
        client.post(f"{server.url}/session/ada").raise_for_status()
        cookies = {"session": client.cookies["session"]}
    server.stop()

    monkeypatch.setenv("SESSION_KEYS", "first")
    assert session(serve("middleware_app:app"), cookies) == {"value": "ada"}
    monkeypatch.setenv("SESSION_KEYS", "second,first")  # rotated in: the old key still verifies
    assert session(serve("middleware_app:app"), cookies) == {"value": "ada"}
    monkeypatch.setenv("SESSION_KEYS", "second")  # rotated out
    assert session(serve("middleware_app:app"), cookies) == {}
