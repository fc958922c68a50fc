"""WebSocket connections: the handler's side of the ASGI WebSocket protocol.

Theory of operation
-------------------
ASGI WebSocket spec 2.4. A connection has two halves, each a state machine
(``WebSocketState``):

- ``client_state``, what the server told us (``receive``): CONNECTING until
  ``websocket.connect`` arrives, then CONNECTED, DISCONNECTED after
  ``websocket.disconnect``;
- ``application_state``, what we told the server (``send``): CONNECTING
  until ``websocket.accept`` (CONNECTED) or ``websocket.close`` before it
  (DISCONNECTED: the server refuses the handshake with 403), or RESPONSE
  while a denial response (``websocket.http.response.*``, the extension of
  that name) is being sent, DISCONNECTED after its last body chunk or after
  a close.

Both halves live in one ``WatchedConnection``, the App's websocket error
boundary's: the boundary reads there what was sent, and a ``WebSocket``
given the boundary's ``receive``/``send`` talks to the server directly
(once both halves are CONNECTED, a message costs one state comparison).

Every call checks its half first and raises a ``RuntimeError`` naming the
wrong order (send before accept, receive after close, accept twice...)
rather than handing the server a message it would refuse, or waiting for a
message that can never come: a wrong order is never a hang.

Receiving after the client left raises ``WebSocketDisconnect(code, reason)``;
so does sending after the server reported the connection gone (an
``OSError`` from ``send``, ASGI spec 2.4; code 1006, "closed abnormally").
A frame of the wrong kind (binary for ``receive_text``) or JSON that does
not parse raises ``WebSocketException`` 1003 or 1007 (RFC 6455 §7.4.1),
which the App answers by closing with that code.
"""

from __future__ import annotations

import contextlib
import enum
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any, Literal, TypeVar

import orjson

from microweb import _json
from microweb._connection import HTTPConnection
from microweb._http.fields import encode_header
from microweb.exceptions import WebSocketException
from microweb.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["WebSocket", "WebSocketClose", "WebSocketDisconnect", "WebSocketState"]

#: The scope extension a server offers when it can send a denial response.
DENIAL_EXTENSION = "websocket.http.response"
#: The scope extension a test client offers to hear of a ``WebSocketDisconnect``
#: the handler let escape: the App, which takes that for no error, stores it
#: there under ``"exception"`` so the test can raise it. Servers never offer it.
ESCAPE_EXTENSION = "microweb.websocket.escape"

Mode = Literal["text", "binary"]
T = TypeVar("T")


class WebSocketState(enum.Enum):
    """Where one half of a WebSocket connection is (see ``WebSocket``)."""

    CONNECTING = 0
    CONNECTED = 1
    DISCONNECTED = 2
    RESPONSE = 3


# perf: the states as module globals for the per-message paths: on Python 3.11 the
# enum's metaclass has a __getattr__, which sends every ``WebSocketState.CONNECTED``
# through the slow attribute hook (about 900 instructions, gone in 3.12).
# Callgrind: push 5,287 -> 4,363, echo 12,766 -> 9,994 instructions a message;
# an open connection's send() 444 -> 305 ns, receive() 715 -> 317 ns (in-process).
_CONNECTING = WebSocketState.CONNECTING
_CONNECTED = WebSocketState.CONNECTED
_DISCONNECTED = WebSocketState.DISCONNECTED
_RESPONSE = WebSocketState.RESPONSE


class WebSocketDisconnect(Exception):
    """The client closed the connection (or it was lost): ``code`` and ``reason``.

    Raised by the ``receive_*`` methods once the client has gone; the
    ``iter_*`` methods end quietly instead. Left unhandled in a handler, the
    App lets it pass without logging: nobody is there to answer.
    """

    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason or ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, reason={self.reason!r})"


