"""Diagnose the late collapse of a ProMP run: inner step, outer Adam steps, Adam state, log-std.

For each checkpoint of a run directory, sample one meta-batch at the run's scale with the
checkpoint's own RNG state (the batch the next iteration would have drawn), then measure

* the inner step: norm of the inner gradient per task, ``KL(pi_theta || pi_theta')`` between the
  pre-update and the adapted policy on the post-update data, the adapted log-std;
* the outer update replayed from the checkpoint's parameters *and Adam state*, one Adam step at a
  time: the ProMP loss (paper eq. 13), ``kl_pre``, ``kl_post``, clip fraction and the distribution
  of the likelihood ratios on the post-update data; the same with a 10x smaller learning rate; what
  the KL guard (``--guard-kl 0.5 --guard-kl-post 2``) would do; the same steps from a fresh (zero) Adam state;
* the Adam state: bias-corrected first/second moments, the size of the next step relative to the
  learning rate, and how large the fresh gradient is relative to ``sqrt(v)``.

Writes ``OUT.json`` and ``OUT.png``::

    PROMP_XLA_THREADS=1 python scripts/diagnose_collapse.py /tmp/hc-run --checkpoints 299 599 799 824 849 948 \\
        --out docs/img/collapse-diagnosis
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

GUARD = {"kl_pre": 0.5, "kl_post": 2.0}  # the defaults of --guard-kl and --guard-kl-post

def main() -> None:
    """Command-line entry point (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir")
    ap.add_argument("--checkpoints", type=int, nargs="+", default=[299, 599, 799, 824, 849, 948])
    ap.add_argument("--out", default="docs/img/collapse-diagnosis")
    args = ap.parse_args()

    from promp.threads import configure_threads

    configure_threads()
    from functools import partial

    from promp.algorithms.adaptation import adapt
    from promp.algorithms.guard import scan_replay
    from promp.algorithms.losses import INNER_LOSSES, at, masked_mean, task_clip_fraction, task_clipped
    from promp.algorithms.meta_objective import meta_objective
    from promp.algorithms.promp import promp_loss, update_stats
    from promp.checkpoint import restore_state
    from promp.learner import MetaLearner
    from promp.policy import distribution, kl_divergence, log_prob
    from promp.rundir import RunDir, read_progress
    from promp.task_map import jit_tasks

    run_dir = Path(args.run_dir)
    cfg = RunDir(run_dir).read_config()
    learner = MetaLearner(cfg)
    inner_loss = INNER_LOSSES[cfg.inner_estimator]
    kl_coef = jnp.full(cfg.inner_steps, cfg.kl_coef, jnp.float32)
    alpha, eps = cfg.inner_lr, cfg.clip_eps
    objective = meta_objective(cfg, task_clipped(eps))

    def loss_fn(p, batches):  # aux: kl_pre, kl_post, task_clip_fraction of the same adaptation
        return promp_loss(objective, p, batches, kl_coef, clip_fraction=partial(task_clip_fraction, clip_eps=eps))

    def make_step(lr):
        opt = optax.adam(lr)

        @jit_tasks
        def step(p, s, batches):
            (loss, aux), g = jax.value_and_grad(loss_fn, has_aux=True)(p, batches)
            upd, s = opt.update(g, s, p)
            return optax.apply_updates(p, upd), s, loss, aux, g

        return step

    steps = {"lr": make_step(cfg.outer_lr), "lr/10": make_step(cfg.outer_lr / 10)}
    loss_j = jit_tasks(loss_fn)

    @jax.jit
    def inner_stats(p, batches):
        pre, post = batches[0], batches[-1]

        def task(b0, b1):
            g = jax.grad(lambda q: at(inner_loss, q, b0, True))(p)
            theta, _ = adapt(p, (b0, b1), alpha, inner_loss)
            m0, s0 = distribution(p, b1.obs, True)
            m1, s1 = distribution(theta, b1.obs, False)
            kl = masked_mean(kl_divergence(m0, s0, m1, s1), b1.mask)
            return optax.tree.norm(g), jnp.abs(g["log_std"]).max(), kl, theta["log_std"]

        return jax.vmap(task)(pre, post)

    @jax.jit
    def log_ratios(p, batches):
        def task(tb):
            theta, _ = adapt(p, tb, alpha, inner_loss)
            post = tb[-1]
            m, s = distribution(theta, post.obs, False)
            return log_prob(m, s, post.actions) - log_prob(post.means, post.log_stds, post.actions), post.mask

        return jax.vmap(task)(tuple(batches))

    guard_j = scan_replay(loss_fn, optax.adam(cfg.outer_lr), cfg.outer_steps, GUARD, update_stats)

    results = []
    for it in args.checkpoints:
        t0 = time.perf_counter()
        state = restore_state(learner, run_dir, it)
        params = jax.tree_util.tree_map(jnp.asarray, state.params)
        tasks = learner.env.sample_tasks(state.rng, cfg.meta_batch_size)
        res = learner.sample_adapted(params, tasks, state.rng)
        batches = tuple(res.batches)
        gnorm, g_logstd, kl_inner, adapted_log_std = (np.asarray(x) for x in inner_stats(params, batches))
        adam = state.opt_state.optimizer[0]
        count = int(adam.count)
        b1, b2 = 0.9, 0.999
        mu = jnp.concatenate([x.ravel() for x in jax.tree_util.tree_leaves(adam.mu)])
        nu = jnp.concatenate([x.ravel() for x in jax.tree_util.tree_leaves(adam.nu)])
        mu_hat, nu_hat = mu / (1 - b1**count), nu / (1 - b2**count)
        step_rel = np.asarray(jnp.abs(mu_hat) / (jnp.sqrt(nu_hat) + 1e-8))
        rec = {
            "checkpoint": it,
            "return_pre": res.returns[0],
            "return_post": res.returns[-1],
            "log_std": np.asarray(params["log_std"]).tolist(),
            "adapted_log_std_mean": float(adapted_log_std.mean()),
            "adapted_log_std_min": float(adapted_log_std.min()),
            "inner_grad_norm_mean": float(gnorm.mean()),
            "inner_grad_norm_max": float(gnorm.max()),
            "inner_grad_log_std_max": float(g_logstd.max()),
            "kl_inner_mean": float(kl_inner.mean()),
            "kl_inner_max": float(kl_inner.max()),
            "adam_count": count,
            "adam_sqrt_v_median": float(jnp.median(jnp.sqrt(nu_hat))),
            "adam_abs_m_median": float(jnp.median(jnp.abs(mu_hat))),
            "adam_step_over_lr_median": float(np.median(step_rel)),
            "adam_step_over_lr_p99": float(np.quantile(step_rel, 0.99)),
        }
        fresh = optax.adam(cfg.outer_lr).init(params)
        for name, step, s0 in [("lr", steps["lr"], state.opt_state.optimizer), ("lr/10", steps["lr/10"], state.opt_state.optimizer),
                               ("fresh Adam, lr", steps["lr"], fresh), ("fresh Adam, lr/10", steps["lr/10"], fresh)]:
            p, s = params, s0
            trace = []
            for j in range(cfg.outer_steps + 1):
                if j < cfg.outer_steps:
                    p_next, s_next, loss, aux, g = step(p, s, batches)
                else:
                    loss, aux = loss_j(p, batches)
                    g = None
                d = aux
                entry = {"step": j, "loss": float(loss), "kl_pre": float(aux["kl_pre"].max()),
                         "clip_fraction": float(d["clip_fraction"]), "kl_post": float(d["kl_post"])}
                if g is not None:
                    gflat = jnp.concatenate([x.ravel() for x in jax.tree_util.tree_leaves(g)])
                    entry["grad_norm"] = float(jnp.linalg.norm(gflat))
                    if j == 0 and count:
                        entry["grad_over_sqrt_v_median"] = float(jnp.median(jnp.abs(gflat) / (jnp.sqrt(nu_hat) + 1e-8)))
                trace.append(entry)
                if j < cfg.outer_steps:
                    p, s = p_next, s_next
            rec[f"trace[{name}]"] = trace
            if name == "lr":
                lr_, mask = (np.asarray(x) for x in log_ratios(p, batches))
                lr_ = lr_[mask > 0]
                rec["log_ratio_nonfinite"] = int((~np.isfinite(lr_)).sum())
                lr_ = np.nan_to_num(lr_, nan=-1e9, posinf=1e9, neginf=-1e9)
                rec["log_ratio_quantiles"] = {q: float(np.quantile(lr_, float(q))) for q in ("0.01", "0.1", "0.5", "0.9", "0.99")}
                rec["log_ratio_hist"] = np.histogram(np.clip(lr_, -4, 4), bins=80, range=(-4, 4))[0].tolist()
        _, _, gstats, gsteps = guard_j(params, state.opt_state.optimizer, batches)
        rec["guard"] = {"adam_steps": int(gsteps), "kl_pre": float(gstats["kl_pre"].max()), "kl_post": float(gstats["kl_post"]),
                        "loss": float(gstats["loss_after"])}
        rec["seconds"] = time.perf_counter() - t0
        results.append(rec)
        t = rec["trace[lr]"]
        print(f"checkpoint {it}: return post {rec['return_post']:.1f}, log_std {np.round(rec['log_std'], 2).tolist()}, "
              f"inner |g| {rec['inner_grad_norm_mean']:.3g}, KL(pre||post) {rec['kl_inner_mean']:.3g}; loss "
              + " ".join(f"{e['loss']:+.4f}" for e in t) + " ; kl_pre " + " ".join(f"{e['kl_pre']:.3g}" for e in t)
              + f"; clip {t[-1]['clip_fraction']:.2f}; guard steps {rec['guard']['adam_steps']} ({rec['seconds']:.0f}s)", flush=True)
    learner.env.close()

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(results, indent=1))
    _figure(results, read_progress(run_dir / "progress.csv"), out.with_suffix(".png"))
    print(f"wrote {out.with_suffix('.json')} and {out.with_suffix('.png')}")


