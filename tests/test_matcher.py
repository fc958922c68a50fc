from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microweb import _convertors, _matcher
from microweb._convertors import CONVERTORS, Convertor, StringConvertor
from microweb._matcher import Matcher, Param, compile_path

UUID_TEXT = "12345678-9abc-def0-1234-56789abcdef0"


def matcher_of(*templates: str) -> Matcher[str]:
    """A matcher whose value for each template is the template itself."""
    matcher: Matcher[str] = Matcher()
    for template in templates:
        matcher.add(compile_path(template), template)
    return matcher


# compile_path


@pytest.mark.parametrize(
    ("template", "shape"),
    [
        ("/", "/"),
        ("/items", "/items"),
        ("/items/", "/items/"),
        ("/items/{item_id}", "/items/{:str}"),
        ("/items/{item_id:str}", "/items/{:str}"),
        ("/items/{item_id:int}", "/items/{:int}"),
        ("/a/{x:float}/{u:uuid}/{p:path}", "/a/{:float}/{:uuid}/{:path}"),
        ("/r{n:int}x", "/r{:int}x"),
        ("/files/{name}.{ext}", "/files/{:str}.{:str}"),
        ("/files/{p:path}/meta", "/files/{:path}/meta"),
    ],
)
def test_shape_erases_parameter_names(template: str, shape: str) -> None:
    compiled = compile_path(template)
    assert compiled.template == template
    assert compiled.shape == shape


def test_same_path_with_other_names_has_the_same_shape() -> None:
    assert compile_path("/u/{id}/{n:int}").shape == compile_path("/u/{user:str}/{k:int}").shape


def test_params_in_order_of_appearance() -> None:
    compiled = compile_path("/files/{name}.{ext}/{n:int}/{rest:path}")
    assert compiled.params == (
        Param("name", CONVERTORS["str"]),
        Param("ext", CONVERTORS["str"]),
        Param("n", CONVERTORS["int"]),
        Param("rest", CONVERTORS["path"]),
    )
    assert not compiled.is_static
    assert repr(compiled) == "compile_path('/files/{name}.{ext}/{n:int}/{rest:path}')"


@pytest.mark.parametrize("template", ["/", "/items", "/items/", "/a/b.c-d", "/a//b"])
def test_static_templates(template: str) -> None:
    compiled = compile_path(template)
    assert compiled.is_static
    assert compiled.params == ()
    assert compiled.shape == template
    assert compiled.format() == template


