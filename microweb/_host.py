"""``Host``: an ASGI app (or a Router of routes) for the requests to one host.

A Host compiles to a ``HostEntry``: its host template, matched against the
request's ``Host`` header, and the app below it. A router tries its host
entries only when no route and no mount matched, in the order they were
added, so an app without hosts pays nothing for them.

Host templates (SPEC "Static files, mounting and templates") are host names
whose labels may hold parameters: ``{tenant}.example.com``,
``api-{version:int}.example.com``. A parameter takes one label at most (it
never spans a dot); the ``path`` convertor is refused. Matching ignores the
port and the letter case of the header and a final dot (``Example.COM.:8000``
is ``example.com``); a port in the template is ignored too (as Starlette
does), and kept only for ``host_for``. The template is the route-path grammar with labels for
segments: ``{tenant}.example.com`` is compiled as ``/{tenant}/example/com``
and matched against the host written the same way, so the convertors and
their checks are those of paths.

The converted host values join ``scope["path_params"]`` for the app below.
When that app is a microweb ``Router`` (or ``routes=`` is given), the Host
files its own copy of the routes, re-made so that each HTTP handler binds the
host values like path parameters (``def page(tenant: str, item_id: int)``);
routes added to the Router afterwards are not seen. Any other ASGI app (an
``App`` included) finds them in ``scope["path_params"]`` when it is called;
a microweb App's own router then sets its routes' path parameters.

``url_path_for("site:item", item_id=3)`` asks the app below for its route
``item``: a Host adds nothing to the path, so the answer is the path alone
(Starlette answers a URL with the host in it). Host parameters may be given
too and are then left out of the path; ``Host.host_for(tenant="acme")``
builds the host name for an absolute URL to another host.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, NamedTuple

from microweb._matcher import Matcher, Param, compile_path
from microweb._route_base import HOST_PARAMS, BaseRoute, app_or_routes, inner_path_for
from microweb.responses import Response
from microweb.types import ASGIApp, Scope

__all__ = ["Host", "HostEntry", "host_of"]

# A parameter in braces, between runs of literal text (lower-cased: DNS names ignore case).
_PIECES = re.compile(r"(\{[^{}]*\})")
# A host template: the name, and perhaps a port (ignored when matching, as the header's is).
_TEMPLATE = re.compile(r"([^/]*?)(:[0-9]+)?")


def host_of(scope: Scope) -> str:
    """The request's host name: its ``Host`` header less the port, lower-case, no final dot."""
    host = ""
    for name, value in scope.get("headers", ()):
        if name == b"host":
            host = value.decode("latin-1").lower()
            break
    if host.startswith("["):  # RFC 3986 §3.2.2: an IPv6 literal, perhaps with a port
        return host[: host.find("]") + 1]
    return host.partition(":")[0].rstrip(".")


class HostEntry(NamedTuple):
    """What a Host asks its router to file: ``app`` answers the requests to ``host``."""

    host: Host
    app: ASGIApp

    def scope_for(self, scope: Scope) -> Scope | None:
        """The scope for ``app`` when the request is to this host, else None."""
        values = self.host.match(host_of(scope))
        if values is None:
            return None
        path_params = {**scope.get("path_params", {}), **values}
        return {**scope, "path_params": path_params, HOST_PARAMS: values}


class Host(BaseRoute):
    """``app`` (or a Router of ``routes``) answering the requests whose Host header matches.

    ::

        tenants = Router()

        @tenants.get("/")
        def home(tenant: str) -> str: ...

        app = App(routes=[Host("{tenant}.example.com", tenants, name="tenant")])

    Give ``app`` or ``routes``, not both. Raises ``ValueError`` or
    ``TypeError`` naming the bad value.
    """

    __slots__ = ("_matcher", "app", "compiled", "host", "name", "port", "serve")

    def __init__(
        self,
        host: str,
        app: ASGIApp | None = None,
        routes: Sequence[BaseRoute] | None = None,
        name: str | None = None,
    ) -> None:
        if not isinstance(host, str):
            raise TypeError(f"a host template must be a str, got {host!r}")
        found = _TEMPLATE.fullmatch(host)
        if found is None or not found.group(1) or ":" in _literal(found.group(1)):
            raise ValueError(
                f"host template {host!r} must be a host name, perhaps a port, no path"
            )
        compiled = compile_path("/" + _lowered(found.group(1)).replace(".", "/"))
        for param in compiled.params:
            if param.convertor.name == "path":
                raise ValueError(f"host template {host!r}: a parameter cannot span labels")
        app = app_or_routes(f"Host {host!r}", app, routes)
        from microweb.routing import Router  # the router imports this module

        self.host = host
        self.port = found.group(2) or ""  # ":8000" or nothing: kept for host_for only
        self.compiled = compiled
        self.app: ASGIApp = app
        self.name = name if name is not None else ""
        self._matcher: Matcher[bool] = Matcher()
        self._matcher.add(compiled, True)
        # What the requests go to: a Router's routes re-made to bind the host values.
        self.serve: ASGIApp = (
            app.with_host_params(compiled.params) if isinstance(app, Router) else app
        )

    @property
    def params(self) -> tuple[Param, ...]:
        """The parameters of the host template."""
        return self.compiled.params

    def match(self, host: str) -> dict[str, Any] | None:
        """The converted parameter values when ``host`` (as ``host_of`` gives it) matches."""
        if not host or "/" in host:
            return None
        found = self._matcher.match("/" + host.replace(".", "/"))
        if found is None:
            return None
        return dict(zip((param.name for param in self.params), found[1], strict=True))

    def host_for(self, **params: Any) -> str:
        """The host name with ``params`` filled in (``ValueError`` for a bad or missing one)."""
        return self.compiled.format(**params)[1:].replace("/", ".") + self.port

    def url_path_for(self, name: str, /, **params: Any) -> str:
        """``"/"`` for this host's name; ``"name:route"`` asks the app below for ``route``.

        Host parameters among ``params`` are left out of the path.
        """
        own = {param.name for param in self.params}
        rest = {key: value for key, value in params.items() if key not in own}
        if name == self.name and self.name and not rest:
            return "/"
        return inner_path_for(self.name, self.app, name, rest)

    def under(self, prefix: str) -> Host:
        if prefix:
            raise ValueError(
                f"Host {self.host!r} cannot go under the prefix {prefix!r}: "
                "put the prefix inside it (a Mount in its routes)"
            )
        return self

    def compile(self, default_response_class: type[Response] | None) -> Sequence[HostEntry]:
        return (HostEntry(self, self.serve),)

    def __repr__(self) -> str:
        return f"Host({self.host!r}, {self.app!r}, name={self.name!r})"


def _lowered(host: str) -> str:
    """``host`` with its literal text lower-cased, its parameters as they are."""
    pieces = _PIECES.split(host)  # literal, parameter, literal...
    return "".join(piece if odd else piece.lower() for odd, piece in _alternate(pieces))


def _alternate(pieces: list[str]) -> list[tuple[bool, str]]:
    return [(index % 2 == 1, piece) for index, piece in enumerate(pieces)]


def _literal(host: str) -> str:
    """``host`` without its parameters."""
    return _PIECES.sub("", host)
