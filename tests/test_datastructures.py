from __future__ import annotations

import io
from typing import Any
from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microweb.datastructures import (
    URL,
    Address,
    FormData,
    Headers,
    MutableHeaders,
    QueryParams,
    State,
    UploadFile,
    parse_query_string,
)


def raw() -> list[tuple[bytes, bytes]]:
    return [(b"accept", b"text/html"), (b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")]


def test_headers_case_insensitive_first_value() -> None:
    headers = Headers(raw=raw())
    assert headers["Accept"] == "text/html"
    assert headers["SET-COOKIE"] == "a=1"
    assert headers.get("missing") is None
    assert headers.get("missing", "d") == "d"
    assert "ACCEPT" in headers
    assert object() not in headers
    with pytest.raises(KeyError):
        headers["missing"]


def test_headers_multi_valued() -> None:
    headers = Headers(raw=raw())
    assert headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert headers.getlist("nope") == []
    assert list(headers) == ["accept", "set-cookie"]
    assert len(headers) == 2
    assert headers.multi_items() == [
        ("accept", "text/html"),
        ("set-cookie", "a=1"),
        ("set-cookie", "b=2"),
    ]
    assert dict(headers) == {"accept": "text/html", "set-cookie": "a=1"}


def test_headers_from_scope_and_mapping() -> None:
    from_scope = Headers(scope={"headers": [(b"x-a", b"1")]})
    from_mapping = Headers({"X-A": "1"})
    assert from_scope == from_mapping
    assert from_scope == {"x-a": "1"}
    assert from_scope != Headers({"x-a": "2"})
    assert Headers() == {}
    assert repr(from_mapping) == "Headers([('x-a', '1')])"


def test_headers_take_one_source() -> None:
    with pytest.raises(TypeError, match="one of"):
        Headers({"a": "b"}, raw=[])


def test_headers_decode_latin1() -> None:
    assert Headers(raw=[(b"x", "café".encode("latin-1"))])["x"] == "café"


def test_mutable_headers_write_through() -> None:
    pairs = raw()
    headers = MutableHeaders(raw=pairs)
    headers["Set-Cookie"] = "only=1"
    assert pairs == [(b"accept", b"text/html"), (b"set-cookie", b"only=1")]
    headers["X-New"] = "v"
    assert pairs[-1] == (b"x-new", b"v")
    headers.append("x-new", "w")
    assert headers.getlist("x-new") == ["v", "w"]
    del headers["X-NEW"]
    assert "x-new" not in headers
    with pytest.raises(KeyError):
        del headers["x-new"]


def test_mutable_headers_helpers() -> None:
    headers = MutableHeaders()
    assert headers.setdefault("a", "1") == "1"
    assert headers.setdefault("a", "2") == "1"
    headers.update({"b": "2", "a": "3"})
    headers.update([("c", "4")])
    assert headers.multi_items() == [("a", "3"), ("b", "2"), ("c", "4")]
    assert headers.pop("b") == "2"
    assert headers.pop("b", "gone") == "gone"
    with pytest.raises(KeyError):
        headers.pop("b")
    headers.add_vary_header("accept")
    headers.add_vary_header("origin")
    assert headers["vary"] == "accept, origin"


@pytest.mark.parametrize("value", ["a\r\nb", "a\nb", "a\rb", "\x00"])
def test_mutable_headers_refuse_injection(value: str) -> None:
    with pytest.raises(ValueError, match="CR, LF and NUL"):
        MutableHeaders()["x"] = value


def test_non_latin1_value_refused_with_advice() -> None:
    with pytest.raises(ValueError, match="percent-encode"):
        MutableHeaders()["x"] = "snow ☃"


def test_non_str_refused() -> None:
    with pytest.raises(TypeError, match="must be str"):
        MutableHeaders()["x"] = 1  # type: ignore[assignment]


def test_headers_unhashable() -> None:
    with pytest.raises(TypeError):
        hash(Headers())


# --- QueryParams ------------------------------------------------------------------


def test_query_params_from_each_source() -> None:
    expected = [("a", "1"), ("b", "x y"), ("a", "2")]
    assert QueryParams("a=1&b=x+y&a=2").multi_items() == expected
    assert QueryParams(b"a=1&b=x%20y&a=2").multi_items() == expected
    assert QueryParams(expected).multi_items() == expected
    assert QueryParams({"a": "1", "b": "x y"}).multi_items() == expected[:2]
    assert QueryParams().multi_items() == []


def test_query_params_first_value_and_every_value() -> None:
    params = QueryParams("tag=a&x=1&tag=b&tag=c")
    assert (params["tag"], params.get("x"), params.get("nope")) == ("a", "1", None)
    assert params.getlist("tag") == ["a", "b", "c"]
    assert params.getlist("nope") == []
    assert list(params) == ["tag", "x"]  # in order of first appearance
    assert len(params) == 2
    assert dict(params) == {"tag": "a", "x": "1"}
    assert "tag" in params
    assert object() not in params
    with pytest.raises(KeyError):
        params["nope"]


def test_query_params_keep_blanks_and_bad_escapes() -> None:
    params = QueryParams("a=&b&c=%zz&d=%&e=%4")
    assert params.multi_items() == [("a", ""), ("b", ""), ("c", "%zz"), ("d", "%"), ("e", "%4")]


@pytest.mark.parametrize("query", [b"a=\xff", "a=%ff", "%ff=1", b"a=%C3%28"])
def test_query_params_refuse_invalid_utf8(query: str | bytes) -> None:
    with pytest.raises(UnicodeDecodeError):
        QueryParams(query)


def test_query_params_equality_str_and_repr() -> None:
    params = QueryParams("b=2&a=1&a=3")
    assert params == QueryParams([("a", "1"), ("a", "3"), ("b", "2")])
    assert params == QueryParams("a=3&a=1&b=2")  # equal as sets of pairs
    assert params != QueryParams("a=1&b=2")
    assert params == {"b": "2", "a": "1"}
    assert str(params) == "b=2&a=1&a=3"
    assert str(QueryParams([("q", "a b&c")])) == "q=a+b%26c"
    assert repr(params) == "QueryParams('b=2&a=1&a=3')"
    with pytest.raises(TypeError):
        hash(params)


# --- URL ----------------------------------------------------------------------------


def test_url_parts() -> None:
    url = URL("https://user:pw@example.org:8443/a/b%20c?x=1&y=2#frag")
    assert (url.scheme, url.netloc, url.path, url.query, url.fragment) == (
        "https",
        "user:pw@example.org:8443",
        "/a/b%20c",
        "x=1&y=2",
        "frag",
    )
    assert (url.hostname, url.port, url.username, url.password) == (
        "example.org",
        8443,
        "user",
        "pw",
    )
    assert url.is_secure
    assert not URL("http://a/").is_secure
    assert URL("http://A.example/").hostname == "a.example"
    assert URL("http://a/").port is None


def test_url_replace() -> None:
    url = URL("http://example.org/path?q=1")
    assert url.replace(scheme="https") == "https://example.org/path?q=1"
    assert url.replace(path="/other", query="") == "http://example.org/other"
    assert url.replace(port=8080) == "http://example.org:8080/path?q=1"
    assert url.replace(hostname="::1", port=81) == "http://[::1]:81/path?q=1"
    assert url.replace(username="u") == "http://u@example.org/path?q=1"
    assert url.replace(username="u", password="p") == "http://u:p@example.org/path?q=1"
    assert url.replace(fragment="top") == "http://example.org/path?q=1#top"
    assert URL("http://h:81/").replace(port=None) == "http://h/"


def test_url_include_query_params() -> None:
    url = URL("http://example.org/list?page=1&tag=a&tag=b&empty=")
    assert url.include_query_params(page=2, size=10) == (
        "http://example.org/list?tag=a&tag=b&empty=&page=2&size=10"
    )
    assert URL("http://h/").include_query_params(q="a b&c") == "http://h/?q=a+b%26c"


def test_url_from_scope() -> None:
    scope: dict[str, Any] = {
        "type": "http",
        "scheme": "https",
        "server": ("10.0.0.1", 8443),
        "root_path": "/api",
        "path": "/api/a b",
        "query_string": b"x=1",
        "headers": [],
    }
    assert URL(scope=scope) == "https://10.0.0.1:8443/api/a%20b?x=1"
    scope["headers"] = [(b"accept", b"*/*"), (b"host", b"example.org")]
    scope["path"] = "/a b"  # a server that keeps root_path out of path
    assert URL(scope=scope) == "https://example.org/api/a%20b?x=1"
    assert URL(scope={**scope, "headers": [], "server": ("h", 443), "query_string": b""}) == (
        "https://h/api/a%20b"
    )


@pytest.mark.parametrize(
    "host",
    [
        b"[",
        b"]",
        b"[evil:80",
        b"evil.example/x",
        b"127.0.0.1@evil.example",
        b"a:99999",
        b"evil\\x",
        b"evil?",
        b"",
        b"\xe9vil",
    ],
)
def test_a_malformed_host_never_shapes_the_url(host: bytes) -> None:
    # The server's address stands in; every part can be read without raising.
    scope: dict[str, Any] = {
        "type": "http",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "path": "/items",
        "query_string": b"",
        "headers": [(b"host", host)],
    }
    url = URL(scope=scope)
    assert url == "http://127.0.0.1:8000/items"
    assert (url.hostname, url.port, url.path) == ("127.0.0.1", 8000, "/items")


def test_url_port_that_is_not_a_port_is_none() -> None:
    assert URL("http://a:99999/").port is None
    assert URL("http://a:8080/").port == 8080
    assert URL("http://[::1]:8000/").hostname == "::1"


def test_url_root_path_at_a_segment_boundary_only() -> None:
    scope: dict[str, Any] = {
        "type": "http",
        "scheme": "http",
        "server": ("h", 80),
        "root_path": "/product",
        "path": "/products",  # a server that keeps root_path out of path
        "query_string": b"",
        "headers": [],
    }
    assert URL(scope=scope) == "http://h/product/products"
    assert URL(scope={**scope, "path": "/product/items"}) == "http://h/product/items"


def test_url_equality_hash_repr() -> None:
    assert URL("http://a/") == URL("http://a/") == "http://a/"
    assert URL("http://a/") != "http://b/"
    assert URL("http://a/").__eq__(1) is NotImplemented
    assert len({URL("http://a/"), URL("http://a/")}) == 1
    assert repr(URL("http://a/")) == "URL('http://a/')"
    assert str(URL("http://a/")) == "http://a/"


# --- Address and State --------------------------------------------------------------


def test_address() -> None:
    address = Address("127.0.0.1", 5000)
    assert (address.host, address.port) == ("127.0.0.1", 5000)
    assert address == ("127.0.0.1", 5000)


def test_state() -> None:
    data: dict[str, object] = {"db": 1}
    state = State(data)
    state.user = "ada"
    assert (state.db, state.user, data["user"]) == (1, "ada", "ada")
    del state.user
    with pytest.raises(AttributeError, match="no attribute 'user'"):
        del state.user
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = State().nope


# --- FormData and UploadFile --------------------------------------------------------


def test_form_data_is_an_immutable_multi_valued_mapping() -> None:
    upload = UploadFile(io.BytesIO(b""), filename="a.txt")
    form = FormData([("name", "Ada"), ("file", upload), ("name", "Bo")])
    assert (form["name"], form["file"], form.get("nope")) == ("Ada", upload, None)
    assert form.getlist("name") == ["Ada", "Bo"]
    assert list(form) == ["name", "file"]
    assert len(form) == 2
    assert form.multi_items() == [("name", "Ada"), ("file", upload), ("name", "Bo")]
    assert FormData({"a": "1"}) == FormData([("a", "1")]) == {"a": "1"}
    assert FormData([("a", "1"), ("a", "2")]) != FormData([("a", "1")])
    assert form == FormData([("name", "Ada"), ("name", "Bo"), ("file", upload)])
    assert repr(FormData([("a", "1")])) == "FormData([('a', '1')])"
    assert not hasattr(form, "__setitem__")
    with pytest.raises(TypeError):
        hash(form)


@pytest.mark.anyio
async def test_form_data_close_closes_its_files() -> None:
    files = [UploadFile(io.BytesIO(b"x")), UploadFile(io.BytesIO(b"y"))]
    form = FormData([("a", files[0]), ("t", "text"), ("a", files[1])])
    await form.close()
    assert all(f.file.closed for f in files)
    await form.close()


def test_upload_file_attributes() -> None:
    headers = Headers({"content-type": "image/png", "content-disposition": "form-data"})
    upload = UploadFile(io.BytesIO(b"png"), size=3, filename="a.png", headers=headers)
    assert (upload.filename, upload.size, upload.content_type) == ("a.png", 3, "image/png")
    assert upload.headers is headers
    assert headers.raw == [(b"content-type", b"image/png"), (b"content-disposition", b"form-data")]
    assert repr(upload) == "UploadFile(filename='a.png', size=3, content_type='image/png')"


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.sampled_from("ab=&+%2F0-zé ;?#\x00"))
        | st.from_regex(r"[a-z%0-9+=&]*"),
        max_size=4,
    ).map("&".join)
)
def test_parse_query_string_matches_parse_qsl(text: str) -> None:
    try:
        expected: list[tuple[str, str]] | type[Exception] = parse_qsl(
            text, keep_blank_values=True, errors="strict"
        )
    except UnicodeDecodeError:
        expected = UnicodeDecodeError
    if expected is UnicodeDecodeError:
        with pytest.raises(UnicodeDecodeError):
            parse_query_string(text)
    else:
        assert parse_query_string(text) == expected


def test_non_ascii_raw_names_are_found_as_sent() -> None:
    # Raw names are lower-cased as bytes (ASCII only), so lookups must be too.
    headers = Headers(raw=[(b"x-\xc0", b"v")])
    assert headers["X-\xc0"] == "v"
    assert "x-\xc0" in headers
    assert headers.getlist("X-\xc0") == ["v"]
