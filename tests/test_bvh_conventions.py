"""BVH skeleton conventions: each one in the shared CMU library retargets onto the character
with its feet on the ground and walking the way it faces; the calibration it relies on
(rebasing onto a frame, lead-in, translation unit) is checked on its own."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from characters import rotations as rot
from characters.skeleton import Skeleton
from retargeting.bvh import BvhClip, read_bvh, write_bvh
from retargeting.bvh_calibration import calibrate, frame_alignment, lead_in_frames, observed_hinge_normal, rebase
from retargeting.bvh_import import best_joint_map, bvh_to_smpl
from retargeting.convert import as_character, load_motion
from retargeting.smpl import SMPL_JOINTS, SmplMotion
from tests.conftest import SHARED_DATA, require_shared

LIBRARY = SHARED_DATA / "mocap" / "cmu_library"

# index.csv's skeleton_convention -> the built-in joint map that must be chosen.
MAP_OF_CONVENTION = {
    "CMU/MotionBuilder": "cmu_cgspeed",
    "DAZ-friendly": "daz",
    "Reallusion CC3": "cc3",
    "CMU-original ASF names": "cmu_asf",
    "CMU-native lowercase": "cmu_lowercase",
    "MakeHuman default+face": "makehuman",
}


def _random_clip(rng: np.random.Generator, frames: int = 6) -> BvhClip:
    """A branching 6-joint skeleton with random offsets, rotations, root path and an End Site."""
    parents = np.array([-1, 0, 1, 2, 1, 4])
    skeleton = Skeleton(tuple(f"j{i}" for i in range(6)), parents, rng.normal(size=(6, 3)))
    local = rot.normalize(rng.normal(size=(frames, 6, 4)))
    return BvhClip(skeleton, rng.normal(size=(frames, 3)), local, 1 / 30, {3: rng.normal(size=3), 5: rng.normal(size=3)})


def _end_site_positions(clip: BvhClip) -> np.ndarray:
    pos, world = clip.skeleton.forward_kinematics(clip.root_pos, clip.local_rot)
    return np.stack([pos[:, j] + rot.rotate(world[:, j], np.broadcast_to(e, pos[:, j].shape)) for j, e in sorted(clip.end_sites.items())], axis=1)


@pytest.mark.parametrize("frame", [0, 3])
def test_rebase_makes_the_frame_the_rest_pose_and_keeps_every_position(frame):
    clip = _random_clip(np.random.default_rng(frame))
    rebased = rebase(clip, frame)
    identity = rot.identity((len(clip.skeleton),))
    assert np.degrees(rot.geodesic_angle(rebased.local_rot[frame], identity)).max() < 1e-9
    assert np.allclose(rebased.skeleton.rest_rotations, identity)
    before, _ = clip.skeleton.forward_kinematics(clip.root_pos, clip.local_rot)
    after, _ = rebased.skeleton.forward_kinematics(rebased.root_pos, rebased.local_rot)
    assert np.abs(after - before).max() < 1e-9
    assert np.abs(rebased.skeleton.rest_positions() - before[frame]).max() < 1e-9
    assert np.abs(_end_site_positions(rebased) - _end_site_positions(clip)).max() < 1e-9


def test_lead_in_is_the_jump_and_blend_before_the_motion():
    """A T-pose frame, three frames blending towards the motion, then 1 deg per frame at 120 fps."""
    angles = np.radians(np.concatenate([[0.0, 45.0, 65.0, 75.0], 79.0 + np.arange(120.0)]))
    world = rot.about_axis(np.array([1.0, 0.0, 0.0]), angles)[:, None]  # (T, 1, 4)
    assert lead_in_frames(world, 1 / 120) == 4
    assert lead_in_frames(world[4:], 1 / 120) == 0


def test_hinge_plane_is_read_from_the_motion():
    """A two-bone limb bending about z whatever its upper bone does: the plane's normal is z in
    the upper joint's frame, and the frame alignment puts a target's hinge onto it."""
    rng = np.random.default_rng(1)
    frames = 50
    upper = rot.normalize(rng.normal(size=(frames, 4)))
    bend = rot.multiply(upper, rot.about_axis(np.array([0.0, 0.0, 1.0]), np.linspace(0.3, 1.5, frames)))
    world = np.stack([upper, bend, bend], axis=1)
    positions = np.zeros((frames, 3, 3))
    positions[:, 1] = rot.rotate(upper, np.broadcast_to([0.0, -1.0, 0.0], (frames, 3)))
    positions[:, 2] = positions[:, 1] + rot.rotate(bend, np.broadcast_to([0.0, -1.0, 0.0], (frames, 3)))
    normal = observed_hinge_normal(positions, world, 0, 1, 2)
    assert normal is not None and abs(normal @ [0.0, 0.0, 1.0]) > 0.999
    align = frame_alignment(np.array([1.0, 0, 0]), np.array([0, 1.0, 0]), np.array([0, -1.0, 0]), normal)
    assert np.allclose(rot.rotate(align, np.array([1.0, 0, 0])), [0, -1, 0], atol=1e-9)
    assert np.allclose(rot.rotate(align, np.array([0, 1.0, 0])), normal, atol=1e-9)


def test_t_pose_first_frame_aligns_a_rig_whose_rest_pose_is_not_human(tmp_path):
    """Turn every joint frame of a DAZ walk (T-pose first frame) by a random rotation, as rigs
    with bone-local axes do: the OFFSET rest pose becomes a tangle, the motion stays the same,
    and the import must not change."""
    path = require_shared(LIBRARY / "cmu_daz" / "02_02.bvh")
    clip = read_bvh(path)
    skeleton, parents = clip.skeleton, clip.skeleton.parents
    turn = rot.normalize(np.random.default_rng(0).normal(size=(len(skeleton), 4)))  # G'_j = G_j * turn_j
    parent_turn = np.where((parents < 0)[:, None], rot.identity((len(skeleton),)), turn[np.maximum(parents, 0)])
    offsets = np.where((parents < 0)[:, None], skeleton.offsets, rot.rotate(rot.conjugate(parent_turn), skeleton.offsets))
    local = rot.multiply(rot.multiply(rot.conjugate(parent_turn), clip.local_rot), turn)
    tangled = tmp_path / "tangled.bvh"
    write_bvh(tangled, Skeleton(skeleton.names, parents, offsets), clip.root_pos, local, clip.frame_time)
    expected, got = bvh_to_smpl(path), bvh_to_smpl(tangled)
    assert got.num_frames == expected.num_frames
    assert np.degrees(rot.geodesic_angle(got.local_rotations, expected.local_rotations)).max() < 0.5
    assert np.abs(got.trans - expected.trans).max() < 1e-3


def _joint_names(path: Path) -> tuple[str, ...]:
    """The joint names of a BVH file's HIERARCHY, without parsing its motion."""
    hierarchy = path.read_text().split("MOTION", 1)[0]
    return tuple(re.findall(r"\b(?:ROOT|JOINT)\s+(\S+)", hierarchy))


