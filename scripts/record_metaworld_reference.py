"""Record Meta-World reference trajectories for tests/test_metaworld.py (tests/data/metaworld/<family>.npz).

Runs in a scratch venv holding the reference implementation, metaworld 3.1.1 with the mujoco 3.3.0 it
pins (promp's own venv has mujoco 4, under which metaworld's constructor fails):

    python3 -m venv /tmp/mwref
    /tmp/mwref/bin/pip install metaworld==3.1.1 packaging
    /tmp/mwref/bin/python scripts/record_metaworld_reference.py            # all families
    /tmp/mwref/bin/python scripts/record_metaworld_reference.py reach      # one
    /tmp/mwref/bin/python scripts/record_metaworld_reference.py --goals ml10   # ML10's goal sets

For each family (``reach`` -> ``reach-v3``) the file holds:

- ``train_rand_vecs``, ``test_rand_vecs``: the 50 + 50 goal vectors of ``metaworld.ML1(name, seed=BENCH_SEED)``
  (the benchmark's train/test split), so that promp's numpy task generation can be checked against them;
- ``EPISODES`` episodes, each with its task (``ep_rand_vec``), its actions (``ep_action``, env units in
  [-1, 1]^4: one of seeded uniform random actions, the others metaworld's scripted policy for the family
  plus seeded Gaussian noise, so that success and grasp branches of the rewards are reached), and what the
  reference returned: observations ``ep_obs`` (reset observation first), rewards, the ``info`` fields, and
  the state after reset and after every step (``qpos``, ``qvel``, ``mocap_pos``, ``mocap_quat``,
  ``qacc_warmstart``), plus the per-episode reset constants (``init_tcp``, ``obj_init_pos``, ``target_pos``)
  and the model's ``body_pos`` and ``site_pos`` after the reset (``reset_model`` moves some families'
  bodies, e.g. a door, to the task's position), and the state before the hand reset's last substep
  (``pre_reset_qpos``, ...; ``hand_reset_pre_state``), whose kinematics are the reset observation of a
  family whose ``reset_model`` runs no forward pass after the hand reset (e.g. drawer-open).

``--goals ml10`` writes ``ml10_goals.npz`` instead: every ML10 family's 50 goal vectors, train and test
families, of ``metaworld.ML10(seed=BENCH_SEED)`` (``train/<family>``, ``test/<family>``).

Before writing, the script replays every episode with bare MuJoCo by the step rule promp's Sawyer env
implements (``check_step_rule``) and stops unless that reproduces metaworld's states bit for bit: under
the same MuJoCo the rule is metaworld's, so what differs in promp's replay under MuJoCo 4 is the engine.

Nothing of promp is imported: this script only drives the reference implementation.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "tests" / "data" / "metaworld"
BENCH_SEED = 0
EPISODES = 3
# steps per episode; 150 for families not named. pick-out-of-hole: no episode succeeds within 150 steps; over 300 the
# scripted ones first succeed at steps 195 and 94
STEPS = {"reach": 60, "pick-out-of-hole": 300}
DEFAULT_STEPS = 150
CONSTANTS: dict[str, dict[str, str]] = {
    "lever-pull": {"lever_pos_init": "_lever_pos_init"},
    "button-press-topdown": {"obj_to_target_init": "_obj_to_target_init"},
    "peg-insert-side": {"peg_head_pos_init": "peg_head_pos_init"},
    "window-open": {"handle_init_pos": "window_handle_pos_init"},
    "button-press-topdown-wall": {"obj_to_target_init": "_obj_to_target_init"},
    "button-press": {"obj_to_target_init": "_obj_to_target_init"},
    "button-press-wall": {"obj_to_target_init": "_obj_to_target_init"},
    "dial-turn": {"dial_push_position": "dial_push_position"},
    "window-close": {"handle_init_pos": "window_handle_pos_init"},
    "handle-press": {"handle_init_pos": "_handle_init_pos"},
    "handle-press-side": {"handle_init_pos": "_handle_init_pos"},
    "stick-push": {"stick_init_pos": "stick_init_pos"},
    "stick-pull": {"stick_init_pos": "stick_init_pos"},
}
"""Per family, further episode constants its reward reads: promp's name -> metaworld's attribute after the
reset (saved as ``const_<promp name>``, one row per episode; tests/test_metaworld.py hands them to
``restore``)."""
RESET_SUBSTEPS = {"door-lock": 5, "box-close": 5}
"""Per family, the substeps its ``reset_model`` runs after the hand reset (door-lock's and box-close's ``mj_step``
x frame_skip, holding the hand reset's mocap and controls); ``hand_reset_pre_state`` runs them too."""
FIRST_STEP_CONSTANTS: dict[str, dict[str, str]] = {
    "bin-picking": {"target_to_obj_init": "_target_to_obj_init"},
}
"""As ``CONSTANTS``, for the constants metaworld sets in the episode's first reward computation (read after
the first step)."""
ACTION_SEED = 1234
NOISE = 0.2  # standard deviation of the noise added to the scripted policy's actions
INFO_KEYS = ("success", "near_object", "grasp_success", "grasp_reward", "in_place_reward", "obj_to_target",
             "unscaled_reward")


def state(env) -> dict[str, np.ndarray]:
    return state_of(env.unwrapped.data)


def state_of(d) -> dict[str, np.ndarray]:
    return {"qpos": d.qpos.copy(), "qvel": d.qvel.copy(), "mocap_pos": d.mocap_pos.copy(),
            "mocap_quat": d.mocap_quat.copy(), "qacc_warmstart": d.qacc_warmstart.copy()}


def record_family(family: str) -> dict[str, np.ndarray]:
    import metaworld
    import mujoco
    from metaworld.policies import ENV_POLICY_MAP

    name = f"{family}-v3"
    bench = metaworld.ML1(name, seed=BENCH_SEED)
    env = bench.train_classes[name]()
    policy = ENV_POLICY_MAP[name]()
    rng = np.random.default_rng(ACTION_SEED)
    # two train tasks and one test task
    tasks = [bench.train_tasks[0], bench.train_tasks[7], bench.test_tasks[3]]
    steps = STEPS.get(family, DEFAULT_STEPS)
    out: dict[str, list] = {k: [] for k in ("ep_rand_vec", "ep_action", "ep_obs", "ep_reward", "init_tcp", "obj_init_pos",
                                            "target_pos", "body_pos", "site_pos", "qpos", "qvel", "mocap_pos",
                                            "mocap_quat", "qacc_warmstart", *(f"info_{k}" for k in INFO_KEYS))}
    for ep, task in enumerate(tasks[:EPISODES]):
        env.set_task(task)
        obs, _ = env.reset()
        out["ep_rand_vec"].append(pickle.loads(task.data)["rand_vec"])
        out["init_tcp"].append(np.array(env.init_tcp, dtype=np.float64))
        out["obj_init_pos"].append(np.array(env.obj_init_pos, dtype=np.float64))
        out["target_pos"].append(np.array(env._target_pos, dtype=np.float64))
        out["body_pos"].append(env.unwrapped.model.body_pos.copy())
        for const, attr in CONSTANTS.get(family, {}).items():
            out.setdefault(f"const_{const}", []).append(np.atleast_1d(np.array(getattr(env.unwrapped, attr), dtype=np.float64)))
        out["site_pos"].append(env.unwrapped.model.site_pos.copy())
        for k, v in hand_reset_pre_state(env, obs, RESET_SUBSTEPS.get(family, 0)).items():
            out.setdefault(f"pre_reset_{k}", []).append(v)
        obs_list, actions, rewards = [obs.copy()], [], []
        infos = {k: [] for k in INFO_KEYS}
        states = {k: [v] for k, v in state(env).items()}
        for _ in range(steps):
            if ep == 0:
                action = rng.uniform(-1.0, 1.0, size=4)
            else:
                seen = obs.copy()
                seen[-3:] = env._target_pos  # the scripted policy reads the goal, which ML hides
                action = np.clip(policy.get_action(seen) + NOISE * rng.standard_normal(4), -1.0, 1.0)
            action = np.asarray(action, dtype=np.float64)
            obs, reward, _, _, info = env.step(action)
            if len(actions) == 0:
                for const, attr in FIRST_STEP_CONSTANTS.get(family, {}).items():
                    value = np.atleast_1d(np.array(getattr(env.unwrapped, attr), dtype=np.float64))
                    out.setdefault(f"const_{const}", []).append(value)
            actions.append(action)
            obs_list.append(obs.copy())
            rewards.append(float(reward))
            for k in INFO_KEYS:
                infos[k].append(float(info[k]))
            for k, v in state(env).items():
                states[k].append(v)
        out["ep_action"].append(np.array(actions))
        out["ep_obs"].append(np.array(obs_list))
        out["ep_reward"].append(np.array(rewards))
        for k in INFO_KEYS:
            out[f"info_{k}"].append(np.array(infos[k]))
        for k, v in states.items():
            out[k].append(np.array(v))
        print(f"{name} episode {ep}: return {sum(rewards):.3f}, successes {int(sum(infos['success']))}/{steps}")
    arrays = {k: np.array(v) for k, v in out.items()}
    arrays["mocap_low"], arrays["mocap_high"] = np.array(env.mocap_low), np.array(env.mocap_high)
    check_step_rule(env.model, arrays)
    arrays["train_rand_vecs"] = np.array([pickle.loads(t.data)["rand_vec"] for t in bench.train_tasks])
    arrays["test_rand_vecs"] = np.array([pickle.loads(t.data)["rand_vec"] for t in bench.test_tasks])
    arrays["bench_seed"] = np.array(BENCH_SEED)
    arrays["mujoco_version"] = np.array(mujoco.__version__)
    arrays["metaworld_version"] = np.array(metaworld.__version__ if hasattr(metaworld, "__version__") else "3.1.1")
    env.close()
    return arrays


def hand_reset_pre_state(env, obs: np.ndarray, extra_substeps: int = 0) -> dict[str, np.ndarray]:
    """metaworld's hand reset (``mj_resetData``, then ``_reset_hand``: 50 steps holding the mocap at
    ``hand_init_pos`` with controls (-1, 1)), then the family's ``extra_substeps`` (``RESET_SUBSTEPS``), replayed
    with bare MuJoCo on the model as the task left it; returns the state before the last substep, whose
    kinematics that substep computed. Stops unless one more substep gives the arm's state after the reset bit
    for bit; says which kinematics the reset observation holds."""
    import mujoco

    e = env.unwrapped
    model, data = e.model, mujoco.MjData(e.model)
    mujoco.mj_resetData(model, data)
    for _ in range(50):
        data.mocap_pos[0] = e.hand_init_pos
        data.mocap_quat[0] = (1.0, 0.0, 1.0, 0.0)
        data.ctrl[:] = (-1.0, 1.0)
        mujoco.mj_step(model, data, nstep=e.frame_skip - 1)
        pre = state_of(data)
        mujoco.mj_step(model, data)
    for _ in range(extra_substeps):
        pre = state_of(data)
        mujoco.mj_step(model, data)
    # the seven arm joints and two fingers, by name (a free object's joint may come first, as coffee-button's
    # mug); reset_model may then place the objects, and may zero velocities (coffee-button's zeroes qvel[9:15],
    # arm joints in its model), so a velocity metaworld left at exactly 0 is not compared
    joints = [model.joint(n) for n in (*(f"right_j{i}" for i in range(7)), "r_close", "l_close")]
    qpos = [j.qposadr[0] for j in joints]
    qvel = [j.dofadr[0] for j in joints if e.data.qvel[j.dofadr[0]] != 0.0]
    if not (np.array_equal(data.qpos[qpos], e.data.qpos[qpos]) and np.array_equal(data.qvel[qvel], e.data.qvel[qvel])):
        raise SystemExit("the bare hand reset does not reproduce metaworld's")
    mujoco.mj_forward(model, data)
    after = np.array_equal(data.body("hand").xpos, obs[:3])
    for name, value in pre.items():
        getattr(data, name)[:] = value
    mujoco.mj_forward(model, data)
    before = np.array_equal(data.body("hand").xpos, obs[:3])
    print(f"  reset observation: hand from the kinematics {'before' if before else 'after' if after else 'of neither'} "
          "the hand reset's last substep")
    return pre


def check_step_rule(model, arrays: dict[str, np.ndarray]) -> None:
    """Replay the recorded actions with bare MuJoCo by the rule promp implements (mocap += 0.01 * clip(a[:3])
    clipped to the mocap box, mocap quaternion (1, 0, 1, 0), controls (a[3], -a[3]), 5 x mj_step, then
    mj_forward, whose solve is the next step's warm start) and require the recorded states bit for bit."""
    import mujoco

    data = mujoco.MjData(model)
    worst = 0.0
    for ep in range(arrays["ep_action"].shape[0]):
        model.body_pos[:] = arrays["body_pos"][ep]
        model.site_pos[:] = arrays["site_pos"][ep]
        for name in ("qpos", "qvel", "mocap_pos", "mocap_quat", "qacc_warmstart"):
            getattr(data, name)[:] = arrays[name][ep, 0]
        data.ctrl[:] = (-1.0, 1.0)
        for t, a in enumerate(arrays["ep_action"][ep]):
            data.mocap_pos[0] = np.clip(data.mocap_pos[0] + np.clip(a[:3], -1, 1) * 0.01, arrays["mocap_low"],
                                        arrays["mocap_high"])
            data.mocap_quat[0] = (1.0, 0.0, 1.0, 0.0)
            data.ctrl[:] = (a[3], -a[3])
            mujoco.mj_step(model, data, nstep=5)
            mujoco.mj_forward(model, data)
            for name in ("qpos", "qvel", "qacc_warmstart"):
                worst = max(worst, float(np.abs(getattr(data, name) - arrays[name][ep, t + 1]).max()))
    print(f"  the step rule replays the recorded states with bare MuJoCo: largest difference {worst:g}")
    if worst != 0.0:
        raise SystemExit("the step rule does not reproduce metaworld's states; promp's Sawyer env would be wrong too")


def record_goals(benchmark: str) -> dict[str, np.ndarray]:
    """Every family's goal vectors of ``metaworld.ML10`` (or ``ML45``) with ``BENCH_SEED``."""
    import metaworld

    bench = {"ml10": metaworld.ML10, "ml45": metaworld.ML45}[benchmark](seed=BENCH_SEED)
    arrays = {}
    for split, tasks in (("train", bench.train_tasks), ("test", bench.test_tasks)):
        by_family: dict[str, list] = {}
        for task in tasks:
            by_family.setdefault(task.env_name, []).append(pickle.loads(task.data)["rand_vec"])
        for name, vecs in by_family.items():
            arrays[f"{split}/{name.removesuffix('-v3')}"] = np.array(vecs)
    arrays["bench_seed"] = np.array(BENCH_SEED)
    return arrays


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("families", nargs="*", default=["reach", "push", "pick-place"])
    parser.add_argument("--goals", choices=("ml10", "ml45"), help="record a benchmark's goal sets instead")
    args = parser.parse_args(argv)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    if args.goals:
        path = OUT_DIR / f"{args.goals}_goals.npz"
        np.savez_compressed(path, **record_goals(args.goals))
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size / 1024:.0f} KiB)")
        return 0
    for family in args.families:
        arrays = record_family(family)
        path = OUT_DIR / f"{family}.npz"
        np.savez_compressed(path, **arrays)
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
