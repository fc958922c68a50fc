"""Markers that say where a handler parameter comes from and what it must satisfy.

A marker is given as ``Annotated[T, Query(...)]`` or as the parameter's
default (``limit: int = Query(10)``); SPEC.md "Typed request data" lists the
sources. Without a marker a parameter is bound by the rules of "Handler
parameters" (a path name, else a structured type is the JSON body, else a
query parameter)::

    @app.get("/items/{item_id}")
    async def read(
        item_id: Annotated[int, Path(ge=1)],
        q: Annotated[str | None, Query(max_length=50)] = None,
        user_agent: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]: ...

A marker is an immutable description: it is checked (constraint types, the
pattern, where it is used) when the route is added, and the binder in
``microweb._params`` compiles it into what each request runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:
    from typing_extensions import ParamSpec, Unpack

    P = ParamSpec("P")

__all__ = ["Body", "Cookie", "Depends", "File", "Form", "Header", "Path", "Query"]


class _Required:
    """The default of a marker given none: the parameter is required."""

    def __repr__(self) -> str:
        return "<required>"


REQUIRED: Any = _Required()


class Options(TypedDict, total=False):
    """The keyword arguments every marker takes."""

    alias: str | None
    gt: float | None
    ge: float | None
    lt: float | None
    le: float | None
    multiple_of: float | None
    min_length: int | None
    max_length: int | None
    pattern: str | None
    title: str | None
    description: str | None
    examples: list[Any] | None
    deprecated: bool | None
    include_in_schema: bool


_CONSTRAINTS = ("gt", "ge", "lt", "le", "multiple_of", "min_length", "max_length", "pattern")


class Marker:
    """What every marker holds: a default, an alias, constraints and OpenAPI fields.

    ``default`` absent (or ``...``) means required. The constraints are
    pydantic's: ``gt``, ``ge``, ``lt``, ``le`` and ``multiple_of`` bound a
    number; ``min_length`` and ``max_length`` a string's characters or a
    list's items; ``pattern`` is a regular expression a string must contain
    a match of (``re.search``; anchor it with ``^...$`` to match the whole).
    ``title``, ``description``, ``examples``, ``deprecated`` and
    ``include_in_schema`` document the parameter in OpenAPI.
    """

    #: The source: "path", "query", "header", "cookie", "body", "form" or
    #: "file"; a 422's ``loc`` names it, but for forms and files, which it puts
    #: under "body" (FastAPI's rule).
    source = ""

    __slots__ = (
        "alias",
        "default",
        "deprecated",
        "description",
        "examples",
        "ge",
        "gt",
        "include_in_schema",
        "le",
        "lt",
        "max_length",
        "min_length",
        "multiple_of",
        "pattern",
        "title",
    )

    def __init__(self, default: Any = REQUIRED, **options: Unpack[Options]) -> None:
        unknown = set(options) - set(Options.__annotations__)
        if unknown:
            names = ", ".join(sorted(unknown))
            raise TypeError(f"{self._name()}() got unknown options: {names}")
        self.default = REQUIRED if default is ... else default
        self.alias = options.get("alias")
        self.gt = options.get("gt")
        self.ge = options.get("ge")
        self.lt = options.get("lt")
        self.le = options.get("le")
        self.multiple_of = options.get("multiple_of")
        self.min_length = options.get("min_length")
        self.max_length = options.get("max_length")
        self.pattern = options.get("pattern")
        self.title = options.get("title")
        self.description = options.get("description")
        self.examples = options.get("examples")
        self.deprecated = options.get("deprecated")
        self.include_in_schema = options.get("include_in_schema", True)

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def constraints(self) -> dict[str, Any]:
        """The constraints given, by name."""
        return {
            name: getattr(self, name) for name in _CONSTRAINTS if getattr(self, name) is not None
        }

    @classmethod
    def _name(cls) -> str:
        return cls.__name__.removesuffix("Marker")

    def __repr__(self) -> str:
        shown = [] if self.required else [repr(self.default)]
        if self.alias is not None:
            shown.append(f"alias={self.alias!r}")
        shown += [f"{name}={value!r}" for name, value in self.constraints().items()]
        return f"{self._name()}({', '.join(shown)})"


class QueryMarker(Marker):
    source = "query"
    __slots__ = ()


class PathMarker(Marker):
    source = "path"
    __slots__ = ()


class HeaderMarker(Marker):
    source = "header"
    __slots__ = ("convert_underscores",)

    def __init__(
        self,
        default: Any = REQUIRED,
        *,
        convert_underscores: bool = True,
        **options: Unpack[Options],
    ) -> None:
        super().__init__(default, **options)
        self.convert_underscores = convert_underscores


class CookieMarker(Marker):
    source = "cookie"
    __slots__ = ()


class BodyMarker(Marker):
    source = "body"
    __slots__ = ("embed",)

    def __init__(
        self, default: Any = REQUIRED, *, embed: bool = False, **options: Unpack[Options]
    ) -> None:
        super().__init__(default, **options)
        self.embed = embed


class FormMarker(Marker):
    source = "form"
    __slots__ = ("discriminator",)

    def __init__(
        self,
        default: Any = REQUIRED,
        *,
        discriminator: str | None = None,
        **options: Unpack[Options],
    ) -> None:
        super().__init__(default, **options)
        self.discriminator = discriminator


class FileMarker(Marker):
    source = "file"
    __slots__ = ()


def _as_default(marker: Callable[P, object], doc: str) -> Callable[P, Any]:
    """``marker`` typed to return Any, so ``x: int = Query(1)`` type-checks (as in FastAPI)."""

    def make(*args: P.args, **kwargs: P.kwargs) -> Any:
        return marker(*args, **kwargs)

    make.__name__ = make.__qualname__ = marker.__name__.removesuffix("Marker")
    make.__doc__ = doc
    return make


Query = _as_default(
    QueryMarker, "A query-string parameter (the default for scalars and lists of scalars)."
)
Path = _as_default(
    PathMarker, "A path parameter (the default for a name in the route's path); always required."
)
Header = _as_default(
    HeaderMarker,
    """A request header: ``user_agent`` reads ``user-agent``; ``list[str]`` gets every line.

    ``convert_underscores=False`` keeps the name as it is; ``alias`` names the
    header outright.
    """,
)
Cookie = _as_default(CookieMarker, "A request cookie of the parameter's name (or ``alias``).")
Body = _as_default(
    BodyMarker,
    """The JSON body, or with ``embed=True`` (or beside other body parameters) its key.

    A structured annotation (dataclass, TypedDict, NamedTuple,
    ``msgspec.Struct``, lists and dicts of them) is the body without a marker;
    ``Body()`` makes any other type one, and carries constraints.
    """,
)

Form = _as_default(
    FormMarker,
    """A field of a urlencoded or multipart form, converted like a query parameter.

    ``list[X]`` gets every value of a repeated field; an empty field counts
    as missing. A structured annotation (dataclass, TypedDict,
    ``msgspec.Struct``, attrs or pydantic class) under ``Form()`` takes the
    whole form, a field per key; so does a union of pydantic models, with
    ``discriminator`` naming the field that tells them apart (pydantic's
    rule), or of tagged ``msgspec.Struct`` classes. A 422 for a form puts it
    under ``"body"``::

        @app.post("/login")
        async def login(username: Annotated[str, Form()], password: Annotated[str, Form()]): ...
    """,
)
File = _as_default(
    FileMarker,
    """A file of a multipart form: ``UploadFile``, ``bytes`` (its content) or a list of either.

    ``UploadFile | None = None`` is optional. A parameter annotated
    ``UploadFile`` (or a list of them) is a file without the marker. The
    files are closed, and their temporary files removed, when the response
    is done.
    """,
)


class DependsMarker:
    """``Depends(fn)``: the parameter is what ``fn`` gives, ``fn`` bound like a handler.

    ``use_cache`` (the default) makes one call per request however often the
    request's dependencies name ``fn``; False calls it each time it is named.
    ``Depends()`` with no ``fn`` calls the parameter's annotation, a class
    (``commons: Annotated[Commons, Depends()]``).
    """

    __slots__ = ("dependency", "use_cache")

    def __init__(
        self, dependency: Callable[..., Any] | None = None, *, use_cache: bool = True
    ) -> None:
        if dependency is not None and not callable(dependency):
            raise TypeError(f"Depends() takes a callable, got {dependency!r}")
        self.dependency = dependency
        self.use_cache = use_cache

    def __repr__(self) -> str:
        name = (
            ""
            if self.dependency is None
            else getattr(self.dependency, "__qualname__", repr(self.dependency))
        )
        cache = "" if self.use_cache else ", use_cache=False"
        return f"Depends({name}{cache})"


Depends = _as_default(
    DependsMarker,
    """The result of calling ``dependency``, bound by the handler's rules, once per request.

    ``dependency`` is a function (run in a worker thread), an ``async def``,
    or a generator (sync or async) yielding one value, whose code after
    ``yield`` runs once the response is sent and its background tasks ran.
    Its parameters are bound like a handler's, ``Depends`` included.
    """,
)
