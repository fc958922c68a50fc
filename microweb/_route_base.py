"""The seam between a router and what it holds: ``BaseRoute`` and what routes compile to.

A route is an immutable description (``routing.Route``,
``_websocket_route.WebSocketRoute``); a router asks it for its ``name``,
``url_path_for``, ``under(prefix)`` and ``compile``, and files the entries
``compile`` returns (``routing`` says how): a ``PathEntry``, a
``WebSocketEntry``, a ``MountEntry`` (``_mount``) or a ``HostEntry``
(``_host``). Kept apart from ``routing`` so that each kind of route may
live in a module of its own without importing the router.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote

from microweb._endpoint import Endpoint
from microweb._http.urls import PATH_SAFE
from microweb._matcher import CompiledPath
from microweb.responses import Response

if TYPE_CHECKING:
    from microweb._host import HostEntry
    from microweb._mount import MountEntry
    from microweb._websocket_route import WebSocketEntry

__all__ = ["HOST_PARAMS", "BaseRoute", "PathEntry", "path_for"]

# The scope key where a Host (``_host``) leaves the values of its template, so
# the routes below that bind them find them after their router set path_params.
HOST_PARAMS = "microweb.host_params"


class PathEntry(NamedTuple):
    """What a compiled route asks its router to file: ``app`` answers ``methods`` on ``path``."""

    path: CompiledPath
    methods: frozenset[str]
    app: Endpoint


class BaseRoute(abc.ABC):
    """What a router holds: a description it can name, re-root and compile."""

    __slots__ = ()

    name: str

    @abc.abstractmethod
    def url_path_for(self, name: str, /, **params: Any) -> str:
        """The path of the route called ``name`` (this one) with ``params`` filled in."""

    @abc.abstractmethod
    def under(self, prefix: str) -> BaseRoute:
        """The same route with ``prefix`` in front of its path (``include_router``)."""

    @abc.abstractmethod
    def compile(
        self, default_response_class: type[Response] | None
    ) -> Sequence[PathEntry | WebSocketEntry | MountEntry | HostEntry]:
        """What a router whose default response class is given files for this route."""


def path_for(own_name: str, compiled: CompiledPath, name: str, params: dict[str, Any]) -> str:
    """``url_path_for`` of a route called ``own_name``: its path filled in, percent-quoted."""
    if name != own_name:
        raise ValueError(f"no route is named {name!r}")
    return quote(compiled.format(**params), safe=PATH_SAFE)
