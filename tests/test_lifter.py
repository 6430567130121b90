"""The motion-based lifter: body model, synthetic data, losses, windows, training and commands."""

import csv
import json

import numpy as np
import pytest
import torch

from characters import rotations as rot
from lifter_research.body_model import NUM_BETAS, TorchSkeleton, matrix_from_6d, matrix_to_6d
from lifter_research.lifter import Lifter, LifterConfig, heatmaps
from lifter_research.lifter_losses import camera_frame_joint_error, pa_joint_error, procrustes_aligned
from lifter_research.lifter_train import quaternion_to_matrix
from lifter_research.mocap_library import load_held_out, load_library, motion_files, select_files
from lifter_research.synthetic import SyntheticOptions, synthetic_clip, world_joints
from pose_estimation.lifter_estimator import predict, window_starts
from retargeting.smpl import SMPL_PARENTS
from tests.conftest import run_cli

SMALL = SyntheticOptions(frames=20)
PLAIN = ("--no-sim-real-mix", "--no-adversarial-teacher")  # plain training; the techniques are tested in test_sim2real.py


@pytest.fixture(scope="module")
def training_clips():
    return load_library(motion_files()[:3], held_out=False)


def test_6d_round_trip_and_quaternions():
    rng = np.random.default_rng(0)
    q = rot.normalize(rng.normal(size=(50, 4)))
    m = rot.to_matrix(q)
    back = matrix_from_6d(torch.as_tensor(matrix_to_6d(m)))
    assert np.allclose(back.numpy(), m, atol=1e-6)
    assert np.allclose(quaternion_to_matrix(torch.as_tensor(q)).numpy(), m, atol=1e-6)


def test_torch_skeleton_matches_numpy_forward_kinematics():
    rng = np.random.default_rng(1)
    world = rot.normalize(rng.normal(size=(7, 24, 4)))
    betas = rng.normal(size=NUM_BETAS)
    expected = world_joints(world, np.zeros((7, 3)), betas)
    local = world.copy()
    local[:, 1:] = rot.multiply(rot.conjugate(world[:, SMPL_PARENTS[1:]]), world[:, 1:])
    got = TorchSkeleton()(torch.as_tensor(rot.to_matrix(local), dtype=torch.float32), torch.as_tensor(betas, dtype=torch.float32))
    assert np.allclose(got.numpy(), expected, atol=1e-5)


def test_procrustes_undoes_rotation_scale_and_shift():
    rng = np.random.default_rng(2)
    target = torch.as_tensor(rng.normal(size=(4, 24, 3)))
    r = torch.as_tensor(rot.to_matrix(rot.normalize(rng.normal(size=(4, 4)))))
    moved = 1.7 * target @ r.transpose(1, 2) + torch.as_tensor(rng.normal(size=(4, 1, 3)))
    assert torch.allclose(procrustes_aligned(moved, target), target, atol=1e-6)
    assert float(pa_joint_error(moved, target)) < 1e-6
    assert float(pa_joint_error(moved + 0.1 * torch.randn_like(moved), target)) > 0.01


def test_camera_frame_error_sees_the_orientation_procrustes_forgives():
    rng = np.random.default_rng(3)
    joints = torch.as_tensor(rng.normal(scale=0.3, size=(4, 24, 3)))
    joints = joints - joints[:, :1]  # pelvis-relative
    leaning = joints @ torch.as_tensor(rot.to_matrix(rot.about_axis(np.array([1.0, 0.0, 0.0]), 0.5))).T  # 29° about x
    assert float(pa_joint_error(leaning, joints)) < 1e-6
    assert float(camera_frame_joint_error(leaning, joints)) > 0.05 and float(camera_frame_joint_error(joints, joints)) == 0.0


def test_heatmap_peaks_at_the_keypoint():
    kp = torch.zeros(17, 2)
    kp[5] = torch.tensor([0.25, 0.75])
    maps = heatmaps(kp, torch.ones(17), sigma=1.5)
    assert maps.shape == (12, 32, 32)
    y, x = np.unravel_index(int(maps[0].argmax()), (32, 32))
    assert (x, y) in {(7, 23), (8, 24), (7, 24), (8, 23)}


def test_held_out_clips_never_enter_training():
    held = load_held_out()
    names = {c.name for c in load_library(motion_files(), held_out=False)}
    assert names and not names & set(held.clips)
    assert not {p.stem for p in select_files(motion_files(), held_out=True)} & names


