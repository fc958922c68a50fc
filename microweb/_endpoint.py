"""What a router compiles a route into: the object that answers the route's requests.

A ``Route`` is an immutable description; each router that holds it compiles
it into an ``Endpoint`` of its own (``compile_endpoint``), so the same Route
in two apps answers in each with that app's defaults. Everything per route is
decided here, once:

- the call mode: an ``async def`` handler is awaited on the loop; a generator
  function (sync or async) is called right there, since calling one runs none
  of its code; anything else runs in a worker thread;
- the binding: a handler taking just its path parameters, as they come, gets
  the router's dict (``Endpoint``); any other goes through its ``Binding``
  (``BindingEndpoint``), which first reads and decodes a typed JSON body
  when the handler takes one;
- the response class: the route's own, else the default its routers passed
  down, else ``JSONResponse``; with the route's status code it becomes one
  ``make_response`` call;
- a ``response_model``: the handler's call is wrapped once in its conversion
  (``_response_model``); a route without one has no wrapper.

Return-value coercion (SPEC "Return-value coercion"): a ``Response`` is sent as
it is; anything else becomes ``response_class(value, status_code=...)``;
``None`` with 204 or 304 is an empty body. Where that class sends as
``Response`` does, the value is sent straight as the two messages such a
response would send (``responses._base.content_messages``), without the
object (not when the handler took a temporary Response to merge). A class whose
constructor declares ``request`` (a template page) also gets ``request=``
the Request: it is made when the response is sent (``_WithRequest``),
decided when the route is added.

When the handler took a temporary ``Response`` (SPEC "Handler parameters"),
its status applies to the response made from the return value; its headers,
cookies and background are merged into the response that is sent, a header
never twice, the cookies of both; a returned Response shared between
requests is merged on a copy. The temporary Response returned itself is sent
as a response of its own: its status, headers and cookies once, no body.
"""

from __future__ import annotations

import copy
import functools
import inspect
import typing
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from microweb import _json
from microweb._body import BodyReader
from microweb._context import CONTEXT, AppContext, app_context
from microweb._depends import Solver
from microweb._params import Binding, Bound
from microweb._response_model import DumpOptions, response_converter
from microweb._temporary import TemporaryResponse
from microweb._utils import callable_name, is_async_callable, unwrap_partial
from microweb._validation import ErrorDict
from microweb.concurrency import run_in_threadpool
from microweb.exceptions import RequestValidationError
from microweb.requests import Request, receive_body, whole_body
from microweb.responses import JSONResponse, Response
from microweb.responses._base import content_messages
from microweb.types import Message, Receive, Scope, Send

if TYPE_CHECKING:
    from microweb.routing import Route

__all__ = [
    "BindingEndpoint",
    "BodyEndpoint",
    "DependingEndpoint",
    "Endpoint",
    "compile_endpoint",
    "effective_response_class",
]

# SPEC "Return-value coercion" 3: None with these statuses gives an empty body.
_EMPTY_FOR_NONE = (204, 304)


def effective_response_class(
    route: Route, default_response_class: type[Response] | None
) -> type[Response]:
    """The class that wraps what ``route``'s handler returns, in a router with that default."""
    return route.response_class or default_response_class or JSONResponse


def compile_endpoint(route: Route, default_response_class: type[Response] | None) -> Endpoint:
    """The endpoint answering for ``route`` in a router whose default class is given."""
    # perf: the passthrough check is made here, not on every request.
    binding = route.binding
    if binding.passthrough:
        return Endpoint(route, default_response_class)
    if binding.dependencies:
        return DependingEndpoint(route, default_response_class)
    if binding.route_body is not None and not (
        binding.request_names
        or binding.response_names
        or binding.background_names
        or binding.websocket_names
    ):
        return BodyEndpoint(route, default_response_class)
    return BindingEndpoint(route, default_response_class)


