"""GZipMiddleware: CompressionMiddleware offering gzip alone, at a chosen level."""

from __future__ import annotations

from microweb.middleware._codecs import gzip_encoder
from microweb.middleware.compression import CompressionMiddleware
from microweb.types import ASGIApp

__all__ = ["GZipMiddleware"]


class GZipMiddleware(CompressionMiddleware):
    """Compress responses with gzip when the client accepts it (Starlette's arguments).

    ``compresslevel`` is zlib's, 0 to 9; the rules are CompressionMiddleware's:
    streams are flushed chunk by chunk, SSE, ranges, HEAD and small bodies
    pass untouched.
    """

    def __init__(self, app: ASGIApp, minimum_size: int = 500, compresslevel: int = 9) -> None:
        super().__init__(app, minimum_size, encodings=("gzip",))
        self._encoders = {"gzip": gzip_encoder(compresslevel)}
