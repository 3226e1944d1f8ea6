"""Estimator facts of docs/algorithms.md §9 (1-4, 8) by exact enumeration on a tiny tabular MDP, and the
second-order meta-gradient against finite differences (§9 facts 10, 12 in the ProMP setting)."""

from __future__ import annotations

import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import tabular_mdp as mdp

import promp.algorithms.losses as objectives
from promp.algorithms.losses import (
    clipped_surrogate_loss,
    dice_objective,
    likelihood_ratio_loss,
    log_likelihood_loss,
    lvc_objective,
    magic_box,
    reward_to_go,
)

pytestmark = pytest.mark.usefixtures("quick_compiles")  # tests/conftest.py


@pytest.fixture(autouse=True)
def x64():
    with jax.enable_x64(True):
        yield


JITTED = ["clipped_surrogate_loss", "dice_objective", "likelihood_ratio_loss", "log_likelihood_loss", "lvc_objective",
          "magic_box", "reward_to_go"]


@pytest.fixture(autouse=True, params=["eager", "jit"])
def compiled(request, monkeypatch):
    """Every test runs twice: on the plain functions and on ``jax.jit`` of each (stop-gradients and
    higher derivatives must survive compilation)."""
    if request.param == "jit":
        for name in JITTED:
            monkeypatch.setattr(sys.modules[__name__], name, jax.jit(getattr(objectives, name)))
    return request.param


@pytest.mark.parametrize("fn,args", [
    ("likelihood_ratio_loss", [(4, 5), (4, 5), (4, 5, 1), (4, 5)]),
    ("log_likelihood_loss", [(4, 5), (4, 1), (4, 5)]),
    ("clipped_surrogate_loss", [(4, 5), (4, 5), (4, 5), (5,)]),
    ("dice_objective", [(4, 5), (4, 6)]),
    ("lvc_objective", [(4, 5), (5,)]),
])
def test_objectives_refuse_inputs_of_different_shapes(fn, args):
    """A shape mismatch that numpy would broadcast into a wrong loss is an error naming the inputs."""
    arrays = [jnp.zeros(shape) for shape in args]
    extra = [0.2] if fn == "clipped_surrogate_loss" else []
    with pytest.raises(ValueError, match=fn):
        globals()[fn](*arrays, *extra)


def per_traj(fn, theta):
    """``fn(logp [N, H], rewards [N, H]) -> [N]`` evaluated at ``theta``."""
    return fn(mdp.step_logp(theta), jnp.asarray(mdp.REWARDS))


def test_dice_zeroth_order_is_the_return():  # §9 fact 1
    theta = jnp.asarray(mdp.THETA0)
    np.testing.assert_allclose(per_traj(dice_objective, theta), mdp.REWARDS.sum(-1), rtol=0, atol=1e-12)
    np.testing.assert_allclose(magic_box(mdp.step_logp(theta)), 1.0)


def test_lvc_zeroth_order_is_sum_of_rewards_to_go():  # §9 fact 2
    theta = jnp.asarray(mdp.THETA0)
    rtg_sum = np.array([sum(r[t:].sum() for t in range(mdp.H)) for r in mdp.REWARDS])
    np.testing.assert_allclose(per_traj(lvc_objective, theta), rtg_sum, atol=1e-12)
    assert not np.allclose(rtg_sum, mdp.REWARDS.sum(-1))  # LVC's value is not R(tau)


def test_dice_and_lvc_have_equal_per_sample_gradients():  # §9 fact 3
    theta = jnp.asarray(mdp.THETA0)
    g_dice = jax.jacobian(lambda th: per_traj(dice_objective, th))(theta)
    g_lvc = jax.jacobian(lambda th: per_traj(lvc_objective, th))(theta)
    # both equal sum_t grad log pi_t * reward-to-go_t
    rtg = reward_to_go(jnp.asarray(mdp.REWARDS))
    g_ref = jax.jacobian(lambda th: jnp.sum(mdp.step_logp(th) * rtg, -1))(theta)
    np.testing.assert_allclose(g_dice, g_ref, atol=1e-12)
    np.testing.assert_allclose(g_lvc, g_ref, atol=1e-12)


