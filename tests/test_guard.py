"""The outer-update KL guard (--guard-kl), the best-policy checkpoint and the divergence flag.

The guard must leave every number unchanged where it does not fire, stop and undo the step that
crosses the bound where it does, and keep a run alive through a forced spike (an absurd outer
learning rate) that makes the unguarded run's KL explode.
"""

from __future__ import annotations

import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from rich.console import Console

from promp.algorithms import make_outer_update
from promp.algorithms.guard import guarded_adam_steps
from promp.algorithms.losses import task_clipped, task_log_likelihood
from promp.algorithms.meta_objective import meta_objective
from promp.algorithms.promp import make_promp_update, promp_loss
from promp.checkpoint import list_checkpoints
from promp.cli import main
from promp.config import ConfigError, resolve_config
from promp.learner import MetaLearner
from promp.monitor import ReturnMonitor
from promp.rundir import RunDir, read_progress
from promp.trainer import train

pytestmark = pytest.mark.usefixtures("quick_compiles")  # tests/conftest.py

TINY = dict(meta_batch_size=4, rollouts_per_task=3, horizon=15, hidden=(16, 16), seed=1)
TIME_COLUMNS = {"time_sampling", "time_processing", "time_adapt", "time_update", "time_iteration"}


def quiet():
    return Console(file=open("/dev/null", "w"))


@pytest.fixture(scope="module")
def sampled():
    """One meta-batch of point-nav pre- and post-update data with the initial policy."""
    cfg = resolve_config("point-nav", "promp", dict(TINY, hidden=(8, 8)))
    learner = MetaLearner(cfg)
    state = learner.init_state()
    res = learner.sample_adapted(state.params, learner.env.sample_tasks(state.rng, cfg.meta_batch_size), state.rng)
    return cfg, state, tuple(res.batches)


def tree_equal(a, b):
    return all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)))


def test_guard_that_does_not_fire_is_bit_identical_to_no_guard(sampled):
    cfg, state, batches = sampled
    results = []
    for bound in (0.5, 0.0):
        outer = make_promp_update(dataclasses.replace(cfg, guard_kl=bound, guard_kl_post=4 * bound))
        results.append(outer.update(state.params, outer.init(state.params), batches))
    (p1, s1, st1), (p0, s0, st0) = results
    assert tree_equal(p1, p0) and tree_equal(s1, s0)
    assert st1.keys() == st0.keys() >= {"adam_steps", "guard_fired", "clip_fraction", "kl_post", "kl_pre", "loss_after"}
    for k in st0:
        np.testing.assert_array_equal(np.asarray(st1[k]), np.asarray(st0[k]))
    assert int(st1["adam_steps"]) == cfg.outer_steps and int(st1["guard_fired"]) == 0
    assert 0.0 <= float(st1["clip_fraction"]) <= 1.0 and float(st1["kl_post"]) > 0.0


def test_guarded_steps_stop_before_the_step_that_crosses_the_bound(sampled):
    cfg, state, batches = sampled
    kl_coef = jnp.full(1, cfg.kl_coef, jnp.float32)
    opt = optax.adam(0.01)
    objective = meta_objective(cfg, task_clipped(cfg.clip_eps))

    def loss_fn(p):
        return promp_loss(objective, p, batches, kl_coef)

    # KL after j unguarded steps, j = 1, 2
    p, s, kls, snapshots = state.params, opt.init(state.params), [], []
    for _ in range(2):
        grads = jax.grad(lambda q: loss_fn(q)[0])(p)
        updates, s = opt.update(grads, s, p)
        p = optax.apply_updates(p, updates)
        kls.append(float(loss_fn(p)[1]["kl_pre"][0]))
        snapshots.append(p)
    assert kls[0] < kls[1]
    bound = 0.5 * (kls[0] + kls[1])  # the second step crosses it
    p_g, s_g, info = jax.jit(lambda q, t: guarded_adam_steps(loss_fn, opt, q, t, 5, {"kl_pre": bound}))(state.params, opt.init(state.params))
    assert int(info["steps"]) == 1 and bool(info["fired"])
    assert int(s_g[0].count) == 1  # the Adam state of the undone step is discarded too
    for k in p_g:
        np.testing.assert_allclose(p_g[k], snapshots[0][k], rtol=1e-5, atol=1e-7)
    assert float(info["aux"]["kl_pre"][0]) <= bound
    np.testing.assert_allclose(float(info["loss"]), float(loss_fn(snapshots[0])[0]), rtol=1e-4, atol=1e-7)


