"""``CharacterMotion``: a character's reference motion (the DeepMimic motion file, in memory)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from characters import rotations as rot
from characters.character import Character


@dataclass
class CharacterMotion:
    """A clip of root and joint rotations for one character.

    Attributes:
        character: whose joints these are.
        frame_dt: ``(T,)`` s, the DeepMimic ``dt`` column: time from each frame to the next.
        root_pos: ``(T, 3)`` m, world position of the root body (Y up).
        root_rot: ``(T, 4)`` xyzw, world rotation of the root body.
        joint_rot: ``(T, M, 4)`` xyzw, local rotation of each motion joint
            (``character.motion_joints`` order; revolute joints as rotations about their axis).
        loop: ``"wrap"`` for cyclic clips, ``"none"`` otherwise.
        extra: other top-level keys of the file, written back unchanged.
    """

    character: Character
    frame_dt: np.ndarray
    root_pos: np.ndarray
    root_rot: np.ndarray
    joint_rot: np.ndarray
    loop: str = "none"
    extra: dict = field(default_factory=dict)

    @property
    def num_frames(self) -> int:
        return self.root_pos.shape[0]

    @property
    def times(self) -> np.ndarray:
        """``(T,)`` s, the time of each frame, starting at 0."""
        return np.concatenate([[0.0], np.cumsum(self.frame_dt[:-1])])

    @property
    def duration(self) -> float:
        """s, time of the last frame."""
        return float(self.times[-1])

    @property
    def fps(self) -> float:
        """Frames per second from the median frame interval."""
        dt = self.frame_dt[:-1] if self.num_frames > 1 else self.frame_dt
        return float(1.0 / np.median(dt))

    def body_frames(self) -> tuple[np.ndarray, np.ndarray]:
        """World positions ``(T, B, 3)`` and rotations ``(T, B, 4)`` of every body."""
        return self.character.forward_kinematics(self.root_pos, self.root_rot, self.joint_rot)

    def hinge_angles(self) -> np.ndarray:
        """``(T, M)`` rad: the angle of each revolute motion joint (0 for spherical ones)."""
        out = np.zeros(self.joint_rot.shape[:2])
        for k, (b, width) in enumerate(self.character.motion_frame_layout):
            if width == 1:
                out[:, k] = rot.angle_about(self.joint_rot[:, k], self.character.hinge_axes[b])
        return out

    def sample(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pose at arbitrary ``times (N,)`` s: positions interpolated linearly, rotations by slerp.

        A ``"wrap"`` clip continues past its end: each cycle adds the clip's horizontal root
        displacement, so a walk goes on walking. A ``"none"`` clip holds its end frames.
        Returns ``root_pos (N, 3)``, ``root_rot (N, 4)``, ``joint_rot (N, M, 4)``.
        """
        times = np.atleast_1d(np.asarray(times, dtype=float))
        frame_times = self.times
        duration = frame_times[-1]
        cycles = np.zeros_like(times)
        if self.loop == "wrap" and duration > 0:
            # Times in (k d, (k+1) d] use cycle k, so the clip's last frame is reached, not skipped.
            cycles = np.where(times > 0, np.ceil(times / duration) - 1, np.floor(times / duration))
            times = times - cycles * duration
        times = np.clip(times, 0.0, duration)
        i = np.clip(np.searchsorted(frame_times, times, side="right") - 1, 0, max(self.num_frames - 2, 0))
        j = np.minimum(i + 1, self.num_frames - 1)
        span = frame_times[j] - frame_times[i]
        a = np.where(span > 0, (times - frame_times[i]) / np.where(span > 0, span, 1.0), 0.0)
        root_pos = self.root_pos[i] + a[:, None] * (self.root_pos[j] - self.root_pos[i])
        shift = self.root_pos[-1] - self.root_pos[0]
        shift[1] = 0.0  # only the horizontal displacement accumulates
        root_pos = root_pos + cycles[:, None] * shift
        root_rot = rot.slerp(self.root_rot[i], self.root_rot[j], a)
        joint_rot = rot.slerp(self.joint_rot[i], self.joint_rot[j], a[:, None])
        return root_pos, root_rot, joint_rot

    def resample(self, fps: float) -> CharacterMotion:
        """The same motion at ``fps`` frames per second (slerp between frames)."""
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        n = int(np.floor(self.duration * fps + 1e-9)) + 1
        root_pos, root_rot, joint_rot = self.sample(np.arange(n) / fps)
        return replace(self, frame_dt=np.full(n, 1.0 / fps), root_pos=root_pos, root_rot=root_rot, joint_rot=joint_rot)

    def uniform(self) -> CharacterMotion:
        """This motion if its frames are evenly spaced, else resampled at its median rate.

        Formats with one frame rate (AMASS, BVH) need this; a few DeepMimic clips (roll) have
        an irregular interval.
        """
        if self.num_frames < 3 or np.ptp(self.frame_dt[:-1]) <= 1e-6:
            return self
        return self.resample(self.fps)

    def root_linear_velocity(self) -> np.ndarray:
        """``(T, 3)`` m/s, forward differences (the last frame repeats the one before)."""
        return _forward_difference(self.root_pos, self.frame_dt, lambda a, b: b - a)

    def root_angular_velocity(self) -> np.ndarray:
        """``(T, 3)`` rad/s in the world frame, from ``log(q_{t+1} q_t^-1) / dt``."""
        return _forward_difference(self.root_rot, self.frame_dt, lambda a, b: rot.to_axis_angle(rot.multiply(b, rot.conjugate(a))))

    def joint_angular_velocity(self) -> np.ndarray:
        """``(T, M, 3)`` rad/s of each joint in its own (child) frame, from ``log(q_t^-1 q_{t+1}) / dt``."""
        return _forward_difference(self.joint_rot, self.frame_dt, lambda a, b: rot.to_axis_angle(rot.multiply(rot.conjugate(a), b)))

    def mirrored(self) -> CharacterMotion:
        """Left and right swapped: reflected through the character's sagittal plane, twins exchanged.

        Assumes, as for the DeepMimic humanoid, that the rest pose is symmetric about the plane
        normal to the world axis that the character's lateral direction points along.
        """
        axis = int(np.argmax(np.abs(self.character.lateral)))
        root_pos = self.root_pos.copy()
        root_pos[:, axis] *= -1.0
        twin_body = self.character.mirror_bodies
        motion_joints = list(self.character.motion_joints)
        order = [motion_joints.index(twin_body[b]) for b in motion_joints]
        return replace(
            self,
            root_pos=root_pos,
            root_rot=rot.reflect(self.root_rot, axis),
            joint_rot=rot.reflect(self.joint_rot[:, order], axis),
        )

    def validate(self) -> None:
        """Raise ``ValueError`` on inconsistent shapes or non-finite values."""
        t = self.num_frames
        m = len(self.character.motion_joints)
        if t == 0:
            raise ValueError("the clip has no frames")
        if self.root_rot.shape != (t, 4) or self.joint_rot.shape != (t, m, 4) or self.frame_dt.shape != (t,):
            raise ValueError("inconsistent array shapes")
        for name in ("frame_dt", "root_pos", "root_rot", "joint_rot"):
            if not np.all(np.isfinite(getattr(self, name))):
                raise ValueError(f"{name} contains NaN or infinity")


def _forward_difference(values: np.ndarray, frame_dt: np.ndarray, delta) -> np.ndarray:
    out = np.zeros(values.shape[:-1] + (3,))
    if values.shape[0] < 2:
        return out
    dt = frame_dt[:-1].reshape((-1,) + (1,) * (values.ndim - 1))
    out[:-1] = delta(values[:-1], values[1:]) / dt
    out[-1] = out[-2]
    return out
