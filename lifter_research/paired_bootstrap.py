"""How sure a difference between two estimators on the real harness is: a paired block bootstrap.

The harness is one short recording (100 frames at 60 frames/s, 1.7 s), and neighbouring frames'
errors are strongly correlated, so the spread of a mean difference is judged by resampling
blocks of consecutive frames — the same blocks in every view, as the views are synchronised —
and recomputing the mean over views of each view's mean PA-MPJPE difference.
"""

from __future__ import annotations

import numpy as np


def paired_block_bootstrap(a: np.ndarray, b: np.ndarray, block: int = 10, draws: int = 4000, seed: int = 0) -> dict:
    """The difference ``mean(a) - mean(b)`` and its bootstrap 95 % interval.

    ``a``, ``b``: ``(views, frames)`` per-frame errors (mm) of two estimators on the same frames;
    NaN where an estimator gave nothing (such frames are left out of that view's mean for both).
    The statistic is the mean over views of each view's mean difference, as the harness's
    headline is the mean over views. Returns the difference, the 2.5 and 97.5 percentiles of the
    resampled differences and the share of resamples in which ``a`` is lower.
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"a and b must be (views, frames) of one shape, got {a.shape} and {b.shape}")
    frames = a.shape[1]
    if frames < block:
        raise ValueError(f"{frames} frames are fewer than one block of {block}")
    diff = np.where(np.isnan(a) | np.isnan(b), np.nan, a - b)
    rng = np.random.default_rng(seed)
    blocks = -(-frames // block)
    starts = rng.integers(0, frames - block + 1, size=(draws, blocks))
    picks = (starts[..., None] + np.arange(block)).reshape(draws, -1)[:, :frames]  # (draws, frames)
    resampled = diff[:, picks]  # (views, draws, frames)
    with np.errstate(invalid="ignore"):
        view_means = np.nanmean(resampled, axis=2)  # (views, draws)
    statistic = np.nanmean(view_means, axis=0)
    observed = float(np.mean(np.nanmean(diff, axis=1)))
    low, high = np.nanpercentile(statistic, [2.5, 97.5])
    return {"difference_mm": round(observed, 2), "interval_95_mm": [round(float(low), 2), round(float(high), 2)],
            "share_a_lower": round(float(np.mean(statistic < 0)), 3), "block_frames": block, "draws": draws}