def test_unknown_converter_names_it_and_the_choices() -> None:
    message = (
        "unknown path converter 'integer' in '/items/{id:integer}'; "
        "expected one of float, int, path, str, uuid"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        compile_path("/items/{id:integer}")
    with pytest.raises(ValueError, match=re.escape("unknown path converter '' in '/a/{id:}'")):
        compile_path("/a/{id:}")


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("items", "path template 'items' must start with '/'"),
        ("", "path template '' must start with '/'"),
        ("/items/{1id}", "path parameter name '1id' in '/items/{1id}' is not a Python identifier"),
        ("/items/{ id }", "path parameter name ' id ' in '/items/{ id }'"),
        ("/items/{:int}", "path parameter name '' in '/items/{:int}'"),
        ("/items/{a-b}", "path parameter name 'a-b'"),
        ("/a/{x}/b/{x:int}", "path parameter 'x' appears twice in '/a/{x}/b/{x:int}'"),
        ("/items/{}", "empty braces '{}' in path template '/items/{}'"),
        ("/items/{id", "unbalanced braces in path template '/items/{id'"),
        ("/items/id}", "unbalanced braces in path template '/items/id}'"),
        ("/items/{{id}}", "unbalanced braces"),
        ("/items/{a{b}}", "unbalanced braces"),
        ("/items/}{", "unbalanced braces"),
    ],
)
def test_invalid_templates_are_refused_naming_the_value(template: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        compile_path(template)


# format


def test_format_builds_a_concrete_path() -> None:
    compiled = compile_path("/u/{uid:uuid}/r{n:int}x/{f:float}/{name}.{ext}/{p:path}")
    path = compiled.format(uid=uuid.UUID(UUID_TEXT), n=5, f=1.5, name="a", ext="txt", p="x/y z")
    assert path == f"/u/{UUID_TEXT}/r5x/1.5/a.txt/x/y z"  # no percent-quoting


def test_format_names_a_missing_or_extra_parameter_and_the_template() -> None:
    compiled = compile_path("/items/{item_id:int}/{name}")
    with pytest.raises(
        ValueError, match=r"missing path parameter 'name' for '/items/\{item_id:int\}/\{name\}'"
    ):
        compiled.format(item_id=1)
    with pytest.raises(ValueError, match=r"missing path parameter 'item_id', 'name'"):
        compiled.format()
    with pytest.raises(ValueError, match=r"unexpected path parameter 'extra' for '/items/"):
        compiled.format(item_id=1, name="x", extra=2)


def test_format_passes_on_a_convertor_refusal_with_the_parameter() -> None:
    compiled = compile_path("/items/{item_id:int}/{name}")
    with pytest.raises(ValueError, match=r"path parameter 'item_id' of '/items/.*-1"):
        compiled.format(item_id=-1, name="x")
    with pytest.raises(ValueError, match=r"path parameter 'name' .*'a/b'"):
        compiled.format(item_id=1, name="a/b")
    with pytest.raises(TypeError, match=r"path parameter 'item_id' .*takes an int"):
        compiled.format(item_id=None, name="x")


# Matcher: add, get, len


def test_add_get_and_len() -> None:
    matcher: Matcher[str] = Matcher()
    assert len(matcher) == 0
    assert matcher.get(compile_path("/items/{id:int}")) is None
    matcher.add(compile_path("/items/{id:int}"), "by id")
    matcher.add(compile_path("/items"), "list")
    assert len(matcher) == 2
    assert matcher.get(compile_path("/items/{other:int}")) == "by id"  # same shape
    assert matcher.get(compile_path("/items")) == "list"
    assert matcher.get(compile_path("/items/{id}")) is None  # str is another shape


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("/items/{id:int}", "/items/{item_id:int}"),
        ("/items/{id}", "/items/{name:str}"),
        ("/items", "/items"),
        ("/f/{a}.{b}", "/f/{x}.{y}"),
        ("/s/{p:path}", "/s/{rest:path}"),
    ],
)
def test_add_refuses_a_shape_already_present(first: str, second: str) -> None:
    matcher = matcher_of(first)
    with pytest.raises(ValueError, match=re.escape(f"path {second!r} is already present")):
        matcher.add(compile_path(second), "again")
    assert len(matcher) == 1
    assert matcher.get(compile_path(second)) == first


def test_add_refuses_none() -> None:
    with pytest.raises(TypeError, match="cannot store None"):
        Matcher[Any]().add(compile_path("/x"), None)


# Matcher: match


def test_static_paths() -> None:
    matcher = matcher_of("/", "/items", "/items/new", "/a//b")
    assert matcher.match("/") == ("/", [])
    assert matcher.match("/items") == ("/items", [])
    assert matcher.match("/items/new") == ("/items/new", [])
    assert matcher.match("/a//b") == ("/a//b", [])
    assert matcher.match("/items/old") is None
    assert matcher.match("/ITEMS") is None


def test_each_converter() -> None:
    matcher = matcher_of(
        "/s/{v}", "/i/{v:int}", "/f/{v:float}", "/u/{v:uuid}", "/p/{v:path}", "/explicit/{v:str}"
    )
    assert matcher.match("/s/hello") == ("/s/{v}", ["hello"])
    assert matcher.match("/s/a b%2F") == ("/s/{v}", ["a b%2F"])
    assert matcher.match("/explicit/x") == ("/explicit/{v:str}", ["x"])
    assert matcher.match("/i/42") == ("/i/{v:int}", [42])
    assert matcher.match("/f/2.5") == ("/f/{v:float}", [2.5])
    assert matcher.match("/f/3") == ("/f/{v:float}", [3.0])
    assert matcher.match(f"/u/{UUID_TEXT.upper()}") == ("/u/{v:uuid}", [uuid.UUID(UUID_TEXT)])
    assert matcher.match("/p/a/b/c") == ("/p/{v:path}", ["a/b/c"])
    for path in ["/i/-1", "/i/4.5", "/i/x", "/f/1e3", "/f/.5", "/u/xyz", "/u/" + UUID_TEXT[:-1]]:
        assert matcher.match(path) is None, path


