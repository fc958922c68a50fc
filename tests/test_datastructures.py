from __future__ import annotations

import pytest

from microweb.datastructures import Headers, MutableHeaders


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
