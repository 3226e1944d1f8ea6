"""ProMP's outer update at the paper preset, per Adam step: the jitted update with 1 and with N Adam
steps on the same batches, timed in alternation.

    .venv/bin/python benchmarks/bench_promp_update.py [--env halfcheetah-fwd-back] [--steps 5] [--repeats 5]

Per Adam step = (t_N - t_1) / (N - 1); the rest of t_1 is what an update pays once (the loss, KLs and
clip fraction after the steps, from one more adaptation). Medians of ``--repeats`` rounds, and XLA's
cost analysis (flops, bytes accessed) of one Adam step's gradient and of the loss alone; one JSON
object with the thread settings (set ``PROMP_XLA_THREADS`` to pin XLA's threads).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import time

from promp.threads import configure_threads

configure_threads()

import jax  # noqa: E402

from promp.algorithms import make_outer_update  # noqa: E402
from promp.config import resolve_config  # noqa: E402
from promp.learner import MetaLearner  # noqa: E402
from promp.threads import thread_settings  # noqa: E402


def xla_cost(fn, *args) -> dict[str, float]:
    """XLA's cost analysis of ``jax.jit(fn)`` at ``args``: GFLOP and GB accessed."""
    analysis = jax.jit(fn).lower(*args).compile().cost_analysis()
    analysis = analysis[0] if isinstance(analysis, list) else analysis
    return {"gflop": analysis.get("flops", 0.0) / 1e9, "gb_accessed": analysis.get("bytes accessed", 0.0) / 1e9}


def main() -> None:
    """Run the benchmark and print one JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="halfcheetah-fwd-back")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    cfg = resolve_config(args.env, "promp", {"outer_steps": args.steps})
    learner = MetaLearner(cfg)
    state = learner.init_state()
    tasks = learner.env.sample_tasks(state.rng, cfg.meta_batch_size)
    batches = tuple(learner.sample_adapted(state.params, tasks, state.rng).batches)
    learner.env.close()
    updates = {n: make_outer_update(dataclasses.replace(cfg, outer_steps=n)) for n in (1, args.steps)}
    first = {}
    for n, outer in updates.items():
        t0 = time.perf_counter()
        jax.block_until_ready(outer.update(state.params, outer.init(state.params), batches))
        first[n] = time.perf_counter() - t0
    times: dict[int, list[float]] = {n: [] for n in updates}
    for _ in range(args.repeats):
        for n, outer in updates.items():
            opt = outer.init(state.params)
            t0 = time.perf_counter()
            jax.block_until_ready(outer.update(state.params, opt, batches))
            times[n].append(time.perf_counter() - t0)
    med = {n: statistics.median(ts) for n, ts in times.items()}
    outer = updates[args.steps]
    opt = outer.init(state.params)
    cost = {
        "adam_step_gradient": xla_cost(jax.value_and_grad(lambda p: outer.loss(p, opt, batches)[0]), state.params),
        "loss_only": xla_cost(lambda p: outer.loss(p, opt, batches)[0], state.params),
    }
    per_step = (med[args.steps] - med[1]) / (args.steps - 1)
    print(json.dumps({
        "benchmark": f"promp outer update, {args.env}, {cfg.meta_batch_size} x {cfg.rollouts_per_task} x H {cfg.horizon}",
        "update_seconds": {f"{n}_adam_steps": m for n, m in med.items()},
        "per_adam_step_seconds": per_step,
        "once_per_update_seconds": med[1] - per_step,
        "first_call_seconds": {f"{n}_adam_steps": s for n, s in first.items()},
        "xla_cost": cost,
        "threads": thread_settings(),
    }, indent=2))


if __name__ == "__main__":
    main()
