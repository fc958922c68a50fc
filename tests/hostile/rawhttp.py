"""A tiny raw-socket HTTP/1.1 client for hostile input, and the checks every case gets.

Requests are written byte for byte (nothing is normalised, so a case can send
what no HTTP library would), and the answer is read with a deadline and a size
cap: a server that does not answer in time is reported as a hang, not waited
for. The reader understands just enough of RFC 9112 to know where an answer
ends (content-length, chunked, or the connection closing), so a case never
waits on a keep-alive connection.
"""

from __future__ import annotations

import contextlib
import re
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pytest

__all__ = [
    "ANY_4XX",
    "CLOSED",
    "CUT",
    "DIGITS",
    "IMPLEMENTATIONS",
    "OK",
    "ONLY_200",
    "Answer",
    "Case",
    "check_case",
    "exchange",
    "header_value",
    "params",
    "post",
    "request",
]

IMPLEMENTATIONS = ("httptools", "h11")
CLOSED = 0  # the status of a connection closed with no answer at all
ANY_4XX = frozenset(range(400, 500))
OK = ANY_4XX | {200}  # the route answers, or the request is refused
ONLY_200 = frozenset({200})
CUT = ANY_4XX | {CLOSED}  # a request cut short: refused, or the connection just closes
DIGITS = "1" * 5000  # a number past Python's 4,300-digit limit on int(str)
DEADLINE = 5.0  # seconds a whole exchange may take
MAX_ANSWER = 1 << 20  # bytes read at most

# Python's own words: a traceback, a source line, an exception class name.
_PYTHON_TEXT = re.compile(
    rb'Traceback \(most recent|File "[^"]*", line|\b[A-Z]\w*(?:Error|Exception)\b'
)


@dataclass(frozen=True)
class Answer:
    """What came back: ``status`` is CLOSED when the server closed without a word."""

    status: int
    head: bytes
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    timed_out: bool

    def header(self, name: bytes) -> list[bytes]:
        return [value for key, value in self.headers if key == name]

    def summary(self) -> str:
        return repr(self.head[:300] + b"\r\n\r\n" + self.body[:300])


def header_value(answer: Answer, name: bytes) -> bytes | None:
    """The only value of the header ``name``, or None; two values fail the test."""
    values = answer.header(name)
    assert len(values) <= 1, f"{name!r} sent {len(values)} times: {answer.summary()}"
    return values[0] if values else None


