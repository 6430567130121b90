"""BVH export of vidmimic's two skeletons: the character and SMPL (metres, Y up)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from characters.skeleton import Skeleton
from retargeting.bvh import write_bvh
from retargeting.character_motion import CharacterMotion
from retargeting.smpl import SmplMotion


def write_character_bvh(path: str | Path, motion: CharacterMotion) -> None:
    """The character's bodies as BVH joints (hinges written as 3-channel joints).

    Leaf bodies get an End Site at the centre of their first collision shape (head centre,
    foot centre), so viewers draw a bone for them; a shape centred on its joint (the wrists'
    spheres) puts it on the shape's surface along the bone instead, as a zero-length bone
    is dropped by Blender ("zero length node found").
    """
    motion.validate()
    motion = motion.uniform()
    character = motion.character
    local = np.zeros((motion.num_frames, character.num_bodies, 4))
    local[..., 3] = 1.0
    local[:, 0] = motion.root_rot
    local[:, list(character.motion_joints)] = motion.joint_rot
    leaves = [b for b in range(character.num_bodies) if not character.skeleton.children(b)]
    end_sites = {}
    for b in leaves:
        shape = character.shapes[b][0] if character.shapes[b] else None
        if shape is not None and np.linalg.norm(shape.position) > MIN_BONE_M:
            end_sites[b] = shape.position
        else:  # to the surface of a sphere (size[0] is its radius) or half the bone's length on
            end_sites[b] = _along_bone(character.skeleton, b, shape.size[0] if shape is not None else 0.5 * np.linalg.norm(character.skeleton.offsets[b]))
    write_bvh(path, character.skeleton, motion.root_pos, local, 1.0 / motion.fps, end_sites)


MIN_BONE_M = 1e-3
"""End sites closer than this to their joint count as zero-length bones."""


def _along_bone(skeleton: Skeleton, joint: int, length: float) -> np.ndarray:
    """``(3,)`` an End Site ``length`` m beyond ``joint`` along its bone from the parent (its offset's
    direction; straight down for a joint sitting on its parent)."""
    offset = skeleton.offsets[joint]
    norm = np.linalg.norm(offset)
    direction = offset / norm if norm > MIN_BONE_M else np.array([0.0, -1.0, 0.0])
    return direction * max(length, 2 * MIN_BONE_M)


def _leaf_end_sites(skeleton: Skeleton) -> dict[int, np.ndarray]:
    """End Sites continuing each leaf's bone by half its length (SMPL's head, hands and feet)."""
    leaves = [j for j in range(len(skeleton.names)) if not skeleton.children(j)]
    return {j: _along_bone(skeleton, j, 0.5 * np.linalg.norm(skeleton.offsets[j])) for j in leaves}


def write_smpl_bvh(path: str | Path, motion: SmplMotion) -> None:
    """The 24 SMPL joints as a BVH skeleton; the root channel is the pelvis position."""
    motion.validate()
    write_bvh(path, motion.skeleton, motion.pelvis_positions, motion.local_rotations, 1.0 / motion.fps, _leaf_end_sites(motion.skeleton))
