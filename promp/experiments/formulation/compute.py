"""Formulation I vs formulation II on the 1-D two-parameter task (docs/algorithms.md §5.6, §10.1; ProMP §7.4, Fig. 5/6).

Task (docs/algorithms.md §10.1): ``s_0 ~ U(-2, 2)``; Gaussian policy with mean ``theta0 * s^2 + theta1`` and fixed
std 1; the action is clipped to ``[-2, 2]`` and becomes the next state; reward
``exp(-0.1 (a - goal)^2)`` with ``goal in {-1, +1}``; horizon 5; returns are undiscounted and not
normalised. As in the original script, log-probabilities are those of the Gaussian evaluated at the
*recorded (clipped)* action, and a task's inner step is one policy-gradient step on 100 trajectories:
``theta' = theta + alpha * mean_i grad log pi_theta(tau_i) R(tau_i)`` (trajectory log-probability,
whole return ``R``; no baseline).

Both meta-gradients are obtained by automatic differentiation through that inner step (no
hand-coded derivatives; the original script's hand-coded formulas are the test reference). The trick is to
give the trajectory distribution two roles with two parameter arguments: ``theta_p`` is the policy
being scored in the inner step, ``theta_s`` the distribution the pre-update trajectories were
sampled from (entering only through DiCE magic boxes, value 1). Then at ``theta_p = theta_s = theta``

* ``d/d theta_p`` is the common post-update term (ProMP eq. 2, docs/algorithms.md §5.6):
  ``grad J_post = (I + alpha * mean_i R_i hess log pi(tau_i)) g_post``,
  ``g_post = mean_j grad log pi_theta'(tau'_j) R'_j``;
* ``d/d theta_s`` is the pre-update term. Formulation I (DiCE, magic box per pre-update trajectory
  inside the inner step, eq. 4): ``alpha * mean_i grad log pi(tau_i) R_i grad log pi(tau_i)^T g_post``.
  Formulation II (E-MAML, one magic box over the joint log-probability of the N pre-update
  trajectories multiplying the post-update objective, eq. 3 without alpha):
  ``sum_i grad log pi(tau_i) * mean_j R'_j``.

How the two terms are weighted (``convention``; the outer step is ``theta += lr * mean_tasks(.)``):

================  ===============================  ==========================================
convention        formulation I                    formulation II
================  ===============================  ==========================================
``original``      ``alpha*post + pre_I``           ``alpha*post + alpha*pre_II``
``exact``         ``alpha*(post + pre_I)``         ``alpha*(post + pre_II)``
``paper``         ``alpha*(post + pre_I)``         ``alpha*(post + alpha*pre_II)``
================  ===============================  ==========================================

``original`` reproduces the hand-coded 1-D script (docs/algorithms.md §10.1) exactly: it multiplies *both* terms by
alpha, i.e. it is eqs. 3-4 as printed (alpha on the II term, docs/algorithms.md §8 item 5) with an extra alpha on
the common post term. Relative to the post term its II term therefore carries no alpha (it equals the
exact gradient of ``J^II``), while its formulation-I pre-update term is ``1/alpha`` (10x) larger than
the exact DiCE gradient of ``J^I``. ``exact`` is alpha times the exact gradients of both sample-based
objectives (the "no alpha on the E-MAML term" alternative); ``paper`` is alpha times eqs. 1-4 as
printed. The common factor alpha keeps the outer learning rates of the paper's sweep comparable.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ...algorithms.losses import magic_box

Formulation = Literal["I", "II"]
Convention = Literal["original", "exact", "paper"]
FORMULATIONS: tuple[str, ...] = ("I", "II")
CONVENTIONS: tuple[str, ...] = ("original", "exact", "paper")
PAPER_OPTIMUM = (0.0, 0.0)
"""Where the paper's figure marks the optimum (docs/algorithms.md §10.1); see ``post_update_return_landscape``."""


