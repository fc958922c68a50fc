"""An app that receives uploads, served by uvicorn in tests/server/test_upload_server.py."""

from __future__ import annotations

import hashlib
import os
from typing import Annotated, Any

from microweb import App, Request
from microweb.datastructures import UploadFile
from microweb.params import Form
from microweb.requests import ClientDisconnect

app = App(max_body_size=1024 * 1024)
disconnects = 0


@app.get("/pid")
def pid() -> int:
    return os.getpid()


@app.get("/disconnects")
def disconnects_seen() -> int:
    return disconnects


@app.post("/upload")
async def upload(request: Request) -> dict[str, Any]:
    global disconnects
    try:
        form = await request.form()
    except ClientDisconnect:
        disconnects += 1
        raise
    file = form["file"]
    if not isinstance(file, UploadFile):
        return {"error": "file is not a file"}
    digest = hashlib.sha256()
    while chunk := await file.read(64 * 1024):
        digest.update(chunk)
    answer = {
        "filename": file.filename,
        "size": file.size,
        "sha256": digest.hexdigest(),
        "fields": {k: v for k, v in form.items() if isinstance(v, str)},
    }
    await request.close()  # routing does this after the response once it is wired
    answer["closed"] = file.file.closed
    return answer


typed_uploads: list[UploadFile] = []


@app.post("/typed-upload")
async def typed_upload(
    file: UploadFile, note: Annotated[str, Form(max_length=100)]
) -> dict[str, Any]:
    """The same upload bound by parameters: the file is closed after the response."""
    typed_uploads.append(file)
    digest = hashlib.sha256()
    while chunk := await file.read(64 * 1024):
        digest.update(chunk)
    return {
        "filename": file.filename,
        "size": file.size,
        "sha256": digest.hexdigest(),
        "note": note,
    }


@app.get("/typed-upload/closed")
def typed_uploads_closed() -> list[bool]:
    return [upload.file.closed for upload in typed_uploads]
