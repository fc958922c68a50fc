"""The response class hierarchy. Every response is an ASGI app.

    Response                  bytes or str as they are                         (_base)
    ├── JSONResponse          compact JSON, byte-identical to the stdlib's     (_simple)
    │   ├── ORJSONResponse    orjson's own output, numpy and non-str keys allowed
    │   └── UJSONResponse     ujson (the ``microweb[ujson]`` extra)
    ├── HTMLResponse          text/html
    ├── PlainTextResponse     text/plain
    ├── RedirectResponse      a ``location`` and no body (307 by default)
    └── StreamingBase         a body sent over time (private)                  (_stream)
        ├── StreamingResponse   chunks of an iterable                          (_streaming)
        │   └── EventSourceResponse   Server-Sent Events                       (_sse)
        └── FileResponse        a file, with ranges and conditional requests   (_files)

Imports point one way, from the base up (``_stream`` is the machinery the
streamed responses share: ``run_stream``, ``Transmission``)::

    _base <- _simple
    _base <- _stream <- _streaming <- _sse
             _stream <- _files (with _simple's PlainTextResponse for a 400)

This package only re-exports; no child imports it.
"""

from __future__ import annotations

from microweb._paths import safe_path
from microweb.responses._base import BODYLESS_STATUSES as BODYLESS_STATUSES
from microweb.responses._base import HeadersInput as HeadersInput
from microweb.responses._base import Response
from microweb.responses._files import FileResponse
from microweb.responses._simple import (
    HTMLResponse,
    JSONResponse,
    ORJSONResponse,
    PlainTextResponse,
    RedirectResponse,
    UJSONResponse,
)
from microweb.responses._sse import EventSourceResponse, ServerSentEvent
from microweb.responses._streaming import StreamingResponse

__all__ = [
    "EventSourceResponse",
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "ORJSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "ServerSentEvent",
    "StreamingResponse",
    "UJSONResponse",
    "safe_path",
]
