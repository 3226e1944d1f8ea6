"""Point meta-environments, action rescaling and the gymnasium registration (docs/algorithms.md §7.1, §7.2; §9 fact 17)."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

from promp.envs import PointCorner, PointMomentum, PointNav, make_env, rescale_action
from promp.sampling import broadcast_params, sample_trajectories
from promp.policy import init_policy

import jax


def test_action_rescaling():  # §9 fact 17
    lo, hi = np.array([-0.2, -1.0]), np.array([0.2, 3.0])
    np.testing.assert_allclose(rescale_action(np.array([10.0, 10.0]), lo, hi), hi)
    np.testing.assert_allclose(rescale_action(np.array([-10.0, -10.0]), lo, hi), lo)
    np.testing.assert_allclose(rescale_action(np.array([0.0, 0.0]), lo, hi), [0.0, 1.0])
    np.testing.assert_allclose(rescale_action(np.array([25.0, -99.0]), lo, hi), [0.2, -1.0])
    np.testing.assert_allclose(rescale_action(np.array([5.0, 0.0]), np.array([-0.1]), np.array([0.1])), [0.05, 0.0])


@pytest.mark.parametrize("cls", [PointCorner, PointMomentum])
def test_corner_task_support(cls):
    tasks = cls().sample_tasks(np.random.default_rng(0), 400)
    goals = {tuple(t["goal"]) for t in tasks}
    assert goals == {(-2.0, -2.0), (2.0, -2.0), (-2.0, 2.0), (2.0, 2.0)}


def test_nav_task_support():
    goals = np.array([t["goal"] for t in PointNav().sample_tasks(np.random.default_rng(0), 500)])
    assert goals.min() >= -0.5 and goals.max() <= 0.5 and goals.std() > 0.25


def test_point_corner_reward():
    env = PointCorner()
    env.set_tasks([{"goal": [2, 2]}, {"goal": [-2, 2]}], 1)
    env.reset(np.random.default_rng(0))
    env.pos = np.array([[0.3, 0.3], [0.3, 0.3]])
    obs, r, done = env.step(np.array([[10.0, 5.0], [10.0, 5.0]]))  # +0.2, +0.1 in env units
    np.testing.assert_allclose(obs, [[0.5, 0.4], [0.5, 0.4]])
    # |x|_1 = 0.9 >= 0.5; task 0's goal (2,2) is the closest corner -> progress; task 1's is not -> 0
    progress = np.linalg.norm([1.7, 1.7]) - np.linalg.norm([1.5, 1.6])
    np.testing.assert_allclose(r, [progress, 0.0])
    assert not done.any()
    env.pos = np.zeros((2, 2))
    _, r, _ = env.step(np.array([[5.0, 5.0], [5.0, 5.0]]))  # inside the L1 ball of radius 0.5
    np.testing.assert_array_equal(r, 0.0)


def test_point_momentum_dynamics_and_reward():
    env = PointMomentum()
    env.set_tasks([{"goal": [2, 2]}], 1)
    env.reset(np.random.default_rng(0))
    env.pos, env.vel = np.array([[1.0, 1.0]]), np.array([[0.05, 0.0]])
    obs, r, _ = env.step(np.array([[10.0, -5.0]]))  # dv = (0.1, -0.05)
    np.testing.assert_allclose(obs, [[1.15, 0.95, 0.15, -0.05]])
    np.testing.assert_allclose(r, [2 - np.linalg.norm([0.85, 1.05])])
    env.pos, env.vel = np.array([[-2.0, -2.0]]), np.zeros((1, 2))
    _, r, _ = env.step(np.zeros((1, 2)))
    assert r[0] == 0.0  # farther than 2 from the goal


def test_point_nav_reward_and_termination():
    env = PointNav()
    env.set_tasks([{"goal": [0.1, 0.0]}, {"goal": [0.5, 0.5]}], 1)
    obs = env.reset(np.random.default_rng(0))
    np.testing.assert_array_equal(obs, 0.0)
    obs, r, done = env.step(np.array([[10.0, 0.0], [10.0, 0.0]]))
    np.testing.assert_allclose(r, [-0.0, -np.linalg.norm([0.4, 0.5])], atol=1e-12)
    np.testing.assert_array_equal(done, [True, False])


def test_bad_tasks_are_rejected():
    with pytest.raises(ValueError, match="corner"):
        PointCorner().set_tasks([{"goal": [1, 1]}], 1)
    with pytest.raises(ValueError, match="goal"):
        PointNav().set_tasks([{"goal": [1]}], 1)


def test_sampler_masks_after_done_and_is_deterministic():
    env = make_env("point-nav")
    env.set_tasks([{"goal": [0.0, 0.0]}, {"goal": [0.5, 0.5]}], 3)  # goal at the start: done at once
    # a tiny std: the first step stays within the goal tolerance whatever the noise draws
    params = broadcast_params(init_policy(jax.random.PRNGKey(0), 2, 2, (8,), init_std=0.01), 2)
    a = sample_trajectories(env, params, 20, np.random.default_rng(7))
    b = sample_trajectories(env, params, 20, np.random.default_rng(7))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert a.obs.shape == (2, 3, 20, 2) and a.actions.shape == (2, 3, 20, 2)
    assert a.mask[0].sum() == 3  # one step each, then masked
    assert np.all(a.rewards[0][a.mask[0] == 0] == 0)
    assert a.mask[1].sum() == 3 * 20
    assert a.env_steps == 3 + 60
    np.testing.assert_allclose(a.log_stds, np.log(0.01), rtol=1e-6)


def test_gymnasium_make_single_copy():
    env = gymnasium.make("promp/point-momentum-v0")
    obs, info = env.reset(seed=3, options={"task": {"goal": [2.0, -2.0]}})
    assert obs.shape == (4,) and info["task"] == {"goal": [2.0, -2.0]}
    obs, r, term, trunc, _ = env.step(env.action_space.sample())
    assert obs.shape == (4,) and isinstance(r, float) and not term and not trunc
    assert env.unwrapped.get_task() == {"goal": [2.0, -2.0]}
    assert len(env.unwrapped.sample_tasks(5)) == 5
    e1, e2 = gymnasium.make("promp/point-corner-v0"), gymnasium.make("promp/point-corner-v0")
    np.testing.assert_array_equal(e1.reset(seed=11)[0], e2.reset(seed=11)[0])


def test_gymnasium_env_checker_passes():
    from gymnasium.utils.env_checker import check_env

    for env_id in ["point-corner", "point-momentum", "point-nav"]:
        check_env(gymnasium.make(f"promp/{env_id}-v0").unwrapped, skip_render_check=True)