def request(
    target: str | bytes = "/probe",
    *headers: str | bytes,
    method: str | bytes = "GET",
    body: bytes = b"",
    host: str | bytes | None = "127.0.0.1",
    version: str | bytes = "HTTP/1.1",
) -> bytes:
    """A raw request: ``host`` (None leaves it out), the given header lines, then ``body``.

    Header lines are sent exactly as given; ``connection: close`` is added so
    the server may close once it has answered.
    """
    lines = [_bytes(method) + b" " + _bytes(target) + b" " + _bytes(version)]
    if host is not None:
        lines.append(b"host: " + _bytes(host))
    lines += [_bytes(line) for line in headers]
    lines.append(b"connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def post(target: str, body: bytes | str, content_type: str, *headers: str | bytes) -> bytes:
    """A raw POST of ``body`` with its content-type and an exact content-length."""
    data = _bytes(body)
    return request(
        target,
        f"content-type: {content_type}",
        f"content-length: {len(data)}",
        *headers,
        method="POST",
        body=data,
    )


def _bytes(text: str | bytes) -> bytes:
    return text.encode("utf-8") if isinstance(text, str) else text


def exchange(port: int, data: bytes, *, half_close: bool = False, head: bool = False) -> Answer:
    """Send ``data`` to 127.0.0.1:``port`` and read one answer, within DEADLINE.

    ``half_close`` shuts the sending side once ``data`` is out, so a server
    waiting for more of a truncated body sees the end of the stream.
    ``head`` says the request was a HEAD: the answer has no body.
    """
    deadline = time.monotonic() + DEADLINE
    buffer = b""
    timed_out = False
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as sock:
        # The server may refuse and close before reading everything we send.
        with contextlib.suppress(OSError):
            sock.sendall(data)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        while len(buffer) < MAX_ANSWER:
            if _complete(buffer, head):
                break
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            sock.settimeout(left)
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                timed_out = True
                break
            except OSError:  # reset by the peer: what we have is all there is
                break
            if not chunk:
                break
            buffer += chunk
    return _parse(buffer, timed_out)


def _split(buffer: bytes) -> tuple[bytes, bytes] | None:
    """The final answer's head and what follows it; interim 1xx answers are skipped."""
    while True:
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        head, buffer = buffer[:end], buffer[end + 4 :]
        if not 100 <= _parse_head(head)[0] < 200:
            return head, buffer


def _complete(buffer: bytes, head: bool) -> bool:
    """Whether ``buffer`` holds a whole answer (False: read on, up to the close)."""
    parts = _split(buffer)
    if parts is None:
        return False
    status, headers = _parse_head(parts[0])
    if head or status in (204, 304):
        return True
    lengths = [value for key, value in headers if key == b"content-length"]
    if len(lengths) == 1 and lengths[0].isdigit():
        return len(parts[1]) >= int(lengths[0])
    if any(key == b"transfer-encoding" for key, _ in headers):
        return _dechunk(parts[1]) is not None
    return False


def _dechunk(data: bytes) -> bytes | None:
    """The body of a complete chunked message, or None while it is incomplete."""
    body = b""
    while True:
        line_end = data.find(b"\r\n")
        if line_end < 0:
            return None
        size = int(data[:line_end].split(b";")[0], 16)
        if size == 0:  # then trailer lines, then an empty line
            rest = data[line_end + 2 :]
            return body if rest.startswith(b"\r\n") or b"\r\n\r\n" in rest else None
        start = line_end + 2
        if len(data) < start + size + 2:
            return None
        body += data[start : start + size]
        data = data[start + size + 2 :]


def _parse_head(head: bytes) -> tuple[int, tuple[tuple[bytes, bytes], ...]]:
    lines = head.split(b"\r\n")
    fields = lines[0].split(b" ", 2)
    status = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else -1
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers.append((name.strip().lower(), value.strip()))
    return status, tuple(headers)


def _parse(buffer: bytes, timed_out: bool) -> Answer:
    parts = _split(buffer)
    if parts is None:
        # Nothing, or not even a whole head: CLOSED, or -1 for a torn answer.
        return Answer(CLOSED if not buffer else -1, buffer, (), b"", timed_out)
    status, headers = _parse_head(parts[0])
    body = parts[1]
    if any(key == b"transfer-encoding" for key, _ in headers):
        body = _dechunk(body) or body
    return Answer(status, parts[0], headers, body, timed_out)


# --- cases -------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One hostile request and what may come back.

    ``expect`` lists the statuses allowed (any 4xx by default; CLOSED for a
    close without an answer). ``check`` looks further at the answer.
    ``xfail`` (with the implementations it applies to) marks a known failure:
    strict, so the fix turns it into an XPASS to remove. (Issue 15's are fixed.)
    """

    id: str
    data: bytes
    expect: frozenset[int] = ANY_4XX
    check: Callable[[Answer], object] | None = None
    half_close: bool = False
    xfail: str = ""
    xfail_on: tuple[str, ...] = IMPLEMENTATIONS

    @property
    def head(self) -> bool:
        return self.data.startswith(b"HEAD ")


def params(cases: Iterable[Case]) -> list[object]:
    """``(implementation, case)`` pairs for ``parametrize``, marked where a case xfails."""
    out: list[object] = []
    for case in cases:
        for implementation in IMPLEMENTATIONS:
            marks = []
            if case.xfail and implementation in case.xfail_on:
                marks.append(pytest.mark.xfail(reason=case.xfail, strict=True))
            out.append(
                pytest.param(implementation, case, id=f"{implementation}-{case.id}", marks=marks)
            )
    return out


def check_case(port: int, case: Case) -> None:
    """Send ``case``, check its answer, then check the server still answers a probe."""
    answer = exchange(port, case.data, half_close=case.half_close, head=case.head)
    assert not answer.timed_out, f"no whole answer in {DEADLINE}s: {answer.summary()}"
    assert answer.status in case.expect, (
        f"status {answer.status}, expected one of {sorted(case.expect)}: {answer.summary()}"
    )
    found = _PYTHON_TEXT.search(answer.body)
    assert found is None, f"Python text {found.group()!r} in the body: {answer.summary()}"
    if case.check is not None:
        case.check(answer)
    probe = exchange(port, request("/probe"))
    assert (probe.status, probe.body) == (200, b"ok"), f"probe after the case: {probe.summary()}"
