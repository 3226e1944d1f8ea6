"""How noisy each inner estimator's meta-gradient is at one checkpoint of a run (docs/results.md, Figure 2, humanoid).

Samples ``--batches`` independent meta-batches with the run's config (tasks and noise from ``--seed``,
``--seed`` + 1, ...) at the checkpoint (or the run's initial parameters, ``--init``) and, on each, takes the
VPG meta-gradient (the mean over tasks of ``grad L^out(theta'(theta))`` with the policy-gradient
surrogate, docs/algorithms.md §5.3) once per inner estimator, on the same samples:

* ``log-likelihood`` (MAML's: only the post-update term, ProMP eq. 2),
* ``likelihood-ratio`` (LVC: eq. 2 plus the formulation-I pre-update term, eq. 4).

It prints for each estimator the norm of the mean gradient over the batches, the root-mean-square norm of
one batch's gradient, their signal-to-noise ratio ``|mean| / sqrt(sum of the per-coordinate variances)``
(the variance of one batch's gradient, ``B - 1`` in the denominator), the share of the first layer's
kernel in the mean, and the cosine between the two estimators' mean gradients; and the norm of their
difference on each batch (LVC's pre-update term) against the norm of the common post-update term.

    python scripts/meta_gradient_noise.py docs/results/figure2-reduced/runs/humanoid-dir-2d/lvc-vpg-seed1 --init
    python scripts/meta_gradient_noise.py docs/results/figure2-reduced/runs/halfcheetah-fwd-back/lvc-vpg-seed1 --init

The run directory is only read. One thread.
"""

from __future__ import annotations

import argparse
import dataclasses
import os

os.environ.setdefault("PROMP_XLA_THREADS", "1")
os.environ.setdefault("PROMP_MUJOCO_THREADS", "1")

import jax  # noqa: E402
import numpy as np  # noqa: E402
from jax.flatten_util import ravel_pytree  # noqa: E402

from promp.algorithms.losses import task_log_likelihood  # noqa: E402
from promp.algorithms.meta_objective import meta_objective  # noqa: E402
from promp.checkpoint import load_run  # noqa: E402

ESTIMATORS = ("log-likelihood", "likelihood-ratio")


def signal_to_noise(grads: np.ndarray) -> tuple[float, float, float]:
    """``(|mean|, rms |g_b|, |mean| / sqrt(sum_j var_j))`` of the gradients ``grads[b, j]`` of B batches."""
    mean = grads.mean(0)
    noise = np.sqrt(grads.var(0, ddof=1).sum())
    return float(np.linalg.norm(mean)), float(np.sqrt((grads**2).sum(1).mean())), float(np.linalg.norm(mean) / noise)


def main() -> None:
    """Print the meta-gradient statistics of the module docstring at RUN's checkpoint."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="run directory")
    parser.add_argument("--checkpoint", default=None, help="iteration, 'best' or 'latest' (default)")
    parser.add_argument("--init", action="store_true", help="use the run's initial parameters (its seed)")
    parser.add_argument("--batches", type=int, default=8, help="independent meta-batches (default: 8)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first batch's tasks and noise")
    args = parser.parse_args()
    if args.batches < 2:
        parser.error("--batches must be >= 2")
    run = load_run(args.run, args.checkpoint)  # an iteration number, 'best' or 'latest' (RunDir.resolve_checkpoint)
    learner, cfg = run.learner, run.cfg
    params = learner.init_state().params if args.init else run.params
    # which flat coordinates are the first layer's kernel (the layout of ravel_pytree(params))
    is_first = np.asarray(ravel_pytree({k: np.full(np.shape(v), k == "hidden_0/kernel", np.float32)
                                        for k, v in params.items()})[0], bool)
    grad_fns = {}
    for name in ESTIMATORS:
        objective = meta_objective(dataclasses.replace(cfg, inner_estimator=name, emaml=False), task_log_likelihood)
        grad_fns[name] = jax.jit(lambda p, b, objective=objective: objective.value_and_grad(p, b)[1])
    grads = {name: [] for name in ESTIMATORS}
    returns = []
    for b in range(args.batches):
        tasks = learner.env.sample_tasks(np.random.default_rng(args.seed + 2 * b), cfg.meta_batch_size)
        res = learner.sample_adapted(params, tasks, np.random.default_rng(args.seed + 2 * b + 1))
        returns.append((res.returns[0], res.returns[-1]))
        for name in ESTIMATORS:
            grads[name].append(np.asarray(ravel_pytree(grad_fns[name](params, tuple(res.batches)))[0], np.float64))
    learner.env.close()
    where = "initial parameters" if args.init else f"iteration {run.iteration}"
    pre, post = np.mean(returns, 0)
    print(f"{cfg.env} ({cfg.algo} run) at {where}: {args.batches} meta-batches of {cfg.meta_batch_size} x "
          f"{cfg.rollouts_per_task}, return pre {pre:.1f}, post {post:.1f}")
    means = {}
    for name in ESTIMATORS:
        g = np.stack(grads[name])
        norm, rms, snr = signal_to_noise(g)
        means[name] = g.mean(0)
        first_share = float(np.linalg.norm(means[name][is_first]) / norm)
        print(f"  {name:17s} |mean| {norm:9.4g}  rms |g_b| {rms:9.4g}  signal/noise {snr:6.3f}  first kernel's share {first_share:.3f}")
    a, b = means.values()
    print(f"  cosine between the two mean gradients: {float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b))):.3f}")
    pre_term = np.stack(grads["likelihood-ratio"]) - np.stack(grads["log-likelihood"])
    post_term = np.stack(grads["log-likelihood"])
    print(f"  per batch, rms norm of LVC's pre-update term {np.sqrt((pre_term**2).sum(1).mean()):.4g} against the "
          f"post-update term's {np.sqrt((post_term**2).sum(1).mean()):.4g}")


if __name__ == "__main__":
    main()
