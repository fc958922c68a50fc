"""The OpenAPI document of an app: operations, responses, routers, mounts, security.

microweb/openapi/_document.py; the schema of each annotation is
tests/test_openapi_schema.py's.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Annotated, Any

import msgspec
import pytest

from microweb import (
    App,
    EventSourceResponse,
    FileResponse,
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Request,
    Response,
    Router,
    StreamingResponse,
)
from microweb.datastructures import UploadFile
from microweb.openapi._document import form_body
from microweb.openapi._schema import Registry
from microweb.params import Depends, File, Form, Header, Marker, Query
from microweb.routing import Mount, Route
from microweb.security import OAuth2PasswordBearer, Security
from microweb.testclient import TestClient
from microweb.websockets import WebSocket


class Item(msgspec.Struct):
    name: str


def test_import_microweb_does_not_load_openapi() -> None:
    code = (
        "import sys, microweb, microweb.testclient; "
        "app = microweb.App(); "
        "print(any(m.startswith('microweb.openapi') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_operation_fields_from_the_route() -> None:
    app = App()

    @app.get("/items/{item_id:int}", tags=["items"], deprecated=True)
    async def read_item(item_id: int) -> Item:
        """Read one item.

        More words.
        \f
        Not shown.
        """
        return Item("x")

    @app.put(
        "/items/{item_id:int}",
        summary="Replace",
        description="Puts it back",
        operation_id="replace_it",
        include_in_schema=True,
    )
    async def put_item(item_id: int) -> None: ...

    @app.delete("/items/{item_id:int}", include_in_schema=False)
    async def delete_item(item_id: int) -> None: ...

    paths = app.openapi()["paths"]
    assert list(paths) == ["/items/{item_id}"]
    assert set(paths["/items/{item_id}"]) == {"get", "put"}  # no HEAD, no hidden DELETE
    get = paths["/items/{item_id}"]["get"]
    assert get["operationId"] == "read_item"
    assert get["summary"] == "Read Item"
    assert get["description"] == "Read one item.\n\nMore words."
    assert get["tags"] == ["items"]
    assert get["deprecated"] is True
    assert "422" not in get["responses"]  # {item_id:int} cannot fail to convert
    assert get["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Item"
    }
    put = paths["/items/{item_id}"]["put"]
    assert (put["operationId"], put["summary"], put["description"]) == (
        "replace_it",
        "Replace",
        "Puts it back",
    )
    assert "deprecated" not in put


def test_several_methods_on_one_route_get_one_operation_each() -> None:
    app = App()

    @app.route("/thing", methods=["GET", "POST", "HEAD"])
    async def thing() -> dict[str, int]:
        return {}

    operations = app.openapi()["paths"]["/thing"]
    assert {method: op["operationId"] for method, op in operations.items()} == {
        "get": "thing_get",
        "post": "thing_post",
        "head": "thing_head",
    }


def test_duplicate_operation_ids_raise_naming_both() -> None:
    app = App()
    router = Router()

    @router.get("/a")
    async def handler() -> None: ...

    app.include_router(router, prefix="/one")
    app.include_router(router, prefix="/two")
    with pytest.raises(ValueError, match=r"'handler' is used by GET /one/a and GET /two/a"):
        app.openapi()


def test_routers_prefixes_tags_and_mounts() -> None:
    inner = App()

    @inner.get("/deep")
    async def deep() -> str:
        return "deep"

    sub = Router(prefix="/sub", tags=["sub"])

    @sub.get("/items", tags=["items"])
    async def sub_items() -> list[int]:
        return []

    @sub.websocket("/ws")
    async def ws(websocket: WebSocket) -> None: ...

    mounted = Router()

    @mounted.post("/make", status_code=201)
    async def make(item: Item) -> Item:
        return item

    app = App(
        routes=[Mount("/inner", inner), Mount("/nested", routes=[Mount("/router", mounted)])]
    )
    app.include_router(sub, prefix="/api", tags=["api"])
    app.mount("/static", PlainTextResponse("not an app of ours"))

    paths = app.openapi()["paths"]
    assert set(paths) == {"/api/sub/items", "/inner/deep", "/nested/router/make"}
    assert paths["/api/sub/items"]["get"]["tags"] == ["api", "sub", "items"]
    assert "201" in paths["/nested/router/make"]["post"]["responses"]


@pytest.mark.parametrize(
    ("response_class", "status", "media"),
    [
        (PlainTextResponse, "200", "text/plain"),
        (HTMLResponse, "200", "text/html"),
        (EventSourceResponse, "200", "text/event-stream"),
        (StreamingResponse, "200", "application/octet-stream"),
        (FileResponse, "200", "application/octet-stream"),
    ],
)
def test_response_media_type_of_the_class(
    response_class: type[Response], status: str, media: str
) -> None:
    app = App()
    app.add_route("/", lambda: None, response_class=response_class)
    answer = app.openapi()["paths"]["/"]["get"]["responses"][status]
    assert answer["content"] == {media: {}}


def test_bodyless_responses() -> None:
    app = App()

    @app.delete("/gone", status_code=204)
    async def gone() -> None: ...

    @app.get("/moved", response_class=RedirectResponse)
    async def moved() -> str:
        return "/elsewhere"

    @app.get("/raw", response_class=Response)
    async def raw() -> bytes:
        return b""

    paths = app.openapi()["paths"]
    assert paths["/gone"]["delete"]["responses"] == {"204": {"description": "Successful Response"}}
    assert paths["/moved"]["get"]["responses"] == {"307": {"description": "Temporary Redirect"}}
    assert paths["/raw"]["get"]["responses"] == {"200": {"description": "Successful Response"}}


def test_response_model_wins_over_the_return_annotation() -> None:
    app = App()

    @app.get("/", response_model=list[Item])
    async def items() -> Any:
        return []

    @app.get("/response")
    async def response() -> Response:
        return Response()

    paths = app.openapi()["paths"]
    assert paths["/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Item"},
    }
    assert paths["/response"]["get"]["responses"]["200"]["content"] == {"application/json": {}}


def test_error_statuses_where_they_can_occur() -> None:
    app = App()

    @app.get("/query")
    async def query(q: str | None = None) -> None: ...

    @app.post("/body")
    async def body(item: Item) -> None: ...

    @app.get("/header")
    async def header(x_token: Annotated[str, Header()]) -> None: ...

    @app.get("/nothing")
    async def nothing(request: Request) -> None: ...

    paths = app.openapi()["paths"]
    assert set(paths["/query"]["get"]["responses"]) == {"200", "400", "422"}
    assert set(paths["/body"]["post"]["responses"]) == {"200", "400", "413", "422"}
    assert set(paths["/header"]["get"]["responses"]) == {"200", "422"}
    assert set(paths["/nothing"]["get"]["responses"]) == {"200"}
    schemas = app.openapi()["components"]["schemas"]
    assert schemas["HTTPValidationError"]["properties"]["detail"]["items"] == {
        "$ref": "#/components/schemas/ValidationError"
    }
    assert schemas["ValidationError"]["required"] == ["loc", "msg", "type"]


def test_404_documented_where_a_path_value_may_not_match() -> None:
    # schemathesis found it: GET /items/-1 is a 404 (the int convertor takes
    # digits only), which the document did not list.
    app = App()

    @app.get("/items/{item_id:int}")
    async def item(item_id: int) -> None: ...

    @app.get("/users/{name}")
    async def user(name: str) -> None: ...

    @app.get("/static")
    async def static() -> None: ...

    paths = app.openapi()["paths"]
    assert set(paths["/items/{item_id}"]["get"]["responses"]) == {"200", "404"}
    assert set(paths["/users/{name}"]["get"]["responses"]) == {"200", "404"}
    assert set(paths["/static"]["get"]["responses"]) == {"200"}
    with TestClient(app) as client:
        assert client.get("/items/-1").status_code == 404


def test_route_responses_are_merged_in() -> None:
    app = App()

    @app.get(
        "/",
        responses={
            200: {"description": "The thing", "headers": {"x-a": {"schema": {"type": "string"}}}},
            404: {"description": "Not here"},
            "5XX": {"description": "Broken"},
        },
    )
    async def home(q: int = 0) -> dict[str, int]:
        return {}

    responses = app.openapi()["paths"]["/"]["get"]["responses"]
    assert responses["200"]["description"] == "The thing"
    assert "schema" in responses["200"]["content"]["application/json"]
    assert responses["200"]["headers"] == {"x-a": {"schema": {"type": "string"}}}
    assert responses["404"] == {"description": "Not here"}
    assert responses["5XX"] == {"description": "Broken"}


class BearerCheck:
    """A hand-made security dependency: the two attributes microweb.security's have."""

    scheme_name = "bearerAuth"
    scheme: dict[str, Any] = {"type": "http", "scheme": "bearer"}

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, authorization: Annotated[str | None, Header()] = None) -> str:
        return authorization or ""