def test_clip_sources_name_the_motion_each_clip_was_made_from(monkeypatch):
    import lifter_research.synthetic as synthetic

    clips = load_library(motion_files(), held_out=True)
    expected = synthetic.clip_sources(clips, 7, 8, SMALL)
    drawn: list[str] = []
    original = synthetic._pick_source

    def recording(library, rng, options):
        index, speed = original(library, rng, options)
        drawn.append(library[index].name)
        return index, speed

    monkeypatch.setattr(synthetic, "_pick_source", recording)
    made = []
    for i in range(8):
        drawn.clear()
        synthetic_clip(clips, np.random.default_rng([7, i]), SMALL)
        made.append(drawn[0])  # the main motion (a part swap's donor is drawn after it)
    assert made == expected and len(set(made)) > 1


def test_mirrored_clip_swaps_sides(training_clips):
    clip = training_clips[0]
    twice = clip.mirrored().mirrored()
    assert np.allclose(twice.rotations, clip.rotations) and np.allclose(twice.pelvis, clip.pelvis)
    joints = world_joints(clip.rotations.astype(float), clip.pelvis.astype(float), np.zeros(NUM_BETAS))
    mirrored = world_joints(clip.mirrored().rotations.astype(float), clip.mirrored().pelvis.astype(float), np.zeros(NUM_BETAS))
    # The mirrored left hip is the original right hip reflected through x = 0.
    assert np.allclose(mirrored[:, 1], joints[:, 2] * np.array([-1, 1, 1]), atol=0.02)


def test_synthetic_clip_is_reproducible_and_consistent(training_clips):
    a = synthetic_clip(training_clips, np.random.default_rng([5, 1]), SMALL)
    b = synthetic_clip(training_clips, np.random.default_rng([5, 1]), SMALL)
    for k in a:
        assert np.array_equal(a[k], b[k]), k
    assert a["flow"].shape == (20, 32, 32, 2) and a["keypoints"].shape == (20, 17, 2)
    visible = ~a["occluded"]
    # Noisy keypoints sit near the true joints (shoulders .. ankles are SMPL joints).
    coco_to_smpl = [16, 17, 18, 19, 20, 21, 1, 2, 4, 5, 7, 8]
    error = np.linalg.norm(a["keypoints"][visible][:, 5:] - a["joints2d"][visible][:, coco_to_smpl], axis=-1)
    assert np.median(error) < 0.05
    # The truth's rotations reproduce its joints.
    fk = TorchSkeleton()(quaternion_to_matrix(torch.as_tensor(a["rotations"])), torch.as_tensor(a["betas"])).numpy()
    assert np.allclose(fk, a["joints"], atol=1e-4)
    assert np.any(a["flow"][1:][visible[1:]] != 0)


def test_camera_height_decides_whether_the_camera_looks_down():
    """Ankles-to-head of a walk in the camera frame (y down, z forward) leans away from a low camera
    and towards a high, near one."""
    walk = load_library([p for p in motion_files() if p.stem == "humanoid3d_walk"], held_out=False)
    def head_minus_ankles_z(height: tuple[float, float]) -> float:
        options = SyntheticOptions(frames=20, camera_distance=(2.0, 2.2), camera_height=height, occluders=False, total_occlusion=False)
        clip = synthetic_clip(walk, np.random.default_rng([7, 0]), options)
        head, ankles = clip["joints"][:, 15], clip["joints"][:, [7, 8]].mean(axis=1)
        return float(np.median(head[:, 2] - ankles[:, 2]))

    assert head_minus_ankles_z((2.7, 2.8)) < -0.4  # about 35° down: the head is nearer the camera
    assert head_minus_ankles_z((0.3, 0.4)) > 0.1


def test_total_occlusion_leaves_what_the_front_end_leaves(training_clips):
    for seed in range(30):
        clip = synthetic_clip(training_clips, np.random.default_rng([9, seed]), SyntheticOptions(frames=20, occluders=False))
        if clip["occluded"].any():
            break
    else:
        pytest.fail("no clip with a total occlusion in 30 draws")
    gone = clip["occluded"]
    assert np.all(clip["keypoints"][gone] == 0) and np.all(clip["confidence"][gone] == 0) and np.all(clip["flow"][gone] == 0)
    after = np.flatnonzero(~gone[1:] & gone[:-1]) + 1  # first frame back: no flow (no previous crop)
    assert np.all(clip["flow"][after] == 0)


def test_windows_cover_every_frame_and_short_videos():
    assert list(window_starts(10, 31)) == [0]
    starts = window_starts(100, 31)
    assert starts[0] == 0 and starts[-1] == 69 and np.all(np.diff(starts) <= 15)
    model = Lifter(LifterConfig(window=8)).eval()
    rng = np.random.default_rng(3)
    for frames in (5, 23):
        inputs = {"keypoints": rng.random((frames, 17, 2), dtype=np.float32), "confidence": np.ones((frames, 17), np.float32),
                  "occluded": np.zeros(frames, bool), "flow": np.zeros((frames, 32, 32, 2), np.float32)}
        out = predict(model, inputs)
        assert out["rotations"].shape == (frames, 24, 3, 3) and out["camera"].shape == (frames, 3)


