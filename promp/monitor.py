"""Best-policy tracking and divergence detection over the progress rows of a run.

``ReturnMonitor`` follows a smoothed ``return_post`` (exponential moving average, factor
``SMOOTHING``: ``s_0 = r_0``, ``s_i = 0.9 s_{i-1} + 0.1 r_i``, a time constant of about ten
iterations) and remembers the checkpoint of the policy behind its best value: row ``i``'s returns are
sampled with the parameters saved in checkpoint ``i - 1``, so a new best smoothed value at row ``i``
points at checkpoint ``i - 1``. The pointer is written to ``checkpoints/best.json`` and that
checkpoint is kept from pruning (``promp eval RUN --checkpoint best``).

A row is flagged ``diverged`` when the run had improved (best smoothed return above the first) and
``return_post`` has fallen below the best smoothed return by more than ``DROP_FRACTION`` of that
improvement, while the outer update's KL exploded: ``kl_pre`` above the KL bound, or the guard fired.
A run is **stalled** while the outer-update guard rejects every step (``adam_steps`` 0 in consecutive
rows): the policy is preserved but does not learn (docs/results.md, collapse diagnosis). The trainer
warns after ``STALL_WARN_AFTER`` such rows, and every ``STALL_WARN_EVERY`` rows after that.
The state is a few numbers stored in every checkpoint's JSON, so a resumed run continues exactly.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from .atomic import atomic_write_text
from .rundir import BEST_FILE, checkpoint_name

SMOOTHING = 0.9
DROP_FRACTION = 0.5
DEFAULT_KL_BOUND = 0.5  # the "KL exploded" threshold when the guard is off
STALL_WARN_AFTER = 5
STALL_WARN_EVERY = 25


@dataclasses.dataclass
class ReturnMonitor:
    """Smoothed return, its best value and checkpoint, and whether the last row diverged."""

    smoothed: float | None = None
    start: float | None = None  # smoothed return of the first row
    best: float | None = None
    best_checkpoint: int | None = None
    best_row: int | None = None
    diverged: bool = False
    stalled: int = 0  # consecutive rows in which the guard kept no outer step

    def update(self, row: dict[str, float], kl_bound: float) -> dict[str, float]:
        """Fold in one progress row; returns the columns ``return_smoothed`` and ``diverged`` for it."""
        r = float(row["return_post"])
        it = int(row["iteration"])
        self.smoothed = r if self.smoothed is None else SMOOTHING * self.smoothed + (1.0 - SMOOTHING) * r
        if self.start is None:
            self.start = self.smoothed
        if it >= 1 and (self.best_checkpoint is None or self.smoothed > self.best):
            self.best, self.best_checkpoint, self.best_row = self.smoothed, it - 1, it
        bound = kl_bound if kl_bound > 0 else DEFAULT_KL_BOUND
        kl_exploded = bool(row.get("guard_fired", 0)) or float(row.get("kl_pre", 0.0)) > bound
        gain = (self.best - self.start) if self.best is not None else 0.0
        fell = gain > 0 and r < self.best - DROP_FRACTION * gain
        self.diverged = bool(fell and kl_exploded)
        steps = row.get("adam_steps")
        self.stalled = self.stalled + 1 if steps is not None and int(steps) == 0 else 0
        return {"return_smoothed": self.smoothed, "diverged": int(self.diverged)}

    def stall_warning_due(self) -> bool:
        """True on the row where the stall reaches ``STALL_WARN_AFTER`` rows, and every ``STALL_WARN_EVERY`` after."""
        n = self.stalled
        return n == STALL_WARN_AFTER or (n > STALL_WARN_AFTER and (n - STALL_WARN_AFTER) % STALL_WARN_EVERY == 0)

    def to_meta(self) -> dict[str, Any]:
        """The state as JSON-able values (for the checkpoint's JSON)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_meta(cls, meta: dict[str, Any] | None) -> "ReturnMonitor":
        """Rebuild from ``to_meta`` output (a fresh monitor for ``None``, e.g. a checkpoint of an older promp)."""
        return cls(**meta) if meta else cls()

    def write_best(self, ckpt_dir: Path) -> None:
        """Write ``best.json`` (atomically) if there is a best checkpoint."""
        if self.best_checkpoint is not None:
            record = {"checkpoint": self.best_checkpoint, "return_smoothed": self.best, "row": self.best_row, "smoothing": SMOOTHING}
            atomic_write_text(ckpt_dir / BEST_FILE, json.dumps(record, indent=1))

    def keep(self) -> tuple[int, ...]:
        """Checkpoints pruning must keep (the best one)."""
        return () if self.best_checkpoint is None else (self.best_checkpoint,)


def load_monitor(ckpt_dir: Path, iteration: int) -> ReturnMonitor:
    """The monitor state saved in checkpoint ``iteration``'s JSON (fresh if it has none)."""
    meta = json.loads((ckpt_dir / f"{checkpoint_name(iteration)}.json").read_text())
    try:
        return ReturnMonitor.from_meta(meta.get("monitor"))
    except TypeError:
        return ReturnMonitor()

