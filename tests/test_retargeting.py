import json

import numpy as np
import pytest

from characters import rotations as rot
from characters.character import DEFAULT_SPEC, load_character
from retargeting.bvh_import import bvh_to_smpl
from retargeting.cleanup import CleanupOptions, contact_slide, detect_contacts
from retargeting.deepmimic_file import read_deepmimic
from retargeting.roundtrip import roundtrip_errors
from retargeting.smpl import SmplMotion
from retargeting.smpl_character import character_to_smpl, project_hinges, smpl_to_character
from tests.conftest import CMU_131_01, CORE_CLIPS, SHARED_CLIPS, WALK, require_shared


@pytest.mark.parametrize("path", CORE_CLIPS + SHARED_CLIPS, ids=lambda p: p.stem)
def test_character_smpl_character_round_trip(path, character):
    errors = roundtrip_errors(read_deepmimic(path, character))
    assert errors["mean_geodesic_deg"] <= 2.0
    assert errors["mean_ee_error_cm"] <= 1.0 and errors["max_ee_error_cm"] <= 1.0


def test_walk_lands_on_the_smpl_body_sensibly(character):
    smpl = character_to_smpl(read_deepmimic(WALK, character))
    joints = smpl.joint_positions()
    names = smpl.skeleton.names
    head, pelvis = joints[:, names.index("head")], joints[:, names.index("pelvis")]
    assert np.all(head[:, 1] - pelvis[:, 1] > 0.4)  # upright
    left = joints[:, names.index("left_hip")] - joints[:, names.index("right_hip")]
    # The character walks along +X with its right on +Z, so SMPL's left must be on -Z.
    assert np.all(left[:, 2] < -0.05)
    ankles = joints[:, [names.index("left_ankle"), names.index("right_ankle")], 1]
    assert np.all(ankles.min(axis=1) < 0.15)  # one foot is always near the ground


def test_hinge_projection_keeps_child_rotation(character):
    rng = np.random.default_rng(2)
    local = rot.normalize(rng.normal(size=(10, character.num_bodies, 4)))
    projected = project_hinges(character, local)
    root = np.zeros((10, 3))
    _, before = character.skeleton.forward_kinematics(root, local)
    _, after = character.skeleton.forward_kinematics(root, projected)
    for b, kind in enumerate(character.joint_types):
        if kind == "revolute":
            assert np.max(rot.geodesic_angle(before[:, b], after[:, b])) < 1e-9
            swing, _ = rot.swing_twist(projected[:, b], character.hinge_axes[b])
            assert np.max(rot.geodesic_angle(swing, rot.identity((10,)))) < 1e-9


def test_cmu_bvh_to_character_ground_and_contacts(character):
    smpl = bvh_to_smpl(require_shared(CMU_131_01))
    assert smpl.num_frames == 994 and smpl.fps == pytest.approx(120, rel=1e-3)
    motion = smpl_to_character(smpl, character)
    pos, rots = motion.body_frames()
    feet = character.lowest_heights(pos, rots, character.contact_bodies)
    assert feet.min() > -0.01, f"a foot is {-feet.min() * 100:.1f} cm below the ground"
    contacts = detect_contacts(motion, CleanupOptions())
    assert contacts.mean() > 0.2  # a standing/dancing clip: feet are down much of the time
    slide = contact_slide(motion, contacts)
    assert np.median(slide) <= 0.02


def test_cleanup_removes_injected_foot_skate(character):
    """Slide a planted foot artificially; the cleanup must pin it again."""
    walk = read_deepmimic(WALK, character)
    smpl = character_to_smpl(walk)
    jitter = np.zeros_like(smpl.trans)
    jitter[:, 0] = 0.03 * np.sin(np.arange(smpl.num_frames) * 1.3)  # 3 cm wobble of the whole body
    noisy = SmplMotion(smpl.poses, smpl.trans + jitter, smpl.fps)
    raw = smpl_to_character(noisy, character, cleanup=None)
    clean = smpl_to_character(noisy, character)
    contacts = detect_contacts(clean, CleanupOptions(contact_speed_mps=10.0))
    assert np.median(contact_slide(clean, contacts)) < 0.5 * np.median(contact_slide(raw, contacts))


def test_a_second_character_retargets_without_code_changes(tmp_path, character):
    spec = json.loads(DEFAULT_SPEC.read_text())
    text = character.urdf_path.read_bytes().rstrip(b"\0").decode().replace('"right_knee"', '"r_shin"')
    (tmp_path / "robot.urdf").write_text(text)
    spec["urdf"] = "robot.urdf"
    spec["joints"]["r_shin"] = spec["joints"].pop("right_knee")
    spec["smpl_map"]["r_shin"] = spec["smpl_map"].pop("right_knee")
    spec["motion_joints"] = ["r_shin" if j == "right_knee" else j for j in spec["motion_joints"]]
    (tmp_path / "robot.json").write_text(json.dumps(spec))
    robot = load_character(tmp_path / "robot.json")
    smpl = character_to_smpl(read_deepmimic(WALK, character))
    a = smpl_to_character(smpl, character, cleanup=None)
    b = smpl_to_character(smpl, robot, cleanup=None)
    assert np.max(rot.geodesic_angle(a.joint_rot, b.joint_rot)) < 1e-9


