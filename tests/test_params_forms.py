"""Form() and File(): form fields, form models and files, their 422s next to FastAPI's."""

# No ``from __future__ import annotations`` here: ``declare`` builds the same
# routes on microweb and on FastAPI with the markers it is given, so its
# annotations must be evaluated where they are written.

import dataclasses
import enum
import importlib
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal, NamedTuple, TypedDict

import attrs
import msgspec
import pydantic
import pytest
from conftest import require_module

from microweb import App, Request, UploadFile
from microweb.datastructures import FormData
from microweb.exceptions import RequestValidationError
from microweb.params import Body, Depends, File, Form, Query
from microweb.responses import JSONResponse
from microweb.testclient import TestClient


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Profile(pydantic.BaseModel):
    name: str
    age: int
    newsletter: bool = False
    tags: list[str] = []

    @pydantic.field_validator("name")
    @classmethod
    def no_digits(cls, value: str) -> str:
        if any(c.isdigit() for c in value):
            raise ValueError("a name has no digits")
        return value


def declare(app: App, form: Callable[..., Any], file: Callable[..., Any], upload: Any) -> None:
    """The routes compared: each framework gets its own markers and UploadFile class.

    ``app`` is a microweb App, or a FastAPI app, which has the same decorators.
    """

    @app.post("/login")
    async def login(
        username: Annotated[str, form()],
        password: Annotated[str, form(min_length=3)],
        remember: Annotated[bool, form()] = False,
        age: Annotated[int | None, form(ge=18)] = None,
        tags: Annotated[list[str], form()] = [],  # noqa: B006 - FastAPI's style
        colour: Annotated[Colour | None, form()] = None,
        size: Annotated[Literal["s", "m"], form(alias="t-shirt")] = "m",
    ) -> dict[str, Any]:
        shown = None if colour is None else colour.value
        return {
            "username": username,
            "password": password,
            "remember": remember,
            "age": age,
            "tags": tags,
            "colour": shown,
            "size": size,
        }

    @app.post("/profile")
    async def profile(person: Annotated[Profile, form()]) -> dict[str, Any]:
        return person.model_dump()

    @app.post("/files")
    async def files(
        content: Annotated[bytes, file()],
        uploads: Annotated[list[upload], file()],
        note: Annotated[str, form()] = "",
    ) -> dict[str, Any]:
        names = [u.filename for u in uploads]
        return {"content": content.decode(), "names": names, "note": note}

    @app.post("/optional-file")
    async def optional_file(
        attachment: Annotated[upload | None, file()] = None,
    ) -> dict[str, Any]:
        return {"name": None if attachment is None else attachment.filename}

    @app.post("/blobs")
    async def blobs(blobs: Annotated[list[bytes], file(max_length=2)]) -> list[int]:
        return [len(blob) for blob in blobs]


def make_microweb() -> TestClient:
    app = App()
    declare(app, Form, File, UploadFile)
    return TestClient(app)


@pytest.fixture(scope="module")
def clients() -> Iterator[tuple[TestClient, TestClient]]:
    require_module("fastapi", "scripts/install (bench/requirements.txt)")
    fastapi = importlib.import_module("fastapi")
    peer = fastapi.FastAPI()
    declare(peer, fastapi.Form, fastapi.File, fastapi.UploadFile)
    # Our TestClient drives any ASGI app (Starlette's warns without httpx2).
    with make_microweb() as ours, TestClient(peer) as theirs:
        yield ours, theirs


FILES = [("content", ("a.txt", b"AAA")), ("uploads", ("b.txt", b"B")), ("uploads", ("c.txt", b""))]

