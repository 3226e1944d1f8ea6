"""The piece of peg-insert-side's reward that the recorded episodes never reach (the peg head inside the
collision boxes by the hole), by its definition: metaworld 3.1.1 ``reward_utils.rect_prism_tolerance``."""

from __future__ import annotations

import numpy as np

from promp.envs.metaworld.placing import rect_prism_tolerance


def test_rect_prism_tolerance_scales_each_axis_from_zero_to_one_corner():
    zero, one = np.array([[0.1, -0.11, 0.01]]), np.array([[-0.1, -0.15, 0.096]])  # box 1's corners, axes reversed
    points = np.array([[0.0, -0.13, 0.053], [0.1, -0.11, 0.01], [-0.1, -0.15, 0.096], [0.05, -0.12, 0.0315],
                       [0.0, -0.16, 0.05], [0.11, -0.13, 0.05]])
    got = rect_prism_tolerance(points, np.repeat(zero, len(points), 0), np.repeat(one, len(points), 0))
    np.testing.assert_allclose(got, [0.125, 0.0, 1.0, 0.25 * 0.25 * 0.25, 1.0, 1.0], rtol=0, atol=1e-15)
