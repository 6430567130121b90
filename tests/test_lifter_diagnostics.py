"""The leg-raise measure and binning of lifter_research/scripts/lifter_diagnostics.py."""

import numpy as np

from lifter_research.scripts.lifter_diagnostics import binned_by_leg_raise, leg_raise_deg


def _body(left_knee: tuple[float, float, float], tilt_deg: float = 0.0) -> np.ndarray:
    """SMPL joints ``(24, 3)``: pelvis at the origin, neck 0.5 m above, hips 0.1 m to each side,
    the right knee 0.4 m below its hip, the left knee where given; all turned by ``tilt_deg``
    about the depth axis (the measure is relative to the torso, so tilting must not change it)."""
    joints = np.zeros((24, 3))
    joints[12] = (0.0, 0.5, 0.0)
    joints[1], joints[2] = (0.1, 0.0, 0.0), (-0.1, 0.0, 0.0)
    joints[4] = np.add(joints[1], left_knee)
    joints[5] = (-0.1, -0.4, 0.0)
    a = np.radians(tilt_deg)
    turn = np.array([[np.cos(a), -np.sin(a), 0.0], [np.sin(a), np.cos(a), 0.0], [0.0, 0.0, 1.0]])
    return joints @ turn.T


def test_leg_raise_is_the_more_raised_thigh_against_the_torso():
    frames = np.stack([_body((0.0, -0.4, 0.0)), _body((0.0, 0.0, 0.4)), _body((0.0, 0.0, 0.4), tilt_deg=35.0),
                       _body((0.0, 0.3, 0.3)), _body((0.0, 0.2, 0.2 * np.sqrt(3.0)))])
    np.testing.assert_allclose(leg_raise_deg(frames), [0.0, 90.0, 90.0, 135.0, 120.0], atol=1e-6)


def test_binning_keeps_frames_in_their_bins_and_skips_empty_ones():
    errors = np.array([0.010, 0.030, 0.100, 0.200, 0.300])
    raise_deg = np.array([5.0, 25.0, 95.0, 125.0, 179.0])
    assert binned_by_leg_raise(errors, raise_deg) == {
        "0-30": {"frames": 2, "pa_mpjpe_mm": 20.0},
        "90-120": {"frames": 1, "pa_mpjpe_mm": 100.0},
        "120-180": {"frames": 2, "pa_mpjpe_mm": 250.0},
    }
