"""Two SMPL estimates of one video combined into one: the ``fused`` estimator's arithmetic.

The motion-based lifter and MediaPipe-IK err differently (the lifter is smooth and reads depth
from motion; MediaPipe's world landmarks are better at the shoulders and elbows and jitter), so
their average is closer to the truth than either on every real recording scored
(``docs/estimator.md``, *Fusing the lifter with MediaPipe-IK*).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from characters import rotations as rot
from retargeting.smpl import SmplMotion


def fuse_motions(a: SmplMotion, b: SmplMotion, weight_b: float = 0.5) -> SmplMotion:
    """The motion part way from ``a`` to ``b``: every local joint rotation (the root's included) by
    slerp at ``weight_b``, the pelvis position linearly; ``a``'s skeleton, shape and gender.

    Args:
        a, b: two estimates of the same frames, ``(T, 24)`` joints at the same frame rate.
        weight_b: 0 gives ``a``, 1 gives ``b``'s pose and path on ``a``'s skeleton.
    Returns:
        ``(T, 24)`` SMPL motion at ``a.fps``.
    """
    if a.num_frames != b.num_frames:
        raise ValueError(f"the two estimates cover different frames: {a.num_frames} against {b.num_frames}")
    if not np.isclose(a.fps, b.fps, rtol=1e-6):
        raise ValueError(f"the two estimates have different frame rates: {a.fps} against {b.fps} frames/s")
    if not 0.0 <= weight_b <= 1.0:
        raise ValueError(f"weight_b must be in [0, 1], got {weight_b}")
    local = rot.slerp(a.local_rotations, b.local_rotations, np.full(a.poses.shape[:2], weight_b))
    pelvis = (1.0 - weight_b) * a.pelvis_positions + weight_b * b.pelvis_positions
    return SmplMotion(rot.to_axis_angle(local), pelvis - a.skeleton.offsets[0], a.fps, a.betas, a.gender, a.skeleton)


def fused_estimator(first: Callable, second: Callable, weight_second: float = 0.5) -> Callable:
    """An ``ESTIMATORS`` entry: ``front -> fuse_motions(first(front), second(front), weight_second)``."""

    def estimator(front) -> SmplMotion:
        return fuse_motions(first(front), second(front), weight_second)

    return estimator
