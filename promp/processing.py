"""Sample processing (docs/algorithms.md §3): returns, linear feature baseline, GAE, standardisation.

Pure numpy (float64) functions over ``[T, R, H]`` arrays with a mask; everything is done per task,
as in the original's ``MetaSampleProcessor``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .types import Batch, Trajectories


def discounted_cumsum(x: np.ndarray, discount: float) -> np.ndarray:
    """``y_t = sum_{k >= t} discount^(k-t) x_k`` along the last axis."""
    out = np.zeros_like(x, dtype=np.float64)
    running = np.zeros(x.shape[:-1])
    for t in range(x.shape[-1] - 1, -1, -1):
        running = x[..., t] + discount * running
        out[..., t] = running
    return out


def baseline_features(obs: np.ndarray) -> np.ndarray:
    """``[o, o^2, t/100, (t/100)^2, (t/100)^3, 1]`` with ``o = clip(obs, -10, 10)`` (docs/algorithms.md §3 step 2).

    ``obs`` is ``[..., H, obs_dim]``; returns ``[..., H, 2 * obs_dim + 4]``.
    """
    o = np.clip(obs.astype(np.float64), -10.0, 10.0)
    horizon = obs.shape[-2]
    t = np.broadcast_to((np.arange(horizon) / 100.0)[:, None], (*obs.shape[:-1], 1))
    return np.concatenate([o, o**2, t, t**2, t**3, np.ones_like(t)], axis=-1)


def time_features(horizon: int) -> np.ndarray:
    """Time-only features ``[t/100, (t/100)^2, (t/100)^3, 1]`` (``LinearTimeBaseline``, docs/algorithms.md §3 step 5)."""
    t = (np.arange(horizon) / 100.0)[:, None]
    return np.concatenate([t, t**2, t**3, np.ones_like(t)], axis=-1)


def fit_linear_baseline(features: np.ndarray, targets: np.ndarray, weights: np.ndarray, reg: float = 1e-5) -> np.ndarray:
    """Ridge least squares ``(F^T W F + c I) w = F^T W y``; ``c`` grows x10 on NaN, 5 tries (docs/algorithms.md §3 step 2).

    ``weights`` are non-negative (the sample mask). Rows of weight 0 add nothing to either side, so they
    are dropped: after early terminations most rows are padding (Humanoid's paths average a quarter of
    the horizon). With ``G = sqrt(W) F`` (``n`` rows, ``p`` features) the fit is ``(G^T G + c I)^-1 G^T y'``;
    when ``n < p`` the same vector is computed as ``G^T (G G^T + c I)^-1 y'`` (the push-through identity),
    an ``n x n`` system instead of ``p x p``. numpy forms either Gram matrix as a symmetric rank-k update.
    The regularised Gram matrix is positive definite, so an LU solve gives the original's ``lstsq`` solution
    (to round-off) for much less than its SVD costs, which matters with many features (Humanoid has 756);
    ``lstsq`` remains the fallback for a matrix that is singular in floating point."""
    keep = weights > 0
    root = np.sqrt(weights[keep])
    g = features[keep] * root[:, None]
    y = targets[keep] * root
    dual = g.shape[0] < g.shape[1]
    gram, rhs = (g @ g.T, y) if dual else (g.T @ g, g.T @ y)
    coef = np.zeros(features.shape[-1])
    for _ in range(5):
        regularised = gram + reg * np.eye(gram.shape[0])
        try:
            solution = np.linalg.solve(regularised, rhs)
        except np.linalg.LinAlgError:
            solution = np.linalg.lstsq(regularised, rhs, rcond=-1)[0]
        coef = g.T @ solution if dual else solution
        if np.all(np.isfinite(coef)):
            break
        reg *= 10
    return coef


def linear_baseline_values(obs: np.ndarray, returns: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per-task in-sample linear feature baseline: fit on a task's paths, predict on the same paths.

    Shapes ``obs [T, R, H, o]``, ``returns``/``mask`` ``[T, R, H]``; masked entries predict 0.
    """
    values = np.zeros(returns.shape)
    for i in range(obs.shape[0]):  # features per task: a few MB that stay in cache
        f = baseline_features(obs[i])
        f = f.reshape(-1, f.shape[-1])
        coef = fit_linear_baseline(f, returns[i].reshape(-1), mask[i].reshape(-1).astype(np.float64))
        values[i] = (f @ coef).reshape(returns.shape[1:])
    return values * mask


def gae_advantages(rewards: np.ndarray, values: np.ndarray, mask: np.ndarray, gamma: float, lam: float) -> np.ndarray:
    """GAE: ``delta_t = r_t + gamma b_{t+1} - b_t`` with ``b = 0`` after a path ends; ``A = sum (gamma lam)^k delta``
    (docs/algorithms.md §3 step 3)."""
    values = values * mask
    next_values = np.concatenate([values[..., 1:], np.zeros_like(values[..., :1])], axis=-1)
    deltas = (rewards + gamma * next_values - values) * mask
    return discounted_cumsum(deltas, gamma * lam) * mask


