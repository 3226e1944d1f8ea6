"""How far ProMP's first outer Adam steps move the policies, at one checkpoint of a run (docs/results.md,
Figure 2, humanoid: the guard livelock).

Samples one meta-batch with the run's config at the checkpoint (tasks and noise from ``--seed``; one
thread), then prints, for 1 and for the config's N Adam steps of the outer update without the guard
(``--guard-kl 0``), the KL of the pre-update sampling policy to the new one (``kl_pre``), the same for the
post-update policy (``kl_post``), the clip fraction and the parameter step; then what the guarded update
(the run's bounds) keeps: Adam steps, ``guard_step_scale`` and the KLs.

    python scripts/guard_first_step.py docs/results/figure2-reduced/humanoid-guard-livelock/promp-seed2

The run directory is only read.
"""

from __future__ import annotations

import argparse
import dataclasses
import os

os.environ.setdefault("PROMP_XLA_THREADS", "1")
os.environ.setdefault("PROMP_MUJOCO_THREADS", "1")

import numpy as np  # noqa: E402

from promp.algorithms import make_outer_update  # noqa: E402
from promp.checkpoint import load_run, restore_state  # noqa: E402
from promp.learner import step_norm  # noqa: E402


def summary(stats: dict, before, after) -> str:
    """One line of an update's KLs, clip fraction, steps kept and parameter step."""
    def get(name):
        return float(np.mean(np.asarray(stats[name]))) if name in stats else float("nan")
    return (f"kl_pre {get('kl_pre'):.4g}  kl_post {get('kl_post'):.4g}  clip_fraction {get('clip_fraction'):.3f}  "
            f"adam_steps {int(get('adam_steps')) if 'adam_steps' in stats else '-'}  "
            f"guard_step_scale {get('guard_step_scale'):.4g}  step_norm {step_norm(before, after):.4g}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run_dir")
    ap.add_argument("--checkpoint", default=None, help="iteration, 'best' or 'latest' (default)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the tasks and noise of the meta-batch")
    args = ap.parse_args()
    run = load_run(args.run_dir, args.checkpoint)
    learner, cfg = run.learner, run.cfg
    state = restore_state(learner, run.run_dir, run.iteration)
    rng = np.random.Generator(np.random.PCG64(args.seed))
    batches = tuple(learner.sample_adapted(state.params, learner.env.sample_tasks(rng, cfg.meta_batch_size), rng).batches)
    print(f"{run.run_dir} at iteration {run.iteration}: {cfg.algo} on {cfg.env}, outer lr {cfg.outer_lr}, "
          f"bounds kl_pre {cfg.guard_kl}, kl_post {cfg.guard_kl_post}")
    for n in sorted({1, cfg.outer_steps}):
        outer = make_outer_update(dataclasses.replace(cfg, guard_kl=0.0, outer_steps=n))
        params, _, stats = outer.update(state.params, state.opt_state, batches)
        print(f"  {n} Adam step(s), no guard: {summary(stats, state.params, params)}")
    params, _, stats = learner.outer.update(state.params, state.opt_state, batches)
    print(f"  guarded update:          {summary(stats, state.params, params)}")
    learner.env.close()


if __name__ == "__main__":
    main()
