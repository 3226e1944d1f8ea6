"""Meta-World's goal sets and their train/test split, regenerated in numpy.

``metaworld.ML1(name, seed=s)`` draws 50 train goals with numpy's legacy global generator seeded with
``s`` and 50 test goals with ``s + 1``, both from the family's random reset space (object position and
goal position, 6 numbers: the ``rand_vec``). Each goal is what one ``env.reset()`` leaves behind: a reset
runs the family's ``reset_model`` twice (once in metaworld's ``reset``, once more inside gymnasium's), and
each run draws ``uniform(low, high)`` and draws again while the object and the goal are closer than
``min_xy_distance`` in the x-y plane. ``ml1_rand_vecs`` repeats exactly that sequence of draws with
``numpy.random.RandomState``, so for the same seed it returns metaworld's goals bit for bit
(tests/test_metaworld.py checks this against goals recorded from metaworld 3.1.1).
"""

from __future__ import annotations

import numpy as np

N_GOALS = 50
RESET_MODEL_CALLS_PER_RESET = 2


def ml1_rand_vecs(low: np.ndarray, high: np.ndarray, seed: int, min_xy_distance: float = 0.15,
                  n: int = N_GOALS) -> np.ndarray:
    """The ``n`` goal vectors ``[n, 6]`` that ``metaworld.ML1`` draws with ``seed`` (module docstring)."""
    low, high = np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
    rs = np.random.RandomState(seed)
    out = np.empty((n, low.size))
    for i in range(n):
        for _ in range(RESET_MODEL_CALLS_PER_RESET):
            vec = rs.uniform(low, high, size=low.size)
            while np.linalg.norm(vec[:2] - vec[3:5]) < min_xy_distance:
                vec = rs.uniform(low, high, size=low.size)
        out[i] = vec
    return out


def ml1_split(low: np.ndarray, high: np.ndarray, benchmark_seed: int, split: str,
              min_xy_distance: float = 0.15) -> np.ndarray:
    """The goals of ``split`` (``"train"``: seed ``benchmark_seed``, ``"test"``: ``benchmark_seed + 1``)."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    return ml1_rand_vecs(low, high, benchmark_seed + (split == "test"), min_xy_distance)
