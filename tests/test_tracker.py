"""The general tracker: its clip table, environment, library rules, training, evaluation and track."""

import csv
import json
import math
from dataclasses import replace

import gymnasium
import numpy as np
import pytest

import control  # noqa: F401  (registers vidmimic/Track-v0)
from characters import rotations as rot
from control.clip_table import ClipTable
from control.motion_library import ExclusionRule, convert_clip, exclusion_reason, load_split, unrolled
from control.tracker_env import ClipSampler, TrackerConfig, TrackerEnv
from retargeting.deepmimic_file import read_deepmimic
from tests.conftest import ROOT, SHARED_DATA, WALK, require_shared, run_cli

MOTIONS = WALK.parent
LIBRARY = SHARED_DATA / "mocap" / "cmu_library"


@pytest.fixture(scope="module")
def walk(character):
    return convert_clip(WALK, character)


@pytest.fixture(scope="module")
def punch(character):
    return convert_clip(MOTIONS / "humanoid3d_punch.txt", character)


def moved(motion, yaw: float, shift: np.ndarray):
    """``motion`` turned by ``yaw`` about +Y and moved by ``shift`` (m)."""
    q = rot.about_axis(np.array([0.0, 1.0, 0.0]), yaw)
    return replace(motion, root_pos=rot.rotate(q, motion.root_pos) + shift, root_rot=rot.multiply(np.broadcast_to(q, motion.root_rot.shape), motion.root_rot))


def test_cyclic_clips_are_unrolled_into_ten_seconds(character):
    cycle = read_deepmimic(WALK, character)
    long = unrolled(cycle)
    assert cycle.loop == "wrap" and long.loop == "none"
    assert long.duration >= 10.0 - 1e-6
    travelled = long.root_pos[-1, [0, 2]] - long.root_pos[0, [0, 2]]
    per_cycle = cycle.root_pos[-1, [0, 2]] - cycle.root_pos[0, [0, 2]]
    assert np.linalg.norm(travelled) > 6 * np.linalg.norm(per_cycle)


def test_clip_table_rows_and_lookahead(walk, punch):
    table = ClipTable([walk, punch], rate_hz=30.0)
    assert table.num_clips == 2 and table.start[1] == table.length[0]
    assert abs(table.duration(1) - punch.duration) < 1 / 30 + 1e-9
    rows = table.rows_ahead(1, int(table.length[1]) - 3, np.array([1, 2, 4, 8]))
    assert rows.tolist() == [table.start[1] + table.length[1] - 2] + [table.start[1] + table.length[1] - 1] * 3
    # Row k of clip 1 is the punch at k / 30 s.
    pos, _ = punch.body_frames()
    k = 12
    np.testing.assert_allclose(table.body_pos[table.start[1] + k], punch.character.forward_kinematics(*punch.sample(np.array([k / 30])))[0][0], atol=1e-9)
    assert len(pos) == punch.num_frames


def test_registered_and_observation_is_the_documented_size(walk):
    env = gymnasium.make("vidmimic/Track-v0", clips=[walk])
    obs, info = env.reset(seed=0)
    b = 15
    assert obs.shape == (1 + 15 * b + 5 * (9 * b + 1) + 6 * b,) and np.isfinite(obs).all()
    obs, reward, terminated, truncated, info = env.step(np.zeros(env.action_space.shape))
    assert 0.0 < reward <= 1.0
    env.close()


def test_observation_does_not_depend_on_where_the_clip_is_or_faces(walk):
    a = TrackerEnv([walk])
    b = TrackerEnv([moved(walk, 2.1, np.array([3.0, 0.0, -5.0]))])
    try:
        for env in (a, b):
            env.reset(options={"clip": 0, "start_step": 40})
        oa, ob = a._observation(), b._observation()
        np.testing.assert_allclose(oa, ob, atol=1e-4)
        action = np.zeros(a.action_space.shape)
        for _ in range(2):
            oa = a.step(action)[0]
            ob = b.step(action)[0]
        # Body positions and rotations agree after stepping; velocities are left out because
        # foot-ground contact makes the light feet's spin chaotic (tens of rad/s either way).
        poses = slice(1, 1 + 15 * 9)
        np.testing.assert_allclose(oa[poses], ob[poses], atol=5e-3)
    finally:
        a.close()
        b.close()


def test_observation_shows_where_the_reference_goes(walk, punch):
    env = TrackerEnv([walk, punch])
    try:
        obs_walk, _ = env.reset(options={"clip": 0, "start_step": 30})
        b = 15
        future = obs_walk[1 + 15 * b:].reshape(-1)[: 5 * (9 * b + 1)].reshape(5, 9 * b + 1)
        ahead = np.linalg.norm(future[:, : 3 * b].reshape(5, b, 3)[:, 0], axis=-1)
        # Starting on the reference, the gap to the walking root grows with the look-ahead.
        assert ahead[0] < ahead[2] < ahead[4] and 0.2 < ahead[4] < 1.5
    finally:
        env.close()