def test_forced_spike_guarded_run_survives_unguarded_run_blows_up(tmp_path):
    base = dict(TINY, iterations=6, outer_lr=1.0)  # an absurd learning rate forces a KL spike every iteration
    rows = {}
    for name, bound in (("guarded", 0.5), ("unguarded", 0.0)):
        cfg = resolve_config("point-nav", "promp", dict(base, guard_kl=bound))
        rows[name] = train(cfg, tmp_path / name, console=quiet(), progress=False)
    g, u = rows["guarded"], rows["unguarded"]
    assert max(r["kl_pre"] for r in u) > 5.0  # the spike the guard is for (10x its bound)
    assert max(r["kl_pre"] for r in g) <= 0.5
    assert all(r["guard_fired"] == 1 and r["adam_steps"] < 5 for r in g)
    assert all(r["guard_fired"] == 0 and r["adam_steps"] == 5 for r in u)
    # the unguarded policy collapses; the guarded one keeps its returns (no update is allowed to jump)
    ret_g = np.mean([r["return_post"] for r in g[1:]])
    ret_u = np.mean([r["return_post"] for r in u[1:]])
    assert ret_g > ret_u + 3.0
    ckpt = json.loads((tmp_path / "guarded" / "checkpoints" / "itr_00005.json").read_text())
    assert ckpt["monitor"]["smoothed"] == pytest.approx(g[-1]["return_smoothed"])


def first_adam_step_fractions(loss_fn, params, lr, kl_of):
    """Reference for the shortened step: the first Adam update ``u`` of ``loss_fn`` (optax, from a fresh
    state, by ``jax.grad``) and ``kl_of(params + 2^-j u)`` for ``j = 0..10``."""
    opt = optax.adam(lr)
    u, _ = opt.update(jax.grad(lambda q: loss_fn(q)[0])(params), opt.init(params), params)
    at = lambda j: jax.tree_util.tree_map(lambda p, d: p + 0.5 ** j * d, params, u)  # noqa: E731
    return at, [kl_of(at(j)) for j in range(11)]


def test_vpg_guard_shortens_a_step_beyond_the_bound_to_the_largest_halving_within_it(sampled):
    cfg, state, batches = sampled
    bound = 0.5
    vcfg = resolve_config("point-nav", "lvc-vpg", dict(TINY, hidden=(8, 8), outer_lr=1.0, guard_kl=bound))
    objective = meta_objective(vcfg, task_log_likelihood)  # the VPG outer update's surrogate (docs/algorithms.md §5.3)
    at, kls = first_adam_step_fractions(lambda q: objective(q, batches), state.params, 1.0,
                                        lambda q: float(objective(q, batches)[1]["kl_pre"][0]))
    assert kls[0] > bound  # the full step crosses the bound (before the fix: rejected, the run never moved)
    j = next(j for j in range(1, 11) if kls[j] <= bound)  # the first halving within it
    outer = make_outer_update(vcfg)
    s0 = outer.init(state.params)
    p, s, stats = outer.update(state.params, s0, batches)
    assert int(stats["guard_fired"]) == 1 and int(stats["adam_steps"]) == 1
    assert float(stats["guard_step_scale"]) == 0.5 ** j
    for k in p:
        np.testing.assert_allclose(p[k], at(j)[k], rtol=1e-5, atol=1e-6)
    assert int(s[0].count) == 1  # the Adam moments of the step taken
    assert float(stats["kl_pre"][0]) <= bound
    np.testing.assert_allclose(float(stats["kl_pre"][0]), kls[j], rtol=1e-4)
    # a step so long that even 2^-10 of it crosses the bound is rejected: parameters and Adam state unchanged
    huge = make_outer_update(dataclasses.replace(vcfg, outer_lr=1e6))
    p, s, stats = huge.update(state.params, s0, batches)
    assert int(stats["adam_steps"]) == 0 and float(stats["guard_step_scale"]) == 0.0
    assert tree_equal(p, state.params) and tree_equal(s, s0)
    # a step within the bound is the plain Adam step
    small = make_outer_update(dataclasses.replace(vcfg, outer_lr=1e-3))
    p, s, stats = small.update(state.params, s0, batches)
    assert int(stats["guard_fired"]) == 0 and float(stats["guard_step_scale"]) == 1.0
    assert not tree_equal(p, state.params) and float(stats["kl_pre"][0]) < bound


