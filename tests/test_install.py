"""The reproducible install: ``make install`` (and so ``make test``/``make demo``/CI) takes every package
from ``requirements.lock`` with its hashes, the lock pins everything ``pyproject.toml`` asks for within
its ranges, the venv of ``make test`` holds exactly the locked versions, and the README names them."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from promp.versions import PACKAGES

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"


def lock_entries() -> list[tuple[str, str, str | None, list[str]]]:
    """``(name, version, marker, hashes)`` for every pin of requirements.lock (uv/pip-tools format)."""
    entries = []
    for block in re.split(r"\n(?=[A-Za-z0-9])", LOCK.read_text()):
        first = block.split("\\")[0].strip()
        m = re.match(r"^([A-Za-z0-9._-]+)==([^\s;]+)\s*(?:;\s*(.+))?$", first)
        if m:
            entries.append((canonicalize_name(m[1]), m[2], m[3], re.findall(r"--hash=sha256:([0-9a-f]{64})", block)))
    return entries


def applicable() -> dict[str, str]:
    """The pins that apply to this interpreter and platform: name -> version."""
    out: dict[str, str] = {}
    for name, version, marker, _ in lock_entries():
        if marker is None or Marker(marker).evaluate():
            assert name not in out, f"{name} is pinned twice for this interpreter"
            out[name] = version
    return out


def make_commands(target: str) -> list[str]:
    """The shell lines ``make TARGET`` would run from scratch (``make -n -B``: printed, not run)."""
    proc = subprocess.run(["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize("target", ["install", "test", "demo"])
def test_make_installs_every_package_from_the_lock(target):
    pip_lines = [line for line in make_commands(target) if re.search(r"\bpip install\b", line)]
    locked = [line for line in pip_lines if "--require-hashes" in line and "-r requirements.lock" in line]
    assert locked, f"make {target} does not install from requirements.lock with --require-hashes: {pip_lines}"
    others = [line for line in pip_lines if line not in locked]
    assert others and all("--no-deps" in line and "--no-build-isolation" in line for line in others), (
        f"make {target}: a pip install outside the lock may resolve other versions: {others}")
    assert pip_lines.index(locked[0]) < pip_lines.index(others[0]), "the package is installed before its locked dependencies"


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M)
    assert "make test" in (ROOT / "README.md").read_text()


def test_the_lock_pins_everything_pyproject_asks_for_within_its_ranges():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = list(project["project"]["dependencies"])
    for extra in ("dev", "video", "ray"):
        wanted += project["project"]["optional-dependencies"][extra]
    wanted += project["dependency-groups"]["build"]
    entries = lock_entries()
    assert len(entries) > 50
    for name, version, _, hashes in entries:
        assert hashes, f"{name}=={version} has no hash in requirements.lock"
    by_name: dict[str, list[str]] = {}
    for name, version, _, _ in entries:
        by_name.setdefault(name, []).append(version)
    for text in wanted:
        req = Requirement(text)
        versions = by_name.get(canonicalize_name(req.name))
        assert versions, f"{req.name} (pyproject.toml) is not in requirements.lock: run `make lock`"
        for version in versions:
            assert req.specifier.contains(version, prereleases=True), f"lock has {req.name}=={version}, pyproject wants {req}"
    for name, versions in by_name.items():
        assert len(versions) == 1, f"{name} has several versions in the lock (one tested set for all Pythons): {versions}"


@pytest.mark.skipif(not os.environ.get("PROMP_LOCK"), reason="only in `make test`'s venv (PROMP_LOCK set)")
def test_the_venv_holds_exactly_the_locked_versions():
    wrong = []
    for name, version in applicable().items():
        try:
            have = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            have = None
        if have != version:
            wrong.append(f"{name} {have} (lock {version})")
    assert not wrong, "the venv is not the lock's: " + ", ".join(wrong) + "; `make install` should have fixed this"


def test_readme_names_the_tested_versions():
    readme = (ROOT / "README.md").read_text()
    pins = applicable()
    for name in (*PACKAGES, "tyro", "ray", "scipy", "pytest"):
        assert f"{name} {pins[name]}" in readme, f"README does not name {name} {pins[name]} (requirements.lock)"