def test_converted_values_come_in_order_of_the_shape() -> None:
    matcher = matcher_of("/a/{x}/b/{n:int}/{f:float}")
    assert matcher.match("/a/q/b/3/0.5") == ("/a/{x}/b/{n:int}/{f:float}", ["q", 3, 0.5])


def test_mixed_segments() -> None:
    matcher = matcher_of(
        "/r{n:int}x",
        "/files/{name}.{ext}",
        "/v{major:int}.{minor:int}/api",
        "/v{major:int}.{minor:int}/docs",
    )
    assert matcher.match("/r12x") == ("/r{n:int}x", [12])
    assert matcher.match("/r12") is None
    assert matcher.match("/rx") is None
    assert matcher.match("/files/report.pdf") == ("/files/{name}.{ext}", ["report", "pdf"])
    # str is greedy: the last dot splits.
    assert matcher.match("/files/a.tar.gz") == ("/files/{name}.{ext}", ["a.tar", "gz"])
    assert matcher.match("/files/noext") is None
    assert matcher.match("/files/.pdf") is None  # a str part is never empty
    assert matcher.match("/v2.10/api") == ("/v{major:int}.{minor:int}/api", [2, 10])
    assert matcher.match("/v2.10/docs") == ("/v{major:int}.{minor:int}/docs", [2, 10])
    assert matcher.match("/v2.10/other") is None


def test_mixed_segment_regex_metacharacters_are_literal() -> None:
    matcher = matcher_of("/a+b/{x}(c)*", "/q.{n:int}")
    assert matcher.match("/a+b/y(c)*") == ("/a+b/{x}(c)*", ["y"])
    assert matcher.match("/a+b/y(c)") is None
    assert matcher.match("/qX5") is None
    assert matcher.match("/q.5") == ("/q.{n:int}", [5])


def test_path_parameter_at_the_end() -> None:
    matcher = matcher_of("/static/{p:path}", "/{everything:path}")
    assert matcher.match("/static/css/site.css") == ("/static/{p:path}", ["css/site.css"])
    assert matcher.match("/static/") == ("/static/{p:path}", [""])
    assert matcher.match("/static//x/") == ("/static/{p:path}", ["/x/"])
    assert matcher.match("/static/a\nb") == ("/static/{p:path}", ["a\nb"])
    # "/static" has no segment after "static": the root catch-all takes it.
    assert matcher.match("/static") == ("/{everything:path}", ["static"])
    assert matcher.match("/") == ("/{everything:path}", [""])


def test_path_parameter_in_the_middle() -> None:
    matcher = matcher_of("/files/{p:path}/meta", "/x/{p:path}/{n:int}.json", "/pre/v{p:path}")
    assert matcher.match("/files/a/b/meta") == ("/files/{p:path}/meta", ["a/b"])
    assert matcher.match("/files/a/meta") == ("/files/{p:path}/meta", ["a"])
    assert matcher.match("/files//meta") == ("/files/{p:path}/meta", [""])
    assert matcher.match("/files/meta/meta") == ("/files/{p:path}/meta", ["meta"])
    assert matcher.match("/files/meta") is None
    assert matcher.match("/files/a/b/meta/") is None
    assert matcher.match("/x/a/b/12.json") == ("/x/{p:path}/{n:int}.json", ["a/b", 12])
    assert matcher.match("/pre/v1/2") == ("/pre/v{p:path}", ["1/2"])
    assert matcher.match("/pre/1/2") is None


def test_static_wins_over_parameters() -> None:
    matcher = matcher_of("/items/{id}", "/items/new", "/items/{id:int}", "/{p:path}")
    assert matcher.match("/items/new") == ("/items/new", [])
    matcher = matcher_of("/a/{x}/c", "/a/b/{y}")
    assert matcher.match("/a/b/c") == ("/a/b/{y}", ["c"])


def test_whole_segment_parameters_by_specificity() -> None:
    # Added least specific first: the order of adding does not matter.
    matcher = matcher_of("/v/{s}", "/v/{u:uuid}", "/v/{f:float}", "/v/{i:int}")
    assert matcher.match("/v/5") == ("/v/{i:int}", [5])
    assert matcher.match("/v/5.5") == ("/v/{f:float}", [5.5])
    assert matcher.match(f"/v/{UUID_TEXT}") == ("/v/{u:uuid}", [uuid.UUID(UUID_TEXT)])
    assert matcher.match("/v/five") == ("/v/{s}", ["five"])