def test_level_ground_undoes_a_camera_pitch(character):
    """Tilt three walk cycles by 6 deg (as an unknown camera pitch would); levelling must undo it."""
    from dataclasses import replace

    from retargeting.cleanup import floor_plane, level_motion

    walk = read_deepmimic(WALK, character)
    times = np.arange(0, 3 * walk.duration, 1 / 30)
    root_pos, root_rot, joint_rot = walk.sample(times)
    tilt = rot.about_axis(np.array([0.0, 0.0, 1.0]), np.radians(6.0))
    tilted = replace(walk, frame_dt=np.full(len(times), 1 / 30), root_pos=rot.rotate(tilt, root_pos), root_rot=rot.multiply(np.broadcast_to(tilt, root_rot.shape), root_rot), joint_rot=joint_rot, loop="none")

    def slope_deg(motion):
        return np.degrees(np.arccos(floor_plane(motion)[0][1]))

    assert 5.0 < slope_deg(tilted) < 7.0
    assert slope_deg(level_motion(tilted)) < 0.5
    standing = replace(tilted, root_pos=tilted.root_pos * [0, 1, 0])  # no travel: the slope cannot be measured
    assert floor_plane(standing) is None and level_motion(standing) is standing


def test_video_cleanup_plants_gliding_feet_flat(character):
    """Feet that glide with the body (root travel doubled) and tilt with the shin, as a monocular
    estimate gives them: the video cleanup levels the feet and plants the lower one."""
    from dataclasses import replace

    from retargeting.cleanup import VIDEO_ESTIMATE_CLEANUP, clean_motion, flatten_feet

    walk = read_deepmimic(WALK, character)
    times = np.arange(0, 3 * walk.duration, 1 / 30)
    root_pos, root_rot, joint_rot = walk.sample(times)
    ankles = [character.motion_joints.index(b) for b in character.contact_bodies]
    joint_rot[:, ankles] = rot.identity()  # feet at rest: they follow the shin
    root_pos[:, 0] = root_pos[0, 0] + 2.0 * (root_pos[:, 0] - root_pos[0, 0])
    gliding = replace(walk, frame_dt=np.full(len(times), 1 / 30), root_pos=root_pos, root_rot=root_rot, joint_rot=joint_rot, loop="none")

    flat = flatten_feet(gliding)
    _, rots = flat.body_frames()
    for b in character.contact_bodies:
        assert np.allclose(rot.rotate(rots[:, b], np.array([0.0, 1.0, 0.0]))[:, 1], 1.0)

    speed_only = detect_contacts(gliding, CleanupOptions())
    clean, contacts = clean_motion(gliding, VIDEO_ESTIMATE_CLEANUP)
    assert speed_only.mean() < 0.25 and contacts.mean(axis=0).min() > 0.35
    default, _ = clean_motion(gliding, CleanupOptions())
    # the same stance frames, slide per frame: planted vs still gliding
    assert np.median(contact_slide(clean, contacts)) < 0.3 * np.median(contact_slide(default, contacts))


def test_brief_whole_body_turns_are_repaired(character):
    """A 60-degree turn of the whole body for 8 frames (a monocular depth-order confusion) is found
    and re-interpolated; the rest of the clip is untouched."""
    from dataclasses import replace

    from retargeting.cleanup import repair_frames, turn_outliers

    walk = read_deepmimic(WALK, character)
    times = np.arange(0, 3 * walk.duration, 1 / 30)
    root_pos, root_rot, joint_rot = walk.sample(times)
    clean = replace(walk, frame_dt=np.full(len(times), 1 / 30), root_pos=root_pos, root_rot=root_rot, joint_rot=joint_rot, loop="none")
    turned = root_rot.copy()
    turned[50:58] = rot.multiply(rot.about_axis(np.array([0.0, 1.0, 0.0]), np.radians(60.0)), turned[50:58])
    noisy = replace(clean, root_rot=turned)
    bad = turn_outliers(noisy, 20.0)
    assert bad[50:58].all() and bad.sum() <= 10
    assert not turn_outliers(clean, 20.0).any()
    repaired = repair_frames(noisy, bad)
    assert np.degrees(rot.geodesic_angle(repaired.root_rot, root_rot)).max() < 10.0