@dataclasses.dataclass(frozen=True)
class FormulationSetup:
    """Settings of the 1-D experiment; the defaults are the paper's (docs/algorithms.md §10.1)."""

    tasks_per_goal: int = 40  # 80 tasks per iteration, goals -1 and +1 alternating
    trajectories: int = 100  # per task, pre- and post-update alike
    horizon: int = 5
    inner_lr: float = 0.1
    outer_lrs: tuple[float, ...] = (5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 1e-1)
    iterations: int = 200
    theta_init: tuple[float, float] = (0.09, 0.05)
    action_std: float = 1.0
    convention: str = "original"
    score_raw_action: bool = False  # original: log-probs of the recorded clipped action (a biased score)

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first impossible value."""
        for name in ("tasks_per_goal", "trajectories", "horizon", "iterations"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not self.outer_lrs or any(not (lr > 0 and math.isfinite(lr)) for lr in self.outer_lrs):
            raise ValueError(f"outer learning rates must be positive, got {self.outer_lrs}")
        if not self.action_std > 0:
            raise ValueError(f"action_std must be > 0, got {self.action_std}")
        if self.convention not in CONVENTIONS:
            raise ValueError(f"convention must be one of {', '.join(CONVENTIONS)}, got {self.convention!r}")


FULL = FormulationSetup()
QUICK = FormulationSetup(tasks_per_goal=10, outer_lrs=(1e-3, 5e-3, 1e-2), iterations=100)
"""Quick scale: 20 tasks per iteration, 100 iterations, three outer learning rates (seconds on one core)."""


class Batch(NamedTuple):
    """Trajectories of one task, each field ``[n, horizon]``: states, the actions whose log-probability is
    scored (the clipped ones, as the original, or the raw Gaussian samples), rewards."""

    obs: jax.Array
    act: jax.Array
    rew: jax.Array


def policy_mean(theta: jax.Array, s: jax.Array) -> jax.Array:
    """The policy mean ``theta0 * s^2 + theta1`` (docs/algorithms.md §10.1)."""
    return theta[0] * s**2 + theta[1]


def step_log_prob(theta: jax.Array, s: jax.Array, a: jax.Array, std: float) -> jax.Array:
    """Gaussian log-density of action ``a`` in state ``s`` (the original writes ``2*std``
    for ``2*std^2``, which is the same for its std 1)."""
    return -((a - policy_mean(theta, s)) ** 2) / (2.0 * std**2) - 0.5 * jnp.log(2.0 * jnp.pi * std**2)


def trajectory_log_prob(theta: jax.Array, batch: Batch, std: float) -> jax.Array:
    """``log pi_theta(tau) = sum_t log pi_theta(a_t | s_t)`` per trajectory, ``[n]`` (docs/algorithms.md §5.6)."""
    return jnp.sum(step_log_prob(theta, batch.obs, batch.act, std), -1)


def sample_batch(theta: jax.Array, key: jax.Array, goal: jax.Array, n: int, horizon: int, std: float,
                 score_raw_action: bool = False) -> Batch:
    """``n`` trajectories of the 1-D task (docs/algorithms.md §10.1) with goal ``goal`` under ``pi_theta``.

    The environment clips the action to ``[-2, 2]``; ``Batch.act`` holds the clipped action (what the
    original records and scores) or, with ``score_raw_action``, the unclipped sample (whose score gives
    unbiased policy gradients of the clipped environment)."""
    k0, k1 = jax.random.split(key)
    s = jax.random.uniform(k0, (n,), minval=-2.0, maxval=2.0)
    noise = jax.random.normal(k1, (horizon, n))
    obs, raw, act = [], [], []
    for t in range(horizon):
        x = policy_mean(theta, s) + std * noise[t]
        a = jnp.clip(x, -2.0, 2.0)
        obs.append(s)
        raw.append(x)
        act.append(a)
        s = a
    act_a = jnp.stack(act, -1)
    scored = jnp.stack(raw, -1) if score_raw_action else act_a
    return Batch(jnp.stack(obs, -1), scored, jnp.exp(-0.1 * (act_a - goal) ** 2))


def inner_step(theta_p: jax.Array, theta_s: jax.Array, batch: Batch, alpha: float, std: float) -> jax.Array:
    """``theta' = theta_p + alpha * mean_i w_i R_i grad log pi_theta_p(tau_i)`` with
    DiCE weights ``w_i = MagicBox(log pi_theta_s(tau_i))`` (value 1; they carry the dependence of the
    sampling distribution on ``theta_s`` for formulation I's pre-update term)."""
    returns = jnp.sum(batch.rew, -1)
    weights = magic_box(trajectory_log_prob(theta_s, batch, std))

    def surrogate(th: jax.Array) -> jax.Array:
        return jnp.mean(weights * trajectory_log_prob(th, batch, std) * returns)

    return theta_p + alpha * jax.grad(surrogate)(theta_p)


def post_update_objective(theta_adapted: jax.Array, post: Batch, std: float) -> jax.Array:
    """``mean_j MagicBox(log pi_theta'(tau'_j)) R'_j``: value ``mean R'``, gradient ``g_post`` (docs/algorithms.md §5.6)."""
    return jnp.mean(magic_box(trajectory_log_prob(theta_adapted, post, std)) * jnp.sum(post.rew, -1))


def meta_gradient_terms(theta: jax.Array, pre: Batch, post: Batch, formulation: str, alpha: float,
                        std: float = 1.0) -> tuple[jax.Array, jax.Array]:
    """ProMP eqs. 1-4 (docs/algorithms.md §5.6) by autodiff: ``(grad J_post, grad J_pre)`` of one task.

    ``grad J_post`` is the same function of the batches for both formulations (docs/algorithms.md §9 fact 12);
    ``grad J_pre`` is eq. 4 (formulation I) or eq. 3 without alpha (formulation II). ``post`` must
    have been sampled from ``inner_step(theta, theta, pre, alpha, std)``.
    """
    if formulation == "I":
        def surrogate(theta_p, theta_s):
            return post_update_objective(inner_step(theta_p, theta_s, pre, alpha, std), post, std)
    elif formulation == "II":
        def surrogate(theta_p, theta_s):
            adapted = inner_step(theta_p, jax.lax.stop_gradient(theta_p), pre, alpha, std)
            joint = magic_box(jnp.sum(trajectory_log_prob(theta_s, pre, std)))
            return joint * post_update_objective(adapted, post, std)
    else:
        raise ValueError(f"formulation must be 'I' or 'II', got {formulation!r}")
    return jax.grad(surrogate, argnums=(0, 1))(theta, theta)


def term_weights(formulation: str, convention: str, alpha: float) -> tuple[float, float]:
    """``(c_post, c_pre)`` of ``c_post * grad J_post + c_pre * grad J_pre`` (table in the module docstring)."""
    if convention not in CONVENTIONS:
        raise ValueError(f"convention must be one of {', '.join(CONVENTIONS)}, got {convention!r}")
    if formulation == "I":
        return alpha, (1.0 if convention == "original" else alpha)
    return alpha, (alpha * alpha if convention == "paper" else alpha)


def meta_gradient(theta: jax.Array, pre: Batch, post: Batch, formulation: str, alpha: float, std: float = 1.0,
                  convention: str = "original") -> jax.Array:
    """One task's meta-gradient as used by the outer step (docs/algorithms.md §10.1), weighted per ``convention``."""
    post_term, pre_term = meta_gradient_terms(theta, pre, post, formulation, alpha, std)
    c_post, c_pre = term_weights(formulation, convention, alpha)
    return c_post * post_term + c_pre * pre_term


def task_goals(tasks_per_goal: int) -> jax.Array:
    """Goals of one iteration's tasks: ``[-1, +1] * tasks_per_goal`` (docs/algorithms.md §10.1: 40 per goal)."""
    return jnp.tile(jnp.array([-1.0, 1.0]), tasks_per_goal)


def _iteration(theta, key, lr, setup: FormulationSetup, formulation: str):
    """One outer iteration: sample, adapt and differentiate every task (vmapped), then ascend."""
    alpha, std, n, h, raw = setup.inner_lr, setup.action_std, setup.trajectories, setup.horizon, setup.score_raw_action
    goals = task_goals(setup.tasks_per_goal)
    keys = jax.random.split(key, goals.shape[0])

    def one_task(task_key, goal):
        k_pre, k_post = jax.random.split(task_key)
        pre = sample_batch(theta, k_pre, goal, n, h, std, raw)
        adapted = jax.lax.stop_gradient(inner_step(theta, theta, pre, alpha, std))
        post = sample_batch(adapted, k_post, goal, n, h, std, raw)
        grad = meta_gradient(theta, pre, post, formulation, alpha, std, setup.convention)
        return grad, jnp.mean(jnp.sum(pre.rew, -1)), jnp.mean(jnp.sum(post.rew, -1))

    grads, ret_pre, ret_post = jax.vmap(one_task)(keys, goals)
    return theta + lr * jnp.mean(grads, 0), jnp.mean(ret_pre), jnp.mean(ret_post)


def _run_one(seed_key, lr, setup: FormulationSetup, formulation: str):
    theta0 = jnp.asarray(setup.theta_init, dtype=jnp.result_type(float))

    def body(theta, it):
        new, r_pre, r_post = _iteration(theta, jax.random.fold_in(seed_key, it), lr, setup, formulation)
        return new, (new, r_pre, r_post)

    _, (thetas, r_pre, r_post) = jax.lax.scan(body, theta0, jnp.arange(setup.iterations))
    return jnp.concatenate([theta0[None], thetas]), r_pre, r_post


def run_formulation(setup: FormulationSetup, formulation: str, seeds: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Train ``theta`` with formulation ``formulation`` for every (seed, outer lr).

    Returns ``thetas [S, L, iterations+1, 2]`` (row 0 is the initial value) and the average pre- and
    post-update returns of each iteration's sampled tasks, ``return_pre/return_post [S, L, iterations]``.
    Seed ``s`` draws the same random numbers for every learning rate and both formulations (their
    trajectories then differ only because ``theta`` does). One compiled program (scan over iterations,
    vmap over seeds, learning rates and tasks).
    """
    setup.validate()
    if formulation not in FORMULATIONS:
        raise ValueError(f"formulation must be 'I' or 'II', got {formulation!r}")
    keys = jnp.stack([jax.random.PRNGKey(int(s)) for s in seeds])
    lrs = jnp.asarray(setup.outer_lrs, dtype=jnp.result_type(float))
    run = jax.vmap(jax.vmap(lambda k, lr: _run_one(k, lr, setup, formulation), (None, 0)), (0, None))
    thetas, r_pre, r_post = jax.jit(run)(keys, lrs)
    return {"thetas": np.asarray(thetas), "return_pre": np.asarray(r_pre), "return_post": np.asarray(r_post)}


def distance_to(thetas: np.ndarray, optimum: tuple[float, float]) -> np.ndarray:
    """Euclidean distance of every ``theta`` (last axis 2) to ``optimum``."""
    return np.linalg.norm(np.asarray(thetas) - np.asarray(optimum), axis=-1)


# ----------------------------------------------------------------------------------------------------
# Where is the optimum?  Expected returns by reparameterised Monte Carlo with common random numbers.


def expected_return(theta: jax.Array, goal: float, s0: jax.Array, noise: jax.Array, std: float = 1.0) -> jax.Array:
    """Monte-Carlo ``E_tau~pi_theta R(tau)`` of one goal (docs/algorithms.md §10.1) with fixed noise ``s0 [n]``,
    ``noise [H, n]``: actions ``clip(mean + std*noise)``, so the estimate is a smooth function of
    ``theta`` and its ``jax.grad`` is the (unbiased, pathwise) policy gradient."""
    s, total = s0, 0.0
    for t in range(noise.shape[0]):
        a = jnp.clip(policy_mean(theta, s) + std * noise[t], -2.0, 2.0)
        total = total + jnp.exp(-0.1 * (a - goal) ** 2)
        s = a
    return jnp.mean(total)


def exact_post_update_return(theta: jax.Array, s0: jax.Array, noise: jax.Array, alpha: float,
                             std: float = 1.0) -> jax.Array:
    """``J^I(theta) = mean_goal E R`` under ``theta + alpha * grad E R`` (docs/algorithms.md §4.1, formulation I with the
    exact inner policy gradient), by Monte Carlo; also returns the pre-update value. Shape ``[2]``."""
    post, pre = 0.0, 0.0
    for goal in (-1.0, 1.0):
        value, grad = jax.value_and_grad(expected_return)(theta, goal, s0, noise, std)
        pre = pre + 0.5 * value
        post = post + 0.5 * expected_return(theta + alpha * grad, goal, s0, noise, std)
    return jnp.stack([pre, post])


def post_update_return_landscape(key: jax.Array, grid0: np.ndarray, grid1: np.ndarray, samples: int,
                                 alpha: float = 0.1, horizon: int = 5, std: float = 1.0) -> np.ndarray:
    """``[2, len(grid0), len(grid1)]``: pre-update return and ``J^I`` on a (theta0, theta1) grid, with the
    same ``samples`` random trajectories at every grid point (the "optimum at (0, 0)" check of docs/algorithms.md §10.1).

    The task family is symmetric under ``(s, a, goal, theta) -> -(s, a, goal, theta)``, so both
    functions satisfy ``J(theta) = J(-theta)`` and ``(0, 0)`` is always a critical point; the grid
    (and ``fit_optimum``) tell whether it is the maximum."""
    k0, k1 = jax.random.split(key)
    half = (samples + 1) // 2  # antithetic pairs (s0, noise), (-s0, -noise): the estimate keeps J(theta) = J(-theta)
    s0 = jax.random.uniform(k0, (half,), minval=-2.0, maxval=2.0)
    noise = jax.random.normal(k1, (horizon, half))
    s0, noise = jnp.concatenate([s0, -s0]), jnp.concatenate([noise, -noise], -1)
    t0, t1 = np.meshgrid(np.asarray(grid0, float), np.asarray(grid1, float), indexing="ij")
    points = jnp.asarray(np.stack([t0.ravel(), t1.ravel()], -1), dtype=jnp.result_type(float))
    values = jax.jit(lambda pts: jax.lax.map(lambda th: exact_post_update_return(th, s0, noise, alpha, std), pts))(points)
    return np.asarray(values).T.reshape(2, len(grid0), len(grid1))


def fit_optimum(grid0: np.ndarray, grid1: np.ndarray, values: np.ndarray) -> dict[str, object]:
    """Least-squares quadratic ``c + b.x + x^T A x / 2`` fitted to ``values [len(grid0), len(grid1)]``;
    returns the grid argmax, the fitted stationary point ``-A^-1 b`` and ``A``'s eigenvalues (all
    negative = a maximum)."""
    t0, t1 = np.meshgrid(np.asarray(grid0, float), np.asarray(grid1, float), indexing="ij")
    x, y, v = t0.ravel(), t1.ravel(), np.asarray(values, float).ravel()
    design = np.stack([np.ones_like(x), x, y, x * x / 2, x * y, y * y / 2], -1)
    coef = np.linalg.lstsq(design, v, rcond=None)[0]
    hess = np.array([[coef[3], coef[4]], [coef[4], coef[5]]])
    stationary = -np.linalg.solve(hess, coef[1:3])
    i, j = np.unravel_index(int(np.argmax(values)), np.shape(values))
    return {"grid_argmax": (float(grid0[i]), float(grid1[j])), "fitted_optimum": tuple(float(a) for a in stationary),
            "hessian_eigenvalues": tuple(float(e) for e in np.linalg.eigvalsh(hess)), "max_value": float(np.max(values))}
