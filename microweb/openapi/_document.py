"""The OpenAPI 3.1 document of an app, read from what its routes decided.

SPEC.md "OpenAPI". Nothing here runs per request: ``App.openapi()`` calls
``get_openapi`` once and keeps the result. Each HTTP ``Route`` the app
answers (included routers' with their prefix, mounted microweb apps' and
routers' under the mount's prefix, recursively) is one operation per method
it declares (HEAD and OPTIONS only when declared); WebSocket routes and
routes with ``include_in_schema=False`` are left out.

An operation is made of what the route holds:

- ``operationId``: the operation id given, else the route's name (a route
  with several methods adds ``_<method>``); two operations with one id raise
  ``ValueError`` naming both;
- ``summary`` (else the name, made a title: ``read_item`` -> ``Read Item``),
  ``description`` (else the handler's docstring, up to a form feed), ``tags``,
  ``deprecated``;
- ``parameters``: the path, query, header and cookie values of the handler's
  binding and of its dependencies' (``_params.Binding``), each schema from the
  annotation with the marker's constraints, default and documentation;
- ``requestBody``: the JSON body (one parameter's type, or an object of the
  embedded keys, ``Body_<operationId>``), or a form (``form_body``);
- ``responses``: the route's status (else its response class's default) with
  the class's media type and, for JSON, the schema of ``response_model`` or
  the return annotation; 422 where a value is validated, 400 and 413 where
  microweb reads the query string or the body, 404 where a path value may not
  match its convertor, 401 where a security dependency reads credentials;
  then the route's ``responses=``.

A dependency (anywhere in the tree) whose callable has ``scheme_name`` (str)
and ``scheme`` (an OpenAPI Security Scheme Object) adds that scheme to
``components/securitySchemes`` and a requirement to the operation's
``security``, with the scopes of the ``Security(..., scopes=...)`` markers
on the way to it; its own parameters are the scheme's business and not
listed.
"""

from __future__ import annotations

import http
import inspect
import re
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from microweb._body import BodyReader, is_structured
from microweb._endpoint import Endpoint
from microweb._mount import Mount, MountEntry
from microweb._params import Binding, type_hints
from microweb._route import Route
from microweb._values import ValueParam, unwrap_optional
from microweb.datastructures import UploadFile
from microweb.openapi._schema import (
    HTTP_VALIDATION_ERROR,
    REF,
    Registry,
    constraint_keywords,
    json_value,
    title,
)
from microweb.params import REQUIRED, BodyMarker, DependsMarker, Marker
from microweb.responses import JSONResponse, Response
from microweb.routing import Router

__all__ = ["form_body", "get_openapi"]

_METHODS = ("GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE")
_PARAM = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")
# What a path convertor matches beyond its type (``_convertors``): unsigned numbers.
_CONVERTOR_SCHEMAS: dict[str, dict[str, Any]] = {
    "int": {"type": "integer", "minimum": 0},
    "float": {"type": "number", "minimum": 0},
    "uuid": {"type": "string", "format": "uuid"},
    "str": {"type": "string"},
    "path": {"type": "string"},
}
_FILE_SCHEMA = {"type": "string", "format": "binary"}


def get_openapi(
    *,
    title: str,
    version: str,
    routes: Iterable[Any],
    description: str | None = None,
    summary: str | None = None,
    servers: list[dict[str, Any]] | None = None,
    openapi_version: str = "3.1.0",
) -> dict[str, Any]:
    """The OpenAPI document (a dict, JSON-ready) of ``routes``.

    ``routes`` is what ``app.routes`` gives (compiled endpoints), ``Route``
    and ``Mount`` objects, or a mixture; a mount of a microweb ``App`` or
    ``Router`` is walked under its prefix. ``App.openapi()`` calls this with
    the app's routes, mounts and settings::

        document = get_openapi(title="Shop", version="1.0", routes=app.routes)

    Raises ``ValueError`` when two operations get one ``operationId``.
    """
    info: dict[str, Any] = {"title": title, "version": version}
    if summary:
        info["summary"] = summary
    if description:
        info["description"] = description
    document: dict[str, Any] = {"openapi": openapi_version, "info": info}
    if servers:
        document["servers"] = servers
    builder = _Builder()
    for path, route, response_class in _operations(routes, ""):
        builder.add(path, route, response_class)
    document["paths"] = builder.paths
    components: dict[str, Any] = {}
    schemas = builder.registry.finish()
    if schemas:
        components["schemas"] = dict(sorted(schemas.items()))
    if builder.security_schemes:
        components["securitySchemes"] = builder.security_schemes
    if components:
        document["components"] = components
    return document