def test_expected_lvc_gradient_is_the_policy_gradient():  # §9 fact 4
    theta = jnp.asarray(mdp.THETA0)
    g_lvc = jax.jacobian(lambda th: per_traj(lvc_objective, th))(theta)
    np.testing.assert_allclose(mdp.expectation(g_lvc, theta), jax.grad(mdp.expected_return)(theta), atol=1e-12)
    # and the truth itself against central finite differences of the enumerated return
    eps, fd = 1e-6, np.zeros((mdp.S, mdp.A))
    for i in range(mdp.S):
        for j in range(mdp.A):
            e = np.zeros((mdp.S, mdp.A))
            e[i, j] = eps
            fd[i, j] = (mdp.expected_return(theta + e) - mdp.expected_return(theta - e)) / (2 * eps)
    np.testing.assert_allclose(jax.grad(mdp.expected_return)(theta), fd, atol=1e-8)


def test_likelihood_ratio_objective_matches_lvc_derivatives_at_sampling_params():  # §9 fact 8
    theta_o = jnp.asarray(mdp.THETA0)
    logp_o = mdp.step_logp(theta_o)
    rtg = reward_to_go(jnp.asarray(mdp.REWARDS))
    mask = jnp.ones_like(rtg)

    def j_lr(th, n):  # per-trajectory J^LR with a fixed denominator = -H * loss on that trajectory
        return -mdp.H * likelihood_ratio_loss(mdp.step_logp(th)[n], logp_o[n], rtg[n], mask[n])

    def j_lvc(th, n):
        return lvc_objective(mdp.step_logp(th)[n], jnp.asarray(mdp.REWARDS[n]))

    for n in [0, 17, 42, 63]:
        np.testing.assert_allclose(j_lr(theta_o, n), j_lvc(theta_o, n), atol=1e-12)
        np.testing.assert_allclose(jax.grad(j_lr)(theta_o, n), jax.grad(j_lvc)(theta_o, n), atol=1e-12)
        np.testing.assert_allclose(jax.hessian(j_lr)(theta_o, n), jax.hessian(j_lvc)(theta_o, n), atol=1e-12)
    # away from theta_o the two differ (J^LR is an importance-weighted objective there)
    theta = theta_o + jnp.array([[0.3, -0.3], [0.2, 0.1]])  # (a uniform shift would not move a softmax)
    assert not np.allclose(jax.grad(j_lr)(theta, 5), jax.grad(j_lvc)(theta, 5))


def test_clipped_surrogate_is_flat_outside_the_trust_region():
    logp_old = jnp.zeros(4)
    adv = jnp.array([1.0, 1.0, -1.0, -1.0])
    logp = jnp.log(jnp.array([1.5, 0.9, 0.5, 1.1]))
    mask = jnp.ones(4)
    g = jax.grad(lambda lp: clipped_surrogate_loss(lp, logp_old, adv, mask, 0.2))(logp)
    # ratio 1.5 with A>0 and ratio 0.5 with A<0 are clipped: no gradient; the others are -A*ratio/4
    np.testing.assert_allclose(g, [0.0, -0.9 / 4, 0.0, 1.1 / 4], atol=1e-12)
    value = clipped_surrogate_loss(logp, logp_old, adv, mask, 0.2)
    np.testing.assert_allclose(value, -(1.2 + 0.9 - 0.8 - 1.1) / 4, atol=1e-12)


def test_log_likelihood_and_ratio_losses_share_the_gradient_at_ratio_one():
    rng = np.random.default_rng(0)
    logp = jnp.asarray(rng.normal(size=10))
    adv, mask = jnp.asarray(rng.normal(size=10)), jnp.asarray((rng.random(10) > 0.2).astype(float))
    g_ll = jax.grad(lambda lp: log_likelihood_loss(lp, adv, mask))(logp)
    g_lr = jax.grad(lambda lp: likelihood_ratio_loss(lp, logp, adv, mask))(logp)
    np.testing.assert_allclose(g_ll, g_lr, atol=1e-12)
