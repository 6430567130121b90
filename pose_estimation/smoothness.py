"""How jittery is a motion? Joint angular speed and acceleration of SMPL local rotations."""

from __future__ import annotations

import numpy as np

from characters import rotations as rot
from retargeting.smpl import SmplMotion

RATE = 30.0
"""Every motion is resampled to this rate (Hz) first, so figures compare across sources."""
BODY = list(range(1, 22))
"""All SMPL joints but the root and the hands."""


def angular_profiles(motion: SmplMotion) -> tuple[np.ndarray, np.ndarray]:
    """``(T-1, 24)`` angular speed (deg/s) and ``(T-2, 24)`` angular acceleration (deg/s^2) of local rotations."""
    q = motion.resample(RATE).local_rotations
    omega = rot.to_axis_angle(rot.multiply(rot.conjugate(q[:-1]), q[1:])) * RATE  # (T-1, J, 3) rad/s
    alpha = np.diff(omega, axis=0) * RATE
    return np.degrees(np.linalg.norm(omega, axis=-1)), np.degrees(np.linalg.norm(alpha, axis=-1))


def smoothness(motion: SmplMotion) -> dict[str, float]:
    """Mean angular speed (deg/s) and acceleration (deg/s^2) over the body joints."""
    speed, accel = angular_profiles(motion)
    speed_key, accel_key = smoothness_keys()
    return {speed_key: float(speed[:, BODY].mean()), accel_key: float(accel[:, BODY].mean())}


def smoothness_keys() -> tuple[str, ...]:
    """The keys of :func:`smoothness`'s result."""
    return ("mean_angular_speed_deg_s", "mean_angular_acceleration_deg_s2")
