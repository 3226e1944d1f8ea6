"""Tests of the batched MuJoCo meta-envs (docs/algorithms.md §7, §6.2; §9 fact 18)."""

from __future__ import annotations

import gymnasium
import mujoco
import numpy as np
import pytest

from promp import presets
from promp.envs import BUILTIN_ENVS, env_ids, get_env_spec, make_env
from promp.envs.base import rescale_action

pytestmark = pytest.mark.usefixtures("quick_compiles")  # tests/conftest.py

SHAPES = {
    "halfcheetah-fwd-back": (17, 6),
    "halfcheetah-vel": (17, 6),
    "ant-fwd-back": (111, 8),
    "ant-dir-2d": (111, 8),
    "ant-goal": (113, 8),
    "walker-fwd-back": (17, 6),
    "walker-vel": (17, 6),
    "walker-rand-params": (17, 6),
    "hopper-rand-params": (11, 3),
    "humanoid-fwd-back": (376, 17),
    "humanoid-dir-2d": (376, 17),
    "swimmer-vel": (8, 2),
}
DT = {"swimmer": 0.04, "halfcheetah": 0.05, "ant": 0.05, "walker-fwd": 0.016, "walker-vel": 0.016, "walker-rand": 0.016, "hopper": 0.016, "humanoid": 0.015}


def _env(env_id, tasks=None, copies=2, seed=0, nthread=1):
    env = make_env(env_id, nthread=nthread)
    rng = np.random.default_rng(seed)
    env.set_tasks(tasks if tasks is not None else env.sample_tasks(rng, 2), copies)
    return env, rng


@pytest.mark.parametrize("env_id", sorted(SHAPES))
def test_shapes_dt_and_finite_rollout(env_id):
    obs_dim, act_dim = SHAPES[env_id]
    env, rng = _env(env_id, copies=3)
    assert (env.obs_dim, env.act_dim) == (obs_dim, act_dim)
    assert env.dt == pytest.approx(next(v for k, v in DT.items() if env_id.startswith(k)))
    obs = env.reset(rng)
    assert obs.shape == (6, obs_dim)
    for _ in range(5):
        obs, reward, done = env.step(rng.standard_normal((6, act_dim)) * 3)
        assert obs.shape == (6, obs_dim) and reward.shape == (6,) and done.shape == (6,) and done.dtype == bool
        assert np.isfinite(obs).all() and np.isfinite(reward).all()
    env.close()


def _reference_step(env, qpos, qvel, action):
    """Step one copy with a plain MjData (no batch) from (qpos, qvel) with env-unit ``action``."""
    m = env.model
    d = mujoco.MjData(m)
    d.qpos[:], d.qvel[:] = qpos, qvel
    mujoco.mj_forward(m, d)
    before = {"qpos": d.qpos.copy(), "xpos": d.xpos.copy(), "xipos": d.xipos.copy()}
    d.ctrl[:] = action
    mujoco.mj_step(m, d, env.frame_skip)
    return before, d


def _com(m, xipos):
    return (m.body_mass[:, None] * xipos).sum(0)[:2] / m.body_mass.sum()


def _expected_reward(env_id, env, task, before, d, a):
    m, dt = env.model, env.dt
    sq = np.square(a).sum()
    dx = d.qpos[0] - before["qpos"][0]
    if env_id == "halfcheetah-fwd-back":
        return task["direction"] * dx / 0.05 - 0.05 * sq
    if env_id == "halfcheetah-vel":
        return -abs(dx / 0.05 - task["velocity"]) - 0.05 * sq
    if env_id.startswith("ant"):
        dxy = d.xpos[1, :2] - before["xpos"][1, :2]
        contact = 0.5e-3 * np.square(np.clip(d.cfrc_ext, -1, 1)).sum()
        assert np.abs(d.cfrc_ext).sum() > 0  # contact forces are really computed
        if env_id == "ant-fwd-back":
            return task["direction"] * dxy[0] / 0.05 - 0.5 * sq - contact + 1.0
        if env_id == "ant-dir-2d":
            return np.dot(task["direction"], dxy) / 0.05 - 0.5 * sq - contact + 1.0
        return -np.abs(d.xpos[1, :2] - task["goal"]).sum() - 0.1 * sq - contact
    if env_id == "swimmer-vel":  # the original's sign bug fixed: minus the speed error
        return -abs(dx / 0.04 - task["velocity"]) - 1e-4 * sq
    if env_id == "walker-fwd-back":
        return task["direction"] * dx / 0.016 + 1.0 - 1e-3 * sq
    if env_id == "walker-vel":
        return -abs(dx / 0.016 - task["velocity"]) + 15.0 - 1e-3 * sq
    if env_id.endswith("rand-params"):
        return dx / 0.016 + 1.0 - 1e-3 * sq
    dcom = _com(m, d.xipos) - _com(m, before["xipos"])
    impact = min(0.5e-6 * np.square(d.cfrc_ext).sum(), 10.0)
    direction = np.asarray(task["direction"], dtype=float)
    lin = 0.25 * (direction * dcom[0] if direction.ndim == 0 else direction @ dcom) / 0.003
    assert dt == pytest.approx(0.015)
    return lin - 0.1 * sq - impact + 5.0


