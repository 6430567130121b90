"""The ``vidmimic`` command as a user runs it: a real subprocess per call."""

import json

import numpy as np
import pytest

from characters import rotations as rot
from retargeting.amass_file import read_amass
from retargeting.bvh import read_bvh
from retargeting.deepmimic_file import read_deepmimic
from tests.conftest import CMU_131_01, WALK, assert_same_motion, require_shared, run_cli


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


def test_demo_runs_the_video_pipeline_on_its_generated_sample(tmp_path, character):
    """The demo's sample video: the detector finds the walker in every frame, the estimate walks
    about as fast as the clip it was rendered from (1 m/s), and run's artifacts are all there."""
    from app.demo import SAMPLE_POLICY

    out = tmp_path / "demo"
    result = run_cli("demo", "-o", str(out), "--train-minutes", "0.2", "--workers", "1")
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    for name in ("sample_walk.webm", "estimate/overlay.webm", "motion.txt", "train/policy.zip", "replay.webm", "export/sim.bvh", "export/sim.glb", "report.html"):
        assert (out / name).stat().st_size > 0, name
    assert not np.load(out / "estimate" / "keypoints.npz")["occluded"].any()
    motion = read_deepmimic(out / "motion.txt", character)
    travel = np.linalg.norm((motion.root_pos[-1] - motion.root_pos[0])[[0, 2]]) / motion.duration
    assert 0.8 < travel < 1.2
    cycle = json.loads((out / "cycle.json").read_text())
    assert motion.loop == "wrap" and 30 <= cycle["length"] <= 45  # one gait cycle of the estimate, looped
    assert summary["evaluation"]["episodes"] == 5 and summary["evaluation"]["seconds"] == 10.0
    replayed = summary["replay_outcome"]  # the replay stops where the character falls
    assert set(replayed) == {"seconds", "fell", "travel_m"} and 0 < replayed["seconds"] <= 10.0 + 1e-6
    assert replayed["fell"] or replayed["seconds"] == pytest.approx(10.0, abs=0.05)
    if SAMPLE_POLICY.exists():  # training was warm-started from the shipped sample policy, made on this very motion
        assert json.loads((out / "train" / "config.json").read_text())["init"] == str(SAMPLE_POLICY)
        assert_same_motion(out / "motion.txt", SAMPLE_POLICY.parent / "motion.txt")

def test_the_shipped_sample_policy_walks_the_demo_cycle_without_falling(character):
    """What the demo's replay shows: from the cycle's start, ten simulated seconds of walking
    (the warm start the demo trains on for two more minutes)."""
    from app.demo import SAMPLE_POLICY
    from control.evaluate import replay

    simulated, reference, outcome = replay(SAMPLE_POLICY, seconds=10.0)
    assert not outcome["fell"] and outcome["seconds"] == pytest.approx(10.0, abs=0.05)
    travel = np.linalg.norm((simulated.root_pos[-1] - simulated.root_pos[0])[[0, 2]])
    assert travel > 6.0  # it walks on (the cycle moves 0.95 m/s), not stands or stumbles in place
    assert simulated.root_pos[:, 1].min() > 0.6  # upright all the way: the root stays near standing height