bearer = BearerCheck()


async def current_user(token: Annotated[str, Depends(bearer)], verbose: bool = False) -> str:
    return token


def test_security_dependencies_anywhere_in_the_tree() -> None:
    app = App()

    @app.get("/me")
    async def me(user: Annotated[str, Depends(current_user)]) -> str:
        return user

    @app.get("/admin", dependencies=[Depends(bearer)])
    async def admin() -> None: ...

    router = Router(dependencies=[Depends(bearer)])

    @router.get("/guarded")
    async def guarded() -> None: ...

    app.include_router(router)

    @app.get("/open")
    async def open_() -> None: ...

    document = app.openapi()
    assert document["components"]["securitySchemes"] == {
        "bearerAuth": {"type": "http", "scheme": "bearer"}
    }
    paths = document["paths"]
    for path in ("/me", "/admin", "/guarded"):
        assert paths[path]["get"]["security"] == [{"bearerAuth": []}]
    assert "security" not in paths["/open"]["get"]
    # The dependency's own parameters are listed; the scheme's are its own business.
    assert [p["name"] for p in paths["/me"]["get"]["parameters"]] == ["verbose"]


def test_an_operation_with_a_security_dependency_documents_its_401() -> None:
    # Regression (schemathesis, "undocumented status"): a secured operation answers
    # 401 to missing or refused credentials, and the document did not say so.
    app = App()

    @app.get("/me")
    async def me(user: Annotated[str, Depends(current_user)]) -> str:
        return user

    @app.post("/admin", dependencies=[Depends(bearer)])
    async def admin() -> None: ...

    @app.get("/users/{name}")
    async def public(name: str) -> str:
        return name

    @app.get("/own", dependencies=[Depends(bearer)], responses={401: {"description": "Mine"}})
    async def own() -> None: ...

    paths = app.openapi()["paths"]
    for path, method in (("/me", "get"), ("/admin", "post")):
        unauthorized = paths[path][method]["responses"]["401"]
        assert unauthorized["content"]["application/json"]["schema"] == {
            "type": "object",
            "properties": {"detail": {"type": "string"}},
        }
        assert unauthorized["headers"]["WWW-Authenticate"]["schema"] == {"type": "string"}
    assert "401" not in paths["/users/{name}"]["get"]["responses"]
    assert paths["/own"]["get"]["responses"]["401"]["description"] == "Mine"


