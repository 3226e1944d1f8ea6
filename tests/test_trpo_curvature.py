"""TRPO's meta-curvature product ``J^T F J`` against independent references: the exact Hessian of the
post-update KL differentiated through the inner step(s) (forward-over-reverse), central finite
differences of its gradient, and the textbook TRPO step (docs/algorithms.md, TRPO section)."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

from promp.algorithms import trpo
from promp.algorithms.adaptation import adapt as adapt_task
from promp.algorithms.conjugate_gradient import hessian_vector_product
from promp.algorithms.losses import task_likelihood_ratio, task_sampling_kl
from promp.algorithms.meta_objective import MetaObjective
from promp.policy import distribution

import sampled_batches
from sampled_batches import to64

pytestmark = pytest.mark.usefixtures("quick_compiles")  # tests/conftest.py


def sampled(env: str, algo: str, inner_steps: int):
    """One meta-batch of K+1 sampling rounds away from the symmetric start (float32, as in training)."""
    return sampled_batches.sampled(env, algo, inner_steps, seed=2, rollouts_per_task=4)


def as_f64_at_current_point(cfg, inner_loss, params, batches):
    """float64 copies in which the recorded post-update distribution is exactly ``pi_theta'_i`` (so the
    KL's gradient in ``theta'`` vanishes, as it does up to float32 round-off in training)."""
    params, batches = to64(params), tuple(to64(b) for b in batches)
    theta = jax.vmap(lambda tb: adapt_task(params, tb, cfg.inner_lr, inner_loss)[0])(batches)
    floor = len(batches) == 1
    means, log_stds = jax.vmap(lambda p, o: distribution(p, o, floor))(theta, batches[-1].obs)
    return params, (*batches[:-1], batches[-1]._replace(means=means, log_stds=log_stds))


def ours(cfg, inner_loss, params, batches, hvp_subsample=1.0):
    """The update's curvature product ``v -> mean_i J_i^T F_i J_i v`` on flat vectors (no damping)."""
    if hvp_subsample < 1.0:
        batches = tuple(trpo.first_rollouts(b, hvp_subsample) for b in batches)
    return trpo.kl_curvature(params, batches, cfg.inner_lr, inner_loss)


def exact_kl(cfg, inner_loss, params, batches):
    """The mean post-update KL as a function of the flat pre-update parameters."""
    flat, unravel = ravel_pytree(params)
    objective = MetaObjective(cfg.inner_lr, inner_loss, task_sampling_kl)
    return flat, lambda x: objective(unravel(x), batches)[0]


CASES = [("point-nav", "maml-trpo", 1), ("point-nav", "lvc-trpo", 1), ("point-nav", "dice-vpg", 1),
         ("point-nav", "maml-trpo", 2), ("halfcheetah-fwd-back", "maml-trpo", 1)]


@pytest.mark.parametrize("env,algo,k", CASES)
def test_curvature_product_equals_the_exact_hessian_and_finite_differences(env, algo, k):
    """Finite differences apply where the inner loss is an ordinary function of theta; DiCE's magic
    box makes its autodiff derivatives estimators by design (stop-gradients move with theta), so
    there only the exact autodiff Hessian is the reference."""
    cfg, inner_loss, params, batches = sampled(env, algo, k)
    with jax.enable_x64(True):
        params, batches = as_f64_at_current_point(cfg, inner_loss, params, batches)
        flat, kl = exact_kl(cfg, inner_loss, params, batches)
        hvp = ours(cfg, inner_loss, params, batches)
        rng = np.random.default_rng(0)
        for _ in range(2):
            v = jnp.asarray(rng.normal(size=flat.shape))
            got = np.asarray(hvp(v))
            exact = np.asarray(hessian_vector_product(kl, flat, v))  # third-order, through the inner step
            eps = 1e-5
            fd = np.asarray((jax.grad(kl)(flat + eps * v) - jax.grad(kl)(flat - eps * v)) / (2 * eps))
            scale = np.linalg.norm(exact)
            assert scale > 0
            assert np.linalg.norm(got - exact) <= 1e-6 * scale
            if algo != "dice-vpg":
                assert np.linalg.norm(got - fd) <= 1e-5 * scale
            assert float(v @ got) > 0  # positive semi-definite by construction (J^T F J)


