"""What a run ran on: the promp version and git commit, Python, the versions of the packages that set
its numbers, the platform and JAX's devices. ``promp train`` writes this record into every run directory
(``versions.json``, README "The run directory"); ``promp train --resume``, ``promp eval`` and
``promp plot`` compare records and warn when they differ, since float32 round-off (and so a run's exact
numbers) can change with any of these; ``promp doctor`` prints the record of this machine.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

PACKAGES = ("jax", "jaxlib", "numpy", "mujoco", "optax", "gymnasium")
"""The packages whose versions are recorded: the learner (JAX, optax), numpy and the simulator."""

COMPARED = ("promp", "git_commit", "python", "packages", "device_kind")
"""The fields whose change is worth a warning (the platform string changes with every kernel update)."""


def package_version(name: str) -> str | None:
    """The installed version of distribution ``name``, or ``None`` if it is not installed."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def git_commit(path: Path | None = None) -> str | None:
    """The commit of the git checkout holding ``path`` (default: this package's source), with
    ``-dirty`` appended when tracked files differ from it; ``None`` outside a checkout or without git."""
    root = Path(path or Path(__file__).resolve().parent.parent)
    if not (root / ".git").exists():
        return None  # an installed wheel, or a checkout that is not this package's
    try:
        run = lambda *args: subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10)
        head = run("rev-parse", "HEAD")
        if head.returncode != 0:
            return None
        dirty = run("status", "--porcelain", "--untracked-files=no").stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("-dirty" if dirty else "")


def device_info() -> dict[str, Any]:
    """JAX's default backend, its first device's kind and the device count (imports JAX)."""
    import jax

    devices = jax.devices()
    return {"jax_backend": jax.default_backend(), "device_kind": devices[0].device_kind, "device_count": len(devices)}


def cpu_model() -> str | None:
    """The CPU's model name (Linux: ``/proc/cpuinfo``; elsewhere ``platform.processor()``), ``None`` if unknown."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip() or None
    except OSError:
        pass
    return platform.processor() or None


def host(record: dict[str, Any]) -> str | None:
    """The kind of machine a record was made on, ``"MODEL (N cores)"``, as far as speed goes (``None`` for a
    record without ``cpu_model``, written before promp recorded it): a campaign's ETA costs its runs from
    the iteration times measured on this kind of machine (``promp.experiments.campaign.remaining_work``)."""
    return f"{record['cpu_model']} ({record.get('cpu_count')} cores)" if record.get("cpu_model") else None


def environment_record(devices: bool = True) -> dict[str, Any]:
    """This process's record: ``promp``, ``git_commit``, ``python``, ``packages`` (``PACKAGES``),
    ``platform``, ``machine``, ``cpu_model``, ``cpu_count`` and, with ``devices``, ``device_info()``."""
    record: dict[str, Any] = {
        "promp": package_version("promp"),
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "packages": {name: package_version(name) for name in PACKAGES},
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
    }
    if devices:
        record.update(device_info())
    return record


def differences(recorded: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """``"name: recorded -> current"`` for each ``COMPARED`` field (each package separately) that
    differs between two records; fields missing from either record are not compared."""
    out = []
    for key in COMPARED:
        if key not in recorded or key not in current:
            continue
        if key == "packages":
            old, new = recorded[key] or {}, current[key] or {}
            out += [f"{name} {old[name]} -> {new[name]}" for name in sorted(set(old) & set(new)) if old[name] != new[name]]
        elif recorded[key] != current[key]:
            out.append(f"{key} {recorded[key]} -> {current[key]}")
    return out


def describe(record: dict[str, Any]) -> list[str]:
    """The record as ``name: value`` lines (``promp doctor``)."""
    lines = [f"promp {record.get('promp')} (git {record.get('git_commit') or 'n/a'})", f"python {record.get('python')}"]
    lines += [f"{name} {version or 'not installed'}" for name, version in (record.get("packages") or {}).items()]
    lines.append(f"platform {record.get('platform')} ({record.get('machine')}, {record.get('cpu_count')} cores)")
    if record.get("cpu_model"):
        lines.append(f"cpu {record['cpu_model']}")
    if "device_kind" in record:
        lines.append(f"jax backend {record['jax_backend']}: {record['device_count']} x {record['device_kind']}")
    return lines