# (path, keyword arguments of client.post): each answered alike by both frameworks.
CASES: list[tuple[str, dict[str, Any]]] = [
    ("/login", {"data": {"username": "ada", "password": "secret"}}),
    (
        "/login",
        {
            "data": {
                "username": "ada",
                "password": "secret",
                "remember": "on",
                "age": "36",
                "tags": ["a", "b"],
                "colour": "blue",
                "t-shirt": "s",
            }
        },
    ),
    ("/login", {"data": {"username": "ada", "password": "secret", "remember": "yes"}}),
    ("/login", {"data": {"password": "x"}}),
    ("/login", {"data": {"username": "", "password": "secret"}}),
    ("/login", {"data": {"username": "ada", "password": "secret", "age": "12"}}),
    ("/login", {"data": {"username": "ada", "password": "secret", "age": "old"}}),
    ("/login", {"data": {"username": "ada", "password": "secret", "remember": "maybe"}}),
    ("/login", {"data": {"username": "ada", "password": "secret", "colour": "green"}}),
    ("/login", {"data": {"username": "ada", "password": "secret", "t-shirt": "xl"}}),
    ("/login", {"data": {"username": "ada", "password": "secret", "age": ""}}),
    ("/login", {}),
    ("/login", {"json": {"username": "ada", "password": "secret"}}),
    ("/login", {"content": b"username=ada", "headers": {"content-type": "text/plain"}}),
    (
        "/login",
        {"data": {"username": "ada", "password": "secret"}, "files": [("x", ("f", b"1"))]},
    ),
    ("/profile", {"data": {"name": "Ada", "age": "36", "newsletter": "on", "tags": ["x", "y"]}}),
    ("/profile", {"data": {"name": "Ada"}}),
    ("/profile", {"data": {"name": "Ada1", "age": "1"}}),
    ("/profile", {"data": {"age": "young", "newsletter": "maybe"}}),
    ("/profile", {}),
    ("/files", {"files": FILES, "data": {"note": "hi"}}),
    ("/files", {"files": FILES[:1]}),
    ("/files", {"data": {"note": "no files"}}),
    ("/files", {"files": [("content", ("", b"")), ("uploads", ("b.txt", b"B"))]}),
    ("/optional-file", {}),
    ("/optional-file", {"files": [("attachment", ("x.bin", b"x"))]}),
    ("/optional-file", {"files": [("attachment", ("", b""))]}),
    ("/blobs", {"files": [("blobs", ("a", b"12")), ("blobs", ("b", b"345"))]}),
    ("/blobs", {"files": []}),
]


@pytest.mark.parametrize(("path", "sent"), CASES)
def test_answers_match_fastapi(
    clients: tuple[TestClient, TestClient], path: str, sent: dict[str, Any]
) -> None:
    ours, theirs = clients
    expected = theirs.post(path, **sent)
    got = ours.post(path, **sent)
    assert (got.status_code, got.json()) == (expected.status_code, expected.json())


def test_a_file_where_a_text_field_belongs_is_a_type_error_item() -> None:
    client = make_microweb()
    sent = {"username": ("u.txt", b"x"), "password": (None, b"secret")}
    response = client.post("/login", files=sent)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["type"] == "string_type"
    assert error["loc"] == ["body", "username"]


def test_text_where_a_file_belongs() -> None:
    client = make_microweb()
    response = client.post("/optional-file", data={"attachment": "text"})
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "type": "value_error",
            "loc": ["body", "attachment"],
            "msg": "Value error, Expected UploadFile, received: <class 'str'>",
            "input": "text",
            "ctx": {"error": {}},
        }
    ]
    # bytes take text as its UTF-8 (pydantic's lax rule).
    response = client.post("/files", data={"content": "é"}, files=[("uploads", ("b", b"B"))])
    assert response.json() == {"content": "é", "names": ["b"], "note": ""}


# --- form models of every structured kind --------------------------------------------


@dataclasses.dataclass
class SignupData:
    name: str
    age: int
    newsletter: bool = False
    tags: list[str] = dataclasses.field(default_factory=list)


class SignupDict(TypedDict):
    name: str
    age: int
    newsletter: bool
    tags: list[str]


class SignupStruct(msgspec.Struct):
    name: str
    age: int
    newsletter: bool = False
    tags: list[str] = []


@attrs.define
class SignupAttrs:
    name: str
    age: int
    newsletter: bool = False
    tags: list[str] = attrs.Factory(list)


