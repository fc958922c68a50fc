"""Every Python code block in docs/ and README.md runs (one namespace per page)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_code_blocks_run(page: Path) -> None:
    blocks = BLOCK.findall(page.read_text(encoding="utf-8"))
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for number, block in enumerate(blocks, 1):
        code = compile(block, f"{page.name} block {number}", "exec")
        exec(code, namespace)


LINK = re.compile(r"\]\(([^)#\s]+)")


def _links(page: Path) -> set[Path]:
    """The files ``page`` links to, resolved."""
    return {
        (page.parent / target).resolve()
        for target in LINK.findall(page.read_text(encoding="utf-8"))
        if "://" not in target
    }


@pytest.mark.parametrize("index", [ROOT / "README.md", ROOT / "docs" / "index.md"])
def test_every_guide_is_linked_from_the_readme_and_the_docs_home(index: Path) -> None:
    guides = {page.resolve() for page in (ROOT / "docs").glob("*.md")} - {index.resolve()}
    linked = _links(index)
    assert guides - linked == set()
    assert (ROOT / "docs" / "tutorial" / "index.md").resolve() in linked
    assert (ROOT / "docs" / "reference" / "microweb.md").resolve() in linked


@pytest.mark.parametrize(
    "page", sorted((ROOT / "docs" / "reference").glob("*.md")), ids=lambda p: p.name
)
def test_reference_pages_say_something_before_the_generated_part(page: Path) -> None:
    # On GitHub the ::: directive renders as nothing: a sentence must come first.
    text = page.read_text(encoding="utf-8")
    before = text.split(":::", 1)[0]
    prose = [line for line in before.splitlines()[1:] if line.strip()]
    assert prose, f"{page.name} has nothing but its title before the generated API"