def test_subsampled_curvature_equals_dense_gauss_newton_on_the_subsample():
    """``--hvp-subsample f``: ``mean_i J_i^T D_i^T W_i D_i J_i`` with the inner-step Jacobian ``J_i`` and
    the network Jacobian ``D_i`` (at the full batch's adapted parameters) taken on the first
    ``ceil(f R)`` rollouts of every task, checked against dense Jacobians built column by column."""
    cfg, inner_loss, params, batches = sampled("point-nav", "maml-trpo", 1)
    with jax.enable_x64(True):
        params, batches = as_f64_at_current_point(cfg, inner_loss, params, batches)
        flat, unravel = ravel_pytree(params)
        sub = tuple(trpo.first_rollouts(b, 0.5) for b in batches)
        assert sub[0].obs.shape[1] == 2
        post = sub[-1]
        theta_full = [adapt_task(params, jax.tree_util.tree_map(lambda x: x[i], batches), cfg.inner_lr, inner_loss)[0]
                      for i in range(3)]
        dense = np.zeros((flat.size, flat.size))
        for i in range(3):
            task_sub = jax.tree_util.tree_map(lambda x: x[i], sub)
            jac = np.asarray(jax.jacfwd(lambda x: ravel_pytree(adapt_task(unravel(x), task_sub, cfg.inner_lr,
                                                                          inner_loss)[0])[0])(flat))
            th_flat, th_unravel = ravel_pytree(theta_full[i])

            def outputs(x):
                mean, log_std = distribution(th_unravel(x), post.obs[i])
                return jnp.concatenate([mean.reshape(-1), log_std.reshape(-1)])

            d = np.asarray(jax.jacrev(outputs)(th_flat))
            mean, log_std = distribution(theta_full[i], post.obs[i])
            m = np.asarray(post.mask[i])[..., None] / max(float(post.mask[i].sum()), 1.0)
            w = np.concatenate([(m * 2.0 / (2.0 * np.exp(2.0 * np.asarray(log_std)) + 1e-8)).reshape(-1),
                                (m * 2.0 * np.ones_like(np.asarray(log_std))).reshape(-1)])
            dense += jac.T @ d.T @ (w[:, None] * d) @ jac / 3
        v = np.random.default_rng(1).normal(size=flat.shape)

        def product(hvp_subsample):
            data = tuple(trpo.first_rollouts(b, hvp_subsample) for b in batches)
            theta = jnp.stack([ravel_pytree(t)[0] for t in theta_full])  # D_i at the full batch's theta'_i
            return np.asarray(trpo.kl_curvature(params, data, cfg.inner_lr, inner_loss, theta)(jnp.asarray(v)))

        got = product(0.5)
        np.testing.assert_allclose(got, dense @ v, rtol=1e-8, atol=1e-10 * np.abs(dense @ v).max())
        assert np.linalg.norm(product(1.0) - got) > 1e-3 * np.linalg.norm(got)  # the subsample matters


@pytest.mark.parametrize("k", [1, 2])
def test_converged_step_matches_the_textbook_trpo_step(k):
    """Solving the same damped system to convergence, the restructured update takes the textbook step
    (exact KL Hessian through the inner step): the same acceptance and backtracks, the same step up to round-off.

    Both run in float64 at the current point (``as_f64_at_current_point``), where the exact Hessian and
    ``J^T F J`` are the same matrix. The comparison needs CG converged: 10 undamped iterations on these
    near-singular systems stop far from the solution and amplify round-off, so that the two steps then
    differ by 1e-5 to 2e-1 of the step depending on the sample and on whether XLA optimised the programs
    (point-nav seeds 2-4, K = 1 and 2). With damping 1e-3 and 30 iterations the residual is below 1e-12 and
    the steps agree to 5e-7 on all six, optimised or not."""
    cfg, inner_loss, params, batches = sampled("point-nav", "maml-trpo", k)
    damping, iters = 1e-3, 30
    with jax.enable_x64(True):
        params, batches = as_f64_at_current_point(cfg, inner_loss, params, batches)
        objective = MetaObjective(cfg.inner_lr, inner_loss, task_likelihood_ratio)
        ref, ref_stats = jax.jit(lambda p: trpo.trpo_step(
            lambda q: objective(q, batches)[0], lambda q: objective(q, batches)[1]["kl_post"], p, cfg.max_kl,
            cg_iters=iters, cg_damping=damping))(params)
        new, stats = jax.jit(lambda p: trpo.meta_trpo_step(p, batches, objective, cfg.max_kl, cg_iters=iters,
                                                           cg_damping=damping, cg_tol=0.0))(params)
        x0, x_ref, x_new = (np.asarray(ravel_pytree(t)[0]) for t in (params, ref, new))
    assert float(stats["cg_residual"]) < 1e-10
    assert float(ref_stats["step_accepted"]) == 1.0
    assert int(stats["backtracks"]) == int(ref_stats["backtracks"]) and float(stats["step_accepted"]) == 1.0
    assert np.linalg.norm(x_new - x_ref) <= 1e-5 * np.linalg.norm(x_ref - x0)
    np.testing.assert_allclose(float(stats["loss_after"]), float(ref_stats["loss_after"]), rtol=1e-6)


