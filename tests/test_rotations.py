import numpy as np
import pytest

from characters import rotations as rot

RNG = np.random.default_rng(7)


def random_quats(n):
    return rot.normalize(RNG.normal(size=(n, 4)))


@pytest.mark.parametrize("order", ["XYZ", "ZXY", "ZYX", "YXZ", "XZY", "YZX"])
def test_euler_round_trip(order):
    angles = RNG.uniform(-1.4, 1.4, size=(200, 3))
    q = rot.from_euler(angles, order)
    assert np.allclose(rot.to_euler(q, order), angles, atol=1e-9)


def test_euler_composition_is_intrinsic():
    # ZXY with only the Z angle set equals a rotation about Z; composed order matters.
    q = rot.from_euler(np.array([0.3, 0.2, 0.1]), "ZXY")
    manual = rot.multiply(rot.multiply(rot.about_axis(np.array([0, 0, 1.0]), 0.3), rot.about_axis(np.array([1.0, 0, 0]), 0.2)), rot.about_axis(np.array([0, 1.0, 0]), 0.1))
    assert np.allclose(q, manual)


def test_matrix_and_log_round_trips():
    q = random_quats(500)
    assert np.max(rot.geodesic_angle(rot.from_matrix(rot.to_matrix(q)), q)) < 1e-9
    assert np.max(rot.geodesic_angle(rot.from_axis_angle(rot.to_axis_angle(q)), q)) < 1e-9
    v = RNG.normal(size=(500, 3))
    assert np.allclose(rot.rotate(q, v), np.einsum("nij,nj->ni", rot.to_matrix(q), v))


def test_known_rotation():
    q = rot.about_axis(np.array([0, 1.0, 0]), np.pi / 2)
    assert np.allclose(rot.rotate(q, np.array([0, 0, 1.0])), [1, 0, 0])
    assert np.isclose(rot.geodesic_angle(q, rot.identity()), np.pi / 2)


def test_swing_twist_recomposes_and_swing_has_no_twist():
    q = random_quats(300)
    axis = np.array([0, 0, 1.0])
    swing, twist = rot.swing_twist(q, axis)
    assert np.max(rot.geodesic_angle(rot.multiply(swing, twist), q)) < 1e-9
    assert np.allclose(swing[:, 2], 0, atol=1e-12)


def test_between_and_slerp():
    a, b = RNG.normal(size=(100, 3)), RNG.normal(size=(100, 3))
    moved = rot.rotate(rot.between(a, b), a / np.linalg.norm(a, axis=1, keepdims=True))
    assert np.allclose(moved, b / np.linalg.norm(b, axis=1, keepdims=True))
    p, q = random_quats(50), random_quats(50)
    half = rot.slerp(p, q, 0.5)
    assert np.allclose(rot.geodesic_angle(p, half), rot.geodesic_angle(half, q))
    assert np.max(rot.geodesic_angle(rot.slerp(p, q, 1.0), q)) < 1e-9


def test_fast_forms_match_the_definitions():
    a, b = random_quats(50), random_quats(50)
    assert np.allclose(np.matmul(rot.left_multiplication_matrices(a), b[:, :, None])[..., 0], rot.multiply(a, b))
    # to_matrix (outer-product form) rotates vectors exactly as the quaternion does
    v = RNG.normal(size=(50, 3))
    assert np.allclose(np.matmul(rot.to_matrix(a), v[:, :, None])[..., 0], rot.rotate(a, v))