@pytest.mark.parametrize("env_id", sorted(SHAPES))
def test_reward_matches_hand_computation(env_id):
    env, rng = _env(env_id, copies=1)
    task = env.tasks[0]
    if env_id.endswith("rand-params"):  # the reference MjData uses the default model
        env.set_tasks([env.default_task()], 1)
        task = env.tasks[0]
    env.reset(rng)
    m = env.model
    qpos = m.qpos0.copy()
    qvel = np.zeros(m.nv)
    qpos[1:] += 0.01 * np.arange(1, m.nq)
    qvel[:] = 0.05 * np.arange(m.nv)
    if env_id.startswith("ant"):  # let it land first, so that there are contact forces
        d = mujoco.MjData(m)
        d.qpos[:], d.qvel[:] = qpos, qvel
        mujoco.mj_step(m, d, 150)
        qpos, qvel = d.qpos.copy(), d.qvel.copy()
    policy_action = np.linspace(-2.0, 11.0, env.act_dim)  # the last entry is clipped
    if env_id.startswith("ant"):
        policy_action = np.linspace(-0.5, 0.5, env.act_dim)  # gentle, so the feet stay down
    env.sim.set_state(qpos[None], qvel[None])
    obs, reward, done = env.step(policy_action[None])
    a = rescale_action(policy_action, env.action_low, env.action_high)
    before, d = _reference_step(env, qpos, qvel, a)
    np.testing.assert_allclose(env.sim.qpos[0], d.qpos, rtol=0, atol=1e-12)
    np.testing.assert_allclose(reward[0], _expected_reward(env_id, env, task, before, d, a), rtol=1e-9, atol=1e-9)
    env.close()


def test_halfcheetah_reward_fact_18():
    """docs/algorithms.md §9 fact 18 on a hand-made pair of states: r = dir * (x_after - x_before)/0.05 - 0.05|a|^2."""
    env, rng = _env("halfcheetah-fwd-back", tasks=[{"direction": -1}], copies=1)
    env.reset(rng)
    q = env.model.qpos0.copy()
    env.sim.set_state(q[None], np.zeros((1, 9)))
    _, reward, _ = env.step(np.full((1, 6), 5.0))  # env action 0.5 each
    x_after = env.sim.qpos[0, 0]
    assert reward[0] == pytest.approx(-1.0 * (x_after - 0.0) / 0.05 - 0.05 * 6 * 0.25, abs=1e-12)


def test_observation_contents():
    env, rng = _env("halfcheetah-fwd-back", copies=1)
    obs = env.reset(rng)
    np.testing.assert_array_equal(obs[0], np.concatenate([env.sim.qpos[0, 1:], env.sim.qvel[0]]))
    env, rng = _env("ant-goal", copies=1)
    env.reset(rng)
    for _ in range(15):
        obs, _, _ = env.step(np.zeros((1, 8)))
    assert np.abs(obs[0, 29:]).sum() > 0 and np.abs(obs[0, 29:]).max() <= 1.0  # clipped contact forces
    np.testing.assert_array_equal(obs[0, :15], env.sim.qpos[0])
    env, rng = _env("walker-fwd-back", copies=1)
    env.reset(rng)
    env.sim.set_state(env.model.qpos0[None], np.full((1, 9), 50.0))
    obs, _, _ = env.step(np.zeros((1, 6)))
    assert np.abs(obs[0, 8:]).max() <= 10.0


