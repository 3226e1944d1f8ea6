"""Where one meta-iteration's time goes, at a run's latest checkpoint: the path lengths of its sampling
rounds and a cProfile of sampling + processing (``MetaLearner.sample_adapted``), one thread, after a
warm-up call that compiles.

    python scripts/profile_iteration.py runs/figure2-reduced/runs/humanoid-dir-2d/promp-seed1

The run directory is only read. The tasks and noise come from a fixed seed (``--seed``), not the run's
stream, so a run's later iterations are not affected.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats

os.environ.setdefault("PROMP_XLA_THREADS", "1")
os.environ.setdefault("PROMP_MUJOCO_THREADS", "1")

import numpy as np  # noqa: E402

from promp.checkpoint import load_run  # noqa: E402


def main() -> None:
    """Profile ``sample_adapted`` at RUN's latest checkpoint and print the path lengths and the top functions."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="run directory")
    parser.add_argument("--seed", type=int, default=0, help="seed of the tasks and sampling noise")
    parser.add_argument("--top", type=int, default=15, help="functions to list, by own time")
    args = parser.parse_args()
    run = load_run(args.run)
    learner = run.learner
    tasks = learner.env.sample_tasks(np.random.default_rng(args.seed), learner.cfg.meta_batch_size)
    learner.sample_adapted(run.params, tasks, np.random.default_rng(args.seed + 1))  # compiles
    profile = cProfile.Profile()
    profile.enable()
    res = learner.sample_adapted(run.params, tasks, np.random.default_rng(args.seed + 1))
    profile.disable()
    for k, traj in enumerate(res.trajectories):
        lengths = traj.mask.sum(-1)
        print(f"round {k}: path length mean {lengths.mean():.1f}, max {lengths.max():.0f} of {traj.mask.shape[-1]}")
    print(f"iteration {run.iteration}: sampling {res.time_sampling:.2f} s, processing {res.time_processing:.2f} s, "
          f"adaptation {res.time_adapt:.2f} s")
    pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
