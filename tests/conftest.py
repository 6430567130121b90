"""Shared fixtures: clip locations, the humanoid, a runner for the CLI as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pybullet_data
import pytest

from characters.character import humanoid
from characters.places import SHARED_DATA

ROOT = Path(__file__).resolve().parents[1]
CORE_CLIPS = sorted((Path(pybullet_data.getDataPath()) / "data" / "motions").glob("humanoid3d_*.txt"))
SHARED_CLIPS = sorted((SHARED_DATA / "mocap" / "deepmimic").glob("*.txt"))
CMU_131_01 = SHARED_DATA / "mocap" / "cmu" / "131_01.bvh"
WALK = Path(pybullet_data.getDataPath()) / "data" / "motions" / "humanoid3d_walk.txt"


def require_shared(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent: put the shared data folder beside the checkout")
    return path


@pytest.fixture(scope="session")
def character():
    return humanoid()


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``vidmimic ARGS`` in a fresh interpreter and capture its output."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "app.cli", *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def assert_same_motion(made: Path, expected: Path, atol: float = 1e-9) -> None:
    """``made`` holds the motion of DeepMimic file ``expected``: the same loop mode, frame count and
    numbers up to ``atol`` (the last bits of float arithmetic vary with NumPy's and OpenCV's
    builds; a different gait cycle differs by tenths)."""
    import json

    import numpy as np

    a, b = json.loads(Path(made).read_text()), json.loads(Path(expected).read_text())
    assert a["Loop"] == b["Loop"]
    frames_a, frames_b = np.array(a["Frames"]), np.array(b["Frames"])
    assert frames_a.shape == frames_b.shape, (frames_a.shape, frames_b.shape)
    assert np.abs(frames_a - frames_b).max() <= atol, f"{made} differs from {expected} by up to {np.abs(frames_a - frames_b).max():.3g}"


def short_real_clip(path: Path) -> Path:
    """Write a 1.5 s, 360x640 mp4 of a real person (the shared recording's first view) to ``path``:
    small and quick for a job to process."""
    import cv2

    cap = cv2.VideoCapture(str(require_shared(SHARED_DATA / "multiview" / "pose2sim_single" / "videos" / "cam01.mp4")))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (360, 640))
    for _ in range(45):
        ok, frame = cap.read()
        writer.write(cv2.resize(frame, (360, 640)))
    writer.release()
    return path