def test_task_samplers_support():
    rng = np.random.default_rng(3)
    for env_id in ("halfcheetah-fwd-back", "ant-fwd-back", "walker-fwd-back", "humanoid-fwd-back"):
        dirs = [t["direction"] for t in make_env(env_id).sample_tasks(rng, 200)]
        assert set(dirs) == {-1.0, 1.0}
    for env_id in ("ant-dir-2d", "humanoid-dir-2d"):
        d = np.array([t["direction"] for t in make_env(env_id).sample_tasks(rng, 500)])
        np.testing.assert_allclose(np.linalg.norm(d, axis=1), 1.0)
        angles = np.arctan2(d[:, 1], d[:, 0])
        assert np.histogram(angles, bins=4, range=(-np.pi, np.pi))[0].min() > 80  # roughly uniform
    g = np.array([t["goal"] for t in make_env("ant-goal").sample_tasks(rng, 2000)])
    r = np.linalg.norm(g, axis=1)
    assert r.max() <= 3.0 and r.max() > 2.9
    assert abs(np.mean(r < 1.5) - 0.25) < 0.05  # uniform in the disc: P(r < 1.5) = 1/4
    v = np.array([t["velocity"] for t in make_env("halfcheetah-vel").sample_tasks(rng, 500)])
    assert v.min() >= 0 and v.max() <= 3 and v.max() > 2.9
    v = np.array([t["velocity"] for t in make_env("walker-vel").sample_tasks(rng, 500)])
    assert v.min() >= 0 and v.max() <= 10 and v.max() > 9.5
    v = np.array([t["velocity"] for t in make_env("swimmer-vel").sample_tasks(rng, 500)])
    assert v.min() >= 0.1 and v.max() <= 0.2
    env = make_env("hopper-rand-params")
    for task in env.sample_tasks(rng, 5):
        for name, base in env.bases.items():
            init = env.init_params[name]
            val = np.asarray(task[name])
            nz = init > 0
            ratio = val[nz] / init[nz]
            assert ratio.min() >= base**-3 - 1e-12 and ratio.max() <= base**3 + 1e-12
            np.testing.assert_array_equal(val[~nz], 0.0)


def test_task_validation():
    with pytest.raises(ValueError):
        make_env("ant-fwd-back").set_tasks([{"direction": 0.5}], 1)
    with pytest.raises(ValueError):
        make_env("ant-dir-2d").set_tasks([{"direction": [1.0, 1.0]}], 1)
    with pytest.raises(ValueError):
        make_env("hopper-rand-params").set_tasks([{"body_mass": [1.0]}], 1)
    with pytest.raises(ValueError):
        make_env("walker-vel").set_tasks([{"velocity": "fast"}], 1)
    with pytest.raises(RuntimeError):
        make_env("halfcheetah-fwd-back").reset(np.random.default_rng(0))
    env = make_env("halfcheetah-fwd-back")
    env.set_tasks([{"direction": 1}], 1)
    with pytest.raises(RuntimeError):
        env.step(np.zeros((1, 6)))


def _set_and_step(env, qpos, qvel, steps=1, action=0.0):
    env.reset(np.random.default_rng(0))
    n = env.num_copies
    env.sim.set_state(np.repeat(qpos[None], n, 0), np.repeat(qvel[None], n, 0))
    return [env.step(np.full((n, env.act_dim), action)) for _ in range(steps)]


