"""Seconds per meta-iteration at the paper's scale, split into sampling / processing / adaptation /
update, plus the compile time of the outer update (``promp.bench.measure.iteration_timing``).

    .venv/bin/python -m promp.bench.iteration [--env point-corner] [--algo promp] [--iterations 6]

Defaults: point-corner with its preset (40 tasks x 20 rollouts x horizon 100, K = 1, docs/algorithms.md §6.1-6.2).
Medians over iterations 2..N (iteration 1 includes compilation). Thread settings are printed.
"""

from __future__ import annotations

import argparse
import json

from promp.threads import configure_threads

configure_threads()

from promp.bench.measure import iteration_timing, thread_settings  # noqa: E402


def main() -> None:
    """Command-line entry point; prints the timings and the JSON record."""
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
    r = iteration_timing(args.env, args.algo, args.iterations, overrides)
    print(f"{r['algo']} on {r['env']}: {r['meta_batch_size']} tasks x {r['rollouts_per_task']} rollouts x H {r['horizon']}, "
          f"K={r['inner_steps']} ({r['env_steps_per_iteration']} env steps/iteration)")
    for k in ["time_sampling", "time_processing", "time_adapt", "time_update", "time_iteration"]:
        print(f"  {k:18s} {r[k]:.3f} s (median of iterations 2..{r['iterations']})")
    print(f"  update compile     {r['update_compile_s']:.2f} s")
    print(f"  threads            {thread_settings()}")
    print(json.dumps(r))


if __name__ == "__main__":
    main()
