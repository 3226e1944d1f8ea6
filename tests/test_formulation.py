"""Formulation I vs II on the 1-D task (docs/algorithms.md §5.6, §10.1, §9 fact 12; ``promp reproduce formulation``).

The autodiff meta-gradients are checked against the original 1-D script's hand-coded formulas written out
analytically in numpy (per-trajectory score ``sum_t (a_t - mu_t) [s_t^2, 1]`` and Hessian
``-sum_t [[s^4, s^2], [s^2, 1]]`` of the std-1 Gaussian), on batches also sampled in numpy.
"""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from promp.experiments.formulation import compute as fm

pytestmark = pytest.mark.usefixtures("quick_compiles")  # tests/conftest.py

ALPHA = 0.1


def np_rollouts(theta, rng, goal, n=100, horizon=5):
    """The 1-D task of docs/algorithms.md §10.1 sampled in numpy: states, clipped actions, rewards, each ``[n, horizon]``."""
    s = rng.uniform(-2, 2, n)
    obs, act = [], []
    for _ in range(horizon):
        a = np.clip(theta[0] * s**2 + theta[1] + rng.standard_normal(n), -2, 2)
        obs.append(s)
        act.append(a)
        s = a
    obs, act = np.stack(obs, -1), np.stack(act, -1)
    return obs, act, np.exp(-0.1 * (act - goal) ** 2)


def np_score(theta, obs, act):
    resid = act - theta[0] * obs**2 - theta[1]
    return np.stack([np.sum(resid * obs**2, -1), np.sum(resid, -1)], -1)  # [n, 2]


def np_hessian(obs):
    return -np.stack([np.stack([np.sum(obs**4, -1), np.sum(obs**2, -1)], -1),
                      np.stack([np.sum(obs**2, -1), np.full(obs.shape[0], obs.shape[1] * 1.0)], -1)], -2)  # [n, 2, 2]


@pytest.fixture(scope="module")
def fixed_task():
    """A pre-update batch, the hand-coded adapted theta', and a post-update batch sampled from it."""
    rng = np.random.default_rng(7)
    theta = np.array([0.09, 0.05])
    goal = 1.0
    obs, act, rew = np_rollouts(theta, rng, goal)
    R = rew.sum(-1)
    adapted = theta + ALPHA * np.mean(np_score(theta, obs, act) * R[:, None], 0)
    post = np_rollouts(adapted, rng, goal)
    return theta, (obs, act, rew), adapted, post


def hand_coded(theta, pre, adapted, post, formulation, pre_alpha_I=1.0, pre_alpha_II=1.0):
    """The original script's hand-coded update direction of one task (before ``lr`` and the mean over tasks)."""
    obs, act, rew = pre
    R = rew.sum(-1)
    grads = np_score(theta, obs, act)
    H = np.eye(2) + ALPHA * np.mean(np_hessian(obs) * R[:, None, None], 0)
    g_post = np.mean(np_score(adapted, post[0], post[1]) * post[2].sum(-1)[:, None], 0)
    post_term = ALPHA * H @ g_post
    if formulation == "I":
        return post_term + pre_alpha_I * ALPHA * np.mean(grads * (R * (grads @ g_post))[:, None], 0)
    return post_term + pre_alpha_II * ALPHA * np.sum(grads, 0) * np.mean(post[2].sum(-1))


def as_batch(arrays):
    return fm.Batch(*(jnp.asarray(a) for a in arrays))


def test_inner_step_is_the_hand_coded_policy_gradient_step(fixed_task):
    theta, pre, adapted, _ = fixed_task
    with jax.enable_x64(True):
        got = fm.inner_step(jnp.asarray(theta), jnp.asarray(theta), as_batch(pre), ALPHA, 1.0)
        np.testing.assert_allclose(np.asarray(got), adapted, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("formulation", ["I", "II"])
def test_original_convention_equals_hand_coded_formula(fixed_task, formulation):
    theta, pre, adapted, post = fixed_task
    want = hand_coded(theta, pre, adapted, post, formulation)
    with jax.enable_x64(True):
        got = fm.meta_gradient(jnp.asarray(theta), as_batch(pre), as_batch(post), formulation, ALPHA, 1.0, "original")
        assert got.dtype == jnp.float64
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("convention,formulation,pre_alpha", [
    ("exact", "I", ALPHA),  # alpha * exact DiCE gradient: eq. 4's alpha on the pre term
    ("exact", "II", 1.0),  # the original's II term already is alpha * the exact gradient of J^II
    ("paper", "I", ALPHA),
    ("paper", "II", ALPHA),  # eq. 3 as printed: an extra alpha
])
def test_other_conventions(fixed_task, convention, formulation, pre_alpha):
    theta, pre, adapted, post = fixed_task
    want = hand_coded(theta, pre, adapted, post, formulation, pre_alpha_I=pre_alpha, pre_alpha_II=pre_alpha)
    with jax.enable_x64(True):
        got = fm.meta_gradient(jnp.asarray(theta), as_batch(pre), as_batch(post), formulation, ALPHA, 1.0, convention)
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-10, atol=1e-12)


