"""Background tasks: work that runs after the response is sent.

Serve it with ``uvicorn examples.background:app``;
docs/tutorial/background.md shows what to try.
"""

from __future__ import annotations

import logging

from microweb import App, BackgroundTasks

app = App()
# uvicorn sets up its own loggers only: without this, INFO lines of the app's
# loggers (and microweb's) would not show in the server's output.
logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
logger = logging.getLogger("examples.background")

# Stands in for a mail server or a queue. It lives in this one process, so
# it is for the demo only: with several workers, state goes in a database.
OUTBOX: list[str] = []


def send_welcome_mail(address: str) -> None:
    # A sync function runs in a worker thread, so it may block.
    OUTBOX.append(f"welcome mail to {address}")


async def audit(event: str, address: str) -> None:
    # An async function is awaited on the event loop.
    logger.info("%s: %s", event, address)


@app.post("/signup", status_code=202)
async def signup(email: str, tasks: BackgroundTasks) -> dict[str, str]:
    tasks.add_task(send_welcome_mail, email)  # run in order, after the response
    tasks.add_task(audit, "signup", email)
    return {"status": "signed up", "email": email}


@app.get("/outbox")
async def outbox() -> dict[str, list[str]]:
    return {"sent": OUTBOX}