class WatchedConnection:
    """A websocket scope's ``receive`` and ``send``, remembering where each half got to.

    The one state tracker of a connection: ``received`` is the client's half
    (``WebSocketState``), ``sent`` the application's. The App's websocket
    boundary makes one and hands the router its tracking ``receive`` and
    ``send`` (a raw ASGI app, such as a mounted one, sends through them); a
    ``WebSocket`` given exactly those keeps its states here and talks to the
    server directly, so each message is tracked once.
    """

    __slots__ = ("_receive", "_send", "received", "sent")

    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive, self._send = receive, send
        self.received = self.sent = WebSocketState.CONNECTING

    async def receive(self) -> Message:
        message = await self._receive()
        kind = message["type"]
        if kind == "websocket.connect":
            self.received = WebSocketState.CONNECTED
        elif kind == "websocket.disconnect":
            self.received = WebSocketState.DISCONNECTED
        return message

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "websocket.accept":
            self.sent = WebSocketState.CONNECTED
        elif kind == "websocket.close":
            self.sent = WebSocketState.DISCONNECTED
        elif kind == "websocket.http.response.start":
            self.sent = WebSocketState.RESPONSE
        elif kind == "websocket.http.response.body" and not message.get("more_body", False):
            self.sent = WebSocketState.DISCONNECTED
        await self._send(message)

    def websocket(self, scope: Scope) -> WebSocket:
        """A ``WebSocket`` on this connection, sharing its states."""
        return WebSocket(scope, self.receive, self.send)

    def may_deny(self, scope: Scope) -> bool:
        """Whether a denial response can still be sent (before accept, with the extension)."""
        return self.sent is WebSocketState.CONNECTING and DENIAL_EXTENSION in scope.get(
            "extensions", {}
        )

    async def deny(self, scope: Scope, response: ASGIApp) -> None:
        """Send ``response`` as the handshake's denial (``websocket.http.response.*``)."""

        async def send_denial(message: Message) -> None:
            await self.send({**message, "type": "websocket." + message["type"]})

        with contextlib.suppress(OSError):  # the client left: nobody to answer
            await response(scope, self.receive, send_denial)


def _watched(receive: Receive, send: Send) -> WatchedConnection | None:
    """The ``WatchedConnection`` whose own tracking ``receive`` and ``send`` these are."""
    owner = getattr(send, "__self__", None)
    if (
        type(owner) is WatchedConnection
        and getattr(send, "__func__", None) is WatchedConnection.send
        and getattr(receive, "__self__", None) is owner
        and getattr(receive, "__func__", None) is WatchedConnection.receive
    ):
        return owner
    return None


