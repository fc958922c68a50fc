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
from microweb.types import ASGIApp

if TYPE_CHECKING:
    from microweb._host import HostEntry
    from microweb._mount import MountEntry
    from microweb._websocket_route import WebSocketEntry

__all__ = ["HOST_PARAMS", "BaseRoute", "PathEntry", "app_or_routes", "inner_path_for", "path_for"]

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


def app_or_routes(where: str, app: ASGIApp | None, routes: Sequence[BaseRoute] | None) -> ASGIApp:
    """The app of a Mount or Host named ``where``: ``app``, or a Router of ``routes``."""
    if (app is None) == (routes is None):
        raise TypeError(f"{where} takes an app or routes, not both or neither")
    if routes is not None:
        from microweb.routing import Router  # the router imports this module

        app = Router(routes=routes)
    if not callable(app):
        raise TypeError(f"the app of {where} must be an ASGI app, got {app!r}")
    return app


def inner_path_for(namespace: str, app: ASGIApp, name: str, params: dict[str, Any]) -> str:
    """``url_path_for`` of ``"namespace:route"``: the path of ``route`` inside ``app``.

    Raises ``ValueError`` ``no route is named`` when ``name`` is not in the
    namespace or ``app`` has no such route; a bad parameter's own error passes.
    """
    head, colon, rest = name.partition(":")
    inner = getattr(app, "url_path_for", None)
    if colon and namespace and head == namespace and inner is not None:
        try:
            return str(inner(rest, **params))
        except ValueError as exc:
            if not str(exc).startswith("no route is named"):
                raise  # a bad parameter: its message says which
    raise ValueError(f"no route is named {name!r}")