def test_episode_ends_on_deviation_and_at_the_clip_end(punch):
    strict = TrackerEnv([punch], replace(TrackerConfig(), max_body_error_m=0.01))
    loose = TrackerEnv([punch], replace(TrackerConfig(), max_body_error_m=0.0))
    try:
        strict.reset(options={"clip": 0, "start_step": 0})
        for _ in range(30):
            _, _, terminated, truncated, info = strict.step(np.ones(strict.action_space.shape))
            if terminated:
                break
        assert terminated and info.get("deviated")
        length = int(loose.table.length[0])
        loose.reset(options={"clip": 0, "start_step": length - 4})
        steps = 0
        while True:
            _, _, terminated, truncated, info = loose.step(np.zeros(loose.action_space.shape))
            steps += 1
            if terminated or truncated:
                break
        assert truncated and info["clip_end"] and steps == 3
    finally:
        strict.close()
        loose.close()


def test_failed_clips_are_drawn_more_often():
    sampler = ClipSampler(3, floor=0.1, memory=0.2)
    for _ in range(40):
        sampler.record(0, failed=False)
        sampler.record(1, failed=True)
        sampler.record(2, failed=False)
    draws = np.bincount([sampler.draw(np.random.default_rng(s)) for s in range(3000)], minlength=3)
    assert draws[1] > 5 * draws[0] and draws[1] > 5 * draws[2]
    assert draws[0] > 0  # a mastered clip still comes back now and then


def test_exclusion_rule(character, walk):
    assert exclusion_reason(walk) == ""
    crawl = convert_clip(MOTIONS / "humanoid3d_crawl.txt", character)
    assert "on the ground" in exclusion_reason(crawl)
    lifted = replace(walk, root_pos=walk.root_pos + np.array([0.0, 0.6, 0.0]))
    assert "held up" in exclusion_reason(lifted)
    assert "shorter" in exclusion_reason(replace(walk, frame_dt=walk.frame_dt[:10], root_pos=walk.root_pos[:10], root_rot=walk.root_rot[:10], joint_rot=walk.joint_rot[:10]))
    assert exclusion_reason(lifted, ExclusionRule(raised_feet_m=1.0)) == ""


def test_validation_holds_out_whole_subjects_of_several_motion_kinds():
    index = require_shared(LIBRARY / "index.csv")
    subjects = load_split()
    with index.open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["subject"] in subjects]
    kinds = {r["category"] for r in rows}
    assert len(subjects) >= 2 and len(kinds) >= 4
    assert any(k.startswith("walk") for k in kinds) and any(k.startswith("run") for k in kinds)


@pytest.fixture(scope="module")
def tracker_run(tmp_path_factory):
    """A tiny tracker run over two folders (a held-out CMU walk included), with a validation pass."""
    require_shared(LIBRARY)
    root = tmp_path_factory.mktemp("tracker")
    folder = root / "clips"
    folder.mkdir()
    for name in ("humanoid3d_walk.txt", "humanoid3d_punch.txt"):
        (folder / name).write_text((MOTIONS / name).read_text())
    run = root / "run"
    result = run_cli("tracker", "train", "-o", str(run), "--library", str(folder), str(LIBRARY / "cmu_mb"),
                     "--timesteps", "1024", "--envs", "2", "--n-steps", "256", "--workers", "2", "--validate-minutes", "0")
    assert result.returncode == 0, result.stderr[-3000:]
    return run