def standardize_per_task(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``(x - mean) / (std + 1e-8)`` over each task's unmasked entries (axes after the first)."""
    axes = tuple(range(1, x.ndim))
    n = mask.sum(axis=axes, keepdims=True)
    mean = (x * mask).sum(axis=axes, keepdims=True) / n
    std = np.sqrt((((x - mean) * mask) ** 2).sum(axis=axes, keepdims=True) / n)
    return (x - mean) / (std + 1e-8) * mask


def standardize_padded(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per task, ``(x - mean) / (std + 1e-8)`` over the whole padded array, padded zeros included
    (the original DiCE processor's normalisation, docs/algorithms.md §3 step 5); masked entries are then set to 0."""
    x = x * mask
    axes = tuple(range(1, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    std = x.std(axis=axes, keepdims=True)
    return (x - mean) / (std + 1e-8) * mask


def dice_adjusted_rewards(rewards: np.ndarray, mask: np.ndarray, gamma: float, normalize: bool = True) -> np.ndarray:
    """DiCE processing (docs/algorithms.md §3 step 5): ``gamma^t r_t - b(t)`` with a per-task ``LinearTimeBaseline`` fitted to
    the discounted per-step rewards of the real steps; optionally standardised over the padded array.

    Shapes ``[T, R, H]``; returns 0 where masked.
    """
    mask = mask.astype(np.float64)
    horizon = rewards.shape[-1]
    disc = rewards * mask * gamma ** np.arange(horizon)
    feats = time_features(horizon)
    out = np.zeros(rewards.shape)
    for i in range(rewards.shape[0]):
        f = np.broadcast_to(feats, (*rewards.shape[1:], feats.shape[-1])).reshape(-1, feats.shape[-1])
        coef = fit_linear_baseline(f, disc[i].reshape(-1), mask[i].reshape(-1))
        out[i] = (disc[i] - feats @ coef) * mask[i]
    return standardize_padded(out, mask) if normalize else out


def process_samples(traj: Trajectories, gamma: float = 0.99, gae_lambda: float = 1.0, normalize_adv: bool = True) -> Batch:
    """Returns -> in-sample linear baseline -> GAE -> per-task standardisation (docs/algorithms.md §3)."""
    mask = traj.mask.astype(np.float64)
    returns = discounted_cumsum(traj.rewards * mask, gamma)
    values = linear_baseline_values(traj.obs, returns, mask)
    raw_adv = gae_advantages(traj.rewards, values, mask, gamma, gae_lambda)
    adv = standardize_per_task(raw_adv, mask) if normalize_adv else raw_adv
    dice_rewards = dice_adjusted_rewards(traj.rewards, mask, gamma, normalize_adv)
    padded_adv = standardize_padded(raw_adv, mask) if normalize_adv else raw_adv
    valid = traj.rewards[mask > 0]
    adj = (traj.rewards - valid.mean()) / (valid.std() + 1e-8) * mask
    f32 = lambda x: jnp.asarray(x, dtype=jnp.float32)  # noqa: E731
    return Batch(
        obs=f32(traj.obs),
        actions=f32(traj.actions),
        advantages=f32(adv),
        mask=f32(mask),
        means=f32(traj.means),
        log_stds=f32(traj.log_stds),
        rewards=f32(traj.rewards),
        adj_avg_rewards=f32(adj),
        dice_rewards=f32(dice_rewards),
        padded_advantages=f32(padded_adv),
    )


def trim_padding(batches: list[Batch], buckets: int = 4) -> list[Batch]:
    """``batches`` (the rounds of one iteration) cut along the time axis after the last step that any path
    of any round simulated, rounded up to a multiple of ``ceil(H / buckets)`` so that the update sees at
    most ``buckets`` shapes (one compilation each). The steps cut are padding of every path (mask 0), so
    losses built from masked means and per-path sums do not change; those that average over the padded
    array (DiCE's, docs/algorithms.md §5.4-5.5) do, and ``promp.algorithms.pads_matter`` says when not to
    trim. After early terminations this is most of the array (Humanoid: paths of ~50 of 200 steps)."""
    horizon = batches[0].mask.shape[2]
    alive = np.zeros(horizon, dtype=bool)
    for batch in batches:
        alive |= np.asarray(batch.mask).any(axis=(0, 1))
    last = int(np.flatnonzero(alive)[-1]) + 1 if alive.any() else horizon
    step = -(-horizon // buckets)
    length = min(horizon, -(-last // step) * step)
    if length == horizon:
        return list(batches)
    return [jax.tree_util.tree_map(lambda x: x[:, :, :length], batch) for batch in batches]  # as trpo.first_rollouts


def average_return(traj: Trajectories) -> float:
    """Mean undiscounted path return over all tasks' paths (the original's ``AverageReturn``)."""
    return float((traj.rewards * traj.mask).sum(-1).mean())


def episode_success(traj: Trajectories) -> np.ndarray | None:
    """Per-path success ``[T, R]`` (bool): the env's success flag was set at some simulated step of the
    path; ``None`` when the env reports no success (``MetaEnv.reports_success``).

    This is Meta-World's definition. Its evaluation (``metaworld.evaluation.evaluation``, metaworld 3.1.1)
    turns on ``AutoTerminateOnSuccessWrapper``, which ends an episode at the first step whose
    ``info["success"]`` is 1, and counts an episode as a success if ``info["success"]`` of its final step
    is 1; so an episode of at most ``max_path_length`` steps succeeds if and only if the flag is set at any
    of them. Sampling does not stop at success (as metaworld's training does not); the flags after the
    first success do not change the outcome.
    """
    if traj.success is None:
        return None
    return ((traj.success * traj.mask) > 0).any(axis=-1)


def success_rate(traj: Trajectories) -> float | None:
    """Fraction of all tasks' paths that succeeded (``episode_success``); ``None`` without success flags.
    With the same number of paths per task it equals the mean over tasks of the per-task rates, which is
    how metaworld averages (``success_rate_per_task``, then their mean)."""
    success = episode_success(traj)
    return None if success is None else float(success.mean())