def _operations(routes: Iterable[Any], prefix: str) -> Iterator[tuple[str, Route, type[Response]]]:
    """``(path prefix, route, response class)`` of every HTTP route, mounts walked."""
    for item in routes:
        if isinstance(item, Endpoint):
            yield prefix, item.route, item.effective_response_class
        elif isinstance(item, Route):
            yield prefix, item, item.response_class or JSONResponse
        elif isinstance(item, (Mount, MountEntry)):
            where = item.path if isinstance(item, Mount) else item.prefix
            inner = getattr(item.app, "router", item.app)  # an App's router, or a Router
            if isinstance(inner, Router):
                yield from _operations([*inner.routes, *inner.mounts], prefix + where)


class _Info(NamedTuple):
    """What a handler's signature says of one parameter, for the document only."""

    annotation: Any
    marker: Marker | None
    default: Any = REQUIRED  # the parameter's default, or the marker's
    depends: DependsMarker | None = None


def _signature(fn: Callable[..., Any]) -> dict[str, _Info]:
    """Each parameter's annotation (``Annotated`` unwrapped) and marker, by name."""
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return {}
    hints = type_hints(fn, repr(fn))
    found: dict[str, _Info] = {}
    for name, parameter in parameters.items():
        annotation = hints.get(name, inspect.Parameter.empty)
        marker = parameter.default if isinstance(parameter.default, Marker) else None
        depends = parameter.default if isinstance(parameter.default, DependsMarker) else None
        if typing.get_origin(annotation) is typing.Annotated:
            for meta in annotation.__metadata__:
                if isinstance(meta, Marker):
                    marker = meta
                elif isinstance(meta, DependsMarker):
                    depends = meta
            annotation = typing.get_args(annotation)[0]
        default = parameter.default  # ``x: Annotated[str, Form()] = ""``
        if default is inspect.Parameter.empty or isinstance(default, (Marker, DependsMarker)):
            default = REQUIRED if marker is None else marker.default
        found[name] = _Info(annotation, marker, default, depends)
    return found


def _security(fn: Callable[..., Any]) -> tuple[str, dict[str, Any]] | None:
    """``(scheme_name, scheme)`` of a security dependency (``microweb.security``), else None."""
    name = getattr(fn, "scheme_name", None)
    scheme = getattr(fn, "scheme", None)
    if isinstance(name, str) and isinstance(scheme, Mapping):
        return name, dict(scheme)
    return None


def _is_form_marker(marker: Marker | None) -> bool:
    """A ``Form()`` or ``File()`` marker, known by its source or class name."""
    if marker is None:
        return False
    return getattr(marker, "source", "") in ("form", "file") or type(marker).__name__ in (
        "FormMarker",
        "FileMarker",
    )


def _is_model(annotation: Any) -> bool:
    """A class with fields (a Struct, dataclass, TypedDict, NamedTuple or pydantic model)."""
    return isinstance(annotation, type) and (
        is_structured(annotation) or hasattr(annotation, "model_json_schema")
    )


def _is_file(annotation: Any) -> bool:
    inner = unwrap_optional(annotation)[0]
    if typing.get_origin(inner) is list:
        inner = (typing.get_args(inner) or (None,))[0]
    return isinstance(inner, type) and issubclass(inner, UploadFile)


class _Tree(NamedTuple):
    """What a route's binding tree holds: each binding with its signature, and the schemes.

    ``schemes`` maps a scheme's name to its Security Scheme Object and the
    OAuth2 scopes the ``Security(..., scopes=...)`` markers on the way to it
    require (in the order met, each once).
    """

    bindings: list[tuple[Binding, dict[str, _Info]]]
    schemes: dict[str, tuple[dict[str, Any], list[str]]]


def _scopes(marker: object) -> tuple[str, ...]:
    """The scopes of a ``microweb.security.Security`` marker; () for a plain ``Depends``."""
    scopes = getattr(marker, "scopes", ())
    return tuple(scope for scope in scopes if isinstance(scope, str))


