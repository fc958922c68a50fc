"""``Mount``: an ASGI app (a ``StaticFiles``, another App or Router) under a path prefix.

A Mount compiles to a ``MountEntry``: a prefix and the app below it. A
router keeps its mount entries apart from its paths and tries them only
when no path matched, so an app without mounts pays nothing, and a route
that matches wins over a mount. Among mounts the longest prefix wins,
whatever the order they were added in. A prefix matches at a segment
boundary only: ``/static`` takes ``/static`` and ``/static/app.css``,
never ``/staticfile``.

The mounted app gets the scope as the ASGI spec (and uvicorn's
``--root-path``) has it: ``path`` whole, ``root_path`` extended by the
prefix, so it finds its own part of the path the way any app behind a
root path does.

Names: a Mount's name is a namespace for ``url_path_for``. ``"static"``
with ``path="/app.css"`` builds the prefix and that path; ``"api:item"``
asks the mounted app (an App or Router) for its route ``item`` and puts the
prefix in front (SPEC "Static files, mounting and templates").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple
from urllib.parse import quote

from microweb._http.urls import PATH_SAFE
from microweb._route_base import BaseRoute, app_or_routes, inner_path_for
from microweb.responses import Response
from microweb.types import ASGIApp

__all__ = ["Mount", "MountEntry"]


class MountEntry(NamedTuple):
    """What a Mount asks its router to file: ``app`` answers every path under ``prefix``."""

    prefix: str
    app: ASGIApp


class Mount(BaseRoute):
    """``app`` (or a Router of ``routes``) answering every path under ``path``.

    ::

        app = App(routes=[Mount("/static", StaticFiles(directory="static"), name="static")])
        app.url_path_for("static", path="/app.css")  # "/static/app.css"

    ``path`` starts with ``/`` and does not end with one; give ``app`` or
    ``routes``, not both. Raises ``ValueError`` or ``TypeError`` naming the
    bad value.
    """

    __slots__ = ("app", "name", "path")

    def __init__(
        self,
        path: str,
        app: ASGIApp | None = None,
        routes: Sequence[BaseRoute] | None = None,
        name: str | None = None,
    ) -> None:
        if not isinstance(path, str) or not path.startswith("/") or path.endswith("/"):
            raise ValueError(f"mount path {path!r} must start with '/' and not end with '/'")
        if "{" in path:
            raise ValueError(f"mount path {path!r} cannot hold parameters")
        self.path = path
        self.app: ASGIApp = app_or_routes(f"Mount {path!r}", app, routes)
        self.name = name if name is not None else ""

    def url_path_for(self, name: str, /, **params: Any) -> str:
        """``path`` under the prefix for this mount's name; else a name inside the mounted app."""
        if name == self.name and self.name and set(params) == {"path"}:
            return quote(self.path + "/" + str(params["path"]).lstrip("/"), safe=PATH_SAFE)
        return self.path + inner_path_for(self.name, self.app, name, params)

    def under(self, prefix: str) -> Mount:
        if not prefix:
            return self
        return Mount(prefix + self.path, self.app, name=self.name or None)

    def compile(self, default_response_class: type[Response] | None) -> Sequence[MountEntry]:
        return (MountEntry(self.path, self.app),)

    def __repr__(self) -> str:
        return f"Mount({self.path!r}, {self.app!r}, name={self.name!r})"
