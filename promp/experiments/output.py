"""The files every experiment writes next to its figure: ``NAME.csv`` and ``NAME.json`` (atomically)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_text
from ..threads import thread_settings
from .options import ReproduceOptions


def write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    """Write ``header`` and ``rows`` as one CSV file, never half-written."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    atomic_write_text(path, buf.getvalue())


def write_report(path: Path, name: str, opts: ReproduceOptions, setup: Any, results: dict[str, Any], summary: str) -> None:
    """``NAME.json``: experiment, scale, seeds and setup, then the experiment's ``results`` (in their
    order), the thread settings and the printed summary."""
    report = {"experiment": name, "scale": opts.scale, "seeds": list(opts.seeds), "setup": dataclasses.asdict(setup),
              **results, "threads": thread_settings(), "summary": summary}
    atomic_write_text(path, json.dumps(report, indent=2))
