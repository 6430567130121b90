"""Shared fixtures: clip locations, the humanoid, a runner for the CLI as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pybullet_data
import pytest

from characters.character import humanoid

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
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
