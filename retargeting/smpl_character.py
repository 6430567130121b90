"""Retargeting between SMPL and a character, both ways.

SMPL -> character: world rotations are transferred with rest-pose alignment
(:mod:`retargeting.transfer`, pairs from the character spec's ``smpl_map``); each revolute
joint keeps only the twist about its hinge axis and the remaining swing goes to its parent
joint, so the child body's world rotation is unchanged; the root follows the midpoint of
the hips, scaled by the ratio of leg lengths. Cleanup (smoothing, ground, contacts, foot
skate) is :mod:`retargeting.cleanup`.

Character -> SMPL is the exact inverse of the transfer (used to export simulated motion as
AMASS npz); SMPL joints without a character counterpart get identity local rotations.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from characters import rotations as rot
from characters.character import Character
from characters.skeleton import Skeleton
from retargeting.character_motion import CharacterMotion
from retargeting.cleanup import CleanupOptions, clean_motion
from retargeting.smpl import SmplMotion, smpl_skeleton
from retargeting.transfer import Correspondence, build_correspondences, invert, transfer_global_rotations


@dataclass(frozen=True)
class SmplCharacterMap:
    """Everything fixed about one SMPL skeleton <-> character pair."""

    character: Character
    smpl: Skeleton
    to_character: list[Correspondence]
    to_smpl: list[Correspondence]
    scale: float  # character length per SMPL length (leg-length ratio)
    smpl_hip_mid: np.ndarray  # (3,) m, hip midpoint in the pelvis frame
    character_hip_mid: np.ndarray  # (3,) m, hip midpoint in the root body frame


def _leg_length(skeleton: Skeleton, hip: int) -> float:
    knee = skeleton.children(hip)[0]
    ankle = skeleton.children(knee)[0]
    return float(np.linalg.norm(skeleton.offsets[knee]) + np.linalg.norm(skeleton.offsets[ankle]))


@functools.lru_cache(maxsize=8)
def _cached_map(character: Character, smpl: Skeleton) -> SmplCharacterMap:
    return build_map(character, smpl)


def build_map(character: Character, smpl: Skeleton | None = None) -> SmplCharacterMap:
    """The SMPL <-> ``character`` correspondences for ``smpl`` (default: embedded skeleton)."""
    smpl = smpl or smpl_skeleton()
    if not character.smpl_map:
        raise ValueError(f"character {character.name} has no smpl_map in its spec")
    pairs = [(body, smpl_joint, kind) for body, (smpl_joint, kind) in character.smpl_map.items()]
    body_for = {smpl_joint: body for body, (smpl_joint, _) in character.smpl_map.items()}
    for needed in ("pelvis", "left_hip", "right_hip"):
        if needed not in body_for:
            raise ValueError(f"character {character.name}'s smpl_map must map SMPL {needed!r}")
    char_frame = np.stack([-character.lateral, character.up, character.forward], axis=1)
    smpl_frame = smpl.rest_frame("left_hip", "right_hip", "spine3")
    to_character = build_correspondences(character.skeleton, smpl, pairs, char_frame, smpl_frame)
    left, right = character.body(body_for["left_hip"]), character.body(body_for["right_hip"])
    scale = (_leg_length(character.skeleton, left) + _leg_length(character.skeleton, right)) / (
        _leg_length(smpl, smpl.index("left_hip")) + _leg_length(smpl, smpl.index("right_hip"))
    )
    return SmplCharacterMap(
        character=character,
        smpl=smpl,
        to_character=to_character,
        to_smpl=invert(to_character),
        scale=scale,
        smpl_hip_mid=0.5 * (smpl.offsets[smpl.index("left_hip")] + smpl.offsets[smpl.index("right_hip")]),
        character_hip_mid=0.5 * (character.skeleton.offsets[left] + character.skeleton.offsets[right]),
    )


def project_hinges(character: Character, local: np.ndarray) -> np.ndarray:
    """Keep each revolute joint's twist about its axis; hand the rest of its rotation to the parent.

    ``local``: ``(T, B, 4)`` body-local rotations; returns a new array. The child's world
    rotation is unchanged; the parent body turns by the removed swing.
    """
    local = local.copy()
    skeleton = character.skeleton
    for b, kind in enumerate(character.joint_types):
        if kind != "revolute":
            continue
        swing, twist = rot.swing_twist(local[:, b], character.hinge_axes[b])
        rest = skeleton.rest_rotations[b]
        parent = skeleton.parents[b]
        local[:, parent] = rot.multiply(local[:, parent], rot.multiply(rest, rot.multiply(swing, rot.conjugate(rest))))
        local[:, b] = twist
    return local


def smpl_to_character(
    motion: SmplMotion, character: Character, cleanup: CleanupOptions | None = CleanupOptions()
) -> CharacterMotion:
    """Retarget SMPL motion onto ``character``; ``cleanup=None`` gives the bare transfer."""
    motion.validate()
    m = _cached_map(character, motion.skeleton)
    smpl_global = motion.global_rotations()
    char_global = transfer_global_rotations(smpl_global, character.skeleton, m.to_character)
    local = project_hinges(character, character.skeleton.local_from_global(char_global))
    root_rot = local[:, 0]
    hip_mid = motion.pelvis_positions + rot.rotate(smpl_global[:, 0], np.broadcast_to(m.smpl_hip_mid, motion.trans.shape))
    root_pos = m.scale * hip_mid - rot.rotate(root_rot, np.broadcast_to(m.character_hip_mid, motion.trans.shape))
    result = CharacterMotion(
        character=character,
        frame_dt=np.full(motion.num_frames, 1.0 / motion.fps),
        root_pos=root_pos,
        root_rot=root_rot,
        joint_rot=local[:, list(character.motion_joints)],
        loop="none",
    )
    if cleanup is not None:
        result, _ = clean_motion(result, cleanup)
    return result


def character_to_smpl(motion: CharacterMotion, smpl: Skeleton | None = None) -> SmplMotion:
    """The SMPL motion that :func:`smpl_to_character` (without cleanup) maps back onto ``motion``."""
    motion.validate()
    motion = motion.uniform()
    m = _cached_map(motion.character, smpl or smpl_skeleton())
    _, char_global = motion.body_frames()
    smpl_global = transfer_global_rotations(char_global, m.smpl, m.to_smpl)
    local = m.smpl.local_from_global(smpl_global)
    hip_mid = motion.root_pos + rot.rotate(motion.root_rot, np.broadcast_to(m.character_hip_mid, motion.root_pos.shape))
    pelvis = hip_mid / m.scale - rot.rotate(smpl_global[:, 0], np.broadcast_to(m.smpl_hip_mid, motion.root_pos.shape))
    return SmplMotion.from_local_rotations(local, pelvis, motion.fps, m.smpl)
