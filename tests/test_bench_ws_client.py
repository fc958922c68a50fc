"""The benchmark's WebSocket client (``bench.ws_client``) and the verdicts of its runs."""

from __future__ import annotations

import base64
import hashlib
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager

import pytest

from bench.ws_client import CLOSE, GUID, TEXT, Connection, HandshakeError

BINARY, PING, PONG = 0x2, 0x9, 0xA


def server_frame(opcode: int, payload: bytes, final: bool = True) -> bytes:
    """An unmasked server frame, with the 16-bit length form when it needs it."""
    head = (0x80 if final else 0) | opcode
    if len(payload) < 126:
        return struct.pack("!BB", head, len(payload)) + payload
    return struct.pack("!BBH", head, 126, len(payload)) + payload


def read_client_frame(sock: socket.socket) -> tuple[int, bytes]:
    """One masked client frame (short payloads only), unmasked."""
    head, length = sock.recv(2, socket.MSG_WAITALL)
    assert length & 0x80, "a client frame is masked"
    data = sock.recv(4 + (length & 0x7F), socket.MSG_WAITALL)
    key, masked = data[:4], data[4:]
    return head & 0x0F, bytes(b ^ key[i % 4] for i, b in enumerate(masked))


@contextmanager
def fake_server(script: list[bytes], accept: bool = True) -> Iterator[tuple[int, list[object]]]:
    """A one-connection server on 127.0.0.1: answers the handshake, then sends ``script``.

    Each item of ``script`` is written by itself (the client meets frames cut
    across reads); what the client sent back (pongs, its close) is collected.
    """
    heard: list[object] = []
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        connection, _ = listener.accept()
        with closing(connection):
            connection.settimeout(5)
            request = b""
            while b"\r\n\r\n" not in request:
                request += connection.recv(4096)
            key = next(
                line.split(b":", 1)[1].strip()
                for line in request.split(b"\r\n")
                if line.lower().startswith(b"sec-websocket-key:")
            )
            answer = base64.b64encode(hashlib.sha1(key + GUID).digest()) if accept else b"x"
            connection.sendall(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + answer + b"\r\n\r\n"
            )
            for chunk in script:
                connection.sendall(chunk)
                if chunk[:1] == bytes([0x80 | PING]):  # a whole ping: its pong comes back
                    heard.append(read_client_frame(connection))
            if accept:
                heard.append(read_client_frame(connection))  # the client's close

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port, heard
    finally:
        thread.join(10)
        listener.close()


def test_the_client_reads_every_message_and_answers_pings_and_the_close() -> None:
    tick = server_frame(TEXT, b"tick")
    big = server_frame(BINARY, b"x" * 300)
    script = [
        tick * 3 + tick[:3],  # a frame cut across two reads
        tick[3:],
        server_frame(TEXT, b"ti", final=False) + server_frame(0x0, b"ck"),  # fragmented
        server_frame(PING, b"hi"),
        big[:2],  # the 16-bit length form, its length cut from its header
        big[2:],
        server_frame(CLOSE, struct.pack("!H", 1000)),
    ]
    with fake_server(script) as (port, heard):
        connection = Connection("127.0.0.1", port, "/ws/push?n=5", timeout=5)
        messages = list(connection)
    assert messages == [(TEXT, b"tick")] * 5 + [(BINARY, b"x" * 300)]
    assert connection.close_code == 1000
    assert heard == [(PONG, b"hi"), (CLOSE, struct.pack("!H", 1000))]


def test_a_wrong_accept_key_is_a_handshake_error() -> None:
    with fake_server([], accept=False) as (port, _), pytest.raises(HandshakeError):
        Connection("127.0.0.1", port, "/ws/echo", timeout=5)


def test_websocket_figures_are_judged_outside_raws_spread() -> None:
    from bench.report_http import verdicts

    def figures(median: float, low: float, high: float) -> dict[str, float]:
        return {
            "messages_per_second": median,
            "messages_per_second_min": low,
            "messages_per_second_max": high,
        }

    row = {
        "raw": figures(100_000, 95_000, 105_000),  # a spread of 10 %
        "microweb": figures(98_000, 90_000, 101_000),
        "blacksheep": figures(85_000, 80_000, 90_000),
        "litestar": figures(120_000, 110_000, 125_000),
    }
    found = verdicts(row, "messages_per_second")
    assert found["noise"] == pytest.approx(0.1)
    assert found["raw"][0] == "level"
    assert found["blacksheep"][0] == "ahead"
    assert found["litestar"][0] == "behind"