def _figure(results: list[dict], rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(2, 3, figsize=(13, 7))
    it = np.array([r["iteration"] for r in rows])
    a = ax[0, 0]
    a.plot(it, [r["return_post"] for r in rows], lw=0.8, label="return_post")
    a.set_xlabel("iteration")
    a.set_ylabel("return_post")
    b = a.twinx()
    b.semilogy(it, [r["kl_pre"] for r in rows], color="tab:red", lw=0.6, alpha=0.7)
    b.axhline(0.5, color="tab:red", ls=":", lw=1)
    b.set_ylabel("kl_pre (red; dotted: guard 0.5)")
    for r in results:
        a.axvline(r["checkpoint"], color="gray", lw=0.5, ls="--")
    a.set_title("the run (progress.csv)")
    a = ax[0, 1]
    a.plot(it, [r["loss_after"] - r["loss_before"] for r in rows], lw=0.6)
    a.axhline(0, color="k", lw=0.5)
    a.set_xlabel("iteration")
    a.set_title("loss_after - loss_before (progress.csv)")
    cks = [r["checkpoint"] for r in results]
    a = ax[0, 2]
    ls = np.array([r["log_std"] for r in results])
    for d in range(ls.shape[1]):
        a.plot(cks, ls[:, d], marker="o", lw=0.8)
    a.set_xlabel("checkpoint")
    a.set_title("pre-update log-std per action dim")
    a = ax[1, 0]
    a.semilogy(cks, [r["inner_grad_norm_mean"] for r in results], marker="o", label="|inner grad| (mean over tasks)")
    a.semilogy(cks, [r["kl_inner_mean"] for r in results], marker="s", label="KL(pre || adapted)")
    a.semilogy(cks, [r["trace[lr]"][0]["grad_norm"] for r in results], marker="^", label="|outer grad| at step 0")
    a.legend(fontsize=7)
    a.set_xlabel("checkpoint")
    a.set_title("inner step and outer gradient")
    a = ax[1, 1]
    for r in results:
        a.plot([e["loss"] for e in r["trace[lr]"]], marker="o", label=str(r["checkpoint"]))
    a.set_xlabel("Adam step")
    a.set_ylabel("ProMP loss (eq. 13)")
    a.legend(fontsize=7, title="checkpoint")
    a.set_title("outer loss along the 5 Adam steps")
    a = ax[1, 2]
    edges = np.linspace(-4, 4, 81)
    for r in results:
        h = np.asarray(r["log_ratio_hist"], float)
        a.semilogy(0.5 * (edges[1:] + edges[:-1]), np.maximum(h / h.sum(), 1e-6), label=str(r["checkpoint"]))
    a.axvline(np.log(0.7), color="k", ls=":", lw=0.8)
    a.axvline(np.log(1.3), color="k", ls=":", lw=0.8)
    a.set_xlabel("log ratio pi_new'/pi_old' on post-update data (clipped to +-4)")
    a.set_title("after the 5 Adam steps")
    a.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=70)


if __name__ == "__main__":
    main()
