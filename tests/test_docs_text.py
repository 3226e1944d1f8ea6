"""The user-facing text files are clean text: no control characters (a LaTeX ``\\nabla`` or ``\\alpha``
written through a non-raw Python string turns into a newline or a bell character)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEXT_FILES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])


@pytest.mark.parametrize("path", TEXT_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_control_characters(path):
    text = path.read_text(encoding="utf-8")
    bad = [(text.count("\n", 0, m.start()) + 1, repr(m.group())) for m in re.finditer(r"[\x00-\x08\x0b-\x1f\x7f]", text)]
    assert not bad, f"control characters at (line, char): {bad[:5]}"