def test_promp_guard_shortens_a_first_step_that_crosses_the_post_update_bound(sampled):
    """Humanoid's livelock on point-nav: a post-update KL bound that one full Adam step crosses. The guard
    used to keep no step and reset Adam, so every iteration repeated it; it now keeps the largest 2^-j of
    that first step within the bound, and stops there."""
    cfg, state, batches = sampled
    lr = 0.05
    objective = meta_objective(cfg, task_clipped(cfg.clip_eps))
    kl_coef = jnp.full(1, cfg.kl_coef, jnp.float32)
    at, kls = first_adam_step_fractions(lambda q: promp_loss(objective, q, batches, kl_coef), state.params, lr,
                                        lambda q: float(objective(q, batches)[1]["kl_post"]))
    bound = 0.5 * (kls[1] + kls[2])  # the full step and its half cross it, its quarter does not
    assert kls[0] > kls[1] > bound > kls[2]
    outer = make_promp_update(dataclasses.replace(cfg, outer_lr=lr, guard_kl=100.0, guard_kl_post=bound))
    p, s, stats = outer.update(state.params, outer.init(state.params), batches)
    assert int(stats["guard_fired"]) == 1 and int(stats["adam_steps"]) == 1
    assert float(stats["guard_step_scale"]) == 0.25
    for k in p:
        np.testing.assert_allclose(p[k], at(2)[k], rtol=1e-5, atol=1e-6)
    assert int(s.optimizer[0].count) == 1
    np.testing.assert_allclose(float(stats["kl_post"]), kls[2], rtol=1e-4)


def test_guard_flag_is_validated_and_can_be_turned_off():
    assert resolve_config("point-nav", "promp").guard_kl == 0.5
    assert resolve_config("point-nav", "promp", {"guard_kl": 0}).guard_kl == 0.0
    with pytest.raises(ConfigError, match="--guard-kl must be >= 0"):
        resolve_config("point-nav", "promp", {"guard_kl": -1.0})


def test_divergence_flag_needs_a_fall_from_the_best_and_an_exploding_kl():
    m = ReturnMonitor()
    for i, r in enumerate([0.0, 10.0, 20.0, 30.0, 30.0, 30.0]):
        assert m.update({"iteration": i, "return_post": r, "kl_pre": 0.005}, 0.5)["diverged"] == 0
    best = m.best
    assert m.best_checkpoint == 4 and best > m.start
    assert m.update({"iteration": 6, "return_post": 0.0, "kl_pre": 0.01}, 0.5)["diverged"] == 0  # a dip, KL normal
    assert m.update({"iteration": 7, "return_post": 0.0, "kl_pre": 3.0}, 0.5)["diverged"] == 1
    assert m.update({"iteration": 8, "return_post": 0.0, "kl_pre": 0.1, "guard_fired": 1}, 0.5)["diverged"] == 1
    assert m.update({"iteration": 9, "return_post": best, "kl_pre": 3.0}, 0.5)["diverged"] == 0  # no fall
    assert m.best == best and m.best_checkpoint == 4  # falls do not move the best


