"""Standing an estimate upright by its legs (``pose_estimation/level.py``)."""

import numpy as np

from characters import rotations as rot
from pose_estimation.level import UP, legs_up, stand_upright, tilt_deg, turned
from retargeting.deepmimic_file import read_deepmimic
from retargeting.smpl import SmplMotion
from retargeting.smpl_character import character_to_smpl
from tests.conftest import WALK


def joints(motion: SmplMotion) -> np.ndarray:
    return motion.skeleton.forward_kinematics(motion.pelvis_positions, motion.local_rotations)[0]


def test_a_walk_seen_by_a_tilted_camera_is_stood_upright(character):
    walk = character_to_smpl(read_deepmimic(WALK, character))
    own_lean = tilt_deg(legs_up(walk))  # DeepMimic's walk: 6.5°, the hips a little ahead of the ankles
    assert own_lean < 10.0
    camera = rot.multiply(rot.about_axis(np.array([1.0, 0, 0]), np.radians(25.0)), rot.about_axis(np.array([0, 0, 1.0]), np.radians(12.0)))
    seen = turned(walk, camera)
    assert tilt_deg(legs_up(seen)) > 20.0
    upright, angle = stand_upright(seen)
    assert angle is not None and abs(angle - tilt_deg(legs_up(seen))) < 1e-6
    assert tilt_deg(legs_up(upright)) < 0.2  # not 0: a per-component median does not turn with the frame exactly
    world_up = rot.rotate(rot.multiply(rot.between(legs_up(seen), UP), camera), UP)  # gravity in the result's frame
    assert tilt_deg(world_up) <= own_lean + 0.5
    # a rigid turn: every distance between joints is kept
    a, b = joints(seen), joints(upright)
    assert np.allclose(np.linalg.norm(a[:, 1:] - a[:, :1], axis=-1), np.linalg.norm(b[:, 1:] - b[:, :1], axis=-1), atol=1e-9)


def test_legs_far_from_vertical_are_left_as_they_are(character):
    walk = character_to_smpl(read_deepmimic(WALK, character))
    lying = turned(walk, rot.about_axis(np.array([1.0, 0, 0]), np.radians(80.0)))
    same, angle = stand_upright(lying)
    assert angle is None and same is lying
