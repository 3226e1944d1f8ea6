"""One markdown table row per run directory: how far it got, final and best return, guard activity, collapse.

    python scripts/summarize_runs.py docs/results/runs/hc-promp-s1 docs/results/runs/hc-promp-s2 --at 1.2e8

Columns: last iteration (env steps); final return_post (mean of the last 10 rows; the last row in
parentheses); best smoothed return_post (``return_smoothed``, the EMA that ``--checkpoint best`` keeps)
(replayed through ``promp.monitor.ReturnMonitor``) with its row; return_post at ``--at`` env steps (mean of the 10 rows nearest); rows where the guard
fired; the largest ``kl_pre``; and "collapsed": the mean of the last 10 rows below ``--collapse``
(default 0.5) times the best smoothed return.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from promp.monitor import ReturnMonitor
from promp.rundir import RunDir


def summarize(rows: list[dict], at: float, collapse: float) -> dict:
    """The table's numbers for one run's progress rows."""
    it = np.array([r["iteration"] for r in rows])
    steps = np.array([r["env_steps"] for r in rows], dtype=float)
    post = np.array([r["return_post"] for r in rows], dtype=float)
    monitor = ReturnMonitor()  # replayed, so runs logged before the column existed are smoothed the same way
    smooth = np.array([monitor.update(r, 0.0)["return_smoothed"] for r in rows], dtype=float)
    kl_pre = np.array([r.get("kl_pre", math.nan) for r in rows], dtype=float)
    fired = sum(int(r.get("guard_fired", 0) or 0) > 0 for r in rows)
    best = int(np.argmax(smooth[1:])) + 1 if len(rows) > 1 else 0  # row 0 has no checkpoint behind it
    near = np.argsort(np.abs(steps - at))[:10]
    final = float(post[-10:].mean())
    best_value = float(smooth[best])
    return {
        "last": int(it[-1]), "steps": float(steps[-1]), "final": final, "last_row": float(post[-1]),
        "best": best_value, "best_row": int(it[best]),
        "at": float(post[near].mean()) if steps[-1] >= at else math.nan,
        "fired": fired, "max_kl_pre": float(np.nanmax(kl_pre)) if np.isfinite(kl_pre).any() else math.nan, "collapsed": final < collapse * best_value,
    }


def main() -> None:
    """Print the markdown table for the run directories given."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", type=Path)
    ap.add_argument("--at", type=float, default=1.2e8, help="env steps of the comparison column")
    ap.add_argument("--collapse", type=float, default=0.5, help="final/best ratio below which a run counts as collapsed")
    args = ap.parse_args()
    print(f"| run | last iteration | final return_post (last row) | best smoothed (row) | at {args.at:.2g} steps "
          "| guard fired | max kl_pre | collapsed |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for path in args.runs:
        s = summarize(RunDir(path).read_progress(), args.at, args.collapse)
        at = "-" if math.isnan(s["at"]) else f"{s['at']:.0f}"
        kl = "-" if math.isnan(s["max_kl_pre"]) else f"{s['max_kl_pre']:.3g}"
        print(f"| {path.name} | {s['last']} ({s['steps'] / 1e6:.0f}M steps) | {s['final']:.0f} ({s['last_row']:.0f}) "
              f"| {s['best']:.0f} ({s['best_row']}) | {at} | {s['fired']} | {kl} "
              f"| {'yes' if s['collapsed'] else 'no'} |")


if __name__ == "__main__":
    main()