class Endpoint:
    """A route compiled for one router: an ASGI app for the requests routed to it.

    The router has put the converted path values in ``scope["path_params"]``.
    ``route`` is the description it was compiled from; ``effective_response_class``
    the class that wraps what the handler returns.
    """

    __slots__ = (
        "binding",
        "call",
        "content_messages",
        "direct",
        "effective_response_class",
        "is_async",
        "make_response",
        "makes_generator",
        "param_names",
        "route",
        "status_code",
        "takes_values",
    )

    def __init__(self, route: Route, default_response_class: type[Response] | None) -> None:
        handler = route.endpoint
        self.route = route
        self.binding: Binding = route.binding
        self.param_names = tuple(param.name for param in route.compiled.params)
        # Whether the handler takes any value (path parameters: those of a Host too).
        self.takes_values = bool(self.binding.values)
        self.status_code = route.status_code
        self.effective_response_class = effective_response_class(route, default_response_class)
        rendering_class = _rendering_class(self.effective_response_class, _returned_type(route))
        self.make_response = _response_factory(rendering_class, self.status_code)
        self.content_messages = (
            None
            if _takes_request(rendering_class)
            else content_messages(rendering_class, self.status_code or 200)
        )
        self.is_async = is_async_callable(handler)
        self.makes_generator = _is_generator_function(handler)
        self.call = _awaitable_call(handler, self.is_async, self.makes_generator)
        convert = response_converter(
            route.response_model,
            f"handler {callable_name(handler)!r} of {route!r}",
            DumpOptions(
                route.response_model_include,
                route.response_model_exclude,
                route.response_model_exclude_unset,
                route.response_model_by_alias,
            ),
        )
        if convert is not None:
            self.call = _converting_call(self.call, convert)
        #: Whether this endpoint answers as ``Endpoint.__call__`` does (the handler's
        #: call, then ``messages`` or ``response_for``), so a caller may take those
        #: steps itself.
        self.direct = type(self).__call__ is Endpoint.__call__

    @property
    def path(self) -> str:
        return self.route.path

    @property
    def name(self) -> str:
        return self.route.name

    @property
    def methods(self) -> frozenset[str]:
        return self.route.methods

    def messages(self, result: Any, scope: Scope) -> tuple[Message, Message] | None:
        """The two messages that send ``result``, or None: ``response_for`` sends it."""
        messages = self.content_messages
        if messages is None or isinstance(result, Response):
            return None
        # perf: the value is sent as the route's class would send it, without
        # making the Response (callgrind, /plaintext: 28,600 -> 21,900 instructions;
        # POST /items: 72,800 -> 65,900; ``answer`` and ``__call__`` too).
        try:
            return messages(result, scope)
        except (TypeError, ValueError) as exc:
            raise self.cannot_send(result, exc) from None

    def response_for(self, result: Any) -> Response:
        """The Response that sends ``result``: the value coerced, or the Response returned."""
        try:
            return result if isinstance(result, Response) else self.make_response(result)
        except (TypeError, ValueError) as exc:
            raise self.cannot_send(result, exc) from None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # An App without middleware takes these steps itself (``direct``): this is
        # the way under a middleware.
        # perf: the handler takes just its path parameters: they are its
        # kwargs as they are (none: a plain call, not one with **{}, 430
        # instructions fewer on /plaintext), and nothing needs closing afterwards.
        result = await (self.call(**scope["path_params"]) if self.takes_values else self.call())
        # perf: ``answer``'s two steps here, not an ``answer`` coroutine: one frame
        # fewer (callgrind, /plaintext: 22,620 -> 21,440 instructions, before ``direct``).
        messages = self.messages(result, scope)
        if messages is not None:
            await send(messages[0])
            await send(messages[1])
            return
        await self.response_for(result)(scope, receive, send)

    async def answer(self, result: Any, scope: Scope, receive: Receive, send: Send) -> None:
        """Send what the handler returned (SPEC "Return-value coercion")."""
        messages = self.messages(result, scope)
        if messages is not None:
            await send(messages[0])
            await send(messages[1])
            return
        await self.response_for(result)(scope, receive, send)

    def cannot_send(self, result: Any, exc: TypeError | ValueError) -> TypeError | ValueError:
        """A clear error for a return value the response class refused (SPEC coercion).

        It names the handler, the value's type and what to do instead; raised
        ``from None``, so the log shows one error rather than the encoder's
        internals chained twice.
        """
        cls = self.effective_response_class.__name__
        where = f"handler {callable_name(self.route.endpoint)!r} of {self.route!r}"
        kind = type(result).__name__
        if inspect.iscoroutine(result):
            result.close()  # no "never awaited" warning on top of this error
            return TypeError(
                f"{where} returned the coroutine {result.__qualname__}() without awaiting "
                f"it: write 'return await {result.__qualname__}(...)'"
            )
        if inspect.isgenerator(result) or inspect.isasyncgen(result):
            return TypeError(
                f"{where} returned a {kind}, which {cls} cannot send: give the route "
                "response_class=StreamingResponse (chunks) or EventSourceResponse "
                "(server-sent events)"
            )
        message = f"{where} returned {kind}, which {cls} cannot send: {exc}"
        return TypeError(message) if isinstance(exc, TypeError) else ValueError(message)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.route!r} -> {self.effective_response_class.__name__}>"
        )


