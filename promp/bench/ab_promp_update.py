"""ProMP's outer update at the paper preset, this tree against another checkout, alternating in one
process on the same batches (so a loaded machine slows both alike; compare ratios):

    PROMP_XLA_THREADS=1 .venv/bin/python -m promp.bench.ab_promp_update --baseline /path/to/checkout [--repeats 5]

The baseline's package is imported as ``promp_base`` (a symlink in a temporary directory). A
baseline whose ProMP update takes the KL coefficients ``eta`` as an argument, or whose config names
the Adam steps ``ppo_steps``, is supported. Prints whether parameters and statistics are
bit-identical, then one JSON object: medians with 1 and N Adam steps, the per-Adam-step time
``(t_N - t_1) / (N - 1)``, ratios new / baseline.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import inspect
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from promp.threads import configure_threads, thread_settings

configure_threads()

import jax  # noqa: E402
import numpy as np  # noqa: E402

from promp.algorithms import make_outer_update  # noqa: E402
from promp.config import resolve_config  # noqa: E402
from promp.learner import MetaLearner  # noqa: E402


def baseline_package(checkout: Path):
    """Import ``checkout/promp`` as ``promp_base``."""
    link_dir = Path(tempfile.mkdtemp())
    os.symlink(checkout.resolve() / "promp", link_dir / "promp_base")
    sys.path.insert(0, str(link_dir))
    return {name: importlib.import_module(f"promp_base.{name}") for name in ("config", "algorithms", "types")}


def main() -> None:
    """Run the comparison and print the summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, required=True)
    parser.add_argument("--env", default="halfcheetah-fwd-back")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    base = baseline_package(args.baseline)
    cfg = resolve_config(args.env, "promp", {"outer_steps": args.steps})
    learner = MetaLearner(cfg)
    state = learner.init_state()
    batches = tuple(learner.sample_adapted(state.params, learner.env.sample_tasks(state.rng, cfg.meta_batch_size), state.rng).batches)
    learner.env.close()
    base_batches = tuple(base["types"].Batch(*b) for b in batches)  # same fields in the same order
    steps_field = "outer_steps" if "outer_steps" in {f.name for f in dataclasses.fields(base["config"].TrainConfig)} else "ppo_steps"
    base_cfg = base["config"].resolve_config(args.env, "promp", {steps_field: args.steps})  # or the baseline's ppo_steps
    eta = (np.full(cfg.inner_steps, cfg.kl_coef, np.float32),)
    runs = {}
    for n in (1, args.steps):
        old = base["algorithms"].make_outer_update(dataclasses.replace(base_cfg, **{steps_field: n}))
        extra = eta if len(inspect.signature(old.update).parameters) == 4 else ()
        runs[f"base_{n}"] = lambda old=old, extra=extra: old.update(state.params, old.init(state.params), base_batches, *extra)
        new = make_outer_update(dataclasses.replace(cfg, outer_steps=n))
        runs[f"new_{n}"] = lambda new=new: new.update(state.params, new.init(state.params), batches)
    (p_old, _, s_old), (p_new, _, s_new) = runs[f"base_{args.steps}"](), runs[f"new_{args.steps}"]()
    same = all(np.array_equal(a, b) for a, b in zip(jax.tree_util.tree_leaves(p_old), jax.tree_util.tree_leaves(p_new)))
    rel = {k: float(np.max(np.abs(np.asarray(s_new[k], np.float64) - s_old[k]) / np.maximum(np.abs(s_old[k]), 1e-30)))
           for k in s_old if k in s_new}
    print(f"parameters bit-identical: {same}; statistics' relative differences: {rel}", flush=True)
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.repeats):
        for name, run in runs.items():
            t0 = time.perf_counter()
            jax.block_until_ready(run())
            times[name].append(time.perf_counter() - t0)
    med = {name: statistics.median(ts) for name, ts in times.items()}
    per_step = {impl: (med[f"{impl}_{args.steps}"] - med[f"{impl}_1"]) / (args.steps - 1) for impl in ("base", "new")}
    print(json.dumps({
        "benchmark": f"promp outer update A/B, {args.env}, {cfg.meta_batch_size} x {cfg.rollouts_per_task} x H {cfg.horizon}",
        "median_seconds": med,
        "per_adam_step_seconds": per_step,
        "once_per_update_seconds": {impl: med[f"{impl}_1"] - per_step[impl] for impl in ("base", "new")},
        "ratio_new_over_base": {**{f"{n}_adam_steps": med[f"new_{n}"] / med[f"base_{n}"] for n in (1, args.steps)},
                                "per_adam_step": per_step["new"] / per_step["base"]},
        "threads": thread_settings(),
    }, indent=1))


if __name__ == "__main__":
    main()
