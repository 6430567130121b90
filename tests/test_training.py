"""Training, resume, MPI workers, evaluation and replay through the real CLI (tiny budgets)."""

import csv
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, WALK, run_cli

TINY = ["--envs", "2", "--n-steps", "128"]


def rows(run: Path) -> list[dict]:
    with (run / "progress.csv").open() as f:
        return list(csv.DictReader(f))


def normalization_count(policy: Path) -> float:
    from control.policy_file import read_normalization

    return read_normalization(policy).obs_count


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("run") / "walk"
    result = run_cli("train", str(WALK), "-o", str(run), "--timesteps", "1024", *TINY)
    assert result.returncode == 0, result.stderr[-2000:]
    return run


def test_train_leaves_a_self_contained_policy(trained):
    for name in ("policy.zip", "checkpoint.zip", "config.json", "motion.txt", "progress.csv"):
        assert (trained / name).exists(), name
    assert list((trained / "tb").rglob("events.out.tfevents.*"))
    with zipfile.ZipFile(trained / "policy.zip") as z:
        names = set(z.namelist())
    assert {"vidmimic/normalization.npz", "vidmimic/motion.txt", "vidmimic/config.json", "policy.pth"} <= names
    assert not any(name.endswith(".pkl") for name in names)
    assert int(rows(trained)[-1]["steps"]) == 1024


def test_resume_continues_steps_and_normalisation(trained, tmp_path):
    run = tmp_path / "walk"
    subprocess.run(["cp", "-r", str(trained), str(run)], check=True)
    before = normalization_count(run / "checkpoint.zip")
    result = run_cli("train", str(WALK), "-o", str(run), "--timesteps", "2048", "--resume")
    assert result.returncode == 0, result.stderr[-2000:]
    steps = [int(r["steps"]) for r in rows(run)]
    assert steps[:4] == [256, 512, 768, 1024] and steps[-1] == 2048 and steps == sorted(steps)
    assert normalization_count(run / "policy.zip") > before


def test_resume_without_checkpoint_is_a_clear_error(tmp_path):
    result = run_cli("train", str(WALK), "-o", str(tmp_path / "empty"), "--resume", "--timesteps", "10")
    assert result.returncode == 2 and "nothing to resume" in result.stderr


def test_a_warm_start_keeps_the_init_settings_unless_given(trained, tmp_path):
    kept = tmp_path / "kept"
    assert run_cli("train", str(WALK), "-o", str(kept), "--init", str(trained / "policy.zip"), "--timesteps", "256").returncode == 0
    changed = tmp_path / "changed"
    result = run_cli("train", str(WALK), "-o", str(changed), "--init", str(trained / "policy.zip"), "--timesteps", "256",
                     "--max-root-deviation", "0", "--learning-rate", "3e-5")
    assert result.returncode == 0, result.stderr[-2000:]
    init = json.loads((trained / "config.json").read_text())
    for run, deviation, rate in ((kept, init["env"]["max_root_deviation_m"], init["train"]["learning_rate"]), (changed, 0.0, 3e-5)):
        config = json.loads((run / "config.json").read_text())
        assert (config["env"]["max_root_deviation_m"], config["train"]["learning_rate"]) == (deviation, rate)
        assert config["train"]["envs"] == init["train"]["envs"] and config["train"]["n_steps"] == init["train"]["n_steps"]
        with zipfile.ZipFile(run / "policy.zip") as z:
            assert json.loads(z.read("data"))["learning_rate"] == rate  # what PPO stepped with, not just what was written


def test_a_warm_start_follows_its_own_seed(trained, tmp_path):
    """PPO.load re-seeds with the init policy's seed; a warm start must use the seed it was given."""
    policies = []
    for seed in ("1", "2"):
        run = tmp_path / seed
        assert run_cli("train", str(WALK), "-o", str(run), "--init", str(trained / "policy.zip"), "--timesteps", "256", "--seed", seed).returncode == 0
        with zipfile.ZipFile(run / "policy.zip") as z:
            policies.append(z.read("policy.pth"))
    assert policies[0] != policies[1]


def test_resume_refuses_new_settings(trained, tmp_path):
    result = run_cli("train", str(WALK), "-o", str(trained), "--resume", "--max-root-deviation", "0")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1 and "--resume" in result.stderr, result.stderr


