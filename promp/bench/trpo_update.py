"""The MAML-TRPO outer update at MAML's 2-D navigation scale, split into its parts, against the
textbook form (exact Hessian of the KL differentiated through the inner step).

    .venv/bin/python -m promp.bench.trpo_update [--repeats 5] [--seed 1] [--variants NAME ...]

20 tasks x 20 rollouts x horizon 100 on point-nav, one inner step, (64, 64) tanh policy, 10 CG
iterations. Every variant is compiled first, then the variants are timed in alternation (median
of ``--repeats`` rounds), so their ratio is measured in one quiet-or-not window. Parts of the
default update: ``gradient`` (linearise the adaptation, ``J^T grad``), ``cg`` (conjugate gradient,
i.e. the curvature products), ``line_search`` (the rest: step scaling and backtracking). Where JAX
has several CPU devices (one per XLA thread), ``update_one_device`` is the default update with the
tasks one at a time on one device, for comparison. ``--variants`` times only the named ones (the split's
three, ``update``, ``gradient`` and ``gradient_and_cg``, are always timed). Prints
one JSON object with the thread settings; set ``PROMP_XLA_THREADS`` to pin XLA's threads.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import time

from promp.threads import configure_threads

configure_threads()

import jax  # noqa: E402
from jax.flatten_util import ravel_pytree  # noqa: E402

from promp.algorithms import trpo  # noqa: E402
from promp.algorithms.conjugate_gradient import conjugate_gradient  # noqa: E402
from promp.algorithms.losses import task_likelihood_ratio  # noqa: E402
from promp.algorithms.meta_objective import MetaObjective  # noqa: E402
from promp.config import resolve_config  # noqa: E402
from promp.learner import MetaLearner  # noqa: E402
from promp.task_map import jit_tasks, map_tasks, sharded, tasks_on_one_device  # noqa: E402
from promp.threads import thread_settings  # noqa: E402

SETTINGS = dict(meta_batch_size=20, rollouts_per_task=20, horizon=100, inner_steps=1, inner_lr=0.1, hidden=(64, 64))


def variants(params, batches, cfg, inner_loss):
    """Jitted functions of ``(params, batches)`` to time, by name."""
    alpha, max_kl = cfg.inner_lr, cfg.max_kl
    objective = MetaObjective(alpha, inner_loss, task_likelihood_ratio)

    def gradient_part(p, b):
        def task(tb):
            _, _, grad, theta = objective.task_value_and_grad(p, tb)
            return ravel_pytree(theta)[0], ravel_pytree(grad)[0]

        theta, grads = map_tasks(task, tuple(b))
        return theta, grads.mean(0)

    def cg_part(p, b):
        theta, g = gradient_part(p, b)
        hvp0 = trpo.kl_curvature(p, b, alpha, inner_loss, theta)
        return conjugate_gradient(lambda v: hvp0(v) + cfg.cg_damping * v, g, cfg.cg_iters, cfg.cg_tol).x

    def textbook(p, b):
        return trpo.trpo_step(lambda q: objective(q, b)[0], lambda q: objective(q, b)[1]["kl_post"], p, max_kl)

    def ours(**kw):
        return lambda p, b: trpo.meta_trpo_step(p, b, objective, max_kl, cfg.cg_iters,
                                                **{"cg_damping": cfg.cg_damping, "cg_tol": cfg.cg_tol, **kw})

    fns = {
        "textbook_update": jit_tasks(textbook),
        "update": jit_tasks(ours()),
        "update_damping0_tol0": jit_tasks(ours(cg_damping=0.0, cg_tol=0.0)),
        "update_hvp_subsample_0.2": jit_tasks(ours(hvp_subsample=0.2)),
        "gradient": jit_tasks(lambda p, b: gradient_part(p, b)[1]),
        "gradient_and_cg": jit_tasks(cg_part),
    }
    if sharded():  # the default update again, tasks one at a time on one CPU device
        fns["update_one_device"] = fns["update"]
    return fns


def placement(name: str):
    """The context a variant runs in: ``*_one_device`` on one CPU device, the rest where JAX puts them."""
    return tasks_on_one_device() if name.endswith("_one_device") else contextlib.nullcontext()


def main() -> None:
    """Run the benchmark and print one JSON summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--variants", nargs="+", metavar="NAME",
                        help="time only these variants, besides update, gradient and gradient_and_cg (default: all)")
    args = parser.parse_args()
    cfg = resolve_config("point-nav", "maml-trpo", dict(SETTINGS, seed=args.seed))
    learner = MetaLearner(cfg)
    state = learner.init_state()
    tasks = learner.env.sample_tasks(state.rng, cfg.meta_batch_size)
    batches = tuple(learner.sample_adapted(state.params, tasks, state.rng).batches)
    fns = variants(state.params, batches, cfg, learner.inner_loss)
    if args.variants:
        unknown = sorted(set(args.variants) - set(fns))
        if unknown:
            parser.error(f"unknown variant(s) {', '.join(unknown)}; choose from {', '.join(fns)}")
        keep = {"update", "gradient", "gradient_and_cg", *args.variants}
        fns = {name: fn for name, fn in fns.items() if name in keep}
    compile_s = {}
    for name, fn in fns.items():
        with placement(name):
            t0 = time.perf_counter()
            jax.block_until_ready(fn(state.params, batches))
            compile_s[name] = time.perf_counter() - t0
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(args.repeats):
        for name, fn in fns.items():
            with placement(name):
                t0 = time.perf_counter()
                jax.block_until_ready(fn(state.params, batches))
                times[name].append(time.perf_counter() - t0)
    med = {name: statistics.median(ts) for name, ts in times.items()}
    stats = {k: float(v) for k, v in fns["update"](state.params, batches)[1].items()}
    print(json.dumps({
        "benchmark": "maml-trpo outer update, point-nav 20x20x100 K=1, (64, 64)",
        "seconds_median": med,
        "split_of_update": {"gradient": med["gradient"], "cg": med["gradient_and_cg"] - med["gradient"],
                            "line_search": med["update"] - med["gradient_and_cg"]},
        "speedup_vs_textbook": med["textbook_update"] / med["update"] if "textbook_update" in med else None,
        "cpu_devices": len(jax.devices("cpu")),
        "first_call_seconds": compile_s,
        "update_stats": stats,
        "threads": thread_settings(),
    }, indent=2))
    learner.env.close()


if __name__ == "__main__":
    main()
