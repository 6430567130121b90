"""Stand an estimate upright: the gravity direction from the legs, for ``vidmimic estimate``.

The estimators give the body in the camera's frame, and none knows the camera's pitch or roll:
on a camera that looks down 25°, the estimate leans 25°. People mostly stand, walk and lunge
with their legs about vertical, so over a clip the median direction from the ankles' midpoint
to the hips' midpoint is close to gravity's up. On the 12 real views of the two calibrated
recordings it is within 6° of it on average, where the camera's own tilt is 26° on average
(``benchmarks/estimate_up.py``; ``docs/estimator.md``, *Standing the estimate upright*). A clip
whose legs lean more than ``max_tilt_deg`` (lying, cartwheels) is left as it is.
"""

from __future__ import annotations

import numpy as np

from characters import rotations as rot
from retargeting.smpl import SMPL_JOINTS, SmplMotion

UP = np.array([0.0, 1.0, 0.0])  # vidmimic's world up (Y)
MAX_TILT_DEG = 45.0
_HIPS = [SMPL_JOINTS.index("left_hip"), SMPL_JOINTS.index("right_hip")]
_ANKLES = [SMPL_JOINTS.index("left_ankle"), SMPL_JOINTS.index("right_ankle")]


def legs_up(motion: SmplMotion) -> np.ndarray:
    """``(3,)`` unit vector: the median over frames of the ankles-to-hips direction, in the motion's frame."""
    joints, _ = motion.skeleton.forward_kinematics(motion.pelvis_positions, motion.local_rotations)  # (T, 24, 3) m
    legs = joints[:, _HIPS].mean(axis=1) - joints[:, _ANKLES].mean(axis=1)
    legs /= np.maximum(np.linalg.norm(legs, axis=1, keepdims=True), 1e-9)
    up = np.median(legs, axis=0)
    return up / np.linalg.norm(up)


def angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    """Angle (degrees) between directions ``a (3,)`` and ``b (3,)``."""
    return float(np.degrees(np.arccos(np.clip(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b), -1.0, 1.0))))


def tilt_deg(up: np.ndarray) -> float:
    """Angle (degrees) between ``up (3,)`` and the world's up."""
    return angle_deg(up, UP)


def turned(motion: SmplMotion, q: np.ndarray) -> SmplMotion:
    """The whole motion turned by the rotation ``q (4,)`` about the frame's origin."""
    local = motion.local_rotations.copy()
    local[:, 0] = rot.multiply(np.broadcast_to(q, local[:, 0].shape), local[:, 0])
    pelvis = rot.rotate(np.broadcast_to(q, (motion.num_frames, 4)), motion.pelvis_positions)
    return SmplMotion(rot.to_axis_angle(local), pelvis - motion.skeleton.offsets[0], motion.fps, motion.betas, motion.gender, motion.skeleton)


def stand_upright(motion: SmplMotion, max_tilt_deg: float = MAX_TILT_DEG) -> tuple[SmplMotion, float | None]:
    """``motion`` turned as a whole about the frame's origin (the camera) so that :func:`legs_up`
    points up, and the angle it was turned by (degrees); ``(motion, None)`` unchanged when the legs
    lean more than ``max_tilt_deg``."""
    up = legs_up(motion)
    angle = tilt_deg(up)
    if angle > max_tilt_deg:
        return motion, None
    return turned(motion, rot.between(up, UP)), angle
