"""``StreamingResponse``: a body sent chunk by chunk as an iterable produces it."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from types import AsyncGeneratorType
from typing import Any

from microweb.background import BackgroundTask
from microweb.concurrency import iterate_in_threadpool, run_in_threadpool
from microweb.responses._base import BODYLESS_STATUSES, HeadersInput, send_empty
from microweb.responses._stream import Helper, StreamingBase, Transmission, run_stream
from microweb.types import Receive, Scope, Send

__all__ = ["StreamingResponse"]

Content = Iterable[Any] | AsyncIterable[Any]

_END: Any = object()


async def _close_unstarted(content: Any) -> None:
    """Close what the user gave without iterating it (HEAD, or a bodyless status)."""
    aclose = getattr(content, "aclose", None)
    if aclose is not None:
        await aclose()
        return
    close = getattr(content, "close", None)
    if close is not None:
        # A never-started generator runs no code here; another iterator's
        # close() might block, so it goes to a worker thread like its items.
        await run_in_threadpool(close)


class StreamingResponse(StreamingBase):
    """A body sent chunk by chunk as an iterable produces it.

    ``content`` is an async iterable, or a sync one (drained in a worker
    thread, so a blocking generator never stalls the event loop), of ``str``
    (encoded with ``charset``), ``bytes`` or ``memoryview`` chunks::

        async def numbers():
            for n in range(3):
                yield f"{n}\\n"
                await anyio.sleep(1)

        return StreamingResponse(numbers(), media_type="text/plain")

    The first chunk is pulled before the status line is sent, so an exception
    raised before it becomes an ordinary error response; a later one is logged
    and cuts the stream. When the client disconnects (or the App shuts down),
    iteration stops and the iterator is closed (a generator's ``finally``
    runs). A HEAD request gets the headers and the generator is closed
    without being started. ``background`` runs when the stream has ended. No
    ``content-length`` is sent unless given. A stream answers one request.
    """

    def __init__(
        self,
        content: Content,
        status_code: int = 200,
        headers: HeadersInput | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        if isinstance(content, (str, bytes, memoryview)):
            content = (content,)  # one chunk, not one chunk per character
        self._content: Any = content
        # perf: an async generator, the usual content, is matched first: isinstance
        # of an ABC is a call into Python.
        if isinstance(content, (AsyncGeneratorType, AsyncIterable)):
            self.body_iterator: AsyncIterable[Any] = content
        elif isinstance(content, Iterable):
            self.body_iterator = iterate_in_threadpool(content)
        else:
            raise TypeError(
                f"{type(self).__name__} content must be an iterable or an async iterable, "
                f"not {type(content).__name__}"
            )
        super().__init__(None, status_code, headers, media_type, background)

    _as_is: type | None = bytes  # items sent without encode_chunk()
    _iterator: AsyncIterator[Any]  # set when the response is called

    def encode_chunk(self, chunk: Any) -> bytes | memoryview:
        """One item of the iterable as body bytes (str is encoded with ``charset``)."""
        # perf: an exact type check first: bytes is by far the common chunk.
        if type(chunk) is bytes:
            return chunk
        if isinstance(chunk, str):
            return chunk.encode(self.charset)
        if isinstance(chunk, (bytes, bytearray)):
            return bytes(chunk)
        if isinstance(chunk, memoryview):
            # A multi-byte or multi-dimensional view: servers count len(), so send plain bytes.
            return chunk if chunk.nbytes == len(chunk) else chunk.tobytes()
        raise TypeError(
            f"{type(self).__name__} chunks must be str, bytes or memoryview, "
            f"not {type(chunk).__name__}"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # A scope without a method is answered as a GET.
        if scope.get("method") == "HEAD" or self.status_code in BODYLESS_STATUSES:
            await _close_unstarted(self._content)
            await send_empty(send, self.status_code, self.raw_headers)
        else:
            # perf: bound methods, not two lambdas a request (a stream answers once).
            self._iterator = aiter(self.body_iterator)
            await run_stream(
                scope, receive, send, self._produce, self._close, helper=self._helper()
            )
        if self.background is not None:
            await self.background()

    def _helper(self) -> Helper | None:
        """A task to run beside the producer (EventSourceResponse's pinger)."""
        return None

    async def _produce(self, transmission: Transmission) -> None:
        iterator = self._iterator
        item: Any = await anext(iterator, _END)  # SPEC "Streams": the first chunk first
        as_is = self._as_is
        # perf: ready bytes skip encode_chunk(), as in pour().
        first: Any = item if type(item) is as_is else b"" if item is _END else None
        if first is None:
            first = self.encode_chunk(item)
        await transmission.start(self.status_code, self.raw_headers)
        await transmission.pour(iterator, self.encode_chunk, as_is, first, end=True)

    def _close(self) -> Awaitable[None] | None:
        """``aclose()`` of the iterator to await, or None when there is nothing to close.

        The user's async iterator, or iterate_in_threadpool's, whose own finally
        closes the sync iterator in a worker thread. (The producer always started
        it: its first step is pulling the first chunk.)
        """
        iterator = self._iterator
        # perf: an async generator that ran to its end has nothing left to close:
        # no shielded scope, no await (a few µs a response).
        if getattr(iterator, "ag_frame", True) is None:
            return None
        aclose: Callable[[], Awaitable[None]] | None = getattr(iterator, "aclose", None)
        return None if aclose is None else aclose()
