"""The user-facing text files are clean text: no control characters (a LaTeX ``\\nabla`` or ``\\alpha``
written through a non-raw Python string turns into a newline or a bell character), every name they give exists,
and docs/results.md's Figure 2 table is the committed one."""

from __future__ import annotations

import importlib
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


def _resolves(dotted: str) -> bool:
    """Whether ``dotted`` names a promp module, or an attribute reached from the longest importable prefix."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return False
        return True
    return False


@pytest.mark.parametrize("path", TEXT_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_promp_name_in_the_docs_exists(path):
    # a module, class or function the docs name in backticks (`promp.algorithms.losses.task_dice`) must exist
    # under that name: the layout moved once, and the docs must move with it
    names = set(re.findall(r"`[^`]*?\b(promp(?:\.[A-Za-z_][A-Za-z_0-9]*)+)", path.read_text(encoding="utf-8")))
    files = (".py", ".lock", ".md", ".json", ".csv", ".png")  # file names such as `promp.py`, not Python names
    missing = sorted(n for n in names if not n.endswith(files) and not _resolves(n))
    assert not missing, f"names that do not exist: {missing}"


def test_results_figure2_table_is_the_committed_figure2_md():
    """docs/results.md's Figure 2 table is the report's figure2.md from the committed runs, not a hand copy
    that fell behind (remake both with the command docs/results.md gives)."""
    table = (ROOT / "docs" / "results" / "figure2-reduced" / "figure2.md").read_text().strip().splitlines()
    text = (ROOT / "docs" / "results.md").read_text().splitlines()
    start = text.index(table[0])
    assert text[start:start + len(table)] == table
    assert not text[start + len(table)].startswith("|")  # no extra rows