def test_large_damping_turns_the_step_into_a_scaled_gradient_step():
    """CG on ``H + lambda I`` with ``lambda >> ||H||`` solves to ``g / lambda``: the first tried step is
    then along the negative meta-gradient (a closed form for what the damping flag does)."""
    cfg, inner_loss, params, batches = sampled("point-nav", "maml-trpo", 1)
    objective = MetaObjective(cfg.inner_lr, inner_loss, task_likelihood_ratio)
    flat, unravel = ravel_pytree(params)
    grad = jax.grad(lambda x: objective(unravel(x), batches)[0])(flat)
    cfg = dataclasses.replace(cfg, max_kl=1e-6)  # small bound: the step stays where the loss is linear
    # lambda = 1e3 dominates ||H|| here while the step stays far above float32 resolution of the params
    new, stats = trpo.meta_trpo_step(params, batches, objective, cfg.max_kl, cg_damping=1e3, cg_tol=0.0)
    step = ravel_pytree(new)[0] - flat
    cos = float(-(step @ grad) / (jnp.linalg.norm(step) * jnp.linalg.norm(grad)))
    assert float(stats["step_accepted"]) == 1.0
    assert cos > 0.9999
    undamped, _ = trpo.meta_trpo_step(params, batches, objective, cfg.max_kl, cg_damping=0.0, cg_tol=0.0)
    step0 = ravel_pytree(undamped)[0] - flat
    assert float(-(step0 @ grad) / (jnp.linalg.norm(step0) * jnp.linalg.norm(grad))) < 0.99  # natural != plain


def test_step_geometry_script_against_the_exact_kl_hessian_and_finite_differences():
    """scripts/trpo_step_geometry.py (docs/results.md, humanoid-dir-2d): its curvature without the inner step's
    Jacobian is the exact Hessian of the mean KL in the adapted parameters (forward-over-reverse of the KL of each
    task's adapted policy), and its ``|J v| / |v|`` the root mean square of central finite differences of the
    adapted parameters along ``v`` (float64, at a point where the recorded post-update policy is the adapted one)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parent.parent / "scripts" / "trpo_step_geometry.py"
    spec = importlib.util.spec_from_file_location("trpo_step_geometry", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    cfg, inner_loss, params, batches = sampled("point-nav", "maml-trpo", 1)
    with jax.enable_x64(True):
        params, batches = as_f64_at_current_point(cfg, inner_loss, params, batches)
        flat, unravel = ravel_pytree(params)
        v = jnp.asarray(np.random.default_rng(0).normal(size=flat.shape))
        adapted = lambda x: jax.vmap(lambda tb: ravel_pytree(adapt_task(unravel(x), tb, cfg.inner_lr, inner_loss)[0])[0])(batches)  # noqa: E731
        theta = adapted(flat)
        full, fisher = script.curvature_products(params, batches, cfg.inner_lr, inner_loss, theta)

        def post_kl(thetas):  # mean over tasks of each adapted policy's KL on its post-update round
            kls = jax.vmap(lambda t, post: task_sampling_kl(distribution(unravel(t), post.obs, False), post))(thetas, batches[-1])
            return kls.mean()

        exact = hessian_vector_product(post_kl, theta, jnp.broadcast_to(v, theta.shape))  # block-diagonal in tasks
        assert float(jnp.vdot(v, fisher(v))) == pytest.approx(float(jnp.sum(exact * v)), rel=1e-9)
        assert float(jnp.vdot(v, full(v))) > 0
        eps = 1e-5
        fd = (adapted(flat + eps * v) - adapted(flat - eps * v)) / (2 * eps)
        gain = float(jnp.sqrt(jnp.mean(jnp.sum(fd**2, -1))) / jnp.linalg.norm(v))
        assert script.jacobian_gain(params, batches, cfg.inner_lr, inner_loss, v) == pytest.approx(gain, rel=1e-7)
        assert script.jacobian_gain(params, batches, 0.0, inner_loss, v) == pytest.approx(1.0, rel=1e-12)
