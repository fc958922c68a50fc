"""An ``httpx.Client`` that runs an ASGI app in-process, streaming included.

Theory of operation
-------------------

The app runs on an anyio event loop in a helper thread, reached through a
*blocking portal*. The test's thread is the "client"; the portal's thread is
the "server". Inside ``with TestClient(app) as client:`` one portal lives for
the whole block and also runs the lifespan protocol; outside it, every request
starts a portal of its own and stops it when the response is closed, except
while a WebSocket session is open: the sessions open at the same time, and
the requests sent meanwhile, share one portal (``_SessionPortal``), because
handlers of one app talk to each other's connections (a chat room's
broadcast) and a stream of one event loop cannot wake a reader on another.

For each request an ``_Exchange`` (living on the loop) runs the app as a task
and joins it to the client through a bounded memory object stream:

* the app's ``send()`` validates the message order (ASGI HTTP: one
  ``http.response.start``, then ``http.response.body`` until ``more_body`` is
  false) and puts the message on the stream; it waits while the stream is full,
  so a fast or endless app is paced by the reader and nothing is buffered
  beyond ``_BUFFER`` messages;
* the client pulls messages one ``portal.call`` at a time: the first becomes
  the ``httpx.Response`` and the rest feed its ``SyncByteStream``, so
  ``iter_bytes()`` yields each chunk as soon as the app sends it;
* the app's ``receive()`` hands out the request body, then blocks until the
  exchange is *finished* and answers ``http.disconnect`` from then on (body
  the app has not read by then is skipped: nobody is waiting for the answer).

The exchange is finished when the app sends the last body chunk or when the
client closes the response, whichever comes first. Closing the response early
closes the stream's receiving end, which wakes an app blocked in ``send()``.
After that, a ``send()`` that would end the body is silently dropped (an app
that wraps up politely is not punished), but one that tries to continue the
body raises ``OSError`` (as ASGI HTTP spec 2.4, which the scope advertises,
asks of servers), so an endless generator that never listens for the
disconnect still stops. That error is not re-raised in the test.

``close()`` always waits for the app call to return, background work
included. An app that neither sends nor returns after a disconnect therefore
hangs the close, as it would hold a worker on a real server.

``websocket_connect`` runs the app the same way, on the same portal, with a
``WebSocketTestSession`` (``_websocket_session``) in place of the exchange.
"""

from __future__ import annotations

import base64
import os
import threading
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any, TypeVar, cast

import anyio

try:
    import httpx
except ImportError:  # pragma: no cover - tested in a subprocess without httpx
    raise ImportError(
        "microweb.testclient needs httpx, which TestClient is built on: "
        "pip install 'microweb-asgi[test]'"
    ) from None
from anyio.from_thread import BlockingPortal, start_blocking_portal

from microweb._websocket_session import WebSocketDenialResponse, WebSocketTestSession
from microweb.types import Message
from microweb.websockets import DENIAL_EXTENSION, ESCAPE_EXTENSION

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence
    from concurrent.futures import Future
    from types import TracebackType

    from microweb.types import ASGIApp, Scope

__all__ = ["TestClient", "WebSocketDenialResponse"]

# How many app messages may wait for the client before the app's send() blocks.
_BUFFER = 1
_DEFAULT_PORTS = {"http": 80, "https": 443}
_C = TypeVar("_C", bound="TestClient")


class _Disconnected(OSError):
    """Raised by send() when the app keeps streaming to a closed response."""


def _request_messages(chunks: Iterable[bytes]) -> Iterator[Message]:
    # Look one chunk ahead so the last chunk carries more_body=False (ASGI HTTP
    # "Request - receive event"); an empty body is one message with b"".
    pending: bytes | None = None
    for chunk in chunks:
        if chunk:
            if pending is not None:
                yield {"type": "http.request", "body": pending, "more_body": True}
            pending = chunk
    yield {"type": "http.request", "body": pending or b"", "more_body": False}