def _walk(route: Route) -> _Tree:
    tree = _Tree([], {})
    seen: set[tuple[Any, tuple[str, ...]]] = set()  # (dependency, scopes) visited
    bound: set[Any] = set()  # dependencies whose binding is listed
    checks = {marker.dependency: marker for marker in route.dependencies}

    def visit(binding: Binding, signature: dict[str, _Info], scopes: tuple[str, ...]) -> None:
        for name, dependency in binding.dependencies:
            if name is None:  # a route's or router's ``dependencies=[...]``
                marker = checks.get(dependency.call)
            else:
                info = signature.get(name)
                marker = None if info is None else info.depends
            needed = scopes + _scopes(marker)
            scheme = _security(dependency.call)
            if scheme is not None:
                known = tree.schemes.setdefault(scheme[0], (scheme[1], []))[1]
                known += [scope for scope in dict.fromkeys(needed) if scope not in known]
            elif (dependency.call, needed) not in seen:
                seen.add((dependency.call, needed))
                inner = _signature(dependency.call)
                if dependency.call not in bound:
                    bound.add(dependency.call)
                    tree.bindings.append((dependency.binding, inner))
                visit(dependency.binding, inner, needed)

    signature = _signature(route.endpoint)
    tree.bindings.append((route.binding, signature))
    visit(route.binding, signature, ())
    return tree


def form_body(
    registry: Registry, fields: list[tuple[str, Any, Marker | None, bool, Any]]
) -> dict[str, Any]:
    """The ``requestBody`` of form fields ``(key, annotation, marker, required, default)``.

    A file field (``UploadFile``, a list of them) makes it ``multipart/form-data``,
    else ``application/x-www-form-urlencoded``.
    """
    properties: dict[str, Any] = {}
    required: list[str] = []
    multipart = False
    if len(fields) == 1 and _is_model(unwrap_optional(fields[0][1])[0]):
        # A model under Form() is the whole form: its fields are the form's.
        key, annotation, _, is_required, _ = fields[0]
        return {
            "content": {
                "application/x-www-form-urlencoded": {"schema": registry.schema(annotation)}
            },
            "required": is_required,
        }
    for key, annotation, marker, is_required, default in fields:
        if _is_file(annotation) or getattr(marker, "source", "") == "file":
            multipart = True
            many = typing.get_origin(unwrap_optional(annotation)[0]) is list
            schema = {"type": "array", "items": dict(_FILE_SCHEMA)} if many else dict(_FILE_SCHEMA)
            schema["title"] = marker.title if marker and marker.title else title(key)
            if marker is not None and marker.description:
                schema["description"] = marker.description
        else:
            schema = _value_schema(registry, annotation, marker, key)
        if is_required:
            required.append(key)
        else:
            _set_default(schema, default)
        properties[key] = schema
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    media = "multipart/form-data" if multipart else "application/x-www-form-urlencoded"
    return {"content": {media: {"schema": schema}}, "required": bool(required)}


def _set_default(schema: dict[str, Any], default: Any) -> None:
    value = json_value(default)
    if value is not None:
        schema["default"] = value


def _value_schema(
    registry: Registry,
    annotation: Any,
    marker: Marker | None,
    key: str,
    convertor: str | None = None,
) -> dict[str, Any]:
    """The schema of a path, query, header, cookie or form value, constraints included."""
    extra: dict[str, Any] = {"title": marker.title if marker and marker.title else title(key)}
    if marker is not None and marker.description:
        extra["description"] = marker.description
    if marker is not None and marker.examples:
        extra["examples"] = [json_value(example) for example in marker.examples]
    constraints = {} if marker is None else marker.constraints()
    if annotation is inspect.Parameter.empty or annotation is Any:
        annotation = str
    if convertor is not None and convertor != "str":
        # A typed convertor: its type and what its pattern lets through.
        return {**extra, **_CONVERTOR_SCHEMAS[convertor], **constraint_keywords(constraints)}
    inner, optional = unwrap_optional(annotation)
    many = inner is list or typing.get_origin(inner) is list
    if many:
        item = (typing.get_args(inner) or (str,))[0]
        lengths = {k: v for k, v in constraints.items() if k in ("min_length", "max_length")}
        others = {k: v for k, v in constraints.items() if k not in lengths}
        value = {
            "type": "array",
            "items": registry.schema(item, constraint_keywords(others)),
            **constraint_keywords(lengths, array=True),
        }
    else:
        value = registry.schema(inner, constraint_keywords(constraints))
    if optional:
        return {**extra, "anyOf": [value, {"type": "null"}]}
    value.update(extra)
    return value


def _default_status(response_class: type[Response]) -> int:
    parameter = inspect.signature(response_class.__init__).parameters.get("status_code")
    default = None if parameter is None else parameter.default
    return default if isinstance(default, int) else 200


