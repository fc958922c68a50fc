"""Automatic docs: an OpenAPI document and a Swagger UI page, from the routes alone.

Serve it with ``uvicorn examples.autodocs:app`` and open
http://127.0.0.1:8000/docs; docs/tutorial/autodocs.md shows what to try.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from microweb import App
from microweb.params import Query


class Book(msgspec.Struct):
    title: str
    year: int


app = App(title="Library", version="1.0.0", description="The books on our shelf.")


@app.get("/books", tags=["books"])
async def list_books(limit: Annotated[int, Query(ge=1, le=50)] = 10) -> list[Book]:
    """Every book, oldest first."""
    return [Book("Dune", 1965), Book("Neuromancer", 1984)][:limit]


@app.post("/books", status_code=201, tags=["books"])
async def add_book(book: Book) -> Book:
    """Put a book on the shelf."""
    return book
