"""WebSockets: an echo, chat rooms, and a clock that pushes ticks.

Serve it with ``uvicorn examples.rooms:app`` and open http://127.0.0.1:8000/
in two browser tabs; docs/tutorial/websockets.md shows what to try.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import anyio

from microweb import App
from microweb.exceptions import WebSocketException
from microweb.params import Depends, Query
from microweb.responses import HTMLResponse
from microweb.websockets import WebSocket, WebSocketDisconnect

app = App()

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>lobby</title></head>
<body>
<form id="say"><input id="text" autocomplete="off"> <button>Send</button></form>
<ul id="log"></ul>
<script>
  const nick = prompt("Your nickname?") || "guest";
  const socket = new WebSocket(
    `ws://${location.host}/rooms/lobby?nick=${encodeURIComponent(nick)}`);
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    const item = document.createElement("li");
    item.textContent = `${message.from}: ${message.text}`;
    document.getElementById("log").append(item);
  };
  socket.onclose = (event) => alert(`closed: ${event.code} ${event.reason}`);
  document.getElementById("say").onsubmit = (event) => {
    event.preventDefault();
    socket.send(document.getElementById("text").value);
    document.getElementById("text").value = "";
  };
</script>
</body>
</html>
"""

# The open connections of each room. One process's memory: with several
# workers each would have its own rooms (a broker such as Redis joins them).
ROOMS: dict[str, set[WebSocket]] = {}


@app.get("/", response_class=HTMLResponse)
async def index() -> str:
    return PAGE


@app.websocket("/echo")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    async for text in websocket.iter_text():  # ends when the client closes
        await websocket.send_text(text)


def nickname(nick: Annotated[str, Query(min_length=1, max_length=20)]) -> str:
    if nick.lower() == "server":
        raise WebSocketException(1008, "that nickname is taken")
    return nick


async def broadcast(room: str, message: dict[str, Any]) -> None:
    members = ROOMS.get(room, set())
    for member in list(members):
        try:
            await member.send_json(message)
        except WebSocketDisconnect:  # that one has just left
            members.discard(member)


@app.websocket("/rooms/{room}")
async def chat(websocket: WebSocket, room: str, nick: Annotated[str, Depends(nickname)]) -> None:
    await websocket.accept()
    ROOMS.setdefault(room, set()).add(websocket)
    try:
        await broadcast(room, {"from": "server", "text": f"{nick} joined"})
        async for text in websocket.iter_text():
            await broadcast(room, {"from": nick, "text": text})
    finally:
        ROOMS[room].discard(websocket)
        await broadcast(room, {"from": "server", "text": f"{nick} left"})


@app.websocket("/clock")
async def clock(
    ticks: Annotated[int, Query(ge=1, le=60)] = 3, every: float = 1.0
) -> AsyncIterator[dict[str, int]]:
    for n in range(1, ticks + 1):
        yield {"tick": n}
        await anyio.sleep(every)