def test_termination_rules():
    # Ant: torso z outside [0, 1] ends the episode; AntGoal never terminates.
    for env_id, expect in (("ant-fwd-back", True), ("ant-goal", False)):
        env, _ = _env(env_id, copies=1)
        q = env.model.qpos0.copy()
        q[2] = 1.5
        assert _set_and_step(env, q, np.zeros(14))[0].done.all() == expect
        q[2] = 0.75
        assert not _set_and_step(env, q, np.zeros(14))[0].done.any()
    # Walker: height outside (0.8, 2) or |angle| >= 1.
    for env_id in ("walker-fwd-back", "walker-vel", "walker-rand-params"):
        env, _ = _env(env_id, copies=1)
        q = env.model.qpos0.copy()
        assert not _set_and_step(env, q, np.zeros(9))[0].done.any()
        q[2] = 1.2
        assert _set_and_step(env, q, np.zeros(9))[0].done.all()
        q = env.model.qpos0.copy()
        q[1] = 2.5  # qpos[1] is the torso height (qpos0[1] = 1.25)
        assert _set_and_step(env, q, np.zeros(9))[0].done.all()
    # Hopper: |angle| < 0.2, height > 0.7, |s[2:]| < 100.
    env, _ = _env("hopper-rand-params", copies=1)
    q = env.model.qpos0.copy()
    assert not _set_and_step(env, q, np.zeros(6))[0].done.any()
    q[2] = 0.3
    assert _set_and_step(env, q, np.zeros(6))[0].done.all()
    q = env.model.qpos0.copy()
    q[1] = 0.6
    assert _set_and_step(env, q, np.zeros(6))[0].done.all()
    # Humanoid: root height outside [1, 2].
    env, _ = _env("humanoid-fwd-back", copies=1)
    q = env.model.qpos0.copy()
    assert not _set_and_step(env, q, np.zeros(23))[0].done.any()
    q[2] = 2.5
    assert _set_and_step(env, q, np.zeros(23))[0].done.all()
    # Cheetah never terminates.
    env, _ = _env("halfcheetah-fwd-back", copies=1)
    q = env.model.qpos0.copy()
    q[2] = 3.0
    assert not _set_and_step(env, q, np.zeros(9))[0].done.any()


def test_done_copies_are_frozen():
    env, _ = _env("walker-fwd-back", tasks=[{"direction": 1}], copies=2)
    env.reset(np.random.default_rng(0))
    q = np.stack([env.model.qpos0, env.model.qpos0])
    q[0, 2] = 1.2  # copy 0 terminates at once, copy 1 keeps walking
    env.sim.set_state(q, np.zeros((2, 9)))
    obs0, _, done = env.step(np.zeros((2, 6)))
    assert done.tolist() == [True, False]
    for _ in range(5):
        obs, reward, done = env.step(np.full((2, 6), 10.0))
        assert done[0] and reward[0] == 0.0
        np.testing.assert_array_equal(obs[0], obs0[0])
    assert not np.array_equal(obs[1], obs0[1])


def _rollout(env_id, seed, nthread, copies=3, steps=20):
    env, rng = _env(env_id, copies=copies, seed=seed, nthread=nthread)
    out = [env.reset(rng)]
    acts = np.random.default_rng(seed + 1).standard_normal((steps, env.num_copies, env.act_dim))
    for a in acts:
        o, r, d = env.step(a)
        out += [o, r, d.astype(float)]
    env.close()
    return out


@pytest.mark.parametrize("env_id", ["halfcheetah-fwd-back", "ant-dir-2d", "hopper-rand-params"])
def test_determinism_across_runs_and_threads(env_id):
    a, b, c = _rollout(env_id, 5, 1), _rollout(env_id, 5, 2), _rollout(env_id, 6, 2)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("env_id", ["hopper-rand-params", "walker-rand-params"])
def test_physics_randomisation_applied_and_restored(env_id):
    env = make_env(env_id, nthread=1)
    m = env.model
    assert m.opt.timestep == pytest.approx(0.004) and env.frame_skip == 4
    default = env.default_task()
    defaults_subtree = m.body_subtreemass.copy()
    task = env.sample_tasks(np.random.default_rng(0), 1)[0]
    env.set_tasks([task, default], 2)
    batch = env.sim.batch
    for name in env.rand_params:
        vals = batch.expanded(name)
        np.testing.assert_array_equal(vals[0], np.asarray(task[name]))
        np.testing.assert_array_equal(vals[1], np.asarray(task[name]))
        np.testing.assert_array_equal(vals[2], getattr(m, name))
        assert not np.array_equal(vals[0], vals[2])
    sub = batch.expanded("body_subtreemass")
    np.testing.assert_allclose(sub[0][0], np.sum(task["body_mass"]))
    np.testing.assert_allclose(sub[2], defaults_subtree)
    # Same initial state, same action: the randomised copies move differently.
    res = _set_and_step(env, m.qpos0.copy(), np.zeros(m.nv), steps=3, action=5.0)[-1]
    assert not np.allclose(res.obs[0], res.obs[2])
    np.testing.assert_array_equal(res.obs[0], res.obs[1])
    # Restoring the defaults on the same batch gives exactly the default model's trajectory.
    env.set_tasks([default, default], 2)
    for name in env.rand_params:
        np.testing.assert_array_equal(batch.expanded(name), np.repeat(getattr(m, name)[None], 4, 0))
    np.testing.assert_array_equal(batch.expanded("dof_invweight0")[0], m.dof_invweight0)
    restored = _set_and_step(env, m.qpos0.copy(), np.zeros(m.nv), steps=3, action=5.0)[-1].obs
    fresh = make_env(env_id, nthread=1)
    fresh.set_tasks([default], 1)
    res = _set_and_step(fresh, m.qpos0.copy(), np.zeros(m.nv), steps=3, action=5.0)[-1].obs
    np.testing.assert_array_equal(restored[0], res[0])


