"""examples/forms.py answers as its docstring says, through the TestClient."""

from __future__ import annotations

import hashlib

from microweb.testclient import TestClient


def client() -> TestClient:
    from examples.forms import app

    return TestClient(app)


def test_page_holds_both_forms() -> None:
    response = client().get("/")
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert '<form method="post" action="/contact">' in response.text
    assert 'enctype="multipart/form-data"' in response.text


def test_contact_urlencoded() -> None:
    response = client().post("/contact", data={"name": " Ada ", "topic": ["maths", "engines"]})
    assert response.json() == {"name": "Ada", "topics": ["maths", "engines"]}
    assert client().post("/contact", data={"name": "Bo"}).json() == {"name": "Bo", "topics": []}


def test_contact_errors() -> None:
    assert client().post("/contact", data={"topic": "maths"}).status_code == 422
    response = client().post("/contact", data={"name": "x" * 2000})
    assert response.status_code == 413
    response = client().post("/contact", content=b"name=Ada")
    assert response.status_code == 415  # no form content type
    response = client().post(
        "/contact",
        content=b"name=" + b"x" * 70_000,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413  # over the app's max_body_size


def test_upload_returns_name_size_sha256() -> None:
    small = b"hello\r\n--not a boundary\r\n"
    big = bytes(range(256)) * 8192  # 2 MiB: over max_body_size, spooled to disk
    response = client().post(
        "/upload",
        data={"note": "two files"},
        files=[("files", ("small.txt", small, "text/plain")), ("files", ("big.bin", big))],
    )
    assert response.status_code == 200
    assert response.json() == {
        "files": [
            {"name": "small.txt", "size": len(small), "sha256": hashlib.sha256(small).hexdigest()},
            {"name": "big.bin", "size": len(big), "sha256": hashlib.sha256(big).hexdigest()},
        ],
        "note": "two files",
    }


def test_upload_limits_and_bad_input() -> None:
    eleven = [("files", (f"{n}.txt", b"x")) for n in range(11)]
    response = client().post("/upload", files=eleven)
    assert response.status_code == 400
    assert response.json() == {"detail": "Too many files in the form: the limit is max_files=10"}
    response = client().post("/upload", files={"note": ("note.txt", b"x")})
    assert response.status_code == 422
    response = client().post(
        "/upload",
        content=b'--b\r\ncontent-disposition: form-data; name="files"; filename="a"\r\n\r\nab',
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert response.status_code == 400
