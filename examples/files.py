"""Files: FileResponse, downloads, byte ranges, and serving a folder safely.

Serve it with ``uvicorn examples.files:app``; docs/tutorial/files.md shows
what to try.
"""

from __future__ import annotations

from pathlib import Path

from microweb import App, HTTPException
from microweb.responses import FileResponse

app = App()

DATA = (Path(__file__).parent / "data").resolve()

# Built once, it answers every request: ranges and 304s are worked out per
# request and never change the object.
hello = FileResponse(DATA / "hello.txt", filename="hello.txt")


@app.get("/download")
async def download() -> FileResponse:
    return hello


@app.get("/files/{name:path}")
async def files(name: str) -> FileResponse:
    # Never trust a path from the URL: resolve it and check it stays inside
    # DATA, or /files/../../etc/passwd would be served.
    path = (DATA / name).resolve()
    if not path.is_relative_to(DATA) or not path.is_file():
        raise HTTPException(404, "no such file")
    return FileResponse(path)