def test_every_library_file_gets_its_conventions_joint_map():
    index = require_shared(LIBRARY / "index.csv")
    rows = list(csv.DictReader(index.open()))
    assert len(rows) == 117
    for row in rows:
        path = LIBRARY / row["file"]
        clip = SimpleNamespace(skeleton=SimpleNamespace(names=_joint_names(path)))
        name, _ = best_joint_map(path, clip, None)  # type: ignore[arg-type]
        assert name == MAP_OF_CONVENTION[row["skeleton_convention"]], row["file"]


def _hinge_off_plane_deg(smpl: SmplMotion) -> dict[str, float]:
    """Median angle (deg) by which SMPL's knees and elbows, where bent over 20 deg, leave their
    hinge plane (knees bend about x, elbows about y in SMPL's T-pose)."""
    local = smpl.local_rotations
    out = {}
    for joint, bone, normal_axis in (("left_knee", [0, -1, 0], 0), ("right_knee", [0, -1, 0], 0), ("left_elbow", [1, 0, 0], 1), ("right_elbow", [-1, 0, 0], 1)):
        q = local[:, SMPL_JOINTS.index(joint)]
        lower = rot.rotate(q, np.broadcast_to(np.array(bone, float), q.shape[:1] + (3,)))
        bent = lower @ np.array(bone, float) < np.cos(np.radians(20))
        out[joint] = float(np.median(np.degrees(np.abs(np.arcsin(lower[bent, normal_axis]))))) if bent.any() else 0.0
    return out


# (convention, file, built-in map, seconds used, how it travels, min and max root speed m/s)
CONVENTION_CLIPS = [
    ("MotionBuilder", "cmu_mb/02_01.bvh", "cmu_cgspeed", 3.0, "forward", 0.8, 2.0),  # walk
    ("DAZ", "cmu_daz/07_01.bvh", "daz", 3.0, "forward", 0.8, 2.0),  # walk
    ("DAZ-salsa-scaled", "cmu_daz_salsa/60_12.bvh", "daz", 5.0, "along facing", 0.1, 1.0),  # salsa: steps forward and back
    ("CC3", "cmu_cc3/06_02.bvh", "cc3", 5.0, "forward", 0.5, 2.0),  # basketball, dribbling forward
    ("ASF-original", "cmu_other/16_01.bvh", "cmu_asf", 3.0, "in place", 0.0, 0.3),  # jump on the spot
    ("CMU-native-lowercase", "cmu_other/102_01cc.bvh", "cmu_lowercase", 3.0, "forward", 1.5, 4.0),  # running wide turn
    ("MakeHuman", "cmu_other/49_04_makehuman.bvh", "makehuman", 4.0, "forward", 0.2, 2.0),  # run (its header says 25 fps)
]


