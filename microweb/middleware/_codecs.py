"""Content codings (RFC 9110 §8.4.1) as streaming encoders: gzip, br, zstd.

Each encoder takes a response body piece by piece. ``chunk`` compresses a
piece and *flushes*: whatever it returns decompresses to every byte given so
far, so a streamed chunk reaches the client when the app sends it, not when
the compressor's window fills (the flush costs a few bytes a chunk).
``last`` compresses the final piece and ends the stream.

gzip is zlib's, always there. ``br`` needs the ``brotli`` package (the
``microweb[brotli]`` extra); ``zstd`` is the standard library's
``compression.zstd`` on Python 3.14, else the ``zstandard`` package (the
``microweb[zstd]`` extra). A coding whose library is missing is not offered.
"""

from __future__ import annotations

import importlib
import zlib
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["ENCODERS", "Encoder", "available", "gzip_encoder"]


class Encoder(Protocol):
    def chunk(self, data: bytes) -> bytes: ...

    def last(self, data: bytes) -> bytes: ...


class _Gzip:
    __slots__ = ("_zlib",)

    def __init__(self, level: int) -> None:
        # wbits 16 + 15: the gzip wrapper (RFC 1952) around a 32 KiB-window deflate.
        self._zlib = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)

    def chunk(self, data: bytes) -> bytes:
        return self._zlib.compress(data) + self._zlib.flush(zlib.Z_SYNC_FLUSH)

    def last(self, data: bytes) -> bytes:
        return self._zlib.compress(data) + self._zlib.flush(zlib.Z_FINISH)


class _Brotli:
    __slots__ = ("_brotli",)

    def __init__(self, module: Any) -> None:
        # Quality 4: brotli's default (11) is for static files; 4 compresses a
        # dynamic response better than gzip at gzip's speed.
        self._brotli = module.Compressor(quality=4)

    def chunk(self, data: bytes) -> bytes:
        return bytes(self._brotli.process(data) + self._brotli.flush())

    def last(self, data: bytes) -> bytes:
        return bytes(self._brotli.process(data) + self._brotli.finish())


class _StdlibZstd:
    """Python 3.14's ``compression.zstd``."""

    __slots__ = ("_module", "_zstd")

    def __init__(self, module: Any) -> None:
        self._module = module
        self._zstd = module.ZstdCompressor(level=3)

    def chunk(self, data: bytes) -> bytes:
        return bytes(self._zstd.compress(data, mode=self._module.ZstdCompressor.FLUSH_BLOCK))

    def last(self, data: bytes) -> bytes:
        return bytes(self._zstd.compress(data, mode=self._module.ZstdCompressor.FLUSH_FRAME))


class _Zstandard:
    """The ``zstandard`` package."""

    __slots__ = ("_module", "_zstd")

    def __init__(self, module: Any) -> None:
        self._module = module
        self._zstd = module.ZstdCompressor(level=3).compressobj()

    def chunk(self, data: bytes) -> bytes:
        compressed = self._zstd.compress(data)
        return bytes(compressed + self._zstd.flush(self._module.COMPRESSOBJ_FLUSH_BLOCK))

    def last(self, data: bytes) -> bytes:
        return bytes(self._zstd.compress(data) + self._zstd.flush())


def _import(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def gzip_encoder(level: int) -> Callable[[], Encoder]:
    """A factory of gzip encoders at zlib ``level`` (0 to 9)."""
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 9:
        raise ValueError(f"compresslevel must be an int from 0 to 9, got {level!r}")
    return lambda: _Gzip(level)


def _brotli_encoder() -> Callable[[], Encoder] | None:
    module = _import("brotli")
    return None if module is None else (lambda: _Brotli(module))


def _zstd_encoder() -> Callable[[], Encoder] | None:
    module = _import("compression.zstd")
    if module is not None:  # pragma: no cover - Python 3.14
        return lambda: _StdlibZstd(module)
    module = _import("zstandard")
    return None if module is None else (lambda: _Zstandard(module))


#: Every coding microweb knows, and how to find its encoder (None: not installed).
ENCODERS: dict[str, Callable[[], Callable[[], Encoder] | None]] = {
    "gzip": lambda: gzip_encoder(6),
    "br": _brotli_encoder,
    "zstd": _zstd_encoder,
}


def available(names: tuple[str, ...]) -> dict[str, Callable[[], Encoder]]:
    """The encoder factories of ``names`` whose library is installed, in that order."""
    for name in names:
        if name not in ENCODERS:
            raise ValueError(
                f"unknown content coding {name!r}; expected some of {', '.join(ENCODERS)}"
            )
    found = {}
    for name in names:
        factory = ENCODERS[name]()
        if factory is not None:
            found[name] = factory
    return found
