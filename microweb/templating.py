"""``Jinja2Templates``: HTML pages rendered from Jinja2 templates.

Theory of operation
-------------------
jinja2 is an optional dependency (the ``jinja2`` extra): this module imports
it only when a ``Jinja2Templates`` is made, so ``import microweb`` never
loads it, and a missing jinja2 is an ``ImportError`` naming the extra.

Autoescaping is on: for ``.html``, ``.htm`` and ``.xml`` templates, for
templates made from strings, and by default for any other name too (a
template that must not be escaped says so with ``{% autoescape false %}``).
Every template sees ``request`` and ``url_for`` (the request's
``url_for``: a link built with it carries the app's root path).

Two ways to answer with a page (SPEC "Static files, mounting and templates"):

- ``templates.TemplateResponse(request, "item.html", {"item": item})``
  returns an ``HTMLResponse`` (``.template`` and ``.context`` are kept for
  tests);
- ``response_class=templates.page("item.html")``: the handler returns the
  context dict and coercion makes the page. The page class declares a
  ``request`` parameter, so coercion hands it the Request (``_endpoint``).
  The template is looked up when ``page`` is called, so a misspelt name
  fails when the route is defined, not on the first request.

An environment made with ``enable_async=True`` renders with
``render_async``, when the response is sent (a coroutine cannot run in a
constructor); any other renders at once, in the constructor.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from microweb.background import BackgroundTask
from microweb.requests import Request
from microweb.responses import HTMLResponse, Response
from microweb.responses._base import BODYLESS_STATUSES, HeadersInput
from microweb.types import Receive, Scope, Send

if TYPE_CHECKING:
    import jinja2

__all__ = ["Jinja2Templates"]

_EXTRA = "pip install 'microweb-asgi[jinja2]'"


def _jinja2() -> Any:
    """The jinja2 module, or an ImportError naming the extra that brings it."""
    try:
        import jinja2
    except ImportError as exc:
        raise ImportError(f"Jinja2Templates needs jinja2: {_EXTRA}") from exc
    return jinja2


class _TemplateResponse(HTMLResponse):
    """An HTML page rendered from ``template`` with ``context`` (both kept for tests)."""

    def __init__(
        self,
        template: jinja2.Template,
        context: dict[str, Any],
        status_code: int = 200,
        headers: HeadersInput | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.template = template
        self.context = context
        # An async environment renders when the response is sent (__call__).
        self._deferred = template.environment.is_async
        content = None if self._deferred else template.render(context)
        super().__init__(content, status_code, headers, media_type, background)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._deferred:
            await super().__call__(scope, receive, send)
            return
        # The object stays as it was built (responses may be shared): a copy is sent.
        rendered = copy.copy(self)
        rendered.body = (await self.template.render_async(self.context)).encode(self.charset)
        rendered.raw_headers = [pair for pair in self.raw_headers if pair[0] != b"content-length"]
        if self.status_code not in BODYLESS_STATUSES:
            rendered.raw_headers.append((b"content-length", b"%d" % len(rendered.body)))
        await HTMLResponse.__call__(rendered, scope, receive, send)


class Jinja2Templates:
    """The templates of a folder (or of a Jinja2 ``Environment``), rendered as HTML responses.

    ::

        templates = Jinja2Templates(directory="templates")

        @app.get("/items/{item_id:int}")
        async def item(request: Request, item_id: int) -> Response:
            return templates.TemplateResponse(request, "item.html", {"id": item_id})

        @app.get("/about", response_class=templates.page("about.html"))
        async def about() -> dict[str, Any]:
            return {"title": "About"}

    Give ``directory`` (a folder or a list of folders) or ``env``, not
    both. A given ``env`` keeps its own settings (autoescape included); it
    gets ``url_for`` among its globals. Raises ``ImportError`` naming the
    ``jinja2`` extra when jinja2 is not installed.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None,
        *,
        env: jinja2.Environment | None = None,
    ) -> None:
        module = _jinja2()
        if (directory is None) == (env is None):
            raise TypeError("Jinja2Templates takes a directory or an env, not both or neither")
        if env is None:
            env = module.Environment(
                loader=module.FileSystemLoader(directory),
                autoescape=module.select_autoescape(
                    ("html", "htm", "xml"), default_for_string=True, default=True
                ),
            )
        self.env: jinja2.Environment = env
        env.globals.setdefault("url_for", module.pass_context(_url_for))

    def get_template(self, name: str) -> jinja2.Template:
        """The template called ``name`` (jinja2's ``TemplateNotFound`` if there is none)."""
        template: jinja2.Template = self.env.get_template(name)
        return template

    def TemplateResponse(  # the name Starlette's users know
        self,
        request: Request,
        name: str,
        context: Mapping[str, Any] | None = None,
        status_code: int = 200,
        headers: HeadersInput | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> _TemplateResponse:
        """The page ``name`` rendered with ``context``, ``request`` and ``url_for``.

        Raises ``TypeError`` when ``request`` is not a Request, and jinja2's
        ``TemplateNotFound`` for an unknown template.
        """
        if not isinstance(request, Request):
            raise TypeError(
                f"TemplateResponse takes the Request first, then the template name; "
                f"got {request!r}"
            )
        return _TemplateResponse(
            self.get_template(name),
            {**(context or {}), "request": request},
            status_code,
            headers,
            media_type,
            background,
        )

    def page(self, name: str) -> type[Response]:
        """A response class for ``response_class=``: the handler returns the page's context.

        The handler's return value (a dict, or None for an empty context) is
        the template's context, with ``request`` and ``url_for`` added.
        Raises ``ValueError`` now when there is no template ``name``.
        """
        templates = self
        try:
            self.get_template(name)
        except _jinja2().TemplateNotFound:
            raise ValueError(f"templates.page({name!r}): there is no template {name!r}") from None

        class TemplatePage(_TemplateResponse):
            """The page of one template, made from the context a handler returns."""

            def __init__(
                self,
                content: Mapping[str, Any] | None = None,
                status_code: int = 200,
                headers: HeadersInput | None = None,
                media_type: str | None = None,
                background: BackgroundTask | None = None,
                *,
                request: Request,
            ) -> None:
                if content is not None and not isinstance(content, Mapping):
                    raise TypeError(
                        f"the page {name!r} takes a dict (its context), "
                        f"not {type(content).__name__}"
                    )
                context = {**(content or {}), "request": request}
                super().__init__(
                    templates.get_template(name),
                    context,
                    status_code,
                    headers,
                    media_type,
                    background,
                )

        TemplatePage.__qualname__ = TemplatePage.__name__ = f"TemplatePage[{name}]"
        return TemplatePage


def _url_for(context: Mapping[str, Any], name: str, /, **path_params: Any) -> str:
    """``url_for`` in a template: the request's ``url_for``, as a string."""
    request: Request = context["request"]
    return str(request.url_for(name, **path_params))
