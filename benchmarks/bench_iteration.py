"""Seconds per meta-iteration at the paper's scale, split into sampling / processing / adaptation /
update, plus the compile time of the outer update.

    .venv/bin/python benchmarks/bench_iteration.py [--env point-corner] [--algo promp] [--iterations 6]

Defaults: point-corner, 40 tasks x 20 rollouts x horizon 100, K = 1 (spec 11.1). Medians over
iterations 2..N (iteration 1 includes compilation). Thread settings are printed with the numbers.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from promp.threads import configure_threads

configure_threads()

import jax  # noqa: E402
import numpy as np  # noqa: E402

from promp.config import resolve_config  # noqa: E402
from promp.learner import MetaLearner  # noqa: E402
from promp.threads import thread_settings  # noqa: E402


def measure(env: str, algo: str, iterations: int, overrides: dict) -> dict:
    """Run ``iterations`` meta-iterations and return median phase timings (s) and the update's compile time."""
    cfg = resolve_config(env, algo, dict(overrides, iterations=iterations))
    learner = MetaLearner(cfg)
    state = learner.init_state()
    # compile time of the outer update, measured on the first iteration's data
    tasks = learner.env.sample_tasks(np.random.default_rng(0), cfg.meta_batch_size)
    res = learner.sample_adapted(state.params, tasks, np.random.default_rng(0))
    batches, eta = tuple(res.batches), np.asarray(state.eta, np.float32)
    t0 = time.perf_counter()
    compiled = jax.jit(learner.outer.update).lower(state.params, state.opt_state, batches, eta).compile()
    compile_s = time.perf_counter() - t0
    del compiled
    rows = []
    for _ in range(iterations):
        state, row = learner.iteration(state)
        rows.append(row)
    keys = ["time_sampling", "time_processing", "time_adapt", "time_update", "time_iteration"]
    med = {k: statistics.median(r[k] for r in rows[1:]) for k in keys}
    steps = rows[-1]["env_steps"] - rows[-2]["env_steps"]
    return {
        "env": env, "algo": algo, "meta_batch_size": cfg.meta_batch_size, "rollouts_per_task": cfg.rollouts_per_task,
        "horizon": cfg.horizon, "inner_steps": cfg.inner_steps, "iterations": iterations,
        "env_steps_per_iteration": steps, "update_compile_s": compile_s, **{f"median_{k}": v for k, v in med.items()},
        "return_post_last": rows[-1]["return_post"], "threads": thread_settings(),
    }


def main() -> None:
    """Command-line entry point; prints a table and the JSON record."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--env", default="point-corner")
    p.add_argument("--algo", default="promp")
    p.add_argument("--iterations", type=int, default=6)
    p.add_argument("--meta-batch-size", type=int)
    p.add_argument("--rollouts-per-task", type=int)
    p.add_argument("--horizon", type=int)
    args = p.parse_args()
    overrides = {k: v for k, v in dict(meta_batch_size=args.meta_batch_size, rollouts_per_task=args.rollouts_per_task,
                                        horizon=args.horizon).items() if v is not None}
    r = measure(args.env, args.algo, args.iterations, overrides)
    print(f"{r['algo']} on {r['env']}: {r['meta_batch_size']} tasks x {r['rollouts_per_task']} rollouts x H {r['horizon']}, "
          f"K={r['inner_steps']} ({r['env_steps_per_iteration']} env steps/iteration)")
    for k in ["time_sampling", "time_processing", "time_adapt", "time_update", "time_iteration"]:
        print(f"  {k:18s} {r['median_' + k]:.3f} s (median of iterations 2..{args.iterations})")
    print(f"  update compile     {r['update_compile_s']:.2f} s")
    print(f"  threads            {r['threads']}")
    json.dump(r, sys.stdout)
    print()


if __name__ == "__main__":
    main()
