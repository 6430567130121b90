"""The real harness's paired block bootstrap (how sure a difference between estimators is)."""

import numpy as np
import pytest

from lifter_research.paired_bootstrap import paired_block_bootstrap


def test_a_constant_gap_is_certain():
    rng = np.random.default_rng(1)
    b = 80 + 20 * rng.random((4, 100))
    result = paired_block_bootstrap(b - 5.0, b)
    assert result["difference_mm"] == pytest.approx(-5.0)
    assert result["interval_95_mm"] == pytest.approx([-5.0, -5.0])
    assert result["share_a_lower"] == 1.0


def test_a_small_gap_under_correlated_noise_is_not_certain():
    """Errors that drift slowly over frames (as real ones do) leave a 1 mm gap undecided."""
    rng = np.random.default_rng(2)
    drift = np.cumsum(rng.normal(0, 3, (4, 100)), axis=1)
    b = 90 + rng.normal(0, 5, (4, 100))
    a = b - 1.0 + drift
    result = paired_block_bootstrap(a, b)
    low, high = result["interval_95_mm"]
    assert low < result["difference_mm"] < high
    assert low < 0 < high
    assert 0.0 < result["share_a_lower"] < 1.0


def test_the_interval_narrows_with_independent_frames():
    rng = np.random.default_rng(3)
    b = np.full((4, 400), 90.0)
    noisy = b + rng.normal(-2.0, 10.0, b.shape)
    wide = np.diff(paired_block_bootstrap(noisy[:, :100], b[:, :100])["interval_95_mm"])[0]
    narrow = np.diff(paired_block_bootstrap(noisy, b)["interval_95_mm"])[0]
    assert narrow < 0.7 * wide


def test_frames_missing_in_either_estimate_are_left_out():
    b = np.full((2, 50), 100.0)
    a = np.full((2, 50), 90.0)
    a[0, :10] = np.nan
    b[1, 40:] = np.nan
    a[1, 5] = 1e6
    b[1, 5] = np.nan  # an outlier of a on a frame b did not score does not count
    result = paired_block_bootstrap(a, b)
    assert result["difference_mm"] == pytest.approx(-10.0)


@pytest.mark.parametrize("a_shape, b_shape", [((4, 100), (3, 100)), ((100,), (100,))])
def test_mismatched_inputs_are_refused(a_shape, b_shape):
    with pytest.raises(ValueError, match="views, frames"):
        paired_block_bootstrap(np.zeros(a_shape), np.zeros(b_shape))


def test_too_few_frames_are_refused():
    with pytest.raises(ValueError, match="fewer than one block"):
        paired_block_bootstrap(np.zeros((4, 5)), np.zeros((4, 5)))