@pytest.mark.parametrize("convention, name, map_name, seconds, travel, min_speed, max_speed", CONVENTION_CLIPS, ids=[c[0] for c in CONVENTION_CLIPS])
def test_convention_retargets_onto_the_ground_and_forward(character, convention, name, map_name, seconds, travel, min_speed, max_speed):
    path = require_shared(LIBRARY / name)
    assert best_joint_map(path, read_bvh(path), None)[0] == map_name
    smpl = load_motion(path, character)
    frames = int(seconds * smpl.fps)
    smpl = SmplMotion(smpl.poses[:frames], smpl.trans[:frames], smpl.fps)
    off_plane = _hinge_off_plane_deg(smpl)
    assert max(off_plane.values()) < 10.0, f"{convention}: knees/elbows bend off their hinge plane by {off_plane}"

    motion = as_character(smpl, character, cleanup=True)
    pos, rots = motion.body_frames()
    lowest = character.lowest_heights(pos, rots, character.contact_bodies).min(axis=1)  # (T,) m
    assert lowest.min() > -0.02, f"{convention}: a foot is {-lowest.min() * 100:.1f} cm under the ground"
    assert np.mean(lowest < 0.05) > 0.6, f"{convention}: the lowest foot is within 5 cm of the ground in only {np.mean(lowest < 0.05):.0%} of frames"
    assert np.all(pos[:, character.body("neck"), 1] > pos[:, 0, 1]), f"{convention}: the character is not upright"
    heights = character.lowest_heights(pos, rots, character.contact_bodies)
    lower = np.argmin(heights, axis=1)
    standing = heights[np.arange(len(lower)), lower] < 0.03
    foot_rot = rots[np.arange(len(lower)), np.array(character.contact_bodies)[lower]][standing]
    foot_up = rot.rotate(foot_rot, np.broadcast_to(character.up, foot_rot.shape[:-1] + (3,)))
    tilt = np.median(np.degrees(np.arccos(np.clip(foot_up @ character.up, -1.0, 1.0))))
    assert tilt < 20.0, f"{convention}: the foot on the ground is tilted by {tilt:.0f} deg"

    path_xz = motion.root_pos[:, [0, 2]]
    step = np.diff(path_xz, axis=0)  # (T-1, 2) m
    facing = rot.rotate(motion.root_rot, np.broadcast_to(character.forward, motion.root_pos.shape))[:-1, [0, 2]]
    facing /= np.linalg.norm(facing, axis=1, keepdims=True)
    along = np.sum(step * facing, axis=1)
    length = np.linalg.norm(step, axis=1).sum()
    speed = length / motion.duration
    assert min_speed <= speed <= max_speed, f"{convention}: the root moves at {speed:.2f} m/s"
    if travel == "forward":
        assert along.sum() > 0.8 * length, f"{convention}: only {along.sum() / length:.0%} of the root's path is forward"
        assert np.linalg.norm(path_xz[-1] - path_xz[0]) > 0.5 * min_speed * motion.duration
    elif travel == "along facing":
        assert np.abs(along).sum() > 0.6 * length, f"{convention}: the root moves mostly sideways"
    else:
        assert np.linalg.norm(path_xz[-1] - path_xz[0]) < 0.5
        assert lowest.max() > 0.1, f"{convention}: the jump left the ground by only {lowest.max() * 100:.0f} cm"


def test_translation_unit_is_read_from_the_feet():
    """102_01cc.bvh stores its root path 10x smaller than its bones; 02_01.bvh is consistent."""
    for name, low, high in (("cmu_other/102_01cc.bvh", 8.0, 12.0), ("cmu_mb/02_01.bvh", 1.0, 1.0)):
        path = require_shared(LIBRARY / name)
        clip = read_bvh(path)
        _, mapping = best_joint_map(path, clip, None)
        _, calibration = calibrate(clip, {j: clip.skeleton.index(b) for j, b in mapping.items()})
        assert low <= calibration.translation_scale <= high, (name, calibration)
