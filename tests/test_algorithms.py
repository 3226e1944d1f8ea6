"""The algorithm zoo: TRPO's optimiser pieces against closed forms, DiCE processing, and every ``--algo``
preset end to end at a small scale (docs/algorithms.md §5)."""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from promp.algorithms import OUTER_UPDATES, make_outer_update
from promp.algorithms.conjugate_gradient import conjugate_gradient, hessian_vector_product
from promp.algorithms.meta_objective import emaml_coefficient
from promp.algorithms.trpo import trpo_step
from promp.config import ConfigError, resolve_config
from promp.presets import ALGORITHMS
from promp.processing import dice_adjusted_rewards, time_features

pytestmark = pytest.mark.usefixtures("quick_compiles")  # tests/conftest.py

SMALL = dict(iterations=3, meta_batch_size=4, rollouts_per_task=4, horizon=20)


@pytest.fixture
def x64():
    with jax.enable_x64(True):
        yield


def spd_matrix(n: int, seed: int = 0) -> np.ndarray:
    m = np.random.default_rng(seed).normal(size=(n, n))
    return m @ m.T + n * np.eye(n)


def test_conjugate_gradient_solves_a_known_spd_system(x64):
    a = spd_matrix(6)
    b = np.random.default_rng(1).normal(size=6)
    x = conjugate_gradient(lambda v: jnp.asarray(a) @ v, jnp.asarray(b), iters=10).x
    np.testing.assert_allclose(np.asarray(x), np.linalg.solve(a, b), rtol=1e-8, atol=1e-10)
    # with fewer iterations than dimensions it is only approximate, but better than x = 0
    x2 = np.asarray(conjugate_gradient(lambda v: jnp.asarray(a) @ v, jnp.asarray(b), iters=2).x)
    assert np.linalg.norm(a @ x2 - b) < np.linalg.norm(b)


def test_conjugate_gradient_residual_gives_the_product_without_one():
    """TRPO's step scale uses ``s^T A s = s^T (b - residual)``: the recursion's residual equals
    ``b - A x`` after a partial solve, here in float32 as in training, on an ill-conditioned system."""
    a = spd_matrix(50, 3)
    a = a + 1e4 * np.outer(a[0], a[0]) / (a[0] @ a[0])  # condition number ~1e3
    b = np.random.default_rng(4).normal(size=50)
    res = conjugate_gradient(lambda v: jnp.asarray(a, jnp.float32) @ v, jnp.asarray(b, jnp.float32), iters=10)
    x = np.asarray(res.x, np.float64)
    assert np.linalg.norm(np.asarray(res.residual) - (b - a @ x)) <= 1e-4 * np.linalg.norm(b)
    np.testing.assert_allclose(float(x @ (b - np.asarray(res.residual))), x @ a @ x, rtol=1e-5)


def test_conjugate_gradient_zero_rhs_gives_zero(x64):
    res = conjugate_gradient(lambda v: 2.0 * v, jnp.zeros(3))
    np.testing.assert_array_equal(np.asarray(res.x), np.zeros(3))
    assert int(res.iterations) == 0


def test_conjugate_gradient_stops_on_the_relative_residual(x64):
    """``tol`` is relative to ``||b||``: scaling the system does not change when CG stops, and the
    reported residual is the true one."""
    a = jnp.asarray(spd_matrix(40, 8))
    b = jnp.asarray(np.random.default_rng(9).normal(size=40))
    iterations = []
    for scale in [1e-6, 1.0, 1e6]:
        res = conjugate_gradient(lambda v: a @ v, scale * b, iters=40, tol=1e-3)
        true = np.linalg.norm(np.asarray(a @ res.x - scale * b)) / np.linalg.norm(np.asarray(scale * b))
        assert 0 < int(res.iterations) < 40 and true <= 1e-3
        np.testing.assert_allclose(float(res.relative_residual), true, rtol=1e-6)
        iterations.append(int(res.iterations))
    assert len(set(iterations)) == 1


