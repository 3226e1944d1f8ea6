"""MAML-TRPO on point-nav at MAML's standard 2-D navigation scale: seconds per meta-iteration.

    .venv/bin/python -m promp.bench.maml_trpo [--iterations 6] [--seed 1]

20 tasks x 20 rollouts x horizon 100, 1 inner step (inner lr 0.1), TRPO max KL 0.01, gamma 0.99,
hidden (64, 64) tanh. Prints the median seconds per meta-iteration over iterations 2..N (iteration 1
includes compilation), the phase split, the post-update return of the last iteration, and the thread
settings (set ``PROMP_XLA_THREADS`` to pin XLA's thread count). Where JAX has several CPU devices (one
per XLA thread) the learner spreads the tasks over them; ``--one-device`` runs it on one device, tasks
one at a time, for comparison.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics

from promp.threads import configure_threads

configure_threads()

from promp.config import resolve_config  # noqa: E402
from promp.learner import MetaLearner  # noqa: E402
from promp.task_map import sharded, tasks_on_one_device  # noqa: E402
from promp.threads import thread_settings  # noqa: E402

SETTINGS = dict(meta_batch_size=20, rollouts_per_task=20, horizon=100, inner_steps=1, inner_lr=0.1,
                max_kl=0.01, gamma=0.99, hidden=(64, 64))


def main() -> None:
    """Run the benchmark and print one JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=6)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--one-device", action="store_true", help="the learner on one CPU device, tasks one at a time")
    args = parser.parse_args()
    with tasks_on_one_device() if args.one_device else contextlib.nullcontext():
        run(args)


def run(args: argparse.Namespace) -> None:
    """The iterations and the JSON summary."""
    spread = sharded()
    cfg = resolve_config("point-nav", "maml-trpo", dict(SETTINGS, iterations=args.iterations, seed=args.seed))
    learner = MetaLearner(cfg)
    state = learner.init_state()
    rows = []
    for i in range(args.iterations):
        state, row = learner.iteration(state)
        rows.append(row)
        print(f"iteration {i + 1}: {row['time_iteration']:.3f} s (update {row['time_update']:.3f} s), "
              f"return pre {row['return_pre']:.2f} post {row['return_post']:.2f}, "
              f"kl {row.get('kl_post', float('nan')):.4f}, accepted {row.get('step_accepted', float('nan')):.0f}", flush=True)
    learner.env.close()
    steady = rows[1:] if len(rows) > 1 else rows

    def med(key: str) -> float:
        return statistics.median(r[key] for r in steady)

    print(json.dumps({
        "benchmark": "maml-trpo point-nav 20x20x100 K=1",
        "seconds_per_iteration_median": med("time_iteration"),
        "time_sampling": med("time_sampling"),
        "time_processing": med("time_processing"),
        "time_adapt": med("time_adapt"),
        "time_update": med("time_update"),
        "first_iteration_seconds": rows[0]["time_iteration"],
        "return_post_last": rows[-1]["return_post"],
        "return_pre_last": rows[-1]["return_pre"],
        "learner_on": "cpu devices" if spread else "one device",
        "threads": thread_settings(),
    }, indent=2))


if __name__ == "__main__":
    main()
