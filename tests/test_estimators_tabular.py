"""Curvature of the inner estimators by exact enumeration on a tiny tabular MDP (docs/algorithms.md §9, facts 5-7, 11, 12).

2 states, 2 actions, horizon 3, softmax policy over logits ``theta [2, 2]`` (4 parameters); all 64
trajectories are enumerated (``tabular_mdp``). Expectations of estimator Hessians are exact sums
weighted by the trajectory probabilities at the sampling parameters theta_o (held constant; the
estimators' stop-gradients realise "⊥"). References are independent of the code under test: the
true Hessian is autodiff of the exactly enumerated expected return, and H1, H2, H12 are built from
closed-form softmax scores and an exact backward recursion for Q_t.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import tabular_mdp as mdp

from promp.algorithms.losses import (
    dice_loss,
    dice_objective,
    emaml_loss,
    likelihood_ratio_loss,
    log_likelihood_loss,
    lvc_objective,
    score_function_objective,
)

pytestmark = pytest.mark.usefixtures("quick_compiles")  # tests/conftest.py

N_PARAMS = mdp.S * mdp.A


@pytest.fixture(autouse=True)
def _float64():
    with jax.enable_x64(True):
        yield


def theta0() -> jax.Array:
    return jnp.asarray(mdp.THETA0.reshape(-1))


def logp_of(flat_theta: jax.Array) -> jax.Array:
    """Per-step log-probabilities ``[N, H]`` of every enumerated trajectory."""
    return mdp.step_logp(flat_theta.reshape(mdp.S, mdp.A))


def expected_return(flat_theta: jax.Array, gamma: float = 1.0) -> jax.Array:
    """Exact (discounted) expected return by enumeration."""
    disc = mdp.REWARDS * gamma ** np.arange(mdp.H)
    return jnp.sum(mdp.traj_prob(flat_theta.reshape(mdp.S, mdp.A)) * disc.sum(-1))


def expected_estimator_hessian(objective, rewards=mdp.REWARDS) -> np.ndarray:
    """``E_{tau ~ theta_o}[hess_theta objective(logp_tau(theta), r_tau)]`` at ``theta = theta_o``."""

    rewards = jnp.asarray(rewards)

    def per_traj(theta, i):
        return objective(logp_of(theta)[i], rewards[i])

    hess = jax.vmap(lambda i: jax.hessian(per_traj)(theta0(), i))(jnp.arange(len(rewards)))
    return np.asarray(mdp.expectation(hess, mdp.THETA0))


# ---- independent references: closed-form softmax derivatives, exact Q-functions ----


def policy(flat_theta) -> np.ndarray:
    t = np.asarray(flat_theta).reshape(mdp.S, mdp.A)
    e = np.exp(t - t.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def score(s: int, a: int, pi: np.ndarray) -> np.ndarray:
    """Closed form ``grad log pi(a|s)`` for tabular softmax: ``e_s (x) (e_a - pi(.|s))``."""
    g = np.zeros((mdp.S, mdp.A))
    g[s] = -pi[s]
    g[s, a] += 1.0
    return g.reshape(-1)


def score_hessian(s: int, pi: np.ndarray) -> np.ndarray:
    """Closed form ``hess log pi(a|s) = -(diag(pi_s) - pi_s pi_s^T)`` on state s's block (independent of a)."""
    h = np.zeros((mdp.S, mdp.A, mdp.S, mdp.A))
    h[s, :, s, :] = -(np.diag(pi[s]) - np.outer(pi[s], pi[s]))
    return h.reshape(N_PARAMS, N_PARAMS)


def q_values(flat_theta: jax.Array) -> jax.Array:
    """Exact ``Q_t(s, a) = r(s, a) + sum_s' P(s'|s,a) sum_a' pi(a'|s') Q_{t+1}(s', a')``: ``[H, S, A]``."""
    pi = jax.nn.softmax(flat_theta.reshape(mdp.S, mdp.A), -1)
    q_next = jnp.zeros((mdp.S, mdp.A))
    out = []
    for _ in range(mdp.H):
        v_next = jnp.sum(pi * q_next, -1)
        q = jnp.asarray(mdp.REWARD) + jnp.einsum("sap,p->sa", jnp.asarray(mdp.TRANS), v_next)
        out.append(q)
        q_next = q
    return jnp.stack(out[::-1])  # index t: H - t steps to go


