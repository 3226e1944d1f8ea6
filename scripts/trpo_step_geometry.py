"""Why a MAML-TRPO step is as long as it is, at one checkpoint of a run (docs/results.md, Figure 2, humanoid).

Samples one meta-batch with the run's config at the checkpoint (or at the run's initial parameters,
``--init``) and prints, on one thread:

* the observations' scale: RMS over the pre-update steps of every observation entry, and its largest entry;
* the meta-gradient's norm, split into the first layer's kernel and the rest;
* along the meta-gradient ``g`` and the CG direction ``s`` (MAML-TRPO's): the curvature of the
  post-update KL ``v^T J^T F J v / v^T v`` (``promp.algorithms.trpo.kl_curvature``), the same with the inner
  step's Jacobian ``J`` left out (``v^T F v / v^T v``: Fisher matrix of the adapted policies), and
  ``|J v| / |v|`` (root mean square over tasks);
* the step TRPO would take to the KL bound with each curvature, ``sqrt(2 max_kl / s^T H s) |s|`` (``H`` with
  the run's CG damping, as the update computes it).

    python scripts/trpo_step_geometry.py docs/results/figure2-reduced/runs/humanoid-dir-2d/maml-trpo-seed1
    python scripts/trpo_step_geometry.py docs/results/figure2-reduced/runs/halfcheetah-fwd-back/maml-trpo-seed1

The run directory is only read; tasks and noise come from ``--seed``.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("PROMP_XLA_THREADS", "1")
os.environ.setdefault("PROMP_MUJOCO_THREADS", "1")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax.flatten_util import ravel_pytree  # noqa: E402

from promp.algorithms.adaptation import adapt  # noqa: E402
from promp.algorithms.conjugate_gradient import conjugate_gradient  # noqa: E402
from promp.algorithms.losses import task_likelihood_ratio  # noqa: E402
from promp.algorithms.meta_objective import meta_objective  # noqa: E402
from promp.algorithms.trpo import kl_curvature  # noqa: E402
from promp.checkpoint import load_run  # noqa: E402
from promp.task_map import map_tasks  # noqa: E402


def curvature_products(params, batches, alpha: float, inner_loss, theta):
    """``(v -> mean_i J_i^T F_i J_i v, v -> mean_i F_i v)`` on flat vectors: the post-update KL's curvature
    (``kl_curvature``) and the same without the inner step's Jacobian (alpha 0 at the same adapted ``theta``:
    ``J = I``, ``F_i`` the Fisher matrix of task i's adapted policy on its post-update round)."""
    return (kl_curvature(params, batches, alpha, inner_loss, theta),
            kl_curvature(params, batches, 0.0, inner_loss, theta))


def jacobian_gain(params, batches, alpha: float, inner_loss, v) -> float:
    """``sqrt(mean_i |J_i v|^2) / |v|``: how much task i's inner step stretches the flat direction ``v``."""
    flat, unravel = ravel_pytree(params)

    def one(task_batches):
        f = lambda x: ravel_pytree(adapt(unravel(x), task_batches, alpha, inner_loss)[0])[0]  # noqa: E731
        return jnp.sum(jax.jvp(f, (flat,), (v,))[1] ** 2)

    return float(jnp.sqrt(map_tasks(one, batches).mean()) / jnp.linalg.norm(v))


def geometry(params, batches, cfg) -> dict[str, float]:
    """The quantities of the module docstring for one meta-batch (``batches``: the K + 1 rounds)."""
    objective = meta_objective(cfg, task_likelihood_ratio)
    unravel = ravel_pytree(params)[1]

    def task(task_batches):
        _, _, grad, theta = objective.task_value_and_grad(params, task_batches)
        return ravel_pytree(theta)[0], ravel_pytree(grad)[0]

    theta, grads = map_tasks(task, batches)
    g = grads.mean(0)
    full, fisher = curvature_products(params, batches, objective.alpha, objective.inner_loss, theta)
    out: dict[str, float] = {}
    mask = np.asarray(batches[0].mask, bool)
    obs = np.asarray(batches[0].obs)[mask]
    rms = np.sqrt(np.mean(obs**2, 0))
    out["obs_rms_mean"], out["obs_rms_max"], out["obs_abs_max"] = float(rms.mean()), float(rms.max()), float(np.abs(obs).max())
    out["grad_norm"] = float(jnp.linalg.norm(g))
    out["grad_norm_first_kernel"] = float(jnp.linalg.norm(unravel(g)["hidden_0/kernel"]))
    directions = {"g": g}
    for name, hvp in (("full", full), ("fisher", fisher)):
        cg = conjugate_gradient(lambda v: hvp(v) + cfg.cg_damping * v, g, cfg.cg_iters, cfg.cg_tol)
        s = cg.x
        shs = float(jnp.vdot(s, g - cg.residual))  # s^T (H + damping) s from CG's residual, as trpo.line_search_step
        out[f"step_{name}"] = float(np.sqrt(2.0 * cfg.max_kl / (shs + 1e-8)) * jnp.linalg.norm(s))
        out[f"cg_residual_{name}"] = float(cg.relative_residual)
        if name == "full":
            directions["s"] = s  # MAML-TRPO's direction
    for vname, v in directions.items():
        vv = float(jnp.vdot(v, v))
        out[f"curv_full_{vname}"] = float(jnp.vdot(v, full(v))) / vv
        out[f"curv_fisher_{vname}"] = float(jnp.vdot(v, fisher(v))) / vv
        out[f"jacobian_gain_{vname}"] = jacobian_gain(params, batches, objective.alpha, objective.inner_loss, v)
    return out


def main() -> None:
    """Print the geometry of one MAML-TRPO step at RUN's checkpoint."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="run directory")
    parser.add_argument("--checkpoint", default=None, help="iteration, 'best' or 'latest' (default)")
    parser.add_argument("--init", action="store_true", help="use the run's initial parameters (its seed)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the tasks and sampling noise")
    args = parser.parse_args()
    run = load_run(args.run, args.checkpoint)  # an iteration number, 'best' or 'latest' (RunDir.resolve_checkpoint)
    learner, cfg = run.learner, run.cfg
    params = learner.init_state().params if args.init else run.params
    tasks = learner.env.sample_tasks(np.random.default_rng(args.seed), cfg.meta_batch_size)
    res = learner.sample_adapted(params, tasks, np.random.default_rng(args.seed + 1))
    out = geometry(params, tuple(res.batches), cfg)
    where = "initial parameters" if args.init else f"iteration {run.iteration}"
    print(f"{cfg.env} {cfg.algo} at {where}: return pre {res.returns[0]:.1f}, post {res.returns[-1]:.1f}")
    for key, value in out.items():
        print(f"  {key:24s} {value:.4g}")
    learner.env.close()


if __name__ == "__main__":
    main()
