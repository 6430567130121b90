import numpy as np
import pytest

from characters import rotations as rot
from retargeting.amass_file import read_amass, write_amass
from retargeting.deepmimic_file import motion_to_frames, read_deepmimic, write_deepmimic
from retargeting.smpl import SmplMotion
from retargeting.smpl_character import character_to_smpl
from tests.conftest import CORE_CLIPS, SHARED_CLIPS, WALK


def test_all_clips_are_found():
    assert len(CORE_CLIPS) == 15
    if SHARED_CLIPS:
        assert len(SHARED_CLIPS) == 11


@pytest.mark.parametrize("path", CORE_CLIPS + SHARED_CLIPS, ids=lambda p: p.stem)
def test_deepmimic_read_write_read_is_identical(path, character, tmp_path):
    first = read_deepmimic(path, character)
    write_deepmimic(tmp_path / "copy.txt", first)
    second = read_deepmimic(tmp_path / "copy.txt", character)
    assert np.max(np.abs(motion_to_frames(first) - motion_to_frames(second))) <= 1e-9
    assert second.loop == first.loop and second.extra == first.extra
    # and the numbers equal the file's own, quaternions normalised (w, x, y, z in the file)
    assert np.max(np.abs(motion_to_frames(first)[:, :4] - np.array([f[:4] for f in __import__("json").loads(path.read_text())["Frames"]]))) < 1e-12


def test_resample_keeps_poses_at_shared_times(character):
    walk = read_deepmimic(WALK, character)
    doubled = walk.resample(2 * walk.fps)
    assert doubled.num_frames == 2 * walk.num_frames - 1
    assert np.max(rot.geodesic_angle(doubled.joint_rot[::2], walk.joint_rot)) < 1e-6
    assert np.allclose(doubled.root_pos[::2], walk.root_pos, atol=1e-6)
    midpoint = rot.slerp(walk.joint_rot[3], walk.joint_rot[4], 0.5)
    assert np.max(rot.geodesic_angle(doubled.joint_rot[7], midpoint)) < 1e-6


def test_wrap_clip_continues_with_root_offset(character):
    walk = read_deepmimic(WALK, character)
    root, _, joints = walk.sample(np.array([0.1, 0.1 + walk.duration]))
    stride = walk.root_pos[-1, [0, 2]] - walk.root_pos[0, [0, 2]]
    assert np.allclose(root[1, [0, 2]] - root[0, [0, 2]], stride)
    assert np.isclose(root[1, 1], root[0, 1])
    assert np.max(rot.geodesic_angle(joints[0], joints[1])) < 1e-9
    far, _, _ = walk.sample(np.array([20.0]))
    assert far[0, 0] > 10 * abs(stride[0]) - 1.0  # still walking forwards after 20 s


def test_angular_velocity_of_constant_rotation(character):
    walk = read_deepmimic(WALK, character)
    omega = np.array([0.3, -1.0, 0.5])
    t = walk.times
    walk.joint_rot[:, 0] = rot.from_axis_angle(t[:, None] * omega)
    assert np.allclose(walk.joint_angular_velocity()[:, 0], omega, atol=1e-9)


def test_mirror_swaps_sides(character):
    walk = read_deepmimic(WALK, character)
    mirrored = walk.mirrored()
    pos, _ = walk.body_frames()
    mpos, _ = mirrored.body_frames()
    twin = character.mirror_bodies
    reflected = pos * np.array([1, 1, -1.0])
    assert np.allclose(mpos[:, twin], reflected, atol=1e-9)
    back = mirrored.mirrored()
    assert np.max(rot.geodesic_angle(back.joint_rot, walk.joint_rot)) < 1e-9


def test_amass_round_trip_and_z_up_in_file(character, tmp_path):
    smpl = character_to_smpl(read_deepmimic(WALK, character))
    write_amass(tmp_path / "walk.npz", smpl)
    with np.load(tmp_path / "walk.npz") as f:
        assert f["poses"].shape == (smpl.num_frames, 72)
        assert float(f["mocap_framerate"]) == pytest.approx(smpl.fps)
        # Z up in the file: the pelvis is ~0.9 m up along Z.
        assert 0.7 < np.mean(f["trans"][:, 2]) + 0.0 < 1.2
    back = read_amass(tmp_path / "walk.npz")
    assert np.allclose(back.joint_positions(), smpl.joint_positions(), atol=1e-9)


