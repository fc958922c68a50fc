"""Files: FileResponse, downloads, byte ranges, and serving a folder safely.

Serve it with ``uvicorn examples.files:app``; docs/tutorial/files.md shows
what to try.
"""

from __future__ import annotations

from pathlib import Path

from microweb import App
from microweb.responses import FileResponse, safe_path

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
    # Never trust a path from the URL: safe_path answers 404 for anything that
    # is not a file inside DATA (../../etc/passwd, an absolute path, a symlink
    # out), so only the folder's own files are ever served.
    return FileResponse(safe_path(DATA, name))