oauth2 = OAuth2PasswordBearer("token", scopes={"me": "Me", "items": "Items"})


async def user(token: Annotated[str, Security(oauth2, scopes=["me"])]) -> str:
    return token


async def item_reader(name: Annotated[str, Security(user, scopes=["items"])]) -> str:
    return name


def test_security_scopes_gather_on_the_way_to_the_scheme() -> None:
    app = App()

    @app.get("/me")
    async def me(name: Annotated[str, Depends(user)]) -> str:
        return name

    @app.get("/items")
    async def items(
        name: Annotated[str, Security(item_reader, scopes=["items"])],
        again: Annotated[str, Depends(user)],
    ) -> str:
        return name

    @app.get("/checked", dependencies=[Security(user, scopes=["admin"])])
    async def checked() -> None: ...

    @app.get("/plain")
    async def plain(token: Annotated[str, Depends(oauth2)]) -> str:
        return token

    paths = app.openapi()["paths"]
    assert paths["/me"]["get"]["security"] == [{"OAuth2PasswordBearer": ["me"]}]
    assert paths["/items"]["get"]["security"] == [{"OAuth2PasswordBearer": ["items", "me"]}]
    assert paths["/checked"]["get"]["security"] == [{"OAuth2PasswordBearer": ["admin", "me"]}]
    assert paths["/plain"]["get"]["security"] == [{"OAuth2PasswordBearer": []}]


def test_app_level_dependencies_parameters_are_listed() -> None:
    async def paging(limit: Annotated[int, Query(le=100)] = 10) -> int:
        return limit

    app = App(dependencies=[Depends(paging)])

    @app.get("/")
    async def home() -> None: ...

    parameters = app.openapi()["paths"]["/"]["get"]["parameters"]
    assert parameters[0]["name"] == "limit"
    assert parameters[0]["schema"]["maximum"] == 100