def test_two_mpi_ranks_with_workers_flag(tmp_path):
    run = tmp_path / "mpi"
    result = run_cli("train", str(WALK), "-o", str(run), "--workers", "2", "--timesteps", "1024", *TINY)
    assert result.returncode == 0, result.stderr[-2000:]
    assert int(rows(run)[-1]["steps"]) == 1024


def test_two_mpi_ranks_under_mpiexec(tmp_path):
    run = tmp_path / "mpiexec"
    mpiexec = Path(sys.executable).parent / "mpiexec"
    cmd = [str(mpiexec), "-n", "2", sys.executable, "-m", "app.cli", "train", str(WALK), "-o", str(run), "--timesteps", "1024", *TINY]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (run / "policy.zip").exists()


def test_evaluate_prints_the_documented_json(trained):
    result = run_cli("evaluate", str(trained / "policy.zip"), "--episodes", "2", "--seconds", "1", "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    for key in ("episodes", "falls", "mean_episode_seconds", "mean_pose_error_deg", "mean_body_pos_error_mm", "mean_root_drift_m", "mean_reward"):
        assert key in report
    assert report["episodes"] == 2 and 0 <= report["falls"] <= 2 and "per_episode" not in report
    result = run_cli("evaluate", str(trained / "policy.zip"), "--episodes", "3", "--seconds", "1", "--json", "--per-episode")
    detailed = json.loads(result.stdout.strip().splitlines()[-1])
    episodes = detailed["per_episode"]
    assert len(episodes) == 3 and sum(e["fell"] for e in episodes) == detailed["falls"]
    assert all(0 <= e["start_phase"] < 1 and 0 < e["seconds"] <= 1.0 + 1e-6 for e in episodes)
    assert sum(e["seconds"] for e in episodes) / 3 == pytest.approx(detailed["mean_episode_seconds"], abs=0.02)


def test_replay_renders_and_saves_the_simulated_motion(trained, tmp_path, character):
    from retargeting.deepmimic_file import read_deepmimic

    out = tmp_path / "replay.mp4"
    result = run_cli("replay", str(trained / "policy.zip"), "-o", str(out), "--seconds", "0.5")
    assert result.returncode == 0, result.stderr[-2000:]
    assert out.stat().st_size > 10_000
    motion = read_deepmimic(tmp_path / "replay.txt", character)
    assert motion.num_frames >= 2
    assert run_cli("convert", str(tmp_path / "replay.txt"), str(tmp_path / "replay.bvh")).returncode == 0


def test_replay_of_a_non_policy_is_a_clear_error(tmp_path):
    bogus = tmp_path / "policy.zip"
    bogus.write_text("not a zip")
    result = run_cli("replay", str(bogus), "-o", str(tmp_path / "x.mp4"))
    assert result.returncode == 2 and "not a vidmimic policy" in result.stderr


def test_stopping_a_multi_rank_run_leaves_a_policy(tmp_path):
    import os
    import signal
    import time

    run = tmp_path / "stopped"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "train", str(WALK), "-o", str(run), "--workers", "2", "--timesteps", "10000000", *TINY],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.time() + 120
    while not ((run / "progress.csv").exists() and len(rows(run)) >= 2):
        assert time.time() < deadline and proc.poll() is None, proc.stderr.read().decode()[-2000:] if proc.poll() is not None else "no progress"
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGTERM)  # like Ctrl-C or a scheduler ending the job: every process gets it
    assert proc.wait(timeout=120) == 0
    assert (run / "policy.zip").exists()
    with zipfile.ZipFile(run / "policy.zip") as z:
        assert "vidmimic/normalization.npz" in z.namelist()


def test_killing_the_launcher_outright_stops_the_ranks_and_saves(tmp_path):
    """SIGKILL can't be forwarded: the ranks must still stop (not train on as orphans) and save."""
    import os
    import time

    run = tmp_path / "killed"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "train", str(WALK), "-o", str(run), "--workers", "2", "--timesteps", "10000000", *TINY],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 120
        while not ((run / "progress.csv").exists() and len(rows(run)) >= 2):
            assert time.time() < deadline and proc.poll() is None, "no progress"
            time.sleep(0.2)
        proc.kill()
        proc.wait()
        deadline = time.time() + 60
        while subprocess.run(["pgrep", "-f", str(run)], capture_output=True).returncode == 0:
            assert time.time() < deadline, "MPI ranks still running after their launcher was killed"
            time.sleep(0.2)
        assert (run / "policy.zip").exists()
    finally:
        subprocess.run(["pkill", "-KILL", "-f", str(run)])
