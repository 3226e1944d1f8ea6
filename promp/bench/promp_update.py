"""ProMP's outer update at the paper preset, per Adam step: the jitted update with 1 and with N Adam
steps on the same batches, timed in alternation.

    .venv/bin/python -m promp.bench.promp_update [--env halfcheetah-fwd-back] [--steps 5] [--repeats 5]

Where JAX has several CPU devices (one per XLA thread, ``promp.threads``) both placements are timed:
tasks spread over the devices (``devices``, the default) and one at a time on one (``one_device``).
Per Adam step = (t_N - t_1) / (N - 1); the rest of t_1 is what an update pays once (the loss, KLs and
clip fraction after the steps, from one more adaptation). Medians of ``--repeats`` rounds, and XLA's
cost analysis (flops, bytes accessed) of one Adam step's gradient and of the loss alone; one JSON
object with the thread settings (set ``PROMP_XLA_THREADS`` to pin XLA's threads).
"""

from __future__ import annotations

import argparse
import contextlib
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
from promp.task_map import sharded, tasks_on_one_device  # noqa: E402
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
    placements = {"devices": contextlib.nullcontext}  # tasks over JAX's CPU devices (one per XLA thread)
    if sharded():
        placements["one_device"] = tasks_on_one_device  # the same update, tasks one at a time on one device
    first, times = {}, {}
    for where, place in placements.items():
        for n, outer in updates.items():
            with place():
                t0 = time.perf_counter()
                jax.block_until_ready(outer.update(state.params, outer.init(state.params), batches))
            first[f"{n}_adam_steps_{where}"] = time.perf_counter() - t0
            times[(n, where)] = []
    for _ in range(args.repeats):
        for (n, where) in times:
            outer = updates[n]
            opt = outer.init(state.params)
            with placements[where]():
                t0 = time.perf_counter()
                jax.block_until_ready(outer.update(state.params, opt, batches))
            times[(n, where)].append(time.perf_counter() - t0)
    med = {key: statistics.median(ts) for key, ts in times.items()}
    outer = updates[args.steps]
    opt = outer.init(state.params)
    cost = {
        "adam_step_gradient": xla_cost(jax.value_and_grad(lambda p: outer.loss(p, opt, batches)[0]), state.params),
        "loss_only": xla_cost(lambda p: outer.loss(p, opt, batches)[0], state.params),
    }
    per_step = {where: (med[(args.steps, where)] - med[(1, where)]) / (args.steps - 1) for where in placements}
    print(json.dumps({
        "benchmark": f"promp outer update, {args.env}, {cfg.meta_batch_size} x {cfg.rollouts_per_task} x H {cfg.horizon}",
        "cpu_devices": len(jax.devices("cpu")),
        "update_seconds": {f"{n}_adam_steps_{where}": m for (n, where), m in med.items()},
        "per_adam_step_seconds": per_step,
        "once_per_update_seconds": {where: med[(1, where)] - per_step[where] for where in placements},
        "first_call_seconds": first,
        "xla_cost": cost,
        "threads": thread_settings(),
    }, indent=2))


if __name__ == "__main__":
    main()