class WebSocket(HTTPConnection):
    """A WebSocket connection: accept it, exchange messages, close it.

    Declare a handler parameter annotated ``WebSocket`` to receive it::

        @app.websocket("/echo")
        async def echo(websocket: WebSocket) -> None:
            await websocket.accept()
            async for text in websocket.iter_text():
                await websocket.send_text(text)

    ``url``, ``headers``, ``query_params``, ``path_params``, ``cookies``,
    ``client`` and ``state`` are as on ``Request``.
    """

    __slots__ = ("_connection", "_receive", "_send")

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            raise ValueError(f"WebSocket needs a 'websocket' scope, got {scope['type']!r}")
        super().__init__(scope)
        connection = _watched(receive, send)
        if connection is None:
            connection = WatchedConnection(receive, send)
        # perf: the server's own receive and send, the states kept once, in the
        # boundary's tracker: one coroutine frame less a message each way.
        self._connection = connection
        self._receive = connection._receive
        self._send = connection._send

    @property
    def client_state(self) -> WebSocketState:
        """The client's half: what the server told us."""
        return self._connection.received

    @client_state.setter
    def client_state(self, state: WebSocketState) -> None:
        self._connection.received = state

    @property
    def application_state(self) -> WebSocketState:
        """The application's half: what we told the server."""
        return self._connection.sent

    @application_state.setter
    def application_state(self, state: WebSocketState) -> None:
        self._connection.sent = state

    # --- the raw ASGI messages, checked against both state machines ---------------

    async def receive(self) -> Message:
        """The next ASGI message from the server (``websocket.connect/receive/disconnect``).

        Raises ``RuntimeError`` once the client has disconnected, after this
        side closed, and before ``accept`` (the server sends nothing then).
        """
        connection = self._connection
        client = connection.received
        if client is _DISCONNECTED:
            raise RuntimeError(
                "cannot receive: the client has disconnected ('websocket.disconnect' was "
                "already received)"
            )
        if client is _CONNECTED:
            application = connection.sent
            if application is _CONNECTING:
                raise RuntimeError(
                    "cannot receive before the WebSocket is accepted: call accept()"
                )
            if application is not _CONNECTED:
                raise RuntimeError("cannot receive: this WebSocket was closed by the application")
        message = await self._receive()
        kind = message["type"]
        if client is _CONNECTING:
            if kind != "websocket.connect":
                raise RuntimeError(f"expected ASGI message 'websocket.connect', got {kind!r}")
            connection.received = _CONNECTED
        elif kind == "websocket.disconnect":
            connection.received = _DISCONNECTED
        elif kind != "websocket.receive":
            raise _unexpected(kind)
        return message

    async def send(self, message: Message) -> None:
        """Send one ASGI message to the server, in an order the protocol allows.

        Raises ``RuntimeError`` for a message out of order and
        ``WebSocketDisconnect`` (1006) if the server says the connection is gone.
        """
        kind = message["type"]
        connection = self._connection
        state = connection.sent
        if state is _CONNECTING:
            if kind == "websocket.accept":
                connection.sent = _CONNECTED
            elif kind == "websocket.close":
                connection.sent = _DISCONNECTED
            elif kind == "websocket.http.response.start":
                if DENIAL_EXTENSION not in self.scope.get("extensions", {}):
                    raise RuntimeError(
                        "the server does not offer the 'websocket.http.response' extension: "
                        "close() the WebSocket instead of sending a denial response"
                    )
                connection.sent = _RESPONSE
            else:
                raise RuntimeError(
                    f"cannot send {kind!r} before the WebSocket is accepted: call accept() "
                    "(or close() to refuse it)"
                )
        elif state is _CONNECTED:
            if kind == "websocket.close":
                connection.sent = _DISCONNECTED
            elif kind != "websocket.send":
                raise RuntimeError(
                    f"cannot send {kind!r} on an accepted WebSocket: expected 'websocket.send' "
                    "or 'websocket.close'"
                )
        elif state is _RESPONSE:
            if kind != "websocket.http.response.body":
                raise RuntimeError(
                    f"cannot send {kind!r} during a denial response: expected "
                    "'websocket.http.response.body'"
                )
            if not message.get("more_body", False):
                connection.sent = _DISCONNECTED
        else:
            raise RuntimeError(f"cannot send {kind!r}: this WebSocket is already closed")
        try:
            await self._send(message)
        except OSError:
            raise self._gone() from None

    def _gone(self) -> WebSocketDisconnect:
        """Both halves closed after the server's ``OSError`` for a send (ASGI spec 2.4)."""
        self._connection.sent = self._connection.received = WebSocketState.DISCONNECTED
        return WebSocketDisconnect(1006)

    # --- the handshake -------------------------------------------------------------

    async def accept(
        self,
        subprotocol: str | None = None,
        headers: Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]] | None = None,
    ) -> None:
        """Accept the handshake, with the ``subprotocol`` chosen and extra response ``headers``.

        ``subprotocol`` should be one the client offered
        (``websocket.scope["subprotocols"]``). ``headers`` are a mapping or
        ``(name, value)`` pairs, as ``str`` or as raw ASGI ``bytes`` (Latin-1);
        each is checked as a response header is.
        """
        if self.application_state is not WebSocketState.CONNECTING:
            raise RuntimeError(
                f"cannot accept: the WebSocket is {self.application_state.name}, not CONNECTING"
            )
        if self.client_state is WebSocketState.CONNECTING:
            await self.receive()  # websocket.connect
        pairs = headers.items() if isinstance(headers, Mapping) else headers or ()
        raw = [encode_header(_text(name), _text(value)) for name, value in pairs]
        await self.send({"type": "websocket.accept", "subprotocol": subprotocol, "headers": raw})

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close the connection with ``code`` (before ``accept``: refuse the handshake).

        After the client has left (``websocket.disconnect`` received) there is
        nobody to tell: the WebSocket is marked closed and nothing is sent (ASGI
        spec 2.4: a server may refuse any message after the disconnect).
        """
        if self.client_state is WebSocketState.DISCONNECTED and self.application_state in (
            WebSocketState.CONNECTING,
            WebSocketState.CONNECTED,
        ):
            self.application_state = WebSocketState.DISCONNECTED
            return
        await self.send(_close_message(code, reason))

    async def send_denial_response(self, response: Any) -> None:
        """Refuse the handshake with an HTTP ``response`` (a ``Response``, or any ASGI app).

        Needs the server's ``websocket.http.response`` extension; raises
        ``RuntimeError`` without it (use ``close()``), or after ``accept``.
        """
        if DENIAL_EXTENSION not in self.scope.get("extensions", {}):
            raise RuntimeError(
                "the server does not offer the 'websocket.http.response' extension: "
                "close() the WebSocket instead of sending a denial response"
            )
        if self.application_state is not WebSocketState.CONNECTING:
            raise RuntimeError(
                "cannot send a denial response: the WebSocket is "
                f"{self.application_state.name}, not CONNECTING"
            )
        await response(self.scope, self._receive, self._send_denial)

    async def _send_denial(self, message: Message) -> None:
        """A response's ``http.response.*`` messages, sent as ``websocket.http.response.*``."""
        kind = message["type"]
        if kind.startswith("http.response."):
            message = {**message, "type": "websocket." + kind}
        await self.send(message)

    # --- messages ----------------------------------------------------------------------

    async def _data(self, kind: Literal["text", "bytes"], stop: bool = False) -> Any:
        """The next message's ``text`` or ``bytes`` (a message of the other kind: 1003).

        The client gone: ``WebSocketDisconnect``, or ``StopAsyncIteration``
        when ``stop`` (the ``iter_*`` methods end there).
        """
        connection = self._connection
        if connection.received is _CONNECTED and connection.sent is _CONNECTED:
            # perf: both halves open (every message of an exchange): the server's
            # receive straight away; with the tracker below, echo 2.28 -> 1.59 µs.
            message = await self._receive()
            if message["type"] == "websocket.receive":
                data = message.get(kind)
                if data is None:
                    raise _wrong_kind(kind)
                return data
            if message["type"] != "websocket.disconnect":
                raise _unexpected(message["type"])
            connection.received = WebSocketState.DISCONNECTED
        else:
            if connection.sent is not WebSocketState.CONNECTED:
                raise RuntimeError(
                    "cannot receive: the WebSocket is CONNECTING; call accept() first"
                    if connection.sent is WebSocketState.CONNECTING
                    else "cannot receive: this WebSocket was closed by the application"
                )
            message = await self.receive()
            if message["type"] != "websocket.disconnect":
                data = message.get(kind)
                if data is None:
                    raise _wrong_kind(kind)
                return data
        if stop:
            raise StopAsyncIteration
        raise WebSocketDisconnect(message.get("code", 1005), message.get("reason"))

    async def receive_text(self) -> str:
        """The next message, which must be text (else closed with 1003)."""
        text: str = await self._data("text")
        return text

    async def receive_bytes(self) -> bytes:
        """The next message, which must be binary (else closed with 1003)."""
        data: bytes = await self._data("bytes")
        return data

    async def receive_json(self, mode: Mode = "text") -> Any:
        """The next message parsed as JSON, from a text (``mode="text"``) or binary frame.

        JSON that does not parse (or nests past microweb's depth limit)
        closes with 1007.
        """
        _check_mode(mode)
        return await self._json(mode)

    async def _json(self, mode: Mode, stop: bool = False) -> Any:
        data = await self._data("text" if mode == "text" else "bytes", stop)
        try:
            return _json.loads(data.encode() if isinstance(data, str) else data)
        except (orjson.JSONDecodeError, _json.TooDeep) as exc:
            raise WebSocketException(1007, f"invalid JSON: {exc}") from None

    async def send_text(self, data: str) -> None:
        """Send a text message."""
        # perf: once accepted a data message is always in order: straight to the
        # server, checked here rather than in a shared helper coroutine (callgrind:
        # push 6,314 -> 5,273 instructions a message; a plain method returning
        # that helper's coroutine, 5,575).
        message = {"type": "websocket.send", "text": data}
        if self._connection.sent is not _CONNECTED:
            await self.send(message)  # the errors of a wrong order
            return
        try:
            await self._send(message)
        except OSError:
            raise self._gone() from None

    async def send_bytes(self, data: bytes) -> None:
        """Send a binary message."""
        message = {"type": "websocket.send", "bytes": data}
        if self._connection.sent is not _CONNECTED:
            await self.send(message)  # the errors of a wrong order
            return
        try:
            await self._send(message)  # perf: as send_text
        except OSError:
            raise self._gone() from None

    async def send_json(self, data: Any, mode: Mode = "text") -> None:
        """Send ``data`` as JSON (the ``JSONResponse`` encoder), in a text or binary frame."""
        _check_mode(mode)
        encoded = _json.dumps(data)
        if mode == "text":
            await self.send_text(encoded.decode())
        else:
            await self.send_bytes(encoded)

    def iter_text(self) -> AsyncIterator[str]:
        """The text messages as they come; ends quietly when the client closes."""
        return _Messages(functools.partial(self._data, "text", True))

    def iter_bytes(self) -> AsyncIterator[bytes]:
        """The binary messages as they come; ends quietly when the client closes."""
        return _Messages(functools.partial(self._data, "bytes", True))

    def iter_json(self, mode: Mode = "text") -> AsyncIterator[Any]:
        """The messages parsed as JSON as they come; ends quietly when the client closes."""
        _check_mode(mode)
        return _Messages(functools.partial(self._json, mode, True))