class BindingEndpoint(Endpoint):
    """An endpoint whose handler takes more than its path parameters, bound per request."""

    __slots__ = ("coerce", "temporary_status")

    def __init__(self, route: Route, default_response_class: type[Response] | None) -> None:
        super().__init__(route, default_response_class)
        self.temporary_status = route.status_code or 200  # a temporary Response starts with it
        # Coercion with a temporary Response's status (see _merge).
        self.coerce: Callable[[type[Response], Any, int | None], Response] = (
            _coerce_with_request if _takes_request(self.effective_response_class) else _coerce
        )

    async def __call__(
        self, scope: Scope, receive: Receive, send: Send, bound: Bound | None = None
    ) -> None:
        """Answer a request; ``bound`` is given when a ``DependingEndpoint`` bound it."""
        if bound is None:
            binding = self.binding
            if binding.body is None:
                bound = binding.bind(scope, receive, self.temporary_status)
            else:
                bound = await binding.bind_with_body(scope, receive, self.temporary_status)
        try:
            result = await self.call(**bound.kwargs)
            temporary = bound.response
            if temporary is None:
                await self.answer(result, scope, receive, send)
            else:
                try:
                    response = self._merge(result, temporary)
                except (TypeError, ValueError) as exc:
                    raise self.cannot_send(result, exc) from None
                await response(scope, receive, send)
                if temporary.background is not None:
                    await temporary.background()
            if bound.tasks is not None:
                await bound.tasks()
        finally:
            if bound.request is not None:
                # SPEC "Requests": an uploaded form's temporary files go when the
                # response is done (after background tasks, which may still read them).
                await bound.request.close()

    def _merge(self, result: Any, temporary: TemporaryResponse) -> Response:
        """Coercion when the handler took a temporary Response: merge it in."""
        if result is temporary:
            # Returned itself: a response of its own (its background runs once, after).
            response = Response(status_code=temporary.status_code)
        elif isinstance(result, Response):
            if not temporary.raw_headers:
                return result
            # The handler may return a shared object: merge into a copy.
            response = copy.copy(result)
        else:
            status_code = temporary.status_code if temporary.status_set else self.status_code
            response = self.coerce(self.effective_response_class, result, status_code)
        if temporary.raw_headers:
            response.raw_headers = _merge_headers(response.raw_headers, temporary.raw_headers)
        return response