def test_the_lifter_can_fit_a_batch(training_clips):
    """Training reduces the loss on one small batch: the losses and gradients are wired."""
    from lifter_research.lifter_train import TrainOptions, losses

    torch.manual_seed(0)
    clips = [synthetic_clip(training_clips, np.random.default_rng([7, i]), SMALL) for i in range(4)]
    batch = {k: torch.as_tensor(np.stack([c[k] for c in clips])) for k in clips[0]}
    batch["flow"] = batch["flow"].float()
    model = Lifter(LifterConfig(window=20))
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    first = None
    for _ in range(40):
        terms = losses(model, TorchSkeleton(), batch, TrainOptions())
        optimiser.zero_grad()
        terms["total"].backward()
        optimiser.step()
        first = first if first is not None else float(terms["total"].detach())
    assert float(terms["total"].detach()) < 0.5 * first


def test_estimator_commands_end_to_end(tmp_path):
    data = tmp_path / "data"
    done = run_cli("estimator", "data", str(data), "--clips", "4", "--frames", "20", "--seed", "3")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in data.iterdir()) == ["dataset.json", "shard_0000.npz"]
    clash = run_cli("estimator", "data", str(data), "--clips", "4", "--frames", "20", "--seed", "4")
    assert clash.returncode == 2 and "different dataset" in clash.stderr
    run = tmp_path / "run"
    done = run_cli("estimator", "train", *PLAIN, str(data), "-o", str(run), "--window", "16", "--minutes", "0.05", "--batch", "2")
    assert done.returncode == 0, done.stderr
    first = json.loads((run / "train.json").read_text())
    assert first["steps"] > 0 and "estimator train" in first["command"]
    done = run_cli("estimator", "train", *PLAIN, str(data), "-o", str(run), "--window", "16", "--minutes", "0.1", "--batch", "2", "--resume")
    assert done.returncode == 0, done.stderr
    assert json.loads((run / "train.json").read_text())["steps"] > first["steps"]
    done = run_cli("estimator", "evaluate", "--weights", str(run / "lifter.pt"), "--data", str(data))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["synthetic"]["frames"] == 4 * 20 and result["synthetic"]["pa_mpjpe_mm"] > 0
    mismatch = run_cli("estimator", "train", *PLAIN, str(data), "-o", str(run), "--window", "8", "--minutes", "0.05", "--resume")
    assert mismatch.returncode == 2 and "another lifter configuration" in mismatch.stderr
    tuned = tmp_path / "tuned"
    done = run_cli("estimator", "train", *PLAIN, str(data), "-o", str(tuned), "--window", "20", "--minutes", "0.05", "--batch", "2",
                   "--init", str(run / "lifter.pt"), "--confidence-model", "mediapipe")
    assert done.returncode == 0, done.stderr
    summary = json.loads((tuned / "train.json").read_text())
    assert summary["init"] == str(run / "lifter.pt") and summary["steps"] > 0
    # neither the confidence model nor the window is part of the network: a fine-tune may change
    # them, and the weights record them
    tuned_config = torch.load(tuned / "lifter.pt", weights_only=True)["config"]
    assert tuned_config["confidence_model"] == "mediapipe" and tuned_config["window"] == 20
    done = run_cli("estimator", "train", *PLAIN, str(data), "-o", str(tuned), "--window", "20", "--steps", "40", "--minutes", "2", "--batch", "2",
                   "--weight-camera-frame-3d", "10")
    assert done.returncode == 0, done.stderr
    assert json.loads((tuned / "train.json").read_text())["options"]["weight_camera_frame_3d"] == 10.0
    with (tuned / "progress.csv").open() as log:
        rows = list(csv.DictReader(log))
    assert rows and all(float(r["camera_frame_3d_mm"]) > 0 for r in rows)
    done = run_cli("estimator", "evaluate", "--weights", str(tuned / "lifter.pt"), "--against", str(run / "lifter.pt"), "--data", str(data))
    assert done.returncode == 0, done.stderr
    paired = json.loads(done.stdout)
    difference = paired["synthetic_lifter_minus_against"]
    assert paired["synthetic_against"]["pa_mpjpe_mm"] == pytest.approx(result["synthetic"]["pa_mpjpe_mm"])  # the same weights as before
    assert difference["difference_mm"] == pytest.approx(paired["synthetic"]["pa_mpjpe_mm"] - paired["synthetic_against"]["pa_mpjpe_mm"], abs=0.01)
    assert difference["interval_95_mm"][0] <= difference["difference_mm"] <= difference["interval_95_mm"][1]
    refused = run_cli("estimator", "evaluate", "--weights", str(tuned / "lifter.pt"), "--against", str(tmp_path / "missing.pt"), "--data", str(data))
    assert refused.returncode != 0 and "missing.pt" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    sized = tmp_path / "sized"
    done = run_cli("estimator", "train", *PLAIN, str(data), "-o", str(sized), "--window", "16", "--steps", "2", "--batch", "2",
                   "--channels", "8", "16", "--features", "48", "--lstm", "40")
    assert done.returncode == 0, done.stderr
    sized_config = torch.load(sized / "lifter.pt", weights_only=True)["config"]
    assert (list(sized_config["channels"]), sized_config["features"], sized_config["lstm"]) == ([8, 16], 48, 40)
    for bad, message in ((("--init", str(run / "lifter.pt"), "--resume"), "give one of them"), (("--init", str(tmp_path / "missing.pt")), "missing.pt"),
                         (("--init", str(run / "lifter.pt"), "--inputs", "flow"), "another network"),
                         (("--init", str(run / "lifter.pt"), "--lstm", "64"), "another network"), (("--lstm", "0"), "positive sizes")):
        refused = run_cli("estimator", "train", *PLAIN, str(data), "-o", str(tmp_path / "refused"), "--window", "16", "--minutes", "0.05", *bad)
        assert refused.returncode != 0 and message in refused.stderr, (bad, refused.stderr)
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr

    augmented = tmp_path / "augmented"
    done = run_cli("estimator", "data", str(augmented), "--clips", "3", "--frames", "20", "--seed", "3", "--part-swap", "1", "--joint-noise", "0.2",
                   "--limb-poses", "1", "--torso-bends", "1", "--body-turns", "1")
    assert done.returncode == 0, done.stderr
    options = json.loads((augmented / "dataset.json").read_text())["options"]
    assert options["part_swap"] == 1.0 and options["limb_poses"] == 1.0 and options["torso_bends"] == 1.0 and options["body_turns"] == 1.0
    for bad, message in ((("--limb-poses", "1.5"), "a probability"), (("--torso-bends", "2"), "a probability"), (("--part-swap", "-0.1"), "a probability"),
                         (("--body-turns", "1.1"), "a probability"),
                         (("--joint-noise", "-1"), "0 or more"), (("--camera-height", "2", "1"), "MIN <= MAX")):
        refused = run_cli("estimator", "data", str(tmp_path / "refused_data"), "--clips", "1", "--frames", "8", *bad)
        assert refused.returncode == 2 and message in refused.stderr and len(refused.stderr.strip().splitlines()) == 1, (bad, refused.stderr)
        assert not (tmp_path / "refused_data").exists()
    high = tmp_path / "high"
    done = run_cli("estimator", "data", str(high), "--clips", "1", "--frames", "8", "--camera-height", "2.5", "2.8", "--camera-distance", "3", "4")
    assert done.returncode == 0, done.stderr
    assert json.loads((high / "dataset.json").read_text())["options"]["camera_height"] == [2.5, 2.8]
    # A folder made before the camera ranges were recorded had the old, narrower ones: it is not
    # finished with today's.
    meta = json.loads((data / "dataset.json").read_text())
    for key in ("camera_distance", "camera_height"):
        del meta["options"][key]
    (data / "dataset.json").write_text(json.dumps(meta))
    clash = run_cli("estimator", "data", str(data), "--clips", "4", "--frames", "20", "--seed", "3")
    assert clash.returncode == 2 and "different dataset" in clash.stderr
    with np.load(data / "shard_0000.npz") as plain, np.load(augmented / "shard_0000.npz") as aug:
        assert not np.allclose(plain["rotations"][0], aug["rotations"][0])  # same seed, other poses
    pooled = tmp_path / "pooled"
    done = run_cli("estimator", "train", *PLAIN, str(data), str(augmented), "-o", str(pooled), "--window", "16", "--steps", "2", "--batch", "2")
    assert done.returncode == 0, done.stderr
    summary = json.loads((pooled / "train.json").read_text())
    assert summary["data"] == [str(data), str(augmented)] and summary["steps"] == 2


