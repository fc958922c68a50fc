"""Markdown tables of figures by app, with the ratio to the raw app of the same run.

Shared by ``bench.report`` and ``bench.report_connections``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench import apps as registry

TIMES, DASH = "\u00d7", "\u2013"  # the multiplication sign and the en dash of the tables


def apps_in(rows: dict[str, dict[str, Any]]) -> list[str]:
    """The apps that have a figure in any row, in the registry's order."""
    seen = {name for row in rows.values() for name in row}
    return [name for name in registry.APPS if name in seen]


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def ratio_rows(
    rows: dict[str, dict[str, float]],
    value: Callable[[float], str],
    digits: int,
    label: Callable[[str], str],
) -> list[list[str]]:
    """One line per row: ``label(row name)``, then each app's ``value(figure) (ratio to raw)``."""
    names = apps_in(rows)
    body = []
    for row_name, row in rows.items():
        raw = row.get("raw")
        cells = []
        for name in names:
            figure = row.get(name)
            if figure is None:
                cells.append(DASH)
            elif raw and name != "raw":
                cells.append(f"{value(figure)} ({figure / raw:.{digits}f}{TIMES})")
            else:
                cells.append(value(figure))
        body.append([label(row_name), *cells])
    return body
