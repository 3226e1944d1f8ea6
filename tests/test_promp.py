"""ProMP's meta-objective: docs/algorithms.md §9 facts 9, 10, 14, consistency of the sampling-time
adaptation with the meta-graph (§8 item 10, §9 fact 20), and the second-order meta-gradient against
finite differences of the outer loss through the inner step."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from promp.algorithms.adaptation import adapt, adapt_tasks, inner_step
from promp.algorithms.base import PenaltyState
from promp.algorithms.losses import INNER_LOSSES, at, masked_mean, task_clipped
from promp.algorithms.meta_objective import meta_objective
from promp.algorithms.promp import adapt_kl_coef, make_promp_update, promp_loss
from promp.config import resolve_config
from promp.learner import MetaLearner
from promp.policy import log_prob, params_log_prob
from sampled_batches import to64

pytestmark = pytest.mark.usefixtures("quick_compiles")  # tests/conftest.py

LR = INNER_LOSSES["likelihood-ratio"]


def small_config(**kw):
    """A tiny point-nav config (dense reward, so every batch carries a learning signal)."""
    base = dict(meta_batch_size=3, rollouts_per_task=4, horizon=12, hidden=(8, 8), seed=3)
    base.update(kw)
    return resolve_config("point-nav", "promp", base)


@pytest.fixture(scope="module")
def sampled():
    """Pre- and post-update batches of 3 point-nav tasks, sampled with the real sampler."""
    cfg = small_config()
    learner = MetaLearner(cfg)
    state = learner.init_state()
    tasks = learner.env.sample_tasks(state.rng, cfg.meta_batch_size)
    res = learner.sample_adapted(state.params, tasks, state.rng)
    return cfg, learner, state, res


def test_likelihood_ratio_is_one_at_sampling_params(sampled):  # §9 fact 9
    cfg, _, state, res = sampled
    b = res.batches[0]
    logp = jax.vmap(lambda o, a: params_log_prob(state.params, o, a, True))(b.obs, b.actions)
    ratio = np.exp(np.asarray(logp - log_prob(b.means, b.log_stds, b.actions)))
    np.testing.assert_allclose(ratio[np.asarray(b.mask) > 0], 1.0, atol=1e-5)
    # post-update data: the adapted per-task params reproduce the recorded distribution too
    post = res.batches[1]
    logp_post = jax.vmap(lambda p, o, a: params_log_prob(p, o, a))(res.params[1], post.obs, post.actions)
    ratio_post = np.exp(np.asarray(logp_post - log_prob(post.means, post.log_stds, post.actions)))
    np.testing.assert_allclose(ratio_post, 1.0, atol=1e-5)


def test_sampling_adaptation_equals_the_meta_graph(sampled):  # §9 fact 20
    cfg, _, state, res = sampled
    in_graph = jax.vmap(lambda tb: adapt(state.params, tb, cfg.inner_lr, LR)[0])(tuple(res.batches))
    for k in in_graph:
        np.testing.assert_allclose(in_graph[k], res.params[1][k], rtol=1e-5, atol=1e-6)
    # and the step moved the parameters
    assert not np.allclose(res.params[1]["output/bias"], np.broadcast_to(state.params["output/bias"], res.params[1]["output/bias"].shape))


def test_first_promp_step_gradient_equals_lvc_vpg_meta_gradient(sampled):  # §9 fact 10
    cfg, _, state, res = sampled
    batches = tuple(res.batches)
    kl_coef = jnp.full(1, 0.37)  # any coefficient: KL and its gradient vanish at the sampling params
    objective = meta_objective(cfg, task_clipped(cfg.clip_eps))

    def lvc_vpg_loss(params):
        def task(tb):
            theta = inner_step(params, tb[0], cfg.inner_lr, LR, True)
            post = tb[1]
            return -masked_mean(params_log_prob(theta, post.obs, post.actions) * post.advantages, post.mask)

        return jax.vmap(task)(batches).mean()

    (loss, aux), g_promp = jax.value_and_grad(lambda p: promp_loss(objective, p, batches, kl_coef), has_aux=True)(state.params)
    g_vpg = jax.grad(lvc_vpg_loss)(state.params)
    assert float(aux["kl_pre"][0]) == pytest.approx(0.0, abs=1e-6)
    for k in g_vpg:
        np.testing.assert_allclose(g_promp[k], g_vpg[k], rtol=1e-4, atol=1e-6)
    assert max(float(jnp.abs(g).max()) for g in g_vpg.values()) > 1e-3  # non-trivial gradient


def test_meta_gradient_matches_finite_differences_through_the_inner_step(sampled):
    cfg, _, state, res = sampled
    with jax.enable_x64(True):
        params, batches = to64(state.params), to64(tuple(res.batches))
        kl_coef = jnp.zeros(1)
        objective = meta_objective(cfg, task_clipped(cfg.clip_eps))

        def loss(p):
            return promp_loss(objective, p, batches, kl_coef)[0]

        def first_order_loss(p):  # same outer loss, but the inner step's gradient held constant
            g = jax.lax.stop_gradient(jax.vmap(lambda b: jax.grad(lambda q: at(LR, q, b, True))(p))(batches[0]))

            def task(b_post, g_i):
                theta = jax.tree_util.tree_map(lambda x, gi: x - cfg.inner_lr * gi, p, g_i)
                logp = params_log_prob(theta, b_post.obs, b_post.actions)
                ratio = jnp.exp(logp - log_prob(b_post.means, b_post.log_stds, b_post.actions))
                return -masked_mean(ratio * b_post.advantages, b_post.mask)

            return jax.vmap(task)(batches[1], g).mean()

        grad = jax.grad(loss)(params)
        rng = np.random.default_rng(0)
        for _ in range(3):
            v = {k: jnp.asarray(rng.normal(size=x.shape)) for k, x in params.items()}
            eps = 1e-5
            plus = loss({k: params[k] + eps * v[k] for k in params})
            minus = loss({k: params[k] - eps * v[k] for k in params})
            fd = (plus - minus) / (2 * eps)
            analytic = sum(jnp.vdot(grad[k], v[k]) for k in params)
            np.testing.assert_allclose(analytic, fd, rtol=1e-6, atol=1e-10)
        # the second-order term is present: dropping it changes the gradient
        g1 = jax.grad(first_order_loss)(params)
        diff = max(float(jnp.abs(grad[k] - g1[k]).max()) for k in params)
        assert diff > 1e-4


def test_adaptive_kl_rule():  # §9 fact 14
    target = 0.01
    kl_coef = np.array([1.0, 1.0, 1.0, 1.0, 1.0])
    kl = np.array([target / 1.5 - 1e-9, target / 1.5 + 1e-9, target, 1.5 * target - 1e-9, 1.5 * target + 1e-9])
    np.testing.assert_array_equal(adapt_kl_coef(kl_coef, kl, target), [0.5, 1.0, 1.0, 1.0, 2.0])


def test_outer_update_takes_n_adam_steps_and_keeps_kl_small(sampled):
    cfg, _, state, res = sampled
    update = make_promp_update(cfg)
    params, opt_state, stats = update.update(state.params, update.init(state.params), tuple(res.batches))
    assert int(opt_state.optimizer[0].count) == cfg.outer_steps  # N Adam steps, moments kept in the state
    assert float(stats["loss_after"]) < float(stats["loss_before"])
    assert 0.0 < float(stats["kl_pre"][0]) < 0.05
    changed = [k for k in params if not np.allclose(params[k], state.params[k])]
    assert set(changed) == set(params)  # every parameter moves, log-std included


def test_multi_step_adaptation_chain_matches_sampling(tmp_path):
    cfg = resolve_config("point-momentum", "promp", dict(meta_batch_size=2, rollouts_per_task=3, horizon=8, hidden=(8,), inner_steps=3,
                                                         env_kwargs={"reward_type": "dense"}))
    learner = MetaLearner(cfg)
    state = learner.init_state()
    tasks = learner.env.sample_tasks(state.rng, 2)
    res = learner.sample_adapted(state.params, tasks, state.rng)
    assert len(res.batches) == 4
    theta, kls = jax.vmap(lambda tb: adapt(state.params, tb, cfg.inner_lr, LR))(tuple(res.batches))
    for k in theta:
        np.testing.assert_allclose(theta[k], res.params[3][k], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(kls, 0.0, atol=1e-6)  # every step's KL is 0 at its own sampling params
    # adapt_tasks applied step by step gives the same as adapt
    p = res.params[0]
    for k in range(3):
        p = adapt_tasks(p, res.batches[k], cfg.inner_lr, LR, k == 0)
    for k in theta:
        np.testing.assert_allclose(p[k], theta[k], rtol=1e-5, atol=1e-6)


def test_adaptive_kl_coefficient_lives_in_the_optimiser_state(sampled):
    """The KL coefficients are ProMP's optimiser state: initialised from ``kl_coef``, adapted by the
    update itself when ``adaptive_kl`` is set (from the update's own ``kl_pre``), untouched otherwise."""
    import dataclasses

    cfg, _, state, res = sampled
    for adaptive in (False, True):
        c = dataclasses.replace(cfg, adaptive_kl=adaptive, kl_target=1e-9, kl_coef=0.25)
        outer = make_promp_update(c)
        s0 = outer.init(state.params)
        assert isinstance(s0, PenaltyState) and s0.kl_coef.tolist() == [0.25]
        _, s1, stats = outer.update(state.params, s0, tuple(res.batches))
        expected = adapt_kl_coef(s0.kl_coef, stats["kl_pre"], c.kl_target) if adaptive else s0.kl_coef
        np.testing.assert_array_equal(s1.kl_coef, expected)
        assert s1.kl_coef.tolist() == ([0.5] if adaptive else [0.25])  # KL far above the tiny target: doubled
