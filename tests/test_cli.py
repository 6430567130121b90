"""The ``vidmimic`` command as a user runs it: a real subprocess per call."""

import json

import numpy as np
import pytest

from characters import rotations as rot
from retargeting.amass_file import read_amass
from retargeting.bvh import read_bvh
from retargeting.deepmimic_file import read_deepmimic
from tests.conftest import CMU_131_01, WALK, require_shared, run_cli


def test_convert_help_documents_formats():
    result = run_cli("convert", "--help")
    assert result.returncode == 0
    for word in (".txt", ".npz", ".bvh", ".glb", "--fps", "--no-cleanup", "--joint-map"):
        assert word in result.stdout


def test_txt_to_every_format_and_back(tmp_path, character):
    for ext in ("npz", "bvh", "glb", "txt"):
        result = run_cli("convert", str(WALK), str(tmp_path / f"walk.{ext}"))
        assert result.returncode == 0, result.stderr
        assert (tmp_path / f"walk.{ext}").stat().st_size > 0
    original = read_deepmimic(WALK, character)
    # npz -> txt without cleanup reproduces the clip
    assert run_cli("convert", str(tmp_path / "walk.npz"), str(tmp_path / "back.txt"), "--no-cleanup", "--loop", "wrap").returncode == 0
    back = read_deepmimic(tmp_path / "back.txt", character)
    assert back.loop == "wrap"
    assert np.degrees(rot.geodesic_angle(back.joint_rot, original.joint_rot)).max() < 1e-6
    # character BVH -> SMPL through the humanoid3d joint map
    assert run_cli("convert", str(tmp_path / "walk.bvh"), str(tmp_path / "from_bvh.npz")).returncode == 0
    assert read_amass(tmp_path / "from_bvh.npz").num_frames == original.num_frames


def test_cmu_bvh_to_deepmimic_at_30_fps(tmp_path, character):
    src = require_shared(CMU_131_01)
    result = run_cli("convert", str(src), str(tmp_path / "cmu.txt"), "--fps", "30")
    assert result.returncode == 0, result.stderr
    motion = read_deepmimic(tmp_path / "cmu.txt", character)
    assert motion.fps == pytest.approx(30.0)
    assert motion.num_frames == pytest.approx(994 / 4, abs=2)
    assert run_cli("convert", str(src), str(tmp_path / "cmu_smpl.bvh")).returncode == 0
    assert read_bvh(tmp_path / "cmu_smpl.bvh").skeleton.names[0] == "pelvis"


def test_demo_writes_every_artifact(tmp_path):
    result = run_cli("demo", "-o", str(tmp_path / "demo"))
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text())
    for name in ("motion.txt", "motion.bvh", "motion.glb", "motion_smpl.npz", "motion_smpl.bvh", "preview.mp4", "preview.png"):
        assert name in summary["files"]
    assert summary["roundtrip"]["mean_geodesic_deg"] < 2.0
    assert summary["retargeted"]["lowest_foot_m"] > -0.01
    from app.demo import WALK_POLICY

    if WALK_POLICY.exists():  # the shipped policy is simulated, rendered and evaluated too
        assert "replay.webm" in summary["files"] and summary["walk_policy"]["evaluation"]["episodes"] == 5
