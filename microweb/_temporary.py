"""The temporary ``Response`` a handler may take (SPEC "Handler parameters").

A handler annotated ``response: Response`` gets one of these to set a status,
headers, cookies or a background task on; ``_endpoint`` merges them into the
response that is sent.
"""

from __future__ import annotations

from microweb.responses import Response

__all__ = ["TemporaryResponse"]


class TemporaryResponse(Response):
    """The ``Response`` a handler may ask for, to set status, headers, cookies, background.

    Its ``status_code`` only applies when the handler set it.
    """

    def __init__(self, status_code: int) -> None:
        self._status_code = status_code
        self.status_set = False
        self.background = None
        self.raw_headers = []

    @property
    def status_code(self) -> int:
        return self._status_code

    @status_code.setter
    def status_code(self, value: int) -> None:
        self._status_code = value
        self.status_set = True
