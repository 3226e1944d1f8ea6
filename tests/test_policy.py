"""Diagonal-Gaussian MLP policy (docs/algorithms.md §2; §9 fact 13)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from scipy import stats

from promp.policy import distribution, entropy, init_policy, kl_divergence, log_prob, sample_action


def test_initialisation():
    p = init_policy(jax.random.PRNGKey(0), 5, 3, (64, 32), init_std=0.5)
    assert set(p) == {"hidden_0/kernel", "hidden_0/bias", "hidden_1/kernel", "hidden_1/bias", "output/kernel", "output/bias", "log_std"}
    for name, (fan_in, fan_out) in {"hidden_0": (5, 64), "hidden_1": (64, 32), "output": (32, 3)}.items():
        w = np.asarray(p[f"{name}/kernel"])
        limit = math.sqrt(6 / (fan_in + fan_out))
        assert w.shape == (fan_in, fan_out) and np.abs(w).max() <= limit and np.abs(w).max() > 0.8 * limit
        np.testing.assert_array_equal(p[f"{name}/bias"], 0.0)
    np.testing.assert_allclose(p["log_std"], math.log(0.5), rtol=1e-6)


def test_forward_is_a_tanh_mlp():
    p = init_policy(jax.random.PRNGKey(1), 4, 2, (6,))
    obs = np.random.default_rng(0).normal(size=(7, 4)).astype(np.float32)
    mean, log_std = distribution(p, obs)
    h = np.tanh(obs @ np.asarray(p["hidden_0/kernel"]))
    np.testing.assert_allclose(mean, h @ np.asarray(p["output/kernel"]), rtol=1e-5, atol=1e-6)
    assert log_std.shape == (7, 2)


def test_log_prob_matches_scipy():  # §9 fact 13
    rng = np.random.default_rng(0)
    mean, log_std, a = rng.normal(size=(10, 3)), rng.normal(size=(10, 3)) * 0.5, rng.normal(size=(10, 3))
    ref = stats.norm.logpdf(a, mean, np.exp(log_std)).sum(-1)
    with jax.enable_x64(True):
        np.testing.assert_allclose(log_prob(jnp.asarray(mean), jnp.asarray(log_std), jnp.asarray(a)), ref, rtol=1e-12)


def test_kl_properties_and_closed_form():  # §9 fact 13
    rng = np.random.default_rng(1)
    m0, s0, m1, s1 = (rng.normal(size=(20, 2)) for _ in range(4))
    with jax.enable_x64(True):
        kl = np.asarray(kl_divergence(m0, s0, m1, s1))
        np.testing.assert_allclose(kl_divergence(m0, s0, m0, s0), 0.0, atol=1e-12)
    v0, v1 = np.exp(2 * s0), np.exp(2 * s1)
    closed = (0.5 * (v0 / v1 + (m1 - m0) ** 2 / v1 - 1) + s1 - s0).sum(-1)
    np.testing.assert_allclose(kl, closed, rtol=1e-6)
    assert np.all(kl >= 0)
    # Monte-Carlo check of the definition E_old[log p_old - log p_new] for one pair
    x = m0[0] + np.exp(s0[0]) * rng.normal(size=(200_000, 2))
    mc = (stats.norm.logpdf(x, m0[0], np.exp(s0[0])) - stats.norm.logpdf(x, m1[0], np.exp(s1[0]))).sum(-1).mean()
    assert abs(mc - kl[0]) < 0.05 * max(1.0, kl[0])


def test_entropy_and_sampling():
    log_std = jnp.array([0.1, -0.3])
    ref = stats.norm.entropy(scale=np.exp(np.asarray(log_std))).sum()
    np.testing.assert_allclose(entropy(log_std), ref, rtol=1e-5)
    noise = np.random.default_rng(0).normal(size=(100_000, 2)).astype(np.float32)
    a = np.asarray(sample_action(jnp.array([1.0, -2.0]), log_std, noise))
    np.testing.assert_allclose(a.mean(0), [1.0, -2.0], atol=0.02)
    np.testing.assert_allclose(a.std(0), np.exp(np.asarray(log_std)), rtol=0.02)
