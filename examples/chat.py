"""A chat room: a WebSocket per browser tab, and a Server-Sent Events feed of who is online.

Serve it with ``uvicorn examples.chat:app`` and open http://127.0.0.1:8000/
in two browser tabs. With several workers (``--workers 2``) or machines,
give them a Redis to share: ``CHAT_REDIS_URL=redis://127.0.0.1:6379/0``;
without it the room lives in one process (examples/broadcast.py).
``CHAT_QUEUE_SIZE`` (default 100) is how many messages a client may fall
behind before it is closed with 1013 ("try again later").

- ``GET /``: the page (plain HTML and a little JavaScript).
- ``/ws?name=ada``: the WebSocket; without ``name`` the first message is
  the name. The server first sends ``{"type": "welcome", "name", "pid"}``
  (``pid``: the worker's process), then every message of the room as
  ``{"type": "message", "name", "text"}``. Each text frame a client sends
  is a message to the room.
- ``GET /online``: an event stream; each ``online`` event is the sorted list
  of the names online, sent on connecting and on every join and leave.
- ``GET /whoami``: ``{"pid": ...}``, the worker that answered.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import AsyncIterator

import anyio

from examples.broadcast import (
    PRESENCE,
    Broadcaster,
    SubscriberTooSlow,
    Subscription,
    create_broadcaster,
)
from microweb import App
from microweb.responses import EventSourceResponse, HTMLResponse, ServerSentEvent
from microweb.websockets import WebSocket, WebSocketDisconnect

__all__ = ["app", "create_app"]

#: The room's channel; the presence channel is examples.broadcast.PRESENCE.
ROOM = "room"
MAX_NAME = 32
MAX_TEXT = 2000
#: RFC 6455 §7.4.1 (IANA registry): "Try Again Later".
TRY_AGAIN_LATER = 1013

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>chat</title>
<style>
  body { font-family: sans-serif; display: flex; gap: 2em; }
  #log { list-style: none; padding: 0; min-width: 20em; }
  #online { min-width: 8em; }
</style>
</head>
<body>
<main>
  <form id="join">
    <input id="name" placeholder="your name" maxlength="32" required>
    <button>join</button>
  </form>
  <form id="say" hidden>
    <input id="text" placeholder="a message" maxlength="2000" autocomplete="off" required>
    <button>send</button>
  </form>
  <p id="status">not connected</p>
  <ul id="log"></ul>
</main>
<aside><h2>online</h2><ul id="online"></ul></aside>
<script>
  const $ = (id) => document.getElementById(id);
  const online = new EventSource("/online");
  online.addEventListener("online", (event) => {
    $("online").replaceChildren(...JSON.parse(event.data).map((name) => {
      const item = document.createElement("li");
      item.textContent = name;
      return item;
    }));
  });
  let socket = null;
  $("join").addEventListener("submit", (event) => {
    event.preventDefault();
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const name = encodeURIComponent($("name").value);
    socket = new WebSocket(`${scheme}//${location.host}/ws?name=${name}`);
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "welcome") {
        $("status").textContent = `connected as ${message.name}`;
        $("join").hidden = true;
        $("say").hidden = false;
        return;
      }
      const item = document.createElement("li");
      item.textContent = `${message.name}: ${message.text}`;  // text, never HTML
      $("log").append(item);
    });
    socket.addEventListener("close", (event) => {
      $("status").textContent = `disconnected (${event.code})`;
      $("join").hidden = false;
      $("say").hidden = true;
    });
  });
  $("say").addEventListener("submit", (event) => {
    event.preventDefault();
    socket.send($("text").value);
    $("text").value = "";
  });
</script>
</body>
</html>
"""


def create_app(redis_url: str | None = None, *, queue_size: int = 100) -> App:
    """The chat app over Redis at ``redis_url``, or in this process without one."""
    broadcaster = create_broadcaster(redis_url, queue_size=queue_size)

    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[None]:
        async with broadcaster:  # connects to Redis, and disconnects on shutdown
            yield

    app = App(lifespan=lifespan)
    app.state.broadcaster = broadcaster

    @app.get("/", response_class=HTMLResponse)
    async def page() -> str:
        return PAGE

    @app.get("/whoami")
    async def whoami() -> dict[str, int]:
        return {"pid": os.getpid()}

    @app.websocket("/ws")
    async def chat(websocket: WebSocket, name: str | None = None) -> None:
        await websocket.accept()
        if name is None:
            name = await websocket.receive_text()
        name = name.strip()[:MAX_NAME]
        if not name:
            await websocket.close(1008, "a name is needed")
            return
        async with broadcaster.subscribe(ROOM) as messages, broadcaster.member(name):
            welcome = {"type": "welcome", "name": name, "pid": os.getpid()}
            await websocket.send_json(welcome)
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(_relay, messages, websocket, tasks.cancel_scope)
                await _speak(websocket, broadcaster, name)
                tasks.cancel_scope.cancel()  # the client left: stop relaying

    @app.get("/online", response_class=EventSourceResponse)
    async def who_is_online() -> AsyncIterator[ServerSentEvent]:
        return _presence(broadcaster)

    return app


async def _speak(websocket: WebSocket, broadcaster: Broadcaster, name: str) -> None:
    """Publish what the client says to the room, until it leaves."""
    async for text in websocket.iter_text():
        if text := text.strip()[:MAX_TEXT]:
            message = {"type": "message", "name": name, "text": text}
            await broadcaster.publish(ROOM, json.dumps(message))


async def _relay(messages: Subscription, websocket: WebSocket, done: anyio.CancelScope) -> None:
    """Send the room's messages to the client; close it with 1013 if it falls behind."""
    try:
        async for message in messages:
            await websocket.send_text(message)
    except SubscriberTooSlow:
        with contextlib.suppress(WebSocketDisconnect):  # it may have gone meanwhile
            await websocket.close(TRY_AGAIN_LATER, "too slow: try again later")
    except WebSocketDisconnect:
        pass  # gone while we sent; _speak sees it too
    done.cancel()


async def _presence(broadcaster: Broadcaster) -> AsyncIterator[ServerSentEvent]:
    """The names online, now and after every join and leave."""
    async with broadcaster.subscribe(PRESENCE) as changes:
        yield ServerSentEvent(await broadcaster.online(), event="online")
        try:
            async for _ in changes:
                yield ServerSentEvent(await broadcaster.online(), event="online")
        except SubscriberTooSlow:
            return  # the stream ends; the browser's EventSource reconnects


app = create_app(
    os.environ.get("CHAT_REDIS_URL") or None,
    queue_size=int(os.environ.get("CHAT_QUEUE_SIZE", "100")),
)