def test_amass_accepts_smplh_52_joints(tmp_path):
    frames = 5
    poses = np.zeros((frames, 156))
    poses[:, 3 * 4] = 0.5  # left knee
    poses[:, 3 * 30] = 1.0  # a finger: dropped
    np.savez(tmp_path / "h.npz", poses=poses, trans=np.zeros((frames, 3)), betas=np.zeros(16), mocap_framerate=120.0, gender="female")
    motion = read_amass(tmp_path / "h.npz")
    assert motion.poses.shape == (frames, 24, 3) and motion.fps == 120.0 and motion.gender == "female"
    assert np.isclose(motion.poses[0, 4, 0], 0.5) and np.allclose(motion.poses[:, 22:], 0)


def test_smplx_fk_equals_skeleton_fk():
    rng = np.random.default_rng(0)
    motion = SmplMotion(rng.normal(scale=0.4, size=(6, 24, 3)), rng.normal(size=(6, 3)), 30.0)
    positions, _ = motion.skeleton.forward_kinematics(motion.pelvis_positions, motion.local_rotations)
    assert np.allclose(motion.joint_positions(), positions, atol=1e-9)


def fake_smpl_model(path, scale_beta: float):
    """A tiny stand-in SMPL model file (one vertex per joint) in the format smplx reads.

    The real SMPL model is licensed and not shipped; this has its keys and shapes, with the
    joint regressor picking each joint's own vertex and beta 0 scaling the body.
    """
    from retargeting.smpl import SMPL_PARENTS, smpl_skeleton

    rest = smpl_skeleton().rest_positions()
    v = rest.shape[0]
    shapedirs = np.zeros((v, 3, 10))
    shapedirs[:, :, 0] = scale_beta * rest  # beta_0 = 1 makes the body (1 + scale_beta) times larger
    kintree = np.stack([np.where(SMPL_PARENTS < 0, 4294967295, SMPL_PARENTS), np.arange(24)]).astype(np.int64)
    np.savez(path, v_template=rest, shapedirs=shapedirs, posedirs=np.zeros((v, 3, 207)), J_regressor=np.eye(24),
             weights=np.eye(24), f=np.array([[0, 1, 2]], dtype=np.int64), kintree_table=kintree)


def test_user_smpl_model_gives_the_shaped_skeleton(tmp_path):
    from retargeting.smpl import smpl_skeleton

    fake_smpl_model(tmp_path / "SMPL_NEUTRAL.npz", scale_beta=0.1)
    frames = 3
    betas = np.zeros(10)
    betas[0] = 1.0
    np.savez(tmp_path / "m.npz", poses=np.zeros((frames, 72)), trans=np.zeros((frames, 3)), betas=betas, mocap_framerate=30.0)
    default = read_amass(tmp_path / "m.npz")
    shaped = read_amass(tmp_path / "m.npz", smpl_model=tmp_path / "SMPL_NEUTRAL.npz")
    assert np.allclose(shaped.skeleton.offsets[1:], 1.1 * smpl_skeleton().offsets[1:], atol=1e-6)
    legs = [np.linalg.norm(m.skeleton.offsets[4]) for m in (default, shaped)]
    assert legs[1] == pytest.approx(1.1 * legs[0], rel=1e-5)


def test_unusable_smpl_model_is_a_clear_error(tmp_path):
    from characters.errors import InputError

    (tmp_path / "bad.npz").write_bytes(b"nope")
    np.savez(tmp_path / "m.npz", poses=np.zeros((2, 72)), trans=np.zeros((2, 3)), mocap_framerate=30.0)
    with pytest.raises(InputError, match="bad.npz"):
        read_amass(tmp_path / "m.npz", smpl_model=tmp_path / "bad.npz")
