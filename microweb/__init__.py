"""microweb: a minimal, fast ASGI micro web framework."""

from __future__ import annotations

from microweb.applications import App
from microweb.background import BackgroundTask, BackgroundTasks
from microweb.datastructures import UploadFile
from microweb.exceptions import HTTPException
from microweb.requests import Request
from microweb.responses import (
    EventSourceResponse,
    FileResponse,
    HTMLResponse,
    JSONResponse,
    ORJSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    ServerSentEvent,
    StreamingResponse,
    UJSONResponse,
    safe_path,
)
from microweb.routing import Router

__version__ = "0.1.0.dev0"

__all__ = [
    "App",
    "BackgroundTask",
    "BackgroundTasks",
    "EventSourceResponse",
    "FileResponse",
    "HTMLResponse",
    "HTTPException",
    "JSONResponse",
    "ORJSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Request",
    "Response",
    "Router",
    "ServerSentEvent",
    "StreamingResponse",
    "UJSONResponse",
    "UploadFile",
    "__version__",
    "safe_path",
]
