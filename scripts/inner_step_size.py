"""Size of the first inner step per inner estimator, at initialisation (docs/results.md, learning curves).

For each of LVC-VPG (likelihood-ratio inner loss), MAML-VPG (log-likelihood) and DiCE-VPG (DiCE loss
over padded entries with normalised adjusted rewards, docs/algorithms.md §4.4, §3 step 5), draw the same 10 tasks, sample
10 rollouts each at the initial parameters of seed 1, take the inner step (alpha from the preset) and
print the root-mean-square over tasks of ``|theta' - theta|`` and the pre/post-update returns.

    python scripts/inner_step_size.py point-corner
    python scripts/inner_step_size.py halfcheetah-fwd-back
"""

from __future__ import annotations

import argparse

from promp.threads import configure_threads

configure_threads()

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from promp.config import resolve_config  # noqa: E402
from promp.learner import MetaLearner  # noqa: E402


def main() -> None:
    """Print one line per algorithm."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("env")
    parser.add_argument("--tasks", type=int, default=10)
    parser.add_argument("--rollouts", type=int, default=10)
    args = parser.parse_args()
    for algo in ("lvc-vpg", "maml-vpg", "dice-vpg"):
        cfg = resolve_config(args.env, algo, {"meta_batch_size": args.tasks, "rollouts_per_task": args.rollouts, "seed": 1})
        learner = MetaLearner(cfg)
        state = learner.init_state()
        tasks = learner.env.sample_tasks(np.random.default_rng(0), args.tasks)
        res = learner.sample_adapted(state.params, tasks, np.random.default_rng(1), steps=1)
        before, after = res.params[0], res.params[1]
        sq = {k: jnp.sum((after[k] - before[k]).reshape(len(tasks), -1) ** 2, -1) for k in before}
        total = float(jnp.sqrt(jnp.mean(sum(sq.values()))))
        log_std = float(jnp.sqrt(jnp.mean(sq["log_std"]))) if "log_std" in sq else float("nan")
        print(f"{args.env} {algo:9s} alpha {cfg.inner_lr}: |theta' - theta| = {total:.3f} (log-std part {log_std:.3f}); "
              f"return pre {res.returns[0]:.3f} -> post {res.returns[1]:.3f}")
        learner.env.close()


if __name__ == "__main__":
    main()