class _Messages(AsyncIterator[T]):
    """The messages ``next_message()`` returns until it raises ``StopAsyncIteration``.

    perf: an async iterator whose ``__anext__`` hands out the receiving
    coroutine itself, not an async generator: one coroutine a message, no
    asyncgen hooks, no WeakSet entry (callgrind: echo 14,835 -> 13,758
    instructions a round trip; a class with an ``async def __anext__`` was
    slower than the generator, 15,304).
    """

    __slots__ = ("_next",)

    def __init__(self, next_message: Callable[[], Awaitable[T]]) -> None:
        self._next = next_message

    def __aiter__(self) -> _Messages[T]:
        return self

    def __anext__(self) -> Awaitable[T]:
        return self._next()


def _wrong_kind(kind: str) -> WebSocketException:
    """A text message where binary was expected, or the other way round (RFC 6455 §7.4.1)."""
    expected, got = ("text", "binary") if kind == "text" else ("binary", "text")
    return WebSocketException(1003, f"expected a {expected} message, got a {got} one")


def _unexpected(kind: str) -> RuntimeError:
    return RuntimeError(
        f"expected ASGI message 'websocket.receive' or 'websocket.disconnect', got {kind!r}"
    )


def _text(value: str | bytes) -> str:
    """A header name or value given as raw ASGI bytes, as the str ``encode_header`` checks."""
    return value.decode("latin-1") if isinstance(value, bytes) else value


class _ModeError(ValueError, RuntimeError):
    """A ``mode=`` other than ``"text"`` or ``"binary"``.

    A bad argument value is a ``ValueError`` (STYLE.md); Starlette raises a
    ``RuntimeError`` there, so this is both: code ported from Starlette that
    catches ``RuntimeError`` still does.
    """


def _check_mode(mode: str) -> None:
    if mode not in ("text", "binary"):
        raise _ModeError(f"mode must be 'text' or 'binary', got {mode!r}")


class WebSocketClose:
    """An ASGI app that closes the WebSocket with ``code`` and ``reason``.

    Before accept this refuses the handshake (the server answers 403).
    """

    __slots__ = ("code", "reason")

    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        self.code = code
        self.reason = reason

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(_close_message(self.code, self.reason))


def _close_message(code: int, reason: str | None) -> Message:
    """``websocket.close``; the reason is optional in ASGI, so it goes only when given."""
    if reason:
        return {"type": "websocket.close", "code": code, "reason": reason}
    return {"type": "websocket.close", "code": code}