def test_set_tasks_reuses_batch_and_resizes():
    env, _ = _env("halfcheetah-fwd-back", copies=2)
    sim = env.sim
    env.set_tasks([{"direction": 1.0}] * 2, 2)
    assert env.sim is sim
    env.set_tasks([{"direction": 1.0}] * 3, 2)
    assert env.sim is not sim and env.sim.nsim == 6


@pytest.mark.parametrize("env_id", ["halfcheetah-fwd-back", "ant-goal", "hopper-rand-params"])
def test_gymnasium_make(env_id):
    env = gymnasium.make(f"promp/{env_id}-v0")
    obs, info = env.reset(seed=0)
    assert obs.shape == (SHAPES[env_id][0],) and "task" in info
    obs2, reward, terminated, truncated, _ = env.step(env.action_space.sample())
    assert obs2.shape == obs.shape and np.isfinite(reward)
    env.close()


def test_one_table_of_env_ids_names_each_class_after_its_id():
    mujoco_ids = {i for i, (target, _) in BUILTIN_ENVS.items() if target.startswith("promp.envs.locomotion.")}
    assert mujoco_ids == set(SHAPES)
    assert set(BUILTIN_ENVS) <= set(presets.ENV_PRESETS) <= set(env_ids())  # a row for every id, none for an unknown one
    for env_id, (target, _) in BUILTIN_ENVS.items():
        words = env_id.replace("halfcheetah", "half-cheetah").split("-")
        assert target.split(":")[1] == "".join(w.upper() if w == "2d" else w.capitalize() for w in words), env_id
        if target.startswith("promp.envs.metaworld.") and not _metaworld_assets():
            continue  # Meta-World's assets are an optional install (promp/envs/metaworld/assets.py)
        assert type(make_env(env_id)).__name__ == target.split(":")[1]


def _metaworld_assets() -> bool:
    from promp.envs.metaworld.assets import asset_dir

    try:
        asset_dir()
    except FileNotFoundError:
        return False
    return True


def test_locomotion_presets_match_the_per_env_table():
    assert get_env_spec("halfcheetah-fwd-back").defaults == {}
    assert get_env_spec("ant-goal").defaults == {"horizon": 200, "inner_steps": 2}
    for env_id in ("walker-rand-params", "hopper-rand-params"):
        spec = get_env_spec(env_id)
        assert spec.defaults == {"horizon": 200, "inner_lr": 0.05}
        assert spec.algo_defaults["promp"] == {"outer_steps": 3, "adaptive_kl": True, "kl_coef": 1e-3, "kl_target": 1e-2}
    assert get_env_spec("humanoid-dir-2d").defaults["hidden"] == (128, 128)
    assert get_env_spec("walker-fwd-back").defaults == {"horizon": 200}
    assert get_env_spec("humanoid-dir-2d").algo_defaults["dice"] == {"horizon": 100, "hidden": (64, 64)}


@pytest.mark.slow
def test_promp_three_iterations_on_halfcheetah(tmp_path):
    """A 3-iteration ProMP run at small scale on halfcheetah-fwd-back."""
    from promp.config import resolve_config
    from promp.trainer import train

    overrides = {"iterations": 3, "meta_batch_size": 2, "rollouts_per_task": 2, "horizon": 10, "hidden": (16, 16)}
    cfg = resolve_config("halfcheetah-fwd-back", "promp", overrides)
    rows = train(cfg, tmp_path / "run", progress=False)
    assert len(rows) == 3
    assert all(np.isfinite(float(r["return_pre"])) and np.isfinite(float(r["return_post"])) for r in rows)
    assert (tmp_path / "run" / "progress.csv").exists()
