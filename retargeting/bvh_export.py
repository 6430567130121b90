"""BVH export of vidmimic's two skeletons: the character and SMPL (metres, Y up)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from retargeting.bvh import write_bvh
from retargeting.character_motion import CharacterMotion
from retargeting.smpl import SmplMotion


def write_character_bvh(path: str | Path, motion: CharacterMotion) -> None:
    """The character's bodies as BVH joints (hinges written as 3-channel joints).

    Leaf bodies get an End Site at the centre of their first collision shape (head centre,
    foot centre), so viewers draw a bone for them.
    """
    motion.validate()
    motion = motion.uniform()
    character = motion.character
    local = np.zeros((motion.num_frames, character.num_bodies, 4))
    local[..., 3] = 1.0
    local[:, 0] = motion.root_rot
    local[:, list(character.motion_joints)] = motion.joint_rot
    leaves = [b for b in range(character.num_bodies) if not character.skeleton.children(b)]
    end_sites = {b: character.shapes[b][0].position for b in leaves if character.shapes[b]}
    write_bvh(path, character.skeleton, motion.root_pos, local, 1.0 / motion.fps, end_sites)


def write_smpl_bvh(path: str | Path, motion: SmplMotion) -> None:
    """The 24 SMPL joints as a BVH skeleton; the root channel is the pelvis position."""
    motion.validate()
    write_bvh(path, motion.skeleton, motion.pelvis_positions, motion.local_rotations, 1.0 / motion.fps)
