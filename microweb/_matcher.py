"""Route path templates, and the structure that finds the one a request path names.

Theory of operation
-------------------
SPEC.md, "App and routing": matching cost must not grow with the number of
routes, and static segments win over parameters.

``compile_path`` parses a template such as ``/items/{item_id:int}`` once, when
the route is added, and validates it eagerly. Its ``shape`` erases parameter
names (``/items/{:int}``): two templates with the same shape match exactly the
same requests, so the router treats them as one path.

A ``Matcher`` stores one value per shape, in one of two places:

1. Fully static templates live in a dict keyed by the whole path, tried first:
   a request for one costs a single dict lookup.
2. The rest live in a segment tree. Segment k of a template (the text between
   its k-th and (k+1)-th "/") is an edge from depth k to depth k+1. For the
   request's segment, a node tries its edges in this order:

   a. the static child for exactly that text (a dict lookup);
   b. whole-segment parameters, most specific first: int, float, uuid, str;
   c. segments mixing text and parameters (``r{n:int}x``, ``{name}.{ext}``),
      one compiled regex per segment shape, in the order added;
   d. tails: the template from its first segment that holds a ``{p:path}``
      parameter on (``{p:path}``, ``{p:path}/meta``), one compiled regex over
      the rest of the request path, in the order added. A tail consumes the
      whole remainder, so it always ends its route.

   The search is depth first with backtracking: when an edge fails deeper
   down, the next edge of the node above is tried. With routes ``/a/b/c`` and
   ``/a/{x}/d``, ``/a/b/d`` follows ``b``, fails at ``d``, comes back and
   matches through ``{x}``. The first complete match in this order wins.

Invariants:

- A node is reached by one edge from its parent, and at depth k the only input
  is the request's segment k, so one match visits each node at most once. Its
  cost depends on the routes that share the request's prefix, not on how many
  routes there are: among 10,000 routes ``/r{i}/items/{item_id}``, matching
  ``/r9999/items/5`` is two dict lookups and one regex.
- A str parameter never matches an empty segment, and ``/items`` and
  ``/items/`` are different paths (the trailing empty segment is a static
  edge ``""``); ``/`` is the root, a static path like any other.
- Values are converted as their edge is taken. A convertor that refuses a
  string its regex matched (``ValueError``: an int past Python's digit limit)
  makes that edge fail; ``match`` never raises for a request path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from microweb._convertors import CONVERTORS, Convertor

__all__ = ["CompiledPath", "Matcher", "Param", "compile_path"]

T = TypeVar("T")

# A parameter inside braces: "{name}" or "{name:kind}". Nested or stray braces
# show up in the text between two matches and are refused there.
_FIELD = re.compile(r"\{([^{}]*)\}")

# Whole-segment parameters are tried most specific first; any other kind goes last.
_SPECIFICITY = {"int": 0, "float": 1, "uuid": 2, "str": 3}

FullMatch = Callable[..., "re.Match[str] | None"]
SegmentCheck = Callable[[str], object]  # None when the segment does not match
Convert = Callable[[str], Any]


@dataclass(frozen=True)
class Param:
    """One ``{name:kind}`` of a template."""

    name: str
    convertor: Convertor[Any]


Part = str | Param  # a run of literal text, or a parameter
Segment = tuple[Part, ...]  # the parts between two "/" ("" literals dropped)


class CompiledPath:
    """A validated route path template; build one with ``compile_path``."""

    __slots__ = ("_parts", "_segments", "is_static", "params", "shape", "template")

    def __init__(self, template: str, parts: tuple[Part, ...]) -> None:
        self.template = template
        self.params = tuple(part for part in parts if isinstance(part, Param))
        self.is_static = not self.params
        self.shape = "".join(
            part if isinstance(part, str) else "{:" + part.convertor.name + "}" for part in parts
        )
        self._parts = parts
        self._segments = _split_segments(parts)

    def format(self, **values: Any) -> str:
        """The concrete path for these parameter values, e.g. ``format(item_id=5)``.

        Each value goes through its convertor's ``to_string`` and is inserted as
        it comes out (no percent-quoting here). A missing or extra name, or a
        value the convertor refuses, is a ``ValueError`` naming it and the template.
        """
        names = {param.name for param in self.params}
        missing = sorted(names - values.keys())
        if missing:
            raise ValueError(f"missing path parameter {_names(missing)} for {self.template!r}")
        extra = sorted(values.keys() - names)
        if extra:
            raise ValueError(f"unexpected path parameter {_names(extra)} for {self.template!r}")
        out: list[str] = []
        for part in self._parts:
            if isinstance(part, str):
                out.append(part)
                continue
            try:
                out.append(part.convertor.to_string(values[part.name]))
            except ValueError as exc:
                raise ValueError(
                    f"path parameter {part.name!r} of {self.template!r}: {exc}"
                ) from exc
            except TypeError as exc:
                raise TypeError(
                    f"path parameter {part.name!r} of {self.template!r}: {exc}"
                ) from exc
        return "".join(out)

    def __repr__(self) -> str:
        return f"compile_path({self.template!r})"


def compile_path(template: str) -> CompiledPath:
    """Parse and validate a route path template such as ``/items/{item_id:int}``.

    Raises ``ValueError`` naming the template for: a template not starting
    with "/", an unknown converter, a parameter name that is not a Python
    identifier, a name used twice, and unbalanced or empty braces.
    """
    if not template.startswith("/"):
        raise ValueError(f"path template {template!r} must start with '/'")
    parts: list[Part] = []
    seen: set[str] = set()
    end = 0
    for field in _FIELD.finditer(template):
        _add_literal(parts, template[end : field.start()], template)
        end = field.end()
        name, colon, kind = field.group(1).partition(":")
        if not colon:
            if not name:
                raise ValueError(f"empty braces '{{}}' in path template {template!r}")
            kind = "str"
        if not name.isidentifier():
            raise ValueError(
                f"path parameter name {name!r} in {template!r} is not a Python identifier"
            )
        convertor = CONVERTORS.get(kind)
        if convertor is None:
            raise ValueError(
                f"unknown path converter {kind!r} in {template!r}; "
                f"expected one of {', '.join(sorted(CONVERTORS))}"
            )
        if name in seen:
            raise ValueError(f"path parameter {name!r} appears twice in {template!r}")
        seen.add(name)
        parts.append(Param(name, convertor))
    _add_literal(parts, template[end:], template)
    return CompiledPath(template, tuple(parts))


def _add_literal(parts: list[Part], text: str, template: str) -> None:
    if "{" in text or "}" in text:
        raise ValueError(f"unbalanced braces in path template {template!r}")
    if text:
        parts.append(text)


def _split_segments(parts: tuple[Part, ...]) -> tuple[Segment, ...]:
    segments: list[list[Part]] = [[]]
    for part in parts:
        if isinstance(part, Param):
            segments[-1].append(part)
            continue
        first, *rest = part.split("/")
        if first:
            segments[-1].append(first)
        segments.extend([piece] if piece else [] for piece in rest)
    # The template starts with "/", so the first "segment" is the nothing before it.
    return tuple(tuple(segment) for segment in segments[1:])


def _names(names: list[str]) -> str:
    return ", ".join(repr(name) for name in names)


class _Node(Generic[T]):
    """One depth of the segment tree; see the module docstring for the order of its edges."""

    __slots__ = ("by_kind", "leaf", "mixed", "params", "static", "tails")

    def __init__(self) -> None:
        self.static: dict[str, _Node[T]] = {}
        # Whole-segment parameters by convertor name, and the same edges in the
        # order they are tried: (segment check, convert, child).
        self.by_kind: dict[str, tuple[SegmentCheck, Convert, _Node[T]]] = {}
        self.params: list[tuple[SegmentCheck, Convert, _Node[T]]] = []
        # By segment shape, in the order added: (fullmatch, converts, child).
        self.mixed: dict[str, tuple[FullMatch, tuple[Convert, ...], _Node[T]]] = {}
        # By tail shape, in the order added: (fullmatch, converts, value).
        self.tails: dict[str, tuple[FullMatch, tuple[Convert, ...], T]] = {}
        self.leaf: T | None = None  # the value of the route that ends here


class Matcher(Generic[T]):
    """Finds the value stored for the route path a request path names.

    One value per shape: ``add(compile_path("/items/{id:int}"), route)``, then
    ``match("/items/5")`` gives ``(route, [5])``. See the module docstring.
    """

    def __init__(self) -> None:
        self._static: dict[str, T] = {}
        self._root: _Node[T] = _Node()
        self._values: dict[str, T] = {}  # by shape
        self._templates: dict[str, str] = {}  # by shape: the template first added
        # perf: callers on a hot path look static paths up directly (no tuple built).
        self.match_static: Callable[[str], T | None] = self._static.get

    def __len__(self) -> int:
        return len(self._values)

    def get(self, path: CompiledPath) -> T | None:
        """The value stored for ``path``'s shape, or None."""
        return self._values.get(path.shape)

    def add(self, path: CompiledPath, value: T) -> None:
        """Store ``value`` for ``path``; ``ValueError`` if its shape is already present."""
        existing = self._templates.get(path.shape)
        if existing is not None:
            raise ValueError(
                f"path {path.template!r} is already present as {existing!r} "
                f"(same shape {path.shape!r})"
            )
        if value is None:
            raise TypeError(f"cannot store None for path {path.template!r}: get() uses None")
        if path.is_static:
            self._static[path.template] = value
        else:
            _insert(self._root, path._segments, value)
        self._values[path.shape] = value
        self._templates[path.shape] = path.template

    def match(self, path: str) -> tuple[T, list[Any]] | None:
        """The value for request path ``path`` and its converted parameters, or None.

        The parameters come in the order of the matched shape's ``params``.
        """
        # perf: a static route is one dict hit, before any tree work.
        value = self._static.get(path)
        if value is not None:
            return value, []
        if not path.startswith("/"):
            return None
        # perf: one list for the whole search, appended to and cut back on backtracking.
        values: list[Any] = []
        found = _search(self._root, path, 1, values)
        return None if found is None else (found, values)