class BodyEndpoint(BindingEndpoint):
    """A handler taking a typed JSON body (and maybe path, query, header, cookie values), no more.

    Nothing it takes needs a ``Request`` (no Request, temporary Response,
    BackgroundTasks or dependency), so none is made: the body is read from
    ``receive`` (``requests.receive_body``, every limit of ``Request.body()``),
    decoded, and the handler called. What it answers, a 400, 413 or 422
    included, is what ``BindingEndpoint`` answers.
    """

    __slots__ = ("reader",)

    def __init__(self, route: Route, default_response_class: type[Response] | None) -> None:
        super().__init__(route, default_response_class)
        self.reader: BodyReader = self.binding.route_body  # type: ignore[assignment]  # checked

    async def __call__(
        self, scope: Scope, receive: Receive, send: Send, bound: Bound | None = None
    ) -> None:
        # perf: no Request, BodyRead or Bound made, nothing to close afterwards
        # (callgrind, POST /items: see docs/benchmarks-history.md).
        kwargs: dict[str, Any] = {}
        errors: list[ErrorDict] = []
        # perf: the one-message body taken here, not in a receive_body() coroutine,
        # and app_context() written out (callgrind, POST /items: see docs/benchmarks-history.md).
        context = scope.get(CONTEXT)
        if isinstance(context, AppContext) and context.max_body_size is None:
            message = await receive()
            body = whole_body(message, context.request_memory_budget)
            if body is None:
                body = await receive_body(scope, receive, message)
        else:
            body = await receive_body(scope, receive)  # content-length checked first
        value = self.reader.decode(body, scope, kwargs, errors)
        binding = self.binding
        if binding.fills:
            # The values first, then the body's (their order in a 422, as ``Binding.bind``).
            found: dict[str, Any] = {}
            body_errors = errors
            errors = []
            binding.fill(scope, found, errors)
            kwargs = found | kwargs
            errors += body_errors
        if errors:
            raise RequestValidationError(errors, body=value)
        result = await self.call(**kwargs)
        # perf: ``answer``'s two steps here, as in ``Endpoint.__call__``: one
        # coroutine frame fewer (callgrind, POST /items: see docs/benchmarks-history.md).
        messages = self.messages(result, scope)
        if messages is not None:
            await send(messages[0])
            await send(messages[1])
            return
        await self.response_for(result)(scope, receive, send)


class DependingEndpoint(BindingEndpoint):
    """An endpoint with dependencies: solved before the handler, torn down after it all."""

    __slots__ = ()

    async def __call__(
        self, scope: Scope, receive: Receive, send: Send, bound: Bound | None = None
    ) -> None:
        solver = Solver(scope, receive, self.temporary_status)
        try:
            # The handler is called, and the request closed, as without dependencies.
            await super().__call__(scope, receive, send, await solver.bind(self.binding))
        except Exception as exc:
            context = app_context(scope)
            if context is None or context.answer_error is None:
                await solver.teardown(exc)  # no App around: nothing here can answer
                raise
            # SPEC: teardown comes after the response is sent, an error response
            # too; so the App's error boundary answers here, then ``exc`` is
            # thrown in at each ``yield`` (whatever the dependency does with it,
            # the answer stands: it was sent).
            await context.answer_error(scope, receive, send, exc)
            await solver.teardown(exc)
        except BaseException as exc:  # cancelled: nothing to answer
            await solver.teardown(exc)
            raise
        else:
            await solver.teardown(None)
        finally:
            if solver.request is not None:
                await solver.request.close()  # a 422 raised before the handler was called


def _coerce(response_class: type[Response], content: Any, status_code: int | None) -> Response:
    """``content`` as a ``response_class`` (SPEC "Return-value coercion" 2 and 3)."""
    if status_code is None:
        return response_class(content)
    if content is None and status_code in _EMPTY_FOR_NONE:
        return Response(status_code=status_code)
    return response_class(content, status_code=status_code)


def _coerce_with_request(
    response_class: type[Response], content: Any, status_code: int | None
) -> Response:
    """``_coerce`` for a class that takes the Request."""
    return _WithRequest(response_class, status_code, content)


