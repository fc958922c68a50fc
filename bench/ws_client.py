"""A minimal WebSocket client for the load runs: one blocking socket, big reads, tiny frames.

The ``websockets`` package's asyncio client costs about 4.6 µs of CPU per
pushed message (2026-11-29, measured in its process over a 40,000-message
push), more than uvicorn serving raw ASGI spends sending it (3.3 to 4 µs):
a push run timed with it measures the client. This one does only what the
benchmark needs, with no event loop: the opening handshake by hand (RFC
6455 §4.1: the ``Sec-WebSocket-Accept`` checked, no extension offered, so
no compression), masked frames out (§5.3), and frames in parsed from reads
of up to ``READ_SIZE`` bytes, so that a burst of pushed frames costs one
``recv`` and a short loop in Python. Every message is handed over whole (a
fragmented one is put together), pings are answered, and the server's close
is answered and its code kept.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import struct
from collections.abc import Iterator

__all__ = ["CLOSE", "TEXT", "Connection", "HandshakeError"]

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3
READ_SIZE = 256 * 1024


class HandshakeError(Exception):
    """The server did not answer the opening handshake with a valid 101."""


def _mask(payload: bytes, key: bytes) -> bytes:
    """``payload`` XOR the 4-byte ``key`` repeated (RFC 6455 §5.3)."""
    if not payload:
        return payload
    repeated = (key * (len(payload) // 4 + 1))[: len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(
        len(payload), "big"
    )


def frame(opcode: int, payload: bytes) -> bytes:
    """One final, masked client frame (RFC 6455 §5.2)."""
    key = os.urandom(4)
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
    return header + key + _mask(payload, key)


class Connection:
    """One WebSocket connection to ``host:port`` at ``path``, opened on creation."""

    def __init__(self, host: str, port: int, path: str, timeout: float = 60.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.close_code: int | None = None  # the server's, once its close frame came
        self._close_sent = False
        try:
            rest = self._handshake(host, port, path)
        except BaseException:
            self.sock.close()
            raise
        self._incoming = self._messages(rest)

    def _handshake(self, host: str, port: int, path: str) -> bytes:
        """Send the upgrade request, check the 101; the bytes read past its head."""
        key = base64.b64encode(os.urandom(16))
        self.sock.sendall(
            b"GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
            % (path.encode(), host.encode(), port, key)
        )
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(READ_SIZE)
            if not chunk:
                raise HandshakeError(f"connection closed during the handshake: {data!r}")
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        status, *fields = head.split(b"\r\n")
        if status.split(b" ")[1:2] != [b"101"]:
            raise HandshakeError(f"expected 101, got {status.decode(errors='replace')!r}")
        headers = {}
        for field in fields:
            name, _, value = field.partition(b":")
            headers[name.strip().lower()] = value.strip()
        expected = base64.b64encode(hashlib.sha1(key + GUID).digest())
        if headers.get(b"sec-websocket-accept") != expected:
            raise HandshakeError("wrong Sec-WebSocket-Accept")
        if b"sec-websocket-extensions" in headers:
            raise HandshakeError("the server chose an extension none was offered")
        return rest

    def send(self, opcode: int, payload: bytes) -> None:
        self.sock.sendall(frame(opcode, payload))

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        """(opcode, payload) of each data message until the server's close (kept, answered).

        Pings are answered with pongs and not handed over; the iteration ends
        after the close handshake, once the server closed the TCP connection.
        """
        return self._incoming

    def _messages(self, buffer: bytes) -> Iterator[tuple[int, bytes]]:
        position = 0
        fragments: list[bytes] = []
        first_opcode = 0
        recv = self.sock.recv
        while True:
            # perf: parse every whole frame already read before the next recv.
            size = len(buffer)
            while size - position >= 2:
                head, length = buffer[position], buffer[position + 1]
                if length & 0x80:
                    raise ValueError("a server frame must not be masked (RFC 6455 §5.1)")
                start = position + 2
                if length == 126:
                    if size - start < 2:
                        break
                    (length,) = struct.unpack_from("!H", buffer, start)
                    start += 2
                elif length == 127:
                    if size - start < 8:
                        break
                    (length,) = struct.unpack_from("!Q", buffer, start)
                    start += 8
                end = start + length
                if end > size:
                    break
                payload, position, opcode = buffer[start:end], end, head & 0x0F
                if opcode in (TEXT, BINARY, CONTINUATION):
                    if head & 0x80 and not fragments:
                        yield opcode, payload
                        continue
                    if not fragments:
                        first_opcode = opcode
                    fragments.append(payload)
                    if head & 0x80:
                        yield first_opcode, b"".join(fragments)
                        fragments = []
                elif opcode == PING:
                    self.send(PONG, payload)
                elif opcode == CLOSE:
                    self.close_code = struct.unpack("!H", payload[:2])[0] if payload else 1005
                    if not self._close_sent:
                        self._close_sent = True
                        self.send(CLOSE, payload[:2])
                    self._wait_closed()
                    return
            chunk = recv(READ_SIZE)
            if not chunk:
                self.sock.close()
                return  # closed with no close frame: close_code stays None
            buffer, position = buffer[position:] + chunk, 0

    def _wait_closed(self) -> None:
        """Read (and drop) whatever comes until the server closes the TCP connection."""
        try:
            while self.sock.recv(READ_SIZE):
                pass
        except ConnectionResetError:
            pass  # gone without a FIN: closed all the same
        finally:
            self.sock.close()

    def close(self, code: int = 1000) -> None:
        """Start the close handshake with ``code``; wait for the server's close and EOF."""
        self._close_sent = True
        self.send(CLOSE, struct.pack("!H", code))
        for _ in self._incoming:
            pass
        self.sock.close()
