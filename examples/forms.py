"""Forms and uploads: an HTML page, a urlencoded form handler, a file upload handler.

Serve it with ``uvicorn examples.forms:app``, open http://127.0.0.1:8000/ in
a browser, or try:

    curl -d name=Ada -d topic=maths -d topic=engines http://127.0.0.1:8000/contact
    curl -F files=@README.md -F files=@pyproject.toml -F note=hi http://127.0.0.1:8000/upload
    curl -F name=Ada -F topics=maths -F avatar=@README.md http://127.0.0.1:8000/signup
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from microweb import App, HTTPException, Request
from microweb.datastructures import UploadFile
from microweb.params import File, Form
from microweb.responses import HTMLResponse

# Bodies read into memory (and a urlencoded form) stay under 64 KiB; uploaded
# files are spooled to disk and not bounded by it.
app = App(max_body_size=64 * 1024)

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>microweb forms</title></head>
<body>
  <h1>Contact</h1>
  <form method="post" action="/contact">
    <label>Name <input name="name" required></label>
    <label><input type="checkbox" name="topic" value="maths"> maths</label>
    <label><input type="checkbox" name="topic" value="engines"> engines</label>
    <button>Send</button>
  </form>
  <h1>Upload</h1>
  <form method="post" action="/upload" enctype="multipart/form-data">
    <input type="file" name="files" multiple>
    <label>Note <input name="note"></label>
    <button>Upload</button>
  </form>
</body>
</html>
"""


@app.get("/", response_class=HTMLResponse)
async def index() -> str:
    return PAGE


@app.post("/contact")
async def contact(request: Request) -> dict[str, Any]:
    # application/x-www-form-urlencoded: every value is a str.
    form = await request.form(max_fields=20, max_part_size=1024)
    name = form.get("name")
    if not isinstance(name, str) or not name.strip():
        raise HTTPException(422, "name is required")
    return {"name": name.strip(), "topics": form.getlist("topic")}


async def sha256_of(upload: UploadFile) -> str:
    digest = hashlib.sha256()
    # Read in pieces: a file of any size costs 64 KiB of memory here.
    while chunk := await upload.read(64 * 1024):
        digest.update(chunk)
    return digest.hexdigest()


@app.post("/upload")
async def upload(request: Request) -> dict[str, Any]:
    # multipart/form-data: files are UploadFile, other fields str.
    form = await request.form(max_files=10, max_fields=10)
    files: list[dict[str, Any]] = []
    for item in form.getlist("files"):
        if isinstance(item, UploadFile) and item.filename:  # an empty input sends no name
            files.append(
                {"name": item.filename, "size": item.size, "sha256": await sha256_of(item)}
            )
    # Optional: frees the temporary files now rather than after the response.
    await request.close()
    note = form.get("note", "")
    if not isinstance(note, str):
        raise HTTPException(422, "note must be text, not a file")
    return {"files": files, "note": note}


@app.post("/signup")
async def signup(
    name: Annotated[str, Form(max_length=50)],
    topics: Annotated[list[str], Form()] = [],  # noqa: B006 - each request gets a copy
    avatar: Annotated[UploadFile | None, File()] = None,
) -> dict[str, Any]:
    # The same forms, read by parameters: converted and checked before the call.
    picture = None if avatar is None else {"name": avatar.filename, "size": avatar.size}
    return {"name": name, "topics": topics, "avatar": picture}
