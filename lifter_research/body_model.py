"""The lifter's body: SMPL's kinematic tree, a bone-length shape space, 6D rotations and torch FK.

SMPL's shape blend shapes come with its licensed model file, which vidmimic does not ship.
The lifter's ``betas`` therefore span vidmimic's own linear space of joint offsets around
SMPL's mean-shape skeleton (``retargeting.smpl``): each coefficient scales one group of bones
by 5 % per unit (stature, legs, thighs vs shins, arms, forearms, torso, neck and head, hip
width, shoulder width, feet). Synthetic bodies draw ``betas ~ N(0, 1)``.

Frames: camera coordinates (OpenCV: x right, y down, z away from the camera), metres.
"""

from __future__ import annotations

import numpy as np
import torch

from pose_estimation.lifter_config import NUM_BETAS  # noqa: F401 - the shape space's size, re-exported
from retargeting.smpl import SMPL_JOINTS, SMPL_PARENTS, SMPL_REST_OFFSETS

BETA_STEP = 0.05  # relative change of a bone group's length per unit of its beta

_GROUPS = {
    0: SMPL_JOINTS[1:],  # stature: every bone
    1: ("left_knee", "right_knee", "left_ankle", "right_ankle"),
    2: ("left_knee", "right_knee"),
    3: ("left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hand", "right_hand"),
    4: ("left_wrist", "right_wrist", "left_hand", "right_hand"),
    5: ("spine1", "spine2", "spine3"),
    6: ("neck", "head"),
    7: ("left_hip", "right_hip"),
    8: ("left_collar", "right_collar", "left_shoulder", "right_shoulder"),
    9: ("left_foot", "right_foot"),
}


def shape_directions() -> np.ndarray:
    """``(NUM_BETAS, 24, 3)``: change of each joint's offset from its parent per unit beta (m)."""
    directions = np.zeros((NUM_BETAS, 24, 3))
    for k, names in _GROUPS.items():
        for name in names:
            j = SMPL_JOINTS.index(name)
            directions[k, j] = BETA_STEP * SMPL_REST_OFFSETS[j]
    # Thighs vs shins: beta 2 lengthens the thigh and shortens the shin.
    for name in ("left_ankle", "right_ankle"):
        j = SMPL_JOINTS.index(name)
        directions[2, j] = -BETA_STEP * SMPL_REST_OFFSETS[j]
    return directions


def offsets_for(betas: np.ndarray) -> np.ndarray:
    """``(..., 24, 3)`` joint offsets of bodies with ``betas (..., NUM_BETAS)``; the root's offset is 0."""
    offsets = SMPL_REST_OFFSETS + np.einsum("...k,kjc->...jc", betas, shape_directions())
    offsets[..., 0, :] = 0.0
    return offsets


def matrix_from_6d(x: torch.Tensor) -> torch.Tensor:
    """``(..., 6)`` -> ``(..., 3, 3)`` rotation matrices (Zhou et al.'s continuous 6D: the first two columns)."""
    a, b = x[..., :3], x[..., 3:]
    c1 = torch.nn.functional.normalize(a, dim=-1)
    c2 = torch.nn.functional.normalize(b - (c1 * b).sum(-1, keepdim=True) * c1, dim=-1)
    c3 = torch.cross(c1, c2, dim=-1)
    return torch.stack([c1, c2, c3], dim=-1)


def matrix_to_6d(m: np.ndarray | torch.Tensor):
    """``(..., 3, 3)`` -> ``(..., 6)``: the first two columns, concatenated."""
    if isinstance(m, torch.Tensor):
        return torch.cat([m[..., :, 0], m[..., :, 1]], dim=-1)
    return np.concatenate([m[..., :, 0], m[..., :, 1]], axis=-1)


class TorchSkeleton(torch.nn.Module):
    """Batched forward kinematics of SMPL's tree with shape-dependent offsets."""

    def __init__(self):
        super().__init__()
        self.register_buffer("rest", torch.as_tensor(SMPL_REST_OFFSETS, dtype=torch.float32), persistent=False)
        self.register_buffer("directions", torch.as_tensor(shape_directions(), dtype=torch.float32), persistent=False)
        self.parents = [int(p) for p in SMPL_PARENTS]

    def forward(self, rotations: torch.Tensor, betas: torch.Tensor) -> torch.Tensor:
        """Joint positions ``(..., 24, 3)`` relative to the pelvis.

        ``rotations (..., 24, 3, 3)``: joint 0 the body's rotation (in the output frame), the
        others local to their parent; ``betas (..., NUM_BETAS)`` broadcast against the batch.
        """
        offsets = self.rest + torch.einsum("...k,kjc->...jc", betas, self.directions)
        world = [rotations[..., 0, :, :]]
        positions = [torch.zeros_like(rotations[..., 0, :, 0])]
        for j in range(1, 24):
            p = self.parents[j]
            positions.append(positions[p] + (world[p] @ offsets[..., j, :, None])[..., 0])
            world.append(world[p] @ rotations[..., j, :, :])
        return torch.stack(positions, dim=-2)