@pytest.mark.parametrize("model", [SignupData, SignupStruct, SignupAttrs, SignupDict, Profile])
def test_every_structured_type_takes_the_whole_form(model: Any) -> None:
    app = App()

    @app.post("/signup")
    async def signup(person: Annotated[model, Form()]) -> Any:
        assert isinstance(person, dict if model is SignupDict else model)
        return person.model_dump() if isinstance(person, Profile) else msgspec.to_builtins(person)

    client = TestClient(app)
    sent = {"name": "Ada", "age": "36", "newsletter": "on", "tags": ["x", "y"]}
    response = client.post("/signup", data=sent)
    assert response.status_code == 200, response.text
    assert response.json() == {"name": "Ada", "age": 36, "newsletter": True, "tags": ["x", "y"]}


@pytest.mark.parametrize("model", [SignupData, SignupStruct])
def test_a_form_model_explains_each_field_as_pydantic_does(model: Any) -> None:
    app = App()

    @app.post("/ours")
    async def ours(person: Annotated[model, Form()]) -> Any:
        return person

    @app.post("/pydantic")
    async def theirs(person: Annotated[Profile, Form()]) -> Any:
        return person

    client = TestClient(app)
    for sent in ({"age": "young", "newsletter": "maybe", "extra": "1"}, {"name": "Ada"}, {}):
        # (no digits in the names here: only the pydantic model has that validator)
        expected = client.post("/pydantic", data=sent)
        got = client.post("/ours", data=sent)
        assert got.status_code == expected.status_code == 422
        assert got.json() == expected.json()


def test_form_model_beside_form_fields_and_an_optional_model() -> None:
    app = App()

    @app.post("/order")
    async def order(
        token: Annotated[str, Form()],
        person: Annotated[SignupData | None, Form()] = None,
    ) -> dict[str, Any]:
        return {"token": token, "person": person}

    client = TestClient(app)
    assert client.post("/order", data={"token": "t"}).json() == {"token": "t", "person": None}
    answer = client.post("/order", data={"token": "t", "name": "Ada", "age": "3"}).json()
    assert answer["person"] == {"name": "Ada", "age": 3, "newsletter": False, "tags": []}


class Cat(msgspec.Struct, tag="cat", tag_field="kind"):
    lives: int


class Dog(msgspec.Struct, tag="dog", tag_field="kind"):
    good: bool


class Flags(msgspec.Struct):
    flags: list[bool]
    labels: list[str] = []


def test_lists_in_a_form_model_take_repeated_keys() -> None:
    app = App()

    @app.post("/flags")
    async def flags(sent: Annotated[Flags, Form()]) -> Any:
        return sent

    client = TestClient(app)
    data = {"flags": ["on", "off", "1"], "labels": ["a"]}
    response = client.post("/flags", data=data)
    assert response.json() == {"flags": [True, False, True], "labels": ["a"]}
    response = client.post("/flags", data={"flags": ["on", "perhaps"]})
    assert response.json()["detail"] == [
        {
            "type": "bool_parsing",
            "loc": ["body", "flags", 1],
            "msg": "Input should be a valid boolean, unable to interpret input",
            "input": "perhaps",
        }
    ]


def test_an_empty_file_input_in_a_list_of_fields_is_skipped() -> None:
    app = App()

    @app.post("/tags")
    async def tags(tags: Annotated[list[str], Form()]) -> list[str]:
        return tags

    # What a browser sends for a file input left empty: a part with filename="".
    body = (
        b'--b\r\ncontent-disposition: form-data; name="tags"; filename=""\r\n\r\n\r\n'
        b'--b\r\ncontent-disposition: form-data; name="tags"\r\n\r\nx\r\n--b--\r\n'
    )
    headers = {"content-type": "multipart/form-data; boundary=b"}
    assert TestClient(app).post("/tags", content=body, headers=headers).json() == ["x"]


