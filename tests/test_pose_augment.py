"""Pose augmentation: body parts swapped between clips and smooth joint-angle noise."""

import numpy as np

from characters import rotations as rot
from lifter_research.pose_augment import (
    LEFT_ARM,
    LEFT_LEG,
    PARTS,
    RIGHT_LEG,
    UPPER_BODY,
    body_turns,
    joint_noise,
    limb_poses,
    local_from_world,
    swap_part,
    torso_bends,
    world_from_local,
)


def _world(seed: int, frames: int = 30) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rot.normalize(rng.normal(size=(frames, 24, 4)))


def _angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.linalg.norm(rot.to_axis_angle(rot.multiply(rot.conjugate(a), b)), axis=-1)


def test_local_world_round_trip():
    world = _world(0)
    assert np.allclose(np.abs((world_from_local(local_from_world(world)) * world).sum(-1)), 1.0, atol=1e-9)


def test_swap_moves_one_part_as_the_donor_and_keeps_the_rest():
    a, b = _world(1), _world(2)
    for seed in range(8):
        mixed = local_from_world(swap_part(np.random.default_rng(seed), a, b))
        la, lb = local_from_world(a), local_from_world(b)
        moved = np.flatnonzero(_angle(mixed, lb).max(axis=0) < 1e-6)
        kept = np.flatnonzero(_angle(mixed, la).max(axis=0) < 1e-6)
        assert any(sorted(p) == sorted(moved) for p in PARTS), moved
        assert set(kept) == set(range(24)) - set(moved)
    assert set(LEFT_ARM) < set(UPPER_BODY) and LEFT_LEG in PARTS and RIGHT_LEG in PARTS and not set(LEFT_LEG) & set(UPPER_BODY)


def test_joint_noise_is_smooth_and_of_the_asked_size():
    world = _world(3, frames=200)
    assert np.allclose(np.abs((joint_noise(np.random.default_rng(0), world, 0.0) * world).sum(-1)), 1.0, atol=1e-9)
    turned = joint_noise(np.random.default_rng(0), world, 0.2)
    change = _angle(local_from_world(world), local_from_world(turned))  # (T, 24)
    assert change[:, 0].max() < 1e-9  # the pelvis is left alone
    assert 0.12 < float(np.sqrt((change[:, 1:] ** 2).mean())) < 0.3
    offsets = rot.multiply(rot.conjugate(local_from_world(world)), local_from_world(turned))
    step = _angle(offsets[:-1], offsets[1:])
    assert float(step.mean()) < 0.1 * float(change[:, 1:].mean())  # slowly varying


def test_limb_poses_bend_only_the_limbs_and_reach_poses_a_walk_lacks():
    from lifter_research.synthetic import world_joints
    from retargeting.smpl import SMPL_JOINTS

    j = {n: i for i, n in enumerate(SMPL_JOINTS)}
    frames = 120
    rest = rot.identity((frames, 24))
    assert np.allclose(np.abs((limb_poses(np.random.default_rng(0), rest, limb_probability=0.0) * rest).sum(-1)), 1.0)
    limbs = {j[f"{s}_{n}"] for s in ("left", "right") for n in ("shoulder", "elbow", "hip", "knee")}
    hinges = {"left_elbow": [0.0, -1.0, 0.0], "right_elbow": [0.0, 1.0, 0.0], "left_knee": [1.0, 0.0, 0.0], "right_knee": [1.0, 0.0, 0.0]}
    arm_up, leg_out = [], []
    for seed in range(12):
        posed = limb_poses(np.random.default_rng(seed), rest, limb_probability=1.0)
        local = local_from_world(posed)
        change = _angle(rest, local).max(axis=0)
        assert set(np.flatnonzero(change > 1e-9)) <= limbs
        for name, axis in hinges.items():  # elbows and knees bend one way only, about their hinge
            angle = rot.to_axis_angle(local[:, j[name]])
            assert np.all(angle @ np.array(axis) >= -1e-9) and np.allclose(np.cross(angle, axis), 0.0, atol=1e-9), name
        step = _angle(local[:-1], local[1:]).max()
        assert step < 0.32  # rad per frame: at most half a turn eased over 0.5 s (smoothstep's peak slope is 1.5)
        joints = world_joints(posed, np.zeros((frames, 3)), np.zeros(10))
        upper_arm = joints[:, j["left_elbow"]] - joints[:, j["left_shoulder"]]
        thigh = joints[:, j["left_knee"]] - joints[:, j["left_hip"]]
        arm_up.append((upper_arm[:, 1] / np.linalg.norm(upper_arm, axis=-1)).max())
        leg_out.append((thigh[:, 0] / np.linalg.norm(thigh, axis=-1)).max())
    assert max(arm_up) > 0.7  # an arm raised above the shoulder
    assert max(leg_out) > 0.5  # a leg lifted to the side (about 30°)


def test_torso_bends_turn_only_the_spine_smoothly_and_bend_forward_and_sideways():
    from lifter_research.synthetic import world_joints
    from retargeting.smpl import SMPL_JOINTS

    j = {n: i for i, n in enumerate(SMPL_JOINTS)}
    world = _world(4, frames=120)
    forward, sideways = [], []
    for seed in range(10):
        bent = torso_bends(np.random.default_rng(seed), world)
        change = _angle(local_from_world(world), local_from_world(bent)).max(axis=0)
        assert set(np.flatnonzero(change > 1e-9)) == {j["spine1"], j["spine2"], j["spine3"]}
        offsets = rot.multiply(rot.conjugate(local_from_world(world)), local_from_world(bent))[:, j["spine1"]]
        assert _angle(offsets[:-1], offsets[1:]).max() < 0.1  # rad per frame for one spine joint: no jumps
        upright = world_joints(torso_bends(np.random.default_rng(seed), rot.identity((120, 24))), np.zeros((120, 3)), np.zeros(10))
        spine = upright[:, j["neck"]] - upright[:, j["pelvis"]]
        spine /= np.linalg.norm(spine, axis=-1, keepdims=True)
        forward.append(np.degrees(np.arcsin(spine[:, 2])).max())
        sideways.append(np.degrees(np.abs(np.arcsin(spine[:, 0]))).max())
    # The neck leans by about 0.6 of the bend: the pelvis-to-spine1 segment does not turn.
    assert max(forward) > 30.0 and max(sideways) > 15.0


def test_body_turns_spin_the_whole_body_about_the_vertical_smoothly():
    world = _world(5, frames=120)
    totals = []
    for seed in range(10):
        turned = body_turns(np.random.default_rng(seed), world)
        # The body's own pose is untouched: every joint's rotation relative to its parent.
        assert _angle(local_from_world(world)[:, 1:], local_from_world(turned)[:, 1:]).max() < 1e-9
        # The whole body turns by one rotation about the vertical per frame.
        turn = rot.multiply(turned, rot.conjugate(world))  # (T, 24, 4)
        assert _angle(turn[:, :1], turn).max() < 1e-9
        axis_angle = rot.to_axis_angle(turn[:, 0])
        assert np.abs(axis_angle[:, [0, 2]]).max() < 1e-9
        step = _angle(turn[:-1, 0], turn[1:, 0])
        assert step.max() <= 2 * np.pi * 1.5 / 30.0 + 1e-9  # never faster than 1.5 turns/s at 30 frames/s
        totals.append(np.abs(np.unwrap(axis_angle[:, 1])).max())
    assert max(totals) > np.pi  # some clips turn more than half a turn in 4 s