def test_hessian_vector_product_equals_finite_differences(x64):
    w = jnp.asarray(np.random.default_rng(2).normal(size=(5, 5)))

    def f(x):
        return jnp.sum(jnp.tanh(w @ x) ** 2) + jnp.log(jnp.sum(jnp.exp(x))) + 0.1 * jnp.sum(x**4)

    x = jnp.asarray(np.random.default_rng(3).normal(size=5))
    v = jnp.asarray(np.random.default_rng(4).normal(size=5))
    eps = 1e-5
    fd = (jax.grad(f)(x + eps * v) - jax.grad(f)(x - eps * v)) / (2 * eps)
    np.testing.assert_allclose(np.asarray(hessian_vector_product(f, x, v)), np.asarray(fd), rtol=1e-6, atol=1e-8)


def test_trpo_step_matches_the_closed_form_natural_gradient_step(x64):
    """Linear loss ``g^T x`` and quadratic KL ``0.5 x^T F x``: the first try is accepted and equals
    ``-sqrt(2 delta / (g^T F^-1 g + 1e-8)) F^-1 g``, with KL <= delta and a lower loss."""
    f = jnp.asarray(spd_matrix(4, 5))
    g = jnp.asarray(np.random.default_rng(6).normal(size=4))
    delta = 0.01
    x0 = {"w": jnp.zeros(4)}
    loss = lambda p: g @ p["w"]  # noqa: E731
    kl = lambda p: 0.5 * p["w"] @ f @ p["w"]  # noqa: E731
    new, stats = trpo_step(loss, kl, x0, delta)
    nat = np.linalg.solve(np.asarray(f), np.asarray(g))
    expected = -math.sqrt(2 * delta / (float(g @ nat) + 1e-8)) * nat
    np.testing.assert_allclose(np.asarray(new["w"]), expected, rtol=1e-6)
    assert float(stats["step_accepted"]) == 1.0 and int(stats["backtracks"]) == 1
    assert float(kl(new)) <= delta and float(loss(new)) < float(loss(x0))


def test_trpo_step_backtracks_until_kl_bound_holds(x64):
    """A KL steeper than its quadratic model forces backtracking; the accepted step satisfies the bound."""
    f = jnp.asarray(spd_matrix(3, 7))
    g = jnp.asarray([1.0, -2.0, 0.5])
    delta = 0.01
    loss = lambda p: g @ p  # noqa: E731
    kl = lambda p: 0.5 * p @ f @ p + 50.0 * jnp.sum(p**4) * 1e3  # noqa: E731
    new, stats = trpo_step(loss, kl, jnp.zeros(3), delta)
    assert float(stats["step_accepted"]) == 1.0 and int(stats["backtracks"]) > 1
    assert float(kl(new)) <= delta and float(loss(new)) < 0.0
    np.testing.assert_allclose(float(stats["kl_post"]), float(kl(new)), rtol=1e-10)


def test_trpo_step_rejects_when_no_step_improves(x64):
    """The loss rises along every tried step (huge curvature the KL does not see): old params are kept."""
    g = jnp.asarray([1.0, 2.0])
    x0 = jnp.asarray([0.3, -0.1])
    loss = lambda p: g @ p + 1e5 * jnp.sum((p - x0) ** 2)  # noqa: E731
    kl = lambda p: 0.5 * jnp.sum((p - x0) ** 2)  # noqa: E731
    new, stats = trpo_step(loss, kl, x0, 0.01)
    np.testing.assert_array_equal(np.asarray(new), np.asarray(x0))
    assert float(stats["step_accepted"]) == 0.0 and int(stats["backtracks"]) == 15
    # a NaN step (here from a NaN constraint curvature) is rejected without trying
    new, stats = trpo_step(lambda p: g @ p, lambda p: jnp.nan * jnp.sum(p**2), x0, 0.01)
    np.testing.assert_array_equal(np.asarray(new), np.asarray(x0))
    assert float(stats["step_accepted"]) == 0.0 and int(stats["backtracks"]) == 0


