"""A kinematic tree and its forward kinematics, vectorised over whole clips."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from characters import rotations as rot


@dataclass(frozen=True, eq=False)  # identity equality: hashable, cacheable
class Skeleton:
    """Joints in topological order (every parent before its children).

    Attributes:
        names: joint names, ``J`` of them.
        parents: ``(J,)`` parent index per joint, -1 for the root.
        offsets: ``(J, 3)`` m, rest translation of each joint in its parent's frame; for the
            root, its rest position in the world.
        rest_rotations: ``(J, 4)`` fixed rotation of each joint frame in its parent's frame
            (URDF joint ``rpy``); identity for BVH and SMPL.
    """

    names: tuple[str, ...]
    parents: np.ndarray
    offsets: np.ndarray
    rest_rotations: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.rest_rotations is None:
            object.__setattr__(self, "rest_rotations", rot.identity((len(self.names),)))
        assert len(self.parents) == len(self.names) == len(self.offsets), "one parent and offset per joint"
        assert all(p < j for j, p in enumerate(self.parents)), "joints must be in topological order"

    def __len__(self) -> int:
        return len(self.names)

    def index(self, name: str) -> int:
        """Index of joint ``name``; ``KeyError`` naming the skeleton's joints if absent."""
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"no joint {name!r}; joints are {', '.join(self.names)}") from None

    def children(self, joint: int) -> list[int]:
        """Indices of the joints whose parent is ``joint``."""
        return [j for j, p in enumerate(self.parents) if p == joint]

    def forward_kinematics(self, root_pos: np.ndarray, local_rot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World joint positions and rotations.

        Args:
            root_pos: ``(T, 3)`` m, world position of the root joint.
            local_rot: ``(T, J, 4)`` xyzw, each joint's rotation in its (rest-rotated) parent frame;
                for the root, its world rotation.
        Returns:
            positions ``(T, J, 3)`` m and rotations ``(T, J, 4)`` of every joint frame in the world.
        """
        n = len(self.names)
        assert local_rot.shape[-2:] == (n, 4), f"local_rot must be (T, {n}, 4), got {local_rot.shape}"
        frames = local_rot.shape[0]
        positions = np.empty((frames, n, 3))
        rotations = np.empty((frames, n, 4))
        for j, p in enumerate(self.parents):
            frame_rot = rot.multiply(self.rest_rotations[j], local_rot[:, j])
            if p < 0:
                positions[:, j] = root_pos
                rotations[:, j] = frame_rot
            else:
                positions[:, j] = positions[:, p] + rot.rotate(rotations[:, p], np.broadcast_to(self.offsets[j], (frames, 3)))
                rotations[:, j] = rot.multiply(rotations[:, p], frame_rot)
        return positions, rotations

    def local_from_global(self, global_rot: np.ndarray) -> np.ndarray:
        """Inverse of the rotation part of :meth:`forward_kinematics`: ``(T, J, 4)`` -> ``(T, J, 4)``."""
        local = np.empty_like(global_rot)
        for j, p in enumerate(self.parents):
            parent = rot.identity(global_rot.shape[:1]) if p < 0 else global_rot[:, p]
            local[:, j] = rot.multiply(rot.conjugate(rot.multiply(parent, self.rest_rotations[j])), global_rot[:, j])
        return local

    def rest_positions(self) -> np.ndarray:
        """``(J, 3)`` m, joint positions in the rest pose with the root at its rest offset."""
        pos, _ = self.forward_kinematics(self.offsets[:1], rot.identity((1, len(self.names))))
        return pos[0]

    def rest_frame(self, left: str, right: str, top: str) -> np.ndarray:
        """``(3, 3)`` body frame of the rest pose, columns (left, up, forward).

        ``left``/``right`` name a symmetric joint pair (the hips) and ``top`` a joint above the
        root (the neck); up is made orthogonal to left, forward = left x up.
        """
        pos = self.rest_positions()
        lateral = pos[self.index(left)] - pos[self.index(right)]
        lateral /= np.linalg.norm(lateral)
        up = pos[self.index(top)] - pos[0]
        up -= lateral * (up @ lateral)
        up /= np.linalg.norm(up)
        return np.stack([lateral, up, np.cross(lateral, up)], axis=1)