def test_tracker_train_writes_library_policy_and_learning_curve(tracker_run):
    clips = json.loads((tracker_run / "library.json").read_text())
    by_name = {c["name"]: c for c in clips}
    assert by_name["cmu_mb/02_01"]["split"] == "validation" and by_name["clips/humanoid3d_walk"]["split"] == "train"
    config = json.loads((tracker_run / "config.json").read_text())
    assert config["kind"] == "tracker" and "cmu_mb/02_01" not in config["train_clips"]
    assert (tracker_run / "policy.zip").exists()
    with (tracker_run / "validation.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert rows and float(rows[-1]["clips"]) == 1 and 0.0 <= float(rows[-1]["success_rate"]) <= 1.0


def test_tracker_resume_continues(tracker_run, tmp_path):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(tracker_run, run)
    result = run_cli("tracker", "train", "-o", str(run), "--resume", "--timesteps", "2048", "--validate-minutes", "1000")
    assert result.returncode == 0, result.stderr[-3000:]
    with (run / "progress.csv").open() as f:
        assert int(list(csv.DictReader(f))[-1]["steps"]) == 2048
    again = run_cli("tracker", "train", "-o", str(run), "--timesteps", "4096")
    assert again.returncode == 2 and "--resume" in again.stderr and "Traceback" not in again.stderr


def test_evaluate_a_tracker_on_any_motion_file(tracker_run):
    bvh = require_shared(LIBRARY / "cmu_mb" / "02_01.bvh")
    result = run_cli("evaluate", str(tracker_run / "policy.zip"), "--motion", str(bvh), "--from-start", "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout)
    assert figures["episodes"] == 1 and isinstance(figures["success"], bool)
    assert figures["success"] == (figures["falls"] == 0 and figures["deviations"] == 0)
    assert figures["mean_body_pos_error_mm"] > 0 and 0 < figures["mean_episode_seconds"] <= figures["clip_seconds"] + 1e-6


def test_track_writes_video_and_simulated_motion(tracker_run, tmp_path, character):
    out = tmp_path / "punch.mp4"
    result = run_cli("track", str(MOTIONS / "humanoid3d_punch.txt"), "-o", str(out), "--policy", str(tracker_run / "policy.zip"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert out.stat().st_size > 10_000
    simulated = read_deepmimic(out.with_suffix(".txt"), character)
    assert simulated.num_frames >= 2 and math.isclose(simulated.fps, 30.0, rel_tol=1e-6)


def test_imitation_policy_with_motion_is_refused(tmp_path):
    policy = ROOT / "policies" / "humanoid3d_walk" / "policy.zip"
    result = run_cli("evaluate", str(policy), "--motion", str(WALK), "--from-start", "--json")
    assert result.returncode == 2 and "not a tracker" in result.stderr and "Traceback" not in result.stderr


def test_ship_then_resume_from_the_shipped_folder(tracker_run, tmp_path):
    shipped = tmp_path / "shipped"
    result = run_cli("tracker", "ship", str(tracker_run), "-o", str(shipped))
    assert result.returncode == 0, result.stderr[-2000:]
    assert (shipped / "policy.zip").stat().st_size < 0.6 * (shipped / "resume.zip").stat().st_size  # no optimiser moments
    info = json.loads((shipped / "run.json").read_text())
    assert info["samples"] == 1024 and info["latest_validation"] is not None
    figures = run_cli("evaluate", str(shipped / "policy.zip"), "--motion", str(MOTIONS / "humanoid3d_punch.txt"), "--from-start", "--json")
    assert figures.returncode == 0, figures.stderr[-2000:]
    run = tmp_path / "continued"
    resumed = run_cli("tracker", "train", "-o", str(run), "--resume-from", str(shipped), "--timesteps", "2048", "--validate-minutes", "1000")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    with (run / "progress.csv").open() as f:
        assert [int(r["steps"]) for r in csv.DictReader(f)] == [512, 1024, 1536, 2048]  # the shipped rows, then this session's


def test_assistance_pushes_the_root_and_is_reported(walk):
    config = replace(TrackerConfig(), assist=True, max_body_error_m=0.0)
    still, pushed = TrackerEnv([walk], config), TrackerEnv([walk], config)
    try:
        pd_actions = TrackerEnv([walk]).action_space.shape[0]
        assert pushed.action_space.shape[0] == pd_actions + 6
        sideways = np.zeros(pushed.action_space.shape)
        sideways[pd_actions + 2] = 1.0  # +Z force: about 1 g
        for env in (still, pushed):
            env.reset(options={"clip": 0, "start_step": 10})
        for _ in range(8):
            still.step(np.zeros(still.action_space.shape))
            _, _, _, _, info = pushed.step(sideways)
        assert info["assist_n_per_kg"] == pytest.approx(10.0)
        assert pushed._state[2][0, 2] > still._state[2][0, 2] + 0.05  # the root was pushed along +Z
    finally:
        still.close()
        pushed.close()


def test_assisted_fine_tune_keeps_the_tracker_outputs(tracker_run, tmp_path):
    from control.fine_tune import fine_tune
    from control.tracker_evaluate import load_tracker

    run = fine_tune(MOTIONS / "humanoid3d_punch.txt", tracker_run / "policy.zip", tmp_path / "ft", minutes=5, timesteps=1, assist=True).parent
    tracker, tuned = load_tracker(tracker_run / "policy.zip"), load_tracker(run / "policy.zip")
    assert tuned.config.assist and not tracker.config.assist
    obs = np.random.default_rng(0).normal(size=(4,) + tracker.model.observation_space.shape).astype(np.float32)
    before, after = tracker.act(obs), tuned.act(obs)
    # One PPO iteration moved the weights only a little; the new outputs started at zero.
    assert after.shape[1] == before.shape[1] + 6
    assert np.abs(after[:, : before.shape[1]] - before).max() < 0.3
    figures = json.loads(run_cli("evaluate", str(run / "policy.zip"), "--motion", str(MOTIONS / "humanoid3d_punch.txt"), "--from-start", "--json").stdout)
    assert figures["assisted"] is True and figures["assist_mean_n_per_kg"] >= 0.0
