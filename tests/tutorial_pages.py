"""Reading the tutorial's pages: their console steps, and curl's output made comparable.

Shared by tests/test_tutorial_examples.py (in-process) and
tests/server/test_deploy.py (a real uvicorn and the real curl).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).parent.parent
TUTORIAL = ROOT / "docs" / "tutorial"
PAGES = sorted(TUTORIAL.glob("*.md"))

PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
EXAMPLE_BLOCK = re.compile(r"`(examples/\w+\.py)`:\n\n```python\n(.*?)^```", re.S | re.M)
CONSOLE_BLOCK = re.compile(r"^```console\n(.*?)^```", re.S | re.M)

# Headers whose value changes from run to run: compared by name only.
VARYING = ("etag", "last-modified")
# Headers the server adds (and TestClient does not): left out of the comparison.
SERVER_ADDED = ("date", "server", "transfer-encoding")


# --- reading the pages ------------------------------------------------------


def console_steps(page: Path) -> list[tuple[str, str]]:
    """``(command, expected output)`` for every ``$ `` line of the page's console blocks."""
    steps: list[tuple[str, str]] = []
    for block in CONSOLE_BLOCK.findall(page.read_text(encoding="utf-8")):
        for line in block.splitlines():
            if line.startswith("$ "):
                steps.append((line[2:], ""))
            elif steps:
                command, output = steps[-1]
                steps[-1] = (command, output + line + "\n")
            else:
                raise AssertionError(f"{page.name}: console output before any command: {line!r}")
    return steps


def normalize(output: str) -> str:
    """What of curl's (or pytest's) output must match exactly; see the module docstring."""
    text = output.replace("\r\n", "\n").rstrip()
    if re.search(r"^\S* ?passed in [\d.]+s$", text, re.M):  # a pytest run
        text = re.sub(r" in [\d.]+s$", "", text, flags=re.M)
        return re.sub(r" +", " ", text)
    if not text.startswith("HTTP/"):
        return text
    head, _, body = text.partition("\n\n")
    status, *headers = head.split("\n")
    kept = [" ".join(status.split(" ")[:2])]
    for header in headers:
        name = header.split(":", 1)[0].lower()
        if name in SERVER_ADDED:
            continue
        kept.append(f"{name}: *" if name in VARYING else header)
    return "\n".join(kept) + "\n\n" + body


def uvicorn_module(command: str) -> str:
    """``examples.NAME`` from ``uvicorn examples.NAME:app [options]``."""
    target = shlex.split(command)[1]
    module, _, attribute = target.partition(":")
    assert attribute == "app", command
    return module
