"""The estimator's sim-to-real and motion-prior training techniques (issue: sim-to-real options)."""

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from characters.places import SHARED_DATA
from lifter_research.lifter_refiner import HistoryBuffer, KeypointRefiner, PatchDiscriminator, refiner_step
from lifter_research.lifter_teacher import AdversarialTeacher, clip_groups
from lifter_research.motion_prior import MocapWindows, MotionDiscriminator, adversarial_loss, discriminator_loss
from lifter_research.real_clips import real_batch, video_files
from lifter_research.real_harness import DATA as HARNESS
from lifter_research.sim2real import GradientReversal, reprojection_to_detections, temporal_consistency
from tests.conftest import run_cli

SHARED_VIDEO = SHARED_DATA / "video" / "sports2d_demo.mp4"
TECHNIQUE_FLAGS = ["--sim-real-mix", "--adversarial-teacher", "--refiner", "--dann", "--motion-discriminator"]


def explicit(on: list[str]) -> list[str]:
    """Every technique flag, on or off, so the runs do not depend on the defaults."""
    return [f if f in on else f.replace("--", "--no-", 1) for f in TECHNIQUE_FLAGS]


def test_gradient_reversal_flips_and_scales_the_gradient():
    x = torch.ones(3, requires_grad=True)
    (GradientReversal.apply(x, 0.5) * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert torch.allclose(x.grad, torch.tensor([-0.5, -1.0, -1.5]))


def test_real_2d_losses_measure_what_they_say():
    rng = np.random.default_rng(0)
    joints = torch.as_tensor(rng.normal(scale=0.3, size=(2, 5, 24, 3)), dtype=torch.float32)
    camera = torch.tensor([0.8, 0.5, 0.4]).expand(2, 5, 3)
    from lifter_research.real_harness import COCO12, SMPL12

    keypoints = torch.zeros(2, 5, 17, 2)
    keypoints[..., COCO12, :] = camera[..., None, :1] * joints[..., SMPL12, :2] + camera[..., None, 1:]
    confidence = torch.ones(2, 5, 17)
    assert float(reprojection_to_detections(joints, camera, keypoints, confidence)) < 1e-6
    moved = keypoints.clone()
    moved[..., COCO12[0], 0] += 0.1
    assert float(reprojection_to_detections(joints, camera, moved, confidence)) > 1e-3
    confidence[..., COCO12[0]] = 0.0  # an unseen keypoint does not count
    assert float(reprojection_to_detections(joints, camera, moved, confidence)) < 1e-6

    t = torch.arange(10, dtype=torch.float32)[None, :, None, None]
    steady = t * torch.tensor([0.01, 0.0, 0.02])  # constant velocity: no acceleration
    assert float(temporal_consistency(steady.expand(1, 10, 3, 3), torch.zeros(1, 10, 3))) < 1e-10
    jitter = steady + 0.01 * (t % 2)
    assert float(temporal_consistency(jitter.expand(1, 10, 3, 3), torch.zeros(1, 10, 3))) > 1e-5


def _factor_data(n: int = 32, frames: int = 8) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    joints = np.zeros((n, frames, 24, 3), np.float32)
    joints[:, :, 12, 1] = -0.5  # neck above the pelvis (y down)
    joints[:, :, 12, 2] = np.where(np.arange(n) % 2, -0.2, 0.1)[:, None]  # odd clips: seen from above
    joints[:, :, 20, 0] = np.arange(frames)[None] * np.where(np.arange(n) % 4 >= 2, 0.1, 0.0)[:, None]  # fast movers
    occluded = np.zeros((n, frames), bool)
    occluded[np.arange(n) % 8 >= 4, 2] = True
    return {"joints": joints, "occluded": occluded, "confidence": np.ones((n, frames, 17), np.float32),
            "pelvis_depth": np.where(np.arange(n) % 16 >= 8, 7.0, 3.0)[:, None].repeat(frames, 1).astype(np.float32) + rng.uniform(0, 0.1, (n, 1))}


def test_clip_groups_follow_the_generative_factors():
    groups = clip_groups(_factor_data())
    i = np.arange(32)
    expected = (i % 2) + 2 * (i % 16 >= 8) + 4 * (i % 8 >= 4) + 8 * (i % 4 >= 2)  # pitch, distance, occlusion, motion bits
    assert np.array_equal(groups, expected)


def test_teacher_moves_towards_the_hard_group():
    groups = np.repeat(np.arange(4), 5)
    teacher = AdversarialTeacher(groups, history=10, alpha=0.2, epsilon=0.1)
    rng = np.random.default_rng(0)
    for _ in range(300):
        g, clips = teacher.pick(rng, 4)
        assert set(groups[clips]) == {teacher.names[g]}
        teacher.update(g, 1.0 + (2.0 if teacher.names[g] == 2 else 0.0) + 0.01 * rng.normal())
    p = teacher.probabilities()
    assert p[2] > 0.5 and p[2] == p.max()
    assert abs(p.sum() - 1) < 1e-5


def test_refiner_starts_as_identity_and_learns_the_real_offset():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    refiner, disc = KeypointRefiner(hidden=32), PatchDiscriminator(hidden=32)
    optimisers = (torch.optim.Adam(refiner.parameters(), lr=2e-3), torch.optim.Adam(disc.parameters(), lr=2e-3))
    buffer = HistoryBuffer(64, rng)

    def tracks(shift: float) -> dict[str, torch.Tensor]:
        kp = torch.as_tensor(rng.uniform(0.3, 0.7, (8, 16, 17, 2)), dtype=torch.float32)
        kp[..., 0] += shift
        occluded = torch.zeros(8, 16, dtype=torch.bool)
        occluded[0, 3] = True
        kp[occluded] = 0.0
        conf = torch.where(occluded[..., None], 0.0, torch.full((8, 16, 17), 0.9))
        return {"keypoints": kp, "confidence": conf, "occluded": occluded}

    synthetic = tracks(0.0)
    kp, conf = refiner(synthetic["keypoints"], synthetic["confidence"], synthetic["occluded"])
    assert torch.allclose(kp, synthetic["keypoints"]) and torch.allclose(conf, synthetic["confidence"])
    for _ in range(150):
        report = refiner_step(refiner, disc, optimisers, buffer, tracks(0.0), tracks(0.08), 0.1)
    test = tracks(0.0)
    kp, _ = refiner(test["keypoints"], test["confidence"], test["occluded"])
    present = ~test["occluded"]
    shift = float((kp - test["keypoints"])[present][..., 0].mean())
    assert shift > 0.03, (shift, report)
    assert float(kp[test["occluded"]].abs().max()) == 0.0


def test_history_buffer_serves_half_old_samples():
    buffer = HistoryBuffer(8, np.random.default_rng(0))
    buffer.mix(torch.zeros(8, 2))
    mixed = buffer.mix(torch.ones(8, 2))
    assert int((mixed[:, 0] == 1).sum()) == 4 and int((mixed[:, 0] == 0).sum()) == 4


def test_motion_discriminator_tells_mocap_from_noise():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    from lifter_research.mocap_library import load_library, motion_files

    windows = MocapWindows(clips=load_library(motion_files()[:2], held_out=False))
    mocap = windows.sample(rng, 8, 12)
    assert mocap.shape == (8, 12, 138)
    first_columns = mocap.reshape(8, 12, 23, 6)[..., :3]
    assert torch.allclose(first_columns.norm(dim=-1), torch.ones(8, 12, 23), atol=1e-4)  # rotation columns are unit vectors
    disc = MotionDiscriminator(hidden=32)
    optimiser = torch.optim.Adam(disc.parameters(), lr=3e-3)
    noise = lambda: torch.as_tensor(rng.normal(size=(8, 12, 138)), dtype=torch.float32)  # noqa: E731
    for _ in range(60):
        loss = discriminator_loss(disc, windows.sample(rng, 8, 12), noise())
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    assert float(adversarial_loss(disc, noise())) > 0.5 > float(adversarial_loss(disc, windows.sample(rng, 8, 12)))


def test_real_videos_folder_checks(tmp_path):
    with pytest.raises(ValueError, match="no videos"):
        video_files(tmp_path)
    with pytest.raises(ValueError, match="never used for training"):
        video_files(HARNESS)
    clips = [{"keypoints": np.zeros((40, 17, 2), np.float32), "confidence": np.ones((40, 17), np.float32),
              "occluded": np.zeros(40, bool), "flow": np.zeros((40, 32, 32, 2), np.float16)}]
    batch = real_batch(clips, np.random.default_rng(0), 3, 31)
    assert batch["flow"].shape == (3, 31, 32, 32, 2) and batch["flow"].dtype == torch.float32
    with pytest.raises(ValueError, match="shorter than the window"):
        real_batch(clips, np.random.default_rng(0), 3, 41)


@pytest.fixture(scope="module")
def tiny_setup(tmp_path_factory):
    """A 4-clip synthetic dataset, a 40-frame real video and its prepared inputs (shared by the runs)."""
    if not SHARED_VIDEO.exists():
        pytest.skip(f"{SHARED_VIDEO} is absent")
    root = tmp_path_factory.mktemp("sim2real")
    data = root / "data"
    done = run_cli("estimator", "data", str(data), "--clips", "4", "--frames", "20", "--seed", "5")
    assert done.returncode == 0, done.stderr
    videos = root / "videos"
    videos.mkdir()
    capture = cv2.VideoCapture(str(SHARED_VIDEO))
    ok, frame = capture.read()
    writer = cv2.VideoWriter(str(videos / "walk.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (frame.shape[1] // 2, frame.shape[0] // 2))
    for _ in range(40):
        writer.write(cv2.resize(frame, (frame.shape[1] // 2, frame.shape[0] // 2)))
        ok, frame = capture.read()
    writer.release()
    return data, videos, root


@pytest.mark.parametrize("flag", TECHNIQUE_FLAGS + ["all"])
def test_each_technique_trains(tiny_setup, flag):
    data, videos, root = tiny_setup
    flags = TECHNIQUE_FLAGS if flag == "all" else [flag]
    run = root / f"run{flag}"
    cache = root / "real_inputs.npz"
    if cache.exists():  # the front end ran once already: the run's cache is keyed by the video's content
        run.mkdir()
        shutil.copy(cache, run / "real_inputs.npz")
    done = run_cli("estimator", "train", str(data), "-o", str(run), "--window", "16", "--steps", "3", "--batch", "2",
                   "--refiner-steps", "2", "--real-videos", str(videos), *explicit(flags))
    assert done.returncode == 0, done.stderr
    if (run / "real_inputs.npz").exists() and not cache.exists():
        shutil.copy(run / "real_inputs.npz", cache)
    summary = json.loads((run / "train.json").read_text())
    assert summary["steps"] == 3
    names = {f.lstrip("-").replace("-", "_") for f in flags}
    assert set(summary["techniques"]) == names
    columns = (run / "progress.csv").read_text().splitlines()[0].split(",")
    assert {"real_2d", "temporal", "domain", "motion_adversarial"} <= set(columns)
    if "refiner" in names:
        assert summary["refiner"]["steps"] == 2
    if "adversarial_teacher" in names:
        assert abs(sum(summary["teacher"]["probabilities"]) - 1) < 1e-3
    if "sim_real_mix" in names or "dann" in names:
        assert summary["real_videos"]["frames"] == 40
    evaluated = run_cli("estimator", "evaluate", "--weights", str(run / "lifter.pt"), "--data", str(data))
    assert evaluated.returncode == 0, evaluated.stderr


def test_techniques_need_real_videos_and_stay_fixed_on_resume(tiny_setup):
    data, videos, root = tiny_setup
    empty = root / "no_videos"
    empty.mkdir()
    missing = run_cli("estimator", "train", str(data), "-o", str(root / "nope"), "--window", "16", "--steps", "2", "--real-videos", str(empty))
    assert missing.returncode == 2 and "no videos" in missing.stderr and not (root / "nope" / "lifter.pt").exists()
    run = root / "resume"
    teacher = explicit(["--adversarial-teacher"])
    done = run_cli("estimator", "train", str(data), "-o", str(run), "--window", "16", "--steps", "2", "--batch", "2", *teacher)
    assert done.returncode == 0, done.stderr
    changed = run_cli("estimator", "train", str(data), "-o", str(run), "--window", "16", "--steps", "4", "--batch", "2", "--resume", *explicit([]))
    assert changed.returncode == 2 and "other training techniques" in changed.stderr
    again = run_cli("estimator", "train", str(data), "-o", str(run), "--window", "16", "--steps", "4", "--batch", "2", "--resume", *teacher)
    assert again.returncode == 0, again.stderr
    assert json.loads((run / "train.json").read_text())["steps"] == 4


def test_defaults_are_the_techniques_that_helped(tiny_setup):
    """The techniques that helped (docs/estimator.md) are on by default, with the shared real videos."""
    data, _, root = tiny_setup
    run = root / "defaults"
    done = run_cli("estimator", "train", str(data), "-o", str(run), "--window", "16", "--steps", "2", "--batch", "2", "--real-max-frames", "40")
    assert done.returncode == 0, done.stderr
    summary = json.loads((run / "train.json").read_text())
    assert set(summary["techniques"]) == {"sim_real_mix"}
    assert Path(summary["real_videos"]["folder"]).resolve() == SHARED_VIDEO.parent.resolve()