def _search(node: _Node[T], path: str, pos: int, values: list[Any]) -> T | None:
    """The value of the first route under ``node`` matching ``path[pos:]``, or None.

    ``pos`` is where the request's next segment starts (just after a "/"), or -1
    once the path is used up.
    """
    if pos < 0:
        return node.leaf
    end = path.find("/", pos)
    if end < 0:
        segment = path[pos:]
        after = -1
    else:
        segment = path[pos:end]
        after = end + 1

    child = node.static.get(segment)
    if child is not None:
        found = _search(child, path, after, values)
        if found is not None:
            return found

    for check, convert, child in node.params:
        if check(segment) is None:
            continue
        try:
            value = convert(segment)
        except ValueError:
            continue
        values.append(value)
        found = _search(child, path, after, values)
        if found is not None:
            return found
        values.pop()

    mark = len(values)
    for fullmatch, converts, child in node.mixed.values():
        match = fullmatch(segment)
        if match is None or not _convert_into(values, converts, match.groups()):
            continue
        found = _search(child, path, after, values)
        if found is not None:
            return found
        del values[mark:]

    for fullmatch, converts, tail_value in node.tails.values():
        # perf: match the rest of the path in place (fullmatch from pos), no slice of it.
        match = fullmatch(path, pos)
        if match is not None and _convert_into(values, converts, match.groups()):
            return tail_value
    return None