def test_formulations_share_the_post_update_term(fixed_task):
    """docs/algorithms.md §9 fact 12: grad J_post identical, only grad J_pre differs; and
    grad J_post = (I + alpha hess L_in) g'."""
    theta, pre, adapted, post = fixed_task
    obs, act, rew = pre
    H = np.eye(2) + ALPHA * np.mean(np_hessian(obs) * rew.sum(-1)[:, None, None], 0)
    g_post = np.mean(np_score(adapted, post[0], post[1]) * post[2].sum(-1)[:, None], 0)
    with jax.enable_x64(True):
        args = (jnp.asarray(theta), as_batch(pre), as_batch(post))
        post_I, pre_I = (np.asarray(x) for x in fm.meta_gradient_terms(*args, "I", ALPHA))
        post_II, pre_II = (np.asarray(x) for x in fm.meta_gradient_terms(*args, "II", ALPHA))
    np.testing.assert_array_equal(post_I, post_II)
    np.testing.assert_allclose(post_I, H @ g_post, rtol=1e-10)
    assert np.linalg.norm(pre_I - pre_II) > 0.1 * np.linalg.norm(pre_II)


def test_run_is_seeded_and_deterministic():
    setup = fm.FormulationSetup(tasks_per_goal=2, trajectories=10, iterations=3, outer_lrs=(1e-2, 1e-1))
    a = fm.run_formulation(setup, "I", (3, 4))
    b = fm.run_formulation(setup, "I", (3, 4))
    np.testing.assert_array_equal(a["thetas"], b["thetas"])
    assert a["thetas"].shape == (2, 2, 4, 2)
    np.testing.assert_allclose(a["thetas"][:, :, 0], np.broadcast_to([0.09, 0.05], (2, 2, 2)), rtol=1e-6)
    assert not np.allclose(a["thetas"][0, :, -1], a["thetas"][1, :, -1])  # seeds differ
    with pytest.raises(ValueError, match="convention"):
        fm.run_formulation(fm.FormulationSetup(convention="nope"), "I", (0,))


def test_fit_optimum_recovers_a_known_quadratic_maximum():
    grid = np.linspace(-0.3, 0.3, 13)
    t0, t1 = np.meshgrid(grid, grid, indexing="ij")
    values = 4.0 - 2.0 * (t0 - 0.05) ** 2 - 0.5 * (t1 + 0.1) ** 2 + 0.3 * (t0 - 0.05) * (t1 + 0.1)
    fit = fm.fit_optimum(grid, grid, values)
    np.testing.assert_allclose(fit["fitted_optimum"], (0.05, -0.1), atol=1e-9)
    assert max(fit["hessian_eigenvalues"]) < 0


def test_post_update_return_landscape_is_symmetric_with_maximum_at_origin():
    grid = np.linspace(-0.2, 0.2, 5)
    land = fm.post_update_return_landscape(jax.random.PRNGKey(0), grid, grid, 4000)
    np.testing.assert_allclose(land, land[:, ::-1, ::-1], rtol=1e-5)  # J(theta) = J(-theta)
    assert np.unravel_index(np.argmax(land[1]), land[1].shape) == (2, 2)
    assert land[1][2, 2] > land[0][2, 2]  # adaptation helps


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    from promp.cli import main

    out = tmp_path_factory.mktemp("reproduce") / "formulation-quick"
    main(["reproduce", "formulation", "--quick", "--out", str(out)])
    return out


@pytest.mark.slow
def test_quick_reproduction_formulation_I_ends_closer(quick_run, capsys):
    """Formulation I ends closer to the optimum than II at --quick scale (seeds 0, 1, 2), original convention. Robustness was checked on
    seeds 0-29 before choosing the assertions: the distance to the optimum averaged over the last 20
    iterations and over a seed triple is smaller for I at every quick lr in 10/10 triples; per seed it is
    smaller for I at lr 5e-3 and 1e-2 in 30/30 seeds, but only in 22/30 at lr 1e-3. The single final
    iterate is noisier (I closer in 18-24 of 30 seeds, 9-10 of 10 triples) and is not asserted."""
    report = json.loads((quick_run / "formulation.json").read_text())
    stats = {(r["formulation"], r["outer_lr"]): r for r in report["stats"]}
    for lr in fm.QUICK.outer_lrs:
        a, b = stats[("I", lr)], stats[("II", lr)]
        assert a["diverged"] == b["diverged"] == 0
        assert a["tail_distance_mean"] < b["tail_distance_mean"], lr
        if lr >= 5e-3:
            assert all(x < y for x, y in zip(a["tail_distance_per_seed"], b["tail_distance_per_seed"])), lr
    assert report["optimum"]["grid_argmax"] == [0.0, 0.0]
    rows = (quick_run / "formulation.csv").read_text().splitlines()
    assert len(rows) == 1 + 2 * 3 * len(fm.QUICK.outer_lrs) * (fm.QUICK.iterations + 1)
    assert (quick_run / "formulation.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
