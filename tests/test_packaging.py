"""What a user installs: the distribution's name, its licence, its type information."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# "pip install microweb" (with or without extras or quotes) names another project on
# the package index: our distribution is microweb-asgi.
_WRONG_NAME = re.compile(r"pip install[^\n#]*?(?<![\w./-])['\"]?microweb(?![\w-])(?!/)")


def test_the_wheel_is_microweb_asgi_with_its_licence_and_py_typed(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "--wheel-dir",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("*.whl")
    assert wheel.name.startswith("microweb_asgi-")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        text = archive.read(metadata).decode()
        licences = [n for n in names if n.endswith("/LICENSE")]
        assert licences, names
        assert archive.read(licences[0]) == (ROOT / "LICENSE").read_bytes()
    assert "Name: microweb-asgi\n" in text
    assert "License-Expression: MIT\n" in text
    assert "microweb/py.typed" in names
    assert "Provides-Extra: test" in text


def test_the_licence_is_mit() -> None:
    assert (ROOT / "LICENSE").read_text().startswith("MIT License\n")


def _texts() -> list[Path]:
    folders = ["docs", "examples", "microweb", "scripts"]
    found = [ROOT / "README.md"]
    for folder in folders:
        found += [p for p in (ROOT / folder).rglob("*") if p.suffix in {".md", ".py", ""}]
    return [p for p in found if p.is_file()]


def test_no_doc_or_message_says_pip_install_microweb() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {match.group(0)}"
        for path in _texts()
        for match in _WRONG_NAME.finditer(path.read_text(encoding="utf-8", errors="replace"))
    ]
    assert offenders == []


def test_the_wrong_name_pattern_catches_what_it_should() -> None:
    for wrong in (
        "pip install microweb",
        "pip install 'microweb[ujson]'",
        "pip install microweb\n",
    ):
        assert _WRONG_NAME.search(wrong), wrong
    for right in (
        "pip install microweb-asgi",
        "pip install 'microweb-asgi[ujson]'",
        "pip install './microweb[test]'",
        "pip install -e '.[test]'",
    ):
        assert _WRONG_NAME.search(right) is None, right