def test_a_union_of_tagged_structs() -> None:
    app = App()

    @app.post("/pet")
    async def pet(animal: Annotated[Cat | Dog, Form()]) -> Any:
        return animal

    client = TestClient(app)
    assert client.post("/pet", data={"kind": "cat", "lives": "9"}).json() == {
        "kind": "cat",
        "lives": 9,
    }
    assert client.post("/pet", data={"kind": "dog", "good": "yes"}).json() == {
        "kind": "dog",
        "good": True,
    }
    assert client.post("/pet", data={"kind": "fish"}).status_code == 422


# --- files ----------------------------------------------------------------------------


def test_upload_file_without_a_marker_is_a_file_and_is_closed_after_the_response() -> None:
    app = App()
    seen: list[UploadFile] = []

    @app.post("/upload")
    async def upload(
        file: UploadFile, more: list[UploadFile], whole: Annotated[bytes, File(alias="file")]
    ) -> dict[str, Any]:
        seen.extend([file, *more])
        # Reading the bytes for ``whole`` left the file where it was.
        return {"read": (await file.read()).decode(), "whole": whole.decode(), "more": len(more)}

    client = TestClient(app)
    sent = [("file", ("a.txt", b"hello")), ("more", ("b", b"1")), ("more", ("c", b"2"))]
    response = client.post("/upload", files=sent)
    assert response.json() == {"read": "hello", "whole": "hello", "more": 2}
    assert [upload.file.closed for upload in seen] == [True, True, True]


def test_form_upload_file_annotation_is_a_file() -> None:
    app = App()

    @app.post("/upload")
    async def upload(file: Annotated[UploadFile, Form()]) -> str | None:
        return file.filename

    assert TestClient(app).post("/upload", files={"file": ("x.txt", b"x")}).json() == "x.txt"


def test_the_form_files_are_closed_when_a_422_stops_the_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    closed: list[int] = []
    original = FormData.close

    async def close(form: FormData) -> None:
        closed.append(len(form))
        await original(form)

    monkeypatch.setattr(FormData, "close", close)
    app = App()

    @app.post("/upload")
    async def upload(file: UploadFile, note: Annotated[str, Form()]) -> None:
        raise AssertionError("not called: note is missing")  # pragma: no cover

    response = TestClient(app).post("/upload", files={"file": ("x", b"x")})
    assert response.status_code == 422
    assert closed == [1]


def test_file_list_constraints() -> None:
    client = make_microweb()
    sent = [("blobs", (name, b"x")) for name in "abc"]
    response = client.post("/blobs", files=sent)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["type"] == "too_long"
    assert error["loc"] == ["body", "blobs"]
    assert error["input"] == ["a", "b", "c"]


# --- the request around the form --------------------------------------------------------


def test_a_handler_taking_the_request_gets_the_same_parsed_form() -> None:
    app = App()

    @app.post("/both")
    async def both(request: Request, name: Annotated[str, Form()]) -> list[Any]:
        form = await request.form()
        return [name, form["name"]]

    assert TestClient(app).post("/both", data={"name": "x"}).json() == ["x", "x"]


def test_dependencies_read_the_form_too() -> None:
    app = App()
    parsed: list[int] = []
    original = Request.form

    async def counting_form(request: Request, *args: Any, **kwargs: Any) -> FormData:
        parsed.append(1)
        return await original(request, *args, **kwargs)

    def token(token: Annotated[str, Form()]) -> str:
        return token.upper()

    @app.post("/checked")
    async def checked(
        user: Annotated[str, Form()], checked: Annotated[str, Depends(token)]
    ) -> list[str]:
        return [user, checked]

    client = TestClient(app)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Request, "form", counting_form)
        assert client.post("/checked", data={"user": "u", "token": "t"}).json() == ["u", "T"]
    assert len(parsed) == 2  # the dependency's and the handler's calls, one parse (kept)
    response = client.post("/checked", data={"user": "u"})
    assert response.json()["detail"][0]["loc"] == ["body", "token"]