def _returned_type(route: Route) -> Any:
    """What the handler's values are sent as: the response_model, else the return annotation."""
    if route.response_model is not None:
        return route.response_model
    try:
        hints = typing.get_type_hints(unwrap_partial(route.endpoint))
    except Exception:  # an annotation that does not resolve: nothing is known
        return None
    return hints.get("return")


def _rendering_class(response_class: type[Response], returned: Any) -> type[Response]:
    """The class that renders the handler's values: ``response_class``, or a faster kin."""
    if response_class is JSONResponse:
        encode = _json.struct_dumps(returned)
        if encode is not None:
            # perf: a handler declared to return a Struct of plain JSON fields is
            # answered with msgspec's encoder, not orjson's default= and
            # to_builtins (callgrind, POST /items: 120,167 -> 101,782 instructions).
            return type("JSONResponse", (JSONResponse,), {"render": staticmethod(encode)})
    return response_class


def _response_factory(
    response_class: type[Response], status_code: int | None
) -> Callable[[Any], Response]:
    if _takes_request(response_class):
        # SPEC "Static files, mounting and templates": decided here, when the
        # route is added; every other class pays nothing for it.
        return functools.partial(_WithRequest, response_class, status_code)
    if status_code is None:
        # perf: without a status code, coercion is a call of the class itself.
        return response_class
    return functools.partial(_coerce, response_class, status_code=status_code)


def _takes_request(response_class: type[Response]) -> bool:
    """Whether the constructor of ``response_class`` declares a ``request`` parameter."""
    try:
        return "request" in inspect.signature(response_class).parameters
    except (TypeError, ValueError):  # a signature Python cannot read
        return False


class _WithRequest(Response):
    """Coercion into a class that takes the Request: made when it is sent, from its scope.

    Coercion sees only the returned value; the scope comes with ``__call__``.
    Headers merged in before then (a temporary Response's) are added to the
    response made.
    """

    def __init__(
        self, response_class: type[Response], status_code: int | None, content: Any
    ) -> None:
        self.response_class = response_class
        self.content = content
        self.status_code = 200 if status_code is None else status_code
        self.given_status = status_code
        self.background = None
        self.raw_headers = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if self.given_status is None:
            response = self.response_class(self.content, request=request)  # type: ignore[call-arg]
        elif self.content is None and self.given_status in _EMPTY_FOR_NONE:
            response = Response(status_code=self.given_status)
        else:
            response = self.response_class(  # type: ignore[call-arg]
                self.content, status_code=self.given_status, request=request
            )
        if self.raw_headers:
            response.raw_headers = _merge_headers(response.raw_headers, self.raw_headers)
        await response(scope, receive, send)


def _awaitable_call(
    handler: Callable[..., Any], is_async: bool, makes_generator: bool
) -> Callable[..., Awaitable[Any]]:
    """``handler`` as a call to await, whatever its call mode."""
    if is_async:
        return handler  # perf: awaited as it is, no wrapper
    if makes_generator:

        async def call_here(**kwargs: Any) -> Any:
            return handler(**kwargs)  # runs none of the generator's code: no thread needed

        return call_here
    return functools.partial(run_in_threadpool, handler)


def _converting_call(
    call: Callable[..., Awaitable[Any]], convert: Callable[[Any], Any]
) -> Callable[..., Awaitable[Any]]:
    """``call`` with its result converted through a response_model (a Response passes)."""

    async def call_converted(**kwargs: Any) -> Any:
        result = await call(**kwargs)
        return result if isinstance(result, Response) else convert(result)

    return call_converted


def _is_generator_function(handler: Any) -> bool:
    target = unwrap_partial(handler)
    return inspect.isasyncgenfunction(target) or inspect.isgeneratorfunction(target)


def _merge_headers(
    own: list[tuple[bytes, bytes]], extra: list[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    """``own`` plus what ``extra`` adds: names ``own`` lacks, and every cookie."""
    present = {name for name, _ in own}
    return own + [(n, v) for n, v in extra if n == b"set-cookie" or n not in present]