class _Exchange:
    """One request/response cycle; every method runs on the portal's loop."""

    def __init__(self, app: ASGIApp, scope: Scope, body: Iterable[bytes]) -> None:
        self._app, self._scope = app, scope
        self._requests = _request_messages(body)
        self._to_client, self._from_app = anyio.create_memory_object_stream[Message](_BUFFER)
        self._finished = anyio.Event()
        self._started = self._complete = self._client_gone = False
        self.error: Exception | None = None

    async def run(self) -> None:
        try:
            await self._app(self._scope, self._receive, self._send)
        except Exception as exc:
            self.error = exc
        finally:
            self._to_client.close()  # the client's next_message() sees the end

    async def _receive(self) -> Message:
        if not self._finished.is_set() and (message := next(self._requests, None)):
            return message
        await self._finished.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: Message) -> None:
        if self._client_gone:
            self._after_disconnect(message)
            return
        kind = message["type"]
        if not self._started:
            if kind != "http.response.start":
                raise RuntimeError(f"expected 'http.response.start', got {kind!r}")
            if not isinstance(message.get("status"), int):
                raise TypeError(f"response status must be an int, got {message.get('status')!r}")
            self._started = True
        elif self._complete or kind != "http.response.body":
            after = "the response completed" if self._complete else "'http.response.start'"
            raise RuntimeError(f"unexpected ASGI message {kind!r} after {after}")
        elif not message.get("more_body", False):
            self._complete = True
            self._finished.set()
        try:
            await self._to_client.send(message)
        except anyio.BrokenResourceError:
            # The client closed the response while we waited for room.
            self._after_disconnect(message)

    @staticmethod
    def _after_disconnect(message: Message) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            return
        raise _Disconnected("the client closed the response")

    async def next_message(self) -> Message | None:
        """The app's next message, or None once the app has returned."""
        try:
            return await self._from_app.receive()
        except anyio.EndOfStream:
            return None

    def disconnect(self) -> None:
        self._client_gone = not self._complete
        self._finished.set()
        self._from_app.close()


class _ResponseStream(httpx.SyncByteStream):
    """The body of one response, pulled from the app chunk by chunk."""

    def __init__(
        self,
        exchange: _Exchange,
        portal: BlockingPortal,
        app_call: Future[None],
        stack: ExitStack,
        raise_server_exceptions: bool,
    ) -> None:
        self._exchange, self._portal, self._app_call = exchange, portal, app_call
        self._stack, self._raise = stack, raise_server_exceptions

    def __iter__(self) -> Iterator[bytes]:
        while (message := self._portal.call(self._exchange.next_message)) is not None:
            if body := message.get("body", b""):
                yield body
            if not message.get("more_body", False):
                break

    def close(self) -> None:
        """Disconnect, wait for the app to return, then raise its error if asked."""
        try:
            self._portal.call(self._exchange.disconnect)
            self._app_call.result()
        finally:
            self._stack.close()  # stops the portal if this request started it
        error = self._exchange.error
        if self._raise and error is not None and not isinstance(error, _Disconnected):
            raise error


