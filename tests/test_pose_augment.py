"""Pose augmentation: body parts swapped between clips and smooth joint-angle noise."""

import numpy as np

from characters import rotations as rot
from pose_estimation.pose_augment import LEFT_ARM, LEFT_LEG, PARTS, RIGHT_LEG, UPPER_BODY, joint_noise, local_from_world, swap_part, world_from_local


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
