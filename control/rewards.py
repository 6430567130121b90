"""The imitation reward: a pure function of reference and simulated quantities (no simulator).

``r = 0.65 r_pose + 0.1 r_vel + 0.15 r_ee + 0.1 r_com`` with

* ``r_pose = exp(-2 Σ_j ‖q̂_j ⊖ q_j‖²)`` over the root rotation and every motion joint (rad),
* ``r_vel = exp(-0.1 Σ_j ‖q̂̇_j − q̇_j‖²)`` over joint angular velocities (rad/s),
* ``r_ee = exp(-40 Σ_e ‖p̂_e − p_e‖²)`` over hands and feet, positions relative to the root (m),
* ``r_com = exp(-10 ‖p̂_com − p_com‖²)`` on the whole-body centre of mass in the world (m),
  so drifting away from the reference costs reward.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from characters import rotations as rot


@dataclass(frozen=True)
class RewardSpec:
    pose_weight: float = 0.65
    vel_weight: float = 0.1
    ee_weight: float = 0.15
    com_weight: float = 0.1
    pose_scale: float = 2.0  # 1/rad²
    vel_scale: float = 0.1  # s²/rad²
    ee_scale: float = 40.0  # 1/m²
    com_scale: float = 10.0  # 1/m²


def imitation_reward(
    ref_rot: np.ndarray,
    sim_rot: np.ndarray,
    ref_vel: np.ndarray,
    sim_vel: np.ndarray,
    ref_ee: np.ndarray,
    sim_ee: np.ndarray,
    ref_com: np.ndarray,
    sim_com: np.ndarray,
    spec: RewardSpec = RewardSpec(),
) -> tuple[float, dict[str, float]]:
    """Reward and its four terms.

    Args:
        ref_rot, sim_rot: ``(J, 4)`` root world rotation followed by local joint rotations.
        ref_vel, sim_vel: ``(M, 3)`` joint angular velocities (rad/s).
        ref_ee, sim_ee: ``(E, 3)`` end-effector positions relative to the root (m).
        ref_com, sim_com: ``(3,)`` centre of mass (m).
    """
    pose_err = float(np.sum(rot.geodesic_angle(ref_rot, sim_rot) ** 2))
    vel_err = float(np.sum((ref_vel - sim_vel) ** 2))
    ee_err = float(np.sum((ref_ee - sim_ee) ** 2))
    com_err = float(np.sum((ref_com - sim_com) ** 2))
    return reward_from_errors(pose_err, vel_err, ee_err, com_err, spec)


def reward_from_errors(pose_err: float, vel_err: float, ee_err: float, com_err: float, spec: RewardSpec = RewardSpec()) -> tuple[float, dict[str, float]]:
    """Reward and terms from the four summed squared errors (rad², rad²/s², m², m²)."""
    terms = {
        "pose": math.exp(-spec.pose_scale * pose_err),
        "vel": math.exp(-spec.vel_scale * vel_err),
        "ee": math.exp(-spec.ee_scale * ee_err),
        "com": math.exp(-spec.com_scale * com_err),
    }
    total = spec.pose_weight * terms["pose"] + spec.vel_weight * terms["vel"] + spec.ee_weight * terms["ee"] + spec.com_weight * terms["com"]
    return total, terms