def test_whole_segment_before_mixed_before_path_tails() -> None:
    matcher = matcher_of("/t/{p:path}", "/t/{a}.{b}", "/t/{s}")
    assert matcher.match("/t/x.y") == ("/t/{s}", ["x.y"])
    matcher = matcher_of("/t/{p:path}", "/t/{a}.{b}")
    assert matcher.match("/t/x.y") == ("/t/{a}.{b}", ["x", "y"])
    assert matcher.match("/t/x/y") == ("/t/{p:path}", ["x/y"])


def test_mixed_segments_and_tails_in_the_order_added() -> None:
    matcher = matcher_of("/m/{a}-{b}", "/m/{n:int}-{k:int}")
    assert matcher.match("/m/1-2") == ("/m/{a}-{b}", ["1", "2"])
    matcher = matcher_of("/m/{n:int}-{k:int}", "/m/{a}-{b}")
    assert matcher.match("/m/1-2") == ("/m/{n:int}-{k:int}", [1, 2])
    matcher = matcher_of("/t/{p:path}.txt", "/t/{p:path}")
    assert matcher.match("/t/a/b.txt") == ("/t/{p:path}.txt", ["a/b"])
    matcher = matcher_of("/t/{p:path}", "/t/{p:path}.txt")
    assert matcher.match("/t/a/b.txt") == ("/t/{p:path}", ["a/b.txt"])


def test_backtracking_when_the_static_branch_fails_deeper() -> None:
    matcher = matcher_of("/a/b/c", "/a/{x}/d")
    assert matcher.match("/a/b/d") == ("/a/{x}/d", ["b"])
    assert matcher.match("/a/b/c") == ("/a/b/c", [])
    assert matcher.match("/a/b/e") is None


def test_backtracking_across_parameter_kinds_and_depths() -> None:
    matcher = matcher_of(
        "/x/{n:int}/only-int",
        "/x/{s}/{t}/deep",
        "/x/{a}-{b}/mixed",
        "/x/{p:path}/tail",
    )
    assert matcher.match("/x/5/only-int") == ("/x/{n:int}/only-int", [5])
    # int matches "5" and fails below; str takes over with its own value.
    assert matcher.match("/x/5/y/deep") == ("/x/{s}/{t}/deep", ["5", "y"])
    assert matcher.match("/x/5-6/mixed") == ("/x/{a}-{b}/mixed", ["5", "6"])
    assert matcher.match("/x/5/y/z/tail") == ("/x/{p:path}/tail", ["5/y/z"])
    assert matcher.match("/x/5/y/z/nothing") is None


def test_values_of_failed_branches_do_not_leak() -> None:
    matcher = matcher_of("/{a:int}/{b:int}/x", "/{a:int}/{c}-{d}/y", "/{s}/{t}/z", "/{p:path}")
    assert matcher.match("/1/2/x") == ("/{a:int}/{b:int}/x", [1, 2])
    assert matcher.match("/1/2-3/y") == ("/{a:int}/{c}-{d}/y", [1, "2", "3"])
    assert matcher.match("/1/2/z") == ("/{s}/{t}/z", ["1", "2"])
    assert matcher.match("/1/2-3/q") == ("/{p:path}", ["1/2-3/q"])


def test_trailing_slash_is_a_different_path() -> None:
    matcher = matcher_of("/items", "/things/", "/users/{id}", "/groups/{id}/")
    assert matcher.match("/items") == ("/items", [])
    assert matcher.match("/items/") is None
    assert matcher.match("/things/") == ("/things/", [])
    assert matcher.match("/things") is None
    assert matcher.match("/users/1") == ("/users/{id}", ["1"])
    assert matcher.match("/users/1/") is None
    assert matcher.match("/groups/1/") == ("/groups/{id}/", ["1"])
    assert matcher.match("/groups/1") is None
    both = matcher_of("/users/{id}", "/users/{id}/")
    assert both.match("/users/1") == ("/users/{id}", ["1"])
    assert both.match("/users/1/") == ("/users/{id}/", ["1"])