def test_a_60_fps_video_is_seen_at_the_training_rate():
    """Every other frame of a 60 fps video gets what the 30 fps video gets: same keypoints, and
    the flow of the two 60 fps steps summed is the 30 fps step's."""
    from pose_estimation.lifter_estimator import predict_video

    torch.manual_seed(0)
    model = Lifter(LifterConfig(window=8)).eval()
    torch.nn.init.normal_(model.regressor[-1].weight, std=0.05)  # untrained, the output would not depend on the input
    rng = np.random.default_rng(5)
    frames = 24
    slow = {"keypoints": rng.random((frames, 17, 2), dtype=np.float32), "confidence": rng.uniform(0.5, 1, (frames, 17)).astype(np.float32),
            "occluded": np.zeros(frames, bool), "flow": rng.normal(scale=0.02, size=(frames, 32, 32, 2)).astype(np.float32)}
    slow["flow"][0] = 0.0  # no flow into the first frame, as the front end gives
    fast = {"keypoints": np.repeat(slow["keypoints"], 2, axis=0)[:-1], "confidence": np.repeat(slow["confidence"], 2, axis=0)[:-1],
            "occluded": np.zeros(2 * frames - 1, bool), "flow": np.repeat(slow["flow"] / 2, 2, axis=0)[1:]}
    fast["keypoints"][1::2] = 0.5 * (slow["keypoints"][:-1] + slow["keypoints"][1:])
    at_30, at_60 = predict_video(model, slow, 30.0), predict_video(model, fast, 60.0)
    for key in ("rotations", "camera"):
        assert at_60[key].shape[0] == 2 * frames - 1
        np.testing.assert_allclose(at_60[key][0::2], at_30[key], atol=1e-5)
    assert not np.allclose(predict_video(model, fast, 30.0)["rotations"][0::2], at_30["rotations"], atol=1e-3)