@pytest.fixture(scope="module")
def point_nav_rounds():
    """Two sampling rounds (pre, post) of a small point-nav meta-batch, sampled with maml-trpo's inner step."""
    from promp.learner import MetaLearner

    cfg = resolve_config("point-nav", "maml-trpo", SMALL)
    learner = MetaLearner(cfg)
    state = learner.init_state()
    tasks = learner.env.sample_tasks(state.rng, cfg.meta_batch_size)
    res = learner.sample_adapted(state.params, tasks, state.rng)
    learner.env.close()
    return cfg, state.params, tuple(res.batches)


@pytest.mark.parametrize("algo", ["maml-trpo", "lvc-trpo"])
def test_trpo_update_respects_the_kl_bound_and_improves(point_nav_rounds, algo):
    cfg, params, batches = point_nav_rounds
    cfg = dataclasses.replace(cfg, **ALGORITHMS[algo].settings())
    outer = make_outer_update(cfg)
    state = outer.init(params)
    new, _, stats = outer.update(params, state, batches)
    loss_before, aux_before = outer.loss(params, state, batches)
    loss_after, aux_after = outer.loss(new, state, batches)
    assert float(stats["step_accepted"]) == 1.0
    assert float(aux_before["kl_post"]) < 1e-6  # the recorded post-update distribution is theta'(theta_o)
    assert 0.0 < float(aux_after["kl_post"]) <= cfg.max_kl
    assert float(loss_after) < float(loss_before)
    # with all advantages zero no step can improve the loss: the update is rejected
    zero = tuple(b._replace(advantages=jnp.zeros_like(b.advantages), adj_avg_rewards=jnp.zeros_like(b.adj_avg_rewards)) for b in batches)
    same, _, stats = outer.update(params, outer.init(params), zero)
    assert float(stats["step_accepted"]) == 0.0
    for k in params:
        np.testing.assert_array_equal(np.asarray(same[k]), np.asarray(params[k]))


def test_emaml_term_changes_only_the_pre_update_gradient(point_nav_rounds):
    """E-MAML adds ``-mean(adj post) * grad mean_t log pi_theta(pre)`` to MAML-VPG's meta-gradient (docs/algorithms.md §5.6);
    the alpha-scaled option multiplies that difference by alpha."""
    from promp.policy import params_log_prob

    cfg, params, batches = point_nav_rounds
    grads = {}
    for name, over in {"maml": dict(emaml=False), "emaml": dict(emaml=True),
                       "scaled": dict(emaml=True, emaml_alpha_scaled=True)}.items():
        c = dataclasses.replace(cfg, outer="vpg", inner_estimator="log-likelihood", **over)
        outer = make_outer_update(c)
        grads[name] = jax.grad(lambda p: outer.loss(p, outer.init(p), batches)[0])(params)
    pre, post = batches

    def reinforce(p):  # mean over tasks of -mean(adj post) * mean_t log pi(pre), written out by hand
        logp = jax.vmap(lambda o, a: params_log_prob(p, o, a, True))(pre.obs, pre.actions)
        stat = (post.adj_avg_rewards * post.mask).sum((1, 2)) / post.mask.sum((1, 2))
        return jnp.mean(-stat * (logp * pre.mask).sum((1, 2)) / pre.mask.sum((1, 2)))

    ref = jax.grad(reinforce)(params)
    for k in params:
        np.testing.assert_allclose(grads["emaml"][k] - grads["maml"][k], ref[k], rtol=1e-3, atol=1e-6)
        np.testing.assert_allclose(grads["scaled"][k] - grads["maml"][k], cfg.inner_lr * ref[k], rtol=1e-3, atol=1e-6)
    assert emaml_coefficient(dataclasses.replace(cfg, emaml=True, emaml_alpha_scaled=True)) == cfg.inner_lr


