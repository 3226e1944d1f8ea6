"""Sample processing (docs/algorithms.md §3; §9 facts 15, 16)."""

from __future__ import annotations

import numpy as np

from promp.processing import (
    baseline_features,
    discounted_cumsum,
    fit_linear_baseline,
    gae_advantages,
    linear_baseline_values,
    process_samples,
    standardize_per_task,
)
from promp.sampling import Trajectories


def naive_returns(r, gamma):
    return np.array([sum(gamma ** (k - t) * r[k] for k in range(t, len(r))) for t in range(len(r))])


def test_discounted_cumsum_matches_definition():
    r = np.random.default_rng(0).normal(size=(3, 7))
    out = discounted_cumsum(r, 0.9)
    for i in range(3):
        np.testing.assert_allclose(out[i], naive_returns(r[i], 0.9))


def test_gae_lambda_one_is_return_minus_baseline():  # §9 fact 15
    rng = np.random.default_rng(1)
    r, b = rng.normal(size=(2, 3, 9)), rng.normal(size=(2, 3, 9))
    mask = np.ones_like(r)
    adv = gae_advantages(r, b, mask, 0.99, 1.0)
    np.testing.assert_allclose(adv, discounted_cumsum(r, 0.99) - b, atol=1e-12)
    # lambda = 0: one-step TD errors
    td = gae_advantages(r, b, mask, 0.99, 0.0)
    nxt = np.concatenate([b[..., 1:], np.zeros_like(b[..., :1])], -1)
    np.testing.assert_allclose(td, r + 0.99 * nxt - b, atol=1e-12)


def test_gae_respects_early_termination():
    r = np.array([[[1.0, 2.0, 3.0, 0.0, 0.0]]])
    mask = np.array([[[1, 1, 1, 0, 0]]], dtype=float)
    b = np.array([[[0.5, 0.5, 0.5, 9.0, 9.0]]])  # values past the end must not leak in
    adv = gae_advantages(r, b, mask, 0.9, 1.0)
    np.testing.assert_allclose(adv[0, 0, :3], naive_returns(r[0, 0, :3], 0.9) - 0.5)
    np.testing.assert_array_equal(adv[0, 0, 3:], 0.0)


def test_linear_baseline_features_and_exact_fit():  # §9 fact 16
    rng = np.random.default_rng(2)
    obs = rng.normal(size=(4, 6, 3)) * 4  # [R, H, obs_dim]
    feats = baseline_features(obs)
    assert feats.shape == (4, 6, 2 * 3 + 4)
    t = np.arange(6) / 100
    np.testing.assert_allclose(feats[1, :, 6], t)
    np.testing.assert_allclose(feats[1, :, 8], t**3)
    np.testing.assert_allclose(feats[..., -1], 1.0)
    f = feats.reshape(-1, 10)
    w_true = rng.normal(size=10)
    coef = fit_linear_baseline(f, f @ w_true, np.ones(len(f)), reg=1e-10)
    np.testing.assert_allclose(f @ coef, f @ w_true, rtol=1e-6, atol=1e-6)


def test_baseline_is_fitted_per_task_in_sample():
    rng = np.random.default_rng(3)
    obs = rng.normal(size=(2, 5, 4, 2))
    feats = baseline_features(obs)
    targets = np.stack([feats[0] @ rng.normal(size=8), feats[1] @ rng.normal(size=8)])
    values = linear_baseline_values(obs, targets, np.ones(targets.shape))
    # ridge c=1e-5 biases the fit by ~1e-4; a single fit across both tasks would be off by O(1)
    np.testing.assert_allclose(values, targets, atol=2e-3)
    joint = linear_baseline_values(obs.reshape(1, 10, 4, 2), targets.reshape(1, 10, 4), np.ones((1, 10, 4)))
    assert np.abs(joint.reshape(targets.shape) - targets).max() > 0.1


def test_standardisation_per_task_over_valid_steps():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 4, 5)) * [[[1.0]], [[5.0]], [[0.1]]] + 7
    mask = (rng.random(x.shape) > 0.3).astype(float)
    z = standardize_per_task(x, mask)
    for i in range(3):
        valid = z[i][mask[i] > 0]
        assert abs(valid.mean()) < 1e-9 and abs(valid.std() - 1) < 1e-6
    assert np.all(z[mask == 0] == 0)


def test_process_samples_end_to_end():
    rng = np.random.default_rng(5)
    T, R, H = 2, 3, 6
    traj = Trajectories(
        obs=rng.normal(size=(T, R, H, 2)).astype(np.float32),
        actions=rng.normal(size=(T, R, H, 2)).astype(np.float32),
        rewards=rng.normal(size=(T, R, H)),
        mask=np.ones((T, R, H), np.float32),
        means=np.zeros((T, R, H, 2), np.float32),
        log_stds=np.zeros((T, R, H, 2), np.float32),
    )
    b = process_samples(traj, gamma=0.99, gae_lambda=1.0, normalize_adv=True)
    adv = np.asarray(b.advantages)
    assert adv.shape == (T, R, H)
    np.testing.assert_allclose(adv.reshape(T, -1).mean(1), 0.0, atol=1e-5)
    np.testing.assert_allclose(adv.reshape(T, -1).std(1), 1.0, atol=1e-4)
    adj = np.asarray(b.adj_avg_rewards)
    assert abs(adj.mean()) < 1e-5 and abs(adj.std() - 1) < 1e-4  # standardised across all tasks


def test_linear_baseline_solve_equals_the_originals_least_squares():
    """The LU solve of the regularised normal equations gives what rllab's ``lstsq`` on the same matrix gives,
    at Humanoid's feature count (2 x 376 + 4), and a matrix singular in floating point still gets a solution."""
    rng = np.random.default_rng(0)
    # 2,000 samples (a task at the paper's scale): well conditioned; 200 (early terminations): the Gram matrix
    # is rank deficient and only the 1e-5 ridge fixes the solution, so two exact solvers agree to ~1e-6
    for paths, tol in ((20, 1e-8), (2, 1e-4)):
        f = baseline_features(rng.normal(size=(paths, 100, 376)))
        f = f.reshape(-1, f.shape[-1])
        y, w = rng.normal(size=len(f)), (rng.uniform(size=len(f)) > 0.1).astype(np.float64)
        if paths == 20:  # general non-negative weights, not only a 0/1 mask (the solver weights rows by sqrt(w))
            w *= rng.uniform(0.5, 2.0, size=len(f))
        gram = (f * w[:, None]).T @ f + 1e-5 * np.eye(f.shape[1])
        reference = np.linalg.lstsq(gram, (f * w[:, None]).T @ y, rcond=-1)[0]
        np.testing.assert_allclose(f @ fit_linear_baseline(f, y, w), f @ reference, rtol=tol, atol=tol)
    # rows of weight 0 (padding after a path ended) do not enter the fit, whatever they hold
    padded = np.where(w[:, None] > 0, f, 1e6)
    np.testing.assert_allclose(fit_linear_baseline(padded, np.where(w > 0, y, -1e6), w), fit_linear_baseline(f, y, w),
                               rtol=1e-12, atol=1e-12)
    singular = np.concatenate([f[:, :3], np.zeros((len(f), 2))], axis=1)  # two all-zero features, no ridge
    coef = fit_linear_baseline(singular, y, w, reg=0.0)
    assert np.all(np.isfinite(coef))
    np.testing.assert_allclose(singular @ coef, singular[:, :3] @ np.linalg.lstsq(singular[:, :3] * w[:, None], y * w, rcond=-1)[0],
                               rtol=1e-8, atol=1e-8)
