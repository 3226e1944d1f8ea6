"""Matplotlib figures (PNG, Agg backend): learning curves."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def plot_learning_curve(rows: Sequence[dict], path: Path, title: str = "") -> Path:
    """Pre- and post-update average return against env steps, one run."""
    fig, ax = plt.subplots(figsize=(6, 4), dpi=110)
    steps = [float(r["env_steps"]) for r in rows]
    ax.plot(steps, [float(r["return_pre"]) for r in rows], label="pre-update", color="tab:gray")
    ax.plot(steps, [float(r["return_post"]) for r in rows], label="post-update", color="tab:red")
    ax.set_xlabel("env steps")
    ax.set_ylabel("average return")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