def _returns(route: Route) -> Any:
    """What the route's JSON answers hold: ``response_model``, else the return annotation.

    None when the handler makes its own response (or returns nothing to describe).
    """
    if route.response_model is not None:
        return route.response_model
    try:
        annotation = type_hints(route.endpoint, repr(route)).get("return", Any)
    except TypeError:
        return Any
    if annotation is None or annotation is type(None):
        return None
    if isinstance(annotation, type) and issubclass(annotation, Response):
        return None
    origin = typing.get_origin(annotation)
    if isinstance(origin, type) and origin.__module__ == "collections.abc":
        return None  # a generator or an awaitable: no JSON body to describe
    return annotation


class _Builder:
    """The ``paths`` of one document, and the components its operations need."""

    def __init__(self) -> None:
        self.registry = Registry()
        self.paths: dict[str, dict[str, Any]] = {}
        self.security_schemes: dict[str, dict[str, Any]] = {}
        self._ids: dict[str, str] = {}  # operationId -> "GET /path", for the duplicate error

    def add(self, prefix: str, route: Route, response_class: type[Response]) -> None:
        if not route.include_in_schema:
            return
        path = prefix + _PARAM.sub(r"{\1}", route.path)
        methods = [method for method in _METHODS if method in route.methods]
        methods += sorted(route.methods - set(_METHODS))
        tree = _walk(route)
        for method in methods:
            operation_id = route.operation_id or route.name
            if len(methods) > 1:
                operation_id += "_" + method.lower()
            where = f"{method} {path}"
            if operation_id in self._ids:
                raise ValueError(
                    f"operationId {operation_id!r} is used by {self._ids[operation_id]} and "
                    f"{where}; give one of the routes another name or operation_id"
                )
            self._ids[operation_id] = where
            operation = self._operation(route, response_class, tree, operation_id)
            self.paths.setdefault(path, {})[method.lower()] = operation

    def _operation(
        self, route: Route, response_class: type[Response], tree: _Tree, operation_id: str
    ) -> dict[str, Any]:
        operation: dict[str, Any] = {}
        if route.tags:
            operation["tags"] = list(route.tags)
        operation["summary"] = route.summary or title(route.name)
        description = route.description
        if description is None and route.endpoint.__doc__:
            description = inspect.cleandoc(route.endpoint.__doc__).split("\f")[0].strip()
        if description:
            operation["description"] = description
        operation["operationId"] = operation_id
        parameters = self._parameters(route, tree)
        if parameters:
            operation["parameters"] = parameters
        body = self._body(tree, operation_id)
        if body is not None:
            operation["requestBody"] = body
        operation["responses"] = self._responses(route, response_class, tree, body is not None)
        if route.deprecated:
            operation["deprecated"] = True
        if tree.schemes:
            for name, (scheme, _) in tree.schemes.items():
                self.security_schemes[name] = scheme
            operation["security"] = [
                {name: list(scopes)} for name, (_, scopes) in tree.schemes.items()
            ]
        return operation

    def _parameters(self, route: Route, tree: _Tree) -> list[dict[str, Any]]:
        convertors = {param.name: param.convertor.name for param in route.compiled.params}
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for binding, signature in tree.bindings:
            for value in binding.values:
                info = signature.get(value.name, _Info(inspect.Parameter.empty, None))
                if info.marker is not None and not info.marker.include_in_schema:
                    continue
                key = (value.location, value.sent_as)
                if key not in found:
                    found[key] = self._parameter(value, info, convertors.get(value.name))
        for name, convertor in convertors.items():
            # A path parameter the handler takes through a Request or **kwargs.
            if ("path", name) not in found:
                schema = {"title": title(name), **_CONVERTOR_SCHEMAS[convertor]}
                found["path", name] = {
                    "name": name,
                    "in": "path",
                    "required": True,
                    "schema": schema,
                }
        return list(found.values())

    def _parameter(self, value: ValueParam, info: _Info, convertor: str | None) -> dict[str, Any]:
        marker = info.marker
        schema = _value_schema(self.registry, info.annotation, marker, value.sent_as, convertor)
        parameter: dict[str, Any] = {
            "name": value.sent_as,
            "in": value.location,
            "required": value.location == "path" or value.required,
            "schema": schema,
        }
        if not parameter["required"]:
            _set_default(schema, value.default)
        if marker is not None and marker.description:
            parameter["description"] = marker.description
        if marker is not None and marker.deprecated:
            parameter["deprecated"] = True
        return parameter

    def _body(self, tree: _Tree, operation_id: str) -> dict[str, Any] | None:
        for binding, signature in tree.bindings:
            fields = [
                (
                    (info.marker.alias if info.marker and info.marker.alias else name),
                    info.annotation,
                    info.marker,
                    info.default is REQUIRED,
                    None if info.default is REQUIRED else info.default,
                )
                for name, info in signature.items()
                # An UploadFile without a marker is a file too (FastAPI's rule).
                if _is_form_marker(info.marker)
                or (info.marker is None and _is_file(info.annotation))
            ]
            if fields:
                return form_body(self.registry, fields)
            if isinstance(binding.body, BodyReader):
                return self._json_body(binding.body, signature, operation_id)
        return None

    def _json_body(
        self, reader: BodyReader, signature: dict[str, _Info], operation_id: str
    ) -> dict[str, Any]:
        params = reader.params
        if not reader.embedded:
            param = params[0]
            marker = signature.get(param.name, _Info(None, None)).marker
            extra = {}
            if isinstance(marker, BodyMarker) and marker.description:
                extra["description"] = marker.description
            schema = self.registry.schema(param.annotation, extra)
            return {
                "content": {"application/json": {"schema": schema}},
                "required": param.required,
            }
        properties: dict[str, Any] = {}
        for param in params:
            marker = signature.get(param.name, _Info(None, None)).marker
            extra = {}
            if not _is_model(param.annotation):  # a model's schema is a bare $ref, as FastAPI's
                extra["title"] = marker.title if marker and marker.title else title(param.key)
            if marker is not None and marker.description:
                extra["description"] = marker.description
            property_schema = self.registry.schema(param.annotation, extra)
            if not param.required:
                _set_default(property_schema, param.default)
            properties[param.key] = property_schema
        name = f"Body_{operation_id}"
        component: dict[str, Any] = {"title": name, "type": "object", "properties": properties}
        required = [param.key for param in params if param.required]
        if required:
            component["required"] = required
        name = self.registry.add(name, component)
        return {
            "content": {"application/json": {"schema": {"$ref": REF + name}}},
            "required": bool(required),
        }

    def _responses(
        self, route: Route, response_class: type[Response], tree: _Tree, has_body: bool
    ) -> dict[str, Any]:
        status = route.status_code or _default_status(response_class)
        answer: dict[str, Any] = {"description": _describe(status)}
        media = response_class.media_type
        if media is None and response_class is not Response and status not in (204, 304):
            media = "application/octet-stream"  # a stream or a file of any type
        if media is not None and status not in (204, 304) and not 300 <= status < 400:
            content: dict[str, Any] = {}
            if media == "application/json":
                returns = _returns(route)
                if returns is not None:
                    content["schema"] = self.registry.schema(returns, output=True)
            answer["content"] = {media: content}
        responses: dict[str, Any] = {str(status): answer}
        validated = has_body or any(
            not (value.location == "path" and value.converter is None and not value.constraints)
            for binding, _ in tree.bindings
            for value in binding.values
        )
        reads_query = any(binding.query for binding, _ in tree.bindings)
        if reads_query or has_body:
            responses["400"] = _error("Bad Request (a malformed query string or body)")
        if tree.schemes:
            # Missing or malformed credentials: every microweb.security scheme answers 401
            # (and an app's check on top of one answers 401 for credentials it refuses).
            responses["401"] = _error("Unauthorized (missing or refused credentials)")
            responses["401"]["headers"] = {
                "WWW-Authenticate": {
                    "description": "The scheme the client must authenticate with",
                    "schema": {"type": "string"},
                }
            }
        if route.compiled.params:
            # The router answers a path whose value its convertor refuses (-1 for {id:int}).
            responses["404"] = _error("Not Found (a path value the route does not match)")
        if has_body:
            responses["413"] = _error("Content Too Large (the body passed the size limit)")
        if validated:
            for name, schema in HTTP_VALIDATION_ERROR.items():
                self.registry.components.setdefault(name, schema)
            responses["422"] = {
                "description": "Validation Error",
                "content": {"application/json": {"schema": {"$ref": REF + "HTTPValidationError"}}},
            }
        for code, given in route.responses.items():
            merged = responses.setdefault(str(code), {"description": _describe(code)})
            for key, value in given.items():
                if key == "content" and isinstance(value, Mapping):
                    merged.setdefault("content", {}).update(value)
                else:
                    merged[key] = value
        return responses


def _describe(status: int | str) -> str:
    if isinstance(status, int) and 200 <= status < 300:
        return "Successful Response"
    try:
        return http.HTTPStatus(int(status)).phrase
    except ValueError:
        return "Response"


def _error(description: str) -> dict[str, Any]:
    """An error microweb answers as ``{"detail": "..."}``."""
    schema = {"type": "object", "properties": {"detail": {"type": "string"}}}
    return {"description": description, "content": {"application/json": {"schema": schema}}}