def test_mirrored_readings_of_the_shipped_lifter_are_as_good(training_clips):
    """The mirror image, read and reflected back, is about as accurate as the video itself, and
    their average is at least as accurate as the worse: the reflection of inputs and outputs fits."""
    from lifter_research.lifter_train import load_lifter
    from lifter_research.multiview import pa_mpjpe
    from lifter_research.real_harness import SMPL12
    from pose_estimation.lifter_estimator import SHIPPED_WEIGHTS, _mirrored_inputs, _unmirrored_outputs, predict, predict_mirror_averaged

    model = load_lifter(SHIPPED_WEIGHTS)
    skeleton = TorchSkeleton()
    errors = {"plain": [], "mirrored": [], "averaged": []}
    for i in range(3):
        clip = synthetic_clip(training_clips, np.random.default_rng([11, i]), SyntheticOptions(frames=40))
        inputs = {k: clip[k] for k in ("keypoints", "confidence", "occluded", "flow")}
        readings = {"plain": predict(model, inputs), "mirrored": _unmirrored_outputs(predict(model, _mirrored_inputs(inputs))),
                    "averaged": predict_mirror_averaged(model, inputs)}
        for name, out in readings.items():
            joints = skeleton(torch.as_tensor(out["rotations"]), torch.as_tensor(out["betas"])).numpy()[:, SMPL12]
            errors[name].append(pa_mpjpe(joints.astype(float), clip["joints"][:, SMPL12].astype(float)))
    mean = {k: 1000 * float(np.mean(v)) for k, v in errors.items()}
    assert mean["mirrored"] < 1.3 * mean["plain"] and mean["plain"] < 1.3 * mean["mirrored"], mean
    assert mean["averaged"] <= max(mean["plain"], mean["mirrored"]) + 1.0, mean


def test_the_mediapipe_confidence_model_is_surer_and_keeps_hidden_keypoints():
    from lifter_research.lifter import synthetic_confidence

    rng = np.random.default_rng(0)
    visible = rng.uniform(0.75, 1.0, 20000).astype(np.float32)
    hidden = rng.uniform(0.05, 0.4, 1000).astype(np.float32)
    confidence = np.concatenate([visible, hidden, np.zeros(10, np.float32)])
    mapped = synthetic_confidence(confidence, "mediapipe")
    assert mapped.dtype == np.float32 and np.array_equal(synthetic_confidence(confidence, "uniform"), confidence)
    assert np.array_equal(mapped[len(visible):], confidence[len(visible):])  # hidden and missing keep theirs
    assert np.all(np.diff(mapped[:len(visible)][np.argsort(visible)]) >= 0) and mapped[:len(visible)].min() >= 0.75
    assert np.median(mapped[:len(visible)]) > 0.98 and 0.8 < np.percentile(mapped[:len(visible)], 10) < 0.9  # MediaPipe: 0.99, 0.88
    with pytest.raises(ValueError):
        synthetic_confidence(confidence, "gaussian")