class FormMarker(Marker):
    """Stands for microweb.params' Form marker (written by another change)."""

    source = "form"
    __slots__ = ()


def test_form_body_urlencoded_and_multipart() -> None:
    registry = Registry()
    body = form_body(
        registry,
        [
            ("username", str, FormMarker(), True, None),
            ("remember", bool, FormMarker(False), False, False),
        ],
    )
    registry.finish()
    assert body == {
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "username": {"type": "string", "title": "Username"},
                        "remember": {"type": "boolean", "title": "Remember", "default": False},
                    },
                    "required": ["username"],
                }
            }
        },
        "required": True,
    }
    registry = Registry()
    body = form_body(
        registry,
        [
            ("upload", UploadFile, None, True, None),
            ("more", list[UploadFile] | None, None, False, None),
        ],
    )
    schema = body["content"]["multipart/form-data"]["schema"]
    assert schema["properties"]["upload"] == {
        "type": "string",
        "format": "binary",
        "title": "Upload",
    }
    assert schema["properties"]["more"]["items"] == {"type": "string", "format": "binary"}


def test_get_openapi_takes_route_objects() -> None:
    from microweb.openapi import get_openapi

    async def home() -> str:
        return "hi"

    document = get_openapi(
        title="T",
        version="1",
        routes=[Route("/", home, response_class=PlainTextResponse)],
        servers=[{"url": "/api"}],
        summary="S",
    )
    assert document["servers"] == [{"url": "/api"}]
    assert document["info"]["summary"] == "S"
    assert document["paths"]["/"]["get"]["responses"]["200"]["content"] == {"text/plain": {}}


class Login(msgspec.Struct):
    username: str
    password: str


def test_form_and_file_parameters_document_their_form() -> None:
    app = App()

    @app.post("/signup")
    def signup(
        name: Annotated[str, Form(min_length=2)],
        avatar: UploadFile,  # a file without a marker, as in FastAPI
        raw: Annotated[bytes, File()],
    ) -> None:
        return None

    @app.post("/login")
    def login(data: Annotated[Login, Form()]) -> None:
        return None

    doc = app.openapi()
    signup_body = doc["paths"]["/signup"]["post"]["requestBody"]
    schema = signup_body["content"]["multipart/form-data"]["schema"]
    assert schema["properties"]["name"] == {"type": "string", "minLength": 2, "title": "Name"}
    assert schema["properties"]["avatar"]["format"] == "binary"
    assert schema["properties"]["raw"]["format"] == "binary"
    assert schema["required"] == ["name", "avatar", "raw"]
    login_body = doc["paths"]["/login"]["post"]["requestBody"]["content"]
    ref = login_body["application/x-www-form-urlencoded"]["schema"]["$ref"]
    component = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(component["properties"]) == {"username", "password"}


def test_a_form_field_with_a_parameter_default_is_optional() -> None:
    # Regression: ``Annotated[str, Form()] = ""`` (the default on the parameter,
    # not in the marker) and ``UploadFile | None = None`` were listed as required.
    app = App()

    @app.post("/upload")
    def upload(
        name: Annotated[str, Form()],
        note: Annotated[str, Form()] = "",
        extra: Annotated[str | None, Form()] = None,
        avatar: UploadFile | None = None,
    ) -> None:
        return None

    body = app.openapi()["paths"]["/upload"]["post"]["requestBody"]
    schema = body["content"]["multipart/form-data"]["schema"]
    assert schema["required"] == ["name"]
    assert schema["properties"]["note"]["default"] == ""
    assert "default" not in schema["properties"]["extra"]


def test_a_file_field_keeps_its_title_and_description() -> None:
    # Regression: File(title=..., description=...) was dropped from the file's schema.
    app = App()

    @app.post("/upload")
    def upload(
        document: Annotated[UploadFile, File(title="Scan", description="A PDF")],
    ) -> None:
        return None

    body = app.openapi()["paths"]["/upload"]["post"]["requestBody"]
    schema = body["content"]["multipart/form-data"]["schema"]["properties"]["document"]
    assert schema == {
        "type": "string",
        "format": "binary",
        "title": "Scan",
        "description": "A PDF",
    }
