"""Which values of a plain Struct type msgspec's JSON encoder writes as ``_json.dumps`` does.

A route declared to return a ``msgspec.Struct`` whose fields, all the way
down, are plain JSON (str, int, float, bool, None; lists, tuples and
str-keyed dicts of them; such Structs; unions and ``Annotated`` of these) is
answered with ``msgspec.json.encode`` (``_json.struct_dumps``). For values
of the types their annotations name, msgspec writes the bytes ``dumps``
writes (``json.dumps``'s) except for floats:

- NaN and ±Infinity: msgspec writes ``null``; ``dumps`` refuses them
  (SPEC: ValueError);
- ``repr`` writes an exponent from 1e16 up (``1e+16``) and below 1e-4
  (``1e-05``); msgspec writes ``1e16``, ``0.00001``, ``1e-7``.

So a float is written alike when it is zero or 1e-4 <= |x| < 1e16; a NaN
fails every comparison, so the same test refuses it.

``float_check(annotation)`` compiles, when the route is added, a check of
the floats of one value of that type: straight-line code made with
``exec`` that reads each place the annotation declares a float (a field, the
members of a list or dict, inside nested Structs, written out inline; a
recursive Struct gets a function of its own) and compares it. Values are
taken to be what their annotations say (mypy holds a Struct's constructor
to them; msgspec decodes nothing else): a ``str`` or ``int`` field is not
looked at. A float place holding something else either compares as a
number (an int, which both encoders write alike) or raises TypeError, which
sends the value to ``dumps`` as a failed check does; ``dumps`` then decides
exactly, so the check may refuse more than it must, never less.
"""

from __future__ import annotations

import keyword
import types
import typing
from collections.abc import Callable
from typing import Any

import msgspec

__all__ = ["float_check"]

# perf: the floats themselves are compared (about 200 instructions each), not
# the encoder's output scanned (a regex and three byte scans, 8,000 on POST /items).
_FLOAT = "if not (1e-4 <= {0} < 1e16 or -1e16 < {0} <= -1e-4 or {0} == 0):"
_TRUSTED = (str, int, bool, type(None))  # written alike by both encoders


class _NotPlain(Exception):
    """An annotation that is not plain JSON: no Struct encoder for it."""


class _Compiler:
    """Writes the source of one check: lines that ``return False`` on a float out of range."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {}
        self.functions: dict[type, str] = {}  # recursive Structs -> their function's name
        self.expanding: list[type] = []  # the Structs being written out, outermost first

    def constant(self, prefix: str, value: Any) -> str:
        name = f"{prefix}{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def lines(self, annotation: Any, value: str, depth: int) -> list[str]:
        """The checks of the floats in ``value`` (an expression) of type ``annotation``."""
        if isinstance(annotation, type) and annotation in _TRUSTED:
            return []
        if annotation is float:
            return [_FLOAT.format(value), "    return False"]
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin is typing.Annotated:
            return self.lines(args[0], value, depth)
        if origin is typing.Union or origin is types.UnionType:
            return self.union(args, value, depth)
        item = f"x{depth}"
        if origin is list or (origin is tuple and args[-1:] == (Ellipsis,)):
            if not args:
                raise _NotPlain
            inner = self.lines(args[0], item, depth + 1)
            return [f"for {item} in {value}:", *_indent(inner)] if inner else []
        if origin is tuple and args:
            found = []
            for index, arg in enumerate(args):
                inner = self.lines(arg, item, depth + 1)
                if inner:
                    found += [f"{item} = {value}[{index}]", *inner]
            return found
        if origin is dict:
            if len(args) != 2 or args[0] is not str:
                raise _NotPlain
            inner = self.lines(args[1], item, depth + 1)
            return [f"for {item} in {value}.values():", *_indent(inner)] if inner else []
        if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
            return self.struct(annotation, value, depth)
        raise _NotPlain

    def union(self, args: tuple[Any, ...], value: str, depth: int) -> list[str]:
        args = tuple(_unwrap(arg) for arg in args)
        checked = [(arg, self.lines(arg, value, depth)) for arg in args]
        checked = [(arg, inner) for arg, inner in checked if inner]
        if not checked:
            return []
        trusted = tuple(arg for arg in args if isinstance(arg, type) and arg in _TRUSTED)
        if len(checked) == 1 and len(trusted) == len(args) - 1:
            # One member with floats (float | None, a Struct | None), the others trusted.
            if trusted == (type(None),):
                guard = f"if {value} is not None:"
            else:
                guard = f"if type({value}) not in {self.constant('T', trusted)}:"
            return [guard, *_indent(checked[0][1])]
        # Several: each member's checks under a test of the value's type.
        found = []
        for arg, inner in checked:
            kind = typing.get_origin(arg) or arg
            kinds = (list, tuple) if kind in (list, tuple) else (kind,)
            found += [f"if type({value}) in {self.constant('T', kinds)}:", *_indent(inner)]
        return found

    def struct(self, cls: type, value: str, depth: int) -> list[str]:
        if cls in self.expanding or cls in self.functions:
            # A Struct inside itself: its checks are a function that calls itself.
            name = self.functions.get(cls) or self.function(cls)
            return [f"if not {name}({value}):", "    return False"]
        self.expanding.append(cls)
        checks = self.fields(cls, value, depth)
        self.expanding.pop()
        return checks

    def fields(self, cls: type, value: str, depth: int) -> list[str]:
        try:
            found = msgspec.structs.fields(cls)
        except Exception:  # an annotation that does not resolve
            raise _NotPlain from None
        checks = []
        item = f"x{depth}"
        for field in found:
            if not field.name.isidentifier() or keyword.iskeyword(field.name):
                raise _NotPlain  # defstruct takes any name: not one to write as x.<name>
            inner = self.lines(field.type, item, depth + 1)
            if inner:
                checks += [f"{item} = {value}.{field.name}", *inner]
        return checks

    def function(self, cls: type) -> str:
        name = self.functions[cls] = self.constant("check", None)
        self.define(name, self.fields(cls, "v", 0))
        return name

    def define(self, name: str, body: list[str]) -> None:
        source = "\n".join([f"def {name}(v):", *_indent(body), "    return True"])
        exec(source, self.namespace)  # our own source, from field names


def _unwrap(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


def float_check(annotation: Any) -> Callable[[Any], bool] | None:
    """A check that msgspec writes the floats of an ``annotation`` (a Struct) as ``dumps`` does.

    None when ``annotation`` is not a Struct of plain JSON fields all the
    way down. The check takes an instance of exactly ``annotation`` (its
    caller tests the type) and answers False for a float it cannot vouch
    for; it may raise TypeError for a value its annotation does not describe.
    """
    if not (isinstance(annotation, type) and issubclass(annotation, msgspec.Struct)):
        return None
    compiler = _Compiler()
    try:
        body = compiler.struct(annotation, "v", 0)
    except _NotPlain:
        return None
    compiler.define("check", body)  # no float anywhere: a check that answers True
    check: Callable[[Any], bool] = compiler.namespace["check"]
    return check