def test_query_errors_and_form_errors_come_together() -> None:
    app = App()

    @app.post("/mixed")
    async def mixed(page: Annotated[int, Query()], name: Annotated[str, Form()]) -> None:
        raise AssertionError("not called")  # pragma: no cover

    response = TestClient(app).post("/mixed?page=x", data={})
    assert [error["loc"] for error in response.json()["detail"]] == [
        ["query", "page"],
        ["body", "name"],
    ]


def test_the_validation_error_carries_the_form() -> None:
    app = App()
    bodies: list[Any] = []

    @app.exception_handler(RequestValidationError)
    async def reshape(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        bodies.append(exc.body)
        return JSONResponse({"errors": len(exc.errors())}, status_code=400)

    @app.post("/login")
    async def login(name: Annotated[str, Form()], pin: Annotated[int, Form()]) -> None:
        raise AssertionError("not called")  # pragma: no cover

    response = TestClient(app).post("/login", data={"name": "x", "pin": "y"})
    assert response.json() == {"errors": 1}
    assert isinstance(bodies[0], FormData)
    assert bodies[0]["pin"] == "y"


def test_a_malformed_form_is_400_and_limits_hold() -> None:
    app = App(max_body_size=100)

    @app.post("/login")
    async def login(name: Annotated[str, Form()]) -> str:
        return name

    client = TestClient(app)
    headers = {"content-type": "multipart/form-data; boundary=xyz"}
    response = client.post("/login", content=b"--xyz\r\ngarbage", headers=headers)
    assert response.status_code == 400
    response = client.post("/login", data={"name": "x" * 200})
    assert response.status_code == 413


# --- definition-time errors ---------------------------------------------------------------


@dataclasses.dataclass
class Item:
    name: str


class Pair(NamedTuple):
    left: int
    right: int


class Company(pydantic.BaseModel):
    title: str


def test_a_form_and_a_json_body_on_one_handler_is_a_type_error() -> None:
    app = App()
    with pytest.raises(TypeError, match=r"takes form fields \('name'\) and the JSON body"):

        @app.post("/both")
        async def both(name: Annotated[str, Form()], item: Item) -> None: ...

    with pytest.raises(TypeError, match="a body is one or the other"):

        @app.post("/both")
        async def both_marked(name: Annotated[str, Form()], n: Annotated[int, Body()]) -> None: ...


@pytest.mark.parametrize(
    ("annotation", "marker", "match"),
    [
        (str, File(), r"a file annotated <class 'str'>; annotate it UploadFile, bytes"),
        (list[Item], Form(), "a form holds flat fields"),
        (dict[str, int], Form(), "which a form field cannot carry"),
        (Item, Form(min_length=1), "constraints belong on its fields"),
        (Item, Form(discriminator="kind"), "discriminator= is for pydantic models"),
        (Item | Profile, Form(), "a union is of pydantic models or of none"),
        (SignupData | Item, Form(), "which msgspec cannot decode"),
        (tuple[int, int], Form(), "which a form field cannot carry"),
        (Item, File(), "a file annotated"),
        (Pair, Form(), "has no named fields to fill from a form"),
        (Profile | Company, Form(discriminator="kind"), "kind"),
    ],
)
def test_definition_errors_name_the_parameter(annotation: Any, marker: Any, match: str) -> None:
    app = App()

    async def handler(value: Any) -> None: ...

    handler.__annotations__["value"] = Annotated[annotation, marker]
    with pytest.raises(TypeError, match=match) as info:
        app.post("/x")(handler)
    assert "'value'" in str(info.value)


def test_form_markers_show_what_they_hold() -> None:
    assert repr(Form("x", alias="y", max_length=3)) == "Form('x', alias='y', max_length=3)"
    assert repr(File()) == "File()"


def test_a_form_in_a_dependency_and_a_json_body_in_the_handler_is_refused() -> None:
    @dataclasses.dataclass
    class Item:
        name: str

    def signed_in(user: Annotated[str, Form()]) -> str:
        return user

    app = App()
    with pytest.raises(TypeError, match="takes form fields and the JSON body"):

        @app.post("/items")
        def create(item: Item, user: Annotated[str, Depends(signed_in)]) -> str:
            return user