def test_root() -> None:
    assert matcher_of("/").match("/") == ("/", [])
    assert matcher_of("/{x}").match("/") is None  # a str parameter is never empty
    assert matcher_of("/{x}").match("/a") == ("/{x}", ["a"])
    assert matcher_of("/items").match("/") is None


def test_str_parameter_never_matches_an_empty_segment() -> None:
    matcher = matcher_of("/a/{x}/b", "/c/{y}")
    assert matcher.match("/a//b") is None
    assert matcher.match("/c/") is None


def test_no_match() -> None:
    matcher = matcher_of("/items", "/items/{id:int}", "/files/{name}.{ext}")
    for path in ["/nothing", "/items/5/more", "/items/x", "/files/x", "/", "", "items", "//"]:
        assert matcher.match(path) is None, path
    assert Matcher[str]().match("/anything") is None


def test_a_path_not_starting_with_slash_never_matches() -> None:
    matcher = matcher_of("/{x}", "/{p:path}")
    assert matcher.match("ab") is None
    assert matcher.match("") is None


def test_a_convertor_refusal_falls_through_to_the_next_route() -> None:
    huge = "9" * 5000  # past Python's int digit limit: int() raises ValueError
    matcher = matcher_of("/n/{i:int}", "/m/r{i:int}", "/t/{p:path}/{i:int}")
    assert matcher.match(f"/n/{huge}") is None
    assert matcher.match(f"/m/r{huge}") is None
    assert matcher.match(f"/t/a/{huge}") is None
    matcher = matcher_of("/n/{i:int}", "/n/{s}", "/f/{x:float}", "/f/{s}")
    assert matcher.match(f"/n/{huge}") == ("/n/{s}", [huge])
    too_big = "9" * 400  # a float() of this is inf
    assert matcher.match(f"/f/{too_big}") == ("/f/{s}", [too_big])


# Property tests

STATIC_WORD = st.text("abc", min_size=1, max_size=3)
AFFIX = st.text("-.~_", min_size=1, max_size=2)
# Values are drawn from alphabets that cannot spell the static words of the
# target ("abc") or of the other routes ("de", "ed"), and cannot be mistaken
# for one another where two meet in one segment.
VALUES: dict[str, st.SearchStrategy[Any]] = {
    "str": st.text("xyz", min_size=1, max_size=5),
    "int": st.integers(min_value=0, max_value=10**30),
    "float": st.floats(min_value=0, allow_nan=False, allow_infinity=False),
    "uuid": st.uuids(),
    "path": st.text("xyz/\n", max_size=8),
}
# Every other route has a whole "de" or "ed" segment, which no target path
# has, so none can take a target's path. They share prefixes, parameter kinds
# and even static segments spelled like target values ("x", "1", "0.0") with
# the targets, so the search has to go down them and backtrack.
OTHERS = [
    "/de",
    "/x/de",
    "/x/{y}/ed",
    "/{s}/x/ed",
    "/xx/{p:path}/ed",
    "/1/ed",
    "/0.0/de",
    "/{x}-{y}/de",
    "/{n:int}.{m:int}/de",
    "/a/de",
    "/{x}/de",
    "/a/{n:int}/ed",
    "/{n:int}/{x}/ed",
    "/{f:float}/ed",
    "/{u:uuid}/de",
    "/{x}.{y}/ed",
    "/a/{p:path}/de",
    "/{p:path}/ed/",
    "/de/{p:path}",
    "/a/b/{x}-{y}/de/{f:float}",
]


