"""``StaticFiles``: an ASGI app that serves a folder of files.

Theory of operation
-------------------

One request goes:

1. **method**: GET and HEAD only; anything else is a 405 with ``allow``.
2. **path**: the request path less the ``root_path`` (a mount's prefix, or
   the server's ``--root-path``), as the server percent-decoded it once.
   The text is refused (404) before the disk is touched when it holds a
   NUL byte or a backslash, or a ``..`` segment (``_paths.leaves_base``).
   Leading slashes are dropped, so it is always relative.
3. **the 304 cache**: a request with ``If-None-Match`` or
   ``If-Modified-Since`` for a name (and ``Accept-Encoding``) whose lookup
   found a file under ``stat_cache`` seconds ago is compared with that
   file's stat; if the client's copy matches, the 304 is sent at once, on
   the event loop. Any other outcome goes on to the lookup: the cache
   answers 304s only, never a body, a 412 or a 404. Filled by the lookups
   of conditional requests; at most ``_RECENT_LIMIT`` names (emptied when
   full).
4. **lookup**, in one worker-thread hop, in each directory in turn (the
   ``directory``, then each package's folder, resolved once when the
   ``StaticFiles`` is made): each segment of the path is ``lstat``-ed; a
   symlink on the way sends the whole path through ``realpath``, and the
   result must still lie inside the folder unless ``follow_symlink`` (a
   symlink out is then a 404, never a file outside). A regular file is
   served; with ``html=True`` a folder serves its ``index.html`` (a folder
   named without its trailing slash is redirected to the slashed URL
   first, so relative links in the page resolve). A GET without
   validators also opens the file in that hop.
5. **fallback**: a path not found whose last segment has no extension
   serves ``fallback`` (a single-page app's ``index.html``) with 200; with
   ``html=True``, a ``404.html`` is served with status 404; else a plain 404.
6. **precompressed siblings**: when ``NAME.br``, ``NAME.zst`` or ``NAME.gz``
   lies beside the file, ``Accept-Encoding`` picks one by q-values (the
   compression middleware's ``negotiate``); it is sent with
   ``content-encoding`` and the original's media type. Every answer for a
   file that has siblings carries ``vary: accept-encoding``, a request
   without ``Accept-Encoding`` (which gets the file itself) included, so a
   shared cache never hands one answer to every client. Only an empty
   ``Accept-Encoding`` (identity only) skips the siblings altogether.

The answer itself is a ``FileResponse`` (inline, no content-disposition),
which does ETag, Last-Modified, 304, 412 and byte ranges.
"""

from __future__ import annotations

import importlib.util
import mimetypes
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from time import monotonic
from typing import Any, NamedTuple

from microweb._paths import leaves_base
from microweb.concurrency import run_in_threadpool
from microweb.middleware.compression import negotiate
from microweb.responses import FileResponse, PlainTextResponse, RedirectResponse
from microweb.responses._base import send_empty
from microweb.types import Receive, Scope, Send
from microweb.websockets import WebSocketClose

__all__ = ["StaticFiles"]

# The coding names of Accept-Encoding, in order of preference on a tie, and
# the suffix of the sibling file holding that coding.
_SIBLINGS: dict[str, str] = {"br": ".br", "zstd": ".zst", "gzip": ".gz"}

# The request fields that may make the answer a 304 (no body: the file is not opened).
_CONDITIONAL = (b"if-none-match", b"if-modified-since")

# The ASGI extension with which the server sends a file itself (FileResponse uses it).
_PATHSEND = "http.response.pathsend"

# How many files the 304 cache holds at most (it is emptied when full).
_RECENT_LIMIT = 1024


def _relative(path: str, root_path: str) -> str:
    """``path`` less ``root_path`` (ASGI: ``path`` includes it), at a segment boundary only."""
    root_path = root_path.rstrip("/")
    if root_path and (path == root_path or path.startswith(f"{root_path}/")):
        return path[len(root_path) :]
    return path


class _Found(NamedTuple):
    """A file the lookup found, and how to send it."""

    path: str
    stat: os.stat_result
    status: int
    media_type: str
    encoding: str | None
    vary: bool
    fd: int | None = None  # opened by the lookup, for a GET that reads it