def pad_time(batch, steps: int):
    """``batch`` with ``steps`` more time steps of what the sampler leaves after every path has ended:
    mask, rewards and advantages 0, observation 0, and the policy's output there (here 0) as action."""
    return jax.tree_util.tree_map(lambda x: jnp.concatenate([x, jnp.zeros_like(x[:, :, :steps])], axis=2), batch)


def test_trimmed_padding_leaves_every_loss_but_dices_unchanged(point_nav_rounds):
    """The learner cuts the time steps that are padding in every path (``trim_padding``) unless ``pads_matter``:
    the meta-objective and its gradient on a padded meta-batch equal those on the cut one exactly when the
    preset's losses use masked means and per-path sums; DiCE's average over the padded array. The presets
    checked cover the inner estimators and outer surrogates of Figure 2 (LVC and MAML inner steps, whose
    masked mean is also VPG's surrogate; clipped + KL and TRPO surrogates; the E-MAML term), and one DiCE
    preset (two compiles each, ~3 s apiece)."""
    from promp.algorithms import pads_matter
    from promp.processing import trim_padding

    cfg, params, batches = point_nav_rounds
    horizon = batches[0].mask.shape[2]
    padded = tuple(pad_time(b, horizon) for b in batches)  # 2H steps, the last H padding of every path
    trimmed = trim_padding(list(padded))  # to a multiple of ceil(2H / 4): back to H
    assert all(b.obs.shape[2] == horizon and np.array_equal(b.mask, p.mask[:, :, :horizon]) for b, p in zip(trimmed, padded))
    half = tuple(b._replace(mask=b.mask.at[:, :, horizon // 2:].set(0.0)) for b in padded)
    assert trim_padding(list(half))[0].obs.shape[2] == horizon // 2
    assert trim_padding(list(batches))[0].obs.shape[2] == horizon  # nothing to cut
    seen = set()
    for algo in ["promp", "emaml-trpo", "vpg-dice"]:
        c = dataclasses.replace(cfg, **ALGORITHMS[algo].settings())
        outer = make_outer_update(c)
        state = outer.init(params)
        value = jax.jit(jax.value_and_grad(lambda p, b: outer.loss(p, state, b)[0]))
        (loss_cut, grad_cut), (loss_pad, grad_pad) = value(params, tuple(trimmed)), value(params, padded)
        same = bool(np.allclose(loss_cut, loss_pad, rtol=1e-5, atol=1e-7)) and all(
            np.allclose(grad_cut[k], grad_pad[k], rtol=1e-4, atol=1e-6) for k in params)
        assert same != pads_matter(c), (algo, float(loss_cut), float(loss_pad))
        seen.add(pads_matter(c))
    assert seen == {True, False}


def test_dice_adjusted_rewards_fit_a_time_cubic_and_normalise_over_padding():
    horizon = 100
    t = time_features(horizon)
    coef = np.array([3.0, -2.0, 5.0, 0.7])
    rewards = np.broadcast_to(t @ coef, (2, 3, horizon)).copy()
    mask = np.ones_like(rewards)
    # gamma = 1: a reward that is a cubic in t/100 is explained by the time-only baseline (up to the ridge term)
    assert np.abs(rewards).max() > 5
    np.testing.assert_allclose(dice_adjusted_rewards(rewards, mask, 1.0, normalize=False), 0.0, atol=1e-3)
    # normalisation runs over the padded array of each task, padded zeros included
    rng = np.random.default_rng(0)
    rewards = rng.normal(size=(2, 3, horizon))
    mask = np.ones_like(rewards)
    mask[:, 0, 4:] = 0.0
    rewards *= mask
    raw = dice_adjusted_rewards(rewards, mask, 0.9, normalize=False)
    out = dice_adjusted_rewards(rewards, mask, 0.9, normalize=True)
    for i in range(2):
        expected = (raw[i] - raw[i].mean()) / (raw[i].std() + 1e-8) * mask[i]
        np.testing.assert_allclose(out[i], expected, atol=1e-12)
        assert np.all(out[i][mask[i] == 0] == 0)


def test_presets_compose_the_registered_pieces():
    from promp.algorithms.losses import INNER_LOSSES

    expected = {"promp", "maml-trpo", "emaml-trpo", "lvc-trpo", "maml-vpg", "emaml-vpg", "lvc-vpg", "dice-vpg", "vpg-dice"}
    assert expected <= set(ALGORITHMS)
    for a in ALGORITHMS.values():
        assert a.inner_estimator in INNER_LOSSES and a.outer in OUTER_UPDATES
        assert a.family in {"promp", "trpo", "vpg", "dice"}
    # other combinations are one flag away; bad values are one clear error
    cfg = resolve_config("point-nav", "maml-vpg", {"inner_estimator": "dice", "outer": "trpo", "emaml": True})
    assert (cfg.inner_estimator, cfg.outer, cfg.emaml) == ("dice", "trpo", True)
    with pytest.raises(ConfigError, match="max-kl"):
        resolve_config("point-nav", "maml-trpo", {"max_kl": 0.0})


@pytest.mark.parametrize("env", ["point-nav", "point-corner"])
@pytest.mark.parametrize("algo", sorted(ALGORITHMS))
def test_every_algo_trains_three_iterations(tmp_path, env, algo):
    from promp.trainer import train

    cfg = resolve_config(env, algo, SMALL)
    rows = train(cfg, tmp_path / "run", progress=False)
    assert len(rows) == 3
    for row in rows:
        assert row["update_skipped"] == 0
        for key, value in row.items():
            assert np.isfinite(value), (key, value)
    if env == "point-nav":  # dense reward: every update must move the parameters
        for row in rows:
            assert row["step_norm"] > 1e-6, (algo, row["iteration"], row["step_norm"])
        if cfg.outer != "dice":  # DiCE's loss has the same value at every parameter (test below)
            assert rows[0]["loss_before"] != rows[0]["loss_after"]


def test_dice_loss_value_does_not_depend_on_the_parameters_but_its_gradient_does():
    """Why ``loss_before == loss_after`` says nothing for DiCE-VPG: the MagicBox ``exp(x - stop_grad(x))``
    is 1 in value (DiCE, arXiv 1802.05098, eq. 1), so the DiCE loss evaluates to ``-mean(adjusted_r * mask)``
    at any parameters, while its gradient (the score-function terms) is not zero and moves them."""
    from promp.algorithms.losses import dice_loss

    rng = np.random.default_rng(0)
    feats = jnp.asarray(rng.normal(size=(4, 6, 3)), jnp.float32)  # [paths, time, features]
    adjusted = jnp.asarray(rng.normal(size=(4, 6)), jnp.float32)
    mask = jnp.asarray(np.arange(6) < np.array([[6], [4], [6], [2]]), jnp.float32)
    loss = lambda w: dice_loss(-0.5 * jnp.sum((feats - w) ** 2, -1), adjusted, mask)  # log-probs of a Gaussian
    expected = -float(jnp.mean(adjusted * mask))
    for w in (jnp.zeros(3), jnp.asarray([0.7, -1.2, 3.0])):
        assert float(loss(w)) == pytest.approx(expected, rel=1e-6)
    assert float(jnp.linalg.norm(jax.grad(loss)(jnp.zeros(3)))) > 1e-3


def test_train_help_lists_every_algo(capsys):
    from promp.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["train", "--help"])
    assert exc.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    for algo in ALGORITHMS.values():
        assert f"{algo.id}:" in out
    main(["algos"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines] == list(ALGORITHMS)
