"""The ``fused`` estimator's arithmetic (``pose_estimation/fusion.py``)."""

import numpy as np
import pytest

from characters import rotations as rot
from pose_estimation.fusion import fuse_motions, fused_estimator
from retargeting.smpl import SmplMotion


def random_motion(seed: int, frames: int = 12, fps: float = 30.0) -> SmplMotion:
    rng = np.random.default_rng(seed)
    return SmplMotion(rng.normal(scale=0.8, size=(frames, 24, 3)), rng.normal(size=(frames, 3)), fps)


def test_the_ends_give_each_estimate_and_the_middle_is_halfway():
    a, b = random_motion(0), random_motion(1)
    assert np.allclose(fuse_motions(a, b, 0.0).joint_positions(), a.joint_positions(), atol=1e-6)
    assert np.allclose(fuse_motions(a, b, 1.0).joint_positions(), b.joint_positions(), atol=1e-6)
    half = fuse_motions(a, b, 0.5)
    to_a = rot.geodesic_angle(half.local_rotations, a.local_rotations)
    to_b = rot.geodesic_angle(half.local_rotations, b.local_rotations)
    apart = rot.geodesic_angle(a.local_rotations, b.local_rotations)
    assert np.allclose(to_a, to_b, atol=1e-6) and np.allclose(to_a + to_b, apart, atol=1e-6)
    assert np.allclose(half.pelvis_positions, 0.5 * (a.pelvis_positions + b.pelvis_positions))
    assert half.fps == a.fps and half.num_frames == a.num_frames


def test_estimates_of_different_frames_are_refused():
    with pytest.raises(ValueError, match="different frames"):
        fuse_motions(random_motion(0, frames=12), random_motion(1, frames=11))
    with pytest.raises(ValueError, match="frame rates"):
        fuse_motions(random_motion(0, fps=30.0), random_motion(1, fps=60.0))
    with pytest.raises(ValueError, match="weight_b"):
        fuse_motions(random_motion(0), random_motion(1), 1.5)


def test_the_estimator_fuses_what_its_two_estimators_give():
    a, b = random_motion(2), random_motion(3)
    fused = fused_estimator(lambda front: a, lambda front: b)(None)
    assert np.allclose(fused.joint_positions(), fuse_motions(a, b).joint_positions())


def test_the_light_list_of_estimators_is_the_registry():
    from pose_estimation import DEFAULT_ESTIMATOR, ESTIMATOR_NAMES
    from pose_estimation.estimate import ESTIMATORS

    assert ESTIMATOR_NAMES == tuple(ESTIMATORS) and DEFAULT_ESTIMATOR in ESTIMATORS


def test_the_evaluation_runs_each_estimator_once_per_view_and_fused_reuses_it():
    from app.estimator_cli import _per_front_cache

    calls = {"a": [], "b": []}

    def counted(name: str, seed: int):
        def estimator(front):
            calls[name].append(front)
            return random_motion(seed + front)

        return estimator

    a, b = _per_front_cache(counted("a", 0)), _per_front_cache(counted("b", 100))
    fused = fused_estimator(a, b)
    fronts = [1, 2, 3]
    alone = [a(f) for f in fronts] + [b(f) for f in fronts]
    together = [fused(f) for f in fronts]
    assert calls == {"a": fronts, "b": fronts}  # the fused pass ran neither again
    for f, motion in zip(fronts, together):
        direct = fuse_motions(random_motion(f), random_motion(100 + f))
        assert np.allclose(motion.joint_positions(), direct.joint_positions())
    assert alone[0] is a(1)