def hessian_terms() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``H1, H2, H12`` of docs/algorithms.md §4.2 (ProMP eq. 6) by exact expectation."""
    pi = policy(theta0())
    grad_q = np.asarray(jax.jacfwd(q_values)(theta0()))  # [H, S, A, P]
    probs = np.asarray(mdp.traj_prob(jnp.asarray(mdp.THETA0)))
    rtg = np.flip(np.cumsum(np.flip(mdp.REWARDS, -1), -1), -1)
    h1 = np.zeros((N_PARAMS, N_PARAMS))
    h2 = np.zeros_like(h1)
    h12 = np.zeros_like(h1)
    for n in range(len(probs)):
        for t in range(mdp.H):
            s, a = mdp.STATES[n, t], mdp.ACTIONS[n, t]
            g = score(s, a, pi)
            h1 += probs[n] * np.outer(g, g) * rtg[n, t]
            h2 += probs[n] * score_hessian(s, pi) * rtg[n, t]
            h12 += probs[n] * np.outer(g, grad_q[t, s, a])
    return h1, h2, h12


@pytest.fixture(scope="module")
def terms():
    with jax.enable_x64(True):
        h1, h2, h12 = hessian_terms()
        truth = np.asarray(jax.hessian(expected_return)(theta0()))
    return truth, h1, h2, h12


def test_references_are_consistent(terms):
    """Sanity of the references: hess E[R] = H1 + H2 + H12 + H12^T (docs/algorithms.md §4.2), with H12 + H12^T
    clearly non-zero."""
    truth, h1, h2, h12 = terms
    np.testing.assert_allclose(h1 + h2 + h12 + h12.T, truth, atol=1e-10)
    assert np.abs(h12 + h12.T).max() > 0.05 * np.abs(truth).max()


def test_dice_expected_hessian_is_the_true_hessian(terms):  # §9 fact 5
    truth = terms[0]
    np.testing.assert_allclose(expected_estimator_hessian(dice_objective), truth, atol=1e-10)


def test_lvc_expected_hessian_is_h1_plus_h2_and_misses_h12(terms):  # §9 fact 6
    truth, h1, h2, h12 = terms
    lvc = expected_estimator_hessian(lvc_objective)
    np.testing.assert_allclose(lvc, h1 + h2, atol=1e-10)
    np.testing.assert_allclose(truth - lvc, h12 + h12.T, atol=1e-10)
    assert np.abs(truth - lvc).max() > 1e-2


def test_score_function_surrogate_expected_hessian_is_h2(terms):  # §9 fact 7
    truth, h1, h2, _ = terms
    sf = expected_estimator_hessian(score_function_objective)
    np.testing.assert_allclose(sf, h2, atol=1e-10)
    assert np.abs(sf - truth).max() > 1e-2 and np.abs(h1).max() > 1e-2


@pytest.mark.parametrize("padding", [0, 2])
def test_dice_loss_with_time_baseline_discount_and_padding_is_unbiased(padding):
    """The code's DiCE loss (cumulative magic box, ``gamma^t r_t - b(t)``, mean over padded entries, mask):
    ``-H_pad * loss`` has expected gradient and Hessian equal to those of the exact discounted return,
    for any time-only baseline; padded steps (garbage log-probs and rewards) change nothing."""
    gamma = 0.9
    baseline = np.array([0.7, -1.3, 0.4])
    adjusted = mdp.REWARDS * gamma ** np.arange(mdp.H) - baseline
    h_pad = mdp.H + padding
    rng = np.random.default_rng(0)
    pad_r = rng.normal(size=(len(adjusted), padding))
    adjusted_p = jnp.asarray(np.concatenate([adjusted, pad_r], -1))
    mask = jnp.asarray(np.concatenate([np.ones(mdp.H), np.zeros(padding)]))
    pad_logp = jnp.asarray(rng.normal(size=(len(adjusted), padding)))

    def per_traj(theta, i):
        logp = jnp.concatenate([logp_of(theta)[i], pad_logp[i]])
        return -h_pad * dice_loss(logp, adjusted_p[i], mask)

    idx = jnp.arange(len(adjusted))
    grads = jax.vmap(lambda i: jax.grad(per_traj)(theta0(), i))(idx)
    hess = jax.vmap(lambda i: jax.hessian(per_traj)(theta0(), i))(idx)
    np.testing.assert_allclose(mdp.expectation(grads, mdp.THETA0), jax.grad(expected_return)(theta0(), gamma), atol=1e-10)
    np.testing.assert_allclose(mdp.expectation(hess, mdp.THETA0), jax.hessian(expected_return)(theta0(), gamma), atol=1e-10)


# ---- §9 facts 11 and 12: inner steps on a sample batch ----

ALPHA = 0.3
BATCH = np.array([3, 17, 22, 40, 41, 58, 63])  # a few enumerated trajectories as the "sampled" batch
ADV = np.random.default_rng(1).normal(size=(len(BATCH), mdp.H))
MASK = np.ones((len(BATCH), mdp.H))


def inner_step(theta, loss_name):
    """``theta' = theta - alpha * grad L_inner`` with the code's inner losses on the tabular batch."""
    logp_old = logp_of(theta0())[BATCH]

    def loss(th):
        logp = logp_of(th)[BATCH]
        if loss_name == "likelihood-ratio":
            return likelihood_ratio_loss(logp, logp_old, jnp.asarray(ADV), jnp.asarray(MASK))
        return log_likelihood_loss(logp, jnp.asarray(ADV), jnp.asarray(MASK))

    return theta - ALPHA * jax.grad(loss)(theta)


def sample_h1_h2() -> tuple[np.ndarray, np.ndarray]:
    """Closed-form per-batch ``mean_t grad log pi grad log pi^T A`` and ``mean_t hess log pi A``."""
    pi = policy(theta0())
    n = MASK.sum()
    h1 = sum(np.outer(score(s, a, pi), score(s, a, pi)) * A
             for s_row, a_row, adv in zip(mdp.STATES[BATCH], mdp.ACTIONS[BATCH], ADV)
             for s, a, A in zip(s_row, a_row, adv)) / n
    h2 = sum(score_hessian(s, pi) * A for s_row, adv in zip(mdp.STATES[BATCH], ADV) for s, A in zip(s_row, adv)) / n
    return h1, h2


def test_lvc_and_log_likelihood_inner_steps_same_params_different_jacobians():  # §9 fact 11
    lvc = inner_step(theta0(), "likelihood-ratio")
    ll = inner_step(theta0(), "log-likelihood")
    np.testing.assert_allclose(lvc, ll, atol=1e-12)
    pi = policy(theta0())
    expected_step = ALPHA * sum(score(s, a, pi) * A for s_row, a_row, adv in
                                zip(mdp.STATES[BATCH], mdp.ACTIONS[BATCH], ADV) for s, a, A in zip(s_row, a_row, adv)) / MASK.sum()
    np.testing.assert_allclose(lvc - theta0(), expected_step, atol=1e-12)

    jac_lvc = jax.jacfwd(inner_step)(theta0(), "likelihood-ratio")
    jac_ll = jax.jacfwd(inner_step)(theta0(), "log-likelihood")
    h1, h2 = sample_h1_h2()
    np.testing.assert_allclose(jac_lvc - jac_ll, ALPHA * h1, atol=1e-12)
    np.testing.assert_allclose(jac_ll, np.eye(N_PARAMS) + ALPHA * h2, atol=1e-12)
    assert np.abs(ALPHA * h1).max() > 1e-3  # the Jacobians really differ


@pytest.mark.parametrize("loss_name", ["likelihood-ratio", "log-likelihood"])
def test_meta_gradient_is_post_update_gradient_mapped_back(loss_name):  # §9 fact 12, second part
    """``d/dtheta L_outer(theta'(theta)) = (I + alpha * hess J_inner)^T g'``, with ``hess J_inner`` the
    closed-form sample estimate (H1 + H2 for LVC, H2 for the log-likelihood surrogate)."""

    def outer(th):  # any smooth post-update loss
        return -expected_return(th) + 0.1 * jnp.sum(jnp.sin(th))

    meta_grad = jax.grad(lambda th: outer(inner_step(th, loss_name)))(theta0())
    g_post = np.asarray(jax.grad(outer)(inner_step(theta0(), loss_name)))
    h1, h2 = sample_h1_h2()
    h = h1 + h2 if loss_name == "likelihood-ratio" else h2
    np.testing.assert_allclose(meta_grad, (np.eye(N_PARAMS) + ALPHA * h).T @ g_post, atol=1e-12)


def test_emaml_term_gives_the_formulation_two_gradient():  # §9 fact 12, formulation II
    """With one pre-update trajectory per task, ``J^II(theta) = E_tau V(theta + alpha g_hat(theta, tau))``
    (``V`` the exact expected return, ``g_hat`` the sample policy gradient). The MAML post-update term
    (log-likelihood inner step) plus the E-MAML term (no alpha) is an exact unbiased estimate of
    ``grad J^II``; MAML alone, or the alpha-scaled term, is not."""
    alpha = 0.5
    rtg = jnp.asarray(np.flip(np.cumsum(np.flip(mdp.REWARDS, -1), -1), -1))
    ones = jnp.ones(mdp.H)

    s_onehot = jax.nn.one_hot(jnp.asarray(mdp.STATES), mdp.S)  # [N, H, S]
    a_onehot = jax.nn.one_hot(jnp.asarray(mdp.ACTIONS), mdp.A)  # [N, H, A]

    def g_hat(th, i):  # closed-form sample policy gradient sum_t e_s (x) (e_a - pi(.|s)) * reward-to-go_t
        pi = jax.nn.softmax(th.reshape(mdp.S, mdp.A), -1)
        scores = s_onehot[i][:, :, None] * (a_onehot[i] - s_onehot[i] @ pi)[:, None, :]  # [H, S, A]
        return jnp.einsum("tsa,t->sa", scores, rtg[i]).reshape(-1)

    def j2(th):
        values = jax.vmap(lambda i: expected_return(th + alpha * g_hat(th, i)))(jnp.arange(len(rtg)))
        return jnp.sum(mdp.traj_prob(th.reshape(mdp.S, mdp.A)) * values)

    truth = np.asarray(jax.grad(j2)(theta0()))

    def estimator_loss(th, i, coef):
        logp = logp_of(th)[i]
        # inner step with the code's log-likelihood loss (mean over H steps, hence alpha * H)
        post = th - alpha * mdp.H * jax.grad(lambda p: log_likelihood_loss(logp_of(p)[i], rtg[i], ones))(th)
        value = expected_return(post)
        stat = jax.lax.stop_gradient(value) * ones  # the post-update batch statistic
        return -value + coef * mdp.H * emaml_loss(logp, ones, stat, ones)

    def expected_grad(coef):
        grads = jax.vmap(lambda i: jax.grad(estimator_loss)(theta0(), i, coef))(jnp.arange(len(rtg)))
        return -np.asarray(mdp.expectation(grads, mdp.THETA0))

    np.testing.assert_allclose(expected_grad(1.0), truth, atol=1e-10)
    assert np.abs(expected_grad(0.0) - truth).max() > 1e-2  # MAML alone lacks the pre-update term
    assert np.abs(expected_grad(alpha) - truth).max() > 1e-2  # the paper's alpha-scaled variant is biased
