"""The reference motion tabulated densely once, so the environment only looks values up.

Everything the observation, reward and evaluation need from the reference is computed by
forward kinematics over a fine time grid (default 480 Hz) of one clip cycle; a step then reads
the nearest grid row and, for cyclic clips, adds the accumulated horizontal root offset.
No FK and no slerp run inside an environment step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from characters import rotations as rot
from retargeting.character_motion import CharacterMotion


@dataclass(frozen=True)
class ReferencePose:
    """The reference at one instant (world frame, Y up)."""

    root_pos: np.ndarray  # (3,) m
    root_rot: np.ndarray  # (4,)
    joint_rot: np.ndarray  # (M, 4) local rotations of the motion joints
    joint_vel: np.ndarray  # (M, 3) rad/s, child angular velocity relative to its parent, in the child frame
    root_lin_vel: np.ndarray  # (3,) m/s, of the root frame origin
    body_pos: np.ndarray  # (B, 3) m, body frame origins
    body_rot: np.ndarray  # (B, 4)
    com_pos: np.ndarray  # (B, 3) m, body centres of mass
    body_lin_vel: np.ndarray  # (B, 3) m/s, of the body centres of mass
    body_ang_vel: np.ndarray  # (B, 3) rad/s, world frame
    com: np.ndarray  # (3,) m, whole-body centre of mass


def relative_joint_velocity(body_rot: np.ndarray, body_ang_vel: np.ndarray, parents: np.ndarray, joints: list[int]) -> np.ndarray:
    """``(..., M, 3)``: each joint's child angular velocity minus its parent's, in the child frame.

    ``body_rot (..., B, 4)``, ``body_ang_vel (..., B, 3)`` world. The same definition is used
    for the simulated character, so the reward compares like with like.
    """
    child = body_ang_vel[..., joints, :]
    parent = body_ang_vel[..., parents[joints], :]
    return rot.rotate(rot.conjugate(body_rot[..., joints, :]), child - parent)


def _clamped_sample(motion: CharacterMotion, times: np.ndarray):
    """``motion.sample`` within one pass of the clip (no wrap-around)."""
    if motion.loop != "wrap":
        return motion.sample(times)
    from dataclasses import replace

    return replace(motion, loop="none").sample(times)


class ReferenceTable:
    """Dense lookup of a :class:`CharacterMotion` at any time ``t`` (s)."""

    def __init__(self, motion: CharacterMotion, rate_hz: float = 480.0):
        character = motion.character
        self.motion = motion
        self.character = character
        self.wrap = motion.loop == "wrap"
        self.duration = motion.duration
        self.rate = rate_hz
        n = max(2, int(np.ceil(self.duration * rate_hz)) + 1)
        times = np.arange(n) / rate_hz
        root_pos, root_rot, joint_rot = motion.sample(times)
        joint_rot = rot.make_continuous(joint_rot, axis=0)
        body_pos, body_rot = character.forward_kinematics(root_pos, root_rot, joint_rot)
        com_pos = body_pos + rot.rotate(body_rot, np.broadcast_to(character.com_offsets, body_pos.shape))
        # Velocities by central differences over the grid, one-sided at the clip's ends: even
        # "cyclic" clips (DeepMimic's walk) do not end exactly where they start, and a
        # difference across that seam would be a velocity spike.
        h = 1.0 / rate_hz
        lo, hi = np.maximum(times - h, 0.0), np.minimum(times + h, self.duration)
        p2, r2, j2 = _clamped_sample(motion, np.concatenate([lo, hi]))
        bp2, br2 = character.forward_kinematics(p2, r2, j2)
        cp2 = bp2 + rot.rotate(br2, np.broadcast_to(character.com_offsets, bp2.shape))
        before, after = slice(0, n), slice(n, 2 * n)
        span = np.maximum(hi - lo, 1e-12)
        body_lin_vel = (cp2[after] - cp2[before]) / span[:, None, None]
        self.root_lin_vel = (bp2[after][:, 0] - bp2[before][:, 0]) / span[:, None]
        delta = rot.multiply(br2[after], rot.conjugate(br2[before]))
        body_ang_vel = rot.to_axis_angle(delta) / span[:, None, None]
        joints = list(character.motion_joints)
        self.root_pos = root_pos
        self.root_rot = root_rot
        self.joint_rot = joint_rot
        self.joint_vel = relative_joint_velocity(body_rot, body_ang_vel, character.skeleton.parents, joints)
        self.body_pos = body_pos
        self.body_rot = body_rot
        self.com_pos = com_pos
        self.body_lin_vel = body_lin_vel
        self.body_ang_vel = body_ang_vel
        self.com = np.einsum("b,tbk->tk", character.masses, com_pos) / character.total_mass
        shift = root_pos[-1] - root_pos[0]
        shift[1] = 0.0
        self.cycle_shift = shift if self.wrap else np.zeros(3)

    def index_and_shift(self, t: float) -> tuple[int, np.ndarray]:
        """Grid row for time ``t`` and the horizontal offset (m) of the cycle it falls in."""
        cycles = 0.0
        if self.wrap and self.duration > 0 and t > self.duration:
            cycles = np.ceil(t / self.duration) - 1
            t -= cycles * self.duration
        i = int(round(min(max(t, 0.0), self.duration) * self.rate))
        return min(i, len(self.root_pos) - 1), cycles * self.cycle_shift

    def phase(self, t: float) -> float:
        """Fraction of the clip elapsed at ``t``, in [0, 1]."""
        if self.duration <= 0:
            return 0.0
        return (t % self.duration) / self.duration if self.wrap else min(t / self.duration, 1.0)

    def pose(self, t: float) -> ReferencePose:
        i, shift = self.index_and_shift(t)
        return ReferencePose(
            root_pos=self.root_pos[i] + shift,
            root_rot=self.root_rot[i],
            joint_rot=self.joint_rot[i],
            joint_vel=self.joint_vel[i],
            root_lin_vel=self.root_lin_vel[i],
            body_pos=self.body_pos[i] + shift,
            body_rot=self.body_rot[i],
            com_pos=self.com_pos[i] + shift,
            body_lin_vel=self.body_lin_vel[i],
            body_ang_vel=self.body_ang_vel[i],
            com=self.com[i] + shift,
        )