class _SessionPortal:
    """The portal the WebSocket sessions of a client outside ``with`` share.

    Started by the first session to open, stopped by the last to close; a
    request sent while one is open runs on it too. One event loop, as under
    a server: a handler that sends to another session's WebSocket puts the
    message on a stream of its own loop, whose reader is woken.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._running: AbstractContextManager[BlockingPortal] | None = None
        self._portal: BlockingPortal | None = None

    @property
    def is_open(self) -> bool:
        return self._users > 0

    @contextmanager
    def use(self) -> Iterator[BlockingPortal]:
        with self._lock:
            if self._portal is None:
                self._running = start_blocking_portal()
                self._portal = self._running.__enter__()
            self._users += 1
            portal = self._portal
        try:
            yield portal
        finally:
            with self._lock:
                self._users -= 1
                last, running = self._users == 0, self._running
                if last:
                    self._running = self._portal = None
            if last and running is not None:
                running.__exit__(None, None, None)


class _ASGITransport(httpx.BaseTransport):
    """Sends each httpx request to an ASGI app; see the module docstring."""

    def __init__(self, app: ASGIApp, raise_server_exceptions: bool, root_path: str) -> None:
        self.app = app
        self.raise_server_exceptions = raise_server_exceptions
        self.root_path = root_path
        # Set by TestClient.__enter__ for the duration of its block.
        self.portal: BlockingPortal | None = None
        self.sessions = _SessionPortal()  # outside the block, see its docstring
        self.state: dict[str, Any] = {}

    def session_portal(self) -> AbstractContextManager[BlockingPortal]:
        """The portal a WebSocket session runs on: the block's, else the shared one."""
        return nullcontext(self.portal) if self.portal is not None else self.sessions.use()

    def websocket_scope(
        self, url: httpx.URL, headers: httpx.Headers, subprotocols: list[str]
    ) -> Scope:
        """The ASGI scope of a WebSocket handshake to ``url``."""
        scheme = {"http": "ws", "https": "wss"}.get(url.scheme, url.scheme)
        extensions: dict[str, dict[str, Any]] = {DENIAL_EXTENSION: {}}
        if self.raise_server_exceptions:
            extensions[ESCAPE_EXTENSION] = {}  # hear of a WebSocketDisconnect the App let pass
        return {
            "type": "websocket",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "scheme": scheme,
            "server": (url.host, url.port or _DEFAULT_PORTS.get(url.scheme, 80)),
            "client": ("testclient", 50000),
            "root_path": self.root_path,
            "path": url.path,
            "raw_path": url.raw_path.split(b"?", 1)[0],
            "query_string": url.query,
            "headers": [(name.lower(), value) for name, value in headers.raw],
            "subprotocols": subprotocols,
            "state": dict(self.state),
            "extensions": extensions,
        }

    def _scope(self, request: httpx.Request) -> Scope:
        url = request.url
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": url.scheme,
            "server": (url.host, url.port or _DEFAULT_PORTS.get(url.scheme, 80)),
            "client": ("testclient", 50000),
            "root_path": self.root_path,
            "path": url.path,  # httpx has already percent-decoded it
            "raw_path": url.raw_path.split(b"?", 1)[0],  # httpx's raw_path has the query
            "query_string": url.query,
            "headers": [(name.lower(), value) for name, value in request.headers.raw],
            "state": dict(self.state),
            "extensions": {},
        }

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Run the app until it starts the response; the body streams from there."""
        with ExitStack() as stack:
            portal = self.portal or stack.enter_context(
                self.sessions.use() if self.sessions.is_open else start_blocking_portal()
            )
            # httpx.Client refuses async bodies before they reach a transport.
            body = cast("httpx.SyncByteStream", request.stream)
            exchange = portal.call(_Exchange, self.app, self._scope(request), body)
            app_call = portal.start_task_soon(exchange.run)
            start = portal.call(exchange.next_message)
            # From here on the response stream owns the portal and stops it on close.
            stream = _ResponseStream(
                exchange, portal, app_call, stack.pop_all(), self.raise_server_exceptions
            )
        if start is not None:
            return httpx.Response(start["status"], headers=start.get("headers"), stream=stream)
        # The app returned or raised before starting a response.
        stream.close()  # re-raises the app's error if raise_server_exceptions
        if self.raise_server_exceptions:
            raise RuntimeError("the ASGI app returned without sending 'http.response.start'")
        return httpx.Response(
            500,
            headers={"content-type": "text/plain; charset=utf-8"},
            content=b"Internal Server Error",
        )


class _Lifespan:
    """The server side of the ASGI lifespan protocol; runs on the portal's loop."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self.state: dict[str, Any] = {}
        self.error: Exception | None = None
        self._startup_sent = False
        self._supported = True
        self._shutdown = anyio.Event()
        self._replies, self._inbox = anyio.create_memory_object_stream[Message](1)

    async def run(self) -> None:
        asgi = {"version": "3.0", "spec_version": "2.0"}
        scope = {"type": "lifespan", "asgi": asgi, "state": self.state}
        try:
            await self._app(scope, self._receive, self._replies.send)
        except Exception as exc:
            self.error = exc
        finally:
            self._replies.close()

    async def _receive(self) -> Message:
        if not self._startup_sent:
            self._startup_sent = True
            return {"type": "lifespan.startup"}
        await self._shutdown.wait()
        return {"type": "lifespan.shutdown"}

    async def _expect(self, phase: str) -> bool:
        """Wait for the app's reply to a phase; False if the app ended instead."""
        try:
            reply = await self._inbox.receive()
        except anyio.EndOfStream:
            return False
        if reply["type"] == f"lifespan.{phase}.failed":
            raise RuntimeError(f"lifespan {phase} failed: {reply.get('message', '')}")
        if reply["type"] != f"lifespan.{phase}.complete":
            raise RuntimeError(f"unexpected ASGI message {reply['type']!r} during {phase}")
        return True

    async def startup(self) -> None:
        # Like servers in "auto" mode: an app that returns or raises before
        # completing startup does not speak lifespan, and requests go ahead.
        self._supported = await self._expect("startup")

    async def shutdown(self) -> None:
        if self._supported:
            self._shutdown.set()
            if not await self._expect("shutdown") and self.error is not None:
                raise self.error

    def close(self) -> None:
        self._inbox.close()


