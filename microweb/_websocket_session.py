"""The TestClient's WebSocket session: an ASGI WebSocket server in-process.

The app runs as a task on the TestClient's blocking portal (or on the one
its open sessions share, taken on entry and let go on exit), joined to the test's
thread by two unbounded memory streams: what the test sends waits for the
app's ``receive()``, what the app sends waits for the test's ``receive_*``.
The first message the app gets is ``websocket.connect``.

Entering the session waits for the app's answer to the handshake:
``websocket.accept`` opens it, ``websocket.close`` raises
``WebSocketDisconnect``, a ``websocket.http.response`` (the denial extension
the scope offers) raises ``WebSocketDenialResponse`` carrying the response.
Leaving it sends ``websocket.disconnect`` (unless the test closed already)
and waits for the app to return, then raises what the app raised; an app
that has not returned ``grace_period`` seconds later (it ignores the
disconnect: it never receives again) is cancelled, so leaving never hangs. A send
by the app after the client has gone raises ``OSError``, as ASGI spec 2.4
lets a server do.

A microweb ``App`` takes a ``WebSocketDisconnect`` its handler let escape for
no error (the client left) and returns quietly; the scope's
``ESCAPE_EXTENSION`` (offered with ``raise_server_exceptions``) is where it
leaves that exception for us. When leaving the ``with`` block is what closed
the connection, leaving raises it, as Starlette's TestClient does (FastAPI's
tests wrap a session in ``pytest.raises(WebSocketDisconnect)``). Not after
the test's own ``close()``: the test played a client that leaves, and the
App's quiet answer is the one to check; nor when the block raised: its error
is the one to see, not the echo of our closing.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import math
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any, Literal

import anyio
import httpx

from microweb import _json
from microweb.types import Message
from microweb.websockets import ESCAPE_EXTENSION, WebSocketDisconnect

if TYPE_CHECKING:
    from collections.abc import Callable
    from concurrent.futures import Future
    from contextlib import AbstractContextManager
    from types import TracebackType

    from anyio.from_thread import BlockingPortal

    from microweb.types import ASGIApp, Scope

__all__ = ["WebSocketDenialResponse", "WebSocketTestSession"]

# Which app messages may come next, by what came before (ASGI WebSocket spec).
_HANDSHAKE = frozenset({"websocket.accept", "websocket.close", "websocket.http.response.start"})
_OPEN = frozenset({"websocket.send", "websocket.close"})
_DENYING = frozenset({"websocket.http.response.body"})


class WebSocketDenialResponse(httpx.Response, WebSocketDisconnect):  # type: ignore[misc]
    """The HTTP response with which the app refused the WebSocket handshake.

    Raised by entering ``TestClient.websocket_connect``; read it like any
    ``httpx.Response`` (``status_code``, ``headers``, ``json()``).
    """


class _Connection:
    """The server's side of one WebSocket; every method runs on the portal's loop."""

    def __init__(self, app: ASGIApp, scope: Scope) -> None:
        self._app, self._scope = app, scope
        self._to_app, self._inbox = anyio.create_memory_object_stream[Message](math.inf)
        self._to_client, self._from_app = anyio.create_memory_object_stream[Message](math.inf)
        self._to_app.send_nowait({"type": "websocket.connect"})
        self._expected: frozenset[str] = _HANDSHAKE
        self._stop = anyio.CancelScope()
        self.client_gone = False
        self.error: Exception | None = None

    async def run(self) -> None:
        try:
            with self._stop:
                await self._app(self._scope, self._inbox.receive, self._send)
        except Exception as exc:
            self.error = exc
        finally:
            self._to_client.close()  # the client's next_message() sees the end
            self._to_app.close()
            self._inbox.close()

    async def _send(self, message: Message) -> None:
        kind = message["type"]
        if kind not in self._expected:
            expected = " or ".join(repr(k) for k in sorted(self._expected)) or "nothing"
            raise RuntimeError(f"unexpected ASGI message {kind!r}; expected {expected}")
        if self.client_gone:
            raise OSError("the WebSocket client has disconnected")
        if kind in ("websocket.accept", "websocket.send"):
            self._expected = _OPEN
        elif kind == "websocket.http.response.start" or message.get("more_body", False):
            self._expected = _DENYING
        else:  # a close, or the denial's last body chunk
            self._expected = frozenset()
        self._to_client.send_nowait(message)

    def put(self, message: Message) -> None:
        """Hand ``message`` to the app's ``receive()``."""
        if message["type"] == "websocket.disconnect":
            self.client_gone = True
        with contextlib.suppress(anyio.ClosedResourceError):  # the app has returned
            self._to_app.send_nowait(message)

    async def next_message(self) -> Message | None:
        """The app's next message, or None once the app has returned."""
        try:
            return await self._from_app.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            return None

    def stop(self) -> None:
        """Cancel the app (it outstayed the session's grace period)."""
        self._stop.cancel()

    def close(self) -> None:
        """The session is over: what the app sent and nobody read is dropped."""
        self._from_app.close()