@st.composite
def templates(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """A route template and values for its parameters that route back to it."""
    segments: list[str] = []
    values: dict[str, Any] = {}
    has_path = False  # two path parameters in one template are ambiguous
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        kind = draw(st.sampled_from(["static", "param", "mixed"]))
        if kind == "static":
            segments.append(draw(STATIC_WORD))
            continue
        kinds = (
            ["str", "int", "float", "uuid"]
            if has_path
            else ["str", "int", "float", "uuid", "path"]
        )
        convertor = draw(st.sampled_from(kinds))
        has_path = has_path or convertor == "path"
        name = f"p{len(values)}"
        values[name] = draw(VALUES[convertor])
        spelled = "" if convertor == "str" and draw(st.booleans()) else f":{convertor}"
        field = "{" + name + spelled + "}"
        if kind == "mixed":
            prefix, suffix = draw(st.sampled_from([(True, False), (False, True), (True, True)]))
            field = (draw(AFFIX) if prefix else "") + field + (draw(AFFIX) if suffix else "")
        segments.append(field)
    if draw(st.booleans()):
        segments.append("")  # a trailing slash
    return "/" + "/".join(segments), values


@given(templates(), st.integers(min_value=0, max_value=len(OTHERS)))
def test_a_formatted_path_matches_back_to_its_route(
    target: tuple[str, dict[str, Any]], position: int
) -> None:
    template, values = target
    compiled = compile_path(template)
    routes = [*OTHERS[:position], template, *OTHERS[position:]]
    matcher = matcher_of(*routes)
    path = compiled.format(**values)
    assert matcher.match(path) == (template, [values[param.name] for param in compiled.params])


ALL_KINDS = matcher_of(
    "/",
    "/items",
    "/items/",
    "/items/{id:int}",
    "/items/{name}",
    "/items/{id:int}/{f:float}",
    "/u/{u:uuid}/{rest:path}",
    "/r{n:int}x/{a}.{b}",
    "/files/{p:path}/meta",
    "/static/{p:path}",
    "/{a}/{b}/{c}",
    "/{everything:path}.json",
)


@given(st.text().map(lambda text: "/" + text))
def test_match_never_raises_on_any_path(path: str) -> None:
    result = ALL_KINDS.match(path)
    assert result is None or isinstance(result[1], list)


@given(st.text(alphabet="/0123456789.-abrx", max_size=30).map(lambda text: "/" + text))
def test_match_never_raises_on_paths_near_the_routes(path: str) -> None:
    result = ALL_KINDS.match(path)
    assert result is None or isinstance(result[1], list)


# Scale: matching does the same work among 10 or 10,000 routes


class CountingConvertor(Convertor[Any]):
    """Wraps a convertor and counts its ``convert`` calls and segment checks."""

    def __init__(self, inner: Convertor[Any]) -> None:
        self.inner = inner
        self.name = inner.name
        self.regex = inner.regex
        self.calls = 0
        self.checks = 0

    def convert(self, value: str) -> Any:
        self.calls += 1
        return self.inner.convert(value)

    def segment_matcher(self) -> Callable[[str], object]:
        check = self.inner.segment_matcher()

        def counted(segment: str) -> object:
            self.checks += 1
            return check(segment)

        return counted

    def to_string(self, value: Any) -> str:
        return self.inner.to_string(value)


def test_match_cost_does_not_grow_with_the_number_of_routes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    counter = CountingConvertor(StringConvertor())
    monkeypatch.setitem(_convertors.CONVERTORS, "str", counter)
    regex_calls = 0
    node_visits = 0
    fullmatcher = _matcher._fullmatcher
    search = _matcher._search

    def counting_fullmatcher(regex: str) -> Callable[..., Any]:
        fullmatch = fullmatcher(regex)

        def counted(*args: Any) -> Any:
            nonlocal regex_calls
            regex_calls += 1
            return fullmatch(*args)

        return counted

    def counting_search(*args: Any) -> Any:
        nonlocal node_visits
        node_visits += 1
        return search(*args)

    monkeypatch.setattr(_matcher, "_fullmatcher", counting_fullmatcher)
    monkeypatch.setattr(_matcher, "_search", counting_search)

    def cost_of_match(routes: int, path: str) -> tuple[int, int, int]:
        nonlocal regex_calls, node_visits
        matcher: Matcher[int] = Matcher()
        for i in range(routes):
            matcher.add(compile_path(f"/r{i}/items/{{item_id}}"), i)
        counter.calls = counter.checks = regex_calls = node_visits = 0
        assert matcher.match(path) == (int(path.split("/")[1][1:]), [path.split("/")[-1]])
        return counter.calls, counter.checks + regex_calls, node_visits

    few = cost_of_match(10, "/r9/items/5")
    many = cost_of_match(10_000, "/r9999/items/5")
    assert many == few
    # One str parameter: one segment check and one convert; the root, r9999, items and
    # {item_id} nodes.
    assert few == (1, 1, 4)