def _handshake_headers(
    subprotocols: Sequence[str] | None, headers: Mapping[str, str] | None
) -> httpx.Headers:
    """The headers a browser's handshake carries (RFC 6455 4.1); the test's own win."""
    handshake = {
        "connection": "upgrade",
        "upgrade": "websocket",
        "sec-websocket-key": base64.b64encode(os.urandom(16)).decode(),
        "sec-websocket-version": "13",
    }
    if subprotocols:
        handshake["sec-websocket-protocol"] = ", ".join(subprotocols)
    merged = httpx.Headers(handshake)
    merged.update(headers or {})  # by name, whatever its case
    return merged


class TestClient(httpx.Client):
    """An ``httpx.Client`` that calls an ASGI app in-process.

    ``raise_server_exceptions`` re-raises an exception from the app in the test
    (the default); when false, an error before the response started becomes a
    500 ``Internal Server Error`` and an error later cuts the body short.
    ``root_path`` is passed through to the scope; request URLs stay as given.
    Requests carry ``user-agent: testclient`` unless ``headers`` say otherwise
    (Starlette's habit, so tests written for it keep their expectations).

    Use it as a context manager to run the app's lifespan around the block::

        with TestClient(app) as client:
            assert client.get("/").status_code == 200
    """

    __test__ = False  # not a pytest test class, despite the name

    def __init__(
        self,
        app: ASGIApp,
        base_url: str = "http://testserver",
        raise_server_exceptions: bool = True,
        root_path: str = "",
        headers: Mapping[str, str] | None = None,
        follow_redirects: bool = True,
        cookies: httpx.Cookies | dict[str, str] | None = None,
    ) -> None:
        self._asgi = _ASGITransport(app, raise_server_exceptions, root_path)
        self._stack = ExitStack()
        super().__init__(
            base_url=base_url,
            headers={"user-agent": "testclient", **(headers or {})},
            cookies=cookies,
            follow_redirects=follow_redirects,
            transport=self._asgi,
        )

    def websocket_connect(
        self,
        url: str,
        subprotocols: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> WebSocketTestSession:
        """Open a WebSocket to the app at ``url``; use the session as a context manager::

            with client.websocket_connect("/ws") as websocket:
                websocket.send_text("hello")
                assert websocket.receive_text() == "hello"

        Entering it runs the handshake: it raises ``WebSocketDenialResponse``
        (an ``httpx.Response``) when the app denies it with an HTTP response,
        ``WebSocketDisconnect`` when the app closes before accepting. Leaving
        it closes the connection (1000) and waits for the app to return; an
        error the app raised is raised there (``raise_server_exceptions``).
        """
        request = self.build_request("GET", url, headers=_handshake_headers(subprotocols, headers))
        scope = self._asgi.websocket_scope(request.url, request.headers, list(subprotocols or ()))
        return WebSocketTestSession(
            self._asgi.app, scope, self._asgi.session_portal, self._asgi.raise_server_exceptions
        )

    def __enter__(self: _C) -> _C:
        """Start the portal and run lifespan startup.

        Raises ``RuntimeError`` if the app reports ``lifespan.startup.failed``.
        """
        super().__enter__()
        with ExitStack() as stack:
            portal = stack.enter_context(start_blocking_portal())
            lifespan = portal.call(_Lifespan, self._asgi.app)
            stack.callback(portal.call, lifespan.close)
            portal.start_task_soon(lifespan.run)
            portal.call(lifespan.startup)
            stack.callback(portal.call, lifespan.shutdown)
            self._asgi.portal, self._asgi.state = portal, lifespan.state
            self._stack = stack.pop_all()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc_value: BaseException | None = None,
        traceback: TracebackType | None = None,
    ) -> None:
        """Run lifespan shutdown and stop the portal; raises if shutdown failed."""
        self._asgi.portal, self._asgi.state = None, {}
        try:
            self._stack.close()
        finally:
            super().__exit__(exc_type, exc_value, traceback)
