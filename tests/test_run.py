"""``vidmimic run``: every stage on a short real clip with a tiny training budget, then a no-op re-run."""

import json

from control.shipped import shipped_tracker
from control.train import TrainConfig
from tests.conftest import SHARED_DATA, require_shared, run_cli

VIEW = SHARED_DATA / "multiview" / "pose2sim_single" / "videos" / "cam01.mp4"
ARGS = ["--max-frames", "30", "--train-timesteps", "512", "--train-minutes", "1"]


def test_run_end_to_end_then_skip_finished_stages(tmp_path):
    video = require_shared(VIEW)
    out = tmp_path / "out"
    first = run_cli("run", str(video), "-o", str(out), *ARGS)
    assert first.returncode == 0, first.stderr[-3000:]
    for name in ("estimate/motion_smpl.npz", "estimate/overlay.webm", "motion.txt", "train/policy.zip", "replay.webm", "sim_motion.txt",
                 "evaluation.json", "export/sim.bvh", "export/sim.glb", "export/sim_smpl.npz", "report.html", "report.json"):
        assert (out / name).exists(), name
    report = json.loads((out / "report.json").read_text())
    assert report["evaluation"]["episodes"] == 10 and report["training_curve"]
    if shipped_tracker() is not None:
        # The job started from the shipped tracker, fine-tuned it and kept the better of the two.
        controller = json.loads((out / "controller.json").read_text())
        assert set(controller["candidates"]) == {"tracker", "fine-tuned"} and controller["chosen"] in controller["candidates"]
        assert f"kept the {controller['chosen']} controller" in (out / "report.html").read_text()
    assert 'src="replay.webm"' in (out / "report.html").read_text()
    replayed = report["replay"]
    assert replayed["seconds"] > 0 and isinstance(replayed["fell"], bool) and replayed["travel_m"] >= 0
    assert ("it fell" if replayed["fell"] else "it did not fall") in (out / "report.html").read_text()
    stamp = (out / "train" / "policy.zip").stat().st_mtime
    second = run_cli("run", str(video), "-o", str(out), *ARGS)
    assert second.returncode == 0, second.stderr[-3000:]
    assert second.stdout.count("up to date") == 6  # estimate, retarget, train, replay, evaluate, export
    assert (out / "train" / "policy.zip").stat().st_mtime == stamp


def test_run_resumes_training_when_given_more(tmp_path):
    video = require_shared(VIEW)
    out = tmp_path / "out"
    iteration = TrainConfig().envs * TrainConfig().n_steps  # run trains with `vidmimic train`'s settings
    first = ARGS[:-4] + ["--train-timesteps", str(iteration), "--train-minutes", "1", "--from-scratch"]
    assert run_cli("run", str(video), "-o", str(out), *first).returncode == 0
    more = ARGS[:-4] + ["--train-timesteps", str(2 * iteration), "--train-minutes", "1", "--from-scratch"]
    result = run_cli("run", str(video), "-o", str(out), *more)
    assert result.returncode == 0, result.stderr[-3000:]
    steps = [int(line.split(",")[0]) for line in (out / "train" / "progress.csv").read_text().splitlines()[1:]]
    assert steps == [iteration, 2 * iteration]  # one PPO iteration each run: continued from the checkpoint
    assert "estimate     up to date" in result.stdout and "retarget     up to date" in result.stdout


def test_estimate_then_convert_gives_the_motion_run_imitates(tmp_path):
    """The README's path (`vidmimic estimate`, then `vidmimic convert motion_smpl.npz motion.txt`) and
    `vidmimic run` share one estimate -> reference step: the same motion.txt, byte for byte."""
    from app.sample_video import write_sample_video

    video = write_sample_video(tmp_path / "sample_walk.webm", seconds=2.0)
    frames = ["--max-frames", "45", "--estimator", "mediapipe_ik"]
    out = tmp_path / "run"
    ran = run_cli("run", str(video), "-o", str(out), *frames, "--train-minutes", "0")
    assert ran.returncode == 0, ran.stderr[-3000:]
    estimated = run_cli("estimate", str(video), "-o", str(tmp_path / "est"), *frames)
    assert estimated.returncode == 0, estimated.stderr[-3000:]
    converted = run_cli("convert", str(tmp_path / "est" / "motion_smpl.npz"), str(tmp_path / "motion.txt"))
    assert converted.returncode == 0, converted.stderr[-3000:]
    assert (tmp_path / "motion.txt").read_bytes() == (out / "motion.txt").read_bytes()
    # ... and that step is the video one (floor levelled, feet planted), not mocap's: without it the file differs.
    mocap_cleanup = run_cli("convert", str(tmp_path / "est" / "motion_smpl.npz"), str(tmp_path / "plain.txt"), "--no-cleanup")
    assert mocap_cleanup.returncode == 0 and (tmp_path / "plain.txt").read_bytes() != (out / "motion.txt").read_bytes()