def test_best_checkpoint_survives_pruning_and_eval_loads_it(tmp_path, capsys):
    run = tmp_path / "run"
    cfg = resolve_config("point-nav", "promp", dict(TINY, iterations=6, outer_lr=1.0, guard_kl=0.0))  # returns fall after 0
    rows = train(cfg, run, console=quiet(), progress=False)
    ckpts = run / "checkpoints"
    smoothed = [r["return_smoothed"] for r in rows]
    best_row = 1 + int(np.argmax(smoothed[1:]))
    assert RunDir(run).best_checkpoint() == best_row - 1 < 4  # an old checkpoint ...
    assert list_checkpoints(ckpts) == sorted({best_row - 1, 4, 5})  # ... kept from pruning
    main(["eval", str(run), "--checkpoint", "best", "--tasks", "2", "--out", str(tmp_path / "ev")])
    assert f"checkpoint {best_row - 1}:" in capsys.readouterr().out
    record = json.loads((tmp_path / "ev" / "eval.json").read_text())
    assert record["checkpoint_iteration"] == best_row - 1
    with pytest.raises(SystemExit) as exc:
        main(["eval", str(run), "--checkpoint", "nope"])
    assert exc.value.code == 2 and "'best' or 'latest'" in capsys.readouterr().err


def test_resume_keeps_the_monitor_and_best_pointer_exact(tmp_path):
    cfg = resolve_config("point-nav", "promp", dict(TINY, iterations=6, outer_lr=0.05, keep_checkpoint_every=100))
    full = train(cfg, tmp_path / "full", console=quiet(), progress=False)
    train(dataclasses.replace(cfg, iterations=3), tmp_path / "part", console=quiet(), progress=False)
    part = train(cfg, tmp_path / "part", resume=True, console=quiet(), progress=False)
    assert len(part) == 6
    for a, b in zip(full, part):
        assert {k: v for k, v in a.items() if k not in TIME_COLUMNS} == {k: v for k, v in b.items() if k not in TIME_COLUMNS}
    assert (tmp_path / "full/checkpoints/best.json").read_text() == (tmp_path / "part/checkpoints/best.json").read_text()
    assert read_progress(tmp_path / "part" / "progress.csv")[-1]["return_smoothed"] == full[-1]["return_smoothed"]


def test_post_update_kl_bound_stops_the_steps(sampled):
    cfg, state, batches = sampled
    free = make_promp_update(dataclasses.replace(cfg, guard_kl=0.0))
    kl_post_free = float(free.update(state.params, free.init(state.params), batches)[2]["kl_post"])
    bound = 0.3 * kl_post_free
    outer = make_promp_update(dataclasses.replace(cfg, guard_kl=100.0, guard_kl_post=bound))  # kl_pre bound never reached
    p, s, stats = outer.update(state.params, outer.init(state.params), batches)
    assert int(stats["guard_fired"]) == 1 and int(stats["adam_steps"]) < cfg.outer_steps
    assert int(s.optimizer[0].count) == int(stats["adam_steps"])
    assert float(stats["kl_post"]) <= bound


def test_stall_counter_warns_after_five_rejected_iterations_then_every_25():
    m = ReturnMonitor()
    due = []
    for i in range(40):
        steps = 5 if i == 10 else 0  # one normal update resets the count
        m.update({"iteration": i, "return_post": 1.0, "kl_pre": 0.01, "adam_steps": steps, "guard_fired": int(steps == 0)}, 0.5)
        due.append(m.stall_warning_due())
    assert [i for i, d in enumerate(due) if d] == [4, 15]  # stalled == 5 twice; the next at stalled == 30
    assert m.stalled == 29
    for i in range(40, 41):
        m.update({"iteration": i, "return_post": 1.0, "kl_pre": 0.01, "adam_steps": 0, "guard_fired": 1}, 0.5)
    assert m.stalled == 30 and m.stall_warning_due()
    assert ReturnMonitor.from_meta(m.to_meta()).stalled == 30  # kept in the checkpoint's JSON


def test_a_stalled_run_warns_on_the_console(tmp_path):
    """An absurd learning rate makes the guard reject every step: the run keeps its policy and says so."""
    import io

    cfg = resolve_config("point-nav", "promp", dict(TINY, iterations=6, outer_lr=1e3))
    buf = io.StringIO()
    rows = train(cfg, tmp_path / "stall", console=Console(file=buf, width=200), progress=False)
    assert all(r["adam_steps"] == 0 for r in rows)
    assert "the KL guard has rejected every outer step for 5 iterations" in buf.getvalue()
