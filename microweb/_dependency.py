"""``Depends`` compiled when a route is added: the tree of a route's dependencies.

SPEC.md "Typed request data" (``Depends``). ``bind_endpoint`` (``_params``)
meets a ``Depends`` marker on a parameter (``depends_marker``) or in a
route's ``dependencies=[...]`` (``depends_list``) and makes a ``Dependency``:
the callable, how to call it (``call_mode``), and the ``Binding`` of its own
parameters, made by the same rules, its own ``Depends`` included; a callable
met again down its own chain is a cycle, refused here. ``route_body`` gathers
the JSON body parameters of a handler and of all its dependencies into one
reader, so a request's body is read and decoded once. What happens per
request (the calls, the cache, the teardowns) is ``_depends``.

A ``Dependency`` binds its callable with the ``bind`` it is given (that is
``bind_endpoint``): passed in, so ``_params`` imports this module and not the
other way round.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from microweb._body import BodyReader
from microweb._convertors import Convertor
from microweb._utils import callable_name, is_async_callable, unwrap_partial
from microweb.params import DependsMarker, Marker

if TYPE_CHECKING:
    from microweb._form import FormReader
    from microweb._params import Binding

__all__ = ["Bind", "Dependency", "depends_list", "depends_marker", "route_body"]


class Bind(Protocol):
    """``bind_endpoint``'s signature, as a dependency calls it."""

    def __call__(
        self,
        endpoint: Callable[..., Any],
        path_params: dict[str, Convertor[Any]],
        where: str,
        *,
        chain: tuple[Callable[..., Any], ...] = (),
    ) -> Binding: ...


def route_body(
    own: BodyReader | FormReader | None,
    dependencies: list[tuple[str | None, Dependency]],
    where: str,
) -> BodyReader | None:
    """The one reader of a route's JSON body: the handler's parameters and its dependencies'.

    None when nothing in the tree reads JSON, or when it reads a form (the
    request parses its form once, whoever asks).
    """
    found: list[BodyReader | FormReader] = [] if own is None else [own]
    stack = [dependency.binding for _, dependency in reversed(dependencies)]
    while stack:  # depth first, in the order they are declared
        binding = stack.pop()
        if binding.body is not None and binding.body not in found:
            found.append(binding.body)
        stack += [dependency.binding for _, dependency in reversed(binding.dependencies)]
    readers = [reader for reader in found if isinstance(reader, BodyReader)]
    if len(readers) < len(found):
        if readers:
            raise TypeError(
                f"{where} (with its dependencies) takes form fields and the JSON body; a body "
                "is one or the other: mark them all Form() (or File()), or all Body()"
            )
        return None
    if len(readers) <= 1:
        return readers[0] if readers else None
    try:
        return BodyReader.union(readers)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"body of {where} cannot be decoded from JSON: {exc}") from None


def depends_list(given: Sequence[Any] | None, where: str) -> tuple[DependsMarker, ...]:
    """``dependencies=[Depends(check), ...]`` of ``where``, checked."""
    if isinstance(given, (str, bytes)) or not isinstance(given, (Sequence, type(None))):
        raise TypeError(f"dependencies of {where} must be a list, got {given!r}")
    for check in given or ():
        if not isinstance(check, DependsMarker):
            raise TypeError(
                f"dependencies of {where} must be Depends(...) objects, got {check!r}; "
                f"write dependencies=[Depends({getattr(check, '__name__', 'check')})]"
            )
        if check.dependency is None:
            raise TypeError(
                f"dependencies of {where}: Depends() without a callable has no annotation "
                "to call here; name it: Depends(check)"
            )
    return tuple(given or ())


def depends_marker(
    annotation: Any, parameter: inspect.Parameter, where: str
) -> DependsMarker | None:
    """The ``Depends`` of one parameter (``Annotated`` or its default), or None."""
    found = [parameter.default] if isinstance(parameter.default, DependsMarker) else []
    if typing.get_origin(annotation) is typing.Annotated:
        found += [meta for meta in annotation.__metadata__ if isinstance(meta, DependsMarker)]
    if not found:
        return None
    if len(found) > 1 or isinstance(parameter.default, Marker):
        raise TypeError(
            f"parameter {parameter.name!r} of {where} has two markers, one of them "
            f"{found[0]!r}; keep one"
        )
    marker = found[0]
    if marker.dependency is None:  # Depends(): the annotation's class is the dependency
        target = annotation
        if typing.get_origin(target) is typing.Annotated:
            target = typing.get_args(target)[0]
        if not callable(target) or target is inspect.Parameter.empty:
            raise TypeError(
                f"parameter {parameter.name!r} of {where} is Depends() without a callable, "
                f"and its annotation {target!r} cannot be called; annotate it with a class "
                "or name the dependency: Depends(fn)"
            )
        marker = DependsMarker(target, use_cache=marker.use_cache)
    return marker


class Dependency:
    """One ``Depends(fn)`` of a binding, compiled when the route is added.

    ``binding`` binds ``fn``'s own parameters by the handler's rules (its own
    ``Depends`` included); ``mode`` says how to call it: ``"async"``,
    ``"sync"`` (a worker thread), ``"generator"`` or ``"async generator"``.
    ``fn`` already in ``chain`` is a cycle: a TypeError naming it.
    """

    __slots__ = (
        "bind",
        "binding",
        "call",
        "chain",
        "mode",
        "overridden",
        "path_params",
        "route",
        "use_cache",
    )

    def __init__(
        self,
        marker: DependsMarker,
        path_params: dict[str, Convertor[Any]],
        route: str,
        chain: tuple[Callable[..., Any], ...],
        bind: Bind,
        call: Callable[..., Any] | None = None,
    ) -> None:
        fn = marker.dependency if call is None else call
        assert fn is not None  # Depends() was resolved by depends_marker / depends_list
        if fn in chain:
            names = " -> ".join(callable_name(f) for f in (*chain[chain.index(fn) :], fn))
            raise TypeError(
                f"dependency cycle in {route}: {names}; a dependency cannot depend on itself"
            )
        self.call = fn
        self.use_cache = marker.use_cache
        self.path_params = path_params
        self.route = route
        self.chain = chain
        self.mode = call_mode(fn)
        self.bind = bind
        self.binding = bind(fn, path_params, route, chain=(*chain, fn) if chain else (fn,))
        # The overrides met so far (app.dependency_overrides), each compiled once.
        self.overridden: dict[Callable[..., Any], Dependency] = {}

    def override(self, fn: Callable[..., Any]) -> Dependency:
        """This dependency with ``fn`` called instead, compiled on first use."""
        found = self.overridden.get(fn)
        if found is None:
            marker = DependsMarker(fn, use_cache=self.use_cache)
            found = Dependency(marker, self.path_params, self.route, self.chain, self.bind)
            self.overridden[fn] = found
        return found

    def __repr__(self) -> str:
        return f"<Dependency {callable_name(self.call)} ({self.mode})>"


def call_mode(fn: Callable[..., Any]) -> str:
    target = unwrap_partial(fn)
    if not (inspect.isfunction(target) or inspect.ismethod(target)) and callable(target):
        target = type(target).__call__
    if inspect.isasyncgenfunction(target):
        return "async generator"
    if inspect.isgeneratorfunction(target):
        return "generator"
    return "async" if is_async_callable(fn) else "sync"