def _convert_into(
    values: list[Any], converts: tuple[Convert, ...], texts: tuple[Any, ...]
) -> bool:
    """Append each text converted; False (and ``values`` unchanged) if a convertor refuses."""
    try:
        converted = [convert(text) for convert, text in zip(converts, texts, strict=True)]
    except ValueError:
        return False
    values.extend(converted)
    return True


def _insert(node: _Node[T], segments: tuple[Segment, ...], value: T) -> None:
    for depth, segment in enumerate(segments):
        if any(isinstance(part, Param) and part.convertor.name == "path" for part in segment):
            tail = segments[depth:]
            shape = "/".join(_segment_shape(piece) for piece in tail)
            pattern = "/".join(_segment_regex(piece) for piece in tail)
            node.tails[shape] = (_fullmatcher(pattern), _converts(tail), value)
            return
        if all(isinstance(part, str) for part in segment):
            node = node.static.setdefault("".join(map(str, segment)), _Node())
        elif len(segment) == 1 and isinstance(param := segment[0], Param):
            node = _param_child(node, param.convertor)
        else:
            shape = _segment_shape(segment)
            edge = node.mixed.get(shape)
            if edge is None:
                edge = (_fullmatcher(_segment_regex(segment)), _converts((segment,)), _Node())
                node.mixed[shape] = edge
            node = edge[2]
    node.leaf = value


def _param_child(node: _Node[T], convertor: Convertor[Any]) -> _Node[T]:
    edge = node.by_kind.get(convertor.name)
    if edge is None:
        edge = (convertor.segment_matcher(), convertor.convert, _Node())
        node.by_kind[convertor.name] = edge
        kinds = sorted(node.by_kind, key=lambda kind: _SPECIFICITY.get(kind, len(_SPECIFICITY)))
        node.params = [node.by_kind[kind] for kind in kinds]
    return edge[2]


def _fullmatcher(regex: str) -> FullMatch:
    """Compile a segment's or a tail's regex once, when its route is added."""
    # perf: edges keep the bound fullmatch method; matching never compiles a regex.
    return re.compile(regex, re.DOTALL).fullmatch


def _segment_shape(segment: Segment) -> str:
    return "".join(
        part if isinstance(part, str) else "{:" + part.convertor.name + "}" for part in segment
    )


def _segment_regex(segment: Segment) -> str:
    # Each parameter is one capturing group: convertor regexes have none of their own.
    return "".join(
        re.escape(part) if isinstance(part, str) else "(" + part.convertor.regex + ")"
        for part in segment
    )


def _converts(segments: tuple[Segment, ...]) -> tuple[Convert, ...]:
    return tuple(
        part.convertor.convert
        for segment in segments
        for part in segment
        if isinstance(part, Param)
    )