class WebSocketTestSession:
    """A WebSocket to the app, from ``TestClient.websocket_connect``; use it with ``with``.

    ``send_text/bytes/json`` send a message to the app; ``receive_text/bytes/json``
    wait for the app's next one (``WebSocketDisconnect`` if the app closed
    instead); ``close(code)`` closes from the client's side.
    ``accepted_subprotocol`` and ``extra_headers`` are what the app accepted with.
    """

    __test__ = False  # not a pytest test class

    #: Seconds the app gets to return once the session is left, before it is cancelled.
    grace_period: float = 1.0

    def __init__(
        self,
        app: ASGIApp,
        scope: Scope,
        portal: Callable[[], AbstractContextManager[BlockingPortal]],
        raise_server_exceptions: bool,
    ) -> None:
        self._app, self._scope = app, scope
        self._take_portal = portal  # the client's, or the one its open sessions share
        self._raise = raise_server_exceptions
        # Where the App leaves a WebSocketDisconnect its handler let escape.
        self._escape: dict[str, Any] = scope.get("extensions", {}).get(ESCAPE_EXTENSION, {})
        self._stack = ExitStack()
        self._closed = False
        self._report_escape = False  # see the module docstring
        self.accepted_subprotocol: str | None = None
        self.extra_headers: list[tuple[bytes, bytes]] = []

    def __enter__(self) -> WebSocketTestSession:
        with ExitStack() as stack:
            self._portal = stack.enter_context(self._take_portal())
            self._connection = self._portal.call(_Connection, self._app, self._scope)
            self._app_call: Future[None] = self._portal.start_task_soon(self._connection.run)
            stack.callback(self._wait_for_app)
            first = self._next()
            if first["type"] == "websocket.close":
                raise WebSocketDisconnect(first.get("code", 1000), first.get("reason"))
            if first["type"] == "websocket.http.response.start":
                raise self._denial(first)
            self.accepted_subprotocol = first.get("subprotocol")
            self.extra_headers = list(first.get("headers") or ())
            self._stack = stack.pop_all()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close (1000) unless closed already, wait for the app, raise what it raised.

        That includes a ``WebSocketDisconnect`` the handler let escape when
        this close was the one it answered (the App reports it through the
        scope), unless the block raised.
        """
        self._report_escape = not self._closed and exc_type is None
        if not self._closed:
            self.close(1000)
        self._stack.close()

    def _wait_for_app(self) -> None:
        try:
            if not self._closed and not self._app_call.done():
                self.close(1000)  # the handshake failed: the app may still be waiting
            try:
                self._app_call.result(timeout=self.grace_period)
            except concurrent.futures.TimeoutError:  # it ignores the disconnect: cancelled
                self._portal.call(self._connection.stop)
                self._app_call.result()
        finally:
            self._closed = True
            self._portal.call(self._connection.close)
        error = self._connection.error
        if error is None and self._report_escape:
            error = self._escape.get("exception")
        if self._raise and error is not None:
            raise error

    def _next(self) -> Message:
        message = self._portal.call(self._connection.next_message)
        if message is None:
            error = self._connection.error
            if self._raise and error is not None:
                raise error
            raise WebSocketDisconnect(1006, "the app returned without closing the WebSocket")
        return message

    def _denial(self, start: Message) -> WebSocketDenialResponse:
        body = b""
        while True:
            message = self._next()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        response = WebSocketDenialResponse(
            start["status"], headers=start.get("headers") or [], content=body
        )
        WebSocketDisconnect.__init__(response, 1008, "the handshake was denied")
        return response

    # --- the client's side -------------------------------------------------------------

    def send(self, message: Message) -> None:
        """Hand a raw ASGI message (``websocket.receive`` or ``.disconnect``) to the app."""
        self._portal.call(self._connection.put, message)

    def send_text(self, data: str) -> None:
        self.send({"type": "websocket.receive", "text": data})

    def send_bytes(self, data: bytes) -> None:
        self.send({"type": "websocket.receive", "bytes": data})

    def send_json(self, data: Any, mode: Literal["text", "binary"] = "text") -> None:
        encoded = _json.dumps(data)
        if mode == "text":
            self.send_text(encoded.decode())
        else:
            self.send_bytes(encoded)

    def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close from the client's side: the app receives ``websocket.disconnect``."""
        if not self._closed:
            self._closed = True
            self.send({"type": "websocket.disconnect", "code": code, "reason": reason or ""})

    def receive(self) -> Message:
        """The app's next raw ASGI message (``websocket.send`` or ``websocket.close``)."""
        return self._next()

    def _data(self) -> Message:
        message = self._next()
        if message["type"] == "websocket.close":
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
        return message

    def receive_text(self) -> str:
        """The app's next message, as text; ``WebSocketDisconnect`` if it closed instead."""
        message = self._data()
        if message.get("text") is None:
            raise TypeError("expected a text message, got a binary one")
        return str(message["text"])

    def receive_bytes(self) -> bytes:
        """The app's next message, as bytes; ``WebSocketDisconnect`` if it closed instead."""
        message = self._data()
        if message.get("bytes") is None:
            raise TypeError("expected a binary message, got a text one")
        return bytes(message["bytes"])

    def receive_json(self, mode: Literal["text", "binary"] = "text") -> Any:
        """The app's next message parsed as JSON, from a text or a binary frame."""
        if mode == "text":
            return _json.loads(self.receive_text().encode())
        return _json.loads(self.receive_bytes())