class _Redirect:
    """The lookup's answer for a folder named without its trailing slash."""


_REDIRECT = _Redirect()


class StaticFiles:
    """Serve the files under ``directory`` (and/or ``packages``) by their URL path.

    ::

        app.mount("/static", StaticFiles(directory="static"), name="static")

    - ``packages``: a list of package names (their ``statics`` folder) or
      ``(package, folder)`` pairs, searched after ``directory``.
    - ``html``: a folder serves its ``index.html`` and a missing file the
      ``404.html`` (status 404) when there is one.
    - ``check_dir``: raise ``RuntimeError`` now if ``directory`` is missing.
    - ``follow_symlink``: serve symlinks that point out of the folder
      (by default they are a 404).
    - ``fallback``: a file (``"index.html"``) served for unknown paths
      without an extension, for a single-page app.
    - ``cache_control``: the ``cache-control`` value sent with every file.
    - ``stat_cache``: for how many seconds (1.0) a file's stat answers
      conditional requests with 304 on the event loop, without a worker
      thread or the disk; a 304 may then be up to that old. ``0`` looks at
      the disk for every request. A body is always sent from a fresh stat.
    """

    def __init__(
        self,
        *,
        directory: str | os.PathLike[str] | None = None,
        packages: Sequence[str | tuple[str, str]] | None = None,
        html: bool = False,
        check_dir: bool = True,
        follow_symlink: bool = False,
        fallback: str | None = None,
        cache_control: str | None = None,
        stat_cache: float = 1.0,
    ) -> None:
        if directory is None and not packages:
            raise ValueError("StaticFiles needs a directory or packages, got neither")
        if fallback is not None and leaves_base(fallback):
            raise ValueError(f"fallback must be a path inside the directory, got {fallback!r}")
        self.directory = directory
        self.packages = packages
        self.html = html
        self.follow_symlink = follow_symlink
        self.fallback = fallback
        self.cache_control = cache_control
        if not stat_cache >= 0:  # NaN too
            raise ValueError(f"stat_cache must be a number of seconds >= 0, got {stat_cache!r}")
        self.stat_cache = stat_cache
        # (path, Accept-Encoding) -> (until when, the 200's FileResponse), for 304s.
        self._recent: dict[tuple[str, str | None], tuple[float, FileResponse]] = {}
        # A version of a file (what was found, and its stat) -> the FileResponse sending it.
        self._responses: dict[tuple[Any, ...], FileResponse] = {}
        self.all_directories = self._directories(directory, packages)
        # perf: each folder resolved once, here, not twice per file looked at
        # (strace, one GET: 33 stat calls down to 4 with Accept-Encoding, 1 without).
        self._bases = [
            os.path.abspath(base) if follow_symlink else os.path.realpath(base)
            for base in self.all_directories
        ]
        if check_dir and directory is not None and not os.path.isdir(directory):
            raise RuntimeError(f"Directory {os.fspath(directory)!r} does not exist")

    @staticmethod
    def _directories(
        directory: str | os.PathLike[str] | None,
        packages: Sequence[str | tuple[str, str]] | None,
    ) -> list[Path]:
        found = [] if directory is None else [Path(directory)]
        for package in packages or ():
            name, folder = (package, "statics") if isinstance(package, str) else package
            spec = importlib.util.find_spec(name)
            if spec is None or spec.origin is None:
                raise ValueError(f"package {name!r} was not found or is not a regular package")
            path = Path(spec.origin).parent / folder
            if not path.is_dir():
                raise ValueError(f"package {name!r} has no folder {folder!r}")
            found.append(path)
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await WebSocketClose()(scope, receive, send)  # no files here: the server answers 403
            return
        if scope["type"] != "http":
            raise RuntimeError(f"StaticFiles serves HTTP only, got a {scope['type']!r} scope")
        if scope["method"] not in ("GET", "HEAD"):
            refusal = PlainTextResponse(
                "Method Not Allowed", status_code=405, headers={"allow": "GET, HEAD"}
            )
            await refusal(scope, receive, send)
            return
        path: str = scope["path"]
        relative = _relative(path, scope.get("root_path", ""))
        codings: list[str] = []
        conditional = False
        for name, value in scope["headers"]:
            if name == b"accept-encoding":
                codings.append(value.decode("latin-1"))
            elif name in _CONDITIONAL:
                conditional = True
        # RFC 9110 §5.3: repeated list fields combine. None: the field is absent.
        accept = ", ".join(codings) if codings else None
        # perf: a GET that will read the file (no validators: most likely no
        # 304) opens it in the lookup's hop, not a second (4k.bin: 4.2x -> 1.9x raw).
        read = (
            scope["method"] == "GET"
            and not conditional
            and _PATHSEND not in scope.get("extensions", {})
        )
        name = relative.lstrip("/")
        if conditional and self._recent:
            # perf: a file looked at under stat_cache seconds ago answers a 304
            # here, with no thread hop and no stat (4k.bin's 304: 175 -> 9 µs,
            # BlackSheep 21). Only names that passed leaves_base and the
            # lookup are ever stored, so the text check can come after.
            entry = self._recent.get((name, accept))
            if entry is not None and entry[0] > monotonic():
                headers = entry[1]._not_modified(scope)
                if headers is not None:
                    await send_empty(send, 304, headers)
                    return
        found = None
        if not leaves_base(relative):
            found = await run_in_threadpool(self._find, name, accept, read)
        if found is None:
            await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)
        elif isinstance(found, _Redirect):
            query = scope.get("query_string", b"").decode("latin-1")
            location = path + "/" + (f"?{query}" if query else "")
            await RedirectResponse(location, status_code=307)(scope, receive, send)
        elif found.fd is None:
            response = self._file_response(found)
            if conditional and found.status == 200 and self.stat_cache:
                self._remember((name, accept), response)
            await response(scope, receive, send)
        else:
            try:
                response = self._file_response(found)
                await response._answer(scope, receive, send, found.stat, found.fd)
            finally:
                os.close(found.fd)  # perf: a read-only descriptor closes at once: no hop

    def _remember(self, key: tuple[str, str | None], response: FileResponse) -> None:
        """Keep ``response`` to answer 304s for ``key`` during ``stat_cache`` seconds."""
        if len(self._recent) >= _RECENT_LIMIT:
            self._recent.clear()  # simpler than an LRU: a few lookups refill it
        self._recent[key] = (monotonic() + self.stat_cache, response)

    def _file_response(self, found: _Found) -> FileResponse:
        """The ``FileResponse`` for ``found``: made once for each version of a file.

        A response depends only on what the lookup found and the file's stat
        (its headers hold the size, date and etag), and a request never
        changes it, so the same one answers until the file changes.
        """
        result = found.stat
        key = (
            found.path,
            found.status,
            found.media_type,
            found.encoding,
            found.vary,
            result.st_ino,
            result.st_dev,
            result.st_size,
            result.st_mtime_ns,
        )
        # perf: the headers (last-modified, etag, ...) are not made again for
        # each request of an unchanged file (4k.bin, in-process: see docs/benchmarks-history.md).
        response = self._responses.get(key)
        if response is None:
            response = self._new_response(found)
            if len(self._responses) >= _RECENT_LIMIT:
                self._responses.clear()  # as for _recent
            self._responses[key] = response
        return response

    def _new_response(self, found: _Found) -> FileResponse:
        headers: dict[str, str] = {}
        if self.cache_control is not None:
            headers["cache-control"] = self.cache_control
        if found.encoding is not None:
            headers["content-encoding"] = found.encoding
        if found.vary:
            headers["vary"] = "accept-encoding"
        return FileResponse(
            found.path,
            status_code=found.status,
            headers=headers,
            media_type=found.media_type,
            stat_result=found.stat,
        )

    def _find(self, relative: str, accept: str | None, read: bool) -> _Found | _Redirect | None:
        """``_lookup``, the file opened too when ``read`` (run in a worker thread)."""
        found = self._lookup(relative, accept)
        if not read or not isinstance(found, _Found):
            return found
        try:
            fd = os.open(found.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except OSError:  # removed meanwhile: FileResponse says so
            return found
        try:
            result = os.fstat(fd)  # the headers describe what is read
        except BaseException:
            os.close(fd)
            raise
        if not stat.S_ISREG(result.st_mode):
            os.close(fd)
            return found
        return found._replace(stat=result, fd=fd)

    def _lookup(self, relative: str, accept: str | None) -> _Found | _Redirect | None:
        """What to send for ``relative`` (run in a worker thread: it touches the disk)."""
        for base in self._bases:
            probed = self._probe(base, relative)
            if probed is None:
                continue
            path, result = probed
            if stat.S_ISREG(result.st_mode):
                return self._file(base, relative, path, result, 200, accept)
            if self.html and stat.S_ISDIR(result.st_mode):
                if relative and not relative.endswith("/"):
                    return _REDIRECT
                index_name = f"{relative}index.html"
                index = self._probe(base, index_name)
                if index is not None and stat.S_ISREG(index[1].st_mode):
                    return self._file(base, index_name, *index, 200, accept)
        if self.fallback is not None and "." not in relative.rsplit("/", 1)[-1]:
            found = self._first(self.fallback, 200, accept)
            if found is not None:
                return found
        if self.html:
            return self._first("404.html", 404, accept)
        return None

    def _first(self, name: str, status: int, accept: str | None) -> _Found | None:
        for base in self._bases:
            probed = self._probe(base, name)
            if probed is not None and stat.S_ISREG(probed[1].st_mode):
                return self._file(base, name, *probed, status, accept)
        return None

    def _probe(self, base: str, relative: str) -> tuple[str, os.stat_result] | None:
        """``base/relative`` and its stat, if it exists and stays inside ``base``.

        ``base`` is resolved and ``relative`` has no ``..`` segment, so only a
        symlink on the way can lead out: each segment is ``lstat``-ed, and
        the first symlink sends the path to ``realpath``, checked against
        ``base`` (symlinks out are allowed only with ``follow_symlink``).
        """
        path = base.rstrip("/") + "/" + relative
        try:
            if self.follow_symlink:
                return path, os.stat(path)
            # perf: one lstat per segment (one for a file in the folder itself)
            # instead of Path.resolve()'s one per segment from the root, twice.
            result = None
            current = base.rstrip("/")
            for part in relative.split("/"):
                if part in ("", "."):
                    continue
                current = f"{current}/{part}"
                result = os.lstat(current)
                if part == ".." or stat.S_ISLNK(result.st_mode):
                    return self._resolved(base, path)
            if result is None:  # the folder itself
                result = os.stat(base)
        except (OSError, ValueError):  # missing, not a folder, a name too long
            return None
        return path, result

    @staticmethod
    def _resolved(base: str, path: str) -> tuple[str, os.stat_result] | None:
        """``path`` with every symlink followed, if it is still inside ``base``."""
        # realpath follows every symlink on the way: what is checked is where
        # the file really is, not where its name says it is.
        real = os.path.realpath(path)
        if real != base and not real.startswith(base.rstrip("/") + "/"):
            return None
        try:
            return real, os.stat(real)
        except (OSError, ValueError):  # a symlink loop, removed meanwhile
            return None

    def _file(
        self,
        base: str,
        relative: str,
        path: str,
        result: os.stat_result,
        status: int,
        accept: str | None,
    ) -> _Found:
        media_type = mimetypes.guess_type(relative)[0] or "text/plain"
        # perf: an empty Accept-Encoding (identity only) gets the file without
        # the siblings being looked for (3 probes spared).
        if accept == "":
            return _Found(path, result, status, media_type, None, False)
        siblings: dict[str, tuple[str, os.stat_result]] = {}
        named = f"{base.rstrip('/')}/{relative}"
        for name, suffix in _SIBLINGS.items():
            # perf: a sibling that is not there (the usual case) is told by
            # access(), without an exception (a lookup with three missing:
            # 114k -> 84k instructions). It only skips: one that exists is
            # checked by _probe like any file.
            if not os.access(named + suffix, os.F_OK):
                continue
            sibling = self._probe(base, relative + suffix)
            if sibling is not None and stat.S_ISREG(sibling[1].st_mode):
                siblings[name] = sibling
        # A request without Accept-Encoding gets the file itself, with the
        # vary the other answers carry: a shared cache that stored it
        # without one would hand it to every client (RFC 9110 §12.5.5).
        coding = negotiate(accept, list(siblings)) if siblings and accept else None
        if coding is not None:
            path, result = siblings[coding]
        return _Found(path, result, status, media_type, coding, bool(siblings))
