"""Where vidmimic's files live, and a file's identity: the one place for both.

The repository's own folders (policies, the lifter's weights) are found from this file. The
third-party data is read in place from ``../shared/data`` beside the repository, or from the
folder named by ``VIDMIMIC_SHARED_DATA``; code that needs one of its files checks that it exists
and says so when it does not (nothing is downloaded).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
"""The repository's root folder."""
POLICIES = REPO / "policies"
"""Shipped controllers (each folder says how it was made)."""
LIFTER_WEIGHTS = REPO / "pose_estimation" / "weights"
"""The lifter's shipped weights (``lifter.pt`` for training, its NumPy export for inference)."""
SHARED_DATA = Path(os.environ.get("VIDMIMIC_SHARED_DATA", REPO.parent / "shared" / "data"))
"""Third-party mocap, videos and recordings (``../shared/data``; licences in its README)."""
SHARED_MOCAP = SHARED_DATA / "mocap"
"""Motion capture: ``deepmimic/``, ``cmu/``, ``cmu_library/``."""
SHARED_VIDEOS = SHARED_DATA / "video"
"""Real, unlabelled videos."""
POSE2SIM_SINGLE = SHARED_DATA / "multiview" / "pose2sim_single"
"""The calibrated 4-camera recording of one person (the real-data harness)."""


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
